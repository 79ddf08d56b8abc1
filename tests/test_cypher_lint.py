"""Every statement the Neo4j runner can send passes Neo4j's own Cypher linter without errors or warnings."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from test_store_contract import org, sample

from msonet.graph.cypher import neo4j_statements
from msonet.graph.cypher_store import Neo4jRunner, connect_falkordb
from msonet.graph.errors import StoreError
from msonet.graph.model import Event, RecordBatch, Relation

LINT_DIR = Path(__file__).parent / "cypher-lint"
PACKAGE = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support"


def lint(statements: dict[str, str]) -> dict[str, list[dict]]:
    if shutil.which("node") is None:
        pytest.skip("node ist nicht installiert (für den Cypher-Linter nötig)")
    if not PACKAGE.is_dir():
        pytest.skip("@neo4j-cypher/language-support fehlt: npm install --prefix tests/cypher-lint")
    payload = json.dumps([{"name": n, "query": q} for n, q in statements.items()])
    done = subprocess.run(["node", str(LINT_DIR / "lint.mjs")], input=payload, capture_output=True, text=True,
                          cwd=LINT_DIR, timeout=120, check=True)
    return {item["name"]: item["diagnostics"] for item in json.loads(done.stdout)}


# controls: a removed Neo4j 4 construct, a deprecated function, and a clean statement with a parameter
CONTROLS = {"control:old": "MATCH (n) RETURN size((n)--()) AS d", "control:deprecated": "MATCH (n) RETURN id(n)",
            "control:ok": "MATCH (n:Organisation {id: $id}) RETURN n"}


@pytest.fixture(scope="module")
def report():
    return lint({**neo4j_statements(), **CONTROLS})  # one node run for all statements


def test_linter_reports_known_problems(report):
    assert any(d["severity"] == 1 for d in report["control:old"])
    assert [d["severity"] for d in report["control:deprecated"]] == [2]
    assert report["control:ok"] == []  # undefined parameters are not reported


def test_every_neo4j_statement_is_clean(report):
    statements = neo4j_statements()
    assert len(statements) >= 40  # all builders expanded for every label and relation type
    assert set(statements) <= set(report)
    dirty = {name: report[name] for name in statements if report[name]}
    assert dirty == {}


def test_neo4j_runner_takes_statements_only_from_the_linted_list():
    runner = Neo4jRunner(driver=None, database="neo4j")
    assert runner._statements == neo4j_statements()
    with pytest.raises(KeyError):
        runner._text("MATCH (n) DETACH DELETE n")


def test_store_asks_only_for_linted_statements(falkordb_server):
    """Drive every store operation (on FalkorDB) and check each statement name asked for is linted."""
    store = connect_falkordb(falkordb_server.url(f"lint-{uuid.uuid4().hex[:8]}"))
    try:
        store.upsert(sample())
        store.upsert(RecordBatch(organisations=[org("o-a", "Neu benannt")],
                                 relations=[Relation("o-a", "o-d", rel) for rel in
                                            ("advised_by", "supports", "operates", "coordinated_by",
                                             "represented_in")]))
        with pytest.raises(StoreError):
            store.upsert(RecordBatch(events=[Event("e-9", "X", "festival", "2024-01-01")],
                                     relations=[Relation("o-a", "o-b", "member_of", note={"x": 1})]))  # type: ignore[arg-type]
        store.get_node("o-a")
        store.find_organisations(org_type="mso", name_contains="a")
        store.neighbourhood("o-a", 2)
        store.to_networkx()
        store.counts()
        store.data_version()
        store.remove_organisation("o-a")
        store.clear()
        asked = store.runner.requested
        assert {"create_edges:member_of", "create_edges:funded_by", "merge_nodes:organisation",
                "remove_organisation", "clear"} <= asked
        assert asked - set(neo4j_statements()) == set()
    finally:
        store.runner.graph.delete()
        store.close()
