"""The Streamlit app: cold start to the first page, warm page switches, and its peak memory at scale.

- **Browser** (headless Debian Chromium through Playwright, the real ``streamlit run app.py``): time from
  starting the server process until the first page has finished drawing, and the time of a page switch
  (click in the sidebar until the new page has finished) once every page has been visited (warm caches).
- **AppTest** (``streamlit.testing.v1``, in a fresh process): the same page runs without a browser, and
  the process's peak resident memory with ``MSONET_HOME`` on the large store.

Run alone::

    python -m bench.bench_app --orgs 5000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._data import TODAY, Context
from bench._timing import (
    ROOT,
    Row,
    de,
    format_mb,
    format_seconds,
    format_table,
    peak_rss_mb,
    percentile,
    run_probe,
    stop_process,
)

__all__ = ["pages", "streamlit_server", "browse", "bench_app", "bench_app_memory", "main"]

APP = ROOT / "app.py"
#: Longest wait for one page (the first visit of an analysis page at 100,000 organisations takes a while).
PAGE_TIMEOUT_MS = 600_000


def pages() -> list[tuple[str, str]]:
    """(page file, German title) of every page, from ``app.PAGES``; the first one opens by default."""
    sys.path.insert(0, str(ROOT))
    from msonet.app import PAGES

    return [(path, title) for path, title, _icon, _url in PAGES]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "MSONET_HOME": str(home), "MSONET_TODAY": TODAY.isoformat()}
    for var in ("NEO4J_URI", "FALKORDB_URL"):
        env.pop(var, None)  # always the embedded store given here
    return env


@contextlib.contextmanager
def streamlit_server(home: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen, float]]:
    """``streamlit run app.py`` on a free loopback port; yields (URL, process, start time) once healthy."""
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=_env(home), stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit ist vorzeitig beendet:\n{log.read_text(errors='replace')[-3000:]}")
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                        if response.read().strip() == b"ok":
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError("streamlit ist nicht innerhalb von 120 s gestartet")
                time.sleep(0.05)
            yield url, process, started
        finally:
            stop_process(process)


# The page is finished when the script run that the click started has ended (Streamlit's own
# ``data-test-script-state`` on the app root went to "running" and back, or a short run drew a new title in one
# go), its title is shown and no element is stale (left over from the previous run). Waiting for the title
# alone is not enough: ``st.title`` is the first element of every page, so it appears long before the rest.
_WATCH_JS = """() => {
  const root = document.querySelector('[data-testid="stApp"]');
  window.__msonetSawRun = false;
  const old = document.querySelector('[data-testid="stMain"] h1');
  if (old) old.__msonetOld = true;
  if (window.__msonetObserver) window.__msonetObserver.disconnect();
  // A short run can go to "running" and back before the observer is called: look at the old values too.
  window.__msonetObserver = new MutationObserver((records) => {
    for (const r of records) {
      if (r.oldValue === 'running' || root.getAttribute('data-test-script-state') === 'running') {
        window.__msonetSawRun = true;
      }
    }
  });
  window.__msonetObserver.observe(root, {attributes: true, attributeOldValue: true,
                                         attributeFilter: ['data-test-script-state']});
}"""

_DONE_JS = """(title) => {
  const root = document.querySelector('[data-testid="stApp"]');
  if (!root || root.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  if (!h1 || !h1.textContent.includes(title)) return false;
  // The run must have happened: seen running, or (a short run drawn in one go) a new page title is shown.
  if (!window.__msonetSawRun && h1.__msonetOld) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stSpinner"]')) return false;
  return true;
}"""


_ROOT_JS = "() => document.querySelector('[data-testid=stApp]') !== null"


def _watch(page) -> None:
    """Start watching for the next script run (call before the click or navigation that starts it)."""
    page.wait_for_function(_ROOT_JS, timeout=PAGE_TIMEOUT_MS)
    page.evaluate(_WATCH_JS)


def _wait_done(page, title: str) -> None:
    page.wait_for_function(_DONE_JS, arg=title, timeout=PAGE_TIMEOUT_MS, polling="raf")
    # The browser may draw the finished run's last elements a frame later: confirm after a short pause.
    page.wait_for_timeout(150)
    page.wait_for_function(_DONE_JS, arg=title, timeout=PAGE_TIMEOUT_MS, polling="raf")


def _errors(page) -> int:
    return page.locator('[data-testid="stException"]').count()


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident memory of a running process (Linux ``VmHWM``), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def browse(browser, home: Path, log: Path, *, rounds: int = 2) -> dict[str, Any]:
    """One server start: cold start to first page, first visit of every page, then warm switches."""
    page_list = pages()
    with streamlit_server(home, log) as (url, process, started):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.route(lambda u: not u.startswith(url), lambda route: route.abort())  # offline: only the app
        page.goto(url, wait_until="commit")
        # The first run: the app root reports "initial" until that run has finished.
        page.wait_for_function(_ROOT_JS, timeout=PAGE_TIMEOUT_MS)
        page.evaluate("() => { window.__msonetSawRun = true; }")
        _wait_done(page, page_list[0][1])
        cold = time.perf_counter() - started
        first: dict[str, float] = {}
        warm: list[tuple[str, float]] = []
        order = [*page_list[1:], page_list[0]]
        for round_no in range(rounds + 1):
            for _path, title in order:
                link = page.locator('[data-testid="stSidebarNav"] a', has_text=title).first
                _watch(page)
                start = time.perf_counter()
                link.click()
                _wait_done(page, title)
                seconds = time.perf_counter() - start - 0.15  # minus the confirmation pause
                if round_no == 0:
                    first[title] = seconds
                else:
                    warm.append((title, seconds))
        errors = _errors(page)
        memory = _vm_hwm_mb(process.pid)
        context.close()
    return {"cold": cold, "first": first, "warm": warm, "errors": errors, "server_peak_mb": memory}


def _app_test_probe(home: Path, rounds: int) -> dict[str, Any]:
    """Child process: AppTest cold run, first visits and warm switches of every page; peak RSS."""
    os.environ.update(_env(home))
    from streamlit.testing.v1 import AppTest

    page_list = pages()
    start = time.perf_counter()
    at = AppTest.from_file(str(APP), default_timeout=PAGE_TIMEOUT_MS / 1000)
    at.run()
    cold = time.perf_counter() - start
    problems = [e.message for e in at.exception]
    first, warm = {}, []
    order = [*page_list[1:], page_list[0]]
    for round_no in range(rounds + 1):
        for path, title in order:
            start = time.perf_counter()
            at.switch_page(path)
            at.run()
            seconds = time.perf_counter() - start
            problems += [e.message for e in at.exception]
            if round_no == 0:
                first[title] = seconds
            else:
                warm.append([title, seconds])
    return {"cold": cold, "first": first, "warm": warm, "errors": len(problems), "problems": problems[:3],
            "peak_rss_mb": peak_rss_mb()}


def _chromium_missing() -> str | None:
    from bench.bench_pyvis import _chromium_missing as missing

    return missing()


def _warm_row(section: str, name: str, warm: list, ctx: Context, target: bool) -> Row:
    from bench.bench_scale import TARGETS, _verdict

    times = [t for _title, t in warm]
    worst_title, worst = max(warm, key=lambda w: w[1])
    limit = TARGETS["page_switch"]
    return Row(section, name, f"Median {format_seconds(statistics.median(times))} / p95 "
               f"{format_seconds(percentile(times, 0.95))}", f"< {limit:.0f} s (p95)" if target else "",
               _verdict(ctx, percentile(times, 0.95), limit) if target else None, f"{len(times)} Wechsel",
               f"langsamste: {worst_title} {format_seconds(worst)}")


def _first_note(first: dict[str, float]) -> str:
    slow = sorted(first.items(), key=lambda kv: -kv[1])[:3]
    return "erster Besuch: " + ", ".join(f"{title} {format_seconds(t)}" for title, t in slow)


def bench_app(ctx: Context) -> list[Row]:
    """Browser: cold start with the demo data; warm page switches with the demo data and the large store."""
    section = "App"
    rows: list[Row] = []
    missing = _chromium_missing()
    if missing:
        return [Row(section, "App im Browser", "nicht gemessen", note=missing)]
    from playwright.sync_api import sync_playwright

    from bench.bench_pyvis import CHROMIUM, CHROMIUM_ARGS

    demo = ctx.demo_home()
    big = None if ctx.quick else ctx.store_home
    log = ctx.workdir / "streamlit.log"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            demo_runs = [browse(browser, demo, log, rounds=1 if ctx.quick else 2) for _ in range(ctx.runs)]
            # --quick: the large store is covered by AppTest (bench_app_memory) only
            big_run = None if ctx.quick else browse(browser, big, log, rounds=2)
        finally:
            browser.close()
    colds = [r["cold"] for r in demo_runs]
    warm_demo = [w for r in demo_runs for w in r["warm"]]
    errors = sum(r["errors"] for r in demo_runs) + (big_run["errors"] if big_run else 0)
    rows.append(Row(section, "Kaltstart bis erste Seite fertig (Demodaten, Browser)",
                    format_seconds(statistics.median(colds)), runs=f"{len(colds)}×",
                    note="Serverstart + Übersicht gezeichnet; " + _first_note(demo_runs[-1]["first"])))
    rows.append(_warm_row(section, "Seitenwechsel warm (Demodaten, Browser)", warm_demo, ctx, False))
    size = de(ctx.orgs)
    if big_run is None:
        return rows + ([Row(section, "Fehlermeldungen auf den Seiten", str(errors), note="siehe streamlit.log")]
                       if errors else [])
    rows.append(Row(section, f"Kaltstart bis erste Seite fertig ({size} Org., Browser)",
                    format_seconds(big_run["cold"]), runs="1×", note=_first_note(big_run["first"])))
    rows.append(_warm_row(section, f"Seitenwechsel warm ({size} Org., Browser)", big_run["warm"], ctx, True))
    if big_run.get("server_peak_mb"):
        rows.append(Row(section, f"Speicher des App-Servers ({size} Org., alle Seiten besucht)",
                        format_mb(big_run["server_peak_mb"]), runs="1×", note="VmHWM des streamlit-Prozesses"))
    if errors:
        rows.append(Row(section, "Fehlermeldungen auf den Seiten", str(errors), note="siehe streamlit.log"))
    return rows


def bench_app_memory(ctx: Context) -> list[Row]:
    """AppTest in a fresh process on the large store: page run times and peak memory (RSS)."""
    from bench.bench_scale import TARGETS, _verdict

    section = "Speicherbedarf"
    probe = run_probe("bench.bench_app", ["--probe-apptest", str(ctx.store_home), "--rounds", "1"])
    size = de(ctx.orgs)
    mb = probe["peak_rss_mb"]
    rows = [Row(section, f"App (AppTest, alle Seiten, {size} Org.)", format_mb(mb),
                f"< {TARGETS['memory_mb'] / 1024:.0f} GB", _verdict(ctx, mb, TARGETS["memory_mb"]), "1×",
                f"Spitzenwert RSS; erster Lauf {format_seconds(probe['cold'])}, " + _first_note(probe["first"])),
            _warm_row("App", f"Seitenwechsel warm ({size} Org., AppTest, ohne Browser)", probe["warm"], ctx, False)]
    if probe["errors"]:
        rows.append(Row(section, "Fehler in AppTest", str(probe["errors"]), note="; ".join(probe["problems"])[:200]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--probe-apptest", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_apptest:
        print(json.dumps(_app_test_probe(args.probe_apptest, args.rounds), ensure_ascii=False))
        return 0
    ctx = Context(orgs=args.orgs, runs=args.runs, quick=args.quick)
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    print(format_table(bench_app(ctx) + bench_app_memory(ctx)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
