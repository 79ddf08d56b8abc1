"""Tests of graph.render: filters, ego networks, layout, district aggregation, escaping and offline HTML."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest
from _uidata import XSS_NAME, small_batch

from msonet.graph.render import (
    AGGREGATE_THRESHOLD,
    aggregate_by_district,
    aggregate_selection,
    build_network,
    district_members,
    district_selection,
    ego_selection,
    ego_view,
    filter_view,
    layout_positions,
    node_tooltip,
    select_view,
    view_tables,
)
from msonet.graph.store import EmbeddedStore

ORGS = {"org-coach", "org-agisra", "org-xss", "org-ki-koeln", "org-lsbtiq", "org-senioren", "org-ronahi",
        "org-ia-bochum", "org-behinderung", "org-ibz", "org-ki-bielefeld", "org-jugend"}
EVENTS = {"ev-treffen-2024", "ev-fachtag-2019"}


@pytest.fixture(scope="module")
def G() -> nx.MultiDiGraph:
    store = EmbeddedStore(None)
    store.upsert(small_batch())
    return store.to_networkx()


def _nodes_json(page: str) -> list[dict]:
    """The node list the page hands to vis.DataSet (decoded from the inline script)."""
    match = re.search(r"var nodeData = (\[.*?\]);\n", page, re.S)
    assert match, "node data missing from the page"
    return json.loads(match.group(1))


def test_filter_view_without_filters_keeps_orgs_and_events_but_no_programmes(G):
    view = filter_view(G)
    assert set(view) == ORGS | EVENTS
    assert not any(d.get("type") == "funded_by" for _, _, d in view.edges(data=True))
    assert view.number_of_edges() == 13


@pytest.mark.parametrize(
    ("kwargs", "orgs"),
    [
        ({"org_types": ["mso"]}, {"org-coach", "org-agisra", "org-xss", "org-ronahi", "org-ibz"}),
        ({"sectors": ["women_girls"]}, {"org-agisra", "org-ronahi"}),
        ({"sectors": ["women_girls", "lgbtiq"]}, {"org-agisra", "org-ronahi", "org-lsbtiq"}),
        ({"cities": ["bochum"]}, {"org-ronahi", "org-ia-bochum", "org-behinderung"}),
        ({"districts": ["05711"]}, {"org-ibz", "org-ki-bielefeld", "org-jugend"}),
        ({"regierungsbezirke": ["Arnsberg", "Detmold"]},
         {"org-ronahi", "org-ia-bochum", "org-behinderung", "org-ibz", "org-ki-bielefeld", "org-jugend"}),
        ({"name_contains": "integrations"}, {"org-ki-koeln", "org-ia-bochum", "org-ki-bielefeld"}),
        ({"org_types": ["mso"], "districts": ["05315"]}, {"org-coach", "org-agisra", "org-xss"}),
    ],
)
def test_filter_view_organisation_filters(G, kwargs, orgs):
    view = filter_view(G, include_events=False, **kwargs)
    assert set(view) == orgs


def test_filter_view_events_follow_shown_organisations(G):
    view = filter_view(G, districts=["05911"])
    # Ronahi attended the Bielefeld conference: the event comes along, the other Bielefeld orgs do not.
    assert set(view) == {"org-ronahi", "org-ia-bochum", "org-behinderung", "ev-fachtag-2019"}


def test_filter_view_relation_types(G):
    view = filter_view(G, relation_types=["tandem_partner"], only_connected=True)
    assert set(view) == {"org-coach", "org-senioren", "org-ronahi", "org-behinderung"}
    assert {d["type"] for _, _, d in view.edges(data=True)} == {"tandem_partner"}


def test_filter_view_time_span(G):
    view = filter_view(G, year_from=2015, year_to=2020)
    # The 2019 conference is in the span, the 2024 meeting is not; ties dated after 2020 are dropped.
    assert EVENTS & set(view) == {"ev-fachtag-2019"}
    kept = {(frozenset((u, v)), d["type"]) for u, v, d in view.edges(data=True)}
    assert (frozenset(("org-coach", "org-ki-koeln")), "cooperates_with") in kept  # since 2018
    assert (frozenset(("org-agisra", "org-ki-koeln")), "cooperates_with") not in kept  # since 2021
    assert (frozenset(("org-ki-bielefeld", "org-jugend")), "cooperates_with") in kept  # no date: kept
    assert (frozenset(("org-coach", "org-senioren")), "tandem_partner") not in kept  # since 2023


def test_ego_view_hops(G):
    view = filter_view(G, include_events=False)
    assert set(ego_view(view, G, "org-ronahi", 1)) == {"org-ronahi", "org-ia-bochum", "org-behinderung"}
    two = ego_view(view, G, "org-xss", 2)
    assert set(two) == {"org-xss", "org-coach", "org-ki-koeln", "org-senioren"}
    with_events = ego_view(filter_view(G), G, "org-ronahi", 2)
    assert {"ev-fachtag-2019", "org-ibz"} <= set(with_events)


def test_ego_view_keeps_a_centre_the_filters_removed(G):
    view = filter_view(G, org_types=["regular_service"], include_events=False)
    ego = ego_view(view, G, "org-ronahi", 1)
    assert set(ego) == {"org-ronahi", "org-behinderung"}
    assert set(ego_view(view, G, "missing", 1)) == set()


def test_layout_is_deterministic_and_covers_every_node(G):
    view = filter_view(G)
    first = layout_positions(view, seed=7)
    assert first == layout_positions(view, seed=7)
    assert set(first) == set(view)
    assert first != layout_positions(view, seed=8)
    assert len(set(first.values())) == len(first)  # no two nodes on the same spot


def test_layout_follows_geography_for_districts(G):
    agg = aggregate_by_district(filter_view(G))
    pos = layout_positions(agg, geographic=True)
    # Bielefeld lies north-east of Köln: further right and (screen y grows downwards) higher up.
    assert pos["district:05711"][0] > pos["district:05315"][0]
    assert pos["district:05711"][1] < pos["district:05315"][1]


def test_aggregate_by_district_counts_and_weights(G):
    agg = aggregate_by_district(filter_view(G), {"05315": "Köln", "05911": "Bochum", "05711": "Bielefeld"})
    assert set(agg) == {"district:05315", "district:05911", "district:05711"}
    koeln = agg.nodes["district:05315"]
    assert (koeln["name"], koeln["count"], koeln["mso_count"], koeln["events"]) == ("Köln", 6, 3, 1)
    # Köln: 4 direct ties + 3 event ties inside the district.
    assert koeln["inner_ties"] == 7
    # Only Ronahi (Bochum) attending the Bielefeld conference crosses a district border.
    assert [(frozenset((u, v)), w) for u, v, w in agg.edges(data="weight")] == [
        (frozenset(("district:05911", "district:05711")), 1)]


def test_district_members(G):
    view = filter_view(G)
    assert set(district_members(view, "05911")) == {"org-ronahi", "org-ia-bochum", "org-behinderung"}


def test_build_network_escapes_names_in_tooltips_and_labels(G):
    page = build_network(filter_view(G), selected="org-xss").html
    assert "<img src=x" not in page
    nodes = {n["id"]: n for n in _nodes_json(page)}
    assert nodes["org-xss"]["label"] == XSS_NAME  # drawn on canvas as text
    assert nodes["org-xss"]["title"].startswith("<b>&lt;img src=x onerror=alert(1)&gt;</b>")
    assert nodes["org-xss"]["borderWidth"] == 4  # the selected node is highlighted


def test_build_network_page_is_offline(G):
    page = build_network(filter_view(G)).html
    assert not re.search(r"<script[^>]+src=", page, re.I)
    assert not re.search(r"<link[^>]+href=", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page, re.I)
    for host in ("cdn.jsdelivr", "cdnjs", "unpkg", "googleapis", "gstatic"):
        assert host not in page
    assert "new vis.Network(" in page and "vis.DataSet" in page


def test_build_network_same_view_same_picture(G):
    first = build_network(filter_view(G))
    second = build_network(filter_view(G))
    assert first.html == second.html
    assert {n["id"]: (n["x"], n["y"]) for n in _nodes_json(first.html)} == first.positions


def test_build_network_sizes_by_degree_and_colours_by_type(G):
    view = build_network(filter_view(G))
    nodes = {n["id"]: n for n in _nodes_json(view.html)}
    assert nodes["org-coach"]["value"] > nodes["org-lsbtiq"]["value"] == 1
    assert nodes["org-coach"]["color"] != nodes["org-ki-koeln"]["color"]
    assert nodes["ev-treffen-2024"]["shape"] == "diamond"
    assert ("MSO", "#e6550d") in view.legend and ("Veranstaltung", "#636363") in view.legend
    assert view.physics and not view.aggregated


def test_build_network_turns_physics_off_for_large_views(G):
    view = build_network(filter_view(G), physics_limit=5)
    assert not view.physics
    assert '"enabled":false' in view.html


def test_build_network_aggregates_beyond_threshold(G):
    view = build_network(filter_view(G), aggregate_threshold=5,
                         district_names={"05315": "Köln", "05911": "Bochum", "05711": "Bielefeld"})
    assert view.aggregated and (view.nodes, view.edges) == (3, 1)
    labels = {n["label"] for n in _nodes_json(view.html)}
    assert labels == {"Köln", "Bochum", "Bielefeld"}


def test_default_threshold_aggregates_a_large_graph():
    G = nx.MultiDiGraph()
    for i in range(AGGREGATE_THRESHOLD + 1):
        district = ("05315", "05911")[i % 2]
        G.add_node(f"o{i}", kind="organisation", name=f"Verein {i}", org_type="mso", district=district,
                   lat=50.9 + (i % 2) * 0.5, lon=6.9 + (i % 2) * 0.3)
    G.add_edge("o0", "o1", "k", type="cooperates_with")
    view = build_network(G)
    assert view.aggregated and view.nodes == 2 and view.edges == 1
    assert not view.physics


def test_node_tooltip_escapes_every_data_value():
    d = {"kind": "organisation", "name": "A & B", "org_type": "mso", "city": "<b>Köln</b>",
         "sectors": ["culture"], "source": "<script>x</script>.csv", "updated": "2025-01-01", "synthetic": True}
    tip = node_tooltip("x", d, 3)
    assert "<script>" not in tip and "&lt;script&gt;" in tip
    assert "A &amp; B" in tip and "&lt;b&gt;Köln&lt;/b&gt;" in tip
    assert "Verbindungen: 3" in tip and "synthetischer Demodatensatz" in tip


def test_view_tables_leave_out_personal_data(G):
    nodes, edges = view_tables(filter_view(G), {"05315": "Köln"})
    coach = next(r for r in nodes if r["id"] == "org-coach")
    assert coach["Name"] == "Coach e.V. Köln" and coach["Kreis"] == "Köln" and coach["Typ"] == "MSO"
    assert not any("erika" in str(v).casefold() for row in nodes for v in row.values())
    assert len(edges) == 13
    assert {"von", "Beziehung", "zu", "seit"} <= set(edges[0])


# -- selections (no graph copy) give the same views as the graph-based functions -----------------------------
@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    from msonet.loaders.demo import build_demo_batch

    store = EmbeddedStore(None)
    store.upsert(build_demo_batch())
    return store.to_networkx()


SELECTION_FILTERS = [
    {},
    {"include_events": False},
    {"org_types": ["mso", "mso_umbrella"], "only_connected": True},
    {"sectors": ["education"], "year_from": 2020, "year_to": 2023},
    {"regierungsbezirke": ["Köln"], "relation_types": ["cooperates_with", "attended"]},
    {"name_contains": "verein", "only_connected": True},
]


def _reference_view(G, *, org_types=(), sectors=(), regierungsbezirke=(), relation_types=(), year_from=None,
                    year_to=None, include_events=True, name_contains=None, only_connected=False):
    """The documented filter rules, written out plainly over networkx's public API (nodes, tie keys)."""
    def year(value):
        head = str(value or "")[:4]
        return int(head) if head.isdigit() else None

    orgs = {n for n, d in G.nodes(data=True) if d.get("kind") == "organisation"
            and (not org_types or d.get("org_type") in org_types)
            and (not sectors or set(sectors) & set(d.get("sectors") or ()))
            and (not regierungsbezirke or d.get("regierungsbezirk") in regierungsbezirke)
            and (not name_contains or name_contains.casefold() in (d.get("name") or "").casefold())}
    ties = set()
    for u, v, k, d in G.edges(keys=True, data=True):
        if u not in orgs or d.get("type") == "funded_by" or (relation_types and d.get("type") not in relation_types):
            continue
        if year(d.get("since")) is not None and year_to is not None and year(d.get("since")) > year_to:
            continue
        if v not in orgs:
            when = year(G.nodes[v].get("date"))
            in_span = (year_from is None and year_to is None) if when is None else (
                (year_from is None or when >= year_from) and (year_to is None or when <= year_to))
            if not (include_events and G.nodes[v].get("kind") == "event" and in_span):
                continue
        ties.add((u, v, k))
    nodes = orgs | {v for _, v, _ in ties}
    if only_connected:
        nodes = {u for u, _, _ in ties} | {v for _, v, _ in ties}
    return nodes, ties


@pytest.mark.parametrize("filters", SELECTION_FILTERS)
def test_selection_follows_the_filter_rules_and_builds_the_view(demo_graph, filters):
    nodes, ties = select_view(demo_graph, **filters)
    ref_nodes, ref_ties = _reference_view(demo_graph, **filters)
    assert len(nodes) == len(set(nodes)) and set(nodes) == ref_nodes
    assert {(u, v, k) for u, v, k, _ in ties} == ref_ties and len(ties) == len(ref_ties)
    orgs = [n for n in nodes if demo_graph.nodes[n].get("kind") == "organisation"]
    assert orgs == sorted(orgs) and nodes[:len(orgs)] == orgs  # organisations first, sorted
    view = filter_view(demo_graph, **filters)
    assert list(view) == nodes
    assert [(u, v, k) for u, v, k in view.edges(keys=True)] == [(u, v, k) for u, v, k, _ in ties]


@pytest.mark.parametrize("filters", SELECTION_FILTERS)
def test_district_summary_of_a_selection_equals_the_summary_of_the_view(demo_graph, filters):
    nodes, ties = select_view(demo_graph, **filters)
    fast = aggregate_selection(demo_graph, nodes, ties, {"05315": "Köln"})
    slow = aggregate_by_district(filter_view(demo_graph, **filters), {"05315": "Köln"})
    assert list(fast.nodes(data=True)) == list(slow.nodes(data=True))
    assert list(fast.edges(data=True)) == list(slow.edges(data=True))
    assert sum(d["weight"] for _, _, d in fast.edges(data=True)) + sum(
        d["inner_ties"] for _, d in fast.nodes(data=True)) == len(ties)


def _reference_ego(view, G, center, hops):
    """The ego network written out with networkx's own graph operations (copy, shortest paths, subgraph)."""
    if center not in G:
        return nx.MultiDiGraph()
    work = view.copy()
    if center not in work:
        work.add_node(center, **dict(G.nodes[center]))
        for u, v, k, d in G.edges(center, keys=True, data=True):
            if v in work and d.get("type") != "funded_by":
                work.add_edge(u, v, k, **d)
        for u, v, k, d in G.in_edges(center, keys=True, data=True):
            if u in work and d.get("type") != "funded_by":
                work.add_edge(u, v, k, **d)
    reach = nx.single_source_shortest_path_length(work.to_undirected(as_view=True), center, cutoff=max(0, hops))
    return work.subgraph(reach).copy()


def _reference_district(view, district):
    return view.subgraph([n for n, d in view.nodes(data=True) if (d.get("district") or "?") == district]).copy()


def test_ego_and_district_selections_equal_the_graph_functions(demo_graph):
    """Selections, and the graph functions built on them, against networkx's own operations."""
    orgs = sorted(n for n, d in demo_graph.nodes(data=True) if d.get("kind") == "organisation")
    busiest = max(orgs, key=demo_graph.degree)
    checked = 0
    for filters in ({}, {"org_types": ["regular_service"], "include_events": False}):
        nodes, ties = select_view(demo_graph, **filters)
        view = filter_view(demo_graph, **filters)
        inside = set(nodes)
        # organisations the filter removed but with ties into the view (outgoing / incoming)
        out_tied = next((n for n in orgs if n not in inside and any(
            demo_graph.edges[n, m, k].get("type") != "funded_by" for m in demo_graph.successors(n) if m in inside
            for k in demo_graph[n][m])), orgs[1])
        in_tied = next((n for n in orgs if n not in inside and any(m in inside for m in demo_graph.predecessors(n))),
                       orgs[2])
        for center in (busiest, orgs[0], orgs[len(orgs) // 2], out_tied, in_tied, "gibt-es-nicht"):
            for hops in (1, 2):
                sel_nodes, sel_ties = ego_selection(demo_graph, nodes, ties, center, hops)
                ego = _reference_ego(view, demo_graph, center, hops)
                assert set(sel_nodes) == set(ego)
                assert sorted((u, v, k) for u, v, k, _ in sel_ties) == sorted(ego.edges(keys=True))
                graph_ego = ego_view(view, demo_graph, center, hops)
                assert set(graph_ego) == set(ego) and sorted(graph_ego.edges(keys=True)) == sorted(ego.edges(keys=True))
                checked += 1
        district = demo_graph.nodes[busiest].get("district") or "?"
        sel_nodes, sel_ties = district_selection(demo_graph, nodes, ties, district)
        members = _reference_district(view, district)
        assert sel_nodes and set(sel_nodes) == set(members)
        assert sorted((u, v, k) for u, v, k, _ in sel_ties) == sorted(members.edges(keys=True))
        graph_members = district_members(view, district)
        assert set(graph_members) == set(members)
        assert sorted(graph_members.edges(keys=True)) == sorted(members.edges(keys=True))
    assert checked == 24


def test_network_filter_values_match_the_data(demo_graph):
    from msonet.graph.vocabulary import RELATION_TYPES
    from msonet.ui.network import facets

    found = facets(demo_graph)
    ties = [d for _, _, d in demo_graph.edges(data=True) if d.get("type") != "funded_by"]
    assert found["relations"] == [k for k in RELATION_TYPES if k in {d.get("type") for d in ties}]
    years = [int(str(d["since"])[:4]) for d in ties if str(d.get("since") or "")[:4].isdigit()]
    years += [int(str(d["date"])[:4]) for _, d in demo_graph.nodes(data=True)
              if d.get("kind") == "event" and str(d.get("date") or "")[:4].isdigit()]
    assert found["years"] == (min(years), max(years)) and min(years) < max(years)
    orgs = [d for _, d in demo_graph.nodes(data=True) if d.get("kind") == "organisation"]
    assert len(found["districts"]) == len({d["district"] for d in orgs if d.get("district")})
    assert found["bezirke"] == sorted({d["regierungsbezirk"] for d in orgs if d.get("regierungsbezirk")})


def test_district_view_leaves_unplaced_organisations_off_the_map_and_no_label_overlaps(demo_graph):
    from msonet.graph.render import DISTRICT_SIZES, label_box

    view = build_network(filter_view(demo_graph))  # the whole demo network: drawn per district
    assert view.aggregated
    rows = _nodes_json(view.html)
    assert "district:?" not in {r["id"] for r in rows}  # "landesweit / ohne Kreis" sat far outside NRW
    assert view.unplaced == sum(1 for _, d in demo_graph.nodes(data=True)
                                if d.get("kind") == "organisation" and not d.get("district"))
    assert view.unplaced > 0
    labelled = [r for r in rows if r["label"]]
    assert len(labelled) >= 20  # the larger districts keep their names
    values = [r["value"] for r in rows]
    low, high = min(values), max(values)
    small, large = DISTRICT_SIZES
    boxes = [label_box(r, small + (r["value"] - low) / (high - low) * (large - small)) for r in labelled]
    overlaps = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert overlaps == []


def test_legend_is_a_row_above_the_drawing_and_selection_is_centred(G):
    view = build_network(filter_view(G), selected="org-ki-koeln")
    assert "position: absolute; top: 6px" not in view.html  # no longer a box on the canvas
    assert view.html.index('id="legend"') < view.html.index('id="mynetwork"')
    assert "network.focus(selected" in view.html
    ki = next(r for r in _nodes_json(view.html) if r["id"] == "org-ki-koeln")
    assert ki["borderWidth"] == 4 and ki["color"]["border"] == "#000000"
