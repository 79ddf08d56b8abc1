"""Benchmark of the analytics on a synthetic NRW-sized graph: indexed vs brute-force partner search and more.

Usage::

    python bench/bench_analytics.py --orgs 100000      # the design size (about 1,000,000 ties)
    python bench/bench_analytics.py --orgs 5000        # quick check, well under a minute

The graph is built directly in the shape ``store.to_networkx()`` returns (same node attributes, edge
keys and types), on the real NRW municipality points when ``loaders.geography`` is available
(otherwise on 396 random points in NRW's bounding box). Every record is flagged ``synthetic``.
All figures are medians of ``--repeat`` runs; partner search reports p50/p95 over many MSOs and checks
that the indexed and the brute-force search return identical results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # run as a script: make the project importable without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402

from msonet.graph.cohort import plan_cohort  # noqa: E402
from msonet.graph.coverage import district_coverage, funding_mix  # noqa: E402
from msonet.graph.isolation import isolated_organisations  # noqa: E402
from msonet.graph.meeting import plan_meeting  # noqa: E402
from msonet.graph.model import relation_key  # noqa: E402
from msonet.graph.network import network_figures  # noqa: E402
from msonet.graph.partners import PartnerIndex, propose_partners  # noqa: E402
from msonet.graph.vocabulary import SECTORS  # noqa: E402

TODAY = dt.date(2025, 6, 30)
TYPE_SHARES = {
    "mso": 0.40, "mso_network": 0.01, "regular_service": 0.22, "welfare_association": 0.05,
    "self_help_group": 0.06, "sports_club": 0.07, "education_provider": 0.05, "religious_community": 0.03,
    "initiative": 0.03, "integration_agency": 0.02, "antidiscrimination_office": 0.005,
    "municipal_integration_centre": 0.0006, "integration_council": 0.005, "advisory_service": 0.01,
    "municipal_administration": 0.01, "foundation": 0.005, "state_authority": 0.0004,
}
TIE_TYPES = ["cooperates_with"] * 6 + ["member_of"] * 2 + ["supports", "advised_by", "represented_in"]


def _places(rng: random.Random):
    """Municipality points with a weight (district population / municipalities in it) and the districts."""
    try:
        from msonet.loaders.geography import load_districts, load_municipalities
        places = list(load_municipalities().values())
        districts = load_districts()
        per_district: dict[str, int] = {}
        for p in places:
            per_district[p.district] = per_district.get(p.district, 0) + 1
        weights = [districts[p.district].population / per_district[p.district] for p in places]
        return places, weights, districts, "NRW-Gemeindepunkte (loaders.geography)"
    except ImportError:
        places, districts = [], {}
        for i in range(396):
            key = f"05{i % 53:03d}"
            places.append(SimpleNamespace(ags=f"{key}{i:03d}", name=f"Ort {i}", district=key,
                                          district_name=f"Kreis {key}", regierungsbezirk="Köln",
                                          lat=rng.uniform(50.3, 52.5), lon=rng.uniform(5.9, 9.5)))
            districts[key] = SimpleNamespace(name=f"Kreis {key}", regierungsbezirk="Köln", population=340_000)
        return places, [1.0] * len(places), districts, "zufällige Punkte im NRW-Rechteck"


def synthetic_graph(orgs: int, ties_per_org: float = 10.0, seed: int = 1):
    """A synthetic organisation network of ``orgs`` organisations and about ``ties_per_org * orgs`` edges."""
    rng = random.Random(seed)
    places, weights, districts, origin = _places(rng)
    G = nx.MultiDiGraph()
    types = list(TYPE_SHARES)
    type_weights = list(TYPE_SHARES.values())
    sectors = list(SECTORS)
    sector_weights = [6 if s == "child_youth" else 3 if s in ("culture", "education", "parents_family") else 1
                      for s in sectors]
    ids = [f"org-{i:06d}" for i in range(orgs)]
    by_district: dict[str, list[str]] = {}
    kinds = rng.choices(types, type_weights, k=orgs)
    homes = rng.choices(places, weights, k=orgs)
    for node, org_type, place in zip(ids, kinds, homes, strict=True):
        chosen = sorted(set(rng.choices(sectors, sector_weights, k=rng.randint(1, 3))))
        G.add_node(node, id=node, kind="organisation", name=f"Synthetische Organisation {node[4:]}",
                   org_type=org_type, sectors=chosen, city=place.name, ags=place.ags, district=place.district,
                   regierungsbezirk=place.regierungsbezirk, lat=place.lat, lon=place.lon, synthetic=True,
                   source="bench", updated="2025-01-01")
        by_district.setdefault(place.district, []).append(node)
    hubs = [n for n, t in zip(ids, kinds, strict=True) if t in ("welfare_association", "mso_network")] or ids
    n_events = max(1, orgs // 50)
    events = [f"evt-{i:05d}" for i in range(n_events)]
    for event in events:
        place = rng.choices(places, weights)[0]
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(11 * 365))
        G.add_node(event, id=event, kind="event", name=f"Synthetische Veranstaltung {event[4:]}",
                   event_type="networking_meeting", date=day.isoformat(), city=place.name, ags=place.ags,
                   district=place.district, regierungsbezirk=place.regierungsbezirk, lat=place.lat, lon=place.lon,
                   sectors=[], synthetic=True, source="bench", updated="2025-01-01")
    edges = []
    total = int(orgs * ties_per_org)
    for _ in range(total):
        u = rng.choice(ids)
        roll = rng.random()
        if roll < 0.15:  # event attendance
            rel_type, v = rng.choice(("attended_event", "attended_event", "organised_event")), rng.choice(events)
        elif roll < 0.25:  # membership in an umbrella / welfare association
            rel_type, v = "member_of", rng.choice(hubs)
        else:  # mostly local ties
            local = by_district[G.nodes[u]["district"]]
            v = rng.choice(local) if rng.random() < 0.7 else rng.choice(ids)
            rel_type = rng.choice(TIE_TYPES)
        if u == v:
            continue
        if rel_type == "cooperates_with" and v < u:
            u, v = v, u
        edges.append((u, v, relation_key(rel_type, u, v),
                      {"type": rel_type, "since": None, "note": None, "synthetic": True, "source": "bench",
                       "updated": "2025-01-01"}))
    msos = [n for n, t in zip(ids, kinds, strict=True) if t == "mso"]
    partners = [n for n, t in zip(ids, kinds, strict=True) if t in ("regular_service", "self_help_group")]
    for _ in range(max(1, orgs // 500)):  # a few existing tandems
        a, b = sorted((rng.choice(msos), rng.choice(partners)))
        edges.append((a, b, relation_key("tandem_partner", a, b),
                      {"type": "tandem_partner", "synthetic": True, "source": "bench", "updated": "2025-01-01"}))
    G.add_edges_from(edges)
    programmes = {"prog-landesfoerderung-mso": "regular_funding", "prog-einzelprojekte": "single_project_funding",
                  "prog-anschub": "startup_funding"}
    for prog, kind in programmes.items():
        G.add_node(prog, id=prog, kind="programme", name=prog, funding_kind=kind, source="bench", updated="2025-01-01")
    for i, mso in enumerate(rng.sample(msos, len(msos) // 3)):
        prog, kind = rng.choice(list(programmes.items()))
        G.add_edge(mso, prog, f"funded_by|fund-{i}", type="funded_by", id=f"fund-{i}", org_id=mso, programme=prog,
                   funding_kind=kind, amount=float(rng.randrange(1000, 50000)), year_from=2023, year_to=2024,
                   sector=rng.choice(G.nodes[mso]["sectors"]), funder="Land NRW", synthetic=True, source="bench",
                   updated="2025-01-01")
    return G, msos, districts, origin


def timed(fn, repeat: int):
    """Median wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100_000, help="Anzahl Organisationen (Standard 100000)")
    parser.add_argument("--ties", type=float, default=10.0, help="Beziehungen je Organisation (Standard 10)")
    parser.add_argument("--queries", type=int, default=100, help="MSOs für die Partnersuche (Standard 100)")
    parser.add_argument("--brute-queries", type=int, default=None,
                        help="davon mit Brute-Force vergleichen (Standard: alle bis 20000 Organisationen, sonst 20)")
    parser.add_argument("--repeat", type=int, default=3, help="Läufe je Messung, der Median zählt (Standard 3)")
    parser.add_argument("--cohort", type=int, default=50, help="Tandems in der Kohorte (Standard 50)")
    parser.add_argument("--network", action="store_true", help="auch Netzwerk-Kennzahlen messen (langsam bei 100000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    G, msos, districts, origin = synthetic_graph(args.orgs, args.ties, args.seed)
    print(f"Synthetischer Graph: {args.orgs:,} Organisationen, {G.number_of_edges():,} Kanten, "
          f"{len(msos):,} MSO; Orte: {origin}; erzeugt in {time.perf_counter() - start:.1f} s")
    rng = random.Random(args.seed)
    sample = rng.sample(msos, min(args.queries, len(msos)))
    brute_n = args.brute_queries if args.brute_queries is not None else (len(sample) if args.orgs <= 20_000 else 20)

    build_time, index = timed(lambda: PartnerIndex(G), 1)
    indexed, brute, same = [], [], 0
    for i, mso in enumerate(sample):
        t0 = time.perf_counter()
        fast = propose_partners(G, mso, top=10, index=index)
        indexed.append(time.perf_counter() - t0)
        if i < brute_n:
            t0 = time.perf_counter()
            slow = propose_partners(G, mso, top=10)
            brute.append(time.perf_counter() - t0)
            same += fast == slow
    warm = []
    for mso in sample:  # second round: the distance cache of the index is warm, as in a running app
        t0 = time.perf_counter()
        propose_partners(G, mso, top=10, index=index)
        warm.append(time.perf_counter() - t0)

    rows = [("Partnersuche mit Index (kalt)", f"p50 {percentile(indexed, .5) * 1000:7.1f} ms",
             f"p95 {percentile(indexed, .95) * 1000:7.1f} ms", f"{len(indexed)} MSO"),
            ("Partnersuche mit Index (warm)", f"p50 {percentile(warm, .5) * 1000:7.1f} ms",
             f"p95 {percentile(warm, .95) * 1000:7.1f} ms", f"Index gebaut in {build_time:.2f} s"),
            ("Partnersuche Brute Force", f"p50 {percentile(brute, .5) * 1000:7.1f} ms",
             f"p95 {percentile(brute, .95) * 1000:7.1f} ms",
             f"{len(brute)} MSO, identisch: {same}/{len(brute)}")]

    t_iso, iso = timed(lambda: isolated_organisations(G, today=TODAY), args.repeat)
    rows.append(("Isolierte Organisationen", f"{t_iso:7.2f} s", "", f"{len(iso):,} Zeilen"))
    t_cov, cov = timed(lambda: district_coverage(G, districts), args.repeat)
    rows.append(("Versorgung je Kreis", f"{t_cov:7.2f} s", "", f"{len(cov)} Kreise"))
    t_mix, _ = timed(lambda: funding_mix(G), args.repeat)
    rows.append(("Fördermix je Handlungsfeld", f"{t_mix:7.2f} s", "", ""))
    t_coh, coh = timed(lambda: plan_cohort(G, args.cohort, index=index), args.repeat)
    rows.append((f"Kohorte {args.cohort} Tandems (NRW)", f"{t_coh:7.2f} s", "", f"{len(coh)} Paare"))
    biggest = max(districts, key=lambda k: districts[k].population)
    t_cod, cod = timed(lambda: plan_cohort(G, args.cohort, district=biggest, index=index), args.repeat)
    rows.append((f"Kohorte {args.cohort} Tandems ({districts[biggest].name})", f"{t_cod:7.2f} s", "",
                 f"{len(cod)} Paare"))
    t_meet, meet = timed(lambda: plan_meeting(G, 40, today=TODAY, district=biggest, tables=5), args.repeat)
    rows.append((f"Vernetzungstreffen 40 Plätze ({districts[biggest].name})", f"{t_meet:7.2f} s", "",
                 f"{meet['summary']['new_ties']} neue Kontakte an Tischen"))
    if args.network:
        t_net, net = timed(lambda: network_figures(G), 1)
        rows.append(("Netzwerk-Kennzahlen", f"{t_net:7.2f} s", "", f"{net['components']:,} Komponenten"))

    print(f"\n{'Messung':44} {'Zeit / p50':>16} {'p95':>16}  Hinweis")
    for name, a, b, note in rows:
        print(f"{name:44} {a:>16} {b:>16}  {note}")
    print(f"\nMedian aus {args.repeat} Läufen; Brute Force baut die Kandidaten bei jeder Suche neu aus dem Graphen.")
    return 0 if same == len(brute) else 1


if __name__ == "__main__":
    raise SystemExit(main())
