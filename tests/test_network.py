"""Tests of the organisation projection, event windows and network key figures."""

import datetime as dt

import networkx as nx
import pytest

from msonet.graph.errors import GraphError
from msonet.graph.network import in_window, network_figures, organisation_graph, parse_date, window_start
from tests._graphs import build, event, funding, org, rel

TODAY = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def G():
    return build(
        orgs=[org("a"), org("b", "regular_service"), org("c"), org("d"), org("e", city="Bonn")],
        relations=[rel("a", "b"), rel("b", "c", "member_of"), rel("a", "b", "tandem_partner"),
                   rel("c", "e1", "attended_event"), rel("d", "e1", "organised_event"),
                   rel("a", "e-old", "attended_event"), rel("d", "e-old", "attended_event")],
        events=[event("e1", "2024-05-01"), event("e-old", "2019-05-01")],
        fundings=[funding("f", "a", "project_funding", 100.0)],
    )


def test_projection_links_direct_ties_and_shared_events(G):
    H = organisation_graph(G)
    assert sorted(H.nodes) == ["a", "b", "c", "d", "e"]
    assert sorted(H.edges(data=True)) == [
        ("a", "b", {"relations": ["cooperates_with", "tandem_partner"], "events": [], "weight": 2}),
        ("a", "d", {"relations": [], "events": ["e-old"], "weight": 1}),
        ("b", "c", {"relations": ["member_of"], "events": [], "weight": 1}),
        ("c", "d", {"relations": [], "events": ["e1"], "weight": 1}),
    ]
    assert H.nodes["a"]["org_type"] == "mso"


def test_projection_with_event_window_and_subset(G):
    H = organisation_graph(G, today=TODAY, event_years=3)
    assert sorted(H.edges) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert sorted(organisation_graph(G, nodes=["a", "b", "d"]).edges) == [("a", "b"), ("a", "d")]
    with pytest.raises(GraphError):
        organisation_graph(G, today=TODAY)


def test_network_figures_on_a_path(G):
    figures = network_figures(G, today=TODAY, event_years=3)
    assert {k: figures[k] for k in ("organisations", "ties", "components", "largest_component", "isolates",
                                    "density", "betweenness_exact")} == {
        "organisations": 5, "ties": 3, "components": 2, "largest_component": 4, "isolates": 1, "density": 0.3,
        "betweenness_exact": True}
    # Path a-b-c-d: b and c each lie on 2 of the 6 pairs' shortest paths (normalised by 4*3/2 = 6).
    assert [(b["id"], b["betweenness"]) for b in figures["brokers"]] == [("b", 0.333333), ("c", 0.333333)]


def test_communities_of_two_triangles():
    G = build(orgs=[org("a"), org("b"), org("c"), org("d", city="Bonn"), org("e", city="Bonn"),
                    org("f", "regular_service", city="Bonn")],
              relations=[rel("a", "b"), rel("b", "c"), rel("a", "c"), rel("d", "e"), rel("e", "f"), rel("d", "f"),
                         rel("c", "d")])
    figures = network_figures(G)
    assert figures["communities"]["count"] == 2
    first, second = figures["communities"]["largest"]
    assert (first["size"], first["district"], first["district_share"], first["examples"]) == (
        3, "05315", 1.0, ["A", "B", "C"])
    assert (second["district"], second["org_type"], second["org_type_share"]) == ("05314", "mso", 0.6667)
    assert [b["id"] for b in figures["brokers"]][:2] == ["c", "d"]


def test_sampled_betweenness_is_reproducible(G):
    one = network_figures(G, samples=2, seed=7)
    assert one == network_figures(G, samples=2, seed=7)
    assert one["betweenness_exact"] is False and "geschätzt" in one["notes"][0]


def test_empty_graph():
    figures = network_figures(build())
    assert figures["organisations"] == 0 and figures["brokers"] == [] and figures["communities"]["count"] == 0


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-01", dt.date(2024, 5, 1)), ("2024", dt.date(2024, 1, 1)), ("2024-05-01T10:00", dt.date(2024, 5, 1)),
    ("kein Datum", None), (None, None), ("", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_window_boundaries():
    assert window_start(dt.date(2024, 2, 29), 1) == dt.date(2023, 2, 28)
    assert in_window(dt.date(2022, 6, 30), TODAY, 3) and in_window(TODAY, TODAY, 3)
    assert not in_window(dt.date(2022, 6, 29), TODAY, 3)
    assert not in_window(TODAY + dt.timedelta(days=1), TODAY, 3)
    assert not in_window(None, TODAY, 3)
    with pytest.raises(GraphError):
        window_start(TODAY, -1)


def test_all_results_are_json_serialisable(G):
    import json
    from types import SimpleNamespace

    from msonet.graph.cohort import plan_cohort
    from msonet.graph.coverage import district_coverage, funding_mix
    from msonet.graph.isolation import isolated_organisations
    from msonet.graph.lookup import organisation_ties
    from msonet.graph.meeting import invitation_rows, plan_meeting
    from msonet.graph.partners import propose_partners

    plan = plan_meeting(G, 4, today=TODAY, tables=2)
    results = [
        network_figures(G), isolated_organisations(G, today=TODAY), organisation_ties(G, "a"),
        propose_partners(G, "a"), plan_cohort(G, 2), plan, invitation_rows(G, plan), funding_mix(G),
        district_coverage(G, {"05315": SimpleNamespace(name="Köln", regierungsbezirk="Köln", population=10)}),
    ]
    for result in results:
        assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("k", [None, 2, 17, 150])
def test_betweenness_equals_networkx(k):
    import networkx as nx

    from msonet.graph.network import betweenness

    for trial in range(3):
        G = nx.gnm_random_graph(200, 300 + 150 * trial, seed=trial)
        G.add_nodes_from(range(200, 205))  # organisations without ties
        G.add_edge(0, 0)  # a tie to itself changes no shortest path
        G = nx.relabel_nodes(G, {i: f"org-{i:03d}" for i in G})
        expected = nx.betweenness_centrality(G, k=k, seed=5)
        found = betweenness(G, k=k, seed=5)
        assert list(found) == list(expected)
        assert max(abs(found[v] - expected[v]) for v in G) < 1e-12
    assert betweenness(nx.path_graph(2)) == {0: 0.0, 1: 0.0}
    assert betweenness(nx.path_graph(3)) == {0: 0.0, 1: 1.0, 2: 0.0}


def _weighted_graph(seed: int, n: int, p: float, loops: bool) -> nx.Graph:
    import random

    rng = random.Random(seed)
    H = nx.Graph()
    names = [f"org-{rng.randrange(10**6):06d}-{i}" for i in range(n)]  # insertion order is not name order
    H.add_nodes_from(names)
    clusters = [names[i::5] for i in range(5)]
    for cluster in clusters:  # dense clusters, sparse between: several levels of merging
        for i, a in enumerate(cluster):
            for b in cluster[i + 1:]:
                if rng.random() < p:
                    H.add_edge(a, b, weight=rng.randint(1, 4))
    for _ in range(n // 2):
        a, b = rng.sample(names, 2)
        H.add_edge(a, b, weight=1)
    if loops:
        for a in rng.sample(names, n // 10):
            H.add_edge(a, a, weight=rng.randint(1, 3))
    return H


@pytest.mark.parametrize(("graph_seed", "n", "p", "loops"),
                         [(1, 60, 0.3, False), (2, 300, 0.05, True), (3, 500, 0.02, False), (4, 40, 0.9, True)])
def test_louvain_equals_networkx(graph_seed, n, p, loops):
    import networkx as nx

    from msonet.graph.network import louvain_communities

    H = _weighted_graph(graph_seed, n, p, loops)
    H.add_node("alone")  # a node without ties stays alone
    for seed in (0, 42, 2024):
        assert louvain_communities(H, seed=seed) == nx.community.louvain_communities(H, weight="weight", seed=seed)
    assert louvain_communities(H, weight=None) == nx.community.louvain_communities(H, weight=None, seed=42)


def test_louvain_with_fractional_weights_is_networkx_itself():
    import networkx as nx

    from msonet.graph.network import louvain_communities

    H = _weighted_graph(5, 80, 0.3, False)
    for _a, _b, data in H.edges(data=True):
        data["share"] = data["weight"] / 3
    assert louvain_communities(H, weight="share", seed=3) == nx.community.louvain_communities(H, weight="share", seed=3)
    assert louvain_communities(nx.empty_graph(3)) == [{0}, {1}, {2}]


@pytest.mark.parametrize("window", [{}, {"today": TODAY, "event_years": 3}])
def test_key_figures_graph_has_the_projections_ties_in_its_order(G, window):
    """network_figures builds only the weights; nodes, weights and the order of ties (which Louvain's result
    depends on) are those of organisation_graph."""
    full = organisation_graph(G, **window)
    lean = organisation_graph(G, **window, details=False)
    assert list(lean.nodes(data=True)) == list(full.nodes(data=True))
    assert {n: list(lean.adj[n]) for n in lean} == {n: list(full.adj[n]) for n in full}
    assert [(a, b, d["weight"]) for a, b, d in full.edges(data=True)] == list(lean.edges(data="weight"))
