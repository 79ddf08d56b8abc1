"""Benchmark of concurrent app sessions: N browser sessions click through the pages of a real app server.

Usage::

    python bench/bench_sessions.py                 # N = 1, 10, 30 over all seven pages
    python bench/bench_sessions.py --quick         # smoke run: N = 1, 3 over three pages
    python bench/bench_sessions.py --sessions 1 5 --pages 4
    python bench/bench_sessions.py --format sqlite --sessions 30 --store /tmp/msonet-bench/store-100000-s1

By default every measurement runs twice, on the SQLite store and on the former JSON file store
(``--format``), and the results are printed one under the other. The first round after the server
start has one visitor and empty caches ("kalt"); the rounds with N sessions run on warm caches.

The script writes the demo data (``loaders.demo.build_demo_batch``: real actors plus a synthetic
population) into a temporary embedded store, starts ``streamlit run app.py`` on a free loopback port
with ``MSONET_HOME`` pointing there, and opens N websocket sessions on ``/_stcore/stream`` speaking
Streamlit's own protocol (the ``BackMsg``/``ForwardMsg`` protobufs a browser sends and receives).
Each session opens the app (page „Übersicht“) and then switches to each further page, as one person
clicking through the navigation would; all N sessions do this at the same time.

Reported per N: page time p50/p95/max in milliseconds (from the request to the server's
``script_finished``, i.e. the time until the page is complete), page views, pages that showed an
exception, the wall time of the round, and memory of the server process: resident memory after the
round, its growth during the round divided by N (what one more open session costs) and the peak.
The server runs with 2 cores available, so page times grow with N: they say how long a person waits
when N colleagues use the app at the same moment.

``streamlit.testing.v1.AppTest`` is not used: it keeps one process-wide fake runtime, so several
AppTests running at once in threads break each other ("Runtime hasn't been created!").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import stop_process  # noqa: E402 - after the path set-up above

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of process ``pid`` in MB (Linux /proc)."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def prepare_store(home: Path, fmt: str = "sqlite") -> dict[str, int]:
    """Write the demo data into an embedded store at ``home`` (``fmt``: ``sqlite``, or ``json`` for the
    former JSON file store); returns its counts."""
    from msonet.graph.json_store import JsonStore
    from msonet.graph.store import EmbeddedStore
    from msonet.loaders.demo import build_demo_batch

    store = JsonStore(home) if fmt == "json" else EmbeddedStore(home)
    store.upsert(build_demo_batch())
    return store.counts()


def start_server(home: Path, port: int, log: Path, fmt: str = "sqlite") -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI", "FALKORDB_URL", "MSONET_STORE_FORMAT")}
    env.update(MSONET_HOME=str(home), MSONET_TODAY=env.get("MSONET_TODAY", "2025-06-30"))
    if fmt == "json":
        env["MSONET_STORE_FORMAT"] = "json"  # the former JSON store, for the comparison only
    args = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("Der App-Server ist nicht gestartet:\n" + log.read_text(errors="replace")[-2000:])
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("Der App-Server antwortet nicht.")


class Session:
    """One browser tab: a websocket on ``/_stcore/stream`` that asks for pages and waits until they are done."""

    def __init__(self, ws):
        self.ws = ws
        self.pages: list[tuple[str, str]] = []  # (page name, page script hash) from the navigation message

    async def show(self, page_hash: str = "") -> tuple[float, list[str]]:
        """Run one page (``""`` = the default page); returns seconds until it finished and its exceptions."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        request = BackMsg()
        request.rerun_script.query_string = ""
        request.rerun_script.page_script_hash = page_hash
        start = time.perf_counter()
        await self.ws.send(request.SerializeToString())
        exceptions: list[str] = []
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "navigation" and not self.pages:
                self.pages = [(p.page_name, p.page_script_hash) for p in msg.navigation.app_pages]
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                if msg.delta.new_element.WhichOneof("type") == "exception":
                    exceptions.append(msg.delta.new_element.exception.message[:200])
            elif kind == "script_finished":
                return time.perf_counter() - start, exceptions


async def run_session(url: str, pages: int, times: list[tuple[str, float]], failures: list[str]) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=60, ping_interval=None) as ws:
        session = Session(ws)
        elapsed, exceptions = await session.show()
        first = session.pages[0][0] if session.pages else "Startseite"
        times.append((first, elapsed))
        failures.extend(f"{first}: {e}" for e in exceptions)
        for name, page_hash in session.pages[1:pages]:
            elapsed, exceptions = await session.show(page_hash)
            times.append((name, elapsed))
            failures.extend(f"{name}: {e}" for e in exceptions)


async def run_level(url: str, n: int, pages: int, pid: int) -> dict[str, object]:
    rss_before, _ = process_memory_mb(pid)
    times: list[tuple[str, float]] = []
    failures: list[str] = []
    wall = time.perf_counter()
    results = await asyncio.gather(*(run_session(url, pages, times, failures) for _ in range(n)),
                                   return_exceptions=True)
    wall = time.perf_counter() - wall
    failures += [f"Sitzung: {type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    rss_after, peak = process_memory_mb(pid)
    ordered = sorted(t for _, t in times)
    by_page: dict[str, list[float]] = {}
    for page, t in times:
        by_page.setdefault(page, []).append(t)
    nan = float("nan")
    return {
        "n": n,
        "views": len(times),
        "p50": statistics.median(ordered) * 1000 if ordered else nan,
        "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000 if ordered else nan,
        "max": ordered[-1] * 1000 if ordered else nan,
        "wall": wall,
        "per_session_mb": (rss_after - rss_before) / n,
        "rss_mb": rss_after,
        "peak_mb": peak,
        "failures": failures,
        "by_page": {page: statistics.median(ts) * 1000 for page, ts in by_page.items()},
    }


def measure(fmt: str, levels: list[int], pages: int, store: Path | None) -> tuple[dict, list[dict]]:
    """One app server on a store of format ``fmt``: a cold round (1 visitor, empty caches), then the levels."""
    with tempfile.TemporaryDirectory(prefix="msonet-bench-") as tmp:
        if store is None:
            home = Path(tmp) / "store"
            start = time.perf_counter()
            counts = prepare_store(home, fmt)
            print(f"[{fmt}] Demodaten: {counts['organisations']} Organisationen, {counts['events']} Veranstaltungen, "
                  f"{counts['relations']} Beziehungen ({time.perf_counter() - start:.1f} s)", flush=True)
        else:
            home = store
        port = free_port()
        server = start_server(home, port, Path(tmp) / "streamlit.log", fmt)
        url = f"ws://127.0.0.1:{port}/_stcore/stream"
        try:
            # a first visitor fills the server's caches (graph, geography, analyses), as after every restart
            cold = asyncio.run(run_level(url, 1, pages, server.pid))
            print(f"[{fmt}] Erster Besuch (kalte Caches): p50 {cold['p50']:.0f} ms, p95 {cold['p95']:.0f} ms, "
                  f"max {cold['max']:.0f} ms, Server-Speicher danach {cold['rss_mb']:.0f} MB", flush=True)
            rows = [asyncio.run(run_level(url, n, pages, server.pid)) for n in levels]
        finally:
            stop_process(server, timeout=20)
    return cold, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gleichzeitige App-Sitzungen auf den Demodaten messen.")
    parser.add_argument("--sessions", type=int, nargs="+", default=None, help="Anzahl Sitzungen je Durchgang")
    parser.add_argument("--pages", type=int, default=None, help="nur die ersten N Seiten besuchen (1-7)")
    parser.add_argument("--quick", action="store_true", help="kurzer Probelauf (N = 1, 3; drei Seiten)")
    parser.add_argument("--format", nargs="+", choices=["sqlite", "json"], default=["sqlite", "json"],
                        help="Speicher: sqlite (eingebettet, Standard) und/oder json (früherer JSON-Speicher, "
                             "zum Vergleich); Standard: beide")
    parser.add_argument("--store", type=Path, default=None,
                        help="vorhandenen Speicherordner nehmen statt der Demodaten (z. B. 100.000er-Speicher)")
    args = parser.parse_args(argv)
    levels = args.sessions or ([1, 3] if args.quick else [1, 10, 30])
    pages = args.pages or (3 if args.quick else 7)
    if args.store is not None and len(args.format) != 1:
        parser.error("--store gehört zu genau einem --format.")

    results = {fmt: measure(fmt, levels, pages, args.store) for fmt in args.format}
    print(f"\nSeiten je Sitzung: {pages} (Übersicht, dann die weiteren Seiten der Navigation). Kalt: erster "
          "Besucher nach dem Start (leere Caches); N: N Sitzungen gleichzeitig, Caches warm.\n")
    header = (f"{'Speicher':<9}{'N':>5} {'Aufrufe':>8} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'Dauer s':>8} "
              f"{'MB/Sitzung':>11} {'RSS MB':>8} {'Spitze MB':>10} {'Fehler':>7}")
    print(header)
    print("-" * len(header))
    failures: list[str] = []
    for fmt, (cold, rows) in results.items():
        for label, r in [("kalt", cold), *((str(r["n"]), r) for r in rows)]:
            print(f"{fmt:<9}{label:>5} {r['views']:>8} {r['p50']:>9.0f} {r['p95']:>9.0f} {r['max']:>9.0f} "
                  f"{r['wall']:>8.1f} {r['per_session_mb']:>11.1f} {r['rss_mb']:>8.0f} {r['peak_mb']:>10.0f} "
                  f"{len(r['failures']):>7}")
        failures += list(cold["failures"]) + [f for r in rows for f in r["failures"]]
    for fmt, (_cold, rows) in results.items():
        print(f"\nMedian je Seite in ms ({fmt}):")
        names = list(rows[0]["by_page"]) if rows else []
        print(f"{'Seite':<26}" + "".join(f"{'N=' + str(r['n']):>9}" for r in rows))
        for name in names:
            print(f"{name:<26}" + "".join(f"{r['by_page'].get(name, float('nan')):>9.0f}" for r in rows))
    for failure in failures[:10]:
        print("Fehler:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
