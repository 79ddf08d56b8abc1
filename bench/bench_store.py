"""The embedded store side by side: the former JSON file store and the SQLite store, as a user runs msonet.

Every figure is a whole ``msonet`` process (start, imports, open the store, answer, exit), cold in the
sense of a new process each time (the operating system's file cache is warm, as on a server that runs
the command every night). Both stores hold the same generated dataset, each loaded by ``msonet load``.
The JSON store is selected with ``MSONET_STORE_FORMAT=json`` (only for this comparison). Run alone::

    python -m bench.bench_store --orgs 5000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench._data import TODAY, Context
from bench._timing import ROOT, Row, de, format_mb, format_seconds, format_table

__all__ = ["TARGETS", "FORMATS", "bench_store", "run_cli", "main"]

#: Targets of issue 16 at 100,000 organisations (whole process; seconds, or MB for memory).
TARGETS = {"stats": 1.0, "partners": 2.0, "isolated": 6.0, "load_one": 2.0, "load": 45.0, "stats_mb": 300.0}
#: Target at demo size: every CLI command.
DEMO_TARGET = 1.0
#: Commands measured at demo size only (besides stats, partners, isolated and the loads); the Gephi export
#: (``export_gexf``, the slowest export format) is added with a file in the working folder.
DEMO_COMMANDS = {
    "tandems": ["tandems", "--count", "10", "--json"],
    "meeting": ["meeting", "--capacity", "30", "--json"],
    "coverage": ["coverage", "--json"],
}
_DEMO_NAMES = {"tandems": "msonet tandems --count 10 --json", "meeting": "msonet meeting --capacity 30 --json",
               "coverage": "msonet coverage --json", "export_gexf": "msonet export --format gexf"}
FORMATS = (("json", "JSON (vorher)"), ("sqlite", "SQLite (nachher)"))

# Runs msonet's command line in this process and reports its peak memory (VmHWM) on stderr: ru_maxrss of a
# child would start from the (large) benchmark process's value.
_WRAPPER = ("import sys\nimport msonet.cli as msonet_cli\n"
            "try:\n    code = msonet_cli.main(sys.argv[1:])\n"
            "finally:\n"
            "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
            "    sys.stderr.write('\\nMSONET_BENCH_VMHWM_KB=' + (hwm[0].split()[1] if hwm else '0') + '\\n')\n"
            "sys.exit(code)\n")


def run_cli(home: Path, fmt: str, args: Sequence[str]) -> dict[str, Any]:
    """Run ``msonet --store home ARGS`` in a fresh process; seconds (wall and CPU: user + system), peak memory
    (MB), exit code, output."""
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI", "FALKORDB_URL", "MSONET_STORE_FORMAT")}
    if fmt == "json":
        env["MSONET_STORE_FORMAT"] = "json"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, "--store", str(home), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    kb = 0
    for line in proc.stderr.splitlines():
        if line.startswith("MSONET_BENCH_VMHWM_KB="):
            kb = int(line.split("=", 1)[1] or 0)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"msonet {' '.join(args)} ({fmt}) endete mit Code {proc.returncode}:\n{proc.stderr[-2000:]}")
    return {"seconds": seconds, "cpu": cpu, "mb": kb / 1024, "code": proc.returncode, "out": proc.stdout}


def _one_org_file(folder: Path, i: int) -> Path:
    path = folder / f"eine-organisation-{i}.csv"
    path.write_text("id;name;type;city;sectors\n"
                    f"bench-extra-{i};Bench-Verein Nummer {i} e.V.;mso;Köln;culture\n", encoding="utf-8")
    return path


def _pick_mso(home: Path, seed: int) -> str:
    """A seeded MSO with contacts (common contacts make the partner search do its two-hop part)."""
    from msonet.graph.store import EmbeddedStore

    store = EmbeddedStore(home)
    with store._connection() as conn:
        rows = conn.execute("SELECT n.id, count(*) FROM node n JOIN edge e ON e.source = n.nid "
                            "WHERE n.kind = 'organisation' AND n.org_type = 'mso' GROUP BY n.id "
                            "HAVING count(*) >= 3 ORDER BY n.id").fetchall()
    store.close()
    return random.Random(seed).choice(rows)[0]


@contextlib.contextmanager
def _stores(ctx: Context, data: Path, label: str) -> Iterator[dict[str, Any]]:
    """Load ``data`` with ``msonet load`` into a fresh store of each format; yields the load figures."""
    homes = {fmt: ctx.workdir / f"tmp-cli-{label}-{fmt}" for fmt, _ in FORMATS}
    try:
        loads = {}
        for fmt, _ in FORMATS:
            shutil.rmtree(homes[fmt], ignore_errors=True)
            ctx.log(f"  msonet load {label} → {fmt} …")
            loads[fmt] = run_cli(homes[fmt], fmt, ["load", *map(str, sorted(data.glob("*.csv")))])
            ctx.log(f"    {loads[fmt]['seconds']:.1f} s (CPU {loads[fmt]['cpu']:.1f} s), {loads[fmt]['mb']:.0f} MB")
        yield {"homes": homes, "loads": loads}
    finally:
        for home in homes.values():
            shutil.rmtree(home, ignore_errors=True)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _measure(ctx: Context, homes: dict[str, Path], mso: str, runs: int,
             *, demo: bool = False) -> dict[str, dict[str, dict[str, float]]]:
    """Seconds and peak MB per command and format (median of ``runs``); ``demo``: the analyses and the Gephi
    export as well (at demo size every command has to answer within a second)."""
    today = TODAY.isoformat()
    commands = {
        "stats": ["stats", "--json"],
        "partners": ["partners", mso, "--json"],
        "isolated": ["isolated", "--json", "--today", today],
    }
    if demo:
        commands.update(DEMO_COMMANDS)
        commands["export_gexf"] = ["export", "--format", "gexf", "--out", str(ctx.workdir / "tmp-cli-export.gexf")]
    result: dict[str, dict[str, dict[str, float]]] = {}
    outputs: dict[str, dict[str, str]] = {}
    for name, args in commands.items():
        for fmt, _ in FORMATS:
            measured = [run_cli(homes[fmt], fmt, args) for _ in range(runs)]
            result.setdefault(name, {})[fmt] = {"seconds": _median([m["seconds"] for m in measured]),
                                                "cpu": _median([m["cpu"] for m in measured]),
                                                "mb": max(m["mb"] for m in measured)}
            ctx.log(f"  msonet {' '.join(args)} ({fmt}): {result[name][fmt]['seconds']:.2f} s "
                    f"(CPU {result[name][fmt]['cpu']:.2f} s), {result[name][fmt]['mb']:.0f} MB")
            outputs.setdefault(name, {})[fmt] = measured[0]["out"]
    for name, by_format in outputs.items():  # both stores must give the same answer
        if by_format["json"] != by_format["sqlite"]:
            raise RuntimeError(f"msonet {name}: JSON- und SQLite-Speicher antworten verschieden")
    folder = ctx.workdir / "tmp-cli-files"
    folder.mkdir(exist_ok=True)
    for fmt, _ in FORMATS:
        measured = [run_cli(homes[fmt], fmt, ["load", str(_one_org_file(folder, i))]) for i in range(runs)]
        result.setdefault("load_one", {})[fmt] = {"seconds": _median([m["seconds"] for m in measured]),
                                                  "mb": max(m["mb"] for m in measured)}
        ctx.log(f"  msonet load (eine Organisation) ({fmt}): {result['load_one'][fmt]['seconds']:.2f} s "
                f"(CPU {_median([m['cpu'] for m in measured]):.2f} s)")
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _rows(ctx: Context, section: str, size: str, loads: dict[str, dict[str, Any]],
          figures: dict[str, dict[str, dict[str, float]]], mso: str, runs: int, *, big: bool) -> list[Row]:
    names = {"load": f"msonet load (alle CSV-Dateien, {size})", "stats": "msonet stats --json",
             "partners": f"msonet partners {mso} --json", "isolated": "msonet isolated --json",
             "load_one": "msonet load (eine Organisation mehr in den vollen Speicher)"}
    if not big:
        names.update(_DEMO_NAMES)
    figures = {"load": {fmt: {"seconds": loads[fmt]["seconds"], "mb": loads[fmt]["mb"]} for fmt, _ in FORMATS},
               **figures}
    rows = []
    for key, name in names.items():
        before, after = figures[key]["json"], figures[key]["sqlite"]
        limit = TARGETS[key] if big else DEMO_TARGET
        ok = (after["seconds"] < limit) if ctx.orgs >= 100_000 else None  # full runs only, as everywhere
        rows.append(Row(section, name, f"{format_seconds(before['seconds'])} → {format_seconds(after['seconds'])}",
                        f"< {limit:.0f} s", ok, "1×" if key == "load" else f"{runs}×",
                        f"Spitzenspeicher {format_mb(before['mb'])} → {format_mb(after['mb'])}"
                        + (f", CPU {format_seconds(before['cpu'])} → {format_seconds(after['cpu'])}"
                           if "cpu" in before and "cpu" in after else ""),
                        data={"json_s": before["seconds"], "sqlite_s": after["seconds"], "json_mb": before["mb"],
                              "sqlite_mb": after["mb"]}))
    if big:
        before, after = figures["stats"]["json"]["mb"], figures["stats"]["sqlite"]["mb"]
        limit = TARGETS["stats_mb"]
        rows.append(Row(section, "Spitzenspeicher msonet stats", f"{format_mb(before)} → {format_mb(after)}",
                        f"< {limit:.0f} MB", after < limit if ctx.orgs >= 100_000 else None, f"{runs}×",
                        "VmHWM des msonet-Prozesses"))
    return rows


def bench_store(ctx: Context) -> list[Row]:
    """The CLI on the JSON store (before) and on the SQLite store (after): full dataset and demo data."""
    rows: list[Row] = []
    runs = ctx.runs
    size = f"{de(ctx.orgs)} Org."
    with _stores(ctx, ctx.data_dir, "gross") as stores:
        mso = _pick_mso(stores["homes"]["sqlite"], ctx.seed)
        figures = _measure(ctx, stores["homes"], mso, runs)
        rows += _rows(ctx, f"CLI {size}", size, stores["loads"], figures, mso, runs, big=True)
        try:
            app_rows = _app(ctx, stores["homes"])  # the same two stores (loading 100,000 again takes minutes)
        except Exception as exc:  # noqa: BLE001 - a browser timeout must not discard the CLI figures above
            app_rows = [Row("App JSON → SQLite", "App im Browser, JSON- und SQLite-Speicher", "FEHLER",
                            note=f"{type(exc).__name__}: {exc}"[:200])]
    demo_data = ctx.workdir / "data-demo"
    if not (demo_data / ".complete").exists():
        from bench.generate import write_csv
        from msonet.loaders.demo import build_demo_batch

        shutil.rmtree(demo_data, ignore_errors=True)
        write_csv(build_demo_batch(seed=2024), demo_data)
        (demo_data / ".complete").write_text("ok\n")
    with _stores(ctx, demo_data, "demo") as stores:
        mso = _pick_mso(stores["homes"]["sqlite"], ctx.seed)
        figures = _measure(ctx, stores["homes"], mso, runs, demo=True)
        rows += _rows(ctx, "CLI Demodaten", "Demodaten", stores["loads"], figures, mso, runs, big=False)
    return rows + app_rows


def _app(ctx: Context, homes: dict[str, Path]) -> list[Row]:
    """The app in the browser on the large dataset, JSON store (before) and SQLite store (after)."""
    from bench import bench_app

    section = "App JSON → SQLite"
    if ctx.quick:
        return [Row(section, "App im Browser, JSON- und SQLite-Speicher", "nicht gemessen", note="--quick")]
    missing = bench_app._chromium_missing()
    if missing:
        return [Row(section, "App im Browser", "nicht gemessen", note=missing)]
    from playwright.sync_api import sync_playwright

    from bench.bench_pyvis import CHROMIUM, CHROMIUM_ARGS

    log = ctx.workdir / "streamlit.log"
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for fmt, _ in FORMATS:
                previous = os.environ.pop("MSONET_STORE_FORMAT", None)
                if fmt == "json":
                    os.environ["MSONET_STORE_FORMAT"] = "json"
                try:
                    ctx.log(f"  App im Browser auf dem {fmt}-Speicher …")
                    results[fmt] = bench_app.browse(browser, homes[fmt], log, rounds=2)
                finally:
                    os.environ.pop("MSONET_STORE_FORMAT", None)
                    if previous is not None:
                        os.environ["MSONET_STORE_FORMAT"] = previous
        finally:
            browser.close()
    size = de(ctx.orgs)
    before, after = results["json"], results["sqlite"]

    def p95(run: dict[str, Any]) -> float:
        from bench._timing import percentile

        return percentile([t for _title, t in run["warm"]], 0.95)

    rows = [
        Row(section, f"Kaltstart bis erste Seite fertig ({size} Org., Browser)",
            f"{format_seconds(before['cold'])} → {format_seconds(after['cold'])}", "nicht langsamer",
            after["cold"] <= before["cold"] * 1.1 if ctx.orgs >= 100_000 else None, "1×",
            "JSON " + bench_app._first_note(before["first"]) + " | SQLite " + bench_app._first_note(after["first"])),
        Row(section, f"Seitenwechsel warm ({size} Org., Browser), p95",
            f"{format_seconds(p95(before))} → {format_seconds(p95(after))}", "nicht langsamer",
            p95(after) <= max(p95(before) * 1.1, p95(before) + 0.1) if ctx.orgs >= 100_000 else None,
            f"{len(after['warm'])} Wechsel",
            f"Median {format_seconds(statistics.median(t for _, t in before['warm']))} → "
            f"{format_seconds(statistics.median(t for _, t in after['warm']))}"),
    ]
    if before.get("server_peak_mb") and after.get("server_peak_mb"):
        rows.append(Row(section, f"Speicher des App-Servers ({size} Org., alle Seiten besucht)",
                        f"{format_mb(before['server_peak_mb'])} → {format_mb(after['server_peak_mb'])}", runs="1×",
                        note="VmHWM des streamlit-Prozesses"))
    errors = before["errors"] + after["errors"]
    if errors:
        rows.append(Row(section, "Fehlermeldungen auf den Seiten", str(errors), note="siehe streamlit.log"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="ohne die App im Browser")
    args = parser.parse_args(argv)
    ctx = Context(orgs=args.orgs, runs=args.runs, quick=args.quick,
                  log=lambda m: print(m, file=sys.stderr, flush=True))
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    rows = bench_store(ctx)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
