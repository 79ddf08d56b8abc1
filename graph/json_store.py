"""The former embedded store: the whole graph as one JSON file (``graph.json``), read on every start.

The SQLite store (:class:`msonet.graph.store.EmbeddedStore`) replaced it; on first open it migrates a
``graph.json`` it finds with :func:`read_json_store`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from msonet.graph.errors import StoreError, ValidationError
from msonet.graph.model import RecordBatch, merge_node
from msonet.graph.rules import OrganisationFilter, check_references, node_rows, programme_rows, tie_rows
from msonet.graph.store import (
    UNREADABLE_ADVICE,
    LoadSummary,
    events_in_order,
    folder_lock,
    gc_paused,
    graph_from_lists,
    make_store_folder,
    organisation_stats_of,
    partner_view_of,
)

__all__ = ["JsonStore", "read_json_store", "JSON_FILE", "JSON_FORMAT"]

JSON_FILE = "graph.json"
JSON_FORMAT = "msonet-embedded/1"
STORE_FILE, FORMAT = JSON_FILE, JSON_FORMAT


def read_json_store(path: Path) -> tuple[list[dict[str, Any]], list[list[Any]], int]:
    """Nodes, ties ``[source, target, key, data]`` and revision of a ``graph.json`` store file.

    Raises :class:`StoreError` (German) when the file is not such a store.
    """
    try:
        with open(path, encoding="utf-8") as fh, gc_paused():
            data = json.load(fh)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("unbekanntes Format")
        nodes, edges = data["nodes"], data["edges"]
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise ValueError("Knoten oder Kanten fehlen")
        for node in nodes:
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                raise ValueError("Knoten ohne Id")
        for edge in edges:
            if (not isinstance(edge, list) or len(edge) != 4 or not all(isinstance(x, str) for x in edge[:3])
                    or not isinstance(edge[3], dict)):
                raise ValueError("Kante nicht als [Quelle, Ziel, Schlüssel, Eigenschaften]")
        revision = int(data.get("revision", 0))
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise StoreError(f"Der Speicher {path} kann nicht gelesen werden ({type(exc).__name__}: "
                         f"{str(exc)[:200]}). " + UNREADABLE_ADVICE) from exc
    return nodes, edges, revision


class JsonStore:
    """The embedded store up to msonet's SQLite store: a networkx graph in memory, saved to ``home/graph.json``.

    Kept for two reasons only: :func:`read_json_store` reads such a folder when the SQLite store migrates
    it, and ``python -m bench`` measures it beside the SQLite store (``MSONET_STORE_FORMAT=json``). Not
    for use with real data: every load rewrites the whole file and every command parses all of it.


    Saving writes a temporary file in the same folder, flushes it to disk and renames it over the
    old file, so a crash at any moment leaves either the old or the new store, never a broken one.

    ``home`` is the folder of the store (created if missing); ``None`` keeps the graph in memory only.
    """

    def __init__(self, home: Path | str | None):
        self.home = Path(home) if home is not None else None
        self._graph = nx.MultiDiGraph()
        self._revision = 0
        self._stamp: tuple[int, int] | None = None
        if self.home is not None:
            make_store_folder(self.home)
            self._read()

    # -- persistence -------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self.home / STORE_FILE if self.home is not None else None

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()  # type: ignore[union-attr]
        except (FileNotFoundError, AttributeError):
            return None
        return (st.st_mtime_ns, st.st_size)

    def _read(self) -> None:
        path = self.path
        assert path is not None
        stamp = self._file_stamp()
        if stamp is None:
            self._graph, self._revision, self._stamp = nx.MultiDiGraph(), 0, None
            return
        nodes, edges, revision = read_json_store(path)
        with gc_paused():
            graph = graph_from_lists(nodes, edges)
        self._graph, self._revision, self._stamp = graph, revision, stamp

    def _refresh(self) -> None:
        """Re-read the file when another process (CLI, other app session) has saved since."""
        if self.home is not None and self._file_stamp() != self._stamp:
            self._read()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self.home is None:
            yield
            return
        with folder_lock(self.home):
            yield

    def _save(self, graph: nx.MultiDiGraph, revision: int) -> None:
        if self.home is None:
            return
        with gc_paused():
            payload = {
                "format": FORMAT,
                "revision": revision,
                "nodes": [data for _, data in graph.nodes(data=True)],
                "edges": [[u, v, k, d] for u, v, k, d in graph.edges(keys=True, data=True)],
            }
            # dumps (C encoder) is several times faster than dump's streaming Python encoder
            text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            del payload
        for stale in self.home.glob(".graph-*.tmp"):  # left by a writer killed mid-save (we hold the lock)
            with contextlib.suppress(OSError):
                stale.unlink()
        fd, tmp = tempfile.mkstemp(prefix=".graph-", suffix=".tmp", dir=self.home)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)  # type: ignore[arg-type]
            dir_fd = os.open(self.home, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StoreError(f"Der Speicher {self.path} konnte nicht geschrieben werden ({exc.strerror}). "
                             "Es wurde nichts geändert; bitte Speicherplatz und Schreibrechte prüfen.") from exc
        self._stamp = self._file_stamp()

    def _commit(self, graph: nx.MultiDiGraph) -> None:
        revision = self._revision + 1
        try:
            self._save(graph, revision)
        except StoreError:
            if self.home is not None:
                self._stamp = None
                self._read()  # back to the last good state on disk
            raise
        self._graph, self._revision = graph, revision

    # -- contract ----------------------------------------------------------------------------------
    def upsert(self, batch: RecordBatch) -> LoadSummary:
        with self._locked():
            self._refresh()
            graph = self._graph
            problems = check_references(batch, lambda n: graph.nodes[n].get("kind") if n in graph else None)
            if problems:
                raise ValidationError(problems)
            # Changes go straight into the live graph: every check that can fail has run above, and if
            # saving fails the graph is re-read from the last good file (see _commit).
            staged = graph
            counts = dict.fromkeys(("organisations", "events", "relations", "fundings"), 0)
            for kind, _node_id, props in node_rows(batch):
                counts[kind + "s"] += _put_node(staged, props)
            for programme_id, programme in programme_rows(batch).items():
                if programme_id not in staged:
                    _put_node(staged, programme)
            for tie in tie_rows(batch):
                counts[tie.counter] += _put_edge(staged, tie.source, tie.target, tie.key, tie.props)
            summary = LoadSummary(**counts)
            if summary.total:
                self._commit(staged)
            return summary

    def remove_organisation(self, org_id: str) -> bool:
        with self._locked():
            self._refresh()
            if self._graph.nodes.get(org_id, {}).get("kind") != "organisation":
                return False
            staged = self._graph
            staged.remove_node(org_id)
            orphans = [n for n, d in staged.nodes(data=True) if d.get("kind") == "programme" and staged.degree(n) == 0]
            staged.remove_nodes_from(orphans)
            self._commit(staged)
            return True

    def get_node(self, node_id: str) -> dict[str, Any] | None:
        self._refresh()
        data = self._graph.nodes.get(node_id)
        return dict(data) if data is not None else None

    def find_organisations(self, *, org_type=None, district=None, regierungsbezirk=None, sector=None,
                           city=None, name_contains=None, limit=None) -> list[dict[str, Any]]:
        self._refresh()
        wanted = OrganisationFilter(org_type, district, regierungsbezirk, sector, city, name_contains, limit)
        return [dict(d) for d in wanted.select(d for _, d in self._graph.nodes(data=True))]

    def find_events(self) -> list[dict[str, Any]]:
        self._refresh()
        return events_in_order({**d, "id": n} for n, d in self._graph.nodes(data=True) if d.get("kind") == "event")

    def neighbourhood(self, node_id: str, hops: int = 1) -> nx.MultiDiGraph:
        self._refresh()
        if node_id not in self._graph:
            return nx.MultiDiGraph()
        nodes = nx.single_source_shortest_path_length(self._graph.to_undirected(as_view=True), node_id, cutoff=hops)
        return self._graph.subgraph(nodes).copy()

    def to_networkx(self) -> nx.MultiDiGraph:
        self._refresh()
        with gc_paused():
            return self._graph.copy()

    def graph_view(self) -> nx.MultiDiGraph:
        """The live graph without copying (read-only use; faster than ``to_networkx`` for analytics)."""
        self._refresh()
        return self._graph

    def tie_view(self, fields: Iterable[str] | None = None) -> nx.MultiDiGraph:
        """The live graph (already in memory; read-only use)."""
        return self.graph_view()

    def funding_view(self) -> nx.MultiDiGraph:
        """The whole graph (it holds the ``funded_by`` ties with all the rest)."""
        return self.graph_view()

    def organisation_stats(self) -> dict[str, Any]:
        return organisation_stats_of(self.graph_view())

    def partner_view(self, org_id: str, **search: Any) -> nx.MultiDiGraph:
        return partner_view_of(self.graph_view(), org_id, **search)

    def counts(self) -> dict[str, int]:
        self._refresh()
        result = {"organisations": 0, "events": 0, "programmes": 0}
        for _, kind in self._graph.nodes(data="kind"):
            result[f"{kind}s"] = result.get(f"{kind}s", 0) + 1
        result["relations"] = self._graph.number_of_edges()
        return result

    def data_version(self) -> str:
        self._refresh()
        return f"embedded:{self.home}:{self._revision}:{self._stamp}"

    def clear(self) -> None:
        with self._locked():
            self._commit(nx.MultiDiGraph())

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"JsonStore({str(self.home)!r})"


def _put_node(graph: nx.MultiDiGraph, props: dict[str, Any]) -> int:
    node_id = props["id"]
    current = graph.nodes.get(node_id)
    props = merge_node(current, props)
    if current == props:
        return 0
    if current is None:
        graph.add_node(node_id, **props)
    else:
        current.clear()
        current.update(props)
    return 1


def _put_edge(graph: nx.MultiDiGraph, source: str, target: str, key: str, props: dict[str, Any]) -> int:
    if graph.has_edge(source, target, key):
        current = graph.edges[source, target, key]
        if current == props:
            return 0
        current.clear()
        current.update(props)
        return 1
    graph.add_edge(source, target, key, **props)
    return 1
