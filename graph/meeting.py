"""Meeting planner: whom to invite to a Vernetzungstreffen, how to seat them, and recording attendance."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import networkx as nx

from graph.errors import GraphError
from graph.isolation import names_text
from graph.lookup import name_key, resolve_organisation, vocabulary_key
from graph.model import Relation
from graph.network import collect_ties, in_window, organisation_graph
from graph.vocabulary import MIGRATION_FIELD_TYPES, MSO_TYPES, label, normalise_term

__all__ = ["plan_meeting", "invitation_rows", "attendance_relations", "ROLES", "pair_value"]

#: Roles an invitee can have, in the order the planner fills seats.
ROLES = ("Veranstalter", "isolierte MSO", "Brückenakteur", "MSO", "Integrationsfachstelle", "Regeldienst",
         "Förderer / Verwaltung")
#: Funders and state bodies: invited last (they can always be added as organisers).
FUNDER_TYPES = frozenset({"state_ministry", "state_authority", "foundation"})
#: Up to this many organisations betweenness is exact, up to BETWEENNESS_LIMIT it is sampled.
_EXACT_BETWEENNESS = 300
BETWEENNESS_LIMIT = 20_000
_SAMPLES = 100
_BROKER_SHARE = 0.05  # top 5 % by betweenness count as bridging actors
_SCAN = 400  # candidates evaluated per seat (from the front of the tier)
_MAX_SWAP_PASSES = 20
#: The few Regierungsbezirk spellings of a region, normalised once each rather than once per organisation.
_cached_term = lru_cache(maxsize=256)(normalise_term)


def _half(org_type: str | None) -> str:
    """``"migration"`` (MSO, KI, IA ...) or ``"outside"`` (regular services and everyone else)."""
    return "migration" if org_type in MIGRATION_FIELD_TYPES else "outside"


def pair_value(a: dict[str, Any], b: dict[str, Any], tied: bool) -> int:
    """Value of seating ``a`` and ``b`` at one table: 0 if already tied, else 2 for a new tie, +2 if it
    crosses the field boundary (migration field / outside), +1 if their sectors differ."""
    if tied:
        return 0
    return 2 + 2 * (_half(a["org_type"]) != _half(b["org_type"])) + (set(a["sectors"]) != set(b["sectors"]))


def plan_meeting(
    G: nx.MultiDiGraph,
    capacity: int,
    *,
    today: dt.date,
    district: str | None = None,
    regierungsbezirk: str | None = None,
    topic: str | None = None,
    tables: int = 4,
    organisers: tuple[str, ...] | list[str] = (),
    event_years: int = 3,
) -> dict[str, Any]:
    """Propose invitees for a networking meeting and split them into tables.

    Seats go first to the ``organisers``, then alternately to the migration field (MSO, KI, IA ...)
    and to organisations outside it, so both halves are about equal. Within a half the order is:
    isolated MSOs (no tie to a regular service, see :func:`graph.isolation.isolated_organisations`),
    bridging actors (direct ties into both fields, or among the top 5 % by betweenness in the
    regional network), other MSOs, other migration-field services; outside: bridging actors, regular
    services without any tie to the migration field, other regular services, funders/state bodies.
    Among equals the planner prefers whoever brings sectors not yet present, then fewer existing
    ties to those already invited, then the name.

    Tables: organisers host one table each, then every invitee joins the table where they add the
    most (:func:`pair_value`: new ties, across the field boundary, different sectors), and pairwise
    swaps between tables improve the total until none helps.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    capacity
        Number of seats (organisers included).
    today, event_years
        Shared events within the last ``event_years`` years up to ``today`` count as existing ties.
    district, regierungsbezirk
        Invite only organisations of this district (5-digit key) / Regierungsbezirk (name).
    topic
        Invite only organisations working in this sector (key or German label).
    tables
        Number of table groups.
    organisers
        Ids or names of the organising organisations (always invited, hosts of the tables).

    Returns
    -------
    ``{invitees: [{id, name, org_type, org_type_label, city, district, sectors, role, table,
    reasons}], tables: [{table, members, names, new_ties, cross_field_new_ties, sectors}],
    summary: {capacity, invited, msos, migration_field, outside, new_ties, cross_field_new_ties,
    tables}, filters: {...}, notes: [...]}``
    """
    if capacity < 1:
        raise GraphError(f"Die Zahl der Plätze muss mindestens 1 sein (angegeben: {capacity}).")
    if tables < 1:
        raise GraphError(f"Die Zahl der Tische muss mindestens 1 sein (angegeben: {tables}).")
    hosts: list[str] = []
    for text in organisers:
        org = resolve_organisation(G, text)
        if org not in hosts:
            hosts.append(org)
    if len(hosts) > capacity:
        raise GraphError(f"Es sind {len(hosts)} Veranstalter angegeben, aber nur {capacity} Plätze. "
                         "Bitte mehr Plätze oder weniger Veranstalter angeben.")
    topic_key = vocabulary_key("sector", topic) if topic else None
    rb_key = normalise_term(regierungsbezirk) if regierungsbezirk else None
    nodes = G.nodes
    pool = []
    for node, data in G.nodes(data=True):
        if data.get("kind") != "organisation" or node in hosts:
            continue
        if district and data.get("district") != district:
            continue
        if rb_key and _cached_term(data.get("regierungsbezirk") or "") != rb_key:
            continue
        if topic_key and topic_key not in (data.get("sectors") or ()):
            continue
        pool.append(node)
    pool.sort(key=lambda n: name_key(nodes[n].get("name"), n))
    ties = collect_ties(G, [*hosts, *pool])
    notes: list[str] = []
    brokers = _brokers(G, [*hosts, *pool], today, event_years, notes)

    profiles = {org: _profile(G, ties, org, today, event_years, brokers) for org in [*hosts, *pool]}
    tiers: dict[str, list[list[str]]] = {"migration": [[], [], [], []], "outside": [[], [], [], []]}
    for org in pool:
        p = profiles[org]
        tiers[p["half"]][p["tier"]].append(org)

    chosen = list(hosts)
    covered: set[str] = set()
    for org in hosts:
        covered.update(profiles[org]["sectors"])
    counts = {"migration": 0, "outside": 0}
    for org in hosts:
        counts[profiles[org]["half"]] += 1
    new_sectors: dict[str, list[str]] = {}
    while len(chosen) < capacity:
        order = sorted(("migration", "outside"), key=lambda h: (counts[h], h != "migration"))
        pick = None
        for half in order:
            pick = _next(tiers[half], profiles, covered, set(chosen), ties)
            if pick is not None:
                break
        if pick is None:
            break
        chosen.append(pick)
        counts[profiles[pick]["half"]] += 1
        new_sectors[pick] = sorted(set(profiles[pick]["sectors"]) - covered)
        covered.update(profiles[pick]["sectors"])
    if len(chosen) < capacity:
        notes.append(f"Nur {len(chosen)} passende Organisationen gefunden; {capacity - len(chosen)} Plätze "
                     "bleiben frei. Filter (Region, Thema) lockern, um mehr einzuladen.")

    tied = _tied_pairs(ties, chosen, today, event_years)
    rows = []
    for org in chosen:
        p = profiles[org]
        role = "Veranstalter" if org in hosts else p["role"]
        reasons = (["Veranstaltet das Treffen (vorgegeben)."] if org in hosts
                   else _reasons(G, ties, org, p, brokers, event_years))
        if org in new_sectors and new_sectors[org]:
            reasons.append("Bringt Handlungsfelder ein, die sonst fehlen: "
                           + ", ".join(label("sector", s) for s in new_sectors[org]) + ".")
        if topic_key and org not in hosts:
            reasons.append(f"Arbeitet im Handlungsfeld {label('sector', topic_key)}.")
        data = nodes[org]
        rows.append({"id": org, "name": data.get("name") or org, "org_type": data.get("org_type"),
                     "org_type_label": label("org_type", data.get("org_type") or ""), "city": data.get("city"),
                     "district": data.get("district"), "sectors": list(p["sectors"]), "role": role,
                     "table": None, "reasons": reasons})
    groups = _seat(rows, hosts, tables, tied)
    table_rows = []
    for number, members in enumerate(groups, start=1):
        new, cross = _table_ties(rows, members, tied)
        sectors = sorted({s for i in members for s in rows[i]["sectors"]})
        for i in members:
            rows[i]["table"] = number
        table_rows.append({"table": number, "members": [rows[i]["id"] for i in members],
                           "names": [rows[i]["name"] for i in members], "new_ties": new,
                           "cross_field_new_ties": cross, "sectors": sectors})
    all_new, all_cross = _table_ties(rows, list(range(len(rows))), tied)
    return {
        "invitees": rows,
        "tables": table_rows,
        "summary": {
            "capacity": capacity, "invited": len(rows),
            "msos": sum(1 for r in rows if r["org_type"] in MSO_TYPES),
            "migration_field": sum(1 for r in rows if _half(r["org_type"]) == "migration"),
            "outside": sum(1 for r in rows if _half(r["org_type"]) == "outside"),
            "new_ties": sum(t["new_ties"] for t in table_rows),
            "cross_field_new_ties": sum(t["cross_field_new_ties"] for t in table_rows),
            "possible_new_ties": all_new, "possible_cross_field_new_ties": all_cross,
            "tables": len(table_rows),
        },
        "filters": {"district": district, "regierungsbezirk": regierungsbezirk, "topic": topic_key,
                    "today": today.isoformat(), "event_years": event_years},
        "notes": notes,
    }


def _brokers(G, orgs: list[str], today: dt.date, event_years: int, notes: list[str]) -> dict[str, tuple[int, int]]:
    """Rank of the top betweenness organisations in the regional network: ``{id: (rank, n)}``."""
    if len(orgs) > BETWEENNESS_LIMIT:
        notes.append(f"Mehr als {BETWEENNESS_LIMIT} Organisationen: Vermittlungsrollen (Betweenness) wurden "
                     "nicht berechnet; Brückenakteure nur über Verbindungen in beide Bereiche.")
        return {}
    H = organisation_graph(G, nodes=orgs, today=today, event_years=event_years)
    if H.number_of_edges() == 0:
        return {}
    # Sampled sources keep the cost near 200,000 node visits per source set, whatever the region size.
    k = None if len(H) <= _EXACT_BETWEENNESS else max(16, min(_SAMPLES, 200_000 // len(H)))
    values = nx.betweenness_centrality(H, k=k, seed=42)
    ranked = sorted((kv for kv in values.items() if kv[1] > 0), key=lambda kv: (-kv[1], kv[0]))
    keep = max(1, int(len(H) * _BROKER_SHARE))
    return {org: (rank, len(H)) for rank, (org, _) in enumerate(ranked[:keep], start=1)}


def _profile(G, ties, org: str, today: dt.date, event_years: int, brokers) -> dict[str, Any]:
    """Half, tier and role of one candidate (cheap: the reason texts are written only for invitees)."""
    nodes = G._node  # private dict: this runs for every organisation of the region
    data = nodes[org]
    org_type = data.get("org_type")
    inside, outside = _contact_sides(nodes, ties, org)
    half = _half(org_type)
    if org_type in MSO_TYPES and not outside and not _recent_outside_contact(G, ties, org, today, event_years):
        tier, role = 0, "isolierte MSO"
    elif org_type in FUNDER_TYPES:
        tier, role = 3, "Förderer / Verwaltung"
    elif (inside and outside) or org in brokers:
        tier, role = (1, "Brückenakteur") if half == "migration" else (0, "Brückenakteur")
    elif org_type in MSO_TYPES:
        tier, role = 2, "MSO"
    elif half == "migration":
        tier, role = 3, "Integrationsfachstelle"
    elif not inside:
        tier, role = 1, "Regeldienst"
    else:
        tier, role = 2, "Regeldienst"
    return {"half": half, "tier": tier, "role": role, "sectors": tuple(sorted(data.get("sectors") or ()))}


def _contact_sides(nodes, ties, org: str) -> tuple[bool, bool]:
    """(has a direct contact in the migration field, has one outside it); stops once both are known.

    Hubs have thousands of contacts; reading all of them for each of 100,000 candidates cost seconds.
    """
    inside = outside = False
    for other in ties.neighbours[org]:
        if nodes[other].get("org_type") in MIGRATION_FIELD_TYPES:
            inside = True
        else:
            outside = True
        if inside and outside:
            break
    return inside, outside


def _split_contacts(nodes, ties, org: str) -> tuple[list[str], list[str]]:
    """The direct contacts of ``org`` in the migration field and outside it (for the reason texts)."""
    inside: list[str] = []
    outside: list[str] = []
    for other in ties.neighbours[org]:
        (inside if nodes[other].get("org_type") in MIGRATION_FIELD_TYPES else outside).append(other)
    return inside, outside


def _reasons(G, ties, org: str, p: dict[str, Any], brokers, event_years: int) -> list[str]:
    nodes = G._node
    inside, outside = _split_contacts(nodes, ties, org)

    def names(ids: list[str]) -> str:
        ordered = sorted(ids, key=lambda o: name_key(nodes[o].get("name"), o))
        return names_text([nodes[o].get("name") or o for o in ordered], 3)

    org_type = nodes[org].get("org_type") or ""
    role = p["role"]
    if role == "isolierte MSO":
        return [f"MSO ohne Verbindung zu Regeldiensten (auch nicht über Veranstaltungen der letzten "
                f"{event_years} Jahre) – das Treffen kann erste Kontakte schaffen."]
    if role == "Förderer / Verwaltung":
        return [f"{label('org_type', org_type)}: eingeladen, weil Plätze frei sind."]
    if role == "Brückenakteur":
        reasons = []
        if inside and outside:
            reasons.append(f"Verbunden mit dem Migrationsbereich ({names(inside)}) und mit "
                           f"Organisationen außerhalb ({names(outside)}) – kann Kontakte vermitteln.")
        if org in brokers:
            rank, total = brokers[org]
            reasons.append(f"Vermittelt im regionalen Netzwerk (Rang {rank} von {total} nach Betweenness).")
        return reasons
    if role == "MSO":
        return ["MSO der Region mit ersten Kontakten außerhalb des Migrationsbereichs."]
    if role == "Integrationsfachstelle":
        return [f"{label('org_type', org_type)} der Region."]
    if not inside:
        return ["Bisher ohne Verbindung zum Migrationsbereich – neue Kontakte über die Feldgrenze möglich."]
    return [f"Hat erste Kontakte zum Migrationsbereich ({names(inside)})."]


def _recent_outside_contact(G, ties, org: str, today: dt.date, event_years: int) -> bool:
    nodes = G._node
    for event in ties.events_of[org]:
        if in_window(ties.event_dates.get(event), today, event_years):
            for other in G._pred[event]:
                if other != org and nodes[other].get("kind") == "organisation" \
                        and nodes[other].get("org_type") not in MIGRATION_FIELD_TYPES:
                    return True
    return False


def _next(tiers: list[list[str]], profiles, covered: set[str], chosen: set[str], ties) -> str | None:
    for tier in tiers:
        best = None
        scanned = 0
        for org in tier:
            if org in chosen:
                continue
            sectors = profiles[org]["sectors"]
            key = (-len(set(sectors) - covered), len(ties.neighbours[org] & chosen), scanned)
            if best is None or key < best[0]:
                best = (key, org)
            scanned += 1
            if scanned >= _SCAN:
                break
        if best is not None:
            return best[1]
    return None


def _tied_pairs(ties, orgs: list[str], today: dt.date, event_years: int) -> set[frozenset[str]]:
    wanted = set(orgs)
    pairs = set()
    for org in orgs:
        for other in ties.neighbours[org] & wanted:
            pairs.add(frozenset((org, other)))
    for event, members in ties.attendees.items():
        if in_window(ties.event_dates.get(event), today, event_years):
            present = sorted(set(members) & wanted)
            for i, a in enumerate(present):
                for b in present[i + 1:]:
                    pairs.add(frozenset((a, b)))
    return pairs


def _seat(rows: list[dict[str, Any]], hosts: list[str], tables: int, tied: set[frozenset[str]]) -> list[list[int]]:
    n = len(rows)
    if n == 0:
        return []
    t = min(tables, n)
    sizes = [n // t + (1 if i < n % t else 0) for i in range(t)]
    groups: list[list[int]] = [[] for _ in range(t)]

    def value(i: int, j: int) -> int:
        return pair_value(rows[i], rows[j], frozenset((rows[i]["id"], rows[j]["id"])) in tied)

    fixed = set()
    for i in range(min(len(hosts), t)):  # rows start with the hosts, in order
        groups[i].append(i)
        fixed.add(i)
    for i in range(len(fixed), n):
        best = None
        for g, members in enumerate(groups):
            if len(members) >= sizes[g]:
                continue
            key = (-sum(value(i, j) for j in members), len(members), g)
            if best is None or key < best[0]:
                best = (key, g)
        assert best is not None  # the sizes add up to n, so some table always has room
        groups[best[1]].append(i)
    where = {i: g for g, members in enumerate(groups) for i in members}
    movable = [i for i in range(n) if i not in fixed]
    for _ in range(_MAX_SWAP_PASSES):
        improved = False
        for x, a in enumerate(movable):
            for b in movable[x + 1:]:
                ga, gb = where[a], where[b]
                if ga == gb:
                    continue
                gain = sum(value(b, j) for j in groups[ga] if j != a) + sum(value(a, j) for j in groups[gb] if j != b)
                loss = sum(value(a, j) for j in groups[ga] if j != a) + sum(value(b, j) for j in groups[gb] if j != b)
                delta = gain - loss
                if delta > 0:
                    groups[ga][groups[ga].index(a)] = b
                    groups[gb][groups[gb].index(b)] = a
                    where[a], where[b] = gb, ga
                    improved = True
        if not improved:
            break
    return [sorted(members) for members in groups]


def _table_ties(rows, members: list[int], tied: set[frozenset[str]]) -> tuple[int, int]:
    new = cross = 0
    for x, i in enumerate(members):
        for j in members[x + 1:]:
            if frozenset((rows[i]["id"], rows[j]["id"])) not in tied:
                new += 1
                cross += _half(rows[i]["org_type"]) != _half(rows[j]["org_type"])
    return new, cross


def invitation_rows(G: nx.MultiDiGraph, plan: dict[str, Any], *, include_email: bool = True) -> list[dict[str, Any]]:
    """Rows of an invitation list (for CSV/XLSX): table, name, type, city, e-mail, role, reasons.

    The column ``E-Mail`` appears only if ``include_email`` and at least one invitee has an address
    in the data (personal data is never invented); rows are sorted by table, then name.
    """
    emails = {r["id"]: (G.nodes[r["id"]].get("email") or "") if r["id"] in G else "" for r in plan["invitees"]}
    with_email = include_email and any(emails.values())
    rows = []
    for r in sorted(plan["invitees"], key=lambda r: (r["table"] or 0, *name_key(r["name"], r["id"]))):
        row = {"Tisch": r["table"], "Name": r["name"], "Typ": r["org_type_label"], "Ort": r["city"] or ""}
        if with_email:
            row["E-Mail"] = emails[r["id"]]
        row["Rolle"] = r["role"]
        row["Begründung"] = " ".join(r["reasons"])
        rows.append(row)
    return rows


def attendance_relations(event_id: str, org_ids, *, source: str, updated: str) -> list[Relation]:
    """``attended_event`` relations for the organisations that came (duplicates dropped, order kept).

    Hand them to ``store.upsert(RecordBatch(relations=...))``; the store checks that the event and
    the organisations exist.
    """
    if not event_id:
        raise GraphError("Bitte die Veranstaltung angeben, für die die Teilnahme erfasst wird.")
    seen: list[str] = []
    for org in org_ids:
        if org and org not in seen:
            seen.append(org)
    return [Relation(org, event_id, "attended_event", source=source, updated=updated) for org in seen]
