"""Privacy and injection safety: personal data stay out of exports unless asked for, „forget“ really deletes,
passwords never reach output or logs, and no user text ever becomes part of a Cypher statement."""

from __future__ import annotations

import ast
import json
import logging
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from msonet.graph.model import PERSONAL_FIELDS, Funding, Organisation, RecordBatch, Relation
from msonet.graph.store import STORE_FILE, EmbeddedStore

__all__: list[str] = []

ROOT = Path(__file__).resolve().parent.parent
_KOELN = dict(city="Köln", ags="05315000", district="05315", regierungsbezirk="Köln", lat=50.9384, lon=6.9599)
EMAIL = "erika.vertraulich@example.org"
PERSON = "Erika Vertraulich"
PHONE = "0221 987654321"
SECRET = "secretpw-Xq7"


def _batch() -> RecordBatch:
    orgs = [
        Organisation(id="org-privat", name="Verein mit Kontakt", org_type="mso", contact_person=PERSON, email=EMAIL,
                     phone=PHONE, source="test", updated="2024-07-01", **_KOELN),
        Organisation(id="org-partner", name="Partnerverein", org_type="regular_service", source="test",
                     updated="2024-07-01", **_KOELN),
        Organisation(id="org-dritter", name="Dritter Verein", org_type="mso", email="info@dritter.example",
                     source="test", updated="2024-07-01", **_KOELN),
    ]
    rels = [Relation("org-privat", "org-partner", "tandem_partner", since="2023", note="Tandem", source="test",
                     updated="2024-07-01"),
            Relation("org-dritter", "org-partner", "cooperates_with", source="test", updated="2024-07-01")]
    funds = [Funding(id="f-privat", org_id="org-privat", programme="Nur-Privat-Programm",
                     funding_kind="project_funding", amount=5000.0, year_from=2024, year_to=2024, source="test",
                     updated="2024-07-01"),
             Funding(id="f-dritter", org_id="org-dritter", programme="Gemeinsames Programm",
                     funding_kind="project_funding", source="test", updated="2024-07-01"),
             Funding(id="f-privat-2", org_id="org-privat", programme="Gemeinsames Programm",
                     funding_kind="project_funding", source="test", updated="2024-07-01")]
    return RecordBatch(organisations=orgs, relations=rels, fundings=funds)


@pytest.fixture
def store(tmp_path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "store")
    store.upsert(_batch())
    assert EMAIL.encode() in (tmp_path / "store" / STORE_FILE).read_bytes()
    return store


def _all_bytes(paths: list[Path]) -> bytes:
    return b"".join(Path(p).read_bytes() for p in paths)


PERSONAL_VALUES = (EMAIL, PERSON, PHONE)


# -- exports ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "json", "graphml"])
def test_exports_leave_out_personal_data_by_default(store, tmp_path, fmt):
    from msonet.loaders import export

    out = tmp_path / "out"
    if fmt == "csv":
        paths = export.export_csv(store, out)
    elif fmt == "json":
        paths = [export.export_json(store, out / "export.json")]
    else:
        paths = [export.export_graphml(store, out / "export.graphml")]
    data = _all_bytes(paths).decode("utf-8-sig")
    for value in PERSONAL_VALUES:
        assert value not in data
    for field in PERSONAL_FIELDS:
        assert field not in data  # not even an empty column
    assert "Verein mit Kontakt" in data  # the organisation itself is exported

    with_personal = tmp_path / "with"
    if fmt == "csv":
        paths = export.export_csv(store, with_personal, include_personal=True)
    elif fmt == "json":
        paths = [export.export_json(store, with_personal / "export.json", include_personal=True)]
    else:
        paths = [export.export_graphml(store, with_personal / "export.graphml", include_personal=True)]
    data = _all_bytes(paths).decode("utf-8-sig")
    for value in PERSONAL_VALUES:
        assert value in data


def test_json_export_with_personal_data_has_them_on_the_right_organisation(store, tmp_path):
    from msonet.loaders.export import export_json

    payload = json.loads(export_json(store, tmp_path / "e.json", include_personal=True).read_text(encoding="utf-8"))
    org = next(o for o in payload["organisations"] if o["id"] == "org-privat")
    assert (org["contact_person"], org["email"], org["phone"]) == (PERSON, EMAIL, PHONE)
    plain = json.loads(export_json(store, tmp_path / "p.json").read_text(encoding="utf-8"))
    assert all(not set(PERSONAL_FIELDS) & set(o) for o in plain["organisations"])


@pytest.mark.parametrize("fmt", ["csv", "json", "graphml"])
def test_app_download_leaves_out_personal_data_by_default(store, fmt):
    from msonet.ui.data import export_bytes

    data = export_bytes(store.to_networkx(), fmt, include_personal=False)
    if fmt == "csv":
        with zipfile.ZipFile(BytesIO(data)) as archive:
            data = b"".join(archive.read(n) for n in archive.namelist())
    for value in PERSONAL_VALUES:
        assert value.encode() not in data
    assert EMAIL.encode() in (export_bytes(store.to_networkx(), "json", include_personal=True))


def test_cli_export_leaves_out_personal_data_unless_asked(store, tmp_path, capsys):
    from msonet.cli import main

    assert main(["--store", str(store.home), "export", "--format", "json", "--out", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "Personenbezogene Daten (Ansprechperson, E-Mail, Telefon) sind nicht enthalten" in out
    assert EMAIL not in (tmp_path / "a.json").read_text(encoding="utf-8")
    assert main(["--store", str(store.home), "export", "--format", "json", "--out", str(tmp_path / "b.json"),
                 "--include-personal"]) == 0
    assert EMAIL in (tmp_path / "b.json").read_text(encoding="utf-8")


def test_network_views_show_no_personal_data(store):
    from msonet.graph.render import build_network, view_tables

    G = store.to_networkx()
    page = build_network(G).html
    nodes, edges = view_tables(G)
    text = page + json.dumps(nodes, ensure_ascii=False) + json.dumps(edges, ensure_ascii=False)
    for value in PERSONAL_VALUES:
        assert value not in text


# -- forget ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["org-privat", "Verein mit Kontakt"])
def test_forget_removes_organisation_ties_and_personal_data_from_the_file(store, capsys, how):
    from msonet.cli import main

    path = store.home / STORE_FILE
    code = main(["--store", str(store.home), "forget", how, "--yes"])
    out = capsys.readouterr().out
    assert code == 0 and "Gelöscht: Verein mit Kontakt (org-privat)" in out
    raw = path.read_bytes()
    for value in (*PERSONAL_VALUES, "Verein mit Kontakt", "org-privat", "Nur-Privat-Programm", "f-privat"):
        assert value.encode() not in raw, value
    fresh = EmbeddedStore(store.home)
    assert fresh.get_node("org-privat") is None
    G = fresh.to_networkx()
    assert sorted(G.nodes) == ["org-dritter", "org-partner", "prog-gemeinsames-programm"]
    assert [(u, v, d["type"]) for u, v, d in G.edges(data=True)] == [
        ("org-dritter", "org-partner", "cooperates_with"), ("org-dritter", "prog-gemeinsames-programm", "funded_by")]
    # no temporary or backup copy of the old file is left in the folder either
    for leftover in store.home.iterdir():
        if leftover.name not in (STORE_FILE, ".lock"):
            assert EMAIL.encode() not in leftover.read_bytes(), leftover


def test_forget_unknown_organisation_changes_nothing(store, capsys):
    from msonet.cli import main

    before = (store.home / STORE_FILE).read_bytes()
    code = main(["--store", str(store.home), "forget", "Verein mit Kontaktt", "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("Fehler:") and "Verein mit Kontakt" in err  # suggests the right name
    assert (store.home / STORE_FILE).read_bytes() == before


def test_forget_asks_before_deleting(store, capsys, monkeypatch):
    from msonet.cli import main

    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    before = (store.home / STORE_FILE).read_bytes()
    assert main(["--store", str(store.home), "forget", "org-privat"]) == 0
    assert "Nichts gelöscht" in capsys.readouterr().out
    assert (store.home / STORE_FILE).read_bytes() == before


def test_forget_on_falkordb_removes_the_personal_data(falkordb_server):
    from msonet.cli import main
    from msonet.graph.cypher_store import connect_falkordb

    url = falkordb_server.url("privacy_forget")
    store = connect_falkordb(url)
    try:
        store.clear()
        store.upsert(_batch())
        assert main(["--falkordb", url, "forget", "org-privat", "--yes"]) == 0
        G = store.to_networkx()
        assert "org-privat" not in G and "prog-nur-privat-programm" not in G
        dump = json.dumps([d for _, d in G.nodes(data=True)] + [d for *_, d in G.edges(data=True)],
                          ensure_ascii=False)
        for value in PERSONAL_VALUES:
            assert value not in dump
    finally:
        store.clear()
        store.close()


def test_new_store_folder_is_private(tmp_path):
    home = tmp_path / "neu" / "store"
    EmbeddedStore(home).upsert(_batch())
    assert home.stat().st_mode & 0o077 == 0  # only the owner may read the contact data
    assert EMAIL.encode() in (home / STORE_FILE).read_bytes()


# -- passwords -------------------------------------------------------------------------------------------------
def _unused_port() -> int:
    from falkordb_server import free_port

    return free_port()


@pytest.mark.parametrize("argv, env", [
    (lambda p: ["--falkordb", f"redis://:{SECRET}@127.0.0.1:{p}/g", "stats"], {}),
    (lambda p: ["--falkordb", f"redis://msonet:{SECRET}@127.0.0.1:{p}/g", "load", "x.csv"], {}),
    (lambda p: ["--neo4j", f"neo4j://127.0.0.1:{p}", "stats"], {"NEO4J_PASSWORD": SECRET}),
    (lambda p: ["--neo4j", f"neo4j://neo4j:{SECRET}@127.0.0.1:{p}", "stats"], {}),
    (lambda p: ["stats"], {"FALKORDB_URL": f"redis://:{SECRET}@127.0.0.1:{{port}}/g"}),
], ids=["falkordb-url", "falkordb-user", "neo4j-env", "neo4j-url", "falkordb-env"])
def test_password_never_in_cli_output_or_logs(argv, env, capsys, caplog, monkeypatch, tmp_path):
    from msonet.cli import main

    port = _unused_port()
    for var in ("NEO4J_URI", "NEO4J_PASSWORD", "FALKORDB_URL"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value.replace("{port}", str(port)))
    monkeypatch.setenv("MSONET_HOME", str(tmp_path / "home"))
    caplog.set_level(logging.DEBUG)
    code = main(argv(port))
    captured = capsys.readouterr()
    assert code == 3
    # unreachable (or, for Neo4j with a password in the URI, refused as invalid): a German message either way
    assert captured.err.startswith("Fehler:") and ("nicht erreichbar" in captured.err or "ungültig" in captured.err)
    everything = captured.out + captured.err + "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in everything


def test_settings_and_backend_description_hide_the_password():
    from msonet.graph.backends import describe_backend
    from msonet.graph.settings import Settings

    s = Settings.from_env({"NEO4J_URI": "neo4j://db:7687", "NEO4J_PASSWORD": SECRET})
    assert SECRET not in repr(s) and SECRET not in describe_backend(s)
    f = Settings.from_env({"FALKORDB_URL": f"redis://:{SECRET}@db:6379/g"})
    assert SECRET not in describe_backend(f)


def test_app_cache_key_has_no_password():
    from msonet.graph.settings import Settings
    from msonet.ui.common import _settings_key

    key = _settings_key(Settings.from_env({"NEO4J_URI": "neo4j://db:7687", "NEO4J_PASSWORD": SECRET}))
    assert SECRET not in "|".join(key)


# -- no user text in Cypher ------------------------------------------------------------------------------------
_RUNNER_METHODS = {"query", "ro_query", "execute_query", "run"}


def _is_text_call(node: ast.AST) -> bool:
    """``self._text(...)``: the one way a runner gets statement text (by name from graph.cypher)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_text"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "self")


def _bindings(func: ast.AST, name: str) -> list[tuple[ast.AST, ast.AST]]:
    """``(binding node, value or iterable)`` for every place ``name`` is bound inside ``func``."""
    found = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    found.append((node, node.value))
        elif isinstance(node, ast.For | ast.comprehension):
            names = [n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)]
            if name in names:
                found.append((node, node.iter))
        elif isinstance(node, ast.arguments):
            if name in [a.arg for a in node.args + node.kwonlyargs]:
                found.append((node, node))
    return found


def _text_source_ok(func: ast.AST, expr: ast.AST, depth: int = 0) -> bool:
    """True when ``expr`` can only hold statement text obtained through ``self._text``."""
    if _is_text_call(expr):
        return True
    if isinstance(expr, ast.Name) and depth < 4:
        func, binds = _scoped_bindings(func, expr.id)
        if not binds:
            return False
        for node, value in binds:
            if isinstance(node, ast.Assign):
                if not _text_source_ok(func, value, depth + 1):
                    return False
            elif isinstance(node, ast.For | ast.comprehension):
                # ``for text, params in texts`` where texts = [(self._text(..), ..) for ..]
                if not (isinstance(value, ast.Name) and _iterable_of_texts(func, value.id)):
                    return False
            else:
                return False
        return True
    return False


def _scoped_bindings(func: ast.AST, name: str) -> tuple[ast.AST, list[tuple[ast.AST, ast.AST]]]:
    """Bindings of ``name`` in ``func`` or, for a closure, in the nearest enclosing function binding it."""
    binds = _bindings(func, name)
    while not binds and func in _OUTER:
        func = _OUTER[func]
        binds = _bindings(func, name)
    return func, binds


def _iterable_of_texts(func: ast.AST, name: str) -> bool:
    func, binds = _scoped_bindings(func, name)
    if not binds:
        return False
    for node, value in binds:
        if not (isinstance(node, ast.Assign) and isinstance(value, ast.ListComp | ast.GeneratorExp)):
            return False
        elt = value.elt
        first = elt.elts[0] if isinstance(elt, ast.Tuple) else elt
        if not _is_text_call(first):
            return False
    return True


_OUTER: dict[ast.AST, ast.AST] = {}


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    parents: dict[ast.AST, ast.AST] = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef):
            for node in ast.walk(func):
                if isinstance(node, ast.FunctionDef) and node is not func:
                    _OUTER[node] = func
                parents[node] = func  # innermost wins: nested functions are walked later
    return parents


def _query_violations(source: str) -> list[str]:
    """Query calls in ``source`` whose text does not come from ``self._text(name)``."""
    _OUTER.clear()
    tree = ast.parse(source)
    owner = _enclosing_functions(tree)
    bad = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in _RUNNER_METHODS and call.args):
            continue
        first = call.args[0]
        built = any(isinstance(n, ast.JoinedStr | ast.BinOp) for n in ast.walk(first))
        if built or call not in owner or not _text_source_ok(owner[call], first):
            bad.append(f"Zeile {call.lineno}: {ast.unparse(call)}")
    return bad


def test_query_checker_catches_built_queries():
    """The structural check below is not vacuous: it flags each way of building a query from values."""
    snippets = {
        "fstring": "def f(self, name):\n    self.graph.query(f\"MATCH (n {{name: '{name}'}}) RETURN n\")\n",
        "percent": "def f(self, name):\n    self.graph.query(\"MATCH (n) WHERE n.name = '%s'\" % name)\n",
        "concat": "def f(self, name):\n    q = self._text('x') + name\n    self.graph.query(q)\n",
        "format": "def f(self, name):\n    self.driver.execute_query('MATCH (n {{id: {}}})'.format(name))\n",
        "variable": "def f(self, text):\n    tx.run(text, {})\n",
    }
    for name, source in snippets.items():
        assert _query_violations(source), name
    good = "def f(self, name):\n    text = self._text(name)\n    self.graph.query(text, {'id': 1})\n"
    assert _query_violations(good) == []


def test_cypher_store_sends_only_named_statement_text():
    """Every query call in graph/cypher_store.py gets its text from ``self._text(name)``: no f-string, ``%``,
    ``+``, ``.format`` or ``.join`` builds a query there."""
    source = (ROOT / "graph" / "cypher_store.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in _RUNNER_METHODS and n.args]
    assert len(calls) >= 3  # graph.query/ro_query, driver.execute_query, tx.run
    assert _query_violations(source) == []
    # _text is a plain lookup in the statement table, which comes from graph.cypher only
    text_fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_text")
    (ret,) = [n for n in ast.walk(text_fn) if isinstance(n, ast.Return)]
    assert ast.unparse(ret.value) == "self._statements[name]"
    assigns = [n for n in ast.walk(tree) if isinstance(n, ast.Assign)
               and any(ast.unparse(t) == "self._statements" for t in n.targets)]
    assert [ast.unparse(a.value) for a in assigns] == ["cypher.statements(self.server)"]


_FIXED_TABLES = {"LABELS", "REL_TYPES"}
_LABEL_CONSTANTS = {"META_LABEL", "JOURNAL_LABEL"}


def _loop_over_fixed_tables(parents: dict[ast.AST, ast.AST], node: ast.AST, name: str) -> bool:
    """The innermost scope binding ``name`` around ``node`` is a loop or comprehension over LABELS/REL_TYPES."""
    current = node
    while current in parents:
        current = parents[current]
        if isinstance(current, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            loops = current.generators
        elif isinstance(current, ast.For):
            loops = [current]
        else:
            loops = []
        for loop in loops:
            if name in {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}:
                return bool({n.id for n in ast.walk(loop.iter) if isinstance(n, ast.Name)} & _FIXED_TABLES)
        if isinstance(current, ast.FunctionDef | ast.Lambda):
            return False  # a parameter or local of a function: could carry anything
    return False


def _fstring_violations(source: str) -> tuple[int, list[str]]:
    """(number of interpolations checked, those not taken from the fixed tables) in ``source``."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    messages = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}
    checked, bad = 0, []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr) or id(node) in messages:  # error messages are no Cypher
            continue
        for part in node.values:
            if not isinstance(part, ast.FormattedValue):
                continue
            value = part.value
            checked += 1
            ok = (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
                  and value.value.id in _FIXED_TABLES) or \
                 (isinstance(value, ast.Name) and (value.id in _LABEL_CONSTANTS
                                                  or _loop_over_fixed_tables(parents, part, value.id)))
            if not ok:
                bad.append(f"Zeile {node.lineno}: {ast.unparse(node)}")
    return checked, bad


def test_fstring_checker_catches_data_in_statements():
    assert _fstring_violations("def f(name):\n    return f\"MATCH (n {{name: '{name}'}})\"\n")[1]
    assert _fstring_violations("for k in rows:\n    S[k] = f\"MATCH (n:{k})\"\n")[1]
    assert not _fstring_violations("for k, lab in LABELS.items():\n    S[k] = f\"MATCH (n:{lab})\"\n")[1]


def test_cypher_module_interpolates_only_fixed_tables():
    """graph/cypher.py fills f-strings only from LABELS, REL_TYPES, the label constants and loop variables over
    those tables, never from a parameter that could carry data; builders reject unknown kinds and types."""
    from msonet.graph import cypher

    checked, bad = _fstring_violations((ROOT / "graph" / "cypher.py").read_text(encoding="utf-8"))
    assert checked >= 10 and bad == []
    hostile = "Organisation {id: 'x'}) DETACH DELETE n //"
    for builder in (cypher.merge_nodes, cypher.merge_edges, cypher.target_kind):
        with pytest.raises(KeyError):
            builder(hostile)
    assert cypher.statements("falkordb") == cypher.statements("falkordb")


def test_load_of_cypher_text_uses_only_listed_statements(falkordb_server):
    """Loading Cypher-looking text on FalkorDB sends only statements from graph.cypher, unchanged."""
    from msonet.graph import cypher
    from msonet.graph.cypher_store import connect_falkordb

    before = dict(cypher.statements("falkordb"))
    store = connect_falkordb(falkordb_server.url("privacy_cypher"))
    hostile = "'}) MATCH (n) DETACH DELETE n //"
    try:
        store.clear()
        batch = RecordBatch(organisations=[
            Organisation(id=hostile, name=hostile, org_type="mso", description=hostile, email=EMAIL,
                         source=hostile, updated="2024-07-01", **_KOELN),
            Organisation(id="org-b", name="B", org_type="mso", source="t", updated="2024-07-01", **_KOELN)],
            relations=[Relation(hostile, "org-b", "cooperates_with", note=hostile, source=hostile,
                                updated="2024-07-01")])
        store.upsert(batch)
        assert store.get_node(hostile)["name"] == hostile
        assert store.counts() == {"organisations": 2, "events": 0, "programmes": 0, "relations": 1}
        assert store.remove_organisation(hostile) is True
        assert store.counts()["organisations"] == 1
        # "clear" names FalkorDB's GRAPH.DELETE of the whole graph (no Cypher text, nothing from the data)
        assert store.runner.requested - {"clear"} <= set(before)
        assert cypher.statements("falkordb") == before
    finally:
        store.clear()
        store.close()


def test_meeting_invitation_csv_has_no_email_unless_asked(store, capsys):
    from msonet.cli import main

    # the planner invites only organisations that form new pairs; here everyone is tied already, so the
    # organisation with contact data comes in as the organiser
    argv = ["--store", str(store.home), "meeting", "--capacity", "5", "--csv", "--today", "2025-06-30",
            "--organiser", "org-privat"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Verein mit Kontakt" in out and EMAIL not in out and "E-Mail" not in out
    assert main([*argv, "--include-personal"]) == 0
    assert EMAIL in capsys.readouterr().out
