"""Helpers for the loader tests: write small files and compare graphs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import networkx as nx

GOOD = Path(__file__).parent / "data" / "good"
GOOD_FILES = [GOOD / n for n in ("organisationen.csv", "veranstaltungen.csv", "beziehungen.csv", "teilnahme.csv",
                                 "foerderungen.csv")]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``tmp_path/name`` in ``encoding`` (``utf-8-sig`` adds a BOM)."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def graph_state(G: nx.MultiDiGraph) -> tuple[dict, list]:
    """Nodes with attributes and sorted edges with keys and attributes, for exact comparisons."""
    nodes = {n: dict(d) for n, d in G.nodes(data=True)}
    edges = sorted(((u, v, k, dict(d)) for u, v, k, d in G.edges(keys=True, data=True)), key=lambda e: e[2])
    return nodes, edges
