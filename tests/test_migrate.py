"""copy_graph: whole graphs move between the embedded store and a FalkorDB server, both ways."""

from __future__ import annotations

import uuid

from test_store_contract import assert_same_graph, sample

from msonet.graph.cypher_store import connect_falkordb
from msonet.graph.migrate import copy_graph, graph_to_batch
from msonet.graph.model import Funding, RecordBatch
from msonet.graph.store import EmbeddedStore, LoadSummary


def tricky() -> RecordBatch:
    batch = sample()
    # same programme id, other spelling; loaded second, so the programme keeps the first spelling
    batch.fundings.append(Funding("f-0", "o-b", "Komm-An NRW", "project_funding", source="andere Quelle"))
    return batch


def test_graph_to_batch_rebuilds_the_same_graph():
    source = EmbeddedStore(None)
    source.upsert(tricky())
    rebuilt = EmbeddedStore(None)
    assert rebuilt.upsert(graph_to_batch(source.to_networkx())) == LoadSummary(4, 1, 5, 4)
    assert_same_graph(rebuilt.to_networkx(), source.to_networkx())
    assert rebuilt.get_node("prog-komm-an-nrw")["name"] == "KOMM-AN NRW"


def test_copy_embedded_to_falkordb_and_back(falkordb_server, tmp_path):
    embedded = EmbeddedStore(tmp_path / "a")
    embedded.upsert(tricky())
    server = connect_falkordb(falkordb_server.url(f"copy-{uuid.uuid4().hex[:8]}"))
    try:
        assert copy_graph(embedded, server).total == 14
        assert_same_graph(server.to_networkx(), embedded.to_networkx())
        assert copy_graph(embedded, server).total == 0  # nothing new the second time
        back = EmbeddedStore(tmp_path / "b")
        assert copy_graph(server, back).total == 14
        assert_same_graph(back.to_networkx(), embedded.to_networkx())
    finally:
        server.runner.graph.delete()
        server.close()


def test_copy_of_an_empty_store_changes_nothing(tmp_path):
    assert copy_graph(EmbeddedStore(None), EmbeddedStore(tmp_path)).total == 0
