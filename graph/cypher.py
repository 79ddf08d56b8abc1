"""Every Cypher statement msonet sends to Neo4j or FalkorDB, by name, with per-server variants side by side."""

from __future__ import annotations

from msonet.graph.vocabulary import RELATION_TYPES, target_kind

__all__ = [
    "LABELS",
    "REL_TYPES",
    "META_LABEL",
    "JOURNAL_LABEL",
    "BATCH_ROWS",
    "target_kind",
    "statements",
    "neo4j_statements",
    "falkordb_statements",
    "merge_nodes",
    "merge_edges",
]

#: Node label of each node kind. Labels reach Cypher only through this fixed table, never from user text.
LABELS: dict[str, str] = {"organisation": "Organisation", "event": "Event", "programme": "Programme"}

#: Relationship type of each relation type of the vocabulary (a fixed table; a test checks it is complete).
REL_TYPES: dict[str, str] = {
    "member_of": "MEMBER_OF",
    "cooperates_with": "COOPERATES_WITH",
    "tandem_partner": "TANDEM_PARTNER",
    "attended_event": "ATTENDED_EVENT",
    "organised_event": "ORGANISED_EVENT",
    "advised_by": "ADVISED_BY",
    "funded_by": "FUNDED_BY",
    "supports": "SUPPORTS",
    "operates": "OPERATES",
    "coordinated_by": "COORDINATED_BY",
    "represented_in": "REPRESENTED_IN",
}

# a relation type missing here could not be stored; fail at import rather than at the first load
if set(REL_TYPES) != set(RELATION_TYPES):  # pragma: no cover - guards edits of the vocabulary
    raise RuntimeError(f"graph.cypher.REL_TYPES does not match RELATION_TYPES: {set(REL_TYPES) ^ set(RELATION_TYPES)}")

#: Bookkeeping nodes: the revision counter (one node) and FalkorDB's undo journal of a running load.
META_LABEL = "MsonetMeta"
JOURNAL_LABEL = "MsonetJournal"

#: Rows per ``UNWIND $rows`` statement.
BATCH_ROWS = 5_000

# -- builders (labels and types only from the fixed tables above) ----------------------------------------
def merge_nodes(kind: str) -> str:
    """Insert or replace nodes of one kind; ``$rows`` = ``[{id, props}]`` (props without nulls)."""
    return f"UNWIND $rows AS row MERGE (n:{LABELS[kind]} {{id: row.id}}) SET n = row.props"


def merge_edges(rel_type: str) -> str:
    """Insert or replace ties of one type; ``$rows`` = ``[{source, target, key, props}]``."""
    return (f"UNWIND $rows AS row MATCH (a:Organisation {{id: row.source}}) "
            f"MATCH (b:{LABELS[target_kind(rel_type)]} {{id: row.target}}) "
            f"MERGE (a)-[r:{REL_TYPES[rel_type]} {{key: row.key}}]->(b) SET r = row.props")


def _nodes_by_id(kind: str) -> str:
    return f"UNWIND $ids AS id MATCH (n:{LABELS[kind]} {{id: id}}) RETURN properties(n) AS props"


def _all_nodes(kind: str) -> str:
    return f"MATCH (n:{LABELS[kind]}) RETURN properties(n) AS props"


def _neighbours(kind: str) -> str:
    return (f"UNWIND $ids AS id MATCH (n:{LABELS[kind]} {{id: id}})--(m) "
            "RETURN DISTINCT m.id AS id, m.kind AS kind")


def _count_nodes(kind: str) -> str:
    return f"MATCH (n:{LABELS[kind]}) RETURN count(n) AS n"


def _remove_organisation(*, unlabel: bool) -> str:
    """Delete one organisation, its ties and the programmes only it was funded by; then bump the revision.

    ``unlabel`` removes each node's label before deleting it (FalkorDB, see the note at ``_FALKORDB``).
    """
    drop_programme = "REMOVE p:Programme DETACH DELETE p" if unlabel else "DETACH DELETE p"
    drop_organisation = "REMOVE o:Organisation DETACH DELETE o" if unlabel else "DETACH DELETE o"
    return ("MATCH (o:Organisation {id: $id}) "
            "OPTIONAL MATCH (o)-[:FUNDED_BY]->(p:Programme) "
            "WITH o, p "
            "OPTIONAL MATCH (p)<-[:FUNDED_BY]-(x:Organisation) WHERE x.id <> $id "
            "WITH o, p, count(x) AS others "
            "WITH o, collect(CASE WHEN others = 0 THEN p END) AS orphans "
            + "FOREACH (p IN orphans | " + drop_programme + ") "
            + drop_organisation + " "
            + "WITH count(*) AS removed WHERE removed > 0 "
            + _BUMP)


def _union_by_kind(template: str) -> str:
    return " UNION ALL ".join(template.format(label=label, kind=kind) for kind, label in LABELS.items())


# -- statements shared by both servers -----------------------------------------------------------------
_BUMP = (f"MERGE (m:{META_LABEL} {{id: 'meta'}}) ON CREATE SET m.revision = 0, m.epoch = $epoch "
         "SET m.revision = m.revision + 1 RETURN m.revision AS revision")

_SHARED: dict[str, str] = {
    # which stored kind each id has (for reference checks), one batched query
    "node_kinds": _union_by_kind("UNWIND $ids AS id MATCH (n:{label} {{id: id}}) RETURN id, '{kind}' AS kind"),
    "get_node": _union_by_kind("MATCH (n:{label} {{id: $id}}) RETURN properties(n) AS props"),
    # stored ties by key, expanded from their (indexed) source organisation
    "edges_by_key": ("UNWIND $rows AS row MATCH (a:Organisation {id: row.source})-[r]->(b) "
                     "WHERE r.key = row.key RETURN a.id AS source, b.id AS target, properties(r) AS props"),
    "edges_from": ("UNWIND $ids AS id MATCH (a:Organisation {id: id})-[r]->(b) "
                   "RETURN a.id AS source, b.id AS target, properties(r) AS props"),
    "all_edges": "MATCH (a:Organisation)-[r]->(b) RETURN a.id AS source, b.id AS target, properties(r) AS props",
    "count_relations": "MATCH (:Organisation)-[r]->() RETURN count(r) AS n",
    # exact-key filters on the server; name and city are compared case-folded in Python
    "find_organisations": ("MATCH (n:Organisation) "
                           "WHERE ($org_type IS NULL OR n.org_type = $org_type) "
                           "AND ($district IS NULL OR n.district = $district) "
                           "AND ($regierungsbezirk IS NULL OR n.regierungsbezirk = $regierungsbezirk) "
                           "AND ($sector IS NULL OR $sector IN n.sectors) "
                           "RETURN properties(n) AS props"),
    "find_events": "MATCH (n:Event) RETURN properties(n) AS props",
    "revision": f"MATCH (m:{META_LABEL} {{id: 'meta'}}) RETURN m.revision AS revision, m.epoch AS epoch",
    "bump_revision": _BUMP,
    # one statement, so atomic on both servers; programmes funded only by this organisation go with it
    "remove_organisation": _remove_organisation(unlabel=False),
    # everything except the revision counter, so data_version never repeats an earlier value
    "clear": (f"OPTIONAL MATCH (n) WHERE NOT n:{META_LABEL} DETACH DELETE n "
              "WITH count(*) AS removed " + _BUMP),
}
for _kind in LABELS:
    _SHARED[f"merge_nodes:{_kind}"] = merge_nodes(_kind)
    # new records (none stored when the load began); Neo4j merges anyway, as another writer may have
    # added them since (FalkorDB variant below)
    _SHARED[f"create_nodes:{_kind}"] = merge_nodes(_kind)
    _SHARED[f"nodes_by_id:{_kind}"] = _nodes_by_id(_kind)
    _SHARED[f"all_nodes:{_kind}"] = _all_nodes(_kind)
    _SHARED[f"neighbours:{_kind}"] = _neighbours(_kind)
    _SHARED[f"count:{_kind}"] = _count_nodes(_kind)
for _rel in REL_TYPES:
    _SHARED[f"merge_edges:{_rel}"] = merge_edges(_rel)
    _SHARED[f"create_edges:{_rel}"] = merge_edges(_rel)

# -- Neo4j only: schema as constraints (idempotent with IF NOT EXISTS) ------------------------------------
_NEO4J: dict[str, str] = {
    f"schema:{kind}": (f"CREATE CONSTRAINT msonet_{kind}_id IF NOT EXISTS "
                       f"FOR (n:{label}) REQUIRE n.id IS UNIQUE")
    for kind, label in {**LABELS, "meta": META_LABEL}.items()
}

# -- FalkorDB only: plain indexes (no IF NOT EXISTS; "already indexed" is ignored) and the undo journal -----
# FalkorDB 4.16 leaves a broken entry in a label's node list when it deletes a node of that label that
# was created before the graph grew by some 16,000 nodes (later scans of the label fail with "Attempted
# to access undefined attribute" or crash the server). Removing the labels first in the same statement
# avoids it, so every FalkorDB statement that deletes nodes does that (tests/test_cypher_store.py).
# Removing labels is slow in bulk (~0.25 ms a node), so clearing a FalkorDB graph deletes the graph
# key instead (FalkorDBRunner.clear) and the shared "clear" statement is Neo4j's only.
_FALKORDB: dict[str, str] = {
    f"schema:{kind}": f"CREATE INDEX FOR (n:{label}) ON (n.id)"
    for kind, label in {**LABELS, "meta": META_LABEL}.items()
}
_FALKORDB.update({
    "remove_organisation": _remove_organisation(unlabel=True),
    # the journal: few nodes, no index; found by label scan
    "journal_write": f"CREATE (:{JOURNAL_LABEL} {{load: $load, seq: $seq, undo: $undo}})",
    "journal_read": (f"MATCH (j:{JOURNAL_LABEL}) RETURN j.load AS load, j.seq AS seq, j.undo AS undo "
                     "ORDER BY j.load, j.seq DESC"),
    "journal_drop": f"MATCH (j:{JOURNAL_LABEL}) WHERE j.load = $load REMOVE j:{JOURNAL_LABEL} DELETE j",
    # the commit point of a load: its journal disappears and the revision moves in one statement
    "journal_commit": (f"OPTIONAL MATCH (j:{JOURNAL_LABEL}) WHERE j.load = $load REMOVE j:{JOURNAL_LABEL} DELETE j "
                       "WITH count(*) AS entries " + _BUMP),
    "undo_delete_edges": ("UNWIND $rows AS row MATCH (a:Organisation {id: row.source})-[r]->() "
                          "WHERE r.key = row.key DELETE r"),
})
for _kind, _label in LABELS.items():
    _FALKORDB[f"undo_delete_nodes:{_kind}"] = (f"UNWIND $ids AS id MATCH (n:{_label} {{id: id}}) "
                                               f"REMOVE n:{_label} DETACH DELETE n")
# new records: CREATE is about three times faster than MERGE on FalkorDB and safe there, because loads
# hold the write lock from reading the stored state to the commit
for _kind, _label in LABELS.items():
    _FALKORDB[f"create_nodes:{_kind}"] = f"UNWIND $rows AS row CREATE (n:{_label}) SET n = row.props"
for _rel, _type in REL_TYPES.items():
    _FALKORDB[f"create_edges:{_rel}"] = (f"UNWIND $rows AS row MATCH (a:Organisation {{id: row.source}}) "
                                        f"MATCH (b:{LABELS[target_kind(_rel)]} {{id: row.target}}) "
                                        f"CREATE (a)-[r:{_type}]->(b) SET r = row.props")


def statements(server: str) -> dict[str, str]:
    """All statements one server's runner can send, by name (``server`` is ``"neo4j"`` or ``"falkordb"``)."""
    if server == "neo4j":
        return {**_SHARED, **_NEO4J}
    if server == "falkordb":
        return {name: text for name, text in {**_SHARED, **_FALKORDB}.items() if name != "clear"}
    raise KeyError(server)


def neo4j_statements() -> dict[str, str]:
    """Every statement the Neo4j runner can send (DDL and all builders expanded), for the linter test."""
    return statements("neo4j")


def falkordb_statements() -> dict[str, str]:
    """Every statement the FalkorDB runner can send."""
    return statements("falkordb")
