"""``python -m bench``: run the msonet benchmarks and print one table (figures, targets, PASS/MISS).

Usage::

    python -m bench                      # 100,000 organisations, about 1,000,000 relations (many minutes)
    python -m bench --quick              # 5,000 organisations, one run each, small browser views (~1 min)
    python -m bench --only load analytics --orgs 20000
    python -m bench --only quality       # recommendation quality against baselines (demo-sized data)

Generated datasets and loaded stores are kept in ``--workdir`` (default ``$TMPDIR/msonet-bench``) and
reused by later runs of the same size; delete the folder to start from scratch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench._data import Context, default_workdir
from bench._timing import Row, de, format_table

__all__ = ["BENCHMARKS", "main"]


def _benchmarks() -> dict[str, list[Callable[[Context], list[Row]]]]:
    from bench import bench_app, bench_pyvis, bench_quality, bench_scale, bench_store

    return {
        "load": [bench_scale.bench_load],
        "falkordb": [bench_scale.bench_falkordb],
        "analytics": [bench_scale.bench_analytics],
        "pyvis": [bench_pyvis.bench_pyvis],
        "app": [bench_app.bench_app],
        "memory": [bench_scale.bench_memory, bench_app.bench_app_memory],
        "store": [bench_store.bench_store],
        "quality": [bench_quality.bench_quality],
    }


#: Names accepted by ``--only``, in the order they run (``load`` first: it builds the shared store).
BENCHMARKS = ("load", "falkordb", "analytics", "pyvis", "app", "memory", "store", "quality")


def _machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
        mem = f", {mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        mem = ""
    return f"{os.cpu_count()} Kerne{mem}, {cpu or platform.machine()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=None,
                        help="Anzahl Organisationen (Standard 100000, mit --quick 5000)")
    parser.add_argument("--runs", type=int, default=None, help="Läufe je Messung (Standard 3, mit --quick 1)")
    parser.add_argument("--quick", action="store_true", help="kleiner Probelauf in etwa einer Minute")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME",
                        help=f"nur diese Messungen ({', '.join(BENCHMARKS)})")
    parser.add_argument("--seed", type=int, default=1, help="Startwert des Datengenerators (Standard 1)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help=f"Ordner für Datensätze und Speicher (Standard {default_workdir()})")
    parser.add_argument("--markdown", action="store_true", help="Tabelle zusätzlich als Markdown ausgeben")
    parser.add_argument("--json", type=Path, default=None, help="Ergebnisse zusätzlich als JSON in diese Datei")
    args = parser.parse_args(argv)
    orgs = args.orgs if args.orgs is not None else (5_000 if args.quick else 100_000)
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    if orgs < 100:
        parser.error("--orgs muss mindestens 100 sein.")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    ctx = Context(orgs=orgs, runs=runs, quick=args.quick, seed=args.seed,
                  workdir=args.workdir or default_workdir(), log=log)
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    chosen = [name for name in BENCHMARKS if not args.only or name in args.only]
    registry = _benchmarks()
    rows: list[Row] = []
    failed = 0
    started = time.perf_counter()
    for name in chosen:
        for fn in registry[name]:
            log(f"[{time.perf_counter() - started:6.0f} s] {name}: {fn.__name__} …")
            gc.collect()  # leftovers of the previous benchmark must not slow down the next one
            try:
                rows += fn(ctx)
            except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
                failed += 1
                traceback.print_exc(file=sys.stderr)
                rows.append(Row(name, fn.__name__, "FEHLER", note=f"{type(exc).__name__}: {exc}"[:200]))
    elapsed = time.perf_counter() - started
    head = (f"msonet-Benchmark {dt.datetime.now():%Y-%m-%d %H:%M} · {de(orgs)} Organisationen (Seed {args.seed}) · "
            f"{runs} Läufe je Messung, Median · {_machine()}")
    print(head)
    print(format_table(rows))
    misses = sum(1 for r in rows if r.ok is False)
    passes = sum(1 for r in rows if r.ok is True)
    tail = f"Ziele: {passes} PASS, {misses} MISS"
    if orgs < 100_000:
        tail = "Ziele gelten für 100.000 Organisationen; bei dieser Größe nur zur Orientierung (kein PASS/MISS)"
    print(f"{tail} · Laufzeit {elapsed:.0f} s" + (f" · {failed} Messung(en) fehlgeschlagen" if failed else ""))
    if args.markdown:
        print()
        print(format_table(rows, markdown=True))
    if args.json:
        args.json.write_text(json.dumps({"header": head, "orgs": orgs, "runs": runs, "rows": [
            {"section": r.section, "name": r.name, "value": r.value, "target": r.target, "status": r.verdict,
             "runs": r.runs, "note": r.note, **r.data} for r in rows]}, ensure_ascii=False, indent=1),
            encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
