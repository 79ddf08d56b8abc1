"""Helpers for the browser tests: run the app with ``streamlit run`` and drive Debian chromium via Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "SCREENSHOTS", "chromium_missing", "free_port", "streamlit_server",
           "wait_for_app", "exception_count", "network_frame", "NETWORK_IFRAME"]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def chromium_missing() -> str | None:
    """Why the browser tests cannot run, or ``None``."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} fehlt (Debian-Paket chromium installieren)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright für Python ist nicht installiert"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(home: Path, *, today: str, log: Path, env: dict[str, str] | None = None,
                     port: int | None = None, address: str = "127.0.0.1", cwd: Path | None = None) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free port with ``MSONET_HOME=home``; yields the base URL.

    ``env`` adds environment variables (e.g. ``MSONET_AUTH``); ``cwd`` is where Streamlit looks for
    ``.streamlit/secrets.toml`` (default: the repository).
    """
    port = port or free_port()
    env = {**os.environ, "MSONET_HOME": str(home), "MSONET_TODAY": today, **(env or {})}
    for var in ("NEO4J_URI", "FALKORDB_URL"):
        env.pop(var, None)
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.address", address, "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=cwd or ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit stopped early:\n{log.read_text(errors='replace')}")
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                        if response.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start within 60 s:\n{log.read_text(errors='replace')}")
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app has finished its current run (no running indicator, main block present)."""
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout_ms)
    # The status widget shows "Running…" while the script runs; wait until it is gone twice in a row.
    deadline = time.monotonic() + timeout_ms / 1000
    calm = 0
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0 or \
            page.locator('[data-testid="stSpinner"]').count() > 0
        calm = 0 if running else calm + 1
        if calm >= 3:
            return
        page.wait_for_timeout(300)
    raise TimeoutError("the app did not finish running")


def exception_count(page) -> int:
    """Exception boxes and tracebacks shown on the page."""
    boxes = page.locator('[data-testid="stException"]').count()
    return boxes + (1 if "Traceback (most recent call last)" in page.content() else 0)


#: The network view's iframe (the two-way component of ui/netview).
NETWORK_IFRAME = 'iframe[src*="msonet_netzwerk"]'


def network_frame(page, timeout_ms: int = 30_000):
    """The frame of the network view, once vis has built its DataSet and canvas."""
    handle = page.wait_for_selector(NETWORK_IFRAME, timeout=timeout_ms)
    frame = handle.content_frame()
    frame.wait_for_selector("#mynetwork canvas", timeout=timeout_ms)
    frame.wait_for_function("typeof nodes !== 'undefined' && nodes.length > 0", timeout=timeout_ms)
    return frame
