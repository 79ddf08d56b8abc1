"""Tests specific to the embedded store: persistence, atomic saves, other writers, broken files."""

import hashlib
import shutil
from pathlib import Path

import pytest

from msonet.graph.errors import StoreError, ValidationError
from msonet.graph.model import Funding, Organisation, RecordBatch, Relation
from msonet.graph.store import LEGACY_FILE, STORE_FILE, EmbeddedStore


def _batch():
    return RecordBatch(
        organisations=[Organisation("a", "Verein A", "mso", ("culture",), source="t.csv", updated="2026-01-01"),
                       Organisation("b", "Jugendzentrum B", "regular_service", ("child_youth",))],
        relations=[Relation("b", "a", "cooperates_with")],
        fundings=[Funding("f1", "a", "MSO-Förderung NRW", "startup_funding", 5000.0, 2025, 2025)],
    )


def _digest(home):
    """The database file and its write-ahead log, byte for byte."""
    digest = hashlib.sha256((home / STORE_FILE).read_bytes())
    wal = home / (STORE_FILE + "-wal")
    digest.update(wal.read_bytes() if wal.exists() else b"")
    return digest.hexdigest()


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


def _assert_unchanged(store, home, before, version):
    assert _digest(home) == before
    assert store.data_version() == version
    assert store.get_node("c") is None and store.counts()["organisations"] == 2
    reopened = EmbeddedStore(home)
    assert reopened.get_node("c") is None and reopened.counts()["organisations"] == 2
    assert not [p for p in home.iterdir() if p.name.startswith(".graph-")]


def test_disk_full_during_a_load_rolls_back_with_a_german_message(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    before, version = _digest(tmp_path), store.data_version()
    # a real SQLite "database or disk is full": the file may not grow by a single page
    big = RecordBatch(organisations=[Organisation(f"c{i}", "Neu " * 50, "mso") for i in range(2000)]
                      + [Organisation("c", "Neu", "mso")])
    with store._connection() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="konnte nicht geschrieben werden .*full.*Es wurde nichts geändert"):
        store.upsert(big)
    with store._connection() as conn:
        conn.execute("PRAGMA max_page_count = 1073741823")
    _assert_unchanged(store, tmp_path, before, version)


def test_permission_error_in_the_middle_of_a_write_rolls_back_fully(tmp_path, monkeypatch):
    import msonet.graph.store as store_module

    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    before, version = _digest(tmp_path), store.data_version()
    real = store_module._edge_row
    calls = []

    def failing(*args):  # nodes are written already when the ties fail
        calls.append(args)
        if len(calls) > 1:
            raise PermissionError(13, "Permission denied")
        return real(*args)

    monkeypatch.setattr(store_module, "_edge_row", failing)
    batch = RecordBatch(organisations=[Organisation("c", "Neu", "mso"), Organisation("a", "Umbenannt", "mso")],
                        relations=[Relation("c", "a", "member_of"), Relation("c", "b", "member_of")])
    with pytest.raises(StoreError, match="Permission denied.*Es wurde nichts geändert"):
        store.upsert(batch)
    monkeypatch.undo()
    assert store.get_node("a")["name"] == "Verein A"
    _assert_unchanged(store, tmp_path, before, version)
    assert store.upsert(batch).total == 4  # the same load goes through once the cause is gone


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


def test_broken_legacy_file_gives_a_german_message_and_stays(tmp_path):
    (tmp_path / LEGACY_FILE).write_text("{kaputt", encoding="utf-8")
    with pytest.raises(StoreError, match="kann nicht gelesen werden"):
        EmbeddedStore(tmp_path)
    assert (tmp_path / LEGACY_FILE).read_text(encoding="utf-8") == "{kaputt"
    assert not (tmp_path / STORE_FILE).exists()


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

    from msonet.graph.store import graph_from_lists
    from msonet.loaders.demo import build_demo_batch

    store = EmbeddedStore(tmp_path)
    store.upsert(build_demo_batch())
    stored = store.to_networkx()
    data = json.loads(json.dumps({"nodes": [d for _, d in stored.nodes(data=True)],
                                  "edges": [[u, v, k, d] for u, v, k, d in stored.edges(keys=True, data=True)]}))
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


# -- migration of the former JSON store ------------------------------------------------------------------------
LEGACY_FIXTURE = Path(__file__).parent / "data" / "legacy-store"


def _same_graph(got, expected):
    """Equal node for node and tie for tie, in the same order, with the same properties."""
    assert list(got.nodes(data=True)) == list(expected.nodes(data=True))
    assert list(got.edges(keys=True, data=True)) == list(expected.edges(keys=True, data=True))


def test_store_written_by_the_json_version_is_migrated_losslessly(tmp_path, capsys):
    from msonet.cli import main
    from msonet.graph.json_store import read_json_store
    from msonet.graph.store import graph_from_lists

    home = tmp_path / "alt"
    shutil.copytree(LEGACY_FIXTURE, home)
    nodes, edges, _ = read_json_store(home / LEGACY_FILE)
    expected = graph_from_lists(nodes, edges)
    assert any(d.get("email") for _, d in expected.nodes(data=True))  # the fixture has contact data ...
    assert any(d.get("type") == "funded_by" for *_, d in expected.edges(keys=True, data=True))  # ... and fundings

    store = EmbeddedStore(home)
    _same_graph(store.to_networkx(), expected)
    assert store.counts() == {"organisations": 7, "events": 3, "programmes": 4, "relations": 13}
    assert not (home / LEGACY_FILE).exists() and (home / STORE_FILE).exists()
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".graph-")) == []
    _same_graph(EmbeddedStore(home).to_networkx(), expected)  # opened again: read, not migrated again
    # and the migrated store round-trips through export and load like any other
    out = tmp_path / "export"
    assert main(["--store", str(home), "export", "--out", str(out), "--include-personal"]) == 0
    assert main(["--store", str(tmp_path / "neu"), "load", str(out)]) == 0
    capsys.readouterr()
    loaded = EmbeddedStore(tmp_path / "neu").to_networkx()
    assert sorted(loaded.edges(keys=True)) == sorted(expected.edges(keys=True))
    fields = ("kind", "name", "email", "phone", "contact_person", "sectors", "city")
    assert ({n: [d.get(f) for f in fields] for n, d in loaded.nodes(data=True)}
            == {n: [d.get(f) for f in fields] for n, d in expected.nodes(data=True)})


def test_demo_store_of_the_json_version_is_migrated_losslessly(tmp_path):
    from msonet.graph.json_store import JsonStore
    from msonet.loaders.demo import build_demo_batch

    old = JsonStore(tmp_path)
    old.upsert(build_demo_batch())
    old.remove_organisation(next(n for n, d in old.graph_view().nodes(data=True) if d.get("kind") == "organisation"))
    expected, counts = JsonStore(tmp_path).to_networkx(), old.counts()
    store = EmbeddedStore(tmp_path)
    _same_graph(store.to_networkx(), expected)
    assert store.counts() == counts


def test_a_failed_migration_leaves_the_json_file_and_creates_no_database(tmp_path, monkeypatch):
    import msonet.graph.store as store_module

    shutil.copytree(LEGACY_FIXTURE, tmp_path / "alt")
    home = tmp_path / "alt"
    before = (home / LEGACY_FILE).read_bytes()
    real = store_module._edge_row

    def lossy(source, target, source_id, target_id, key, data):  # a migration bug: loses every note
        return real(source, target, source_id, target_id, key, {**data, "note": None} if "note" in data else data)

    monkeypatch.setattr(store_module, "_edge_row", lossy)
    with pytest.raises(StoreError, match="nicht verlustfrei .* bleibt unverändert"):
        EmbeddedStore(home)
    monkeypatch.undo()
    assert (home / LEGACY_FILE).read_bytes() == before and not (home / STORE_FILE).exists()
    assert not [p for p in home.iterdir() if p.name.startswith(".graph-")]


# -- format version, foreign files --------------------------------------------------------------------------------
def test_store_of_a_newer_format_version_is_refused(tmp_path):
    import sqlite3

    EmbeddedStore(tmp_path).upsert(_batch())
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    before = _digest(tmp_path)
    with pytest.raises(StoreError, match="neueren msonet-Version .*Format 2.*kennt Format 1.*aktualisieren"):
        EmbeddedStore(tmp_path)
    assert _digest(tmp_path) == before


# -- queries without the whole graph equal the graph-based answers ------------------------------------------------
@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from msonet.loaders.demo import build_demo_batch

    store = EmbeddedStore(tmp_path_factory.mktemp("demo"))
    store.upsert(build_demo_batch())
    return store


def test_organisation_stats_equal_the_count_over_the_graph(demo_store):
    from msonet.graph.store import organisation_stats_of

    stats = demo_store.organisation_stats()
    assert stats == organisation_stats_of(demo_store.to_networkx())
    assert stats["total"] > 4000 and stats["by_sector"] and stats["by_district"]


def test_find_organisations_equals_a_filter_over_the_graph(demo_store):
    G = demo_store.to_networkx()
    orgs = [d for _, d in G.nodes(data=True) if d.get("kind") == "organisation"]
    some = next(d for d in orgs if d.get("district") and d.get("sectors") and d.get("city"))
    cases = [{}, {"org_type": "mso"}, {"district": some["district"]}, {"sector": some["sectors"][0]},
             {"regierungsbezirk": some["regierungsbezirk"]}, {"city": some["city"].upper()},
             {"name_contains": "E.V."}, {"org_type": "mso", "sector": "culture", "limit": 7}]
    for filters in cases:
        want = [d for d in orgs
                if (not filters.get("org_type") or d.get("org_type") == filters["org_type"])
                and (not filters.get("district") or d.get("district") == filters["district"])
                and (not filters.get("regierungsbezirk") or d.get("regierungsbezirk") == filters["regierungsbezirk"])
                and (not filters.get("sector") or filters["sector"] in (d.get("sectors") or ()))
                and (not filters.get("city") or (d.get("city") or "").casefold() == filters["city"].casefold())
                and (not filters.get("name_contains")
                     or filters["name_contains"].casefold() in (d.get("name") or "").casefold())]
        want.sort(key=lambda r: (r.get("name") or "", r["id"]))
        got = demo_store.find_organisations(**filters)
        assert got == want[:filters.get("limit")], filters
        assert got, filters


def test_neighbourhood_equals_networkx(demo_store):
    import networkx as nx

    G = demo_store.to_networkx()
    hub = max(G.nodes, key=G.degree)
    for node, hops in ((hub, 1), (next(iter(G.nodes)), 2), (hub, 0)):
        reach = nx.single_source_shortest_path_length(G.to_undirected(as_view=True), node, cutoff=hops)
        want = G.subgraph(reach)
        got = demo_store.neighbourhood(node, hops)
        assert dict(got.nodes(data=True)) == dict(want.nodes(data=True))
        assert sorted(got.edges(keys=True, data=True)) == sorted(want.edges(keys=True, data=True))
    assert demo_store.neighbourhood("gibt-es-nicht").number_of_nodes() == 0


def test_partner_view_of_an_mso_without_coordinates(tmp_path):
    from _graphs import org, rel

    from msonet.graph.partners import propose_partners

    store = EmbeddedStore(tmp_path)
    store.upsert(RecordBatch(
        organisations=[org("m", city="Köln", coords=False, sectors=("education",)),
                       *(org(f"p{i}", "regular_service", city=c, sectors=("education",))
                         for i, c in enumerate(["Köln", "Bonn", "Bielefeld", "Dortmund", "Heinsberg"])),
                       org("q", "sports_club", city=None), org("c", "mso", city="Bochum")],
        relations=[rel("m", "c"), rel("c", "p3"), rel("p2", "p4", "tandem_partner")]))
    G = store.to_networkx()
    for top in (1, 3, 10):
        assert propose_partners(store.partner_view("m", top=top), "m", top=top) == propose_partners(G, "m", top=top)


def test_partner_search_on_the_partner_view_equals_the_whole_graph(demo_store):
    import random

    from msonet.graph.partners import PartnerIndex, propose_partners

    G = demo_store.to_networkx()
    index = PartnerIndex(G)  # equals the brute-force scan (tests/test_partners.py)
    msos = sorted(n for n, d in G.nodes(data=True) if d.get("kind") == "organisation" and d.get("org_type") == "mso")
    # the MSOs with the most contacts (common contacts matter) and a seeded sample of the others
    busiest = sorted(msos, key=lambda n: (-G.degree(n), n))[:5]
    for mso in busiest[:3] + random.Random(7).sample(msos, 6):
        for kwargs in ({"top": 10}, {"top": 5, "max_km": 20.0}, {"top": 5, "sector": "education"},
                       {"top": 400}):
            view = demo_store.partner_view(mso, **kwargs)
            assert propose_partners(view, mso, **kwargs) == propose_partners(G, mso, index=index, **kwargs), \
                (mso, kwargs)


# -- issue 14 (5): readers never see a graph change under them ----------------------------------------------------
def test_reader_iterating_the_shared_graph_while_a_load_commits(tmp_path):
    import threading

    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    shared = store.graph_view()
    before_nodes, before_edges = shared.number_of_nodes(), shared.number_of_edges()
    writes = [RecordBatch(organisations=[Organisation(f"n{i}", f"Neu {i}", "mso")],
                      relations=[Relation(f"n{i}", "a", "member_of")]) for i in range(30)]
    errors, seen = [], []

    def read():
        try:
            for _ in range(30):
                seen.append((sum(1 for _ in shared.nodes(data=True)), sum(1 for _ in shared.edges(keys=True))))
                for node in list(shared):
                    for _ in shared.adj[node]:
                        pass
        except Exception as exc:  # noqa: BLE001 - the test reports any error the reader met
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for batch in writes:
        store.upsert(batch)
        store.remove_organisation("n0") if batch is writes[5] else None
    reader.join()
    assert errors == []
    assert set(seen) == {(before_nodes, before_edges)}  # the shared graph stayed the old one throughout
    fresh = store.graph_view()
    assert fresh is not shared and fresh.number_of_nodes() == before_nodes + 29  # new readers get the new one
    assert store.graph_view() is fresh  # and share it until the next write


def test_graph_read_while_another_process_commits_is_old_or_new(tmp_path):
    """A whole-graph read in one thread while real processes load: each graph read is one committed state."""
    import subprocess
    import sys
    import threading

    store = EmbeddedStore(tmp_path)
    store.upsert(_batch())
    script = ("import sys; from graph.store import EmbeddedStore; from graph.model import *; "
              "s = EmbeddedStore(sys.argv[1]); k = int(sys.argv[2]); "
              "s.upsert(RecordBatch(organisations=[Organisation(f'p{k}-{i}', 'X', 'mso') for i in range(3000)], "
              "relations=[Relation(f'p{k}-{i}', 'a', 'member_of') for i in range(3000)]))")
    graphs, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            G = store.to_networkx()
            graphs.append((G.number_of_nodes(), G.number_of_edges()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for k in range(3):
            subprocess.run([sys.executable, "-c", script, str(tmp_path), str(k)], check=True,
                           cwd=Path(__file__).resolve().parent.parent, timeout=120)
    finally:
        stop.set()
        reader.join()
    states = {(3 + 3000 * k, 2 + 3000 * k) for k in range(4)}
    assert set(graphs) <= states, set(graphs) - states
    assert len(set(graphs)) >= 2  # the reader did see a load land
    assert store.counts()["organisations"] == 2 + 9000


# -- two loading processes at once ---------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_two_msonet_load_processes_on_one_store_both_land(tmp_path, round_):
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    home = tmp_path / "store"
    files = []
    for k in range(2):
        path = tmp_path / f"orgs{k}.csv"
        rows = [f"p{k}-{i};Verein {k}-{i} e.V.;mso;Köln;culture" for i in range(4000)]
        path.write_text("id;name;type;city;sectors\n" + "\n".join(rows) + "\n", encoding="utf-8")
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-m", "msonet", "--store", str(home), "load", str(f)],
                              cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in files]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    store = EmbeddedStore(home)
    assert store.counts()["organisations"] == 8000
    assert {d["id"][:2] for d in store.find_organisations()} == {"p0", "p1"}
