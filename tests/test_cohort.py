"""Tests of the cohort planner: matching beats greedy, each organisation at most once."""

import pytest

from msonet.graph.cohort import eligible_msos, plan_cohort
from msonet.graph.errors import GraphError
from msonet.graph.partners import PartnerIndex, propose_partners
from tests._graphs import build, org, rel


@pytest.fixture(scope="module")
def G():
    # All in Köln, so only sectors and ties matter. B already cooperates with P2, so B's only
    # candidate is P1 - which is also A's favourite.
    return build(
        orgs=[org("mso-a", sectors=["culture", "sport"]), org("mso-b", sectors=["sport"]),
              org("p1", "regular_service", sectors=["culture", "sport"]),
              org("p2", "regular_service", sectors=["culture"])],
        relations=[rel("mso-b", "p2")],
    )


def test_matching_beats_greedy(G):
    # Scores: A-P1 0.62, A-P2 0.6058 (P2 has one contact: activity), B-P1 0.585 (B-P2 excluded: tied).
    assert [(r["id"], r["score"]) for r in propose_partners(G, "mso-a")] == [("p1", 0.62), ("p2", 0.6058)]
    assert [(r["id"], r["score"]) for r in propose_partners(G, "mso-b")] == [("p1", 0.585)]
    greedy_total = 0.62  # A takes P1 first, B is left without a partner
    rows = plan_cohort(G, 2)
    assert [(r["mso_id"], r["partner_id"], r["score"]) for r in rows] == [("mso-a", "p2", 0.6058),
                                                                        ("mso-b", "p1", 0.585)]
    assert sum(r["score"] for r in rows) == pytest.approx(1.1908) and 1.1908 > greedy_total


def test_count_returns_the_best_pairs_of_the_matching(G):
    assert [(r["mso_id"], r["partner_id"]) for r in plan_cohort(G, 1)] == [("mso-a", "p2")]
    assert plan_cohort(G, 0) == []


def test_row_fields(G):
    row = plan_cohort(G, 1, index=PartnerIndex(G))[0]
    assert set(row) == {"mso_id", "mso_name", "mso_city", "partner_id", "partner_name", "partner_city",
                        "partner_org_type", "score", "distance_km", "parts", "reasons"}
    assert row["mso_name"] == "MSO-A" and row["partner_name"] == "P2" and row["distance_km"] == 0.0


def test_msos_with_a_tandem_are_left_out_and_nobody_twice():
    G = build(
        orgs=[org("m1"), org("m2"), org("m3"), org("m-busy"),
              org("r1", "regular_service"), org("r2", "regular_service"), org("r-busy", "regular_service")],
        relations=[rel("m-busy", "r-busy", "tandem_partner")],
    )
    assert sorted(eligible_msos(G)) == ["m1", "m2", "m3"]  # equal need: a seeded order, not the name
    rows = plan_cohort(G, 10)
    assert len(rows) == 3
    assert "m-busy" not in {r["mso_id"] for r in rows}
    partners = [r["partner_id"] for r in rows]
    assert sorted(partners) == ["r-busy", "r1", "r2"]  # r-busy is penalised but still free for one more


def test_district_and_distance_limit():
    G = build(orgs=[org("m-koeln"), org("m-biel", city="Bielefeld"),
                    org("r-biel", "regular_service", city="Bielefeld")])
    assert plan_cohort(G, 5, district="05315") == []  # the only partner is 150 km away
    assert [(r["mso_id"], r["partner_id"]) for r in plan_cohort(G, 5)] == [("m-biel", "r-biel")]
    assert [r["mso_id"] for r in plan_cohort(G, 5, max_km=None, district="05315")] == ["m-koeln"]


def test_pool_prefers_msos_without_ties_outside_the_migration_field():
    G = build(orgs=[org("a-linked"), org("b-alone"), org("r", "regular_service"), org("s", "regular_service")],
              relations=[rel("a-linked", "s")])
    assert eligible_msos(G) == ["b-alone", "a-linked"]
    assert [r["mso_id"] for r in plan_cohort(G, 1, pool=1)] == ["b-alone"]


def test_invalid_arguments():
    for count in (-1, 10**9):
        with pytest.raises(GraphError, match="zwischen 0 und 5.000 Tandems"):
            plan_cohort(build(), count)


def test_cohort_follows_the_partner_rules():
    G = build(orgs=[org("m", sectors=["sport"]), org("lv", "welfare_association", name="AWO Landesverband",
                                                        sectors=["sport"]),
                    org("fdi", "welfare_association", name="Caritas Fachdienst Integration", sectors=["sport"]),
                    org("club", "sports_club", city="Leverkusen", sectors=["sport"])])
    assert [r["partner_id"] for r in plan_cohort(G, 1)] == ["club"]
    assert [r["partner_id"] for r in plan_cohort(G, 1, include_umbrella=True)] == ["lv"]


@pytest.mark.parametrize("seed", range(5))
def test_max_weight_pairs_reaches_the_networkx_optimum(seed):
    import random

    import networkx as nx

    from msonet.graph.cohort import max_weight_pairs

    rng = random.Random(seed)
    weights = {(f"m{rng.randrange(12)}", f"p{rng.randrange(15)}"): rng.randrange(1, 10_000) for _ in range(40)}
    pairs = max_weight_pairs(weights)
    assert len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs})
    B = nx.Graph()
    B.add_weighted_edges_from((("m", a), ("p", b), w) for (a, b), w in weights.items())
    best = sum(B.edges[e]["weight"] for e in nx.max_weight_matching(B))
    assert sum(weights[p] for p in pairs) == best



def test_equal_totals_are_decided_by_the_seeded_order_not_by_id():
    from msonet.graph.cohort import _seeded, max_weight_pairs

    # Every pair weighs the same: both pairings reach the maximum. Which one is taken follows the seeded
    # order (here m0 before m1, but p1 before p0), not the ids' alphabetical order (m0-p0, m1-p1).
    assert sorted(["m0", "m1"], key=_seeded) == ["m0", "m1"] and sorted(["p0", "p1"], key=_seeded) == ["p1", "p0"]
    weights = {(m, p): 5 for m in ("m0", "m1") for p in ("p0", "p1")}
    assert max_weight_pairs(weights) == [("m0", "p1"), ("m1", "p0")]
    assert max_weight_pairs({**weights, ("m1", "p1"): 6}) == [("m0", "p0"), ("m1", "p1")]  # a better total wins
