"""The store contract and the embedded store (SQLite in a folder; networkx for whole-graph analytics)."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import itertools
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from msonet.graph.errors import StoreError, ValidationError
from msonet.graph.model import RecordBatch, merge_node, relation_key, tie_ends
from msonet.graph.rules import OrganisationFilter, check_references, funding_key, kind_conflicts, programme_node

if TYPE_CHECKING:  # networkx is imported where a graph is built: `msonet stats` needs none
    import networkx as nx

__all__ = ["gc_paused", "graph_from_lists", "GraphStore", "LoadSummary", "EmbeddedStore", "check_references",
           "kind_conflicts", "events_in_order", "organisation_stats_of", "partner_view_of", "STORE_FILE",
           "LEGACY_FILE", "FORMAT", "FORMAT_VERSION"]

#: What a user can do with a store file msonet cannot read (every such message ends with it).
UNREADABLE_ADVICE = ("Bitte die Datei prüfen oder zur Seite legen (umbenennen) – dann beginnt msonet mit einem leeren "
                     "Speicher, der sich aus einer Sicherung (msonet load EXPORTORDNER) oder mit „msonet demo“ "
                     "wieder füllen lässt.")
#: The database file inside the store folder.
STORE_FILE = "graph.sqlite"
#: The file of the former JSON store; migrated into :data:`STORE_FILE` on first open (then removed).
LEGACY_FILE = "graph.json"
FORMAT = "msonet-sqlite"
#: Version of the database layout (``PRAGMA user_version``); a newer one is refused, never misread.
FORMAT_VERSION = 1
#: ``PRAGMA application_id`` of msonet stores ("mson"): tells a foreign SQLite file from ours.
APPLICATION_ID = 0x6D736F6E
#: How long a write waits for another process's write to finish (a full load takes under a minute).
WRITE_WAIT_S = 600.0
_CHUNK = 500  # ids per ``IN (...)`` query (SQLite allows 32,766 parameters; small chunks keep plans simple)


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

    def find_events(self) -> list[dict[str, Any]]:
        """Every event with its properties (``id`` and ``kind`` included), by date then id: what resolving an
        event by id or name needs, without reading the graph."""

    def neighbourhood(self, node_id: str, hops: int = 1) -> nx.MultiDiGraph:
        """The nodes within ``hops`` ties of ``node_id`` (any direction) and the ties among them."""

    def to_networkx(self) -> nx.MultiDiGraph:
        """The whole graph for analytics (a copy the caller may change)."""

    def graph_view(self) -> nx.MultiDiGraph:
        """The whole graph of the current data version, shared and never changed afterwards: read only.

        Cheaper than :meth:`to_networkx` where a store can hand out a graph it keeps (writes build a new
        one, they never change a graph handed out), so every reader sees one data version, never a mix.
        """

    def tie_view(self, fields: Iterable[str] | None = None) -> nx.DiGraph:
        """Every node with its properties and who is tied to whom (an edge per tied pair, without the ties'
        keys and properties): all that analyses such as :mod:`msonet.graph.isolation` read. ``fields``: the
        organisations' properties the caller reads (others may be left out; events keep all). A store
        without a cheaper way returns :meth:`graph_view` (a ``MultiDiGraph`` is a ``DiGraph``); treat as
        read-only.
        """

    def funding_view(self) -> nx.MultiDiGraph:
        """Every node with its properties and only the ``funded_by`` ties (with keys and properties): all that
        :func:`msonet.graph.coverage.funding_mix` reads. A store without a cheaper way returns
        :meth:`graph_view`; treat as read-only.
        """

    def organisation_stats(self) -> dict[str, Any]:
        """``{total, synthetic, by_type, by_district, by_sector}`` over all organisations (see
        :func:`organisation_stats_of`)."""

    def partner_view(self, org_id: str, **search: Any) -> nx.MultiDiGraph:
        """A graph on which ``graph.partners.propose_partners(G, org_id, **search)``
        gives the same proposals as on the whole graph. A partial graph holds the organisation and its
        contacts with all their ties, and names the candidates it holds with all their ties in
        ``G.graph[graph.partners.VIEW_CANDIDATES]`` (the search scores only those; see
        :func:`msonet.graph.partners.shortlist`). Stores without a cheaper way return the whole graph."""

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


def graph_from_lists(nodes: Iterable[dict[str, Any]], edges: Iterable[list[Any] | tuple[Any, ...]]
                     ) -> nx.MultiDiGraph:
    """The ``MultiDiGraph`` of stored node dicts (with ``"id"``) and ``[source, target, key, data]`` ties.

    The result equals ``add_nodes_from`` + ``add_edges_from``, but the adjacency dicts are filled here the
    way ``MultiDiGraph.add_edge`` fills them (one key dict shared by ``_succ[u][v]`` and ``_pred[v][u]``)
    and the freshly parsed dicts are kept instead of copied: for a million ties networkx's
    ``add_edges_from`` took over 5 s, half the time to open the store. A tie whose end is not among the
    nodes adds that node without attributes, as networkx does. The dicts passed in become the graph's.
    Both arguments are read once, in order (generators work).
    """
    import networkx as nx

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


def make_store_folder(home: Path) -> None:
    """Create a store's folder (readable by its owner only: it may hold contact data) if it is missing.

    Raises :class:`StoreError` naming the folder and how to choose another.
    """
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Der Speicherordner {home} kann nicht angelegt werden ({exc.strerror}). "
                         "Bitte einen beschreibbaren Ordner mit --store oder MSONET_HOME angeben.") from exc


@contextlib.contextmanager
def folder_lock(home: Path) -> Iterator[None]:
    """Hold the store folder's lock file (``.lock``): one process at a time in the section."""
    with open(home / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def events_in_order(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events sorted as :meth:`GraphStore.find_events` returns them: by date (undated last), then id."""
    return sorted(events, key=lambda d: (str(d.get("date") or "9999"), str(d["id"])))


def organisation_stats_of(G: nx.MultiDiGraph) -> dict[str, Any]:
    """Counts over the organisations of ``G``: ``total``, ``synthetic``, ``by_type`` (``"?"`` for none),
    ``by_district`` (organisations with a district) and ``by_sector`` (each sector an organisation lists),
    the dicts sorted by key. The reference for :meth:`EmbeddedStore.organisation_stats`."""
    by_type: dict[str, int] = {}
    by_district: dict[str, int] = {}
    by_sector: dict[str, int] = {}
    synthetic = 0
    for _, d in G.nodes(data=True):
        if d.get("kind") != "organisation":
            continue
        key = d.get("org_type") or "?"
        by_type[key] = by_type.get(key, 0) + 1
        if d.get("district"):
            by_district[d["district"]] = by_district.get(d["district"], 0) + 1
        for s in d.get("sectors") or ():
            by_sector[s] = by_sector.get(s, 0) + 1
        synthetic += bool(d.get("synthetic"))
    return {"total": sum(by_type.values()), "synthetic": synthetic, "by_type": dict(sorted(by_type.items())),
            "by_district": dict(sorted(by_district.items())), "by_sector": dict(sorted(by_sector.items()))}


def partner_view_of(G: nx.MultiDiGraph, org_id: str, **_search: Any) -> nx.MultiDiGraph:
    """:meth:`GraphStore.partner_view` of a store that holds the whole graph anyway: that graph."""
    return G


_SCHEMA = f"""
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {FORMAT_VERSION};
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- one row per organisation, event and programme; ``props`` holds all properties as JSON, the other
-- columns copy the ones queries filter on (text values only)
CREATE TABLE node (
    nid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    org_type TEXT,
    name TEXT,
    district TEXT,
    regierungsbezirk TEXT,
    city TEXT,
    lat REAL,
    lon REAL,
    synthetic INTEGER NOT NULL,
    props TEXT NOT NULL
);
CREATE INDEX node_kind_type ON node (kind, org_type);
CREATE INDEX node_district ON node (district);
CREATE INDEX node_lat ON node (lat);
CREATE TABLE node_sector (
    nid INTEGER NOT NULL REFERENCES node (nid) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    sector TEXT NOT NULL,
    PRIMARY KEY (nid, pos)
) WITHOUT ROWID;
CREATE INDEX node_sector_sector ON node_sector (sector);
-- one row per tie; a tie's identity is (source, target, key). ``key`` is stored as '' when it is the
-- usual "type|source id|target id". The properties live in ``edge_props``, one row per distinct set:
-- a million relations share a few hundred (type, since, note, source file, date), so reading the
-- whole graph fetches four numbers per tie. An ordinary relation's properties are columns there; any
-- other tie (funding records) keeps its properties as JSON in ``extra``.
CREATE TABLE edge_props (
    pid INTEGER PRIMARY KEY,
    type TEXT,
    since TEXT,
    note TEXT,
    synthetic INTEGER,
    src TEXT,
    updated TEXT,
    extra TEXT
);
CREATE TABLE edge (
    eid INTEGER PRIMARY KEY,
    source INTEGER NOT NULL REFERENCES node (nid) ON DELETE CASCADE,
    target INTEGER NOT NULL REFERENCES node (nid) ON DELETE CASCADE,
    type TEXT,
    key TEXT NOT NULL,
    pid INTEGER NOT NULL REFERENCES edge_props (pid),
    UNIQUE (source, target, type, key)
);
CREATE INDEX edge_target ON edge (target);
CREATE INDEX edge_type ON edge (type);
CREATE INDEX edge_pid ON edge (pid);
"""

_REL_KEYS = ("type", "since", "note", "synthetic", "source", "updated")
_EDGE_UPSERT = ("INSERT INTO edge (source, target, type, key, pid) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (source, target, type, key) DO UPDATE SET pid = excluded.pid "
                "WHERE edge.pid IS NOT excluded.pid")
#: Property rows no tie uses any more (they may hold a deleted organisation's funding records).
_DROP_UNUSED_PROPS = "DELETE FROM edge_props WHERE NOT EXISTS (SELECT 1 FROM edge WHERE edge.pid = edge_props.pid)"
_NODE_INSERT = ("INSERT INTO node (nid, id, kind, org_type, name, district, regierungsbezirk, city, lat, lon, "
                "synthetic, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_NODE_UPDATE = ("UPDATE node SET kind = ?, org_type = ?, name = ?, district = ?, regierungsbezirk = ?, city = ?, "
                "lat = ?, lon = ?, synthetic = ?, props = ? WHERE nid = ?")


#: One encoder for all property JSON (``json.dumps`` with these options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _text(props: dict[str, Any], key: str) -> str | None:
    value = props.get(key)
    return value if isinstance(value, str) else None


def _number(props: dict[str, Any], key: str) -> float | None:
    value = props.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _node_columns(props: dict[str, Any]) -> tuple[Any, ...]:
    """(kind, org_type, name, district, regierungsbezirk, city, lat, lon, synthetic, props JSON) of a node."""
    return (_text(props, "kind") or "", _text(props, "org_type"), _text(props, "name"), _text(props, "district"),
            _text(props, "regierungsbezirk"), _text(props, "city"), _number(props, "lat"), _number(props, "lon"),
            1 if props.get("synthetic") else 0, _dumps(props))


def _sector_rows(nid: int, props: dict[str, Any]) -> list[tuple[int, int, str]]:
    sectors = props.get("sectors")
    if not isinstance(sectors, list | tuple):
        return []
    return [(nid, pos, s) for pos, s in enumerate(sectors) if isinstance(s, str)]


def _edge_row(source: int, target: int, source_id: str, target_id: str, key: str,
              data: dict[str, Any]) -> tuple[Any, ...]:
    """``(source, target, type, stored key, properties row)`` of one tie (see the schema); lossless for
    any property dict. The properties row is ``(type, since, note, synthetic, src, updated, extra)``."""
    rel_type = data.get("type") if isinstance(data.get("type"), str) else None
    short = "" if rel_type is not None and key == f"{rel_type}|{source_id}|{target_id}" else key
    if (tuple(data) == _REL_KEYS and rel_type is not None and isinstance(data["synthetic"], bool)
            and all(data[k] is None or isinstance(data[k], str) for k in ("since", "note", "source", "updated"))):
        props: tuple[Any, ...] = (rel_type, data["since"], data["note"], int(data["synthetic"]), data["source"],
                                   data["updated"], None)
    else:
        props = (rel_type, None, None, None, None, None, _dumps(data))
    return (source, target, rel_type, short, props)


class _PropRows:
    """The ``edge_props`` rows of one write transaction: each distinct set of properties once."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.pids = {row[1:]: row[0] for row in conn.execute(
            "SELECT pid, type, since, note, synthetic, src, updated, extra FROM edge_props")}
        self.next = max(self.pids.values(), default=0) + 1
        self.new: list[tuple[Any, ...]] = []

    def pid(self, props: tuple[Any, ...]) -> int:
        pid = self.pids.get(props)
        if pid is None:
            pid = self.pids[props] = self.next
            self.next += 1
            self.new.append((pid, *props))
        return pid

    def write_edges(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert or update ties (rows from :func:`_edge_row`); returns how many were new or changed."""
        return self.write_rows([(s, t, rel_type, key, self.pid(props)) for s, t, rel_type, key, props in rows])

    def write_rows(self, ties: list[tuple[Any, ...]]) -> int:
        """Insert or update ties ``(source, target, type, stored key, pid)`` whose pids come from
        :meth:`pid`; returns how many were new or changed."""
        self.conn.executemany("INSERT INTO edge_props (pid, type, since, note, synthetic, src, updated, extra) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.new)
        self.new = []
        if not ties:
            return 0
        return max(self.conn.executemany(_EDGE_UPSERT, ties).rowcount, 0)


#: Rows (nid, district) of every node that is no organisation, read through the kind index (kind is never NULL).
_NOT_ORGANISATIONS = ("(SELECT nid, district FROM node INDEXED BY node_kind_type WHERE kind < 'organisation' "
                      "UNION ALL SELECT nid, district FROM node INDEXED BY node_kind_type WHERE kind > 'organisation')")


def _minus(total: Iterable[tuple[str, int]], other: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Counts ``total`` less counts ``other`` (keys whose count drops to 0 are left out)."""
    counts = dict(total)
    for key, n in other:
        counts[key] -= n
    return {key: n for key, n in counts.items() if n}


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class _Unchanged(Exception):
    """Internal: a write found nothing to change (its transaction is rolled back, the revision stays)."""

    def __init__(self, result: Any):
        self.result = result


class EmbeddedStore:
    """The default store: an SQLite database ``home/graph.sqlite`` (standard library, no server).

    Every load is one transaction (all or nothing, also when the process is killed), in WAL mode
    readers keep seeing the last committed state while a load writes, and two processes writing at
    once take turns. Queries that need a few rows (counts, one node, a search, a neighbourhood, one
    partner search) read them through indexes; whole-graph analytics get a networkx graph read in bulk
    (:meth:`graph_view`, kept per data version and never changed afterwards). A ``graph.json`` of the
    former JSON store found in ``home`` is migrated on first open: copied, read back and compared node
    for node and tie for tie, then removed.

    Parameters
    ----------
    home
        Folder of the store; created if missing. ``None`` keeps the database in memory only.
    """

    #: ``tie_view`` and ``funding_view`` read only what they name (the servers return the whole graph).
    PARTIAL_VIEWS = True

    def __init__(self, home: Path | str | None):
        self.home = Path(home) if home is not None else None
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._memory: sqlite3.Connection | None = None
        self._memory_lock = threading.RLock()
        self._view: tuple[str, nx.MultiDiGraph] | None = None
        self._view_lock = threading.Lock()
        if self.home is None:
            self._memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self._memory.executescript(_SCHEMA)
            self._setup(self._memory)
            self._init_meta(self._memory, 0)
            return
        make_store_folder(self.home)
        self._prepare()
        with self._connection():
            pass  # opens and checks the database now, so a damaged file is reported on open

    # -- files ---------------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self.home / STORE_FILE if self.home is not None else None

    def _read_error(self, exc: BaseException) -> StoreError:
        return StoreError(f"Der Speicher {self.path or 'im Arbeitsspeicher'} kann nicht gelesen werden ({exc}). "
                          + UNREADABLE_ADVICE)

    def _write_error(self, exc: BaseException) -> StoreError:
        text = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return StoreError(f"Der Speicher {self.path} wird seit {WRITE_WAIT_S:.0f} s von einem anderen Vorgang "
                              "geschrieben. Es wurde nichts geändert; bitte später erneut versuchen.")
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            return self._read_error(exc)
        return StoreError(f"Der Speicher {self.path or 'im Arbeitsspeicher'} konnte nicht geschrieben werden "
                          f"({text}). Es wurde nichts geändert; bitte Speicherplatz und Schreibrechte prüfen.")

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Only one process creates or migrates the database file (writes are locked by SQLite itself)."""
        assert self.home is not None
        with folder_lock(self.home):
            yield

    def _prepare(self) -> None:
        """Create the database file, or migrate ``graph.json`` into it, when it does not exist yet."""
        assert self.home is not None and self.path is not None
        if self.path.exists():
            return
        try:
            with self._file_lock():
                if self.path.exists():
                    return
                legacy = self.home / LEGACY_FILE
                if legacy.exists():
                    from msonet.graph.json_store import read_json_store

                    nodes, edges, revision = read_json_store(legacy)
                    tmp = self._create_file(nodes, edges, revision)
                    self._verify_migration(tmp, legacy)
                    self._install(tmp)
                    # the data are in the database now, checked; an old copy would keep contact data that
                    # „msonet forget“ deletes
                    legacy.unlink()
                    _fsync_dir(self.home)
                else:
                    self._install(self._create_file([], [], 0))
        except OSError as exc:
            raise self._write_error(exc) from exc

    def _create_file(self, nodes: list[dict[str, Any]], edges: list[list[Any]], revision: int) -> Path:
        """Write a complete database into a temporary file (see :meth:`_install`); returns its path."""
        assert self.home is not None and self.path is not None
        tmp = self.home / ".graph-neu.sqlite"
        for stale in (tmp, tmp.with_name(tmp.name + "-journal"), tmp.with_name(tmp.name + "-wal")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = OFF")  # a temporary file: a crash simply leaves it behind
            conn.execute("PRAGMA synchronous = OFF")
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN")
            self._init_meta(conn, revision)
            nids: dict[str, int] = {}
            node_rows: list[tuple[Any, ...]] = []
            sector_rows: list[tuple[int, int, str]] = []
            for nid, props in enumerate(nodes, start=1):
                node_id = props["id"]
                if node_id in nids:  # a later entry for the same id wins, as when the JSON store read it
                    nid = nids[node_id]
                    node_rows = [r for r in node_rows if r[0] != nid]
                    sector_rows = [r for r in sector_rows if r[0] != nid]
                nids[node_id] = nid
                node_rows.append((nid, node_id, *_node_columns(props)))
                sector_rows += _sector_rows(nid, props)
            next_nid = len(nodes) + 1
            for u, v, _key, _data in edges:
                for end in (u, v):
                    if end not in nids:  # a tie to a node the file does not list: networkx adds it bare
                        nids[end] = next_nid
                        node_rows.append((next_nid, end, "", None, None, None, None, None, None, None, 0, "{}"))
                        next_nid += 1
            node_rows.sort()
            conn.executemany(_NODE_INSERT, node_rows)
            conn.executemany("INSERT INTO node_sector (nid, pos, sector) VALUES (?, ?, ?)", sector_rows)
            # a key given twice: later values are merged over earlier ones (as graph_from_lists does)
            merged: dict[tuple[str, str, str], dict[str, Any]] = {}
            for u, v, key, data in edges:
                merged.setdefault((u, v, key), {}).update(data)
            _PropRows(conn).write_edges(_edge_row(nids[u], nids[v], u, v, key, data)
                                        for (u, v, key), data in merged.items())
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")  # kept in the file: every later connection uses WAL
            count = conn.execute("SELECT count(*) FROM edge").fetchone()[0]
            if count != len(merged):
                raise StoreError(f"Übernahme von {LEGACY_FILE} unvollständig ({count} statt {len(merged)} Kanten).")
        finally:
            conn.close()
        return tmp

    def _install(self, tmp: Path) -> None:
        """Move a complete database file into place: a kill at any moment leaves no half-made store."""
        assert self.home is not None and self.path is not None
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        _fsync_dir(self.home)

    def _verify_migration(self, tmp: Path, legacy: Path) -> None:
        """Read the new database back and compare it with ``graph.json`` node for node and tie for tie
        (order included); on any difference the database goes and ``graph.json`` stays as it is."""
        from msonet.graph.json_store import read_json_store

        assert self.path is not None
        nodes, edges, _revision = read_json_store(legacy)
        expected = graph_from_lists(nodes, edges)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            got = self._read_with(conn, self._graph)
        finally:
            conn.close()
        same = (list(got.nodes(data=True)) == list(expected.nodes(data=True))
                and list(got.edges(keys=True, data=True)) == list(expected.edges(keys=True, data=True)))
        if not same:
            tmp.unlink()
            raise StoreError(f"Der Speicher {legacy} ließ sich nicht verlustfrei in die Datenbank übernehmen; "
                             "er bleibt unverändert. Bitte mit einer älteren msonet-Version „msonet export“ "
                             "ausführen und den Export mit „msonet load“ laden.")

    @staticmethod
    def _read_with(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    @staticmethod
    def _init_meta(conn: sqlite3.Connection, revision: int) -> None:
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                         [("format", FORMAT), ("store", uuid.uuid4().hex), ("revision", str(revision))])

    @staticmethod
    def _setup(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")  # deleted contact data is overwritten, not left in free pages
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # 64 MB page cache

    def _open(self) -> sqlite3.Connection:
        assert self.path is not None
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=WRITE_WAIT_S,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._read_error(exc) from exc
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if app_id != APPLICATION_ID:
                raise StoreError(f"Der Speicher {self.path} kann nicht gelesen werden (keine msonet-Datenbank). "
                                 + UNREADABLE_ADVICE)
            if version > FORMAT_VERSION:
                raise StoreError(f"Der Speicher {self.path} stammt von einer neueren msonet-Version (Format "
                                 f"{version}, diese Version kennt Format {FORMAT_VERSION}) und kann nicht gelesen "
                                 "werden, ohne Daten falsch zu deuten. Bitte msonet aktualisieren.")
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if version < 1 or row is None or row[0] != FORMAT:
                raise StoreError(f"Der Speicher {self.path} kann nicht gelesen werden (unbekanntes Format). "
                                 + UNREADABLE_ADVICE)
            self._setup(conn)
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise self._read_error(exc) from exc
        return conn

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for this thread's use (a pool: Streamlit sessions read in parallel)."""
        if self._memory is not None:
            with self._memory_lock:
                yield self._memory
            return
        with self._pool_lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            with self._pool_lock:
                self._pool.append(conn)

    def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``fn`` in one read transaction: it sees one committed state, whatever others write."""
        with self._connection() as conn:
            try:
                conn.execute("BEGIN")
                try:
                    return fn(conn)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._read_error(exc) from exc

    def _write(self, fn: Callable[[sqlite3.Connection], Any], *, foreign_keys: bool = True) -> Any:
        """Run ``fn`` in one write transaction and raise the revision; any error rolls everything back.

        ``fn`` raises :class:`_Unchanged` when it changed nothing: then nothing is committed either.
        ``foreign_keys=False`` (the first load of a large batch, see :meth:`upsert`) leaves SQLite's
        reference checks off for this transaction and gives it a page cache of :data:`BULK_CACHE_KIB`, so
        the new rows stay in memory until the commit instead of being spilled to the log half-built; the
        connection has its usual checks and cache again afterwards.
        """
        with self._connection() as conn:
            try:
                if not foreign_keys:
                    conn.execute("PRAGMA foreign_keys = OFF")  # outside a transaction, or it does nothing
                    conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
                try:
                    return self._write_in(conn, fn)
                finally:
                    if not foreign_keys:
                        conn.execute("PRAGMA foreign_keys = ON")
                        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            except (sqlite3.Error, OSError) as exc:
                raise self._write_error(exc) from exc

    def _write_in(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'revision'")
            conn.execute("COMMIT")
        except _Unchanged as unchanged:
            conn.execute("ROLLBACK")
            return unchanged.result
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if self.home is not None:
            # copy what is committed into the main file now (a reader still busy is not waited for)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return result

    # -- reading helpers -----------------------------------------------------------------------------
    @staticmethod
    def _revision(conn: sqlite3.Connection) -> str:
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('store', 'revision')").fetchall())
        return f"{rows.get('store')}:{rows.get('revision')}"

    @staticmethod
    def _graph(conn: sqlite3.Connection, node_sql: str = "", edge_sql: str = "", params: tuple[Any, ...] = ()
               ) -> nx.MultiDiGraph:
        """A graph of the nodes ``SELECT nid, id, props FROM node {node_sql}`` and the ties among them
        ``SELECT ... FROM edge {edge_sql}``, both in storage order (ties to nodes not selected are dropped)."""
        import networkx as nx

        loads = json.loads
        with gc_paused():
            graph = nx.MultiDiGraph()
            node_data, succ, pred = graph._node, graph._succ, graph._pred
            ids: dict[int, str] = {}
            for nid, node_id, props in conn.execute(f"SELECT nid, id, props FROM node {node_sql} ORDER BY nid",
                                                    params if node_sql else ()):
                ids[nid] = node_id
                node_data[node_id] = loads(props)
                succ[node_id], pred[node_id] = {}, {}
            protos: dict[int, tuple[str | None, dict[str, Any]]] = {}
            for pid, rel_type, since, note, synthetic, src, updated, extra in conn.execute(
                    "SELECT pid, type, since, note, synthetic, src, updated, extra FROM edge_props"):
                protos[pid] = (rel_type, loads(extra) if extra is not None else {
                    "type": rel_type, "since": since, "note": note, "synthetic": synthetic == 1, "source": src,
                    "updated": updated})
            get = ids.get
            for s, t, key, pid in conn.execute(f"SELECT source, target, key, pid FROM edge {edge_sql} ORDER BY eid",
                                               params if edge_sql else ()):
                u, v = get(s), get(t)
                if u is None or v is None:
                    continue
                rel_type, proto = protos[pid]
                keyed = succ[u].get(v)
                if keyed is None:
                    keyed = succ[u][v] = pred[v][u] = {}
                keyed[key or f"{rel_type}|{u}|{v}"] = proto.copy()  # each tie its own dict, as networkx has it
        return graph

    @staticmethod
    def _subgraph(conn: sqlite3.Connection, nids: set[int], edge_ids: set[int]) -> nx.MultiDiGraph:
        """The graph of the given nodes and ties (ties whose ends are missing are dropped)."""
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS pick_node (nid INTEGER PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS pick_edge (eid INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM pick_node")
        conn.execute("DELETE FROM pick_edge")
        conn.executemany("INSERT INTO pick_node VALUES (?)", ((n,) for n in nids))
        conn.executemany("INSERT INTO pick_edge VALUES (?)", ((e,) for e in edge_ids))
        graph = EmbeddedStore._graph(conn, "WHERE nid IN (SELECT nid FROM pick_node)",
                                     "WHERE eid IN (SELECT eid FROM pick_edge)")
        conn.execute("DELETE FROM pick_node")
        conn.execute("DELETE FROM pick_edge")
        return graph

    @staticmethod
    def _ties(conn: sqlite3.Connection, nids: Iterable[int]) -> list[tuple[int, int, int]]:
        """(eid, source, target) of every tie with an end in ``nids``."""
        found = []
        for chunk in _chunks(list(nids)):
            marks = _marks(len(chunk))
            found += conn.execute(f"SELECT eid, source, target FROM edge WHERE source IN ({marks}) "
                                  f"UNION SELECT eid, source, target FROM edge WHERE target IN ({marks})",
                                  (*chunk, *chunk)).fetchall()
        return found

    # -- contract ------------------------------------------------------------------------------------
    def upsert(self, batch: RecordBatch) -> LoadSummary:
        if len(batch) >= BULK_RECORDS and self._read(lambda conn: conn.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM node)").fetchone()[0]):
            # A first load into an empty store: every node id, tie end and property row is assigned by
            # _apply from this batch (after check_references), so SQLite's per-row reference checks (a
            # third of the time for a million ties) are left off. Another process may have filled the
            # store since the look above: then _apply refuses and the load runs the usual way.
            with contextlib.suppress(_NotEmpty):
                return self._write(lambda conn: _apply(conn, batch, only_empty=True), foreign_keys=False)
        return self._write(lambda conn: _apply(conn, batch))

    def remove_organisation(self, org_id: str) -> bool:
        def remove(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT nid FROM node WHERE id = ? AND kind = 'organisation'", (org_id,)).fetchone()
            if row is None:
                raise _Unchanged(False)
            conn.execute("DELETE FROM node WHERE nid = ?", row)  # ties, funding records, sectors cascade
            conn.execute("DELETE FROM node WHERE kind = 'programme' AND NOT EXISTS "
                         "(SELECT 1 FROM edge WHERE edge.source = node.nid) AND NOT EXISTS "
                         "(SELECT 1 FROM edge WHERE edge.target = node.nid)")
            conn.execute(_DROP_UNUSED_PROPS)
            return True

        removed = self._write(remove)
        if removed and self.home is not None:
            # older page versions in the write-ahead log may still hold the contact data: fold the log
            # into the database (where secure_delete has overwritten it) and empty it
            with self._connection() as conn, contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def get_node(self, node_id: str) -> dict[str, Any] | None:
        row = self._read(lambda conn: conn.execute("SELECT props FROM node WHERE id = ?", (node_id,)).fetchone())
        return json.loads(row[0]) if row is not None else None

    def find_organisations(self, *, org_type=None, district=None, regierungsbezirk=None, sector=None,
                           city=None, name_contains=None, limit=None) -> list[dict[str, Any]]:
        wanted = OrganisationFilter(org_type, district, regierungsbezirk, sector, city, name_contains, limit)
        where, params = ["kind = 'organisation'"], []
        exact = wanted.exact()
        for column in ("org_type", "district", "regierungsbezirk"):
            if exact[column]:
                where.append(f"{column} = ?")
                params.append(exact[column])
        if exact["sector"]:
            where.append("nid IN (SELECT nid FROM node_sector WHERE sector = ?)")
            params.append(exact["sector"])
        sql = f"SELECT props FROM node WHERE {' AND '.join(where)}"
        texts = self._read(lambda conn: [r[0] for r in conn.execute(sql, params)])
        with gc_paused():
            return wanted.select(json.loads(text) for text in texts)

    def find_events(self) -> list[dict[str, Any]]:
        texts = self._read(lambda conn: [r[0] for r in conn.execute("SELECT props FROM node WHERE kind = 'event'")])
        return events_in_order({**json.loads(text), "kind": "event"} for text in texts)

    def neighbourhood(self, node_id: str, hops: int = 1) -> nx.MultiDiGraph:
        def read(conn: sqlite3.Connection) -> nx.MultiDiGraph:
            row = conn.execute("SELECT nid FROM node WHERE id = ?", (node_id,)).fetchone()
            if row is None:
                import networkx as nx

                return nx.MultiDiGraph()
            seen, frontier = {row[0]}, {row[0]}
            for _ in range(max(hops, 0)):
                reached: set[int] = set()
                for _eid, s, t in self._ties(conn, frontier):
                    reached.update((s, t))
                frontier = reached - seen
                seen |= frontier
                if not frontier:
                    break
            ties = {eid for eid, s, t in self._ties(conn, seen) if s in seen and t in seen}
            return self._subgraph(conn, seen, ties)

        return self._read(read)

    def to_networkx(self) -> nx.MultiDiGraph:
        return self._read(self._graph)

    def graph_view(self) -> nx.MultiDiGraph:
        """The whole graph of the current data version, kept until the data changes; treat as read-only.

        A write never changes a graph handed out: the next call after a write reads a new one. So
        sessions that share it see one data version, never a mix.
        """
        with self._view_lock:
            version = self._read(self._revision)
            if self._view is not None and self._view[0] == version:
                return self._view[1]
            self._view = None  # the old graph may go as soon as its last reader drops it
            version, graph = self._read(lambda conn: (self._revision(conn), self._graph(conn)))
            self._view = (version, graph)
            return graph

    def tie_view(self, fields: Iterable[str] | None = None) -> nx.DiGraph:
        """Every node with its properties and who is tied to whom, without the ties themselves.

        A ``DiGraph`` with an edge ``u -> v`` wherever :meth:`graph_view` has at least one tie from ``u`` to
        ``v``; all edges share one empty attribute dict (read-only: changing it changes every edge). For
        analyses that only ask whether and with whom nodes are tied (:mod:`graph.isolation`): reading a
        million ties this way skips their keys and property dicts, most of the cost of :meth:`graph_view`.
        Where this store keeps the whole graph of the current data version already (the app), that one is
        returned instead of reading again; otherwise one read transaction, not cached.

        ``fields``: if all are node columns (:data:`TIE_VIEW_COLUMNS`), an organisation's dict holds just
        those, taken from the columns without parsing its properties, wherever the columns hold exactly what
        the properties hold (text, and coordinates that are not whole numbers); other nodes are parsed in full.
        """
        with self._view_lock:
            def read(conn: sqlite3.Connection) -> nx.DiGraph:
                if self._view is not None and self._view[0] == self._revision(conn):
                    return self._view[1]
                return _tie_graph(conn, fields)

            return self._read(read)

    def funding_view(self) -> nx.MultiDiGraph:
        """Every node with its properties and the ``funded_by`` ties only (a few per cent of all ties); the
        whole graph instead where this store keeps the current one already. One read transaction, not cached.
        """
        with self._view_lock:
            def read(conn: sqlite3.Connection) -> nx.MultiDiGraph:
                if self._view is not None and self._view[0] == self._revision(conn):
                    return self._view[1]
                return self._graph(conn, "", "WHERE type = 'funded_by'")

            return self._read(read)

    def organisation_stats(self) -> dict[str, Any]:
        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            by_type: dict[str, int] = {}
            synthetic = 0
            for org_type, n, synth in conn.execute(
                    "SELECT org_type, count(*), sum(synthetic) FROM node WHERE kind = 'organisation' "
                    "GROUP BY org_type"):
                key = org_type or "?"
                by_type[key] = by_type.get(key, 0) + n
                synthetic += synth
            # Districts and sectors of all nodes come from their (covering) indexes alone; those of the few
            # other nodes (events, programmes) are subtracted. Filtering every row by kind instead costs a
            # table lookup per organisation (ten times as long at 100,000).
            by_district = _minus(
                conn.execute("SELECT district, count(*) FROM node WHERE district IS NOT NULL AND district <> '' "
                             "GROUP BY district"),
                conn.execute(f"SELECT district, count(*) FROM {_NOT_ORGANISATIONS} WHERE district IS NOT NULL "
                             "AND district <> '' GROUP BY district"))
            by_sector = _minus(
                conn.execute("SELECT sector, count(*) FROM node_sector GROUP BY sector"),
                conn.execute(f"SELECT s.sector, count(*) FROM {_NOT_ORGANISATIONS} AS n CROSS JOIN node_sector AS s "
                             "ON s.nid = n.nid GROUP BY s.sector"))
            return {"total": sum(by_type.values()), "synthetic": synthetic, "by_type": dict(sorted(by_type.items())),
                    "by_district": dict(sorted(by_district.items())), "by_sector": dict(sorted(by_sector.items()))}

        return self._read(read)

    def partner_view(self, org_id: str, **search: Any) -> nx.MultiDiGraph:
        """A partial graph on which ``propose_partners(G, org_id, **search)`` gives the whole graph's list.

        It holds the MSO and its contact organisations with all their ties, and the candidates that
        :func:`msonet.graph.partners.shortlist` proves sufficient, each with all its ties (activity, carrier,
        umbrella membership, tandems); their ids are in ``G.graph[graph.partners.VIEW_CANDIDATES]``, and
        the search scores only those. Candidates come from the node table by type; only the ties of the
        shortlisted ones are read. Each node's ties are in the same order as in the whole graph. Where
        no bound helps (an id that is no organisation, or a search that would read most ties anyway)
        this is the whole graph (:meth:`graph_view`). One read transaction: one data version.
        """
        view = self._read(lambda conn: _partner_view(conn, org_id, search))
        return view if view is not None else self.graph_view()

    def counts(self) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            result = {"organisations": 0, "events": 0, "programmes": 0}
            for kind, n in conn.execute("SELECT kind, count(*) FROM node GROUP BY kind"):
                if kind:
                    result[f"{kind}s"] = result.get(f"{kind}s", 0) + n
            result["relations"] = conn.execute("SELECT count(*) FROM edge").fetchone()[0]
            return result

        return self._read(read)

    def data_version(self) -> str:
        return f"embedded:{self.home}:{self._read(self._revision)}"

    def clear(self) -> None:
        def wipe(conn: sqlite3.Connection) -> None:
            for table in ("edge", "edge_props", "node_sector", "node"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

        self._write(wipe)

    def close(self) -> None:
        """Close the open connections (the last one folds the write-ahead log into the database file)."""
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._view = None

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.home)!r})"


#: Node columns that hold a property as it is (text; coordinates as floats): what ``tie_view(fields)`` can
#: read without parsing the properties.
TIE_VIEW_COLUMNS = ("kind", "org_type", "name", "district", "regierungsbezirk", "city", "lat", "lon")


def _tie_graph(conn: sqlite3.Connection, fields: Iterable[str] | None = None) -> nx.DiGraph:
    """:meth:`EmbeddedStore.tie_view` inside a read transaction."""
    import networkx as nx

    loads = json.loads
    wanted = tuple(dict.fromkeys(fields)) if fields is not None else None
    if wanted is not None and not set(wanted) <= set(TIE_VIEW_COLUMNS):
        wanted = None
    coordinates = [i for i, f in enumerate(wanted or ()) if f in ("lat", "lon")]
    with gc_paused():
        graph = nx.DiGraph()
        node_data, succ, pred = graph._node, graph._succ, graph._pred
        size = conn.execute("SELECT coalesce(max(nid), 0) + 1 FROM node").fetchone()[0]
        ids: list[str | None] = [None] * size  # by nid: a list index instead of a dict lookup per end
        if wanted is None:
            for nid, node_id, props in conn.execute("SELECT nid, id, props FROM node ORDER BY nid"):
                ids[nid] = node_id
                node_data[node_id] = loads(props)
                succ[node_id], pred[node_id] = {}, {}
        else:
            # a NULL column may stand for a property of another type (or none): those nodes are parsed
            columns = ", ".join(wanted)
            parse: list[int] = []
            for nid, node_id, kind, *values in conn.execute(
                    f"SELECT nid, id, kind, {columns} FROM node ORDER BY nid"):  # noqa: S608 - fixed names
                ids[nid] = node_id
                if kind == "organisation" and None not in values \
                        and not any(values[i].is_integer() for i in coordinates):
                    node_data[node_id] = dict(zip(wanted, values, strict=True))
                else:
                    node_data[node_id] = {}  # its place in node order; filled from its properties below
                    parse.append(nid)
                succ[node_id], pred[node_id] = {}, {}
            for chunk in _chunks(parse):  # the properties text only where needed (reading all costs 0.5 s)
                for nid, props in conn.execute(f"SELECT nid, props FROM node WHERE nid IN ({_marks(len(chunk))})",
                                               chunk):
                    node_data[ids[nid]].update(loads(props))  # type: ignore[index]
        # A million ties: read as one array, grouped by end with numpy (stable: each node's neighbours in
        # storage order, as adding them one by one gives), each node's dict made in one call.
        import numpy as np

        flat = np.fromiter(itertools.chain.from_iterable(conn.execute("SELECT source, target FROM edge ORDER BY eid")),
                           dtype=np.int64)
        sources, targets = flat[0::2], flat[1::2]
        shared: dict[str, Any] = {}
        name = ids.__getitem__
        for ends, others, adjacency in ((sources, targets, succ), (targets, sources, pred)):
            order = np.argsort(ends, kind="stable")
            grouped, neighbours = ends[order], others[order].tolist()
            bounds = (np.flatnonzero(np.diff(grouped)) + 1).tolist()
            starts, stops = [0, *bounds], [*bounds, len(neighbours)]
            if not neighbours:
                continue
            for nid, start, stop in zip(grouped[starts].tolist(), starts, stops, strict=True):
                adjacency[ids[nid]] = dict.fromkeys(map(name, neighbours[start:stop]), shared)
    return graph


class _PartialGraph:
    """A graph read piece by piece in one read transaction: nodes with their properties, ties by node."""

    def __init__(self, conn: sqlite3.Connection):
        import networkx as nx

        self.conn = conn
        self.graph = nx.MultiDiGraph()
        self.ids: dict[int, str] = {}  # nid -> id of every node in the graph
        self.nid_of: dict[str, int] = {}
        self.data: dict[int, dict[str, Any]] = {}  # nid -> properties (parsed once)
        self.edges: dict[int, tuple[int, int, str, int]] = {}  # eid -> (source, target, key, pid)
        self.complete: set[int] = set()  # nodes whose ties are all read
        self.protos: dict[int, tuple[str | None, dict[str, Any]]] = {}  # read as ties need them

    def _read_protos(self, pids: Iterable[int]) -> None:
        missing = sorted({p for p in pids if p not in self.protos})
        for chunk in _chunks(missing):
            for pid, rel_type, since, note, synthetic, src, updated, extra in self.conn.execute(
                    "SELECT pid, type, since, note, synthetic, src, updated, extra FROM edge_props "
                    f"WHERE pid IN ({_marks(len(chunk))})", chunk):
                self.protos[pid] = (rel_type, json.loads(extra) if extra is not None else {
                    "type": rel_type, "since": since, "note": note, "synthetic": synthetic == 1, "source": src,
                    "updated": updated})

    def add_nodes(self, nids: Iterable[int]) -> None:
        missing = sorted({n for n in nids if n not in self.ids})
        node_data, succ, pred = self.graph._node, self.graph._succ, self.graph._pred
        for chunk in _chunks(missing):
            for nid, node_id, props in self.conn.execute(
                    f"SELECT nid, id, props FROM node WHERE nid IN ({_marks(len(chunk))})", chunk):
                data = self.data.get(nid)
                if data is None:
                    data = self.data[nid] = json.loads(props)
                self.ids[nid], self.nid_of[node_id] = node_id, nid
                node_data[node_id] = data
                succ[node_id], pred[node_id] = {}, {}

    def add_ties(self, nids: Iterable[int]) -> None:
        """Add every tie of these nodes (and the nodes at their other ends)."""
        wanted = sorted({n for n in nids if n not in self.complete})
        self.complete.update(wanted)
        rows = []
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            rows += self.conn.execute(f"SELECT eid, source, target, key, pid FROM edge WHERE source IN ({marks}) "
                                      f"UNION SELECT eid, source, target, key, pid FROM edge WHERE target IN ({marks})",
                                      (*chunk, *chunk)).fetchall()
        new = [r for r in rows if r[0] not in self.edges]
        self.add_nodes([*wanted, *(r[1] for r in new), *(r[2] for r in new)])
        self._read_protos(r[4] for r in new)
        new.sort()
        for eid, s, t, key, pid in new:
            self.edges[eid] = (s, t, key, pid)
        self._insert(self.graph, new)

    def _insert(self, graph: nx.MultiDiGraph, rows: Iterable[tuple[int, int, int, str, int]]) -> None:
        succ, pred, ids, protos = graph._succ, graph._pred, self.ids, self.protos
        for _eid, s, t, key, pid in rows:
            u, v = ids[s], ids[t]
            rel_type, proto = protos[pid]
            keyed = succ[u].get(v)
            if keyed is None:
                keyed = succ[u][v] = pred[v][u] = {}
            keyed[key or f"{rel_type}|{u}|{v}"] = proto.copy()

    def ordered(self) -> nx.MultiDiGraph:
        """The graph read so far, nodes and ties in storage order (as in the whole graph)."""
        import networkx as nx

        graph = nx.MultiDiGraph()
        node_data, succ, pred = graph._node, graph._succ, graph._pred
        for nid in sorted(self.ids):
            node_id = self.ids[nid]
            node_data[node_id] = self.data[nid]
            succ[node_id], pred[node_id] = {}, {}
        self._insert(graph, ((eid, *self.edges[eid]) for eid in sorted(self.edges)))
        return graph


def _partner_view(conn: sqlite3.Connection, org_id: str, search: dict[str, Any]) -> nx.MultiDiGraph | None:
    """:meth:`EmbeddedStore.partner_view` inside one read transaction; ``None``: read the whole graph."""
    from msonet.graph.partners import VIEW_CANDIDATES, shortlist

    row = conn.execute("SELECT nid FROM node WHERE id = ? AND kind = 'organisation'", (org_id,)).fetchone()
    if row is None:
        return None  # the search reports the id with suggestions from all names
    with gc_paused():
        part = _PartialGraph(conn)
        part.add_ties([row[0]])
        # contacts that are organisations (kind as stored; the column copies the property)
        contacts = [nid for nid in part.ids if nid != row[0] and part.data[nid].get("kind") == "organisation"]
        part.add_ties(contacts)
        chosen = shortlist(part.graph, org_id, _sketches(conn, part.data[row[0]], part.nid_of),
                           lambda ids: part.add_ties(part.nid_of[i] for i in ids), **search)
        if chosen is None:
            return None
        view = part.ordered()
    view.graph[VIEW_CANDIDATES] = chosen
    return view


def _sketches(conn: sqlite3.Connection, mso: dict[str, Any], nid_of: dict[str, int]) -> Iterator[Any]:
    """:class:`msonet.graph.partners.Sketch` of every organisation of a partner type, from its row (no ties).

    The columns copy a property when it is text (coordinates: a number); where a column is empty the
    property itself is read (``->`` gives its JSON text), so every field is the value the search would
    see. The municipality key (``ags``) is read only where a distance may be missing.
    """
    from msonet.graph.partners import PARTNER_TYPES, UNREAD, _point

    types = sorted(PARTNER_TYPES)
    all_ags = _point(mso) is None
    loads = json.loads
    sector_sets: dict[str | None, frozenset[str]] = {}
    for nid, node_id, lat, lon, district, city, sectors, raw_lat, raw_lon, raw_district, raw_city, raw_ags in \
            conn.execute(
                "SELECT nid, id, lat, lon, district, city, props -> '$.sectors', "
                "CASE WHEN lat IS NULL OR lon IS NULL THEN props -> '$.lat' END, "
                "CASE WHEN lat IS NULL OR lon IS NULL THEN props -> '$.lon' END, "
                "CASE WHEN district IS NULL THEN props -> '$.district' END, "
                "CASE WHEN city IS NULL THEN props -> '$.city' END, "
                "CASE WHEN ? OR lat IS NULL OR lon IS NULL THEN props -> '$.ags' END "
                f"FROM node WHERE kind = 'organisation' AND org_type IN ({_marks(len(types))}) ORDER BY nid",
                (all_ags, *types)):
        nid_of.setdefault(node_id, nid)
        found = sector_sets.get(sectors)
        if found is None:
            found = sector_sets[sectors] = frozenset((loads(sectors) if sectors is not None else None) or ())
        point: tuple[float, float] | None
        if lat is not None and lon is not None:
            point = (lat, lon)
        else:
            point = _point({"lat": loads(raw_lat) if raw_lat is not None else None,
                            "lon": loads(raw_lon) if raw_lon is not None else None})
        if district is None and raw_district is not None:
            district = loads(raw_district)
        if city is None and raw_city is not None:
            city = loads(raw_city)
        ags = (loads(raw_ags) if raw_ags is not None else None) if all_ags or point is None else UNREAD
        yield node_id, found, point, district, city, ags  # a graph.partners.Sketch


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: A load of at least this many records into an empty store builds the secondary indexes after the rows.
BULK_RECORDS = 5_000

#: SQLite's page cache of a connection, in KiB (64 MB).
CACHE_KIB = 65_536
#: The page cache of the write transaction of a large first load (:meth:`EmbeddedStore.upsert`), in KiB: the
#: 100k dataset (100,000 organisations, a million ties) makes a database of 244 MB. SQLite takes the memory
#: only as pages are used and gives it back when the cache is made small again.
BULK_CACHE_KIB = 262_144


class _NotEmpty(Exception):
    """Internal: a load meant for an empty store found one that is not (it then runs the usual way)."""


def _apply(conn: sqlite3.Connection, batch: RecordBatch, *, only_empty: bool = False) -> LoadSummary:
    """Write ``batch`` inside the open write transaction of ``conn``; see :meth:`EmbeddedStore.upsert`.

    Reads only the stored rows the batch names: its own nodes (for partial upserts and the id/kind
    check), the nodes its ties name, and the stored ties between two nodes that existed before.
    """
    own = {r.id for r in batch.organisations} | {e.id for e in batch.events}
    named = ({r.source_id for r in batch.relations} | {r.target_id for r in batch.relations}
             | {f.org_id for f in batch.fundings} | {f.programme_id for f in batch.fundings}) - own
    stored: dict[str, tuple[int, str, dict[str, Any]]] = {}  # id -> (nid, kind, props) of the batch's own ids
    nid_of: dict[str, int] = {}
    kind_of: dict[str, str] = {}
    next_nid = conn.execute("SELECT coalesce(max(nid), 0) + 1 FROM node").fetchone()[0]
    empty = next_nid == 1  # nothing stored: no node, hence no tie, to look up
    if only_empty and not empty:
        raise _NotEmpty
    with gc_paused():
        for chunk in _chunks(sorted(own) if not empty else []):
            for node_id, nid, kind, props in conn.execute(
                    f"SELECT id, nid, kind, props FROM node WHERE id IN ({_marks(len(chunk))})", chunk):
                stored[node_id] = (nid, kind, json.loads(props))
                nid_of[node_id], kind_of[node_id] = nid, kind
        for chunk in _chunks(sorted(named) if not empty else []):
            for node_id, nid, kind in conn.execute(
                    f"SELECT id, nid, kind FROM node WHERE id IN ({_marks(len(chunk))})", chunk):
                nid_of[node_id], kind_of[node_id] = nid, kind
    problems = check_references(batch, lambda n: kind_of.get(n) or None)  # incl. one id for two kinds
    if problems:
        raise ValidationError(problems)

    known = set(nid_of.values())  # nodes stored before this load: only ties between two of them can exist
    counts = dict.fromkeys(("organisations", "events", "relations", "fundings"), 0)
    current = {node_id: props for node_id, (_nid, _kind, props) in stored.items()}
    written: dict[str, dict[str, Any]] = {}  # id -> properties to write (new or changed)
    for kind, records in (("organisations", batch.organisations), ("events", batch.events)):
        for record in records:
            before = current.get(record.id)
            props = merge_node(before, record.properties())
            if props == before:
                continue
            counts[kind] += 1
            current[record.id] = written[record.id] = props
            if record.id not in nid_of:
                nid_of[record.id] = next_nid
                next_nid += 1
    for funding in batch.fundings:
        if funding.programme_id not in nid_of and funding.programme_id not in written:
            written[funding.programme_id] = programme_node(funding)
            nid_of[funding.programme_id] = next_nid
            next_nid += 1
    bulk = empty and len(batch) >= BULK_RECORDS
    indexes = _drop_indexes(conn) if bulk else []
    inserts = [(nid_of[i], i, *_node_columns(p)) for i, p in written.items() if i not in stored]
    updates = [(*_node_columns(p), nid_of[i]) for i, p in written.items() if i in stored]
    conn.executemany(_NODE_INSERT, inserts)
    conn.executemany(_NODE_UPDATE, updates)
    for chunk in _chunks([nid_of[i] for i in written if i in stored]):
        conn.execute(f"DELETE FROM node_sector WHERE nid IN ({_marks(len(chunk))})", chunk)
    conn.executemany("INSERT INTO node_sector (nid, pos, sector) VALUES (?, ?, ?)",
                     (row for i, p in written.items() for row in _sector_rows(nid_of[i], p)))
    del inserts, updates

    # the ties in the batch's order: (source id, target id, source nid, target nid); symmetric ones sorted
    # (the same ends and keys as graph.rules.tie_rows gives the Cypher stores; here without building a Tie per
    # relation, since a million relations share a few hundred distinct property sets)
    ends: list[tuple[str, str, int, int]] = []
    lookup: list[tuple[int, int, str, str, str]] = []  # ties that may be stored already
    for rel in batch.relations:
        source, target = tie_ends(rel.rel_type, rel.source_id, rel.target_id)
        s_nid, t_nid = nid_of[source], nid_of[target]
        ends.append((source, target, s_nid, t_nid))
        if s_nid in known and t_nid in known:
            lookup.append((s_nid, t_nid, source, target, relation_key(rel.rel_type, source, target)))
    for f in batch.fundings:
        s_nid, t_nid = nid_of[f.org_id], nid_of[f.programme_id]
        if s_nid in known and t_nid in known:
            lookup.append((s_nid, t_nid, f.org_id, f.programme_id, funding_key(f.id)))
    stored_ties = _stored_ties(conn, lookup) if lookup else {}
    prop_rows = _PropRows(conn)
    # A new tie's row depends only on its record's values: the few hundred distinct ones are turned into
    # rows once (a million relations share them), not once per tie.
    new_tie: dict[tuple[Any, ...], tuple[str | None, str, int]] = {}
    rows: list[tuple[Any, ...]] = []
    for rel, (source, target, s_nid, t_nid) in zip(batch.relations, ends, strict=True):
        before = stored_ties.get((s_nid, t_nid, relation_key(rel.rel_type, source, target))) if stored_ties else None
        if before is None and isinstance(rel.rel_type, str):
            values = (rel.rel_type, rel.since, rel.note, rel.synthetic, type(rel.synthetic), rel.source, rel.updated,
                      rel.weight, type(rel.weight), rel.given)
            entry = new_tie.get(values)
            if entry is None:
                _s, _t, rel_type, short, props = _edge_row(s_nid, t_nid, source, target,
                                                           relation_key(rel.rel_type, source, target),
                                                           merge_node(None, rel.properties()))
                entry = new_tie[values] = (rel_type, short, prop_rows.pid(props))
            rows.append((s_nid, t_nid, *entry))
        else:  # a stored tie keeps what a file left out
            _s, _t, rel_type, short, props = _edge_row(s_nid, t_nid, source, target,
                                                       relation_key(rel.rel_type, source, target),
                                                       merge_node(before, rel.properties()))
            rows.append((s_nid, t_nid, rel_type, short, prop_rows.pid(props)))
    del ends, new_tie
    counts["relations"] = prop_rows.write_rows(rows)
    rows = []
    for f in batch.fundings:
        s_nid, t_nid, key = nid_of[f.org_id], nid_of[f.programme_id], funding_key(f.id)
        merged = merge_node(stored_ties.get((s_nid, t_nid, key)), f.properties())
        _s, _t, rel_type, short, props = _edge_row(s_nid, t_nid, f.org_id, f.programme_id, key, merged)
        rows.append((s_nid, t_nid, rel_type, short, prop_rows.pid(props)))
    counts["fundings"] = prop_rows.write_rows(rows)
    del rows
    for sql in indexes:
        conn.execute(sql)
    if counts["relations"] or counts["fundings"]:
        conn.execute(_DROP_UNUSED_PROPS)  # properties an updated tie no longer uses
    summary = LoadSummary(**counts)
    if not summary.total:
        raise _Unchanged(summary)
    return summary


def _drop_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the secondary indexes of the graph tables (inside the open transaction); their ``CREATE``
    statements, to build them again once the rows are in (one sort each instead of a million
    scattered inserts). The ``UNIQUE`` indexes stay: they check the ids and tie keys while writing."""
    found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                         "AND tbl_name IN ('node', 'node_sector', 'edge') ORDER BY name").fetchall()
    for name, _sql in found:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


def _stored_ties(conn: sqlite3.Connection, ties: list[tuple[int, int, str, str, str]]
                 ) -> dict[tuple[int, int, str], dict[str, Any]]:
    """Stored properties of the ties ``(source nid, target nid, source id, target id, key)`` that exist."""
    found: dict[tuple[int, int, str], dict[str, Any]] = {}
    wanted: dict[int, set[tuple[int, str]]] = {}
    ids: dict[int, str] = {}
    for s, t, source_id, target_id, key in ties:
        wanted.setdefault(s, set()).add((t, key))
        ids[s], ids[t] = source_id, target_id
    for chunk in _chunks(sorted(wanted)):
        for s, t, rel_type, key, since, note, synthetic, src, updated, extra in conn.execute(
                "SELECT e.source, e.target, e.type, e.key, p.since, p.note, p.synthetic, p.src, p.updated, p.extra "
                f"FROM edge AS e JOIN edge_props AS p ON p.pid = e.pid WHERE e.source IN ({_marks(len(chunk))})",
                chunk):
            if t not in ids:
                continue
            full = key or f"{rel_type}|{ids[s]}|{ids[t]}"
            if (t, full) not in wanted[s]:
                continue
            found[(s, t, full)] = json.loads(extra) if extra is not None else {
                "type": rel_type, "since": since, "note": note, "synthetic": synthetic == 1, "source": src,
                "updated": updated}
    return found

