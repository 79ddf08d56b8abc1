"""Figures over the whole graph that the app's pages show: key figures, isolation reasons per MSO, the
values present in the data (for filters), organisations per map group. Pure functions of the graph (no
Streamlit); moved here from the pages so that ``msonet.ui`` holds no graph logic."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx

from msonet.graph.vocabulary import MSO_TYPES, ORG_TYPES, RELATION_TYPES, SECTORS

if TYPE_CHECKING:
    from msonet.graph.store import GraphStore

__all__ = ["key_figures", "isolation_reason_counts", "facets", "organisations_by_group", "overview_figures"]


def key_figures(G: nx.MultiDiGraph | nx.DiGraph, district_names: Mapping[str, str], *,
                edge_counts: tuple[int, int] | None = None) -> dict[str, Any]:
    """Counts by type, district, Regierungsbezirk and sector, plus sources and dates (pure, for tests).

    ``edge_counts``: (ties, fundings) counted elsewhere (e.g. by the store), for a ``G`` with every node but
    not every tie (``store.tie_view()``); ``None``: counted in ``G``.
    """
    by_type: Counter[str] = Counter()
    by_district: Counter[str] = Counter()
    by_bezirk: Counter[str] = Counter()
    by_sector: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    updated: list[str] = []
    synthetic = events = programmes = mso = 0
    for _, d in G.nodes(data=True):
        kind = d.get("kind")
        if d.get("source"):
            sources[d["source"]] += 1
        if d.get("updated"):
            updated.append(str(d["updated"]))
        if kind == "event":
            events += 1
        elif kind == "programme":
            programmes += 1
        if kind != "organisation":
            continue
        by_type[d.get("org_type") or "?"] += 1
        mso += d.get("org_type") in MSO_TYPES
        by_district[district_names.get(d.get("district") or "", d.get("district") or "ohne Kreis")] += 1
        by_bezirk[d.get("regierungsbezirk") or "ohne Angabe"] += 1
        for sector in d.get("sectors") or ():
            by_sector[sector] += 1
        synthetic += bool(d.get("synthetic"))
    organisations = sum(by_type.values())
    if edge_counts is None:
        ties = sum(1 for _, _, t in G.edges(data="type") if t != "funded_by")
        fundings = G.number_of_edges() - ties
    else:
        ties, fundings = edge_counts
    return {
        "organisations": organisations, "mso": mso, "events": events, "programmes": programmes,
        "ties": ties, "fundings": fundings, "synthetic": synthetic,
        "by_type": by_type, "by_district": by_district, "by_bezirk": by_bezirk, "by_sector": by_sector,
        "sources": sources, "first_update": min(updated) if updated else None,
        "last_update": max(updated) if updated else None,
    }


def isolation_reason_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """MSOs per isolation reason code in rows of :func:`msonet.graph.isolation.isolated_organisations`."""
    counts: Counter[str] = Counter()
    for r in rows:
        if r.get("org_type") in MSO_TYPES:
            counts.update({x["code"] for x in r["reasons"]})
    return dict(counts)


def facets(G: nx.MultiDiGraph) -> dict[str, Any]:
    """Values present in the data, for the filter widgets (pure, for tests)."""
    types: set[str | None] = set()
    sectors: set[str] = set()
    bezirke: set[str] = set()
    districts: set[tuple[str, str]] = set()
    cities: Counter[tuple[str, str]] = Counter()
    relations: set[str | None] = set()
    years: list[int] = []
    for _, d in G.nodes(data=True):
        if d.get("kind") == "organisation":
            types.add(d.get("org_type"))
            sectors.update(d.get("sectors") or ())
            if d.get("regierungsbezirk"):
                bezirke.add(d["regierungsbezirk"])
            if d.get("district"):
                districts.add((d["district"], d.get("regierungsbezirk") or ""))
            if d.get("city"):
                cities[(d["city"], d.get("district") or "")] += 1
        elif d.get("kind") == "event" and str(d.get("date") or "")[:4].isdigit():
            years.append(int(str(d["date"])[:4]))
    since_values: set[Any] = set()
    for targets in G._succ.values():  # the adjacency dicts: the public edge view is slow on a million ties
        for keyed in targets.values():
            for d in keyed.values():
                if d.get("type") != "funded_by":
                    relations.add(d.get("type"))
                    since_values.add(d.get("since"))
    years.extend(int(str(s)[:4]) for s in since_values if str(s or "")[:4].isdigit())
    return {
        "org_types": [k for k in ORG_TYPES if k in types],
        "sectors": [k for k in SECTORS if k in sectors],
        "bezirke": sorted(bezirke),
        "districts": sorted(districts),
        "cities": sorted(cities),
        "relations": [k for k in RELATION_TYPES if k in relations],
        "years": (min(years), max(years)) if years else None,
    }


def organisations_by_group(G: nx.MultiDiGraph,
                           groups: Iterable[tuple[str, Iterable[str]]]) -> dict[str, list[dict[str, Any]]]:
    """``{group name: [organisation attributes with "id"]}`` for (name, organisation types) groups, in graph order
    (an organisation of several groups' types is in each of them)."""
    wanted = [(name, frozenset(types)) for name, types in groups]
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in wanted}
    for node, d in G.nodes(data=True):
        if d.get("kind") != "organisation":
            continue
        for name, types in wanted:
            if d.get("org_type") in types:
                out[name].append({**d, "id": node})
    return out


def overview_figures(store: GraphStore, district_names: Mapping[str, str], today: dt.date,
                     whole: Callable[[], nx.MultiDiGraph] | None = None) -> dict[str, Any]:
    """The overview page's numbers: ``{figures: key_figures, isolated: MSOs per isolation reason (defaults of
    the isolation page), funding: funding_mix by sector}``, equal to computing them on the whole graph.

    Read without building the whole graph where the store can (the embedded store: who is tied to whom, and
    the funding ties only; at 100,000 organisations about half the time of reading the whole graph, which a
    page that needs it reads later). The reads are checked to see one data version; if the data keeps
    changing meanwhile, and for stores without such views (``PARTIAL_VIEWS``; the servers), ``whole()``
    (default ``store.graph_view``; the app passes its graph kept per data version) gives the one graph.
    """
    from msonet.graph.coverage import funding_mix
    from msonet.graph.isolation import isolated_organisations

    if not getattr(store, "PARTIAL_VIEWS", False):  # a server store would read the whole graph for each view
        ties = funding = (whole or store.graph_view)()
    else:
        for _attempt in range(3):
            before = store.data_version()
            ties, funding, relations = store.tie_view(), store.funding_view(), store.counts()["relations"]
            if store.data_version() == before:
                break
        else:
            ties = funding = (whole or store.graph_view)()
    edge_counts = None
    if not isinstance(ties, nx.MultiDiGraph):  # the tie view: ties counted by the store
        fundings = sum(1 for _, _, t in funding.edges(data="type") if t == "funded_by")
        edge_counts = (relations - fundings, fundings)
    figures = key_figures(ties, district_names, edge_counts=edge_counts)
    isolated = isolation_reason_counts(isolated_organisations(ties, today=today))
    return {"figures": figures, "isolated": isolated, "funding": funding_mix(funding)}
