"""The store contract and the embedded store (networkx in memory, saved atomically to a folder)."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import networkx as nx

from graph.errors import Problem, StoreError, ValidationError
from graph.model import PERSONAL_FIELDS, RecordBatch, merge_node, relation_key
from graph.vocabulary import SYMMETRIC_RELATIONS

__all__ = ["gc_paused", "graph_from_lists", "GraphStore", "LoadSummary", "EmbeddedStore", "check_references",
           "kind_conflicts",
           "STORE_FILE", "FORMAT"]

STORE_FILE = "graph.json"
FORMAT = "msonet-embedded/1"
EVENT_RELATIONS = frozenset({"attended_event", "organised_event"})


@dataclass(frozen=True)
class LoadSummary:
    """How many records one load wrote (new or changed records count; identical ones do not)."""

    organisations: int = 0
    events: int = 0
    relations: int = 0
    fundings: int = 0

    @property
    def total(self) -> int:
        return self.organisations + self.events + self.relations + self.fundings


@runtime_checkable
class GraphStore(Protocol):
    """What every place that keeps the graph can do. Implementations: embedded, Cypher servers."""

    def upsert(self, batch: RecordBatch) -> LoadSummary:
        """Insert or update all records of ``batch`` at once; on any error nothing changes."""

    def remove_organisation(self, org_id: str) -> bool:
        """Delete an organisation with all its ties and funding records; ``False`` if absent."""

    def get_node(self, node_id: str) -> dict[str, Any] | None:
        """Properties of one organisation, event or programme, or ``None``."""

    def find_organisations(
        self,
        *,
        org_type: str | None = None,
        district: str | None = None,
        regierungsbezirk: str | None = None,
        sector: str | None = None,
        city: str | None = None,
        name_contains: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Organisations matching all given filters, sorted by name then id."""

    def neighbourhood(self, node_id: str, hops: int = 1) -> nx.MultiDiGraph:
        """The nodes within ``hops`` ties of ``node_id`` (any direction) and the ties among them."""

    def to_networkx(self) -> nx.MultiDiGraph:
        """The whole graph for analytics (a copy the caller may change)."""

    def counts(self) -> dict[str, int]:
        """Numbers of organisations, events, programmes and relations."""

    def data_version(self) -> str:
        """A token that changes whenever the data changes (for caches)."""

    def clear(self) -> None:
        """Remove everything."""

    def close(self) -> None:
        """Release connections and files."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a whole graph is built, copied or serialised.

    A graph of 100,000 organisations and a million ties is some ten million objects that all live on;
    every full collection during such a bulk step walks all of them again (it doubled the time to open
    the store). Graph data holds no reference cycles, so nothing is left uncollected.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def graph_from_lists(nodes: list[dict[str, Any]], edges: list[list[Any]]) -> nx.MultiDiGraph:
    """The ``MultiDiGraph`` of stored node dicts (with ``"id"``) and ``[source, target, key, data]`` ties.

    The result equals ``add_nodes_from`` + ``add_edges_from``, but the adjacency dicts are filled here the
    way ``MultiDiGraph.add_edge`` fills them (one key dict shared by ``_succ[u][v]`` and ``_pred[v][u]``)
    and the freshly parsed dicts are kept instead of copied: for a million ties networkx's
    ``add_edges_from`` took over 5 s, half the time to open the store. A tie whose end is not among the
    nodes adds that node without attributes, as networkx does. The dicts passed in become the graph's.
    """
    graph = nx.MultiDiGraph()
    node_data, succ, pred = graph._node, graph._succ, graph._pred
    for data in nodes:
        node = data["id"]
        if node not in node_data:
            succ[node], pred[node] = {}, {}
        node_data[node] = data
    for u, v, key, data in edges:
        if u not in node_data:
            succ[u], pred[u], node_data[u] = {}, {}, {}
        if v not in node_data:
            succ[v], pred[v], node_data[v] = {}, {}, {}
        keyed = succ[u].get(v)
        if keyed is None:
            keyed = succ[u][v] = pred[v][u] = {}
        if key in keyed:
            keyed[key].update(data)
        else:
            keyed[key] = data
    return graph


_KIND_NAMES = {"organisation": "Organisation", "event": "Veranstaltung", "programme": "Förderprogramm"}


def kind_conflicts(batch: RecordBatch, node_kind: Any) -> list[Problem]:
    """Ids that ``batch`` gives to an organisation and an event, or to a kind other than the stored one.

    One id names one node: an event with the id of an organisation would replace it. ``node_kind`` as in
    :func:`check_references`.
    """
    problems = []
    first: dict[str, tuple[str, str]] = {}
    for kind, records in (("organisation", batch.organisations), ("event", batch.events)):
        for record in records:
            where = record.source or ("Organisationen" if kind == "organisation" else "Veranstaltungen")
            seen = first.setdefault(record.id, (kind, where))
            if seen[0] != kind:
                problems.append(Problem(where, None, "id", record.id,
                                        f"eine eigene Id für die {_KIND_NAMES[kind]} – „{record.id}“ ist in "
                                        f"derselben Ladung schon die Id einer {_KIND_NAMES[seen[0]]} (in "
                                        f"{seen[1]}); bitte eine der beiden Ids ändern"))
                continue
            stored = node_kind(record.id)
            if stored is not None and stored != kind:
                problems.append(Problem(where, None, "id", record.id,
                                        f"eine eigene Id für die {_KIND_NAMES[kind]} – „{record.id}“ ist im "
                                        f"Speicher schon die Id einer {_KIND_NAMES.get(stored, stored)}; "
                                        "bitte eine andere Id wählen"))
    return problems


def check_references(batch: RecordBatch, node_kind: Any) -> list[Problem]:
    """Problems with ids in ``batch``: ties whose ends exist neither in the batch nor in the store, and
    ids used for two kinds of node (see :func:`kind_conflicts`).

    ``node_kind(node_id)`` returns the stored kind (``"organisation"``, ``"event"``) or ``None``.
    """
    conflicts = kind_conflicts(batch, node_kind)
    kinds = {o.id: "organisation" for o in batch.organisations}
    kinds.update({e.id: "event" for e in batch.events})

    def kind_of(node_id: str) -> str | None:
        return kinds.get(node_id) or node_kind(node_id)

    problems = []
    for rel in batch.relations:
        want_target = "event" if rel.rel_type in EVENT_RELATIONS else "organisation"
        for column, node_id, want in (("source_id", rel.source_id, "organisation"),
                                      ("target_id", rel.target_id, want_target)):
            found = kind_of(node_id)
            if found != want:
                what = "Veranstaltung" if want == "event" else "Organisation"
                problems.append(Problem(rel.source or "Beziehungen", None, column, node_id,
                                        f"eine bekannte {what} (Id oder Name) – bitte zuerst laden"))
        if rel.source_id == rel.target_id:
            problems.append(Problem(rel.source or "Beziehungen", None, "target_id", rel.target_id,
                                    "eine andere Organisation als die Quelle (keine Beziehung zu sich selbst)"))
    for funding in batch.fundings:
        if kind_of(funding.org_id) != "organisation":
            problems.append(Problem(funding.source or "Förderungen", None, "org_id", funding.org_id,
                                    "eine bekannte Organisation (Id oder Name) – bitte zuerst laden"))
    return conflicts + problems


class EmbeddedStore:
    """The default store: a networkx ``MultiDiGraph`` kept in memory and saved to ``home/graph.json``.

    Saving writes a temporary file in the same folder, flushes it to disk and renames it over the
    old file, so a crash at any moment leaves either the old or the new store, never a broken one.

    Parameters
    ----------
    home
        Folder of the store; created if missing. ``None`` keeps the graph in memory only.
    """

    def __init__(self, home: Path | str | None):
        self.home = Path(home) if home is not None else None
        self._graph = nx.MultiDiGraph()
        self._revision = 0
        self._stamp: tuple[int, int] | None = None
        if self.home is not None:
            try:
                self.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # may hold contact data
            except OSError as exc:
                raise StoreError(f"Der Speicherordner {self.home} kann nicht angelegt werden ({exc.strerror}). "
                                 "Bitte einen beschreibbaren Ordner mit --store oder MSONET_HOME angeben.") from exc
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
        try:
            with open(path, encoding="utf-8") as fh, gc_paused():
                data = json.load(fh)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unbekanntes Format")
            with gc_paused():
                graph = graph_from_lists(data["nodes"], data["edges"])
            revision = int(data.get("revision", 0))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise StoreError(f"Der Speicher {path} kann nicht gelesen werden ({type(exc).__name__}: "
                             f"{str(exc)[:200]}). Bitte die Datei prüfen oder zur Seite legen (umbenennen) – "
                             "dann beginnt msonet mit einem leeren Speicher, der sich aus einer Sicherung "
                             "(msonet load EXPORTORDNER) oder mit „msonet demo“ wieder füllen lässt.") from exc
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
        with open(self.home / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

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
            for kind, records in (("organisations", batch.organisations), ("events", batch.events)):
                for record in records:
                    counts[kind] += _put_node(staged, record.properties())
            for rel in batch.relations:
                source, target = rel.source_id, rel.target_id
                if rel.rel_type in SYMMETRIC_RELATIONS and target < source:
                    source, target = target, source
                key = relation_key(rel.rel_type, source, target)
                counts["relations"] += _put_edge(staged, source, target, key, rel.properties())
            for funding in batch.fundings:
                programme = {"id": funding.programme_id, "kind": "programme", "name": funding.programme,
                             "funding_kind": funding.funding_kind, "source": funding.source,
                             "updated": funding.updated}
                if funding.programme_id not in staged:
                    _put_node(staged, programme)
                counts["fundings"] += _put_edge(staged, funding.org_id, funding.programme_id,
                                                "funded_by|" + funding.id, funding.properties())
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
        needle = name_contains.casefold() if name_contains else None
        city_folded = city.casefold() if city else None
        rows = []
        for _, d in self._graph.nodes(data=True):
            if d.get("kind") != "organisation":
                continue
            if org_type and d.get("org_type") != org_type:
                continue
            if district and d.get("district") != district:
                continue
            if regierungsbezirk and d.get("regierungsbezirk") != regierungsbezirk:
                continue
            if sector and sector not in (d.get("sectors") or ()):
                continue
            if city_folded and (d.get("city") or "").casefold() != city_folded:
                continue
            if needle and needle not in (d.get("name") or "").casefold():
                continue
            rows.append(dict(d))
        rows.sort(key=lambda r: (r.get("name") or "", r["id"]))
        return rows[:limit] if limit is not None else rows

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
        return f"EmbeddedStore({str(self.home)!r})"


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
        props = merge_node(current, props)
        if current == props:
            return 0
        current.clear()
        current.update(props)
        return 1
    graph.add_edge(source, target, key, **merge_node(None, props))
    return 1


def strip_personal(props: dict[str, Any]) -> dict[str, Any]:
    """A copy of node properties without personal data (for exports and shared views)."""
    return {k: v for k, v in props.items() if k not in PERSONAL_FIELDS}
