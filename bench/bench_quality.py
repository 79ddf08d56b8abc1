"""Quality of the recommendations against simple baselines: partner search as link prediction, meeting planner.

Run with ``python -m bench --only quality`` (``--quick``: one seed, fewer queries). The data are the demo
population (:func:`msonet.loaders.demo.build_demo_batch`) with evaluation seeds that differ from the demo's; its
MSO-outside-field ties come from the mechanism in :data:`loaders.synthetic.PARTNER_TIE_MODEL`, whose
parameters are not the scorer's weights. Protocol: /docs/quality.md.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import networkx as nx

from bench._data import Context
from bench._timing import Row, de

__all__ = ["bench_quality", "partner_quality", "meeting_quality", "EVAL_SEEDS", "HIDE_SHARE"]

#: Seeds of the evaluation datasets (the demo itself uses 2024; the weights were chosen on seed 11).
EVAL_SEEDS = (13, 14, 15)
#: Share of the MSO-outside-field ties hidden per seed.
HIDE_SHARE = 0.2
DEPTH = 100  # ranks beyond this count as "not found" (MRR@100)
_BOOTSTRAP = 1000


def _km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float:
    if a is None or b is None:
        return math.inf
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _graph(seed: int) -> nx.MultiDiGraph:
    from msonet.graph.store import EmbeddedStore
    from msonet.loaders.demo import build_demo_batch

    store = EmbeddedStore(None)
    store.upsert(build_demo_batch(seed=seed))
    return store.to_networkx()


def _eligible(G: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    from msonet.graph.carriers import is_migration_service, is_umbrella
    from msonet.graph.partners import PARTNER_TYPES

    return {n: d for n, d in G.nodes(data=True) if d.get("kind") == "organisation"
            and d.get("org_type") in PARTNER_TYPES and not is_umbrella(G, n, d) and not is_migration_service(d)}


def _held_out(G: nx.MultiDiGraph, eligible: dict[str, Any], seed: int) -> list[tuple[str, str, str, str]]:
    """``(mso, partner, u, key)`` of a seeded share of the MSO-partner cooperation and tandem ties."""
    ties = []
    for u, v, key, d in G.edges(keys=True, data=True):
        if d.get("type") not in ("cooperates_with", "tandem_partner"):
            continue
        for mso, partner in ((u, v), (v, u)):
            if G.nodes[mso].get("org_type") == "mso" and partner in eligible:
                ties.append((mso, partner, u, key))
    ties.sort()
    rng = random.Random(seed * 1000 + 7)
    return sorted(rng.sample(ties, round(HIDE_SHARE * len(ties))))


def _neighbours(H: nx.MultiDiGraph, node: str) -> set[str]:
    found = {o for o in (*H._succ[node], *H._pred[node]) if H._node[o].get("kind") == "organisation"}
    found.discard(node)
    return found


def _point(d: dict[str, Any]) -> tuple[float, float] | None:
    return (float(d["lat"]), float(d["lon"])) if d.get("lat") is not None and d.get("lon") is not None else None


def _baselines(H: nx.MultiDiGraph, eligible: dict[str, dict[str, Any]], seed: int
               ) -> dict[str, Callable[[str], list[str]]]:
    """The baseline rankers: each returns candidate ids best first (the same candidates as msonet)."""
    points = {n: _point(d) for n, d in eligible.items()}
    degree = {n: len(_neighbours(H, n)) for n in H if H._node[n].get("kind") == "organisation"}

    def pool(a: str) -> list[str]:
        tied = _neighbours(H, a)
        return sorted(n for n in eligible if n not in tied and n != a)

    def shuffled(a: str, items: list[str], salt: str) -> list[str]:
        rng = random.Random(f"{seed}|{salt}|{a}")
        items = list(items)
        rng.shuffle(items)
        return items

    def nearest(a: str) -> list[str]:
        here = _point(H._node[a])
        order = shuffled(a, pool(a), "nearest")  # random among equal distances
        return sorted(order, key=lambda n: _km(here, points[n]))

    def same_sector(a: str) -> list[str]:
        mine = set(H._node[a].get("sectors") or ())
        district = H._node[a].get("district")
        order = shuffled(a, pool(a), "sector")
        return sorted(order, key=lambda n: (not (mine & set(eligible[n].get("sectors") or ())),
                                            eligible[n].get("district") != district))

    def same_district(a: str) -> list[str]:
        district = H._node[a].get("district")
        return sorted(shuffled(a, pool(a), "district"), key=lambda n: eligible[n].get("district") != district)

    def adamic_adar(a: str) -> list[str]:
        score: dict[str, float] = {}
        for contact in _neighbours(H, a):
            if degree.get(contact, 0) > 1:
                for other in _neighbours(H, contact):
                    score[other] = score.get(other, 0.0) + 1.0 / math.log(degree[contact])
        return sorted(shuffled(a, pool(a), "aa"), key=lambda n: -score.get(n, 0.0))

    return {"nächste zuerst": nearest, "gleiches Handlungsfeld, zufällig (gleicher Kreis zuerst)": same_sector,
            "zufällig im selben Kreis": same_district, "nur Adamic-Adar": adamic_adar}


def _msonet_ranker(H: nx.MultiDiGraph, index: Any, diversify: bool = True) -> Callable[[str], list[str]]:
    from msonet.graph import partners

    def rank(a: str) -> list[str]:
        return [r["id"] for r in partners.propose_partners(H, a, top=DEPTH, index=index, diversify=diversify)]

    return rank


def _part_rankers(H: nx.MultiDiGraph, index: Any, eligible: dict[str, Any], seed: int
                  ) -> dict[str, Callable[[str], list[str]]]:
    """Each score part of msonet alone (ablation), equal values in a seeded random order."""
    from msonet.graph import partners

    cands = [c for c in sorted(index.candidates) if c in eligible]

    def ranker(part: str) -> Callable[[str], list[str]]:
        def rank(a: str) -> list[str]:
            q = partners._query(H, a, None, None)
            pool = [c for c in cands if c not in q.tied and c != a]
            rng = random.Random(f"{seed}|{part}|{a}")
            rng.shuffle(pool)

            def value(cid: str) -> float:
                c = index.candidates[cid]
                if part == "sector":
                    return q.fit(c.sectors)
                if part == "distance":
                    return -_km(q.point, c.point)
                if part == "proximity":
                    return q.proximity.get(cid, (0.0,))[0]
                if part == "openness":
                    return 1.0 / (1 + len(c.tandems))
                return c.activity

            return sorted(pool, key=lambda cid: -value(cid))[:DEPTH]
        return rank

    return {f"nur Teil „{part}“": ranker(part) for part in ("sector", "distance", "proximity", "openness",
                                                               "activity")}


def _metrics(ranks: list[int | None], seed: int) -> dict[str, float]:
    hits = [1.0 if r is not None and r <= 10 else 0.0 for r in ranks]
    rr = [1.0 / r if r is not None and r <= DEPTH else 0.0 for r in ranks]
    rng = random.Random(seed)
    n = len(ranks)
    boot_h, boot_m = [], []
    for _ in range(_BOOTSTRAP):
        idx = [rng.randrange(n) for _ in range(n)]
        boot_h.append(sum(hits[i] for i in idx) / n)
        boot_m.append(sum(rr[i] for i in idx) / n)
    boot_h.sort()
    boot_m.sort()
    lo, hi = int(0.025 * _BOOTSTRAP), int(0.975 * _BOOTSTRAP) - 1
    return {"hits10": sum(hits) / n, "mrr": sum(rr) / n, "hits10_lo": boot_h[lo], "hits10_hi": boot_h[hi],
            "mrr_lo": boot_m[lo], "mrr_hi": boot_m[hi], "queries": n}


def partner_quality(seeds: tuple[int, ...] = EVAL_SEEDS, max_queries: int | None = None,
                    log: Callable[[str], None] = print) -> dict[str, dict[str, float]]:
    """hits@10 and MRR@100 per method over held-out MSO-partner ties, pooled over ``seeds``."""
    from msonet.graph import partners

    ranks: dict[str, list[int | None]] = {}
    for seed in seeds:
        G = _graph(seed)
        eligible = _eligible(G)
        hidden = _held_out(G, eligible, seed)
        H = G.copy()
        for _mso, _partner, u, key in hidden:
            v = _partner if u == _mso else _mso
            H.remove_edge(u, v, key)
        if max_queries is not None:
            hidden = hidden[:max_queries]
        log(f"  Seed {seed}: {len(hidden)} verborgene MSO-Partner-Verbindungen")
        index = partners.PartnerIndex(H)
        methods: dict[str, Callable[[str], list[str]]] = {"msonet": _msonet_ranker(H, index),
                                                          "msonet ohne Vielfalt-Regel": _msonet_ranker(H, index, False)}
        methods.update(_baselines(H, eligible, seed))
        methods.update(_part_rankers(H, index, eligible, seed))
        for name, rank in methods.items():
            cache: dict[str, list[str]] = {}
            for mso, partner, _u, _key in hidden:
                if mso not in cache:
                    cache[mso] = rank(mso)[:DEPTH]
                order = cache[mso]
                ranks.setdefault(name, []).append(order.index(partner) + 1 if partner in order else None)
    return {name: _metrics(values, 42) for name, values in ranks.items()}


def _alphabetical_per_tier(G: nx.MultiDiGraph, region: list[str], capacity: int, today) -> list[str]:
    """The planner before the objective (today's behaviour in the issue): tiers filled in name order."""
    from msonet.graph.lookup import name_key
    from msonet.graph.vocabulary import MIGRATION_FIELD_TYPES, MSO_TYPES

    nodes = G._node
    tiers: dict[str, list[list[str]]] = {"migration": [[], [], [], []], "outside": [[], [], [], []]}
    for org in sorted(region, key=lambda n: name_key(nodes[n].get("name"), n)):
        t = nodes[org].get("org_type")
        contacts = _neighbours(G, org)
        inside = any(nodes[c].get("org_type") in MIGRATION_FIELD_TYPES for c in contacts)
        outside = any(nodes[c].get("org_type") not in MIGRATION_FIELD_TYPES for c in contacts)
        half = "migration" if t in MIGRATION_FIELD_TYPES else "outside"
        if t in MSO_TYPES and not outside:
            tier = 0
        elif t in ("state_ministry", "state_authority", "foundation"):
            tier = 3
        elif inside and outside:
            tier = 1 if half == "migration" else 0
        elif t in MSO_TYPES:
            tier = 2
        elif half == "migration":
            tier = 3
        else:
            tier = 1 if not inside else 2
        tiers[half][tier].append(org)
    chosen: list[str] = []
    counts = {"migration": 0, "outside": 0}
    while len(chosen) < capacity:
        for half in sorted(counts, key=lambda h: (counts[h], h != "migration")):
            nxt = next((o for tier in tiers[half] for o in tier if o not in chosen), None)
            if nxt is not None:
                chosen.append(nxt)
                counts[half] += 1
                break
        else:
            break
    return chosen


def meeting_quality(scenarios: list[tuple[str, dict[str, Any], int]], seed: int = EVAL_SEEDS[0],
                    log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Objective, isolated MSOs, carriers, travel distance and runtime per scenario and method."""
    from msonet.graph import meeting
    from msonet.graph.carriers import CARRIERS, carrier_of
    from msonet.loaders.demo import DEMO_TODAY
    from msonet.loaders.gazetteer import region_centre

    G = _graph(seed)
    nodes = G._node
    out = []
    for label, scope, capacity in scenarios:
        started = time.perf_counter()
        venue = region_centre(scope.get("district"), scope.get("regierungsbezirk"))
        plan = meeting.plan_meeting(G, capacity, today=DEMO_TODAY, tables=max(1, capacity // 8),
                                    venue=venue[1:] if venue else None, venue_name=venue[0] if venue else None,
                                    **scope)
        runtime = time.perf_counter() - started
        point = (plan["venue"]["lat"], plan["venue"]["lon"])
        region = [n for n, d in G.nodes(data=True) if d.get("kind") == "organisation"
                  and (not scope.get("district") or d.get("district") == scope["district"])
                  and (not scope.get("regierungsbezirk") or d.get("regierungsbezirk") == scope["regierungsbezirk"])]
        # the objective of any invitation list, on the same terms as the planner's
        reach = {n for n in region if _km(point, _point(nodes[n])) <= plan["venue"]["radius_km"]}
        from msonet.graph.network import collect_ties

        pool = sorted(reach)
        ties = collect_ties(G, pool)
        tied = meeting._tied_pairs(ties, pool, DEMO_TODAY, 3)
        from msonet.graph.carriers import is_migration_service, is_umbrella
        from msonet.graph.vocabulary import MSO_TYPES

        msos = [o for o in pool if nodes[o].get("org_type") in MSO_TYPES]
        partners = [o for o in pool if meeting._half(nodes[o].get("org_type")) == "outside"
                    and nodes[o].get("org_type") not in meeting.FUNDER_TYPES | {"municipal_administration"}
                    and not is_umbrella(G, o) and not is_migration_service(nodes[o])]
        points = {o: p for o in pool if (p := _point(nodes[o])) is not None}
        pairs = meeting.plausible_pairs(G, msos, partners, tied, points)
        isolated = {a for a in msos if not meeting._contact_sides(nodes, ties, a)[1]
                    and not meeting._recent_outside_contact(G, ties, a, DEMO_TODAY, 3)}
        weights = {a: meeting.ISOLATED_WEIGHT if a in isolated else 1.0 for a in msos}
        isolated_all = {n for n in region if nodes[n].get("org_type") in MSO_TYPES
                        and not any(nodes[c].get("org_type") not in meeting.MIGRATION_FIELD_TYPES
                                    for c in _neighbours(G, n))}
        methods: dict[str, tuple[list[str], float]] = {"msonet": ([r["id"] for r in plan["invitees"]], runtime)}
        started = time.perf_counter()
        methods["alphabetisch je Stufe (bisher)"] = (_alphabetical_per_tier(G, region, capacity, DEMO_TODAY),
                                                     time.perf_counter() - started)
        rng = random.Random(f"{seed}|{label}|{capacity}")
        methods["zufällig in der Region"] = (rng.sample(sorted(region), min(capacity, len(region))), 0.0)
        for name, (chosen, seconds) in methods.items():
            carriers = [c for o in chosen if (c := carrier_of(G, o))]
            counts = {CARRIERS[c]: carriers.count(c) for c in set(carriers)}
            distances = sorted(_km(point, _point(nodes[o])) for o in chosen if _point(nodes[o]))
            out.append({
                "scenario": label, "capacity": capacity, "method": name, "invited": len(chosen),
                "objective": meeting.objective_value(set(chosen) & reach, pairs, weights),
                "isolated": sum(1 for o in chosen if o in isolated_all),
                "carriers": len(counts), "largest_carrier_share": max(counts.values()) / len(chosen) if counts else 0.0,
                "median_km": statistics.median(distances) if distances else math.nan,
                "p90_km": distances[int(0.9 * (len(distances) - 1))] if distances else math.nan,
                "seconds": seconds,
            })
        log(f"  {label}, {capacity} Plätze: fertig")
    return out


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def bench_quality(ctx: Context) -> list[Row]:
    """Rows for ``python -m bench --only quality``."""
    seeds = EVAL_SEEDS[:1] if ctx.quick else EVAL_SEEDS
    results = partner_quality(seeds, max_queries=40 if ctx.quick else None, log=ctx.log)
    rows = []
    best_baseline = max((v for k, v in results.items() if not k.startswith(("msonet", "nur Teil"))),
                        key=lambda v: v["hits10"])
    for name, m in results.items():
        value = (f"hits@10 {_fmt(m['hits10'])} [{_fmt(m['hits10_lo'])}–{_fmt(m['hits10_hi'])}], "
                 f"MRR {_fmt(m['mrr'])} [{_fmt(m['mrr_lo'])}–{_fmt(m['mrr_hi'])}]")
        ok = None
        target = ""
        if name == "msonet":
            others = [v for k, v in results.items() if not k.startswith(("msonet", "nur Teil"))]
            ok = all(m["hits10"] > v["hits10"] and m["mrr"] > v["mrr"] for v in others)
            target = "besser als jede Vergleichsmethode"
        rows.append(Row("Qualität Partnersuche", name, value, target, ok, f"{m['queries']} Anfragen",
                        data={k: round(v, 4) for k, v in m.items()}))
    del best_baseline
    scenarios = [("RB Arnsberg", {"regierungsbezirk": "Arnsberg"}, 40),
                 ("RB Arnsberg", {"regierungsbezirk": "Arnsberg"}, 80),
                 ("RB Köln", {"regierungsbezirk": "Köln"}, 40),
                 ("Dortmund", {"district": "05913"}, 30)]
    if ctx.quick:
        scenarios = scenarios[:1]
    plans = meeting_quality(scenarios, seeds[0], log=ctx.log)
    for p in plans:
        value = (f"Ziel {_fmt(p['objective'], 0)}, isolierte MSO {p['isolated']}, Träger {p['carriers']} "
                 f"(größter {_fmt(100 * p['largest_carrier_share'], 0)} %), Anreise Median "
                 f"{_fmt(p['median_km'], 1)} km / P90 {_fmt(p['p90_km'], 1)} km, {_fmt(p['seconds'], 2)} s")
        rows.append(Row("Qualität Treffenplanung", f"{p['scenario']}, {de(p['capacity'])} Plätze: {p['method']}",
                        value, data={k: (round(v, 4) if isinstance(v, float) else v) for k, v in p.items()}))
    return rows
