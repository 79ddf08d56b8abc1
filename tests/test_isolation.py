"""Tests of the isolation analysis on a small hand-built network with exact expected reasons."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msonet.graph.errors import NotFound
from msonet.graph.isolation import isolated_organisations
from tests._graphs import build, event, org, rel

TODAY = dt.date(2025, 6, 30)  # window of 3 years starts on 2022-06-30


@pytest.fixture(scope="module")
def G():
    return build(
        orgs=[
            org("lonely"),
            org("ki", "municipal_integration_centre"),
            org("mso-a"), org("mso-b"), org("mso-c"), org("mso-d"),
            org("awo", "welfare_association"),
            org("jugendamt", "municipal_administration"),
            org("pair-1", "regular_service", city="Bielefeld"), org("pair-2", city="Bielefeld"),
            org("solo", "initiative", city="Bonn"),
        ],
        relations=[
            rel("mso-a", "ki"), rel("mso-a", "mso-b"), rel("mso-b", "awo", "member_of"), rel("awo", "jugendamt"),
            rel("ki", "awo"), rel("pair-1", "pair-2"),
            rel("mso-c", "e-window-start", "attended_event"), rel("jugendamt", "e-window-start", "organised_event"),
            rel("mso-d", "e-too-old", "attended_event"), rel("jugendamt", "e-too-old", "attended_event"),
            rel("ki", "e-today", "attended_event"), rel("awo", "e-future", "attended_event"),
            rel("solo", "e-solo", "attended_event"),
        ],
        events=[
            event("e-window-start", "2022-06-30"), event("e-too-old", "2022-06-29", name="Fachtag 2022"),
            event("e-today", "2025-06-30"), event("e-future", "2025-07-01"), event("e-solo", "2024-01-10"),
        ],
    )


def codes(rows):
    return [(r["id"], [x["code"] for x in r["reasons"]]) for r in rows]


def test_reasons_and_order(G):
    assert codes(isolated_organisations(G, today=TODAY)) == [
        ("lonely", ["no_ties", "no_regular_service_tie", "no_recent_event"]),
        ("mso-a", ["no_regular_service_tie", "no_recent_event"]),
        ("mso-d", ["no_regular_service_tie", "no_recent_event"]),
        ("awo", ["no_recent_event"]),
        ("mso-b", ["no_recent_event"]),
        # Bielefeld had no event in the window: no event could have reached the pair there
        ("pair-1", ["small_component"]),
        ("pair-2", ["small_component"]),
        ("solo", ["small_component"]),
    ]


def test_texts_name_the_specifics(G):
    rows = {r["id"]: {x["code"]: x["text"] for x in r["reasons"]} for r in isolated_organisations(G, today=TODAY)}
    assert rows["mso-a"]["no_regular_service_tie"].endswith("nur Kontakte zu: KI, MSO-B.")
    assert rows["mso-d"]["no_recent_event"] == (
        "Keine Teilnahme an einer Veranstaltung in den letzten 3 Jahren (seit 30.06.2022); "
        "zuletzt: Fachtag 2022 am 29.06.2022.")
    assert rows["lonely"]["no_recent_event"].endswith("bisher überhaupt keine Veranstaltung erfasst.")
    assert rows["pair-1"]["small_component"] == (
        "Gehört zu einer abgetrennten Gruppe von 2 Organisationen ohne Verbindung zum großen Netzwerk; "
        "die anderen: PAIR-2.")
    assert rows["solo"]["small_component"].startswith("Nur über Veranstaltungen")


def test_row_fields(G):
    row = isolated_organisations(G, today=TODAY)[0]
    assert row == {
        "id": "lonely", "name": "LONELY", "org_type": "mso", "org_type_label": "MSO", "city": "Köln",
        "district": "05315", "regierungsbezirk": "Köln", "lat": 50.9384, "lon": 6.9599, "reasons": row["reasons"],
    }


def test_event_window_is_a_parameter(G):
    # With 4 years the 2022-06-29 event counts: MSO-D now reaches the Jugendamt through it.
    rows = dict(codes(isolated_organisations(G, today=TODAY, event_years=4)))
    assert "mso-d" not in rows
    # One day later the window-start event falls out as well.
    rows = dict(codes(isolated_organisations(G, today=TODAY + dt.timedelta(days=1))))
    assert rows["mso-c"] == ["no_regular_service_tie", "no_recent_event"]


def test_filters_select_rows_but_analyse_the_whole_graph(G):
    assert [r["id"] for r in isolated_organisations(G, today=TODAY, org_type="MSO")] == [
        "lonely", "mso-a", "mso-d", "mso-b", "pair-2"]
    assert [r["id"] for r in isolated_organisations(G, today=TODAY, district="05711")] == ["pair-1", "pair-2"]
    assert [r["id"] for r in isolated_organisations(G, today=TODAY, regierungsbezirk="koeln")][:2] == [
        "lonely", "mso-a"]
    with pytest.raises(NotFound):
        isolated_organisations(G, today=TODAY, org_type="Raumschiff")


def test_small_component_limit(G):
    rows = dict(codes(isolated_organisations(G, today=TODAY, small_component_max=1)))
    assert "pair-1" not in rows
    assert rows["solo"] == ["small_component"]


def test_without_events_no_event_reason():
    G = build(orgs=[org("a"), org("b", "regular_service"), org("c")], relations=[rel("a", "b")])
    assert codes(isolated_organisations(G, today=TODAY)) == [("c", ["no_ties", "no_regular_service_tie"])]


def test_equal_largest_components_pick_the_one_with_the_smallest_id():
    G = build(orgs=[org("b1", "regular_service"), org("b2", "regular_service"),
                    org("a1", "regular_service"), org("a2", "regular_service")],
              relations=[rel("a1", "a2"), rel("b1", "b2")])
    assert codes(isolated_organisations(G, today=TODAY)) == [("b1", ["small_component"]),
                                                             ("b2", ["small_component"])]


def test_empty_graph():
    assert isolated_organisations(build(), today=TODAY) == []


def test_programme_funding_is_not_a_tie():
    from tests._graphs import funding
    G = build(orgs=[org("a", "regular_service")], fundings=[funding("f", "a", "project_funding", 10.0)])
    assert codes(isolated_organisations(G, today=TODAY)) == [("a", ["no_ties"])]


def test_no_recent_event_only_where_events_took_place():
    """An event in Bielefeld makes its absentees there "not reached"; a statewide event reaches everyone."""
    from msonet.graph.model import Event

    orgs = [org("bi-1", "regular_service", city="Bielefeld"), org("bi-2", city="Bielefeld"),
            org("k-1", "regular_service"), org("k-2")]
    relations = [rel("bi-1", "bi-2"), rel("k-1", "k-2"), rel("bi-1", "k-1"), rel("bi-1", "e-bi", "attended_event")]
    G = build(orgs=orgs, relations=relations, events=[event("e-bi", "2024-05-01", city="Bielefeld")])
    assert codes(isolated_organisations(G, today=TODAY)) == [("bi-2", ["no_recent_event"])]
    statewide = Event(id="e-online", name="Online-Fachtag", event_type="conference", date="2024-05-02",
                      synthetic=True, source="test")
    G = build(orgs=orgs, relations=[*relations, rel("k-2", "e-online", "attended_event")],
              events=[event("e-bi", "2024-05-01", city="Bielefeld"), statewide])
    assert codes(isolated_organisations(G, today=TODAY)) == [("bi-2", ["no_recent_event"]),
                                                            ("k-1", ["no_recent_event"])]


# --- the bounded group walk agrees with networkx' connected components -------------------------------------
def _expected_small(n_orgs, pairs, attendance, limit):
    """Reference: organisations with a tie in a group of at most ``limit`` that is not the largest group."""
    import networkx as nx

    ids = [f"o{i:02d}" for i in range(n_orgs)]
    H = nx.Graph()
    H.add_nodes_from(ids)
    H.add_edges_from((ids[a], ids[b]) for a, b in pairs if a != b)
    for number, members in enumerate(attendance):
        H.add_edges_from((f"e{number}", ids[m]) for m in members)
    groups = [sorted(n for n in part if n.startswith("o")) for part in nx.connected_components(H)]
    groups = [g for g in groups if g]
    largest = min(groups, key=lambda g: (-len(g), g[0]))
    return {o: len(g) for g in groups if g is not largest and len(g) <= limit for o in g if H.degree(o) > 0}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 18).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=14),
    st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=5, unique=True), max_size=3),
    st.integers(1, 6))))
def test_small_groups_match_connected_components(case):
    n_orgs, pairs, attendance, limit = case
    ids = [f"o{i:02d}" for i in range(n_orgs)]
    G = build(orgs=[org(i) for i in ids],
              relations=[rel(ids[a], ids[b]) for a, b in pairs if a != b]
              + [rel(ids[m], f"e{k}", "attended_event") for k, members in enumerate(attendance) for m in members],
              events=[event(f"e{k}", "2025-01-01") for k in range(len(attendance))])
    rows = isolated_organisations(G, today=TODAY, small_component_max=limit)
    found = {}
    for r in rows:
        for reason in r["reasons"]:
            if reason["code"] == "small_component":
                text = reason["text"]
                found[r["id"]] = int(text.split("Gruppe von ")[1].split()[0]) if "Gruppe von" in text else 1
    assert found == _expected_small(n_orgs, pairs, attendance, limit)


def test_an_event_window_longer_than_the_calendar_counts_every_event():
    """``isolated --years 1000000`` (issue 14.9): the window starts at the earliest date instead of failing."""
    import datetime as dt

    from msonet.graph.network import in_window, window_start

    today = dt.date(2024, 6, 1)
    assert window_start(today, 1_000_000) == dt.date.min == window_start(today, 2024)
    assert window_start(today, 2023) == dt.date(1, 6, 1)
    assert in_window(dt.date(1900, 1, 1), today, 10**9)
