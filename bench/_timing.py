"""Shared helpers of the benchmarks: medians of several runs, percentiles, peak memory, the result table."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "Row",
    "Timing",
    "timed",
    "time_each",
    "percentile",
    "peak_rss_mb",
    "run_probe",
    "status",
    "format_seconds",
    "format_ms",
    "format_mb",
    "format_rate",
    "format_table",
    "de",
]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One line of the result table.

    ``value`` is the printed figure; ``target`` the goal as text (empty if none); ``ok`` is ``True``
    (PASS), ``False`` (MISS) or ``None`` (no target); ``runs`` says how often it was measured.
    """

    section: str
    name: str
    value: str
    target: str = ""
    ok: bool | None = None
    runs: str = ""
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


@dataclass
class Timing:
    """Wall times of repeated runs of one thing (seconds) and the result of the last run."""

    times: list[float]
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def runs(self) -> int:
        return len(self.times)


def timed(fn: Callable[[], Any], runs: int = 3, *, setup: Callable[[], Any] | None = None) -> Timing:
    """Run ``fn`` ``runs`` times (``setup`` before each run, not timed) and keep every wall time."""
    times, result = [], None
    for _ in range(max(1, runs)):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return Timing(times, result)


def time_each(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    """Wall time of ``fn(item)`` for every item (for p50/p95 over many queries)."""
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return times


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` 0..1) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux ``VmHWM`` of this process image. Not ``ru_maxrss``: a child started with ``subprocess``
    inherits the parent's value from before ``exec``, so a small probe would report the big parent.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_probe(module: str, args: Sequence[str], *, env: dict[str, str] | None = None,
              timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m <module> <args>`` in a fresh process; it prints one JSON object as its last line.

    A separate process gives an honest peak memory (``ru_maxrss`` starts from zero) and a cold start.
    The child reports its own peak memory (``peak_rss_mb`` from :func:`peak_rss_mb`).
    """
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT) + (os.pathsep + full_env["PYTHONPATH"] if full_env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} ist fehlgeschlagen (Code {proc.returncode}):\n"
                           f"{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{module} hat kein Ergebnis ausgegeben:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate a server started by a benchmark; kill it if it does not end within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def status(value: float, limit: float) -> bool:
    """``True`` when ``value`` is below ``limit`` (PASS)."""
    return value < limit


def de(number: float) -> str:
    """A whole number with German thousands dots: ``1000000`` -> ``"1.000.000"``."""
    return f"{number:,.0f}".replace(",", ".")


def format_seconds(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def format_ms(seconds: float) -> str:
    if seconds != seconds:
        return "–"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def format_mb(mb: float) -> str:
    return f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def format_rate(rows: int, seconds: float) -> str:
    rate = rows / seconds if seconds > 0 else float("inf")
    return f"{de(rate)} Zeilen/s"


def format_table(rows: Sequence[Row], *, markdown: bool = False) -> str:
    """The result table as aligned plain text (or as a Markdown table)."""
    header = ("Bereich", "Messung", "Ergebnis", "Ziel", "", "Läufe", "Hinweis")
    order: dict[str, int] = {}
    for r in rows:  # rows of one section together, sections in the order they first appear
        order.setdefault(r.section, len(order))
    rows = sorted(rows, key=lambda r: order[r.section])
    body = [(r.section, r.name, r.value, r.target, r.verdict, r.runs, r.note) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(h or "Status" for h in header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in body]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    widths[-1] = 0  # the note is last and not padded
    def fmt(line: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
    out = [fmt(header), fmt(["-" * w for w in widths[:-1]] + ["-" * 7])]
    section = None
    for line in body:
        if section is not None and line[0] != section:
            out.append("")
        section = line[0]
        out.append(fmt(line))
    return "\n".join(out)
