"""Network views in the browser: HTML size, build time and time until headless Chromium has drawn the graph.

Two ways to draw the same view are compared side by side:

- **msonet** (:func:`msonet.graph.render.build_network`): positions computed in Python, physics off;
- **pyvis defaults**: ``pyvis.network.Network`` filled with ``add_node``/``add_edge``, no positions,
  physics on (Barnes-Hut, stabilisation up to 1,000 iterations before the first picture).

"Drawn" is the first ``afterDrawing`` event of the vis network (with physics: the first one after
``stabilizationIterationsDone``), measured in the page from the start of navigation. Requests to the
internet (pyvis's template links Bootstrap from a CDN) are blocked, as in the offline app. Run alone::

    python -m bench.bench_pyvis --orgs 5000 --sizes 200 500
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

from bench._data import Context
from bench._timing import Row, de, format_seconds, format_table

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "view_of_size", "msonet_html", "pyvis_default_html", "instrument",
           "draw_times", "bench_pyvis", "main"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
#: Longest wait for one drawing (physics on a large view can take a while on two cores).
DRAW_TIMEOUT_MS = 240_000


def view_of_size(G, size: int):
    """A connected view of about ``size`` organisations and events around the best-connected organisation.

    Breadth-first from the organisation with most ties, skipping funding programmes; the subgraph of the
    first ``size`` nodes reached (like a user's district or ego view, but of a fixed size).
    """
    U = G.to_undirected(as_view=True)
    start = max((n for n, d in G.nodes(data=True) if d.get("kind") == "organisation"), key=U.degree)
    seen = {start}
    queue = deque([start])
    while queue and len(seen) < size:
        node = queue.popleft()
        for other in sorted(U.adj[node]):
            if other not in seen and G.nodes[other].get("kind") in ("organisation", "event"):
                seen.add(other)
                queue.append(other)
                if len(seen) >= size:
                    break
    return G.subgraph(seen).copy()


def msonet_html(view) -> str:
    """The app's page: precomputed positions, physics off, no aggregation."""
    from msonet.graph.render import build_network

    return build_network(view, aggregate_threshold=10**9, physics_limit=0).html


def pyvis_default_html(view) -> str:
    """The same nodes and ties through pyvis's own API and template with its defaults (physics on)."""
    from pyvis.network import Network

    from msonet.graph.render import ORG_TYPE_COLOURS, UNKNOWN_COLOUR

    net = Network(height="650px", width="100%", cdn_resources="in_line")
    for node in sorted(view.nodes):
        d = view.nodes[node]
        net.add_node(node, label=str(d.get("name") or node)[:40], title=str(d.get("name") or node),
                     color=ORG_TYPE_COLOURS.get(d.get("org_type") or "", UNKNOWN_COLOUR))
    for u, v in sorted({(min(u, v), max(u, v)) for u, v in view.edges() if u != v}):
        net.add_edge(u, v)
    return net.generate_html()


_NEW_NETWORK = re.compile(r"(network = new vis\.Network\([^;]*\);)")


def instrument(page_html: str, physics: bool) -> str:
    """Add a hook right after the network is created that stores the time of the first finished drawing."""
    hook = (
        "(function(){var stable=%s;"
        "network.once('stabilizationIterationsDone',function(){stable=true;window.__msonetStable=performance.now();});"
        "network.on('afterDrawing',function(){if(stable&&window.__msonetDrawn===undefined)"
        "{window.__msonetDrawn=performance.now();}});})();" % ("false" if physics else "true")
    )
    result, count = _NEW_NETWORK.subn(lambda m: m.group(1) + hook, page_html, count=1)
    if count != 1:
        raise ValueError("Die Seite erzeugt kein vis.Network (Aufruf nicht gefunden).")
    return result


def draw_times(browser, page_html: str, *, physics: bool, runs: int, workdir: Path) -> list[float]:
    """Seconds from navigation start until the graph is drawn, one fresh page per run.

    A run that is not drawn within :data:`DRAW_TIMEOUT_MS` counts as ``inf`` (and ends the series).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with tempfile.NamedTemporaryFile("w", suffix=".html", dir=workdir, delete=False, encoding="utf-8") as fh:
        fh.write(instrument(page_html, physics))
        path = Path(fh.name)
    times = []
    try:
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            # offline like the app: anything not from the local file is refused at once
            page.route(re.compile(r"^https?://"), lambda route: route.abort())
            page.goto(path.as_uri(), wait_until="commit")
            try:
                page.wait_for_function("window.__msonetDrawn !== undefined", timeout=DRAW_TIMEOUT_MS, polling=50)
            except PlaywrightTimeout:
                times.append(float("inf"))
                context.close()
                break
            times.append(page.evaluate("window.__msonetDrawn") / 1000)
            context.close()
    finally:
        path.unlink(missing_ok=True)
    return times


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} fehlt (Debian-Paket chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright für Python ist nicht installiert"
    return None


def bench_pyvis(ctx: Context, sizes: tuple[int, ...] | None = None) -> list[Row]:
    """Both variants at each view size: HTML bytes, build time (median) and time to drawn (median)."""
    section = "Netzwerkansicht"
    sizes = sizes or ((100, 250) if ctx.quick else (500, 2_000))
    G = ctx.graph()
    views = {size: view_of_size(G, size) for size in sizes}
    variants = (("msonet: Positionen vorab, Physik aus", msonet_html, False),
                ("pyvis-Standard: Physik an, ohne Positionen", pyvis_default_html, True))
    built: dict[tuple[int, str], tuple[str, float, int]] = {}
    for size, view in views.items():
        for name, make, _physics in variants:
            t = []
            html = ""
            for _ in range(ctx.runs):
                start = time.perf_counter()
                html = make(view)
                t.append(time.perf_counter() - start)
            built[(size, name)] = (html, statistics.median(t), len(t))
    missing = _chromium_missing()
    drawn: dict[tuple[int, str], list[float]] = {}
    if missing is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for size in sizes:
                    for name, _make, physics in variants:
                        # physics on a large view takes minutes per drawing: one run there (labelled)
                        runs = 1 if physics and size >= 1_000 else ctx.runs
                        drawn[(size, name)] = draw_times(browser, built[(size, name)][0], physics=physics,
                                                         runs=runs, workdir=ctx.workdir)
            finally:
                browser.close()
    rows = []
    for size, view in views.items():
        ties = len({(min(u, v), max(u, v)) for u, v in view.edges() if u != v})
        for name, _make, _physics in variants:
            html, build_s, n = built[(size, name)]
            times = drawn.get((size, name))
            if not times:
                shown = "–"
            elif times[-1] == float("inf"):
                shown = f"> {DRAW_TIMEOUT_MS / 1000:.0f} s (abgebrochen)"
            else:
                shown = format_seconds(statistics.median(times))
            rows.append(Row(section, f"{de(view.number_of_nodes())} Knoten / {de(ties)} Linien – {name}",
                            f"gezeichnet nach {shown}", runs=f"{len(times) if times else ctx.runs}×",
                            note=f"HTML {len(html) / 1e6:.2f} MB, gebaut in {format_seconds(build_s)}"
                            + ("" if times else f"; Browser: {missing}")))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2_000])
    args = parser.parse_args(argv)
    ctx = Context(orgs=args.orgs, runs=args.runs)
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    print(format_table(bench_pyvis(ctx, tuple(args.sizes))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
