"""The contract's rules as pure functions (graph/rules.py), and every store applying them alike."""

from __future__ import annotations

import pytest

from msonet.graph.errors import ValidationError
from msonet.graph.json_store import JsonStore
from msonet.graph.model import Event, Funding, Organisation, RecordBatch, Relation, relation_key, tie_ends
from msonet.graph.rules import (
    OrganisationFilter,
    batch_ids,
    check_references,
    funding_key,
    kind_conflicts,
    node_rows,
    programme_node,
    programme_rows,
    tie_rows,
)
from msonet.graph.store import EmbeddedStore
from msonet.graph.vocabulary import EVENT_RELATIONS, NODE_KINDS, RELATION_TYPES, target_kind


def org(id_: str, name: str = "Verein", **kw) -> Organisation:
    return Organisation(id_, name, kw.pop("org_type", "mso"), **kw)


def event(id_: str, **kw) -> Event:
    return Event(id_, "Fest", "festival", "2024-05-01", **kw)


# -- id/kind checks ----------------------------------------------------------------------------------------------
def test_one_id_for_an_organisation_and_an_event_in_one_batch_names_both_files():
    batch = RecordBatch(organisations=[org("x", source="orgs.csv")], events=[event("x", source="events.csv")])
    (problem,) = kind_conflicts(batch, lambda node_id: None)
    assert (problem.file, problem.row, problem.column, problem.value) == ("events.csv", None, "id", "x")
    assert problem.expected == ("eine eigene Id für die Veranstaltung – „x“ ist in derselben Ladung schon die Id "
                                "einer Organisation (in orgs.csv); bitte eine der beiden Ids ändern")


def test_an_id_stored_for_another_kind_is_a_conflict():
    batch = RecordBatch(events=[event("o-1", source="events.csv")])
    (problem,) = kind_conflicts(batch, {"o-1": "organisation"}.get)
    assert problem.file == "events.csv" and problem.value == "o-1"
    assert problem.expected == ("eine eigene Id für die Veranstaltung – „o-1“ ist im Speicher schon die Id einer "
                                "Organisation; bitte eine andere Id wählen")
    assert kind_conflicts(batch, {"o-1": "event"}.get) == []  # the same kind: an update


def test_a_record_without_file_is_named_by_its_kind():
    batch = RecordBatch(organisations=[org("x")], events=[event("x")])
    (problem,) = kind_conflicts(batch, lambda node_id: None)
    assert problem.file == "Veranstaltungen"


def test_a_programme_whose_id_is_an_organisation_is_a_conflict():
    funding = Funding("f-1", "o-1", "X", "project_funding", source="foerderung.csv")
    assert funding.programme_id == "prog-x"
    in_batch = RecordBatch(organisations=[org("o-1"), org("prog-x")], fundings=[funding])
    (problem,) = check_references(in_batch, lambda node_id: None)
    assert (problem.file, problem.column, problem.value) == ("foerderung.csv", "programme", "X")
    assert "„prog-x“" in problem.expected and "Organisation" in problem.expected
    stored = RecordBatch(fundings=[funding])
    (problem,) = check_references(stored, {"o-1": "organisation", "prog-x": "event"}.get)
    assert problem.column == "programme" and "Veranstaltung" in problem.expected
    assert check_references(stored, {"o-1": "organisation", "prog-x": "programme"}.get) == []


def test_references_must_name_known_nodes_of_the_right_kind():
    batch = RecordBatch(organisations=[org("a")], events=[event("e")],
                        relations=[Relation("a", "e", "member_of", source="ties.csv"),
                                   Relation("a", "a", "cooperates_with", source="ties.csv"),
                                   Relation("a", "b", "attended_event")],
                        fundings=[Funding("f", "nobody", "P", "project_funding")])
    problems = check_references(batch, lambda node_id: None)
    assert [(p.file, p.column, p.value) for p in problems] == [
        ("ties.csv", "target_id", "e"),  # an event where an organisation belongs
        ("ties.csv", "target_id", "a"),  # a tie to itself
        ("Beziehungen", "target_id", "b"),  # unknown
        ("Förderungen", "org_id", "nobody"),
    ]
    assert problems[0].expected == "eine bekannte Organisation (Id oder Name) – bitte zuerst laden"
    assert problems[2].expected == "eine bekannte Veranstaltung (Id oder Name) – bitte zuerst laden"
    # stored nodes count as known
    assert check_references(RecordBatch(relations=[Relation("a", "b", "member_of")]),
                            {"a": "organisation", "b": "organisation"}.get) == []


def test_batch_ids_lists_every_id_a_store_must_look_up():
    batch = RecordBatch(organisations=[org("a")], events=[event("e")], relations=[Relation("a", "b", "member_of")],
                        fundings=[Funding("f", "c", "P", "project_funding")])
    assert batch_ids(batch) == {"a", "e", "b", "c", "prog-p"}


# -- canonical rows ----------------------------------------------------------------------------------------------
def test_symmetric_ties_sort_their_ends_and_directed_ones_keep_them():
    assert tie_ends("tandem_partner", "z", "a") == ("a", "z")
    assert tie_ends("cooperates_with", "a", "z") == ("a", "z")
    assert tie_ends("member_of", "z", "a") == ("z", "a")
    assert relation_key("cooperates_with", "z", "a") == relation_key("cooperates_with", "a", "z")


def test_tie_rows_are_relations_then_fundings_in_load_order():
    batch = RecordBatch(relations=[Relation("b", "a", "cooperates_with", since="2020"),
                                   Relation("b", "a", "member_of")],
                        fundings=[Funding("f-1", "a", "KOMM-AN NRW", "pass_through_funding", amount=10.0)])
    ties = tie_rows(batch)
    assert [(t.source, t.target, t.key, t.type, t.counter) for t in ties] == [
        ("a", "b", "cooperates_with|a|b", "cooperates_with", "relations"),
        ("b", "a", "member_of|b|a", "member_of", "relations"),
        ("a", "prog-komm-an-nrw", "funded_by|f-1", "funded_by", "fundings"),
    ]
    assert ties[0].props["since"] == "2020" and ties[2].props["amount"] == 10.0
    assert funding_key("f-1") == "funded_by|f-1"


def test_a_programme_node_comes_from_its_first_funding_record():
    first = Funding("f-1", "a", "KOMM-AN NRW", "pass_through_funding", source="a.csv", updated="2024-01-01")
    later = Funding("f-2", "b", "KOMM-AN NRW", "project_funding", source="b.csv")
    assert programme_node(first) == {"id": "prog-komm-an-nrw", "kind": "programme", "name": "KOMM-AN NRW",
                                     "funding_kind": "pass_through_funding", "source": "a.csv",
                                     "updated": "2024-01-01"}
    assert programme_rows(RecordBatch(fundings=[first, later])) == {"prog-komm-an-nrw": programme_node(first)}


def test_node_rows_are_organisations_then_events_with_the_given_fields_only():
    partial = Organisation("a", "A", "mso", phone=None, given=frozenset({"phone"}))
    rows = node_rows(RecordBatch(organisations=[partial], events=[event("e")]))
    assert [(kind, node_id) for kind, node_id, _ in rows] == [("organisation", "a"), ("event", "e")]
    assert "email" not in rows[0][2] and rows[0][2]["phone"] is None and rows[0][2]["kind"] == "organisation"


# -- the organisation filter --------------------------------------------------------------------------------------
ROWS = [
    {"id": "o-2", "kind": "organisation", "name": "Straßen-Verein", "org_type": "mso", "district": "05315",
     "regierungsbezirk": "Köln", "city": "Köln", "sectors": ["education"]},
    {"id": "o-1", "kind": "organisation", "name": "Straßen-Verein", "org_type": "regular_service",
     "district": "05315", "regierungsbezirk": "Köln", "city": "KÖLN", "sectors": []},
    {"id": "o-3", "kind": "organisation", "name": None, "org_type": "mso", "city": None, "sectors": None},
    {"id": "e-1", "kind": "event", "name": "Straßenfest", "city": "Köln"},
]


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, ["o-3", "o-1", "o-2"]),  # no name first, then name, then id; never an event
    ({"org_type": "mso"}, ["o-3", "o-2"]),
    ({"district": "05315", "regierungsbezirk": "Köln"}, ["o-1", "o-2"]),
    ({"sector": "education"}, ["o-2"]),
    ({"city": "köln"}, ["o-1", "o-2"]),
    ({"name_contains": "STRASSEN"}, ["o-1", "o-2"]),  # case-folded: ß = ss
    ({"name_contains": "fest"}, []),
    ({"limit": 2}, ["o-3", "o-1"]),
    ({"org_type": "", "city": ""}, ["o-3", "o-1", "o-2"]),  # empty filters do not filter
])
def test_organisation_filter(filters, expected):
    assert [r["id"] for r in OrganisationFilter(**filters).select(ROWS)] == expected


def test_exact_filters_for_a_store_index():
    wanted = OrganisationFilter(org_type="mso", district="", sector="education", city="Köln")
    assert wanted.exact() == {"org_type": "mso", "district": None, "regierungsbezirk": None, "sector": "education"}


# -- vocabulary ---------------------------------------------------------------------------------------------------
def test_target_kind_of_every_relation_type():
    kinds = {rel: target_kind(rel) for rel in RELATION_TYPES}
    assert {rel for rel, kind in kinds.items() if kind == "event"} == EVENT_RELATIONS
    assert kinds["funded_by"] == "programme"
    assert set(kinds.values()) <= set(NODE_KINDS)
    with pytest.raises(KeyError):
        target_kind("knows")


# -- every store applies the same rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [EmbeddedStore, JsonStore], ids=["embedded", "json"])
def test_stores_report_the_rules_problems_unchanged(make):
    store = make(None)
    store.upsert(RecordBatch(organisations=[org("o-1", source="orgs.csv")]))
    for batch in (RecordBatch(events=[event("o-1", source="events.csv")]),  # against the stored kind
                  RecordBatch(organisations=[org("x", source="a.csv")], events=[event("x", source="b.csv")]),
                  RecordBatch(fundings=[Funding("f", "o-1", "P", "project_funding")],
                              organisations=[org("prog-p", source="a.csv")])):
        with pytest.raises(ValidationError) as info:
            store.upsert(batch)
        assert info.value.problems == check_references(batch, {"o-1": "organisation"}.get)
    assert store.counts() == {"organisations": 1, "events": 0, "programmes": 0, "relations": 0}


# -- Cypher: the per-server statement is built, not patched ----------------------------------------------------
def test_remove_organisation_unlabels_nodes_on_falkordb_only():
    from msonet.graph.cypher import statements

    falkor, neo = statements("falkordb")["remove_organisation"], statements("neo4j")["remove_organisation"]
    assert "REMOVE p:Programme DETACH DELETE p" in falkor and "REMOVE o:Organisation DETACH DELETE o" in falkor
    assert "REMOVE" not in neo and "DETACH DELETE o" in neo
    # otherwise the same statement
    assert falkor.replace("REMOVE p:Programme ", "").replace("REMOVE o:Organisation ", "") == neo


def test_network_views_and_store_searches_use_the_same_filter():
    """graph.render's view filter and find_organisations agree on every single-value filter."""
    import networkx as nx

    from msonet.graph.render import filter_view

    G = nx.MultiDiGraph()
    G.add_nodes_from((r["id"], r) for r in ROWS)
    for filters, view in (({"org_type": "mso"}, {"org_types": ["mso"]}), ({"city": "köln"}, {"cities": ["köln"]}),
                          ({"sector": "education"}, {"sectors": ["education"]}),
                          ({"name_contains": " strassen "}, {"name_contains": " strassen "})):
        found = {r["id"] for r in OrganisationFilter(**filters).select(ROWS)}
        shown = {n for n, d in filter_view(G, include_events=False, **view).nodes(data=True)
                 if d.get("kind") == "organisation"}
        assert found == shown, filters
