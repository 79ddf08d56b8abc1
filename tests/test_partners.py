"""Tests of the tandem partner search: exact scores, filters, errors, index equals brute force."""

import math
import random

import pytest
from geopy.distance import geodesic

from graph.errors import GraphError, NotFound
from graph.partners import PARTNER_TYPES, NotAnMSO, PartnerIndex, propose_partners
from tests._graphs import PLACES, build, org, rel


def km(a, b):
    return geodesic(PLACES[a][3:], PLACES[b][3:]).km


def score(sector, distance, proximity, openness):
    return round(0.4 * sector + 0.3 * distance + 0.15 * proximity + 0.15 * openness, 4)


@pytest.fixture(scope="module")
def G():
    return build(
        orgs=[
            org("mso", sectors=["child_youth", "culture"], name="Coach e.V."),
            org("other-mso", sectors=["culture"]),
            org("p-same", "regular_service", sectors=["child_youth", "disability"]),
            org("p-lev", "welfare_association", city="Leverkusen", sectors=["culture"]),
            org("p-tandem", "self_help_group", sectors=["lgbtiq"]),
            org("p-tied", "regular_service", sectors=["child_youth"]),
            org("p-common", "sports_club", city="Bonn", sectors=["sport"]),
            org("p-nocoord", "regular_service", coords=False),
            org("p-far", "regular_service", city="Bielefeld", sectors=["child_youth"]),
            org("ki", "municipal_integration_centre", sectors=["child_youth"]),
            org("jugendamt", "municipal_administration", sectors=["child_youth"]),
        ],
        relations=[rel("p-tandem", "other-mso", "tandem_partner"), rel("mso", "p-tied"),
                   rel("p-tied", "p-common"), rel("mso", "ki", "advised_by")],
    )


def test_exact_ranking_and_parts(G):
    rows = propose_partners(G, "mso")
    lev = 1 / (1 + km("Köln", "Leverkusen") / 10)
    bonn = 1 / (1 + km("Köln", "Bonn") / 10)
    far = 1 / (1 + km("Köln", "Bielefeld") / 10)
    expected = sorted([
        (score(0.6, 1, 0, 1), "p-same"),
        (score(0.35, lev, 0, 1), "p-lev"),
        (score(0.25, 1, 0, 0.5), "p-tandem"),
        (score(0, bonn, 1 / math.log(3), 1), "p-common"),
        (score(0, 1, 0, 1), "p-nocoord"),
        (score(0.35, far, 0, 1), "p-far"),
    ], key=lambda s: (-s[0], s[1]))
    assert [(r["score"], r["id"]) for r in rows] == expected
    same = rows[0]
    assert same["parts"] == {"sector": 0.6, "distance": 1.0, "proximity": 0.0, "openness": 1.0}
    assert same["distance_km"] == 0.0 and same["score"] == 0.69
    assert same["reasons"] == [
        "Gemeinsame Handlungsfelder: Kinder- und Jugendhilfe.",
        "Ergänzendes Handlungsfeld (wie im Tandemprojekt): Behinderung und Inklusion.",
        "Im selben Ort (Köln).",
        "Noch in keinem Tandem.",
    ]
    by_id = {r["id"]: r for r in rows}
    assert by_id["p-lev"]["distance_km"] == round(km("Köln", "Leverkusen"), 1)
    assert any(x.startswith("Gemeinsame Kontakte: P-TIED") for x in by_id["p-common"]["reasons"])
    assert by_id["p-common"]["common_contacts"] == ["p-tied"]
    assert "Bereits Tandempartner von OTHER-MSO (weniger freie Kapazität)." in by_id["p-tandem"]["reasons"]
    assert by_id["p-nocoord"]["distance_km"] is None


def test_tied_migration_field_and_administration_are_not_candidates(G):
    ids = {r["id"] for r in propose_partners(G, "mso", top=100)}
    assert not ids & {"p-tied", "ki", "jugendamt", "other-mso", "mso"}
    assert {"state_ministry", "state_authority", "municipal_administration", "foundation", "mso",
            "municipal_integration_centre", "integration_agency"}.isdisjoint(PARTNER_TYPES)


def test_max_km_and_missing_coordinates(G):
    ids = [r["id"] for r in propose_partners(G, "mso", max_km=15)]
    # Leverkusen is 12 km away, Bonn 25 km; without coordinates only the same place counts.
    assert ids == ["p-same", "p-tandem", "p-nocoord", "p-lev"]


def test_sector_filter_accepts_labels(G):
    assert [r["id"] for r in propose_partners(G, "mso", sector="Behinderung")] == ["p-same"]
    assert [r["id"] for r in propose_partners(G, "mso", sector="child_youth")] == ["p-same", "p-far"]


def test_top_limits_and_zero(G):
    assert len(propose_partners(G, "mso", top=2)) == 2
    for top in (0, -1):
        with pytest.raises(GraphError, match="mindestens 1 Vorschlag"):
            propose_partners(G, "mso", top=top)
    for km in (float("nan"), -1.0):
        with pytest.raises(GraphError, match="Zahl ab 0 km"):
            propose_partners(G, "mso", max_km=km)


def test_not_an_mso_is_a_clear_german_error(G):
    with pytest.raises(NotAnMSO, match="ist keine MSO \\(Typ: Regeldienst\\)"):
        propose_partners(G, "p-same")
    with pytest.raises(NotFound):
        propose_partners(G, "gibt-es-nicht")


def test_mso_without_candidates():
    G = build(orgs=[org("a"), org("b"), org("ki", "municipal_integration_centre")])
    assert propose_partners(G, "a") == []
    assert propose_partners(G, "a", index=PartnerIndex(G)) == []


def test_equal_scores_break_by_id():
    G = build(orgs=[org("m"), org("x2", "regular_service"), org("x1", "regular_service"),
                    org("x3", "regular_service")])
    assert [r["id"] for r in propose_partners(G, "m")] == ["x1", "x2", "x3"]


def test_index_equals_brute_force_on_the_hand_built_graph(G):
    index = PartnerIndex(G)
    for kwargs in ({}, {"max_km": 15}, {"sector": "culture"}, {"top": 3}, {"max_km": 0}):
        assert propose_partners(G, "mso", index=index, **kwargs) == propose_partners(G, "mso", **kwargs)


def _random_graph(seed: int, n: int = 400):
    rng = random.Random(seed)
    cities = list(PLACES)
    types = ["mso", "mso", "mso", "regular_service", "welfare_association", "self_help_group", "sports_club",
             "integration_agency", "municipal_integration_centre", "foundation"]
    sectors = ["child_youth", "culture", "disability", "seniors_care", "women_girls", "lgbtiq", "sport",
               "education", "refugees"]
    orgs = []
    for i in range(n):
        # Points jitter around the cities so the grid walk crosses several cells and rings.
        city = rng.choice(cities)
        o = org(f"o{i:04d}", rng.choice(types), city=city, sectors=rng.sample(sectors, rng.randint(0, 3)),
                coords=rng.random() > 0.05)
        if o.lat is not None:
            o = o.__class__(**{**{f: getattr(o, f) for f in o.__slots__},
                               "lat": o.lat + rng.uniform(-0.3, 0.3), "lon": o.lon + rng.uniform(-0.3, 0.3)})
        orgs.append(o)
    relations = set()
    for _ in range(n * 2):
        a, b = rng.sample(range(n), 2)
        relations.add((f"o{a:04d}", f"o{b:04d}", rng.choice(["cooperates_with", "member_of", "tandem_partner"])))
    return build(orgs=orgs, relations=[rel(*r) for r in sorted(relations)])


@pytest.mark.parametrize("seed", [1, 2])
def test_index_equals_brute_force_on_random_graphs(seed):
    G = _random_graph(seed)
    index = PartnerIndex(G)
    msos = sorted(n for n, d in G.nodes(data=True) if d.get("org_type") == "mso")[:15]
    for mso in msos:
        for kwargs in ({"top": 5}, {"top": 10, "max_km": 30}, {"top": 3, "sector": "sport"}):
            assert propose_partners(G, mso, index=index, **kwargs) == propose_partners(G, mso, **kwargs), (mso, kwargs)


def test_lower_bound_is_never_above_the_geodesic():
    from graph.partners import lower_bound_km

    rng = random.Random(3)
    for _ in range(2000):
        a = (rng.uniform(47, 55), rng.uniform(5, 15))
        b = (a[0] + rng.uniform(-2, 2) * rng.random() ** 3, a[1] + rng.uniform(-3, 3) * rng.random() ** 3)
        assert lower_bound_km(a, b) <= geodesic(a, b).km


def test_mso_without_coordinates_uses_place_and_district():
    G = build(orgs=[
        org("m", city="Hückelhoven", coords=False, sectors=["culture"]),
        org("same-town", "regular_service", city="Hückelhoven"),
        org("same-district", "regular_service", city="Heinsberg", sectors=["culture"]),
        org("elsewhere", "regular_service", city="Köln", sectors=["culture", "disability"]),
    ])
    rows = propose_partners(G, "m")
    assert [(r["id"], r["parts"]["distance"], r["distance_km"], r["score"]) for r in rows] == [
        ("same-town", 1.0, None, score(0, 1, 0, 1)),
        ("elsewhere", 0.0, None, score(0.6, 0, 0, 1)),
        ("same-district", 0.3, None, score(0.35, 0.3, 0, 1)),
    ]
    assert "Im selben Kreis (Heinsberg); Entfernung unbekannt, da Koordinaten fehlen." in rows[2]["reasons"]
    index = PartnerIndex(G)
    for kwargs in ({}, {"top": 1}, {"max_km": 5}):
        assert propose_partners(G, "m", index=index, **kwargs) == propose_partners(G, "m", **kwargs)
    assert [r["id"] for r in propose_partners(G, "m", max_km=5)] == ["same-town"]
