"""Tests of the meeting planner: invitees, roles, tables, invitation list and attendance records."""

import datetime as dt

import pytest

from graph.errors import GraphError, NotFound
from graph.meeting import attendance_relations, invitation_rows, pair_value, plan_meeting
from graph.model import Relation
from tests._graphs import build, event, org, rel

TODAY = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def G():
    return build(
        orgs=[
            org("host", "advisory_service", sectors=["volunteering"], name="Gastgeber", email="info@host.example"),
            org("mso-iso", sectors=["child_youth"]),
            org("mso-bridge", sectors=["culture"]),
            org("mso-plain", sectors=["culture"]),
            org("ki", "municipal_integration_centre", sectors=["education"]),
            org("awo", "welfare_association", sectors=["seniors_care"]),
            org("reg-new", "regular_service", sectors=["disability"]),
            org("reg-old", "regular_service", sectors=["child_youth"]),
            org("reg-linked", "regular_service", sectors=["sport"]),
            org("ministry", "state_ministry"),
            org("bonn-mso", city="Bonn"),
        ],
        relations=[rel("mso-iso", "ki"), rel("mso-bridge", "ki"), rel("mso-bridge", "awo"),
                   rel("mso-plain", "awo"), rel("awo", "reg-old"), rel("reg-linked", "mso-plain")],
    )


def test_invitees_roles_and_tables(G):
    plan = plan_meeting(G, 6, today=TODAY, district="05315", organisers=["Gastgeber"], tables=2)
    assert [(r["id"], r["role"]) for r in plan["invitees"]] == [
        ("host", "Veranstalter"), ("mso-iso", "isolierte MSO"), ("mso-bridge", "Brückenakteur"),
        ("awo", "Brückenakteur"), ("mso-plain", "MSO"), ("reg-new", "Regeldienst"),
    ]
    assert [(t["table"], t["members"], t["new_ties"], t["cross_field_new_ties"]) for t in plan["tables"]] == [
        (1, ["host", "mso-bridge", "mso-plain"], 3, 2),
        (2, ["mso-iso", "awo", "reg-new"], 3, 2),
    ]
    assert {r["id"]: r["table"] for r in plan["invitees"]}["awo"] == 2
    assert plan["summary"] == {"capacity": 6, "invited": 6, "msos": 3, "migration_field": 3, "outside": 3,
                               "new_ties": 6, "cross_field_new_ties": 4, "possible_new_ties": 13,
                               "possible_cross_field_new_ties": 7, "tables": 2}
    assert plan["notes"] == []


def test_reasons_explain_the_choice(G):
    plan = plan_meeting(G, 6, today=TODAY, district="05315", organisers=["host"], tables=2)
    reasons = {r["id"]: r["reasons"] for r in plan["invitees"]}
    assert reasons["host"] == ["Veranstaltet das Treffen (vorgegeben)."]
    assert reasons["mso-iso"][0].startswith("MSO ohne Verbindung zu Regeldiensten")
    assert reasons["awo"][0] == ("Verbunden mit dem Migrationsbereich (MSO-BRIDGE, MSO-PLAIN) und mit "
                                 "Organisationen außerhalb (REG-OLD) – kann Kontakte vermitteln.")
    assert reasons["awo"][1] == "Vermittelt im regionalen Netzwerk (Rang 1 von 10 nach Betweenness)."
    assert reasons["reg-new"] == [
        "Bisher ohne Verbindung zum Migrationsbereich – neue Kontakte über die Feldgrenze möglich.",
        "Bringt Handlungsfelder ein, die sonst fehlen: Behinderung und Inklusion.",
    ]


def test_tables_avoid_pairs_that_are_already_tied(G):
    plan = plan_meeting(G, 6, today=TODAY, district="05315", organisers=["host"], tables=2)
    for table in plan["tables"]:
        members = set(table["members"])
        assert not {"mso-bridge", "awo"} <= members and not {"mso-plain", "awo"} <= members


def test_shared_recent_event_means_not_isolated():
    G = build(orgs=[org("m"), org("r", "regular_service"), org("m-old"), org("r-old", "regular_service")],
              relations=[rel("m", "e", "attended_event"), rel("r", "e", "organised_event"),
                         rel("m-old", "e-old", "attended_event"), rel("r-old", "e-old", "attended_event")],
              events=[event("e", "2024-05-01"), event("e-old", "2020-05-01")])
    roles = {r["id"]: r["role"] for r in plan_meeting(G, 4, today=TODAY, tables=1)["invitees"]}
    assert roles["m-old"] == "isolierte MSO" and roles["m"] != "isolierte MSO"


def test_topic_filter_and_few_candidates_note(G):
    plan = plan_meeting(G, 10, today=TODAY, topic="Kinder- und Jugendhilfe", tables=3)
    assert [r["id"] for r in plan["invitees"]] == ["mso-iso", "reg-old"]
    assert plan["notes"] == ["Nur 2 passende Organisationen gefunden; 8 Plätze bleiben frei. "
                             "Filter (Region, Thema) lockern, um mehr einzuladen."]
    assert [t["members"] for t in plan["tables"]] == [["mso-iso"], ["reg-old"]]


def test_invalid_requests(G):
    with pytest.raises(GraphError, match="Veranstalter"):
        plan_meeting(G, 1, today=TODAY, organisers=["host", "awo"])
    with pytest.raises(NotFound):
        plan_meeting(G, 5, today=TODAY, organisers=["Unbekannt e.V."])
    with pytest.raises(GraphError):
        plan_meeting(G, 5, today=TODAY, tables=0)


def test_empty_graph():
    plan = plan_meeting(build(), 5, today=TODAY)
    assert plan["invitees"] == [] and plan["tables"] == [] and plan["summary"]["invited"] == 0


def test_invitation_rows(G):
    plan = plan_meeting(G, 6, today=TODAY, district="05315", organisers=["host"], tables=2)
    rows = invitation_rows(G, plan)
    assert [(r["Tisch"], r["Name"]) for r in rows] == [
        (1, "Gastgeber"), (1, "MSO-BRIDGE"), (1, "MSO-PLAIN"), (2, "AWO"), (2, "MSO-ISO"), (2, "REG-NEW")]
    assert list(rows[0]) == ["Tisch", "Name", "Typ", "Ort", "E-Mail", "Rolle", "Begründung"]
    assert rows[0]["E-Mail"] == "info@host.example" and rows[1]["E-Mail"] == ""
    assert "E-Mail" not in invitation_rows(G, plan, include_email=False)[0]
    plan_without_host = plan_meeting(G, 3, today=TODAY, district="05315", tables=1)
    assert [r["id"] for r in plan_without_host["invitees"]] == ["mso-iso", "awo", "mso-bridge"]
    assert "E-Mail" not in invitation_rows(G, plan_without_host)[0]


def test_attendance_relations():
    rels = attendance_relations("e1", ["a", "b", "a", ""], source="Teilnahmeliste", updated="2025-07-01")
    assert rels == [Relation("a", "e1", "attended_event", source="Teilnahmeliste", updated="2025-07-01"),
                    Relation("b", "e1", "attended_event", source="Teilnahmeliste", updated="2025-07-01")]
    with pytest.raises(GraphError):
        attendance_relations("", ["a"], source="x", updated="2025-07-01")


def test_pair_value():
    mso = {"org_type": "mso", "sectors": ["culture"]}
    reg = {"org_type": "regular_service", "sectors": ["culture"]}
    assert pair_value(mso, reg, tied=False) == 4
    assert pair_value(mso, {"org_type": "mso", "sectors": []}, tied=False) == 3
    assert pair_value(mso, reg, tied=True) == 0


def test_regierungsbezirk_filter_ignores_spelling_and_reasons_name_the_contacts(G):
    plan = plan_meeting(G, 20, today=TODAY, regierungsbezirk="  KÖLN ")
    invited = {r["id"] for r in plan["invitees"]}
    assert {"bonn-mso", "mso-iso", "reg-linked", "awo"} <= invited  # Bonn and Köln: both Regierungsbezirk Köln
    reasons = {r["id"]: r["reasons"] for r in plan["invitees"]}
    assert reasons["reg-linked"][0] == "Hat erste Kontakte zum Migrationsbereich (MSO-PLAIN)."
    assert reasons["reg-new"][0].startswith("Bisher ohne Verbindung zum Migrationsbereich")
    elsewhere = plan_meeting(G, 20, today=TODAY, regierungsbezirk="Detmold")
    assert elsewhere["invitees"] == [] and elsewhere["notes"]
