"""Faults: the process killed mid-save, the graph server killed mid-load, an unreadable store in the app and CLI."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from msonet.graph.errors import StoreError, StoreUnavailable
from msonet.graph.model import Organisation, RecordBatch
from msonet.graph.store import LEGACY_FILE, STORE_FILE, EmbeddedStore

__all__: list[str] = []

ROOT = Path(__file__).resolve().parent.parent
BIG = 50_000
_KOELN = dict(city="Köln", ags="05315000", district="05315", regierungsbezirk="Köln", lat=50.9384, lon=6.9599)


def _org(i: int, prefix: str = "org-big") -> Organisation:
    return Organisation(id=f"{prefix}-{i}", name=f"Verein {prefix} {i}", org_type="mso", sectors=("culture",),
                        description="Beratung und Begegnung " * 4, source="fault-test", updated="2024-07-01",
                        synthetic=True, **_KOELN)


def _small_batch() -> RecordBatch:
    return RecordBatch(organisations=[_org(i, "org-good") for i in range(3)])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- (a) SIGKILL during a load into the embedded store (SQLite) ----------------------------------------------
_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_faults import BIG, _org
    from msonet.graph.model import RecordBatch
    from msonet.graph.store import EmbeddedStore

    store = EmbeddedStore(sys.argv[1])
    batch = RecordBatch(organisations=[_org(i) for i in range(BIG)])
    print("beginne", flush=True)
    store.upsert(batch)
    print("gespeichert", flush=True)
    import time
    time.sleep(60)  # still holding its connection when killed after the commit
""")


def _wal(home: Path) -> Path:
    return home / (STORE_FILE + "-wal")


def _kill_during_save(home: Path, moment: str) -> str:
    """Start a child that loads BIG organisations into ``home`` and SIGKILL it at ``moment``.

    Returns what was seen when the kill was sent (for the assertion messages).
    """
    script = _CHILD.format(root=str(ROOT), tests=str(ROOT / "tests"))
    child = subprocess.Popen([sys.executable, "-c", script, str(home)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=ROOT)
    seen = "nichts"
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"beginne", child.communicate()
        if moment == "wal_growing":
            start = _wal(home).stat().st_size if _wal(home).exists() else 0
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and child.poll() is None:
                with contextlib.suppress(FileNotFoundError):
                    if _wal(home).stat().st_size > start:
                        seen = f"WAL {_wal(home).stat().st_size} Bytes"
                        break
                time.sleep(0.0005)
        elif moment.startswith("delay_"):
            time.sleep(int(moment.split("_")[1]) / 1000)
            seen = f"nach {moment}"
        elif moment == "after_commit":
            seen = child.stdout.readline().decode().strip()
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=60)
    return seen


@pytest.fixture(scope="module")
def good_home(tmp_path_factory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("good") / "store"
    store = EmbeddedStore(home)
    store.upsert(_small_batch())
    store.close()
    return home, _sha(home / STORE_FILE)


MOMENTS = ["wal_growing", "delay_20", "delay_100", "delay_300", "delay_1000", "after_commit"]
_outcomes: dict[str, str] = {}


@pytest.mark.slow
@pytest.mark.parametrize("moment", MOMENTS)
def test_sigkill_during_save_leaves_old_or_new_store(tmp_path, good_home, moment):
    import shutil

    home = tmp_path / "store"
    shutil.copytree(good_home[0], home)
    seen = _kill_during_save(home, moment)
    # the store opens without error, whatever the moment was, and holds the old or the new state
    store = EmbeddedStore(home)
    counts = store.counts()
    if counts["organisations"] == 3:
        outcome = "alt"
        assert store.get_node("org-big-0") is None
    else:
        outcome = "neu"
        assert counts["organisations"] == 3 + BIG, seen
        assert store.get_node(f"org-big-{BIG - 1}")["name"] == f"Verein org-big {BIG - 1}"
    assert store.get_node("org-good-0")["name"] == "Verein org-good 0"
    _outcomes[moment] = outcome
    print(f"{moment}: {seen} -> {outcome}")
    # and it keeps working: a new write after the crash succeeds and is read back
    store.upsert(RecordBatch(organisations=[_org(0, "org-after")]))
    assert EmbeddedStore(home).get_node("org-after-0") is not None
    if moment == "wal_growing":
        # killed while the transaction was being written: only the old state can be there
        assert outcome == "alt", seen
    if moment == "after_commit":
        assert outcome == "neu", seen


@pytest.mark.slow
def test_sigkill_hit_a_save_in_progress():
    """The kills above were not all too late: at least one left the old state (guards against a vacuous test)."""
    if len(_outcomes) < len(MOMENTS):
        pytest.skip("runs after the parametrised kill tests")
    assert "alt" in _outcomes.values(), _outcomes


# -- (b) the FalkorDB server killed during a load ---------------------------------------------------------------
class PersistentFalkorDB:
    """A FalkorDB server with an append-only file (fsync on every write) that can be killed and restarted
    on the same port and folder; unlike tests/falkordb_server.py's throw-away server, data survive."""

    def __init__(self, workdir: Path):
        from falkordb_server import free_port

        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, graph: str) -> str:
        return f"redis://127.0.0.1:{self.port}/{graph}"

    def start(self) -> PersistentFalkorDB:
        import redis
        from falkordb_server import _binaries, _die_with_parent

        server, module = _binaries()
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
                "--logfile", str(self.workdir / "falkordb.log"), "--loadmodule", module]
        self.process = subprocess.Popen(args, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        preexec_fn=_die_with_parent)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=30)
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, (self.workdir / "falkordb.log").read_text()[-2000:]
                with contextlib.suppress(redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                    if client.ping():
                        return self
                time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError("FalkorDB did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _count(port: int, graph: str, query: str) -> int:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=30)
    try:
        reply = client.execute_command("GRAPH.RO_QUERY", graph, query)
        return int(reply[1][0][0])
    finally:
        client.close()


def _state(store) -> tuple[dict, list]:
    G = store.to_networkx()
    return ({n: dict(d) for n, d in G.nodes(data=True)},
            sorted((u, v, k, sorted(d.items())) for u, v, k, d in G.edges(keys=True, data=True)))


@pytest.mark.slow
def test_falkordb_killed_mid_load_rolls_back_after_restart(tmp_path, monkeypatch):
    from falkordb_server import falkordb_available

    reason = falkordb_available()
    if reason:
        pytest.skip(reason)
    from msonet.graph import cypher_store
    from msonet.graph.cypher_store import connect_falkordb

    # A dead writer's lock expires after _LOCK_TTL_MS (2 minutes in production); shortened so that the
    # restarted server is usable within seconds. Everything else is the production code path.
    monkeypatch.setattr(cypher_store, "_LOCK_TTL_MS", 3000)
    server = PersistentFalkorDB(tmp_path / "falkordb").start()
    graph = "faults"
    url = server.url(graph)
    try:
        store = connect_falkordb(url)
        store.upsert(_small_batch())
        before = _state(store)
        store.close()

        errors: list[BaseException] = []

        def big_load() -> None:
            try:
                loader = connect_falkordb(url)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
                return
            try:
                loader.upsert(RecordBatch(organisations=[_org(i) for i in range(BIG)]))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                loader.close()

        thread = threading.Thread(target=big_load, daemon=True)
        thread.start()
        # kill once the load has written part of its batches (more than the 3 old, fewer than all)
        deadline = time.monotonic() + 120
        seen = 0
        while time.monotonic() < deadline and thread.is_alive():
            seen = _count(server.port, graph, "MATCH (o:Organisation) RETURN count(o)")
            if seen > 3:
                break
            time.sleep(0.01)
        assert 3 < seen < 3 + BIG, f"the load was not caught in the middle ({seen} organisations)"
        server.kill()
        thread.join(timeout=120)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], StoreUnavailable), errors
        message = str(errors[0])
        assert "FalkorDB-Server" in message and "nicht erreichbar" in message and "FALKORDB_URL" in message

        # the same folder and port: the append-only file brings back what was written, half a load included
        server.start()
        half = _count(server.port, graph, "MATCH (o:Organisation) RETURN count(o)")
        journal = _count(server.port, graph, "MATCH (j:MsonetJournal) RETURN count(j)")
        assert half > 3 and journal > 0, (half, journal)  # the interrupted load really is on disk
        # opening the store plays the journal back: the half-written load is gone
        store = connect_falkordb(url)
        assert _state(store) == before
        assert store.counts()["organisations"] == 3
        assert _count(server.port, graph, "MATCH (j:MsonetJournal) RETURN count(j)") == 0
        # and a rerun completes
        summary = store.upsert(RecordBatch(organisations=[_org(i) for i in range(BIG)]))
        assert summary.organisations == BIG
        assert store.counts()["organisations"] == 3 + BIG
        store.close()
    finally:
        server.stop()


def test_falkordb_unreachable_gives_german_message_without_password():
    from falkordb_server import free_port

    from msonet.graph.cypher_store import connect_falkordb

    with pytest.raises(StoreUnavailable) as info:
        connect_falkordb(f"redis://:geheim123@127.0.0.1:{free_port()}/g", timeout=1)
    text = str(info.value)
    assert "nicht erreichbar" in text and "FALKORDB_URL" in text and "geheim123" not in text


# -- (c) an unreadable store: German banner in the app, German message from the CLI ------------------------------
def _sqlite_file(kind: str) -> bytes:
    """Bytes of a database file: ``fremd`` another program's SQLite file, ``neuer`` an msonet store of a newer
    format version, ``abgeschnitten`` an msonet store cut off after its first pages."""
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        if kind == "fremd":
            conn = sqlite3.connect(Path(folder) / "x.sqlite")
            conn.execute("CREATE TABLE kunden (name TEXT)")
            conn.execute("INSERT INTO kunden VALUES ('Muster')")
            conn.commit()
            conn.close()
            return (Path(folder) / "x.sqlite").read_bytes()
        store = EmbeddedStore(Path(folder))
        store.upsert(RecordBatch(organisations=[_org(i) for i in range(2000)]))
        store.close()
        path = Path(folder) / STORE_FILE
        if kind == "neuer":
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA user_version = 99")
            conn.commit()
            conn.close()
            return path.read_bytes()
        data = path.read_bytes()
        return data[: len(data) // 3]


CORRUPT = {
    "abgeschnitten": b'{"format": "msonet-embedded/1", "revision": 3, "nodes": [{"id": "a", "kind": "organ',
    "leer": b"",
    "binaer": bytes(range(256)),
    "fremdes_format": b'{"format": "etwas-anderes/9", "nodes": [], "edges": []}',
    "liste": b"[]",
    "kaputte_kante": b'{"format": "msonet-embedded/1", "nodes": [], "edges": [[1, 2]]}',
}
#: Damaged database files (graph.sqlite); the cases above are damaged files of the former JSON store.
CORRUPT_DB = {"db_leer": b"", "db_binaer": bytes(range(256)), "db_text": b"kaputt",
              "db_fremd": _sqlite_file("fremd"), "db_neuer": _sqlite_file("neuer"),
              "db_abgeschnitten": _sqlite_file("abgeschnitten")}


def _corrupt_params():
    return [pytest.param(k, id=k) for k in (*CORRUPT, *CORRUPT_DB)]


def _corrupt_file(home: Path, kind: str) -> tuple[Path, bytes]:
    if kind in CORRUPT:
        return home / LEGACY_FILE, CORRUPT[kind]
    return home / STORE_FILE, CORRUPT_DB[kind]


def _corrupt_home(tmp_path: Path, kind: str) -> Path:
    home = tmp_path / "kaputt"
    home.mkdir()
    path, data = _corrupt_file(home, kind)
    path.write_bytes(data)
    return home


def _unchanged(home: Path, kind: str) -> bool:
    path, data = _corrupt_file(home, kind)
    return path.read_bytes() == data and (path.name == STORE_FILE or not (home / STORE_FILE).exists())


@pytest.mark.parametrize("kind", _corrupt_params())
def test_corrupt_store_raises_store_error(tmp_path, kind):
    home = _corrupt_home(tmp_path, kind)
    with pytest.raises(StoreError) as info:
        store = EmbeddedStore(home)
        store.counts()
        store.to_networkx()
    assert "kann nicht gelesen werden" in str(info.value) and str(home) in str(info.value)
    if kind == "db_neuer":
        assert "neueren msonet-Version" in str(info.value) and "msonet aktualisieren" in str(info.value)
    assert _unchanged(home, kind)  # nothing overwritten


@pytest.mark.parametrize("kind", _corrupt_params())
def test_cli_on_corrupt_store_prints_german_error(tmp_path, capsys, kind):
    from msonet.cli import main

    home = _corrupt_home(tmp_path, kind)
    for command in (["stats"], ["isolated"]):
        code = main(["--store", str(home), *command])
        err = capsys.readouterr().err
        assert code == 3, (command, err)
        assert err.startswith("Fehler") and "kann nicht gelesen werden" in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("kind", _corrupt_params())
def test_app_shows_german_banner_for_corrupt_store(tmp_path, monkeypatch, kind):
    from streamlit.testing.v1 import AppTest

    home = _corrupt_home(tmp_path, kind)
    monkeypatch.setenv("MSONET_HOME", str(home))
    for var in ("NEO4J_URI", "FALKORDB_URL"):
        monkeypatch.delenv(var, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    pages = ["ui/network.py", "ui/isolation.py", "ui/tandem.py", "ui/meeting.py", "ui/coverage.py", "ui/data.py"]
    for page in [None, *pages]:
        if page is not None:
            at.switch_page(page)
            at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        errors = [e.value for e in at.error]
        assert errors, page
        assert any("Der Datenspeicher ist nicht erreichbar oder fehlerhaft" in e and "kann nicht gelesen werden"
                   in e for e in errors), (page, errors)
    assert _unchanged(home, kind)


def test_unwritable_store_folder_gives_german_message(tmp_path):
    if os.geteuid() == 0:
        # root ignores file permissions; a regular file where the folder should be fails for everyone
        blocker = tmp_path / "datei"
        blocker.write_text("kein Ordner")
        with pytest.raises(StoreError) as info:
            EmbeddedStore(blocker / "store")
    else:
        locked = tmp_path / "gesperrt"
        locked.mkdir(mode=0o500)
        with pytest.raises(StoreError) as info:
            EmbeddedStore(locked / "store")
    assert "kann nicht angelegt werden" in str(info.value) and "--store oder MSONET_HOME" in str(info.value)


# -- (d) inputs and targets that used to end in a traceback (issue 14.9) ----------------------------------------
def _cli(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    from msonet.cli import main

    code = main(["--store", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo_home(tmp_path, capsys) -> Path:
    home = tmp_path / "store"
    people = tmp_path / "p.csv"
    people.write_text("id;Name;Typ;Ort\nq1;Brücke e.V.;MSO;Köln\nq2;Kita Sonne;Regeldienst;Köln\n", encoding="utf-8")
    assert _cli(capsys, home, "load", str(people))[0] == 0
    return home


def test_loading_a_device_or_a_pipe_is_refused_at_once(demo_home, tmp_path, capsys):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    before = _sha(demo_home / STORE_FILE)
    for target in ("/dev/zero", str(fifo)):
        code, _, err = _cli(capsys, demo_home, "load", target)
        assert code == 1 and "eine gewöhnliche Datei" in err and "Traceback" not in err, err
    assert _sha(demo_home / STORE_FILE) == before


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    from msonet.graph.errors import ValidationError
    from msonet.loaders import files

    big = tmp_path / "gross.csv"
    big.write_text("Name;Typ;Ort\n" + "A;MSO;Köln\n" * 200, encoding="utf-8")
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1024)
    with pytest.raises(ValidationError, match="eine Datei bis 0 MB"):
        files.read_tables(big)


def test_export_to_a_folder_or_an_unwritable_place_gives_a_german_message(demo_home, tmp_path, capsys):
    blocker = tmp_path / "datei.txt"
    blocker.write_text("x")
    for args, text in ((["--format", "json", "--out", str(tmp_path)], "ist ein Ordner"),
                       (["--format", "graphml", "--out", str(tmp_path)], "ist ein Ordner"),
                       (["--out", str(blocker)], "ist eine Datei"),
                       (["--out", str(blocker / "unter")], "nicht möglich"),
                       (["--format", "json", "--out", str(blocker / "x.json")], "nicht möglich")):
        code, _, err = _cli(capsys, demo_home, "export", *args)
        assert code == 1 and text in err and "Traceback" not in err, (args, err)


def test_store_folder_that_cannot_be_written_exits_3(tmp_path, capsys):
    # root ignores permissions: a folder where the lock file for creating the database should be fails
    # for every user
    home = tmp_path / "store"
    (home / ".lock").mkdir(parents=True)
    people = tmp_path / "neu.csv"
    people.write_text("Name;Typ;Ort\nNeu e.V.;MSO;Bonn\n", encoding="utf-8")
    code, _, err = _cli(capsys, home, "load", str(people))
    assert code == 3 and "Schreibrechte" in err and "Traceback" not in err, err


def test_analysis_parameters_out_of_range_give_messages(demo_home, capsys):
    code, out, err = _cli(capsys, demo_home, "isolated", "--years", "1000000", "--json")
    assert code == 0 and err == "" and {r["id"] for r in json.loads(out)} == {"q1", "q2"}
    for args, text in ((["--top", "0"], "zwischen 1 und 500"), (["--top", "-1"], "zwischen 1 und 500"),
                       (["--max-km", "nan"], "Entfernung muss eine Zahl"), (["--max-km", "-3"], "Zahl ab 0 km")):
        code, _, err = _cli(capsys, demo_home, "partners", "q1", *args)
        assert code == 1 and text in err, (args, err)
    code, _, err = _cli(capsys, demo_home, "tandems", "--count", "2", "--max-km", "nan")
    assert code == 1 and "Zahl ab 0 km" in err


@pytest.mark.parametrize("text, command, code", [
    ('{"format": "msonet-embedded/1", "revision": "x", "nodes": [], "edges": []}', "stats", 3),
    # wrong field types survive the migration (counts work); an analysis that needs them says so, exit 4
    ('{"format": "msonet-embedded/1", "nodes": [{"id": "a", "kind": "organisation", "sectors": 5, "name": 3}], '
     '"edges": []}', "isolated", 4),
    ("[" * 100_000, "stats", 3),
], ids=["revision", "feldtyp", "verschachtelt"])
def test_hand_damaged_store_gives_a_message_not_a_traceback(tmp_path, capsys, text, command, code):
    home = tmp_path / "kaputt"
    home.mkdir()
    (home / LEGACY_FILE).write_text(text, encoding="utf-8")  # a store of the former JSON format, migrated
    got, _, err = _cli(capsys, home, command)
    assert got == code and "Traceback" not in err and err.count("\n") == 1, err
    if code == 3:
        assert "zur Seite legen" in err and "msonet demo" in err
        assert (home / LEGACY_FILE).read_text(encoding="utf-8") == text  # the damaged file is left as it was


def test_same_file_twice_is_read_once(demo_home, tmp_path, capsys):
    people = tmp_path / "p.csv"
    code, out, err = _cli(capsys, demo_home, "load", str(people), str(people))
    assert code == 0 and "steht schon in" not in out + err and "mehrfach angegeben" in out, out + err


def test_load_json_prints_json_also_when_nothing_was_loaded(demo_home, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Name;Typ;Ort\nX;Unbekannt;Köln\n", encoding="utf-8")
    code, out, err = _cli(capsys, demo_home, "load", "--json", str(bad))
    payload = json.loads(out)
    assert code == 1 and payload["written"] is None and payload["problems"][0]["column"] == "Typ"
    assert "Nichts geladen" in err


def test_line_break_in_a_file_name_stays_out_of_reports_and_source(demo_home, tmp_path, capsys):
    odd = tmp_path / "neue\nliste.csv"
    odd.write_text("Name;Typ;Ort\nZeilen e.V.;MSO;Bonn\n", encoding="utf-8")
    code, out, _ = _cli(capsys, demo_home, "load", str(odd))
    assert code == 0 and "neue liste.csv" in out and "neue\nliste" not in out
    from msonet.graph.store import EmbeddedStore

    (org,) = EmbeddedStore(demo_home).find_organisations(name_contains="Zeilen")
    assert org["source"] == "neue liste.csv"
