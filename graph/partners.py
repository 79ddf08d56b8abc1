"""Tandem partner search: rank organisations outside the migration field for one MSO, with reasons."""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import networkx as nx

from msonet.graph.carriers import CARRIERS, carrier_of, is_migration_service, is_umbrella
from msonet.graph.errors import GraphError
from msonet.graph.lookup import get_organisation, vocabulary_key
from msonet.graph.vocabulary import (
    COMPLEMENTARY_SECTORS,
    LOCATION_PRECISIONS,
    MIGRATION_FIELD_TYPES,
    MSO_TYPES,
    ORG_TYPES,
    label,
    normalise_term,
)

__all__ = [
    "propose_partners",
    "PartnerIndex",
    "NotAnMSO",
    "lower_bound_km",
    "PARTNER_TYPES",
    "NON_PARTNER_TYPES",
    "WEIGHTS",
    "DIVERSITY_MARGIN",
    "MAX_TOP",
    "TIE_SEED",
    "distance_text",
    "check_top",
    "pool_size",
    "VIEW_CANDIDATES",
    "shortlist",
    "Sketch",
    "UNREAD",
]

#: Outside the migration field but not civil-society actors: funders and administrations are not
#: tandem partners "auf Augenhöhe".
NON_PARTNER_TYPES = frozenset({"state_ministry", "state_authority", "municipal_administration", "foundation"})
#: Organisation types that may be proposed as tandem partners.
PARTNER_TYPES = frozenset(ORG_TYPES) - MIGRATION_FIELD_TYPES - NON_PARTNER_TYPES
#: Weights of the score parts (they sum to 1, so the score lies between 0 and 1).
#: Chosen on evaluation seed 11 of ``python -m bench --only quality`` (docs/quality.md): distance and
#: common contacts carry most of the signal, sector fit little (most candidates fit some way).
WEIGHTS = {"sector": 0.10, "distance": 0.50, "proximity": 0.20, "openness": 0.05, "activity": 0.15}
SHARED_SECTOR_POINTS = 0.35  # per sector both work in
COMPLEMENTARY_SECTOR_POINTS = 0.25  # per complementary field (tandem project) only the candidate covers
DISTANCE_SCALE_KM = 5.0  # distance part = 1 / (1 + km / 5): 0 km -> 1, 5 km -> 0.5, 15 km -> 0.25
ACTIVITY_SCALE = 5.0  # activity part = min(1, ln(1 + contacts) / 5): 10 contacts -> 0.48, 147 -> 1
SAME_DISTRICT_UNKNOWN_DISTANCE = 0.3  # no coordinates, but the same Kreis
_CELL_LAT = 0.1  # degrees; grid cells of about 11 x 10 km in NRW
_CELL_LON = 0.15
_MARGIN = 1e-4  # safety margin when comparing rounded scores with an upper bound
#: Candidates whose scores lie within this margin of the best remaining one count as near-equal: among
#: them, one whose type and carrier are not yet in the list goes first (see :func:`propose_partners`).
DIVERSITY_MARGIN = 0.03
#: Most proposals one search returns (a larger ``top`` is refused at once, not computed).
MAX_TOP = 500
#: Seed of the fixed random order that decides between candidates with equal score and distance.
TIE_SEED = 2024
_PRECISION_RANK = {key: rank for rank, key in enumerate(LOCATION_PRECISIONS)}
#: Key in ``G.graph`` of a partial graph (a store's :meth:`~graph.store.GraphStore.partner_view`): the
#: organisations whose own ties the graph holds completely. The search scores only these; every other
#: candidate was proven unable to reach the list (see :func:`shortlist`).
VIEW_CANDIDATES = "msonet_partner_candidates"


class NotAnMSO(GraphError):
    """The organisation a partner search was asked for is not a migrant organisation."""


@dataclass(frozen=True, slots=True)
class _Located:
    """What a partner search compares of the asking MSO and of each candidate: fields and place."""

    id: str
    sectors: frozenset[str]
    point: tuple[float, float] | None
    ags: str | None
    district: str | None
    city_key: str


@dataclass(frozen=True, slots=True)
class _Candidate(_Located):
    tandems: tuple[str, ...]
    org_type: str = ""
    carrier: str | None = None
    precision: str | None = None
    umbrella: bool = False
    migration_service: bool = False
    activity: float = 0.0


@dataclass(frozen=True, slots=True)
class _Query(_Located):
    tied: frozenset[str]
    proximity: dict[str, tuple[float, tuple[str, ...]]]  # candidate -> (part, common contacts)
    sector_filter: str | None
    max_km: float | None
    fits: dict[frozenset[str], float]  # memo: candidate sector set -> sector part
    precision: str | None = None
    include_umbrella: bool = False
    include_migration_services: bool = False

    def fit(self, sectors: frozenset[str]) -> float:
        """Sector part for a candidate working in ``sectors`` (monotone: more sectors never score less)."""
        value = self.fits.get(sectors)
        if value is None:
            shared = len(self.sectors & sectors)
            complementary = len((sectors & COMPLEMENTARY_SECTORS) - self.sectors)
            value = self.fits[sectors] = min(1.0, SHARED_SECTOR_POINTS * shared
                                             + COMPLEMENTARY_SECTOR_POINTS * complementary)
        return value


def _point(data: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = data.get("lat"), data.get("lon")
    if lat is None or lon is None:
        return None
    try:
        return (float(lat), float(lon))
    except (TypeError, ValueError):
        return None


def _org_neighbours(G: nx.MultiDiGraph, node: str) -> set[str]:
    node_data = G._node  # the plain dict: NodeView lookups cost 3x on hubs with thousands of ties
    found = {o for o in G._succ[node] if node_data[o].get("kind") == "organisation"}
    found.update(o for o in G._pred[node] if node_data[o].get("kind") == "organisation")
    found.discard(node)
    return found


def _tandem_partners(G: nx.MultiDiGraph, node: str) -> tuple[str, ...]:
    found = set()
    for adjacency in (G._succ[node], G._pred[node]):
        for other, keydict in adjacency.items():
            if any(d.get("type") == "tandem_partner" for d in keydict.values()):
                found.add(other)
    return tuple(sorted(found))


def _precision(data: dict[str, Any]) -> str | None:
    if _point(data) is None:
        return None
    return data.get("location_precision") or "municipality"


def _activity(contacts: int) -> float:
    return min(1.0, math.log1p(contacts) / ACTIVITY_SCALE)


def _candidate(G: nx.MultiDiGraph, node: str, data: dict[str, Any]) -> _Candidate:
    return _Candidate(node, frozenset(data.get("sectors") or ()), _point(data), data.get("ags"),
                      data.get("district"), normalise_term(data.get("city") or ""), _tandem_partners(G, node),
                      data.get("org_type") or "", carrier_of(G, node), _precision(data), is_umbrella(G, node, data),
                      is_migration_service(data), _activity(len(_org_neighbours(G, node))))


def _proximity(G: nx.MultiDiGraph, mso: str, tied: set[str]) -> dict[str, tuple[float, tuple[str, ...]]]:
    """Adamic-Adar over direct ties: each common contact adds 1/ln(1 + its number of contacts), so a
    contact with few ties (who knows both well) counts more than a large umbrella; capped at 1."""
    common: dict[str, list[str]] = {}
    degree: dict[str, int] = {}
    for contact in sorted(tied):
        neighbours = _org_neighbours(G, contact)  # once per contact: hubs have thousands
        degree[contact] = len(neighbours)
        for other in neighbours:
            if other != mso and other not in tied:
                common.setdefault(other, []).append(contact)
    result = {}
    for other, contacts in common.items():
        total = 0.0
        for contact in contacts:  # sorted, so the float sum is the same in every run
            total += 1.0 / math.log(1 + degree[contact])
        result[other] = (min(1.0, total), tuple(contacts))
    return result


_EARTH_RADIUS_KM = 6371.0088
# The WGS84 metric is at least (a(1-e^2) / 6371.0088)^2 = 0.9944^2 times the sphere's in every
# direction, so the geodesic is never shorter than 0.9944 x the great-circle distance; 0.99 adds slack.
_LOWER_BOUND_FACTOR = 0.99


_WGS84_A_KM = 6378.137
_WGS84_F = 1 / 298.257223563


def ellipsoid_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in km between two (lat, lon) points on the WGS84 ellipsoid (Lambert's formula).

    Lambert's correction of the great circle on reduced latitudes differs from the exact geodesic
    (geopy's ``geodesic``, Karney's algorithm) by under 1 m for any two points in and around NRW
    (tested), and costs about 2 µs instead of 70 µs in pure Python – the partner and cohort searches
    compute tens of thousands of distances.
    """
    if a == b:
        return 0.0
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    beta1 = math.atan((1 - _WGS84_F) * math.tan(lat1))
    beta2 = math.atan((1 - _WGS84_F) * math.tan(lat2))
    h = (math.sin((beta2 - beta1) / 2) ** 2
         + math.cos(beta1) * math.cos(beta2) * math.sin((lon2 - lon1) / 2) ** 2)
    sigma = 2 * math.asin(min(1.0, math.sqrt(h)))
    if sigma == 0.0:
        return 0.0
    mid, half = (beta1 + beta2) / 2, (beta2 - beta1) / 2
    x = (sigma - math.sin(sigma)) * math.sin(mid) ** 2 * math.cos(half) ** 2 / math.cos(sigma / 2) ** 2
    y = (sigma + math.sin(sigma)) * math.cos(mid) ** 2 * math.sin(half) ** 2 / math.sin(sigma / 2) ** 2
    return _WGS84_A_KM * (sigma - _WGS84_F / 2 * (x + y))


def lower_bound_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """A cheap distance that is never larger than :func:`ellipsoid_km` (great circle x 0.99)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return _LOWER_BOUND_FACTOR * 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _distance_part(km: float) -> float:
    return 1.0 / (1.0 + km / DISTANCE_SCALE_KM)


def _same_place(q: _Query, c: _Candidate) -> bool:
    return bool((q.ags and q.ags == c.ags) or (q.city_key and q.city_key == c.city_key))


_Parts = tuple[float, float, float, float, float]  # sector, distance, proximity, openness, activity (unrounded)
_PART_NAMES = ("sector", "distance", "proximity", "openness", "activity")


def _score(q: _Query, c: _Candidate, km: float | None) -> tuple[float, _Parts] | None:
    """Score of one candidate and its raw parts, or ``None`` if it is not eligible (tied, filtered,
    too far). The hot path of every search: the parts are rounded only for the rows shown."""
    if c.id == q.id or c.id in q.tied:
        return None
    if (c.umbrella and not q.include_umbrella) or (c.migration_service and not q.include_migration_services):
        return None
    if q.sector_filter and q.sector_filter not in c.sectors:
        return None
    if q.max_km is not None:
        if km is None and not _same_place(q, c):
            return None
        if km is not None and km > q.max_km:
            return None
    sector = q.fit(c.sectors)
    if km is not None:
        distance = _distance_part(km)
    elif _same_place(q, c):
        distance = 1.0
    elif q.district and q.district == c.district:
        distance = SAME_DISTRICT_UNKNOWN_DISTANCE
    else:
        distance = 0.0
    proximity = q.proximity[c.id][0] if c.id in q.proximity else 0.0
    openness = 1.0 / (1 + len(c.tandems))
    total = (WEIGHTS["sector"] * sector + WEIGHTS["distance"] * distance
             + WEIGHTS["proximity"] * proximity + WEIGHTS["openness"] * openness + WEIGHTS["activity"] * c.activity)
    return round(total, 4), (sector, distance, proximity, openness, c.activity)


def _km(a: tuple[float, float] | None, b: tuple[float, float] | None,
        cache: dict[tuple[tuple[float, float], tuple[float, float]], float]) -> float | None:
    if a is None or b is None:
        return None
    if a == b:
        return 0.0
    key = (a, b) if a < b else (b, a)  # the distance is symmetric: one entry per pair
    km = cache.get(key)
    if km is None:
        km = cache[key] = ellipsoid_km(a, b)
    return km


def _query(G: nx.MultiDiGraph, org_id: str, sector: str | None, max_km: float | None,
           include_umbrella: bool = False, include_migration_services: bool = False) -> _Query:
    if max_km is not None and not (isinstance(max_km, int | float) and math.isfinite(max_km)):
        raise GraphError(f"Die höchste Entfernung muss eine Zahl in km sein (angegeben: {max_km}).")
    data = get_organisation(G, org_id)
    if data.get("org_type") not in MSO_TYPES:
        raise NotAnMSO(
            f"„{data.get('name') or org_id}“ ist keine MSO (Typ: {label('org_type', data.get('org_type') or '')}). "
            "Die Tandem-Suche sucht Partner für eine Migrant*innenorganisation (MSO, MSO-Verbund oder "
            "MSO-Dachverband); bitte eine solche Organisation wählen.")
    if max_km is not None and not max_km >= 0:  # also nan, which no comparison would ever exclude
        raise GraphError(f"Die höchste Entfernung muss eine Zahl ab 0 km sein (angegeben: {max_km}).")
    tied = _org_neighbours(G, org_id)
    return _Query(org_id, frozenset(data.get("sectors") or ()), _point(data), data.get("ags"),
                  data.get("district"), normalise_term(data.get("city") or ""), frozenset(tied),
                  _proximity(G, org_id, tied), vocabulary_key("sector", sector) if sector else None, max_km, {},
                  _precision(data), include_umbrella, include_migration_services)


def _de(number: float) -> str:
    return f"{number:.1f}".replace(".", ",")


def _de2(number: float) -> str:
    return f"{number:.2f}".replace(".", ",")


def _coarser(a: str | None, b: str | None) -> str:
    ranks = [_PRECISION_RANK.get(p or "municipality", 2) for p in (a, b)]
    return next(k for k, v in _PRECISION_RANK.items() if v == max(ranks))


def distance_text(km: float, precision_a: str | None, precision_b: str | None) -> str:
    """``"ca. 3,2 km, nach Postleitzahl"``: the distance with the coarser precision of its two points."""
    return f"ca. {_de(km)} km, {LOCATION_PRECISIONS[_coarser(precision_a, precision_b)]}"


def _tie_key(query_id: str, candidate_id: str) -> bytes:
    """A fixed random order (seeded with :data:`TIE_SEED`) for candidates equal in score and distance."""
    return hashlib.blake2b(f"{TIE_SEED}|{query_id}|{candidate_id}".encode(), digest_size=8).digest()


def _rank_key(query_id: str, score: float, cid: str, km: float | None) -> tuple[float, float, bytes]:
    return (-score, km if km is not None else math.inf, _tie_key(query_id, cid))


def _sector_names(keys: Iterable[str]) -> str:
    return ", ".join(label("sector", k) for k in sorted(keys, key=lambda k: label("sector", k)))


def _row(G: nx.MultiDiGraph, q: _Query, c: _Candidate, km: float | None, score: float,
         parts: dict[str, float]) -> dict[str, Any]:
    data = G.nodes[c.id]
    nodes = G.nodes
    reasons = []
    shared = q.sectors & c.sectors
    complementary = (c.sectors & COMPLEMENTARY_SECTORS) - q.sectors
    if shared:
        reasons.append(f"Gemeinsame Handlungsfelder: {_sector_names(shared)}.")
    if complementary:
        reasons.append(f"Ergänzendes Handlungsfeld (wie im Tandemprojekt): {_sector_names(complementary)}.")
    if not shared and not complementary:
        reasons.append("Keine gemeinsamen oder ergänzenden Handlungsfelder erfasst.")
    city = data.get("city") or "Ort unbekannt"
    precision = _coarser(q.precision, c.precision)
    if km is not None and km < 0.05 and precision == "postcode":
        # both points are the same postcode's centre: "ca. 0,0 km" would claim a precision nobody has
        postcode = f", PLZ {data['postcode']}" if data.get("postcode") else ""
        reasons.append(f"Gleiche Postleitzahl ({city}{postcode}); genauer Abstand unbekannt, da nur die "
                       "Postleitzahl bekannt ist.")
    elif km is not None and (km >= 0.05 or precision == "address"):
        where = f"{city}, PLZ {data['postcode']}" if data.get("postcode") and c.precision == "postcode" else city
        reasons.append(f"Entfernung {distance_text(km, q.precision, c.precision)} ({where}).")
    elif km is not None or _same_place(q, c):  # under 50 m apart, or no coordinates but the same place
        reasons.append(f"Im selben Ort ({city}); genauer Abstand unbekannt, da nur der Ort bekannt ist.")
    elif q.district and q.district == c.district:
        reasons.append(f"Im selben Kreis ({city}); Entfernung unbekannt, da Koordinaten fehlen.")
    else:
        reasons.append(f"Entfernung unbekannt, da Koordinaten fehlen ({city}).")
    common = q.proximity.get(c.id, (0.0, ()))[1]
    if common:
        names = sorted((nodes[i].get("name") or i for i in common), key=normalise_term)
        shown = ", ".join(names[:5]) + (f" und {len(names) - 5} weitere" if len(names) > 5 else "")
        reasons.append(f"Gemeinsame Kontakte: {shown} – sie können das Kennenlernen erleichtern.")
    if c.tandems:
        names = sorted((nodes[i].get("name") or i for i in c.tandems), key=normalise_term)
        reasons.append(f"Bereits Tandempartner von {', '.join(names)} (weniger freie Kapazität).")
    else:
        reasons.append("Noch in keinem Tandem.")
    contacts = len(_org_neighbours(G, c.id))
    if contacts:
        reasons.append(f"Vernetzt mit {contacts} Organisation{'en' if contacts > 1 else ''} – aktive Organisationen "
                       "gehen eher neue Kooperationen ein.")
    return {
        "id": c.id, "name": data.get("name") or c.id, "org_type": data.get("org_type"),
        "org_type_label": label("org_type", data.get("org_type") or ""), "city": data.get("city"),
        "district": data.get("district"), "sectors": sorted(c.sectors),
        "distance_km": round(km, 1) if km is not None else None,
        "distance_precision": precision if km is not None else None,
        "lat": c.point[0] if c.point else None, "lon": c.point[1] if c.point else None,
        "carrier": CARRIERS.get(c.carrier or ""), "score": score, "parts": parts,
        "common_contacts": list(common), "reasons": reasons,
    }


class PartnerIndex:
    """Candidates of the partner search prepared once for fast repeated searches.

    Every candidate's properties that a search compares are held as numpy columns: its point (an index
    into the distinct municipality/postcode/address points), its sector set (an index into the distinct
    sets), its place and district codes, its exclusion flags and its openness plus activity, which do not
    depend on the MSO. A search scores all candidates at once with these columns (the ellipsoid distance
    to every distinct point in one vectorised step) and then walks them from the highest of these
    approximate scores down, computing each one's score exactly as the scan does (:func:`_score`, the
    ellipsoid distance in plain Python). The walk stops once the current top list's lowest exact score
    lies more than :data:`_MARGIN` above the next approximate score: the vectorised and the plain
    distance differ by far less than a millimetre, rounding to four decimals by at most 0.00005, so no
    candidate left can reach the list. The results therefore equal the brute-force scan. Exact distances
    are cached. Build a new index after the data changed.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    """

    def __init__(self, G: nx.MultiDiGraph):
        import numpy as np

        self.candidates: dict[str, _Candidate] = {}
        self.distances: dict[tuple[tuple[float, float], tuple[float, float]], float] = {}
        only = G.graph.get(VIEW_CANDIDATES)  # a partial graph: only its completely read candidates
        for node, data in G.nodes(data=True):
            if only is not None and node not in only:
                continue
            if data.get("kind") == "organisation" and data.get("org_type") in PARTNER_TYPES:
                self.candidates[node] = _candidate(G, node, data)
        # A fixed order of the columns (by id); it never decides a ranking (see search).
        self._ids = sorted(self.candidates)
        self._position = {cid: i for i, cid in enumerate(self._ids)}
        cands = [self.candidates[cid] for cid in self._ids]
        points = sorted({c.point for c in cands if c.point is not None})
        point_index = {p: k for k, p in enumerate(points)}
        point = np.array([point_index[c.point] if c.point is not None else -1 for c in cands], dtype=np.int64)
        self._has_point = point >= 0
        self._point_or_0 = np.where(self._has_point, point, 0)
        lat = np.radians(np.array([p[0] for p in points], dtype=float))
        self._lon = np.radians(np.array([p[1] for p in points], dtype=float))
        self._beta = np.arctan((1 - _WGS84_F) * np.tan(lat))
        self._sector_sets = sorted({c.sectors for c in cands}, key=sorted)
        set_index = {s: k for k, s in enumerate(self._sector_sets)}
        self._sector_set = np.array([set_index[c.sectors] for c in cands], dtype=np.int64)
        # which sectors each distinct set holds (one column per sector): the sector fit of every set at once
        self._sector_names = sorted(frozenset().union(*self._sector_sets))
        self._set_holds = np.array([[name in s for name in self._sector_names] for s in self._sector_sets],
                                   dtype=np.int64).reshape(len(self._sector_sets), len(self._sector_names))
        self._complementary = np.array([name in COMPLEMENTARY_SECTORS for name in self._sector_names], dtype=bool)
        self._codes: dict[str, dict[str, int]] = {"ags": {}, "city": {}, "district": {}}

        def codes(field: str, values: list[str | None]) -> Any:
            table = self._codes[field]
            return np.array([table.setdefault(v, len(table)) if v else -1 for v in values], dtype=np.int64)

        self._ags = codes("ags", [c.ags for c in cands])
        self._city = codes("city", [c.city_key for c in cands])
        self._district = codes("district", [c.district for c in cands])
        self._umbrella = np.array([c.umbrella for c in cands], dtype=bool)
        self._migration_service = np.array([c.migration_service for c in cands], dtype=bool)
        self._free = np.array([WEIGHTS["openness"] / (1 + len(c.tandems)) + WEIGHTS["activity"] * c.activity
                               for c in cands], dtype=float)
        self._fits: dict[frozenset[str], Any] = {}  # MSO sector set -> fit of each candidate sector set
        self._with_sector: dict[str, Any] = {}  # sector filter -> which candidate sector sets hold it

    def __len__(self) -> int:
        return len(self.candidates)

    def _code(self, field: str, value: str | None) -> int:
        """The column code of a query's ``ags``/``city``/``district``: -1 (matches nothing) if unset or unknown."""
        return self._codes[field].get(value, -1) if value else -1

    def _km_to_points(self, point: tuple[float, float]) -> Any:
        """:func:`ellipsoid_km` from ``point`` to every distinct candidate point, vectorised (same formula)."""
        import numpy as np

        lat1, lon1 = math.radians(point[0]), math.radians(point[1])
        beta1 = math.atan((1 - _WGS84_F) * math.tan(lat1))
        beta2 = self._beta
        h = np.sin((beta2 - beta1) / 2) ** 2 + math.cos(beta1) * np.cos(beta2) * np.sin((self._lon - lon1) / 2) ** 2
        sigma = 2 * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        mid, half = (beta1 + beta2) / 2, (beta2 - beta1) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            x = (sigma - np.sin(sigma)) * np.sin(mid) ** 2 * np.cos(half) ** 2 / np.cos(sigma / 2) ** 2
            y = (sigma + np.sin(sigma)) * np.cos(mid) ** 2 * np.sin(half) ** 2 / np.sin(sigma / 2) ** 2
            km = _WGS84_A_KM * (sigma - _WGS84_F / 2 * (x + y))
        return np.where(sigma == 0.0, 0.0, km)

    def _approximate(self, q: _Query) -> tuple[Any, Any]:
        """Every candidate's score as :func:`_score` computes it (up to float noise, unrounded) and whether it
        may be eligible at all (a candidate just at ``max_km`` is left to the exact check)."""
        import numpy as np

        fits = self._fits.get(q.sectors)
        if fits is None:  # _Query.fit for every distinct set: the same integer counts and float operations
            mine = np.array([name in q.sectors for name in self._sector_names], dtype=bool)
            shared = self._set_holds @ mine.astype(np.int64)
            complementary = self._set_holds @ (self._complementary & ~mine).astype(np.int64)
            fits = self._fits[q.sectors] = np.minimum(1.0, SHARED_SECTOR_POINTS * shared
                                                      + COMPLEMENTARY_SECTOR_POINTS * complementary)
        eligible = np.ones(len(self._ids), dtype=bool)
        if not q.include_umbrella:
            eligible &= ~self._umbrella
        if not q.include_migration_services:
            eligible &= ~self._migration_service
        if q.sector_filter:
            holds = self._with_sector.get(q.sector_filter)
            if holds is None:
                holds = self._with_sector[q.sector_filter] = np.array(
                    [q.sector_filter in s for s in self._sector_sets], dtype=bool)
            eligible &= holds[self._sector_set]
        for cid in (q.id, *q.tied):
            position = self._position.get(cid)
            if position is not None:
                eligible[position] = False
        ags, city = self._code("ags", q.ags), self._code("city", q.city_key)
        same_place = ((self._ags == ags) & (ags >= 0)) | ((self._city == city) & (city >= 0))
        district = self._code("district", q.district)
        distance = np.where(same_place, 1.0, np.where((self._district == district) & (district >= 0),
                                                      SAME_DISTRICT_UNKNOWN_DISTANCE, 0.0))
        if q.point is not None and len(self._beta):
            km = self._km_to_points(q.point)[self._point_or_0]
            distance = np.where(self._has_point, 1.0 / (1.0 + km / DISTANCE_SCALE_KM), distance)
            if q.max_km is not None:
                eligible &= np.where(self._has_point, km <= q.max_km + 1e-6, same_place)
        elif q.max_km is not None:
            eligible &= same_place
        score = WEIGHTS["sector"] * fits[self._sector_set] + WEIGHTS["distance"] * distance + self._free
        for cid, (part, _common) in q.proximity.items():
            position = self._position.get(cid)
            if position is not None:
                score[position] += WEIGHTS["proximity"] * part
        return score, eligible

    def search(self, q: _Query, top: int) -> list[tuple[float, str, float | None, _Parts]]:
        """Top ``top`` ``(score, id, km, parts)`` for a query; equal to a scan of all candidates."""
        import numpy as np

        approx, eligible = self._approximate(q)
        found: dict[str, tuple[float, float | None, _Parts]] = {}
        heap: list[float] = []  # the ``top`` best exact scores so far (smallest first)
        candidates, ids = self.candidates, self._ids
        for position, bound in _falling(approx, np.flatnonzero(eligible), 4 * top + 64):
            if len(heap) == top and heap[0] > bound + _MARGIN:
                break
            cand = candidates[ids[position]]
            km = _km(q.point, cand.point, self.distances)
            scored = _score(q, cand, km)
            if scored is None:
                continue
            found[cand.id] = (scored[0], km, scored[1])
            if len(heap) < top:
                heapq.heappush(heap, scored[0])
            elif scored[0] > heap[0]:
                heapq.heapreplace(heap, scored[0])
        ranked = sorted(found.items(), key=lambda kv: _rank_key(q.id, kv[1][0], kv[0], kv[1][1]))[:top]
        return [(score, cid, km, parts) for cid, (score, km, parts) in ranked]


def _falling(values: Any, positions: Any, head: int) -> Iterator[tuple[int, float]]:
    """``(position, value)`` for ``positions`` by falling ``values``: the first ``head`` by a partial sort, the
    rest sorted only if the caller gets that far (most searches stop within the first few dozen)."""
    import numpy as np

    if len(positions) > head:
        first = np.argpartition(-values[positions], head - 1)[:head]
        rest = np.ones(len(positions), dtype=bool)
        rest[first] = False
        parts = [positions[first], positions[rest]]
    else:
        parts = [positions]
    for part in parts:
        part = part[np.argsort(-values[part], kind="stable")]
        yield from zip(part.tolist(), values[part].tolist(), strict=True)


#: A partial search (:func:`shortlist`) that would have to read the ties of more than this share of all
#: candidates gives up: reading the whole graph at once is cheaper then.
SHORTLIST_GIVE_UP = 0.5


#: :class:`Sketch` field value of a property the store did not read (the bound then assumes the best case).
UNREAD = object()


class Sketch(NamedTuple):
    """A candidate as its node row tells it, without its ties: what :func:`shortlist` bounds the score with.

    Each field equals what the search derives from the organisation's properties (``sectors`` as a
    frozenset, ``point`` as ``(lat, lon)`` floats or ``None``, ``district``, ``city`` and ``ags`` as
    stored). ``ags`` may be :data:`UNREAD` where a distance is known (it only matters without one).
    Plain tuples in this field order work as well.
    """

    id: str
    sectors: frozenset[str]
    point: tuple[float, float] | None
    district: Any
    city: Any
    ags: Any = UNREAD


def shortlist(
    G: nx.MultiDiGraph,
    org_id: str,
    sketches: Iterable[Sketch],
    read_ties: Callable[[list[str]], None],
    *,
    top: int = 10,
    max_km: float | None = None,
    sector: str | None = None,
    include_umbrella: bool = False,
    include_migration_services: bool = False,
    diversify: bool = True,
    **_ignored: Any,
) -> frozenset[str] | None:
    """The candidates a partial graph must hold with all their ties so that :func:`propose_partners` on it
    gives the same list as on the whole graph; ``None`` when no useful bound holds.

    For stores that read a graph piece by piece (:meth:`graph.store.EmbeddedStore.partner_view`). Every
    part of the score except openness and activity follows from a candidate's own properties and the
    MSO's two-hop neighbourhood: sector fit, the distance (a lower bound of the geodesic, see
    :func:`lower_bound_km`, or exactly the same-place/same-district rule without coordinates) and common
    contacts. Openness and activity are at most 1 each. Candidates are taken in order of this upper bound,
    a batch at a time: ``read_ties`` adds them with all their ties to ``G``, then their exact scores are
    known. The walk stops once the ``pool`` best exact scores (:func:`pool_size`, what the list is picked
    from, diversity included) all lie above the next bound: no candidate left can enter that pool, so
    ranking and diversity see the same candidates as on the whole graph.

    Parameters
    ----------
    G
        A graph holding the MSO and each of its contact organisations with all their ties, and the nodes at
        the other ends. Changed in place (``read_ties``).
    sketches
        Every organisation of a partner type (:data:`PARTNER_TYPES`), see :class:`Sketch`.
    read_ties
        Adds the given organisations with all their ties, and the nodes at the other ends, to ``G``.
    top, max_km, sector, include_umbrella, include_migration_services, diversify
        The search, as in :func:`propose_partners` (errors are raised as there).
    """
    check_top(top)
    q = _query(G, org_id, sector, max_km, include_umbrella, include_migration_services)
    pool = pool_size(top, diversify)
    w_sector, w_distance, w_proximity = WEIGHTS["sector"], WEIGHTS["distance"], WEIGHTS["proximity"]
    free = WEIGHTS["openness"] + WEIGHTS["activity"]  # both parts are at most 1
    bounds: list[tuple[float, str]] = []
    near_of: dict[tuple[float, float], float] = {}
    city_keys: dict[Any, str] = {}

    def city_key(city: Any) -> str:
        if not isinstance(city, str):
            return normalise_term(city or "")
        key = city_keys.get(city)
        if key is None:
            key = city_keys[city] = normalise_term(city or "")
        return key

    for cid, sectors, point, district, city, ags in sketches:
        if cid == q.id or cid in q.tied:
            continue
        if q.sector_filter and q.sector_filter not in sectors:
            continue
        if q.point is not None and point is not None:
            near = near_of.get(point)
            if near is None:
                near = near_of[point] = lower_bound_km(q.point, point) if point != q.point else 0.0
            if q.max_km is not None and near > q.max_km:
                continue
            distance = _distance_part(near)
        else:  # no distance: the rule of _score (an unread ags may be the same place)
            same = bool((q.ags and (ags is UNREAD or q.ags == ags))
                        or (q.city_key and q.city_key == city_key(city)))
            if q.max_km is not None and not same:
                continue
            distance = (1.0 if same else SAME_DISTRICT_UNKNOWN_DISTANCE
                        if q.district and q.district == district else 0.0)
        proximity = q.proximity[cid][0] if cid in q.proximity else 0.0
        bounds.append((-(w_sector * q.fit(sectors) + w_distance * distance + w_proximity * proximity + free), cid))
    bounds.sort()
    chosen: set[str] = set()
    heap: list[float] = []  # the pool best exact scores so far (smallest first)
    cache: dict[tuple[tuple[float, float], tuple[float, float]], float] = {}
    done, size = 0, 2 * pool
    give_up = SHORTLIST_GIVE_UP * len(bounds)
    while done < len(bounds):
        if len(heap) == pool and heap[0] > -bounds[done][0] + _MARGIN:
            break  # no candidate left can reach the pool
        if done > give_up:
            return None
        batch = [cid for _bound, cid in bounds[done:done + size]]
        done += len(batch)
        size = min(2 * size, 2048)
        read_ties(batch)
        for cid in batch:
            chosen.add(cid)
            cand = _candidate(G, cid, G._node[cid])
            scored = _score(q, cand, _km(q.point, cand.point, cache))
            if scored is None:
                continue
            if len(heap) < pool:
                heapq.heappush(heap, scored[0])
            elif scored[0] > heap[0]:
                heapq.heapreplace(heap, scored[0])
    return frozenset(chosen)


def _scan(G: nx.MultiDiGraph, q: _Query, top: int) -> list[tuple[float, str, float | None, _Parts]]:
    cache: dict[tuple[tuple[float, float], tuple[float, float]], float] = {}
    scored = []
    only = G.graph.get(VIEW_CANDIDATES)
    for node, data in G._node.items():
        if data.get("kind") != "organisation" or data.get("org_type") not in PARTNER_TYPES:
            continue
        if only is not None and node not in only:
            continue
        cand = _candidate(G, node, data)
        km = _km(q.point, cand.point, cache)
        result = _score(q, cand, km)
        if result is not None:
            scored.append((result[0], node, km, result[1]))
    scored.sort(key=lambda s: _rank_key(q.id, s[0], s[1], s[2]))
    return scored[:top]


def _diversify(G: nx.MultiDiGraph, ranked: list[tuple[float, str, float | None, _Parts]],
               candidates: dict[str, _Candidate], top: int) -> tuple[list[tuple[float, str, float | None, _Parts]],
                                                                     dict[str, str]]:
    """Pick ``top`` rows from the score order so that near-equal candidates are not a block of one kind.

    Step by step: the candidates within :data:`DIVERSITY_MARGIN` of the best remaining score are near-equal;
    among them the one whose type and carrier occur least often in the list so far goes first (then the
    score order). Returns the rows and, for each row moved ahead, the reason text.
    """
    remaining = list(ranked)
    picked: list[tuple[float, str, float | None, _Parts]] = []
    types: dict[str, int] = {}
    carriers: dict[str, int] = {}
    notes: dict[str, str] = {}

    def repeats(cid: str) -> int:
        c = candidates[cid]
        return types.get(c.org_type, 0) + (carriers.get(c.carrier, 0) if c.carrier else 0)

    while remaining and len(picked) < top:
        best = remaining[0][0]
        window = [i for i, row in enumerate(remaining) if row[0] >= best - DIVERSITY_MARGIN - 1e-9]
        choice = min(window, key=lambda i: (repeats(remaining[i][1]), i))
        row = remaining.pop(choice)
        if choice > 0:
            passed = [r for r in remaining[:choice] if repeats(r[1]) > repeats(row[1])]
            if passed:
                first = candidates[passed[0][1]]
                what = label("org_type", first.org_type)
                if first.carrier and carriers.get(first.carrier):
                    what += f", {CARRIERS[first.carrier]}"
                name = G.nodes[first.id].get("name") or first.id
                notes[row[1]] = (f"Für Vielfalt vorgezogen: steht vor „{name}“ ({what}), obwohl diese "
                                 f"{_de2(passed[0][0] - row[0])} Punkte mehr hat (höchstens "
                                 f"{_de2(DIVERSITY_MARGIN)} gelten als gleichwertig) – Organisationen dieser Art "
                                 "stehen schon weiter oben in der Liste.")
        c = candidates[row[1]]
        types[c.org_type] = types.get(c.org_type, 0) + 1
        if c.carrier:
            carriers[c.carrier] = carriers.get(c.carrier, 0) + 1
        picked.append(row)
    return picked, notes


def pool_size(top: int, diversify: bool = True) -> int:
    """How many best-scored candidates the list of ``top`` proposals is picked from (diversity needs more)."""
    return max(3 * top, top + 20) if diversify else top


def check_top(top: object, *, maximum: int = MAX_TOP, what: str = "Vorschläge") -> int:
    """``top`` as an int between 1 and ``maximum``, or a German error (answered at once)."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= maximum:
        raise GraphError(f"Bitte zwischen 1 und {maximum} {what} anfordern (angegeben: {top}).")
    return top


def propose_partners(
    G: nx.MultiDiGraph,
    org_id: str,
    *,
    top: int = 10,
    max_km: float | None = None,
    sector: str | None = None,
    index: PartnerIndex | None = None,
    include_umbrella: bool = False,
    include_migration_services: bool = False,
    diversify: bool = True,
) -> list[dict[str, Any]]:
    """Rank tandem partners outside the migration field for one MSO.

    Candidates are organisations of a type in :data:`PARTNER_TYPES` (outside the migration field,
    no funders/administrations) that have no direct tie to the MSO yet (already tied ones are left
    out: a tandem should create a new tie). Umbrella and state-level bodies
    (:func:`msonet.graph.carriers.is_umbrella`) and migration-specific services
    (:func:`msonet.graph.carriers.is_migration_service`) are left out unless asked for. The score (0-1) is
    the weighted sum (:data:`WEIGHTS`) of

    - ``sector``: 0.35 per shared sector + 0.25 per complementary field of the tandem project
      (:data:`graph.vocabulary.COMPLEMENTARY_SECTORS`) only the candidate covers, at most 1;
    - ``distance``: ``1 / (1 + km/5)`` of the ellipsoid distance (:func:`ellipsoid_km`, within 1 m of
      the geodesic) between the best known points
      (street address, else postcode, else municipality); without coordinates 1 for the same
      municipality/city, 0.3 for the same district, else 0;
    - ``proximity``: common contacts (Adamic-Adar over direct ties, at most 1);
    - ``openness``: ``1 / (1 + number of tandems the candidate already has)``;
    - ``activity``: ``min(1, ln(1 + contacts) / 5)`` - organisations with many ties take up new ones more
      often (in the benchmark data as in surveys of active associations).

    Order: by score; equal scores by distance, then by a fixed random order (:data:`TIE_SEED`), never
    by name. With ``diversify`` candidates within :data:`DIVERSITY_MARGIN` of the best remaining score
    are near-equal, and among them one whose type and carrier are not yet in the list goes first
    (such rows say so in their reasons).

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    org_id
        Id of the MSO (types :data:`graph.vocabulary.MSO_TYPES`).
    top
        Number of proposals, 1 to :data:`MAX_TOP`.
    max_km
        Leave out candidates farther away (without coordinates: unless in the same place).
    sector
        Only candidates working in this sector (key or German label).
    index
        A :class:`PartnerIndex` of the same graph for fast searches; ``None`` scans all
        organisations. Both give identical results.
    include_umbrella, include_migration_services
        Also propose umbrella/state-level bodies, migration-specific services.
    diversify
        Reorder near-equal candidates for variety (``False``: pure score order).

    Returns
    -------
    Rows ``{id, name, org_type, org_type_label, city, district, sectors, distance_km,
    distance_precision, lat, lon, carrier, score, parts: {sector, distance, proximity, openness, activity},
    common_contacts, reasons}``.

    Raises
    ------
    NotFound
        ``org_id`` is not an organisation.
    NotAnMSO
        The organisation is not an MSO.
    GraphError
        ``top`` or ``max_km`` out of range.
    """
    check_top(top)
    q = _query(G, org_id, sector, max_km, include_umbrella, include_migration_services)
    pool = pool_size(top, diversify)
    ranked = index.search(q, pool) if index is not None else _scan(G, q, pool)
    if index is not None:
        candidates = index.candidates  # every ranked id is one of them
    else:
        candidates = {cid: _candidate(G, cid, G.nodes[cid]) for _score_value, cid, _km_value, _raw in ranked}
    notes: dict[str, str] = {}
    if diversify:
        ranked, notes = _diversify(G, ranked, candidates, top)
    rows = []
    for score, cid, km, raw in ranked:
        parts = {name: round(value, 4) for name, value in zip(_PART_NAMES, raw, strict=True)}
        row = _row(G, q, candidates[cid], km, score, parts)
        if cid in notes:
            row["reasons"].append(notes[cid])
        rows.append(row)
    return rows
