"""Tests of the tandem partner search: exact scores, filters, errors, index equals brute force."""

import math
import random

import pytest
from geopy.distance import geodesic

from msonet.graph.errors import GraphError, NotFound
from msonet.graph.partners import PARTNER_TYPES, NotAnMSO, PartnerIndex, _tie_key, ellipsoid_km, propose_partners
from tests._graphs import PLACES, build, org, rel


def km(a, b):
    return ellipsoid_km(PLACES[a][3:], PLACES[b][3:])


def score(sector, distance, proximity, openness, contacts=0):
    activity = min(1.0, math.log1p(contacts) / 5)
    return round(0.1 * sector + 0.5 * distance + 0.2 * proximity + 0.05 * openness + 0.15 * activity, 4)


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
    rows = propose_partners(G, "mso", diversify=False)
    lev = 1 / (1 + km("Köln", "Leverkusen") / 5)
    bonn = 1 / (1 + km("Köln", "Bonn") / 5)
    far = 1 / (1 + km("Köln", "Bielefeld") / 5)
    expected = sorted([
        (score(0.6, 1, 0, 1), "p-same"),
        (score(0.35, lev, 0, 1), "p-lev"),
        (score(0.25, 1, 0, 0.5, contacts=1), "p-tandem"),
        (score(0, bonn, 1 / math.log(3), 1, contacts=1), "p-common"),
        (score(0, 1, 0, 1), "p-nocoord"),
        (score(0.35, far, 0, 1), "p-far"),
    ], key=lambda s: (-s[0], s[1]))
    assert [(r["score"], r["id"]) for r in rows] == expected
    same = rows[0]
    assert same["parts"] == {"sector": 0.6, "distance": 1.0, "proximity": 0.0, "openness": 1.0, "activity": 0.0}
    assert same["distance_km"] == 0.0 and same["score"] == 0.61
    assert same["reasons"] == [
        "Gemeinsame Handlungsfelder: Kinder- und Jugendhilfe.",
        "Ergänzendes Handlungsfeld (wie im Tandemprojekt): Behinderung und Inklusion.",
        "Im selben Ort (Köln); genauer Abstand unbekannt, da nur der Ort bekannt ist.",
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
    for top in (0, -1, 501, 1_000_000_000):
        with pytest.raises(GraphError, match=f"zwischen 1 und 500 Vorschläge anfordern \\(angegeben: {top}\\)"):
            propose_partners(G, "mso", top=top)
    for max_km in (-1, float("nan"), float("inf")):
        with pytest.raises(GraphError, match="Entfernung"):
            propose_partners(G, "mso", max_km=max_km)


def test_not_an_mso_is_a_clear_german_error(G):
    with pytest.raises(NotAnMSO, match="ist keine MSO \\(Typ: Regeldienst\\)"):
        propose_partners(G, "p-same")
    with pytest.raises(NotFound):
        propose_partners(G, "gibt-es-nicht")


def test_mso_without_candidates():
    G = build(orgs=[org("a"), org("b"), org("ki", "municipal_integration_centre")])
    assert propose_partners(G, "a") == []
    assert propose_partners(G, "a", index=PartnerIndex(G)) == []


def test_equal_scores_break_by_distance_then_a_seeded_order_never_by_name():
    G = build(orgs=[org("m"), org("x2", "regular_service"), org("x1", "regular_service"),
                    org("x3", "regular_service"), org("a-far", "regular_service", city="Leverkusen",
                                                       sectors=["child_youth"])])
    rows = propose_partners(G, "m", diversify=False)
    same = [r["id"] for r in rows if r["city"] == "Köln"]
    assert same == sorted(["x1", "x2", "x3"], key=lambda c: _tie_key("m", c))
    # the names (and insertion order) do not matter: renamed and reversed, the order stays
    H = build(orgs=[org("m"), org("x3", "regular_service", name="A"), org("x1", "regular_service", name="Z"),
                    org("x2", "regular_service", name="M")])
    assert [r["id"] for r in propose_partners(H, "m", diversify=False)] == same


def test_index_equals_brute_force_on_the_hand_built_graph(G):
    index = PartnerIndex(G)
    for kwargs in ({}, {"max_km": 15}, {"sector": "culture"}, {"top": 3}, {"max_km": 0}):
        assert propose_partners(G, "mso", index=index, **kwargs) == propose_partners(G, "mso", **kwargs)


def _random_graph(seed: int, n: int = 400, jitter: float = 0.3):
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
        if o.lat is not None and jitter:
            shift = (rng.uniform(-jitter, jitter), rng.uniform(-jitter, jitter))
            o = o.__class__(**{**{f: getattr(o, f) for f in o.__slots__},
                               "lat": o.lat + shift[0], "lon": o.lon + shift[1]})
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


@pytest.mark.parametrize("seed", [3, 4])
def test_index_equals_brute_force_with_many_equal_scores(seed):
    """Candidates only at the few city points: long runs of equal scores and distances (decided by the
    seeded order), and a distance limit exactly at a city's distance (the vectorised bound must not cut it)."""
    G = _random_graph(seed, n=300, jitter=0.0)
    index = PartnerIndex(G)
    msos = sorted(n for n, d in G.nodes(data=True) if d.get("org_type") == "mso" and d.get("lat") is not None)[:12]
    for mso in msos:
        here = (G.nodes[mso]["lat"], G.nodes[mso]["lon"])
        limit = sorted(ellipsoid_km(here, (d["lat"], d["lon"])) for _, d in G.nodes(data=True)
                       if d.get("lat") is not None)[len(G) // 3]
        for kwargs in ({"top": 4}, {"top": 12, "diversify": False}, {"top": 6, "max_km": limit},
                       {"top": 25, "max_km": limit, "include_umbrella": True, "include_migration_services": True}):
            assert propose_partners(G, mso, index=index, **kwargs) == propose_partners(G, mso, **kwargs), (mso, kwargs)


def test_index_keeps_every_equal_candidate_at_the_cut():
    """More equal candidates than places in the list: which of them make it is the seeded order's choice,
    so the index must not stop at the first ones it meets (it sees them in column order, by id)."""
    cities = list(PLACES)[:3]
    G = build(orgs=[org("m", sectors=["culture"])] + [
        org(f"{city[:2]}{i:02d}", "regular_service", city=city, sectors=["culture"] if i % 3 else [])
        for city in cities for i in range(15)])
    index = PartnerIndex(G)
    for top in (1, 4, 10, 16, 40):
        for diversify in (False, True):
            rows = propose_partners(G, "m", index=index, top=top, diversify=diversify)
            assert rows == propose_partners(G, "m", top=top, diversify=diversify), (top, diversify)
    first = [r["id"] for r in propose_partners(G, "m", index=index, top=4, diversify=False)]
    runs = [f"{cities[0][:2]}{i:02d}" for i in range(15) if i % 3]
    assert first == sorted(runs, key=lambda c: _tie_key("m", c))[:4] != sorted(runs)[:4]


def test_ellipsoid_distance_is_within_a_metre_of_the_geodesic_in_nrw():
    rng = random.Random(11)
    pairs = [((rng.uniform(50.2, 52.6), rng.uniform(5.8, 9.5)), (rng.uniform(50.2, 52.6), rng.uniform(5.8, 9.5)))
             for _ in range(1500)]
    pairs += [(a, (a[0] + rng.uniform(-0.05, 0.05), a[1] + rng.uniform(-0.05, 0.05))) for a, _ in pairs[:500]]
    for a, b in pairs:
        assert abs(ellipsoid_km(a, b) - geodesic(a, b).km) < 0.001, (a, b)
        assert ellipsoid_km(a, b) == ellipsoid_km(b, a)
    assert ellipsoid_km((51.0, 7.0), (51.0, 7.0)) == 0.0
    # Köln Dom – Dortmund Hbf: 73.0 km along the geodesic
    assert round(ellipsoid_km((50.9413, 6.9583), (51.5178, 7.4593)), 1) == round(
        geodesic((50.9413, 6.9583), (51.5178, 7.4593)).km, 1)


def test_lower_bound_is_never_above_the_geodesic():
    from msonet.graph.partners import lower_bound_km

    rng = random.Random(3)
    for _ in range(2000):
        a = (rng.uniform(47, 55), rng.uniform(5, 15))
        b = (a[0] + rng.uniform(-2, 2) * rng.random() ** 3, a[1] + rng.uniform(-3, 3) * rng.random() ** 3)
        assert lower_bound_km(a, b) <= ellipsoid_km(a, b) <= geodesic(a, b).km + 0.001


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
        ("same-district", 0.3, None, score(0.35, 0.3, 0, 1)),
        ("elsewhere", 0.0, None, score(0.6, 0, 0, 1)),
    ]
    assert "Im selben Kreis (Heinsberg); Entfernung unbekannt, da Koordinaten fehlen." in rows[1]["reasons"]
    index = PartnerIndex(G)
    for kwargs in ({}, {"top": 1}, {"max_km": 5}):
        assert propose_partners(G, "m", index=index, **kwargs) == propose_partners(G, "m", **kwargs)
    assert [r["id"] for r in propose_partners(G, "m", max_km=5)] == ["same-town"]


def test_umbrella_bodies_and_migration_services_only_on_request():
    G = build(
        orgs=[
            org("mso", sectors=["child_youth"]),
            org("lv", "welfare_association", name="Der Paritätische NRW", sectors=["child_youth"]),
            org("dach", "welfare_association", name="Caritas Dachverband", sectors=["child_youth"]),
            org("hub", "welfare_association", name="Verbund Nord", sectors=["child_youth"]),
            org("m1", city="Bonn"), org("m2", city="Bochum"), org("m3", city="Bielefeld"),
            org("fdi", "welfare_association", name="AWO Fachdienst Integration Köln", sectors=["child_youth"]),
            org("fh", "initiative", name="Helfende Hände", sectors=["refugees", "volunteering"]),
            org("local", "welfare_association", name="AWO Ortsverein Köln", sectors=["child_youth"]),
        ],
        relations=[rel("m1", "hub", "member_of"), rel("m2", "hub", "member_of"), rel("m3", "hub", "member_of")],
    )
    assert [r["id"] for r in propose_partners(G, "mso")] == ["local"]
    with_umbrella = {r["id"] for r in propose_partners(G, "mso", include_umbrella=True)}
    assert with_umbrella == {"local", "lv", "dach", "hub"}  # hub: members in three districts
    with_services = {r["id"] for r in propose_partners(G, "mso", include_migration_services=True)}
    assert with_services == {"local", "fdi", "fh"}


def test_distance_inside_a_city_decides_not_the_name():
    # Alphabetically first candidates sit at the far end of Dortmund; the right answer is the nearest.
    dortmund = dict(city="Dortmund")
    G = build(orgs=[
        org("mso", sectors=["child_youth"], lat=51.5132, lon=7.4754, location_precision="postcode", **dortmund),
        org("a1", "education_provider", name="A Gesamtschule", sectors=["child_youth"], lat=51.5714,
            lon=7.3977, location_precision="postcode", **dortmund),
        org("a2", "education_provider", name="B Gesamtschule", sectors=["child_youth"], lat=51.4424,
            lon=7.4907, location_precision="postcode", **dortmund),
        org("z1", "education_provider", name="Z Gesamtschule", sectors=["child_youth"], lat=51.5082,
            lon=7.4488, location_precision="postcode", postcode="44137", **dortmund),
    ])
    rows = propose_partners(G, "mso", diversify=False)
    assert [r["id"] for r in rows] == ["z1", "a2", "a1"]
    km = ellipsoid_km((51.5132, 7.4754), (51.5082, 7.4488))
    assert rows[0]["distance_km"] == round(km, 1) and rows[0]["distance_precision"] == "postcode"
    shown = f"{km:.1f}".replace(".", ",")
    assert f"Entfernung ca. {shown} km, nach Postleitzahl (Dortmund, PLZ 44137)." in rows[0]["reasons"]
    assert len({r["distance_km"] for r in rows}) == 3


def test_same_postcode_says_so_instead_of_zero_km():
    dortmund = dict(city="Dortmund", lat=51.5082, lon=7.4488, location_precision="postcode", postcode="44137")
    G = build(orgs=[org("mso", sectors=["child_youth"], **dortmund),
                    org("p", "education_provider", sectors=["child_youth"], **dortmund)])
    [row] = propose_partners(G, "mso")
    assert row["distance_km"] == 0.0 and not any("0,0 km" in r for r in row["reasons"])
    assert ("Gleiche Postleitzahl (Dortmund, PLZ 44137); genauer Abstand unbekannt, da nur die Postleitzahl "
            "bekannt ist.") in row["reasons"]


def test_near_equal_candidates_span_types_and_carriers():
    same = dict(sectors=["child_youth"])
    G = build(orgs=[
        org("mso", **same),
        *[org(f"s{i}", "education_provider", name=f"Gesamtschule {i}", **same) for i in range(4)],
        *[org(f"w{i}", "welfare_association", name=f"AWO Stadtteilbüro {i}", **same) for i in range(3)],
        org("c0", "welfare_association", name="Caritas Sozialdienst", **same),
        org("j0", "sports_club", name="Sportverein", **same),
    ])
    rows = propose_partners(G, "mso", top=4)
    assert len({r["score"] for r in rows}) == 1  # all near-equal
    types = [r["org_type"] for r in rows]
    assert len(set(types)) == 3  # school, welfare, sports club before a second school
    carriers = [r["carrier"] for r in rows if r["carrier"]]
    assert len(carriers) == len(set(carriers))  # AWO and Caritas, not AWO twice
    plain = propose_partners(G, "mso", top=4, diversify=False)
    assert [r["id"] for r in rows] != [r["id"] for r in plain]
    lifted = [r for r in rows if r["reasons"][-1].startswith("Für Vielfalt vorgezogen")]
    assert lifted and lifted[0]["reasons"][-1].endswith(
        "– Organisationen dieser Art stehen schon weiter oben in der Liste.")
