"""The CLI against a real FalkorDB server: every command uses the server, and migrate copies both ways."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from msonet.cli import main

GOOD = Path(__file__).parent / "data" / "good"
FILES = [str(GOOD / n) for n in ("organisationen.csv", "veranstaltungen.csv", "beziehungen.csv",
                                 "teilnahme.csv", "foerderungen.csv")]


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_load_stats_and_migrate_both_ways(falkordb_server, tmp_path, capsys):
    url = falkordb_server.url(f"cli-{uuid.uuid4().hex[:8]}")
    local = tmp_path / "local"
    assert _run(capsys, "--store", str(local), "load", *FILES)[0] == 0
    local_stats = json.loads(_run(capsys, "--store", str(local), "stats", "--json")[1])

    code, out, err = _run(capsys, "--falkordb", url, "migrate", "to-server", "--store-dir", str(local))
    assert code == 0, err
    assert "5 Organisationen" in out
    server_stats = json.loads(_run(capsys, "--falkordb", url, "stats", "--json")[1])
    assert server_stats == local_stats

    code, out, _ = _run(capsys, "--falkordb", url, "partners", "Frauenforum Morgenrot", "--json")
    assert code == 0 and json.loads(out)

    back = tmp_path / "back"
    code, _, err = _run(capsys, "--falkordb", url, "migrate", "from-server", "--store-dir", str(back))
    assert code == 0, err
    assert json.loads(_run(capsys, "--store", str(back), "stats", "--json")[1]) == local_stats

    code, _, err = _run(capsys, "--store", str(local), "migrate", "to-server")
    assert code == 1 and "Server" in err


def test_invalid_load_leaves_server_unchanged(falkordb_server, tmp_path, capsys):
    url = falkordb_server.url(f"cli-{uuid.uuid4().hex[:8]}")
    assert _run(capsys, "--falkordb", url, "load", *FILES)[0] == 0
    before = _run(capsys, "--falkordb", url, "stats", "--json")[1]
    bad = tmp_path / "bad.csv"
    bad.write_text("name;type;city\nNeu e.V.;mso;Köln\nKaputt;mso;Atlantis\n", encoding="utf-8")
    code, _, err = _run(capsys, "--falkordb", url, "load", str(bad))
    assert code == 1 and "Zeile 3" in err
    assert _run(capsys, "--falkordb", url, "stats", "--json")[1] == before
