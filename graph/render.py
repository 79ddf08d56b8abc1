"""Network views for people: filter, lay out, aggregate and draw the graph as a self-contained HTML page."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from msonet.graph.formats import fmt_date
from msonet.graph.rules import organisation_matcher
from msonet.graph.settings import MAX_NODES
from msonet.graph.store import gc_paused
from msonet.graph.vocabulary import MSO_TYPES, NODE_KINDS, ORG_TYPES, RELATION_TYPES, SYMMETRIC_RELATIONS, label

__all__ = [
    "AGGREGATE_THRESHOLD",
    "PHYSICS_LIMIT",
    "ORG_TYPE_COLOURS",
    "RELATION_COLOURS",
    "EVENT_COLOUR",
    "UNKNOWN_COLOUR",
    "DISTRICT_COLOUR",
    "NetworkView",
    "highlight",
    "vis_library",
    "filter_view",
    "ego_view",
    "select_view",
    "view_from_selection",
    "ego_selection",
    "district_selection",
    "aggregate_selection",
    "layout_positions",
    "aggregate_by_district",
    "district_members",
    "node_tooltip",
    "legend_entries",
    "build_network",
    "view_tables",
    "escape_text",
]

#: Views with more organisations and events than this are drawn as one node per district.
AGGREGATE_THRESHOLD = MAX_NODES  # the default of MSONET_MAX_NODES (graph.settings)
#: Above this many nodes the browser does not simulate physics; the Python layout is final.
PHYSICS_LIMIT = 300

#: One colour per organisation type; related types share a hue so the legend stays readable.
ORG_TYPE_COLOURS: dict[str, str] = {
    "mso": "#e6550d",
    "mso_network": "#fd8d3c",
    "mso_federation": "#a63603",
    "welfare_association": "#238b45",
    "regular_service": "#74c476",
    "integration_agency": "#3182bd",
    "antidiscrimination_office": "#9ecae1",
    "municipal_integration_centre": "#08519c",
    "state_coordination_office": "#6baed6",
    "state_ministry": "#54278f",
    "state_authority": "#756bb1",
    "municipal_administration": "#9e9ac8",
    "integration_council": "#bcbddc",
    "advisory_service": "#d6616b",
    "foundation": "#e7ba52",
    "education_provider": "#8c6d31",
    "religious_community": "#7b4173",
    "sports_club": "#17becf",
    "self_help_group": "#ce6dbd",
    "initiative": "#bd9e39",
}
UNKNOWN_COLOUR = "#969696"
EVENT_COLOUR = "#636363"
DISTRICT_COLOUR = "#2b8cbe"

RELATION_COLOURS: dict[str, str] = {
    "member_of": "#9e9ac8",
    "cooperates_with": "#3182bd",
    "tandem_partner": "#e6550d",
    "attended_event": "#bdbdbd",
    "organised_event": "#969696",
    "advised_by": "#d6616b",
    "supports": "#31a354",
    "operates": "#8c6d31",
    "coordinated_by": "#6baed6",
    "represented_in": "#ce6dbd",
}


@dataclass
class NetworkView:
    """A drawn network: the HTML page and what it shows."""

    html: str
    nodes: int
    edges: int
    aggregated: bool
    physics: bool
    legend: list[tuple[str, str]] = field(default_factory=list)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Organisations of the district view without a place (landesweit / ohne Kreis): not drawn on the map.
    unplaced: int = 0
    #: What the app's interactive view draws: node rows without the highlight of the chosen
    #: node (the page outlines it itself, so choosing another one keeps the drawing), options, legend, key.
    data: dict[str, Any] = field(default_factory=dict)


def escape_text(value: object) -> str:
    """HTML-escape any value (``None`` -> empty); every user-provided string passes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def _year(value: object) -> int | None:
    """Year of an ISO date, a year string or an int; ``None`` when unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    head = text[:4]
    return int(head) if head.isdigit() else None


def _as_set(values: Iterable[str] | str | None) -> set[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    found = {v for v in values if v}
    return found or None


def filter_view(
    G: nx.MultiDiGraph,
    *,
    org_types: Iterable[str] | None = None,
    sectors: Iterable[str] | None = None,
    cities: Iterable[str] | None = None,
    districts: Iterable[str] | None = None,
    regierungsbezirke: Iterable[str] | None = None,
    relation_types: Iterable[str] | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    include_events: bool = True,
    name_contains: str | None = None,
    only_connected: bool = False,
) -> nx.MultiDiGraph:
    """The part of ``G`` a user asked to see.

    Organisations pass when they match every given filter (a filter left empty allows everything;
    several values of one filter are alternatives). Events pass when at least one shown organisation is
    tied to them and their date lies in ``year_from``..``year_to``. Ties pass when their type is in
    ``relation_types`` and they existed by the end of the time span (``since`` year <= ``year_to``;
    ties without a date always pass). Funding programmes are not drawn.

    Parameters
    ----------
    G
        The store graph (``store.to_networkx()``).
    only_connected
        Drop organisations that have no tie left in the view.

    Returns
    -------
    A new ``MultiDiGraph`` with copies of the kept nodes and ties.
    """
    nodes, ties = select_view(
        G, org_types=org_types, sectors=sectors, cities=cities, districts=districts,
        regierungsbezirke=regierungsbezirke, relation_types=relation_types, year_from=year_from, year_to=year_to,
        include_events=include_events, name_contains=name_contains, only_connected=only_connected)
    return view_from_selection(G, nodes, ties)


#: One tie of a selection: (source, target, key, attribute dict of the store graph).
Tie = tuple[str, str, Any, dict[str, Any]]


def select_view(G: nx.MultiDiGraph, **filters: Any) -> tuple[list[str], list[Tie]]:
    """The nodes and ties :func:`filter_view` keeps, without building a graph.

    Takes the same keyword filters. Returns the node ids in the order of the view (organisations sorted,
    then events as they are first reached) and the ties as ``(u, v, key, data)`` with the store graph's own
    attribute dicts (do not change them). Building a graph of a million ties takes seconds; the district
    summary of a large view and the ego network only need these lists.
    """
    with gc_paused():
        return _select(G, **filters)


def view_from_selection(G: nx.MultiDiGraph, nodes: Iterable[str], ties: Iterable[Tie]) -> nx.MultiDiGraph:
    """A new ``MultiDiGraph`` with copies of the selected nodes and ties of ``G``."""
    node_data = G._node
    with gc_paused():  # a million new tie dicts: collections in between only walk them again
        view = nx.MultiDiGraph()
        view.add_nodes_from((n, node_data[n]) for n in nodes)
        view.add_edges_from(ties)
    return view


def _select(G, *, org_types=None, sectors=None, cities=None, districts=None, regierungsbezirke=None,
            relation_types=None, year_from=None, year_to=None, include_events=True, name_contains=None,
            only_connected=False) -> tuple[list[str], list[Tie]]:
    relations_ = _as_set(relation_types)
    keep = organisation_matcher(org_types=org_types, sectors=sectors, cities=cities, districts=districts,
                                regierungsbezirke=regierungsbezirke, name_contains=name_contains)
    keep_orgs = {node for node, d in G.nodes(data=True) if keep(d)}

    def event_in_span(d: Mapping[str, Any]) -> bool:
        year = _year(d.get("date"))
        if year is None:
            return year_from is None and year_to is None
        return (year_from is None or year >= year_from) and (year_to is None or year <= year_to)

    def tie_in_span(d: Mapping[str, Any]) -> bool:
        since = _year(d.get("since"))
        return since is None or year_to is None or since <= year_to

    # The private adjacency dicts: the public views took seconds on a million ties. Sources are walked in
    # sorted order, so the ties come in the order a graph of the view lists them.
    node_data, succ = G._node, G._succ
    nodes = sorted(keep_orgs)
    events: dict[str, None] = {}
    ties: list[Tie] = []
    event_ok: dict[str, bool] = {}
    for u in nodes:
        for v, keyed in succ[u].items():
            if v not in keep_orgs:
                ok = event_ok.get(v)
                if ok is None:
                    d_v = node_data[v]
                    ok = event_ok[v] = include_events and d_v.get("kind") == "event" and event_in_span(d_v)
                if not ok:
                    continue
            for k, d in keyed.items():
                rel = d.get("type")
                if rel == "funded_by" or (relations_ and rel not in relations_) or (
                        year_to is not None and not tie_in_span(d)):
                    continue
                if v not in keep_orgs:
                    events[v] = None
                ties.append((u, v, k, d))
    nodes.extend(events)
    if only_connected:
        tied = {u for u, _, _, _ in ties} | {v for _, v, _, _ in ties}
        nodes = [n for n in nodes if n in tied]
    return nodes, ties


def ego_selection(G: nx.MultiDiGraph, nodes: list[str], ties: list[Tie], center: str,
                  hops: int = 1) -> tuple[list[str], list[Tie]]:
    """:func:`ego_view` on a selection from :func:`select_view` (no graph copies)."""
    if center not in G:
        return [], []
    inside = set(nodes)
    if center not in inside:
        nodes = [*nodes, center]
        ties = list(ties)
        for v, keyed in G._succ[center].items():
            if v in inside or v == center:
                ties.extend((center, v, k, d) for k, d in keyed.items() if d.get("type") != "funded_by")
        for u, keyed in G._pred[center].items():
            if u in inside:
                ties.extend((u, center, k, d) for k, d in keyed.items() if d.get("type") != "funded_by")
    neighbours: dict[str, set[str]] = defaultdict(set)
    for u, v, _, _ in ties:
        neighbours[u].add(v)
        neighbours[v].add(u)
    reach, frontier = {center}, [center]
    for _ in range(max(0, hops)):
        reached = []
        for n in frontier:
            for m in neighbours.get(n, ()):
                if m not in reach:
                    reach.add(m)
                    reached.append(m)
        frontier = reached
    return [n for n in nodes if n in reach], [t for t in ties if t[0] in reach and t[1] in reach]


def district_selection(G: nx.MultiDiGraph, nodes: list[str], ties: list[Tie],
                       district: str) -> tuple[list[str], list[Tie]]:
    """:func:`district_members` on a selection from :func:`select_view`."""
    node_data = G._node
    keep = {n for n in nodes if (node_data[n].get("district") or "?") == district}
    return [n for n in nodes if n in keep], [t for t in ties if t[0] in keep and t[1] in keep]


def ego_view(view: nx.MultiDiGraph, G: nx.MultiDiGraph, center: str, hops: int = 1) -> nx.MultiDiGraph:
    """Nodes within ``hops`` ties of ``center`` inside ``view``; ``center`` itself always stays.

    The centre is taken from ``G`` when the filters removed it, together with its ties into the view, so
    that "who is around this organisation" still answers within the filtered population.
    """
    nodes, ties = ego_selection(G, list(view), list(view.edges(keys=True, data=True)), center, hops)
    return view_from_selection(G, nodes, ties)


def _simple(G: nx.Graph) -> nx.Graph:
    """An undirected simple graph with sorted nodes (stable input for the layout)."""
    H = nx.Graph()
    H.add_nodes_from(sorted(G.nodes))
    H.add_edges_from(sorted((min(u, v), max(u, v)) for u, v in G.edges() if u != v))
    return H


def _force_layout(adjacency: np.ndarray, pos: np.ndarray, iterations: int) -> np.ndarray:
    """Fruchterman-Reingold on a dense float32 matrix (fast enough up to a few thousand nodes)."""
    n = len(adjacency)
    k = np.float32(np.sqrt(1.0 / n))
    temperature = np.float32(max(np.ptp(pos[:, 0]), np.ptp(pos[:, 1]), 0.1) * 0.1)
    step = temperature / (iterations + 1)
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.sqrt(np.einsum("ijk,ijk->ij", delta, delta))
        np.clip(dist, 0.01, None, out=dist)
        force = k * k / (dist * dist) - adjacency * dist / k
        disp = np.einsum("ijk,ij->ik", delta, force)
        length = np.sqrt(np.einsum("ij,ij->i", disp, disp))
        np.clip(length, 0.01, None, out=length)
        pos += disp * (temperature / length)[:, None]
        temperature -= step
    return pos


def layout_positions(
    G: nx.Graph, *, seed: int = 42, size: float | None = None, geographic: bool = False
) -> dict[str, tuple[float, float]]:
    """Screen positions of every node, computed in Python so the same view gives the same picture.

    Nodes start at their geographic point (longitude east, latitude north, so the picture resembles a map
    of NRW) plus a small seeded jitter, or at a seeded random point when they have no coordinates; a
    force-directed pass then pulls tied nodes together.

    Parameters
    ----------
    G
        Any networkx graph; node attributes ``lat``/``lon`` are used when present.
    seed
        Seed of the jitter and random start points.
    size
        Width of the picture in pixels (default grows with the square root of the node count).
    geographic
        Keep nodes with coordinates at their geographic point (no force pass); nodes without coordinates
        go to the top left corner. Used for the district view, which should read like a map.

    Returns
    -------
    ``{node: (x, y)}`` with y growing downwards (screen coordinates), rounded to 0.1 px.
    """
    H = _simple(G)
    nodes = list(H.nodes)
    n = len(nodes)
    if n == 0:
        return {}
    size = size or max(400.0, 60.0 * float(np.sqrt(n)))
    if n == 1:
        return {nodes[0]: (0.0, 0.0)}
    rng = np.random.default_rng(seed)
    start = rng.random((n, 2), dtype=np.float32)
    coords = [(G.nodes[v].get("lon"), G.nodes[v].get("lat")) for v in nodes]
    have = [i for i, (lon, lat) in enumerate(coords) if isinstance(lon, int | float) and isinstance(lat, int | float)]
    if len(have) >= 2:
        geo = np.array([coords[i] for i in have], dtype=np.float32)
        geo[:, 0] *= np.float32(np.cos(np.radians(51.5)))  # longitude degrees are shorter in NRW
        span = max(float(np.ptp(geo[:, 0])), float(np.ptp(geo[:, 1])), 1e-3)
        geo = (geo - geo.min(axis=0)) / span
        start[have] = geo + (start[have] - 0.5) * 0.05
    if geographic:
        located = set(have)
        missing = [i for i in range(n) if i not in located]
        pos = start
        for rank, i in enumerate(missing):
            pos[i] = (-0.15, 1.05 + 0.08 * rank)  # above and left of the map, one under the other
    elif H.number_of_edges():
        adjacency = nx.to_numpy_array(H, nodelist=nodes, dtype=np.float32, weight=None)
        iterations = 50 if n <= 300 else 30
        pos = _force_layout(adjacency, start.copy(), iterations)
    else:
        pos = start
    pos = pos - pos.mean(axis=0)
    extent = float(np.abs(pos).max()) or 1.0
    pos = pos / extent * (size / 2)
    # Screen y grows downwards; latitude grows northwards.
    return {v: (round(float(x), 1), round(float(-y), 1)) for v, (x, y) in zip(nodes, pos, strict=True)}


def aggregate_by_district(G: nx.MultiDiGraph, district_names: Mapping[str, str] | None = None) -> nx.Graph:
    """One node per district: organisations counted, ties between districts summed.

    Node ids are ``"district:<key>"`` (``"district:?"`` for organisations without a district) with the
    attributes ``kind="district"``, ``district``, ``name``, ``count``, ``mso_count``, ``inner_ties``, ``lat``
    and ``lon`` (mean of the members' points). An edge carries ``weight`` = number of ties between
    organisations (or an organisation and an event) located in the two districts.
    """
    return _aggregate(G._node, G.nodes, list(G.edges(keys=True, data=True)), district_names)


def aggregate_selection(G: nx.MultiDiGraph, nodes: Iterable[str], ties: Iterable[Tie],
                        district_names: Mapping[str, str] | None = None) -> nx.Graph:
    """:func:`aggregate_by_district` of a selection from :func:`select_view`, without building the view."""
    return _aggregate(G._node, nodes, ties, district_names)


def _aggregate(node_data: Mapping[str, Mapping[str, Any]], nodes: Iterable[str], ties: Iterable[Tie],
               district_names: Mapping[str, str] | None) -> nx.Graph:
    names = district_names or {}
    members: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        d = node_data[node]
        if d.get("kind") in ("organisation", "event"):
            members[d.get("district") or "?"].append(node)
    A = nx.Graph()
    for key in sorted(members):
        group = [node_data[n] for n in members[key]]
        orgs = [d for d in group if d.get("kind") == "organisation"]
        lats = [d["lat"] for d in group if isinstance(d.get("lat"), int | float)]
        lons = [d["lon"] for d in group if isinstance(d.get("lon"), int | float)]
        A.add_node(
            f"district:{key}",
            kind="district",
            district=key,
            name=names.get(key) or (key if key != "?" else "landesweit / ohne Kreis"),
            count=len(orgs),
            events=len(group) - len(orgs),
            mso_count=sum(1 for d in orgs if d.get("org_type") in MSO_TYPES),
            inner_ties=0,
            lat=sum(lats) / len(lats) if lats else None,
            lon=sum(lons) / len(lons) if lons else None,
        )
    # Count the (district, district) pairs of all ties in one go, then add the lines in the order their
    # pair was first seen, oriented as first seen: the same graph as adding tie by tie, in a fraction of
    # the time for a million ties.
    present = set(A)
    district_of = {n: key for n, d in node_data.items()
                   if (key := "district:" + (d.get("district") or "?")) in present}
    kept = [tie for tie in ties if tie[3].get("type") != "funded_by"]
    sources = map(district_of.get, map(itemgetter(0), kept))
    targets = map(district_of.get, map(itemgetter(1), kept))
    seen = Counter(zip(sources, targets, strict=True))
    pairs: dict[tuple[str, str], list] = {}
    for (a, b), count in seen.items():
        if a is None or b is None:
            continue
        if a == b:
            A.nodes[a]["inner_ties"] += count
            continue
        pair = (a, b) if a <= b else (b, a)
        if pair in pairs:
            pairs[pair][2] += count
        else:
            pairs[pair] = [a, b, count]
    A.add_edges_from((a, b, {"weight": w}) for a, b, w in pairs.values())
    return A


def district_members(view: nx.MultiDiGraph, district: str) -> nx.MultiDiGraph:
    """The nodes of one district in ``view`` (to open an aggregated district node)."""
    nodes, ties = district_selection(view, list(view), list(view.edges(keys=True, data=True)), district)
    return view_from_selection(view, nodes, ties)


def _sector_labels(keys: Iterable[str]) -> str:
    return ", ".join(label("sector", k) for k in keys or ())


def node_tooltip(
    node: str, d: Mapping[str, Any], degree: int, district_names: Mapping[str, str] | None = None
) -> str:
    """Tooltip HTML of one node; every value taken from the data is HTML-escaped."""
    names = district_names or {}
    kind = d.get("kind")
    parts: list[str] = [f"<b>{escape_text(d.get('name') or node)}</b>"]
    if kind == "district":
        parts.append(f"{int(d.get('count', 0))} Organisationen, davon {int(d.get('mso_count', 0))} MSO")
        if d.get("events"):
            parts.append(f"{int(d['events'])} Veranstaltungen")
        parts.append(f"Verbindungen im Kreis: {int(d.get('inner_ties', 0))}")
        parts.append("Zum Öffnen den Kreis unter „Kreis öffnen“ wählen.")
        return "<br>".join(parts)
    if kind == "event":
        parts.append(escape_text(label("event_type", d.get("event_type") or "")) + " · "
                     + escape_text(fmt_date(d["date"]) if d.get("date") else "ohne Datum"))
    else:
        parts.append(escape_text(label("org_type", d.get("org_type") or "")))
    place = d.get("city") or ""
    district = names.get(d.get("district") or "", "")
    if district and district != place:
        place = f"{place} (Kreis {district})" if place else f"Kreis {district}"
    if place:
        parts.append(escape_text(place))
    if d.get("sectors"):
        parts.append("Handlungsfelder: " + escape_text(_sector_labels(d["sectors"])))
    parts.append(f"Verbindungen: {int(degree)}")
    source = d.get("source") or "unbekannt"
    stamp = f", Stand {fmt_date(d['updated'])}" if d.get("updated") else ""
    parts.append("Quelle: " + escape_text(f"{source}{stamp}"))
    if d.get("synthetic"):
        parts.append("<i>synthetischer Demodatensatz</i>")
    return "<br>".join(parts)


def legend_entries(G: nx.Graph) -> list[tuple[str, str]]:
    """``(German label, colour)`` for each node type present in ``G``, in vocabulary order."""
    kinds = Counter(d.get("kind") for _, d in G.nodes(data=True))
    present = {d.get("org_type") for _, d in G.nodes(data=True) if d.get("kind") == "organisation"}
    entries = [(ORG_TYPES[k][0], ORG_TYPE_COLOURS.get(k, UNKNOWN_COLOUR)) for k in ORG_TYPES if k in present]
    if present - set(ORG_TYPES):
        entries.append(("Sonstige", UNKNOWN_COLOUR))
    if kinds.get("event"):
        entries.append(("Veranstaltung", EVENT_COLOUR))
    if kinds.get("district"):
        entries.append(("Kreis / kreisfreie Stadt (Größe = Zahl der Organisationen)", DISTRICT_COLOUR))
    return entries


def _safe_json(value: object) -> str:
    """JSON that cannot close a ``<script>`` element or open an HTML comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def vis_library() -> str:
    """The vis-network build shipped inside pyvis, read once (it is inlined: no CDN at run time)."""
    global _VIS_JS
    if _VIS_JS is None:
        import pyvis

        lib = Path(pyvis.__file__).parent / "templates" / "lib"
        candidates = sorted(lib.glob("vis-*/vis-network.min.js"))
        if not candidates:
            raise FileNotFoundError("vis-network.min.js fehlt im pyvis-Paket; bitte pyvis neu installieren.")
        _VIS_JS = candidates[-1].read_text(encoding="utf-8")
    return _VIS_JS


_VIS_JS: str | None = None

# pyvis's own template links Bootstrap from a CDN even with cdn_resources="in_line", so msonet renders
# pyvis's node/edge data with this small self-contained page instead (German, offline, tooltips as DOM).
_PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
html, body {{ margin: 0; padding: 0; font-family: "Source Sans Pro", Arial, sans-serif; }}
#frame {{ display: flex; flex-direction: column; height: {height}px; }}
/* The legend is a row above the drawing, never on it: as a box on the canvas it hid nodes. */
#legend {{ flex: none; display: flex; flex-wrap: wrap; gap: 2px 14px; padding: 3px 4px; font-size: 12px; }}
#legend span.dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; }}
#legend div {{ white-space: nowrap; }}
#mynetwork {{ flex: 1 1 auto; min-height: 0; width: 100%; border: 1px solid #ddd; background: #fff;
  position: relative; }}
div.vis-tooltip {{ position: absolute; visibility: hidden; padding: 6px 8px; white-space: normal; max-width: 360px;
  font-size: 13px; color: #222; background: #fffef6; border: 1px solid #999; border-radius: 3px;
  box-shadow: 2px 2px 6px rgba(0,0,0,0.2); pointer-events: none; z-index: 10; }}
</style>
<script>{vis}</script>
</head>
<body>
<div id="frame">
<div id="legend">{legend}</div>
<div id="mynetwork"></div>
</div>
<script>
var nodes, edges, network;
(function () {{
  // Tooltips arrive as HTML built from escaped values; turning them into elements lets vis show them
  // formatted (a plain string would be shown as text with the tags).
  function toElement(markup) {{ var d = document.createElement("div"); d.innerHTML = markup; return d; }}
  var nodeData = {nodes};
  var edgeData = {edges};
  nodeData.forEach(function (n) {{ if (n.title) {{ n.title = toElement(n.title); }} }});
  edgeData.forEach(function (e) {{ if (e.title) {{ e.title = toElement(e.title); }} }});
  nodes = new vis.DataSet(nodeData);
  edges = new vis.DataSet(edgeData);
  var options = {options};
  network = new vis.Network(document.getElementById("mynetwork"), {{nodes: nodes, edges: edges}}, options);
  var selected = {selected};
  if (selected !== null && nodes.get(selected)) {{
    network.selectNodes([selected]);
    // Centre the chosen node once the picture stands (after the physics settled, if it runs).
    var centre = function () {{
      network.focus(selected, {{scale: Math.max(network.getScale(), 0.8), animation: false}});
      document.body.setAttribute("data-centred", selected);
    }};
    if (options.physics && options.physics.enabled) {{
      network.once("stabilizationIterationsDone", function () {{ setTimeout(centre, 0); }});
    }} else {{
      network.once("afterDrawing", centre);
    }}
  }}
  network.once("afterDrawing", function () {{ document.body.setAttribute("data-drawn", "1"); }});
}})();
</script>
</body>
</html>
"""


def _edge_groups(G: nx.Graph) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Parallel ties of one pair in one list (they are drawn as a single line)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for u, v, d in G.edges(data=True):
        if u == v:
            continue
        a, b = (u, v) if u <= v else (v, u)
        groups[(a, b)].append({"u": u, "v": v, **d})
    return groups


def _edge_title(ties: list[dict[str, Any]], G: nx.Graph) -> str:
    lines = []
    for tie in sorted(ties, key=lambda t: (t.get("type") or "", t["u"], t["v"])):
        rel = tie.get("type") or ""
        text = (f"{G.nodes[tie['u']].get('name') or tie['u']} – {label('relation_type', rel)} – "
                f"{G.nodes[tie['v']].get('name') or tie['v']}")
        if tie.get("since"):
            text += f" (seit {fmt_date(tie['since'])})"
        lines.append(escape_text(text))
        if tie.get("note"):
            lines.append("<i>" + escape_text(tie["note"]) + "</i>")
    return "<br>".join(lines)


def build_network(
    G: nx.Graph,
    *,
    selected: str | None = None,
    district_names: Mapping[str, str] | None = None,
    seed: int = 42,
    height: int = 650,
    aggregate_threshold: int = AGGREGATE_THRESHOLD,
    physics_limit: int = PHYSICS_LIMIT,
    title: str = "msonet – Netzwerk",
) -> NetworkView:
    """Draw ``G`` (usually a :func:`filter_view` result) as a self-contained HTML page.

    The node and edge data are collected in a ``pyvis.network.Network`` and written into a page that
    inlines pyvis's vis-network build, so the page works without internet. Positions come from
    :func:`layout_positions`; physics stays on only for small views. Views with more than
    ``aggregate_threshold`` nodes are replaced by :func:`aggregate_by_district`.

    Parameters
    ----------
    G
        The view to draw (organisations, events, or districts from :func:`aggregate_by_district`).
    selected
        Node to highlight (the organisation in the details panel).
    district_names
        District key -> name, for tooltips and aggregated nodes.

    Returns
    -------
    NetworkView with the HTML and the node/edge counts actually drawn.
    """
    from pyvis.network import Network

    aggregated = False
    if G.number_of_nodes() > aggregate_threshold and not any(
        d.get("kind") == "district" for _, d in G.nodes(data=True)
    ):
        G = aggregate_by_district(G, district_names)
        aggregated = True
    aggregated = aggregated or any(d.get("kind") == "district" for _, d in G.nodes(data=True))
    unplaced = 0
    if aggregated:
        # Districts without a point (organisations working statewide or without a place) would sit outside
        # NRW with a fan of lines to everywhere; they are counted and left off the map.
        off_map = [n for n, d in G.nodes(data=True) if d.get("kind") == "district"
                   and not (isinstance(d.get("lat"), int | float) and isinstance(d.get("lon"), int | float))]
        if off_map:
            unplaced = sum(int(G.nodes[n].get("count", 0)) for n in off_map)
            G = G.subgraph([n for n in G if n not in set(off_map)])

    positions = layout_positions(G, seed=seed, geographic=aggregated, size=1600.0 if aggregated else None)
    physics = G.number_of_nodes() <= physics_limit and not aggregated
    groups = _edge_groups(G)
    degree: Counter[str] = Counter()
    for a, b in groups:
        degree[a] += 1
        degree[b] += 1

    net = Network(height=f"{height}px", width="100%", directed=False, cdn_resources="in_line")
    node_rows = []
    for node in sorted(G.nodes):
        d = G.nodes[node]
        kind = d.get("kind")
        x, y = positions[node]
        row: dict[str, Any] = {"id": node, "label": _short(str(d.get("name") or node)), "x": x, "y": y,
                               "title": node_tooltip(node, d, degree[node], district_names)}
        if kind == "district":
            row.update(shape="dot", color=DISTRICT_COLOUR, value=max(1, int(d.get("count", 0))))
        elif kind == "event":
            row.update(shape="diamond", color=EVENT_COLOUR, value=1 + degree[node])
        else:
            row.update(shape="dot", color=ORG_TYPE_COLOURS.get(d.get("org_type") or "", UNKNOWN_COLOUR),
                       value=1 + degree[node])
        node_rows.append(row)
    if aggregated:
        _thin_labels(node_rows, keep=selected)
    plain_rows = [dict(row) for row in node_rows]
    for row in node_rows:
        if row["id"] == selected:
            row.update(highlight(row, aggregated))

    edge_rows = []
    for (a, b), ties in sorted(groups.items()):
        if aggregated:
            weight = sum(int(t.get("weight", 1)) for t in ties)
            edge_rows.append({"from": a, "to": b, "value": weight, "color": "#9ecae1",
                              "title": escape_text(f"{G.nodes[a].get('name')} – {G.nodes[b].get('name')}: "
                                                   f"{weight} Verbindungen")})
            continue
        types = sorted({t.get("type") or "" for t in ties})
        row = {"from": a, "to": b, "title": _edge_title(ties, G), "value": len(ties),
               "color": RELATION_COLOURS.get(types[0], "#bdbdbd") if len(types) == 1 else "#7f7f7f"}
        if len(ties) == 1 and types[0] not in SYMMETRIC_RELATIONS:
            row.update({"from": ties[0]["u"], "to": ties[0]["v"], "arrows": "to"})
        if types == ["attended_event"]:
            row["dashes"] = True
        edge_rows.append(row)

    # pyvis keeps the data; assigning the lists avoids its quadratic duplicate checks in add_node/add_edge.
    net.nodes, net.edges = node_rows, edge_rows
    net.node_ids = [r["id"] for r in node_rows]
    net.options = {
        "autoResize": True,
        # The district view is drawn 1600 px wide and then fitted, so it needs larger fonts and nodes.
        # District view: one label size (labels are thinned out so that none overlaps, see _thin_labels).
        "nodes": {"font": {"size": DISTRICT_FONT if aggregated else 14, "face": "Arial"},
                  "scaling": {"min": DISTRICT_SIZES[0] if aggregated else 6, "max": DISTRICT_SIZES[1] if aggregated
                              else 40, "label": {"enabled": not aggregated, "min": 10, "max": 22,
                                                 "drawThreshold": 6}}},
        "edges": {"smooth": False, "scaling": {"min": 1, "max": 12 if aggregated else 8},
                  "color": {"opacity": 0.35 if aggregated else 0.7}},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False,
                        "hideEdgesOnDrag": len(edge_rows) > 2000},
        "layout": {"randomSeed": seed, "improvedLayout": False},
        "physics": {"enabled": physics, "solver": "forceAtlas2Based",
                    "stabilization": {"enabled": True, "iterations": 150, "fit": True}},
    }
    nodes_data, edges_data, _heading, _height, _width, options_json = net.get_network_data()
    legend = legend_entries(G)
    legend_html = "".join(
        f'<div><span class="dot" style="background:{escape_text(colour)}"></span>{escape_text(text)}</div>'
        for text, colour in legend
    )
    page = _PAGE.format(
        title=escape_text(title),
        height=int(height),
        vis=vis_library().replace("</script", "<\\/script"),
        legend=legend_html,
        nodes=_safe_json(nodes_data),
        edges=_safe_json(edges_data),
        options=_safe_json(json.loads(options_json)),
        selected=_safe_json(selected if selected in G else None),
    )
    options = json.loads(options_json)
    data = {"nodes": plain_rows, "edges": edges_data, "options": options, "legend": [list(e) for e in legend],
            "selected": selected if selected in G else None, "height": int(height),
            "highlight_font": 28 if aggregated else 18,
            # centring zooms in to at least this scale; the district view keeps its scale (all of NRW in view)
            "focus_scale": None if aggregated else 0.8,
            "view_key": _structure_key(plain_rows, edges_data, options)}
    return NetworkView(html=page, nodes=len(node_rows), edges=len(edge_rows), aggregated=aggregated,
                       physics=physics, legend=legend, positions=positions, unplaced=unplaced, data=data)


def highlight(row: Mapping[str, Any], aggregated: bool = False) -> dict[str, Any]:
    """Node properties that outline the chosen node (thick black border, larger label)."""
    colour = row.get("color")
    background = colour.get("background") if isinstance(colour, dict) else colour
    return {"borderWidth": 4, "color": {"background": background, "border": "#000000"},
            "font": {"size": 28 if aggregated else 18, "bold": True}}


def _structure_key(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], options: Mapping[str, Any]) -> str:
    """Fingerprint of what is drawn apart from labels and highlight: equal keys keep the drawing in place."""
    import hashlib

    shape = json.dumps([[n["id"] for n in nodes], [[e.get("from"), e.get("to")] for e in edges], options],
                       sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(shape.encode("utf-8")).hexdigest()[:16]


#: Label font and (smallest, largest) node size of the district view, in layout units (1600 px wide).
DISTRICT_FONT = 24
DISTRICT_SIZES = (12, 60)


def label_box(row: Mapping[str, Any], radius: float, font: float = DISTRICT_FONT) -> tuple[float, float, float, float]:
    """Estimated box (left, top, right, bottom) of a node's label; vis draws it centred below the node."""
    width = 0.55 * font * len(str(row.get("label") or ""))
    top = row["y"] + radius + 2
    return (row["x"] - width / 2, top, row["x"] + width / 2, top + 1.2 * font)


def _thin_labels(rows: list[dict[str, Any]], keep: str | None = None) -> None:
    """Drop labels that would overlap a larger district's label (the name stays in the tooltip).

    Positions, node and font sizes are all in the same layout units and scale together when the view
    is zoomed, so labels that do not overlap here never overlap on screen. The chosen node keeps its label.
    """
    values = [float(r.get("value", 1)) for r in rows]
    low, high = min(values, default=1.0), max(values, default=1.0)
    small, large = DISTRICT_SIZES

    def radius(value: float) -> float:
        return small if high == low else small + (value - low) / (high - low) * (large - small)

    order = sorted(range(len(rows)), key=lambda i: (rows[i]["id"] != keep, -values[i], str(rows[i]["id"])))
    kept: list[tuple[float, float, float, float]] = []
    for i in order:
        box = label_box(rows[i], radius(values[i]))
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in kept):
            rows[i]["label"] = ""
        else:
            kept.append(box)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def view_tables(
    G: nx.Graph, district_names: Mapping[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of the nodes and ties in a view, with German column names, for CSV downloads.

    Personal fields (contact person, e-mail, phone) are never included.
    """
    names = district_names or {}
    node_rows = []
    for node in sorted(G.nodes):
        d = G.nodes[node]
        kind = d.get("kind")
        node_rows.append({
            "id": node,
            "Name": d.get("name") or "",
            "Art": {**NODE_KINDS, "district": "Kreis"}.get(kind, kind),
            "Typ": (label("org_type", d["org_type"]) if d.get("org_type")
                    else label("event_type", d["event_type"]) if d.get("event_type") else ""),
            "Ort": d.get("city") or "",
            "Kreis": names.get(d.get("district") or "", d.get("district") or ""),
            "Regierungsbezirk": d.get("regierungsbezirk") or "",
            "Handlungsfelder": _sector_labels(d.get("sectors") or ()),
            "Datum": d.get("date") or "",
            "Verbindungen": G.degree(node),
            "Quelle": d.get("source") or "",
            "Stand": d.get("updated") or "",
            "synthetisch": "ja" if d.get("synthetic") else "nein",
        })
    edge_rows = []
    for u, v, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1], e[2].get("type") or "")):
        edge_rows.append({
            "von_id": u,
            "von": G.nodes[u].get("name") or u,
            "Beziehung": label("relation_type", d["type"]) if d.get("type") in RELATION_TYPES else
            ("Verbindungen" if "weight" in d else d.get("type") or ""),
            "zu_id": v,
            "zu": G.nodes[v].get("name") or v,
            "seit": d.get("since") or "",
            "Anzahl": d.get("weight", 1),
            "Quelle": d.get("source") or "",
            "Stand": d.get("updated") or "",
        })
    return node_rows, edge_rows

