"""Server-specific behaviour of the Cypher store: FalkorDB journal and recovery, connection errors."""

from __future__ import annotations

import re
import uuid

import pytest
from falkordb_server import FalkorDBServer, falkordb_available, free_port
from test_store_contract import assert_same_graph, org, reference, sample

from msonet.graph.cypher import REL_TYPES, falkordb_statements, neo4j_statements
from msonet.graph.cypher_store import CypherStore, FalkorDBRunner, connect_falkordb, connect_neo4j
from msonet.graph.errors import StoreUnavailable, ValidationError
from msonet.graph.model import Event, RecordBatch, Relation
from msonet.graph.vocabulary import RELATION_TYPES


@pytest.fixture
def graph_url(falkordb_server):
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield falkordb_server.url(name)
    cleanup = connect_falkordb(falkordb_server.url(name))
    cleanup.runner.graph.delete()
    cleanup.close()


class CrashingRunner(FalkorDBRunner):
    """A real FalkorDB runner whose connection 'drops' before the n-th load statement and stays down."""

    def __init__(self, runner: FalkorDBRunner, fail_at: str):
        super().__init__(runner.db, runner.graph_name, runner.where)
        self.fail_at = fail_at
        self.down = False

    def _run(self, name, params=None, read_only=False):
        if self.down or name == self.fail_at:
            self.down = True
            raise StoreUnavailable("Verbindung verloren (Test)")
        return super()._run(name, params, read_only)


def test_relation_types_map_one_to_one():
    assert set(REL_TYPES) == set(RELATION_TYPES)
    assert all(t.isupper() and t.replace("_", "").isalpha() for t in REL_TYPES.values())


def test_both_servers_share_every_store_statement():
    neo, falkor = neo4j_statements(), falkordb_statements()
    assert set(neo) - {"clear"} <= set(falkor)  # FalkorDB clears by deleting the graph key
    assert {n for n in falkor if n not in neo} == {
        "journal_write", "journal_read", "journal_drop", "journal_commit", "undo_delete_edges",
        "undo_delete_nodes:organisation", "undo_delete_nodes:event", "undo_delete_nodes:programme"}


def test_every_falkordb_statement_parses(graph_url):
    store = connect_falkordb(graph_url)
    for name, query in falkordb_statements().items():
        if name.startswith("schema:"):
            continue  # index DDL has no plan; setup() runs it on every connect
        params = dict.fromkeys(re.findall(r"\$(\w+)", query))
        store.runner.graph.explain(query, params)  # raises on a syntax error
    store.close()


def test_interrupted_load_is_rolled_back_by_the_next_writer(graph_url):
    store = connect_falkordb(graph_url)
    store.upsert(sample())
    before, version = store.to_networkx(), store.data_version()
    crashing = CypherStore.__new__(CypherStore)
    crashing.runner = CrashingRunner(store.runner, fail_at="create_edges:supports")
    batch = RecordBatch(organisations=[org("o-new", "Neu"), org("o-a", "Umbenannt")],
                        relations=[Relation("o-a", "o-b", "cooperates_with", since="2021"),
                                   Relation("o-new", "o-a", "supports")])
    with pytest.raises(StoreUnavailable):
        crashing.upsert(batch)
    # the connection "dropped" during the load and the rollback: part of the load is in the graph ...
    partial = store.runner._run("get_node", {"id": "o-new"})
    assert partial and store.runner._run("journal_read")
    # ... until the next writer plays the journal back
    recovered = connect_falkordb(graph_url)
    assert recovered.runner._run("journal_read") == []
    assert_same_graph(recovered.to_networkx(), before)
    assert recovered.data_version() == version
    assert recovered.upsert(batch).total == 4
    recovered.close()
    store.close()


@pytest.mark.parametrize("delete", ["remove_organisation", "undo_delete_nodes:organisation"])
def test_deleting_after_the_graph_grew_keeps_the_label_readable(graph_url, delete):
    # FalkorDB 4.16 bug worked around in graph/cypher.py: a node created before the graph grew by
    # ~16,000 nodes and then deleted through its index broke later scans of its label
    store = connect_falkordb(graph_url)
    store.upsert(RecordBatch(organisations=[org("o-x", "Früh"), org("o-y", "Bleibt")]))
    store.runner.graph.query("UNWIND range(1, 20000) AS i CREATE (:Event {id: 'grow-' + toString(i), "
                             "name: 'Wachstum', event_type: 'festival', date: '2024-01-01', kind: 'event'})")
    if delete == "remove_organisation":
        assert store.remove_organisation("o-x")
    else:
        store.runner.write(delete, {"ids": ["o-x"]})
    assert [d["id"] for d in store.find_organisations()] == ["o-y"]
    assert store.counts()["organisations"] == 1
    store.clear()
    assert store.counts() == {"organisations": 0, "events": 0, "programmes": 0, "relations": 0}
    store.upsert(sample())
    assert_same_graph(store.to_networkx(), reference(sample()))
    store.close()


def test_floats_are_kept_with_15_significant_digits(graph_url):
    store = connect_falkordb(graph_url)
    batch = RecordBatch(organisations=[org("o-f", "Float", lat=0.1 + 0.2, lon=7.123456789012345678)])
    assert store.upsert(batch).organisations == 1
    assert store.upsert(batch).total == 0  # an identical re-load is unchanged
    assert store.get_node("o-f")["lat"] == 0.3
    store.close()


def test_graph_name_comes_from_the_url(falkordb_server):
    store = connect_falkordb(falkordb_server.url(""))
    assert store.runner.graph_name == "msonet"
    store.close()


def test_unreachable_falkordb_names_what_to_check():
    with pytest.raises(StoreUnavailable, match="nicht erreichbar.*FALKORDB_URL"):
        connect_falkordb(f"redis://127.0.0.1:{free_port()}/msonet", timeout=2)


def test_invalid_falkordb_url_is_refused():
    with pytest.raises(StoreUnavailable, match="FALKORDB_URL"):
        connect_falkordb("http://example.org/msonet")


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory):
    reason = falkordb_available()
    if reason:
        pytest.skip(reason)
    server = FalkorDBServer(tmp_path_factory.mktemp("falkordb-auth"), password="Geheim-4711").start()
    yield server
    server.stop()


def test_wrong_falkordb_password_never_appears_in_the_message(guarded_server):
    with pytest.raises(StoreUnavailable) as info:
        connect_falkordb(guarded_server.url("msonet", password="Falsch-0815-xyz"))
    message = str(info.value)
    assert "Passwort" in message and "FALKORDB_URL" in message
    assert "Falsch-0815-xyz" not in message and "Geheim-4711" not in message
    with pytest.raises(StoreUnavailable, match="Passwort"):
        connect_falkordb(f"redis://127.0.0.1:{guarded_server.port}/msonet")  # none given
    store = connect_falkordb(guarded_server.url("msonet"))
    assert "Geheim-4711" not in store.data_version() + repr(store)
    store.close()


def test_unreachable_neo4j_fails_quickly_with_a_german_message():
    with pytest.raises(StoreUnavailable) as info:
        connect_neo4j(f"neo4j://127.0.0.1:{free_port()}", "neo4j", "Sehr-Geheim-123", "neo4j", timeout=2)
    message = str(info.value)
    assert "NEO4J_URI" in message and "NEO4J_PASSWORD" in message
    assert "Sehr-Geheim-123" not in message


def test_invalid_neo4j_uri_is_refused():
    with pytest.raises(StoreUnavailable, match="NEO4J_URI"):
        connect_neo4j("http://user:Sehr-Geheim@127.0.0.1:1", "neo4j", "Sehr-Geheim", "neo4j")
    with pytest.raises(StoreUnavailable) as info:
        connect_neo4j("ftp://user:Sehr-Geheim@127.0.0.1:1", "neo4j", "Sehr-Geheim", "neo4j")
    assert "Sehr-Geheim" not in str(info.value)


def test_an_id_cannot_change_its_kind(graph_url):
    store = connect_falkordb(graph_url)
    store.upsert(sample())
    with pytest.raises(ValidationError, match="im Speicher schon die Id einer Veranstaltung"):
        store.upsert(RecordBatch(organisations=[org("e-1", "Keine Veranstaltung")]))
    with pytest.raises(ValidationError, match="in derselben Ladung schon die Id einer Organisation"):
        store.upsert(RecordBatch(organisations=[org("o-n", "Neu")],
                                 events=[Event("o-n", "X", "festival", "2024-01-01")]))
    assert store.counts()["organisations"] == 4
    store.close()
