"""Smoke tests of the benchmarks (``python -m bench``) at tiny sizes, so the bench code cannot rot.

No timing is asserted: only that every benchmark runs, reports its rows and finds no error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import __main__ as bench_cli  # noqa: E402
from bench._data import Context  # noqa: E402
from bench._timing import Row, format_table, percentile, timed  # noqa: E402

ORGS = 300


def test_percentile_nearest_rank():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == 5.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN for no values


def test_timed_keeps_every_run_and_the_result():
    calls = []
    t = timed(lambda: calls.append(1) or len(calls), runs=3, setup=lambda: calls.append(0))
    assert t.runs == 3 and len(t.times) == 3
    assert t.result == 6  # three setups and three runs appended before the last result
    assert t.median >= 0


def test_table_groups_sections_and_shows_verdicts():
    rows = [Row("A", "eins", "1 s", "< 2 s", True, "3×"), Row("B", "zwei", "3 s", "< 2 s", False, "1×"),
            Row("A", "drei", "5 ms", note="Hinweis")]
    text = format_table(rows).splitlines()
    assert [line.split()[1] for line in text[2:] if line] == ["eins", "drei", "zwei"]
    assert "PASS" in text[2] and "MISS" in text[5]
    markdown = format_table(rows, markdown=True).splitlines()
    assert markdown[0].startswith("| Bereich | Messung | Ergebnis | Ziel | Status |")
    assert len(markdown) == 2 + len(rows)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.mark.slow
def test_quick_run_of_load_analytics_and_memory(workdir, capsys):
    out = workdir / "result.json"
    code = bench_cli.main(["--quick", "--orgs", str(ORGS), "--workdir", str(workdir), "--json", str(out),
                           "--only", "load", "falkordb", "analytics", "memory"])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, printed
    rows = result["rows"]
    assert not [r for r in rows if r["value"] == "FEHLER"], printed
    sections = {r["section"] for r in rows}
    assert {"Laden eingebettet", "Laden Graph-Server", "Analysen", "Speicherbedarf"} <= sections
    names = " ".join(r["name"] for r in rows)
    for expected in ("eingebetteter Speicher", "Isolierte Organisationen", "Partnersuche", "Kohorte",
                     "Vernetzungstreffen", "Versorgung", "to_networkx", "AppTest"):
        assert expected in names, expected
    # small runs carry no PASS/MISS: the targets are set for 100,000 organisations
    assert all(r["status"] == "" for r in rows)
    assert "Organisationen" in printed.splitlines()[0]


@pytest.mark.slow
@pytest.mark.browser
def test_pyvis_and_app_benchmarks_in_the_browser(workdir):
    from bench.bench_app import bench_app
    from bench.bench_pyvis import _chromium_missing, bench_pyvis

    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    ctx = Context(orgs=ORGS, runs=1, quick=True, workdir=workdir, log=lambda message: None)
    rows = bench_pyvis(ctx, sizes=(20, 40))
    assert len(rows) == 4
    assert all(r.value.startswith("gezeichnet nach") and "–" not in r.value for r in rows), rows
    rows = bench_app(ctx)
    names = [r.name for r in rows]
    assert any("Kaltstart" in n for n in names) and any("Seitenwechsel" in n for n in names)
    assert not any("Fehlermeldungen" in n for n in names), rows


@pytest.mark.slow
def test_store_comparison_runs_both_stores_through_the_cli(workdir, capsys):
    """``--only store``: every msonet command on the JSON and the SQLite store, same answers (checked inside)."""
    out = workdir / "store.json"
    code = bench_cli.main(["--quick", "--orgs", str(ORGS), "--workdir", str(workdir), "--json", str(out),
                           "--only", "store"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert not [r for r in rows if r["value"] == "FEHLER"], printed
    names = " ".join(r["name"] for r in rows)
    for expected in ("msonet load", "msonet stats", "msonet partners", "msonet isolated", "eine Organisation mehr",
                     "Spitzenspeicher msonet stats", "msonet tandems", "msonet meeting", "msonet coverage",
                     "msonet export --format gexf"):
        assert expected in names, expected
    timed_rows = [r for r in rows if "json_s" in r]
    assert len(timed_rows) == 14 and all(r["json_s"] > 0 and r["sqlite_s"] > 0 for r in timed_rows)
    assert all(r["status"] == "" for r in rows)
