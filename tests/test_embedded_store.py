"""Tests specific to the embedded store: persistence, atomic saves, other writers, broken files."""

import hashlib
import os

import pytest

from graph.errors import StoreError, ValidationError
from graph.model import Funding, Organisation, RecordBatch, Relation
from graph.store import STORE_FILE, EmbeddedStore


def _batch():
    return RecordBatch(
        organisations=[Organisation("a", "Verein A", "mso", ("culture",), source="t.csv", updated="2026-01-01"),
                       Organisation("b", "Jugendzentrum B", "regular_service", ("child_youth",))],
        relations=[Relation("b", "a", "cooperates_with")],
        fundings=[Funding("f1", "a", "MSO-Förderung NRW", "startup_funding", 5000.0, 2025, 2025)],
    )


def _digest(home):
    return hashlib.sha256((home / STORE_FILE).read_bytes()).hexdigest()


def test_saved_store_is_read_back_identically(tmp_path):
    first = EmbeddedStore(tmp_path)
    first.upsert(_batch())
    second = EmbeddedStore(tmp_path)
    g1, g2 = first.to_networkx(), second.to_networkx()
    assert dict(g1.nodes(data=True)) == dict(g2.nodes(data=True))
    assert sorted(g1.edges(keys=True, data=True)) == sorted(g2.edges(keys=True, data=True))
    assert second.counts() == {"organisations": 2, "events": 0, "programmes": 1, "relations": 2}


def test_symmetric_tie_is_stored_once_whatever_the_direction(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    assert store.upsert(RecordBatch(relations=[Relation("a", "b", "cooperates_with")])).total == 0
    assert store.counts()["relations"] == 2


def test_second_instance_sees_writes_of_the_first(tmp_path):
    reader = EmbeddedStore(tmp_path)
    assert reader.counts()["organisations"] == 0
    version = reader.data_version()
    EmbeddedStore(tmp_path).upsert(_batch())
    assert reader.counts()["organisations"] == 2
    assert reader.data_version() != version


def test_failed_save_keeps_the_last_good_store(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    before = _digest(tmp_path)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreError, match="nichts geändert"):
        store.upsert(RecordBatch(organisations=[Organisation("c", "Neu", "mso")]))
    monkeypatch.undo()
    assert _digest(tmp_path) == before
    assert store.get_node("c") is None  # memory went back to the saved state too
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".graph-")]


def test_dangling_reference_rejects_the_whole_batch(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    before = _digest(tmp_path)
    bad = RecordBatch(organisations=[Organisation("c", "Neu", "mso")],
                      relations=[Relation("c", "fehlt", "member_of", source="rel.csv")])
    with pytest.raises(ValidationError) as info:
        store.upsert(bad)
    assert "fehlt" in str(info.value) and "rel.csv" in str(info.value)
    assert _digest(tmp_path) == before and store.get_node("c") is None


def test_broken_file_gives_a_german_message(tmp_path):
    (tmp_path / STORE_FILE).write_text("{kaputt", encoding="utf-8")
    with pytest.raises(StoreError, match="kann nicht gelesen werden"):
        EmbeddedStore(tmp_path)


def test_remove_organisation_drops_ties_and_orphan_programmes(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    assert store.remove_organisation("a") is True
    assert store.remove_organisation("a") is False
    assert store.counts() == {"organisations": 1, "events": 0, "programmes": 0, "relations": 0}
    assert EmbeddedStore(tmp_path).get_node("a") is None


def test_find_and_neighbourhood(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    assert [r["id"] for r in store.find_organisations(sector="child_youth")] == ["b"]
    assert [r["id"] for r in store.find_organisations(name_contains="verein")] == ["a"]
    assert set(store.neighbourhood("b", hops=1)) == {"a", "b"}
    assert set(store.neighbourhood("b", hops=2)) == {"a", "b", "prog-mso-foerderung-nrw"}


def _reference_graph(nodes, edges):
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_nodes_from((n["id"], dict(n)) for n in nodes)
    graph.add_edges_from((u, v, k, dict(d)) for u, v, k, d in edges)
    return graph


def _structure(graph):
    return (list(graph.nodes(data=True)),
            [(u, list(nbrs.items())) for u, nbrs in graph._succ.items()],
            [(v, list(nbrs.items())) for v, nbrs in graph._pred.items()])


def test_graph_from_lists_builds_what_networkx_builds(tmp_path):
    import copy
    import json

    from graph.store import graph_from_lists
    from loaders.demo import build_demo_batch

    store = EmbeddedStore(tmp_path)
    store.upsert(build_demo_batch())
    data = json.loads((tmp_path / STORE_FILE).read_text(encoding="utf-8"))
    assert len(data["edges"]) > 10_000
    # a tie whose end is missing from the node list, and one key given twice (later values win)
    u, v, k, d = data["edges"][0]
    edges = [*data["edges"], ["nur-in-kante", v, "x", {"type": "cooperates_with"}], [u, v, k, {"note": "zweimal"}]]

    fast = graph_from_lists(copy.deepcopy(data["nodes"]), copy.deepcopy(edges))
    slow = _reference_graph(data["nodes"], edges)
    assert _structure(fast) == _structure(slow)
    assert fast.edges[u, v, k]["note"] == "zweimal" and fast.nodes["nur-in-kante"] == {}
    # one key dict per pair, shared by both directions, as add_edge makes it: changes show on both sides
    assert all(fast._pred[b][a] is keyed for a, nbrs in fast._succ.items() for b, keyed in nbrs.items())
    fast.remove_edge(u, v, k)
    slow.remove_edge(u, v, k)
    assert _structure(fast) == _structure(slow)
    assert fast.copy().number_of_edges() == slow.number_of_edges()
    assert EmbeddedStore(tmp_path).to_networkx().number_of_edges() == len(data["edges"])
