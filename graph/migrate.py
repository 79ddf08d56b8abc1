"""Copy the whole graph from one store to another (embedded, Neo4j, FalkorDB; any direction)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import networkx as nx

from msonet.graph.model import Event, Funding, Organisation, RecordBatch, Relation
from msonet.graph.store import GraphStore, LoadSummary

__all__ = ["copy_graph", "graph_to_batch"]


def _pick(cls: type, data: dict[str, Any], **overrides: Any) -> Any:
    values = {f.name: data.get(f.name, f.default) for f in fields(cls) if f.name in data or f.name in overrides}
    values.update(overrides)
    return cls(**values)


def graph_to_batch(G: nx.MultiDiGraph) -> RecordBatch:
    """Records that rebuild ``G`` (a graph from ``store.to_networkx()``) when loaded into an empty store.

    A programme node is rebuilt from its funding records, so the funding that matches the programme's
    own fields (name, kind, source, date) is put first: the first funding of a programme names it.
    """
    batch = RecordBatch()
    for node_id, d in sorted(G.nodes(data=True)):
        kind = d.get("kind")
        if kind == "organisation":
            batch.organisations.append(_pick(Organisation, d, id=node_id, sectors=tuple(d.get("sectors") or ())))
        elif kind == "event":
            batch.events.append(_pick(Event, d, id=node_id, sectors=tuple(d.get("sectors") or ())))
    fundings = []
    for u, v, _key, d in sorted(G.edges(keys=True, data=True), key=lambda e: e[2]):
        if d.get("type") == "funded_by":
            programme = G.nodes[v]
            first = (d.get("programme") == programme.get("name")
                     and d.get("funding_kind") == programme.get("funding_kind")
                     and d.get("source") == programme.get("source") and d.get("updated") == programme.get("updated"))
            fundings.append((not first, _pick(Funding, d, org_id=u)))
        else:
            batch.relations.append(_pick(Relation, d, source_id=u, target_id=v, rel_type=d["type"]))
    batch.fundings = [funding for _, funding in sorted(fundings, key=lambda item: item[0])]
    return batch


def copy_graph(source_store: GraphStore, target_store: GraphStore) -> LoadSummary:
    """Load everything of ``source_store`` into ``target_store`` as one all-or-nothing load.

    Records already in the target with the same id are replaced; other records there stay (clear the
    target first for an exact copy). Returns what the target counted as new or changed.
    """
    return target_store.upsert(graph_to_batch(source_store.to_networkx()))
