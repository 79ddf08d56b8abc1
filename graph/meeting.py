"""Meeting planner: whom to invite to a Vernetzungstreffen, how to seat them, and recording attendance."""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
from collections.abc import Callable, Container, Iterable
from functools import lru_cache
from typing import Any

import networkx as nx

from msonet.graph.carriers import CARRIERS, carrier_of, is_migration_service, is_umbrella
from msonet.graph.errors import GraphError
from msonet.graph.formats import fmt_decimal
from msonet.graph.isolation import names_text
from msonet.graph.lookup import Remembered, name_key, resolve_organisation, vocabulary_key
from msonet.graph.model import Relation
from msonet.graph.network import collect_ties, gc_paused, in_window
from msonet.graph.vocabulary import (
    COMPLEMENTARY_SECTORS,
    LOCATION_PRECISIONS,
    MIGRATION_FIELD_TYPES,
    MSO_TYPES,
    label,
    normalise_term,
)

__all__ = ["plan_meeting", "check_request", "invitation_rows", "attendance_relations", "ROLES", "plausible_pairs",
           "objective_value", "DEFAULT_RADIUS_KM", "MAX_CAPACITY", "MAX_RADIUS_KM", "MAX_TABLES", "PAIRS_PER_MSO",
           "ISOLATED_WEIGHT", "MAX_CARRIER_SHARE", "PARTNERS_PER_MSO"]

#: Roles an invitee can have.
ROLES = ("Veranstalter", "isolierte MSO", "MSO", "Partner außerhalb des Migrationsbereichs")
#: Default travel radius around the venue, km (about 30-45 minutes by bus and train in NRW).
DEFAULT_RADIUS_KM = 25.0
#: Largest meeting planned (a larger capacity is refused at once).
MAX_CAPACITY = 2000
#: Largest travel radius, km (NRW is about 260 km across).
MAX_RADIUS_KM = 300.0
MAX_TABLES = 200
#: New contacts one organisation (MSO or partner) can realistically start at one meeting: more do not count.
PAIRS_PER_MSO = 2
#: Weight of a pair with an isolated MSO (no tie to any regular service); other pairs weigh 1.
ISOLATED_WEIGHT = 2.0
#: No carrier (welfare association) gets more than this share of the seats (at least one seat).
MAX_CARRIER_SHARE = 0.25
#: Plausible partners kept per MSO: the nearest ones to the MSO (bounds the work by the data).
PARTNERS_PER_MSO = 12
#: Seed of the fixed random order that decides between equal choices (never the name).
TIE_SEED = 2024
_PARTNER = "Partner außerhalb des Migrationsbereichs"
#: The few Regierungsbezirk spellings of a region, normalised once each rather than once per organisation.
_cached_term = lru_cache(maxsize=256)(normalise_term)


#: Funders and state bodies: not partners at a networking meeting of local organisations.
FUNDER_TYPES = frozenset({"state_ministry", "state_authority", "foundation"})


def _half(org_type: str | None) -> str:
    """``"migration"`` (MSO, KI, IA ...) or ``"outside"`` (regular services and everyone else)."""
    return "migration" if org_type in MIGRATION_FIELD_TYPES else "outside"


def _contact_sides(nodes, ties, org: str) -> tuple[bool, bool]:
    """(has a direct contact in the migration field, has one outside it); stops once both are known."""
    inside = outside = False
    for other in ties.neighbours[org]:
        if nodes[other].get("org_type") in MIGRATION_FIELD_TYPES:
            inside = True
        else:
            outside = True
        if inside and outside:
            break
    return inside, outside


def _recent_outside_contact(G, ties, org: str, today: dt.date, event_years: int) -> bool:
    nodes = G._node
    for event in ties.events_of[org]:
        if in_window(ties.event_dates.get(event), today, event_years):
            for other in G._pred[event]:
                if other != org and nodes[other].get("kind") == "organisation" \
                        and nodes[other].get("org_type") not in MIGRATION_FIELD_TYPES:
                    return True
    return False


class _TiedPairs(Container):
    """The pairs already tied, asked as ``frozenset((a, b)) in tied``: a direct tie (looked up in the
    neighbour sets, not copied into a million pairs) or a shared recent event."""

    __slots__ = ("neighbours", "shared")

    def __init__(self, neighbours: dict[str, set[str]], shared: set[frozenset[str]]) -> None:
        self.neighbours = neighbours
        self.shared = shared

    def __contains__(self, pair: object) -> bool:
        if not isinstance(pair, frozenset) or len(pair) != 2:
            return False
        a, b = pair
        return b in self.neighbours.get(a, ()) or pair in self.shared


def _tied_pairs(ties, orgs: list[str], today: dt.date, event_years: int) -> _TiedPairs:
    """Pairs of ``orgs`` tied directly or through an event within ``event_years`` up to ``today``."""
    wanted = set(orgs)
    pairs: set[frozenset[str]] = set()
    for event, members in ties.attendees.items():
        if in_window(ties.event_dates.get(event), today, event_years):
            present = sorted(set(members) & wanted)
            for i, a in enumerate(present):
                for b in present[i + 1:]:
                    pairs.add(frozenset((a, b)))
    return _TiedPairs({o: ties.neighbours[o] for o in orgs}, pairs)


def _seat(chosen: list[str], hosts: list[str], tables: int, counted: dict[str, list[str]], *,
          improve: bool = True) -> list[list[str]]:
    """Table groups that seat counted pairs together: groups of linked invitees (an MSO with its partners,
    their other MSOs ...) go whole to the table with most free seats, largest groups first, split only
    where a group is larger than a table (a connected part to the fullest table, the rest as groups of their
    own); then the rest fill the tables evenly; finally swaps that seat more pairs together
    (:func:`_improve_seating`). Cost: invitees x tables."""
    n = len(chosen)
    if n == 0:
        return []
    t = min(tables, n)
    sizes = [n // t + (1 if i < n % t else 0) for i in range(t)]
    groups: list[list[str]] = [[] for _ in range(t)]
    position = {o: i for i, o in enumerate(chosen)}
    placed: set[str] = set()
    for i, host in enumerate(hosts[:t]):
        groups[i].append(host)
        placed.add(host)
    pairs = nx.Graph()
    pairs.add_edges_from((a, b) for a, bs in counted.items() for b in bs)
    U = pairs.copy()
    U.remove_nodes_from(placed)  # the hosts sit already

    def free(g: int) -> int:
        return sizes[g] - len(groups[g])

    def by_size(parts: Iterable[Iterable[str]]) -> list[list[str]]:
        found = [sorted(c, key=position.__getitem__) for c in parts]
        return sorted((c for c in found if c), key=lambda c: (-len(c), position[c[0]]))

    clusters = by_size(nx.connected_components(U))
    while clusters:
        cluster = clusters.pop(0)
        room = max(range(t), key=lambda g: (free(g), -g))
        if free(room) <= 0:
            break
        if len(cluster) <= free(room):
            groups[room].extend(cluster)
            placed.update(cluster)
            continue
        # Larger than any free table: seat a connected part (grown breadth-first from an end, a member with
        # fewest counted pairs, so a chain is cut once), then seat what is left as groups of their own.
        start = min(cluster, key=lambda o: (U.degree(o), position[o]))
        order = [start, *(v for _, v in nx.bfs_edges(U.subgraph(cluster), start))]
        part = order[:free(room)]
        groups[room].extend(part)
        placed.update(part)
        clusters = by_size([*clusters, *nx.connected_components(U.subgraph(set(cluster) - set(part)))])
    for o in chosen:
        if o not in placed:
            groups[max(range(t), key=lambda g: (free(g), -g))].append(o)
            placed.add(o)
    if improve:
        _improve_seating(groups, set(hosts[:t]), pairs, position)
    return [sorted(members, key=position.__getitem__) for members in groups]


def _improve_seating(groups: list[list[str]], hosts: set[str], U: nx.Graph, position: dict[str, int],
                     passes: int = 4) -> None:
    """Swap two guests of different tables wherever that seats more counted pairs together, or as many
    but leaves fewer guests without any of their counted partners at their table (in place; hosts stay).

    The greedy seating above must cut groups larger than a table and may cut them where a swap does
    better. Only swaps in which a guest moves to a table where one of its partners sits can gain, so
    those are tried (guests in invitation order, the first improving swap is taken), each judged by what
    changes for the two guests and their partners only.
    """
    table = {o: g for g, members in enumerate(groups) for o in members}
    guests = sorted((o for o in table if o not in hosts and o in U), key=position.__getitem__)
    at: dict[int, list[str]] = {}
    for o in guests:
        at.setdefault(table[o], []).append(o)

    def together(o: str, g: int, skip: str) -> int:
        return sum(1 for p in U[o] if p != skip and table[p] == g)

    def alone(o: str) -> bool:
        return U.degree(o) > 0 and not any(table[p] == table[o] for p in U[o])

    def try_swap(u: str, v: str) -> bool:
        a, b = table[u], table[v]
        gain = (together(u, b, v) - together(u, a, v)) + (together(v, a, u) - together(v, b, u))
        if gain < 0:
            return False
        touched = {u, v, *U[u], *U[v]}
        before = sum(map(alone, touched))
        table[u], table[v] = b, a
        if gain > 0 or sum(map(alone, touched)) < before:
            at[a][at[a].index(u)] = v
            at[b][at[b].index(v)] = u
            return True
        table[u], table[v] = a, b
        return False

    for _ in range(passes):
        improved = False
        for u in guests:
            for b in sorted({table[p] for p in U[u]} - {table[u]}):
                if any(try_swap(u, v) for v in list(at.get(b, ()))):
                    improved = True
                    break
        if not improved:
            break
    for members in groups:
        members.clear()
    for o, g in table.items():  # the caller orders each table by invitation order
        groups[g].append(o)


def _tie(node: str) -> bytes:
    return hashlib.blake2b(f"{TIE_SEED}|{node}".encode(), digest_size=8).digest()


def _tie_memo() -> Callable[[str], bytes]:
    """:func:`_tie`, worked out once per id for one planning step (sorting and the heap ask again and again)."""
    return Remembered(_tie).__getitem__


def _de_amount(value: float) -> str:
    """German number: 2000 -> "2.000", 0.1 -> "0,1"."""
    whole, _, frac = f"{value:,.2f}".rstrip("0").rstrip(".").partition(".")
    return whole.replace(",", ".") + ("," + frac if frac else "")


def _number(value: object, name: str, low: float, high: float, unit: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        shown = _de_amount(value) if isinstance(value, int | float) and math.isfinite(value) else str(value)
        raise GraphError(f"{name} muss zwischen {_de_amount(low)} und {_de_amount(high)}{unit} liegen "
                         f"(angegeben: {shown}).")
    return float(value)


def check_request(capacity: object, tables: object = 4, radius_km: object = None) -> None:
    """Refuse absurd meeting parameters at once (before any data is read), with a German message."""
    _number(capacity, "Die Zahl der Plätze", 1, MAX_CAPACITY)
    _number(tables, "Die Zahl der Tische", 1, MAX_TABLES)
    if radius_km is not None:
        _number(radius_km, "Der Reiseradius", 0.1, MAX_RADIUS_KM, " km")


def _point(data: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = data.get("lat"), data.get("lon")
    if lat is None or lon is None:
        return None
    try:
        return float(lat), float(lon)
    except (TypeError, ValueError):
        return None


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _de(number: float) -> str:
    return f"{number:.1f}".replace(".", ",")


def _sector_fit(mso: frozenset[str], partner: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(shared sectors, complementary fields of the tandem project only the partner covers)."""
    return mso & partner, (partner & COMPLEMENTARY_SECTORS) - mso


def _unit_vectors(coords: list[tuple[float, float]]):
    """Points on the unit sphere (x, y, z) for (lat, lon) in degrees: straight-line (chord) distances
    between them grow with the great-circle distance, so nearest neighbours come out in the same order."""
    import numpy as np

    lat, lon = np.radians(np.asarray(coords, dtype=float).reshape(-1, 2)).T
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def plausible_pairs(G: nx.MultiDiGraph, msos: list[str], partners: list[str], tied: Container[frozenset[str]],
                    points: dict[str, tuple[float, float]]) -> dict[str, list[str]]:
    """MSO -> its plausible new partners among ``partners``: not tied yet, shared or complementary sector.

    Only the :data:`PARTNERS_PER_MSO` nearest ones are kept, ranked by (distance, fixed seeded order).
    They are found by walking the partners' distinct points outward from the MSO (see
    :func:`_nearest_fitting`) and ranking the candidates up to the last one needed by the exact distance.
    The work grows with the number of MSOs, not with the square of the region. Organisations without
    a point pair only with others without a point.
    """
    nodes = G._node
    sectors = {o: frozenset(nodes[o].get("sectors") or ()) for o in [*msos, *partners]}
    tie = _tie_memo()

    def fits(a: str, b: str) -> bool:
        shared, complementary = _sector_fit(sectors[a], sectors[b])
        return bool(shared or complementary) and frozenset((a, b)) not in tied

    unplaced = [b for b in partners if b not in points]
    placed = [b for b in partners if b in points]
    found: dict[str, list[str]] = {}
    for a in msos:
        if a not in points:
            found[a] = [b for _, _, b in sorted((0.0, tie(b), b) for b in unplaced if fits(a, b))][:PARTNERS_PER_MSO]
    located = [a for a in msos if a in points]
    if located and placed:
        found.update(_nearest_fitting(located, placed, sectors, tied, points, tie))
    return {a: found.get(a, []) for a in msos}


#: Up to this many distinct partner points, each MSO's stops are sorted by distance directly; beyond, a k-d tree.
_FEW_STOPS = 2000


def _fit_table(m_sets: list[frozenset[str]], p_sets: list[frozenset[str]]) -> list[list[bool]]:
    """``[i][j]``: do MSOs with sectors ``m_sets[i]`` and partners with ``p_sets[j]`` fit (:func:`_sector_fit`)?"""
    import numpy as np

    bit: dict[str, int] = {}
    for group in (m_sets, p_sets):
        for sectors in group:
            for sector in sectors:
                bit.setdefault(sector, len(bit))
    if len(bit) > 62:  # more distinct sectors than bits in a machine word: one pair at a time
        return [[any(_sector_fit(ms, ps)) for ps in p_sets] for ms in m_sets]

    def masks(group: list[frozenset[str]]):
        return np.array([sum(1 << bit[x] for x in sectors) for sectors in group], dtype=np.int64)

    m, p = masks(m_sets)[:, None], masks(p_sets)[None, :]
    complementary = sum(1 << bit[x] for x in COMPLEMENTARY_SECTORS if x in bit)
    return (((m & p) != 0) | ((p & complementary & ~m) != 0)).tolist()


def _nearest_fitting(msos: list[str], partners: list[str], sectors: dict[str, frozenset[str]],
                     tied: Container[frozenset[str]], points: dict[str, tuple[float, float]], tie
                     ) -> dict[str, list[str]]:
    """For located MSOs and located partners: the :data:`PARTNERS_PER_MSO` nearest fitting ones each.

    Partners at the same point (most data places an organisation at its municipality's centre, so a city
    centre holds thousands) are one stop of the walk, in the seeded order. Each MSO walks the stops nearest
    first, the nearest 16, then 64 ... if needed (up to :data:`_FEW_STOPS` stops found from the distances
    to all of them, beyond that from a k-d tree). A stop adds at most :data:`PARTNERS_PER_MSO` candidates
    (all at the same distance); the walk ends at the first stop farther than the one that completed the list, and the
    candidates are then ranked by the exact distance and the seeded order.
    """
    import numpy as np

    want = PARTNERS_PER_MSO
    # sector fit by class: the few distinct sector sets, each pair of classes judged once
    classes: dict[frozenset[str], int] = {}
    m_cls = [classes.setdefault(sectors[a], len(classes)) for a in msos]
    m_sets = list(classes)
    classes = {}
    p_cls = [classes.setdefault(sectors[b], len(classes)) for b in partners]
    p_sets = list(classes)
    fit_rows = _fit_table(m_sets, p_sets)
    per_class = [0] * len(p_sets)
    for pc in p_cls:
        per_class[pc] += 1
    fitting_total = [sum(n for n, ok in zip(per_class, row, strict=True) if ok) for row in fit_rows]
    stops: dict[tuple[float, float], list[int]] = {}
    for j, b in enumerate(partners):
        stops.setdefault(points[b], []).append(j)
    spots = list(stops)
    members = [np.array(sorted(stops[p], key=lambda j: (tie(partners[j]), partners[j])), dtype=np.intp)
               for p in spots]
    fit_array = np.array(fit_rows, dtype=bool).reshape(len(m_sets), len(p_sets))
    p_cls_array = np.array(p_cls, dtype=np.intp)
    members_cls = [p_cls_array[here] for here in members]
    fitting_at: dict[tuple[int, int], Any] = {}

    def at(u: int, cls: int):
        """The partners (positions) at stop ``u`` that fit sector class ``cls``, in the seeded order, as
        lists of up to 32 (a walk seldom needs more than the first few of a city centre's thousands)."""
        found = fitting_at.get((u, cls))
        if found is None:
            fitting = members[u][fit_array[cls][members_cls[u]]]
            found = fitting_at[(u, cls)] = [fitting[i:i + 32] for i in range(0, len(fitting), 32)]
        return found

    result: dict[str, list[str]] = {}

    km = Remembered(lambda pair: _km(*pair))  # few distinct pairs of points

    def rank(a: str, candidates) -> None:
        here = points[a]
        options = sorted((km[(here, points[b])], tie(b), b) for b in candidates if frozenset((a, b)) not in tied)
        result[a] = [b for _, _, b in options[:want]]

    pending = []
    few: dict[int, list[str]] = {}
    for row, a in enumerate(msos):
        cls = m_cls[row]
        if fitting_total[cls] <= 4 * want:  # few fitting partners in all: rank them all
            if cls not in few:
                few[cls] = [b for b, pc in zip(partners, p_cls, strict=True) if fit_rows[cls][pc]]
            rank(a, few[cls])
        else:
            pending.append(row)
    s_xyz = _unit_vectors(spots)
    m_xyz = _unit_vectors([points[a] for a in msos])
    n = len(spots)
    k = min(16, n)
    if n <= _FEW_STOPS:  # a few hundred municipality centres: distances to all stops, no tree to build or import
        def query(rows: list[int], k: int):
            dist = np.empty((len(rows), k))
            idx = np.empty((len(rows), k), dtype=np.intp)
            for start in range(0, len(rows), 512):
                part = m_xyz[rows[start:start + 512]]
                full = np.sqrt(((part[:, None, :] - s_xyz[None, :, :]) ** 2).sum(axis=2))
                near = np.argpartition(full, k - 1, axis=1)[:, :k] if k < n else np.argsort(full, axis=1)
                near_dist = np.take_along_axis(full, near, axis=1)
                order = np.argsort(near_dist, axis=1, kind="stable")
                dist[start:start + len(part)] = np.take_along_axis(near_dist, order, axis=1)
                idx[start:start + len(part)] = np.take_along_axis(near, order, axis=1)
            return dist, idx
    else:
        from scipy.spatial import cKDTree

        tree = cKDTree(s_xyz)

        def query(rows: list[int], k: int):
            return tree.query(m_xyz[rows], k=k)

    while pending:
        dist, idx = query(pending, k)
        dist, idx = dist.reshape(len(pending), k).tolist(), idx.reshape(len(pending), k).tolist()
        retry = []
        for r, row in enumerate(pending):
            a, cls = msos[row], m_cls[row]
            candidates: list[str] = []
            limit = math.inf
            finished = k == n
            for d, u in zip(dist[r], idx[r], strict=True):
                if d > limit:
                    finished = True
                    break
                taken = 0
                for chunk in at(u, cls):
                    for j in chunk.tolist():
                        b = partners[j]
                        if frozenset((a, b)) not in tied:
                            candidates.append(b)
                            taken += 1
                            if taken == want:
                                break
                    if taken == want:
                        break
                if limit == math.inf and len(candidates) >= want:
                    limit = d * (1 + 1e-9) + 1e-12  # rounding of the chord: the exact ranking decides
            if finished:
                rank(a, candidates)
            else:
                retry.append(row)  # the stops up to the last needed one may lie beyond the k nearest
        pending = retry
        k = min(4 * k, n)
    return result


def objective_value(chosen: set[str] | list[str], pairs: dict[str, list[str]], weights: dict[str, float]) -> float:
    """The planner's objective for a set of invitees: the largest total weight of plausible new pairs
    among them when every organisation takes part in at most :data:`PAIRS_PER_MSO` counted pairs
    (pairs of isolated MSOs weigh :data:`ISOLATED_WEIGHT`, others 1)."""
    return _pairs_matched(set(chosen), pairs, weights)[0]


@gc_paused()  # millions of short-lived pairs: no collector runs over the graph meanwhile
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
    venue: tuple[float, float] | None = None,
    venue_name: str | None = None,
    radius_km: float | None = None,
    carriers: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """Propose invitees for a networking meeting that maximise plausible new productive pairs.

    Objective (:func:`objective_value`): a *plausible new productive pair* is an MSO and a local
    organisation outside the migration field (no umbrella body, no migration-specific service) that
    share a sector or where the partner covers a complementary field of the tandem project, both within
    ``radius_km`` of the venue and not yet tied (directly or through an event of the last
    ``event_years`` years). Each invited MSO counts up to :data:`PAIRS_PER_MSO` such pairs with invited
    partners (and each partner up to as many MSOs), pairs of isolated MSOs weigh
    :data:`ISOLATED_WEIGHT`. Seats are filled greedily by marginal gain per seat, over single
    organisations and MSO-partner pairs (a pair needs both ends,
    so a pair may enter together); no carrier gets more than :data:`MAX_CARRIER_SHARE` of the seats;
    equal gains go first to a carrier not yet represented, then to whoever has more plausible partners
    left, then nearer the venue, then a fixed seeded order (:data:`TIE_SEED`), never the name.

    Tables: groups of linked invitees (an MSO with its counted partners, their other MSOs ...) sit
    together (split only where larger than a table), tables filled evenly; organisers host one table each.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    capacity
        Number of seats (organisers included), 1 to :data:`MAX_CAPACITY`; more seats than fitting
        organisations leaves seats free and says so.
    today, event_years
        Shared events within the last ``event_years`` years up to ``today`` count as existing ties.
    district, regierungsbezirk
        Invite only organisations of this district (5-digit key) / Regierungsbezirk (name).
    topic
        Invite only organisations working in this sector (key or German label).
    tables
        Number of table groups (1 to :data:`MAX_TABLES`).
    organisers
        Ids or names of the organising organisations (always invited, hosts of the tables).
    venue, venue_name
        Point (lat, lon) and name of the venue; default: the centre of the candidates' points.
    radius_km
        Invite only organisations within this distance of the venue (0 < radius <= :data:`MAX_RADIUS_KM`);
        ``None``: :data:`DEFAULT_RADIUS_KM` when a venue, district or Regierungsbezirk is given, else
        no limit (all of NRW).
    carriers
        Id -> carrier key (default: :func:`msonet.graph.carriers.carrier_of`).

    Returns
    -------
    ``{invitees: [{id, name, org_type, org_type_label, city, district, sectors, role, table, carrier,
    venue_km, reasons}], tables: [{table, members, names, pairs, new_ties, cross_field_new_ties,
    sectors}], objective: {value, pairs, pairs_isolated, pairs_other, weights...}, summary: {...},
    venue: {name, lat, lon, radius_km}, filters: {...}, notes: [...]}``
    """
    if radius_km is None:
        radius_km = DEFAULT_RADIUS_KM if (venue is not None or district or regierungsbezirk) else MAX_RADIUS_KM
    capacity = int(_number(capacity, "Die Zahl der Plätze", 1, MAX_CAPACITY))
    tables = int(_number(tables, "Die Zahl der Tische", 1, MAX_TABLES))
    radius_km = _number(radius_km, "Der Reiseradius", 0.1, MAX_RADIUS_KM, " km")
    if venue is not None:
        _number(venue[0], "Die geografische Breite des Veranstaltungsorts", -90, 90)
        _number(venue[1], "Die geografische Länge des Veranstaltungsorts", -180, 180)
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
    nodes = G._node
    region = []
    for node, data in G.nodes(data=True):
        if data.get("kind") != "organisation" or node in hosts:
            continue
        if district and data.get("district") != district:
            continue
        if rb_key and _cached_term(data.get("regierungsbezirk") or "") != rb_key:
            continue
        if topic_key and topic_key not in (data.get("sectors") or ()):
            continue
        region.append(node)
    points = {o: p for o in [*hosts, *region] if (p := _point(nodes[o])) is not None}
    notes: list[str] = []
    if venue is None:
        located = [points[o] for o in region if o in points]
        if located:
            venue = (sum(p[0] for p in located) / len(located), sum(p[1] for p in located) / len(located))
            venue_name = venue_name or "Mitte der Region (Durchschnitt der Standorte)"
    venue_km = {o: _km(venue, p) for o, p in points.items()} if venue is not None else {}
    pool = [o for o in region if venue is None or venue_km.get(o, math.inf) <= radius_km]
    if venue is not None and len(pool) < len(region):
        notes.append(f"{len(region) - len(pool)} Organisationen der Auswahl liegen weiter als "
                     f"{fmt_decimal(radius_km, 1)} km vom Veranstaltungsort entfernt (oder ohne Standort) und werden "
                     "nicht eingeladen.")
    ties = collect_ties(G, [*hosts, *pool])
    tied = _tied_pairs(ties, [*hosts, *pool], today, event_years)
    msos = [o for o in pool if nodes[o].get("org_type") in MSO_TYPES]
    partners = [o for o in pool if _half(nodes[o].get("org_type")) == "outside"
                and nodes[o].get("org_type") not in FUNDER_TYPES | {"municipal_administration"}
                and not is_umbrella(G, o) and not is_migration_service(nodes[o])]
    isolated = {a for a in msos if not _contact_sides(nodes, ties, a)[1]
                and not _recent_outside_contact(G, ties, a, today, event_years)}
    pairs = plausible_pairs(G, msos, partners, tied, points)
    carrier = carriers if carriers is not None else {}
    if carriers is None:  # only those who can be invited: the organisers and both ends of plausible pairs
        involved = {*hosts, *(a for a, bs in pairs.items() if bs), *(b for bs in pairs.values() for b in bs)}
        for o in [*hosts, *pool]:
            if o in involved:
                carrier[o] = carrier_of(G, o)
    weights = {a: ISOLATED_WEIGHT if a in isolated else 1.0 for a in msos}
    chosen, gains = _choose(capacity, hosts, pairs, weights, carrier, venue_km)
    if len(chosen) < capacity:
        fitting = len(hosts) + sum(1 for a in msos if pairs[a])
        notes.append(f"Nur {len(chosen)} Plätze besetzt, {capacity - len(chosen)} bleiben frei: weitere Einladungen "
                     f"brächten kein zusätzliches plausibles neues Paar (in der Auswahl: {len(pool)} Organisationen, "
                     f"davon {fitting - len(hosts)} MSO mit möglichen Partnern). Region, Radius oder Thema "
                     "erweitern, um mehr einzuladen.")
    invited = set(chosen)
    value, matched = _pairs_matched(invited, pairs, weights)
    partner_of: dict[str, list[str]] = {}
    counted: dict[str, list[str]] = {}
    order = {o: i for i, o in enumerate(chosen)}
    for a, b in sorted(matched, key=lambda ab: (order[ab[0]], order[ab[1]])):
        counted.setdefault(a, []).append(b)
        partner_of.setdefault(b, []).append(a)
    rows = []
    for org in chosen:
        data = nodes[org]
        if org in hosts:
            role = "Veranstalter"
        elif org in weights:
            role = "isolierte MSO" if org in isolated else "MSO"
        else:
            role = _PARTNER
        rows.append({"id": org, "name": data.get("name") or org, "org_type": data.get("org_type"),
                     "org_type_label": label("org_type", data.get("org_type") or ""), "city": data.get("city"),
                     "district": data.get("district"), "sectors": sorted(data.get("sectors") or ()), "role": role,
                     "table": None, "carrier": CARRIERS.get(carrier.get(org) or ""),
                     "venue_km": round(venue_km[org], 1) if org in venue_km else None,
                     "reasons": _reasons(G, org, role, counted, partner_of, venue_km, event_years, gains, topic_key)})
    groups = _seat(chosen, hosts, tables, counted)
    table_rows = []
    position = {o: i for i, o in enumerate(chosen)}
    for number, members in enumerate(groups, start=1):
        member_set = set(members)
        table_pairs = [(a, b) for a in members for b in counted.get(a, ()) if b in member_set]
        new = cross = 0
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if frozenset((i, j)) not in tied:
                    new += 1
                    cross += _half(nodes[i].get("org_type")) != _half(nodes[j].get("org_type"))
        for o in members:
            rows[position[o]]["table"] = number
        table_rows.append({"table": number, "members": list(members),
                           "names": [nodes[o].get("name") or o for o in members], "pairs": len(table_pairs),
                           "new_ties": new, "cross_field_new_ties": cross,
                           "sectors": sorted({s for o in members for s in nodes[o].get("sectors") or ()})})
    pair_count = sum(len(v) for v in counted.values())
    isolated_pairs = sum(len(v) for a, v in counted.items() if a in isolated)
    carrier_counts: dict[str, int] = {}
    for o in chosen:
        if carrier.get(o):
            name = CARRIERS[carrier[o] or ""]
            carrier_counts[name] = carrier_counts.get(name, 0) + 1
    distances = sorted(venue_km[o] for o in chosen if o in venue_km)
    return {
        "invitees": rows,
        "tables": table_rows,
        "objective": {
            "value": value, "pairs": pair_count, "pairs_isolated": isolated_pairs,
            "pairs_other": pair_count - isolated_pairs, "pairs_at_tables": sum(t["pairs"] for t in table_rows),
            "isolated_weight": ISOLATED_WEIGHT, "pairs_per_mso": PAIRS_PER_MSO,
            "description": ("Summe über eingeladene MSO: Gewicht (isolierte MSO 2, sonst 1) × Zahl plausibler neuer "
                            f"Paare mit eingeladenen Partnern, höchstens {PAIRS_PER_MSO} je Organisation"),
        },
        "summary": {
            "capacity": capacity, "invited": len(rows),
            "msos": sum(1 for r in rows if r["org_type"] in MSO_TYPES),
            "isolated_msos": sum(1 for r in rows if r["role"] == "isolierte MSO"),
            "partners": sum(1 for r in rows if r["role"] == _PARTNER),
            "migration_field": sum(1 for r in rows if _half(r["org_type"]) == "migration"),
            "outside": sum(1 for r in rows if _half(r["org_type"]) == "outside"),
            "new_ties": sum(t["new_ties"] for t in table_rows),
            "cross_field_new_ties": sum(t["cross_field_new_ties"] for t in table_rows),
            "carriers": dict(sorted(carrier_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "median_venue_km": round(distances[len(distances) // 2], 1) if distances else None,
            "tables": len(table_rows), "pool": len(pool),
        },
        "venue": {"name": venue_name, "lat": venue[0] if venue else None, "lon": venue[1] if venue else None,
                  "radius_km": radius_km},
        "filters": {"district": district, "regierungsbezirk": regierungsbezirk, "topic": topic_key,
                    "today": today.isoformat(), "event_years": event_years},
        "notes": notes,
    }


def _choose(capacity: int, hosts: list[str], pairs: dict[str, list[str]], weights: dict[str, float],
            carrier: dict[str, str | None], venue_km: dict[str, float]) -> tuple[list[str], dict[str, float]]:
    """Greedy on marginal gain per seat (lazy heap); returns the chosen ids in order and each one's gain.

    An action adds one organisation or an MSO with a partner. Its gain is the weight of the new pairs it
    opens with invited organisations that still have one of their :data:`PAIRS_PER_MSO` slots free (an
    invited organisation's slots are taken as pairs are counted). Each commit changes the gains of the
    neighbours only, so the work is about the seats times the pairs per organisation.
    """
    chosen = list(hosts)
    invited = set(hosts)
    limit = max(1, int(MAX_CARRIER_SHARE * capacity))
    carrier_seats: dict[str, int] = {}
    for o in hosts:
        if carrier.get(o):
            carrier_seats[carrier[o] or ""] = carrier_seats.get(carrier[o] or "", 0) + 1
    links: dict[str, dict[str, float]] = {}  # o -> counterpart -> weight of the pair
    for a, bs in pairs.items():
        for b in bs:
            links.setdefault(a, {})[b] = weights[a]
            links.setdefault(b, {})[a] = weights[a]
    slots = {o: PAIRS_PER_MSO for o in invited}
    gains: dict[str, float] = {}
    version: dict[tuple[str, ...], int] = {}
    heap: list[tuple[tuple[float, int, int, int, float, bytes], int, tuple[str, ...], float]] = []
    degree = {o: len(v) for o, v in links.items()}
    tie = _tie_memo()

    assigned: set[frozenset[str]] = set()

    def open_links(o: str, k: int, exclude: str | None = None) -> list[tuple[float, str]]:
        if not invited:
            return []
        mine = links.get(o, {})
        # walk the smaller side: a partner near many MSOs has hundreds of links, the invited are few
        near = [c for c in mine if c in invited] if len(mine) <= len(invited) else [c for c in invited if c in mine]
        found = sorted((-mine[c], tie(c), c) for c in near
                        if c != exclude and slots.get(c, 0) > 0 and frozenset((o, c)) not in assigned)
        return [(-w, c) for w, _, c in found[:k]]

    def allowed(o: str) -> bool:
        c = carrier.get(o)
        return o not in invited and (not c or carrier_seats.get(c, 0) < limit)

    def push(ids: tuple[str, ...]) -> None:
        version[ids] = version.get(ids, 0) + 1
        if len(ids) == 1:
            gain = sum(w for w, _ in open_links(ids[0], PAIRS_PER_MSO))
        else:
            a, b = ids
            gain = (links[a][b] + sum(w for w, _ in open_links(a, PAIRS_PER_MSO - 1, b))
                    + sum(w for w, _ in open_links(b, PAIRS_PER_MSO - 1, a))) / 2
        if gain <= 0:
            return
        if filling:  # the first entries: one heapify at the end (the same order as pushing one by one)
            heap.append((key_of(ids, gain), version[ids], ids, gain))
        else:
            heapq.heappush(heap, (key_of(ids, gain), version[ids], ids, gain))

    def key_of(ids: tuple[str, ...], gain: float) -> tuple[float, int, int, int, float, bytes]:
        # equal gain: a carrier not yet represented first (variety), then more partners left, nearer, seeded
        if len(ids) == 1:
            o = ids[0]
            c = carrier.get(o)
            n = carrier_seats.get(c, 0) if c else -1
            return (-gain, -(n == 0), int(n > 0), -degree.get(o, 0), venue_km.get(o, 0.0), tie(o))
        seats = [carrier_seats.get(carrier[o] or "", 0) for o in ids if carrier.get(o)]
        return (-gain, -sum(1 for n in seats if n == 0), sum(1 for n in seats if n > 0),
                -sum(degree.get(o, 0) for o in ids), sum(venue_km.get(o, 0.0) for o in ids),
                b"".join(tie(o) for o in ids))

    def refresh(o: str) -> None:
        if o not in invited:
            push((o,))
        for c in links.get(o, ()):
            if c not in invited:
                push((c,))
                if o not in invited:
                    push((o, c) if o in pairs else (c, o))

    filling = True
    for a, bs in sorted(pairs.items()):
        for b in bs:
            if a not in invited and b not in invited:
                push((a, b))
    for o in sorted(links):
        if o not in invited:
            push((o,))
    heapq.heapify(heap)
    filling = False
    while len(chosen) < capacity and heap:
        key, stamp, ids, gain = heapq.heappop(heap)
        if stamp != version.get(ids) or not all(allowed(o) for o in ids) or len(chosen) + len(ids) > capacity:
            continue
        if key_of(ids, gain) != key:  # its carrier got represented meanwhile: queue it again, re-ranked
            heapq.heappush(heap, (key_of(ids, gain), stamp, ids, gain))
            continue
        if len(ids) == 2 and carrier.get(ids[0]) and carrier.get(ids[0]) == carrier.get(ids[1]) \
                and carrier_seats.get(carrier[ids[0]] or "", 0) + 2 > limit:
            continue
        touched: set[str] = set(ids)
        for o in ids:
            invited.add(o)
            chosen.append(o)
            gains[o] = gain
            slots[o] = PAIRS_PER_MSO
            c = carrier.get(o)
            if c:
                carrier_seats[c] = carrier_seats.get(c, 0) + 1
        if len(ids) == 2:  # the pair itself takes one slot of each
            slots[ids[0]] -= 1
            slots[ids[1]] -= 1
            assigned.add(frozenset(ids))
        for o in ids:
            for _w, other in open_links(o, slots[o]):
                slots[o] -= 1
                slots[other] -= 1
                assigned.add(frozenset((o, other)))
                touched.add(other)
        for o in touched:
            refresh(o)
    return chosen, gains


def _pairs_matched(chosen: set[str], pairs: dict[str, list[str]], weights: dict[str, float]
                   ) -> tuple[float, list[tuple[str, str]]]:
    """Objective value and the counted pairs: a maximum-weight choice of plausible pairs among ``chosen``
    with at most :data:`PAIRS_PER_MSO` pairs per organisation.

    A pair weighs what its MSO weighs, so the question is how many pairs each MSO gets. The vectors of
    pair counts that can be had at once form a polymatroid (the supplies of a flow network: MSO -> pair ->
    partner, each organisation with :data:`PAIRS_PER_MSO` places), and for those Edmonds' greedy rule is
    exact: MSOs by falling weight (equal weights in the seeded order of :data:`TIE_SEED`) each get as
    many pairs as augmenting paths allow, which may move earlier MSOs to other partners but never takes a
    pair away from them. Each path is searched breadth-first, an MSO's partners in the order of ``pairs``
    (nearest first). Equal in value to the linear programme (tested against scipy's HiGHS), without it.
    """
    partners_of = {a: [b for b in pairs[a] if b in chosen] for a in pairs if a in chosen}
    partners_of = {a: bs for a, bs in partners_of.items() if bs}
    if not partners_of:
        return 0.0, []
    if not partners_of.keys().isdisjoint(b for bs in partners_of.values() for b in bs):
        raise GraphError("Interner Fehler: eine Organisation ist zugleich MSO und Partner eines Paares.")
    load: dict[str, int] = {}  # pairs per organisation (both sides)
    used: dict[str, list[str]] = {}  # partner -> MSOs paired with it
    chosen_pairs: set[tuple[str, str]] = set()
    for a in sorted(partners_of, key=lambda a: (-weights[a], _tie(a))):
        while load.get(a, 0) < PAIRS_PER_MSO:
            path = _augmenting_path(a, partners_of, used, load, chosen_pairs)
            if path is None:
                break
            load[a] = load.get(a, 0) + 1
            load[path[-1]] = load.get(path[-1], 0) + 1
            for i in range(0, len(path) - 1, 2):  # a -> b new, b -> a' given up, a' -> b' new, ...
                mso, partner = path[i], path[i + 1]
                chosen_pairs.add((mso, partner))
                used.setdefault(partner, []).append(mso)
                if i + 2 < len(path):
                    follower = path[i + 2]
                    chosen_pairs.discard((follower, partner))
                    used[partner].remove(follower)
    matched = sorted(chosen_pairs)
    return sum(weights[a] for a, _ in matched), matched


def _augmenting_path(start: str, partners_of: dict[str, list[str]], used: dict[str, list[str]],
                     load: dict[str, int], chosen_pairs: set[tuple[str, str]]) -> list[str] | None:
    """Shortest path ``start, b, a', b', ...`` ending at a partner with a free place: unused pairs from MSO
    to partner, pairs in use back from partner to MSO. ``None`` if there is none."""
    came_from: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for a in frontier:
            for b in partners_of[a]:
                if b in came_from or (a, b) in chosen_pairs:
                    continue
                came_from[b] = a
                if load.get(b, 0) < PAIRS_PER_MSO:
                    path = [b]
                    node: str | None = a
                    while node is not None:
                        path.append(node)
                        node = came_from[node]
                    return path[::-1]
                for other in used.get(b, ()):
                    if other not in came_from:
                        came_from[other] = b
                        following.append(other)
        frontier = following
    return None


def _reasons(G, org: str, role: str, counted: dict[str, list[str]], partner_of: dict[str, list[str]],
             venue_km: dict[str, float], event_years: int, gains: dict[str, float], topic: str | None) -> list[str]:
    nodes = G._node

    def names(ids: list[str]) -> str:
        return names_text([nodes[o].get("name") or o for o in ids], 3)

    reasons: list[str] = []
    if role == "Veranstalter":
        reasons.append("Veranstaltet das Treffen (vorgegeben).")
    elif role == "isolierte MSO":
        reasons.append(f"MSO ohne Verbindung zu Regeldiensten (auch nicht über Veranstaltungen der letzten "
                       f"{event_years} Jahre) – zählt im Ziel doppelt.")
    mine = frozenset(nodes[org].get("sectors") or ())
    if counted.get(org):
        fits = []
        for b in counted[org]:
            shared, complementary = _sector_fit(mine, frozenset(nodes[b].get("sectors") or ()))
            fields = ", ".join(label("sector", s) for s in sorted(shared or complementary))
            fits.append(f"{nodes[b].get('name') or b} ({'gemeinsam' if shared else 'ergänzend'}: {fields})")
        reasons.append("Plausible neue Paare mit eingeladenen Partnern: " + "; ".join(fits) + ".")
    if partner_of.get(org):
        reasons.append(f"Passt als Partner außerhalb des Migrationsbereichs zu {names(partner_of[org])} "
                       "(noch nicht verbunden).")
    if org in gains:
        reasons.append(f"Beitrag zum Ziel bei der Auswahl: {_de(gains[org])} je Platz.")
    if org in venue_km:
        precision = LOCATION_PRECISIONS.get(nodes[org].get("location_precision") or "municipality",
                                            LOCATION_PRECISIONS["municipality"])
        reasons.append(f"Anreise ca. {_de(venue_km[org])} km, {precision}.")
    if topic:
        reasons.append(f"Arbeitet im Handlungsfeld {label('sector', topic)}.")
    return reasons


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
