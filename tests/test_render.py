"""Tests of graph.render: filters, ego networks, layout, district aggregation, escaping and offline HTML."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest
from _uidata import XSS_NAME, small_batch

from graph.render import (
    AGGREGATE_THRESHOLD,
    aggregate_by_district,
    build_network,
    district_members,
    ego_view,
    filter_view,
    layout_positions,
    node_tooltip,
    view_tables,
)
from graph.store import EmbeddedStore

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
