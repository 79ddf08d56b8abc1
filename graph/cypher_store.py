"""The graph in a Cypher server: one ``CypherStore`` over a small runner interface for Neo4j and FalkorDB."""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

import networkx as nx

from msonet.graph import cypher, rules
from msonet.graph.errors import StoreError, StoreUnavailable, ValidationError
from msonet.graph.model import Event, Funding, Organisation, RecordBatch, Relation, merge_node, record_fields
from msonet.graph.rules import OrganisationFilter, batch_ids, check_references, programme_rows, tie_rows
from msonet.graph.settings import hide_password
from msonet.graph.store import LoadSummary, events_in_order, organisation_stats_of

__all__ = [
    "CypherStore",
    "Runner",
    "Step",
    "Neo4jRunner",
    "FalkorDBRunner",
    "connect_neo4j",
    "connect_falkordb",
    "NODE_FIELDS",
    "EDGE_FIELDS",
    "DEFAULT_GRAPH",
]

#: Graph name used on FalkorDB when the URL names none.
DEFAULT_GRAPH = "msonet"

#: Keys of each record schema. Cypher servers do not store nulls, so ``to_networkx`` puts the missing
#: keys back as ``None`` and the graph compares equal to the embedded store's.
NODE_FIELDS: dict[str, tuple[str, ...]] = {
    "organisation": (*record_fields(Organisation), "kind"),
    "event": (*record_fields(Event), "kind"),
    "programme": ("id", "kind", "name", "funding_kind", "source", "updated"),
}
EDGE_FIELDS: dict[str, tuple[str, ...]] = {
    "relation": tuple(Relation("a", "b", "member_of").properties()),
    "funded_by": (*record_fields(Funding), "type"),
}

# a writer's lock lives this long unless refreshed (each load statement refreshes it), so a crashed
# writer blocks others for at most this long
_LOCK_TTL_MS = 120_000
_LOCK_WAIT_S = 150.0


@dataclass(frozen=True)
class Step:
    """One write statement of a load (by name from :mod:`graph.cypher`) and the statements that undo it."""

    name: str
    params: dict[str, Any]
    undo: tuple[tuple[str, dict[str, Any]], ...] = ()


@runtime_checkable
class Runner(Protocol):
    """What ``CypherStore`` needs from a server. Statements are passed by name, never as text."""

    server: str  # "neo4j" or "falkordb"
    where: str  # server and database/graph for messages, never with a password
    requested: set[str]  # names of the statements the store asked for (checked against the linted list)

    def setup(self) -> None:
        """Create indexes/constraints (idempotent) and finish any interrupted load."""

    def read(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read statement; rows as dicts."""

    def write(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one write statement (atomic on its own)."""

    def write_steps(self, steps: Sequence[Step], epoch: str) -> None:
        """Run all ``steps`` as one all-or-nothing unit and advance the revision counter."""

    def clear(self, epoch: str) -> None:
        """Remove all nodes and ties and advance the revision counter."""

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive section for one writer (reads before a load, then the load)."""

    def normalise(self, value: Any) -> Any:
        """A property value as the server will give it back."""

    def close(self) -> None:
        """Release connections."""


# -- the store ------------------------------------------------------------------------------------------
class CypherStore:
    """A :class:`msonet.graph.store.GraphStore` kept in a Cypher server (Neo4j or FalkorDB).

    Nodes carry the labels ``Organisation``, ``Event``, ``Programme`` and flat properties (no nulls);
    ties are relationships of the type ``REL_TYPES[type]`` with a ``key`` property equal to the
    networkx edge key.

    Parameters
    ----------
    runner
        A :class:`Neo4jRunner` or :class:`FalkorDBRunner` (see :func:`connect_neo4j`,
        :func:`connect_falkordb`).
    """

    def __init__(self, runner: Runner):
        self.runner = runner
        self.runner.setup()

    # -- writing --------------------------------------------------------------------------------------
    def upsert(self, batch: RecordBatch) -> LoadSummary:
        with self.runner.writing():
            return self._upsert(batch)

    def _upsert(self, batch: RecordBatch) -> LoadSummary:
        stored_kinds = self._node_kinds(batch_ids(batch))
        problems = check_references(batch, stored_kinds.get)
        if problems:
            raise ValidationError(problems)

        clean = self._clean
        # records and ties in load order (graph.rules); each carries only the fields its file gave (merged
        # below, graph.model.merge_node); ties keep their key as a property on the server
        node_list: dict[str, list[tuple[str, dict[str, Any]]]] = {"organisation": [], "event": []}
        for kind, node_id, props in rules.node_rows(batch):
            node_list[kind].append((node_id, props))
        programmes = programme_rows(batch)
        ties = [(t.counter, t.key, {"source": t.source, "target": t.target, "type": t.type,
                                    "props": {**t.props, "key": t.key}}) for t in tie_rows(batch)]
        edge_ends = {key: row for _, key, row in ties}

        before_nodes = {kind: self._nodes_by_id(kind, list(dict(items))) for kind, items in node_list.items()}
        stored_programmes = self._nodes_by_id("programme", list(programmes))
        before_edges = self._edges_by_key([{"source": r["source"], "key": k} for k, r in edge_ends.items()])

        # each record merges over the state just before it (the stored node, or an earlier record of this
        # batch), as in the embedded store; it counts when that changes the state. Nodes are then written
        # whole (SET n = props), so a cleared value disappears from the server.
        counts = dict.fromkeys(("organisations", "events", "relations", "fundings"), 0)
        node_rows: dict[str, dict[str, dict[str, Any]]] = {}
        for kind, items in node_list.items():
            state = dict(before_nodes[kind])
            for node_id, props in items:
                merged = clean(merge_node(state.get(node_id), props))
                if state.get(node_id) != merged:
                    counts[kind + "s"] += 1
                    state[node_id] = merged
            node_rows[kind] = {i: state[i] for i, _ in items}
        state_edges = dict(before_edges)
        for counter, key, row in ties:
            merged = clean(merge_node(state_edges.get(key), row["props"]))
            if state_edges.get(key) != merged:
                counts[counter] += 1
                state_edges[key] = merged
        summary = LoadSummary(**counts)
        if not summary.total:
            return summary

        steps: list[Step] = []
        for kind in ("organisation", "event"):
            changed = [(i, p) for i, p in node_rows[kind].items() if before_nodes[kind].get(i) != p]
            steps += _node_steps(kind, changed, before_nodes[kind])
        new_programmes = [(i, clean(p)) for i, p in programmes.items() if i not in stored_programmes]
        steps += _node_steps("programme", new_programmes, {})
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, ends in edge_ends.items():
            row = {**ends, "props": state_edges[key]}
            if before_edges.get(key) != row["props"]:
                by_type[row["type"]].append({"source": row["source"], "target": row["target"], "key": key,
                                             "props": row["props"]})
        for rel_type in sorted(by_type):
            steps += _edge_steps(rel_type, by_type[rel_type], before_edges)
        self.runner.write_steps(steps, epoch=_new_epoch())
        return summary

    def remove_organisation(self, org_id: str) -> bool:
        with self.runner.writing():
            rows = self.runner.write("remove_organisation", {"id": org_id, "epoch": _new_epoch()})
        return bool(rows)

    def clear(self) -> None:
        with self.runner.writing():
            self.runner.clear(_new_epoch())

    def close(self) -> None:
        self.runner.close()

    # -- reading --------------------------------------------------------------------------------------
    def get_node(self, node_id: str) -> dict[str, Any] | None:
        rows = self.runner.read("get_node", {"id": node_id})
        return self._node_attrs(rows[0]["props"]) if rows else None

    def find_organisations(self, *, org_type=None, district=None, regierungsbezirk=None, sector=None,
                           city=None, name_contains=None, limit=None) -> list[dict[str, Any]]:
        wanted = OrganisationFilter(org_type, district, regierungsbezirk, sector, city, name_contains, limit)
        # the exact filters on the server; all of them again (name and city case-folded) in graph.rules
        rows = self.runner.read("find_organisations", wanted.exact())
        return wanted.select(self._node_attrs(row["props"], "organisation") for row in rows)

    def find_events(self) -> list[dict[str, Any]]:
        return events_in_order(self._node_attrs(row["props"], "event") for row in self.runner.read("find_events"))

    def neighbourhood(self, node_id: str, hops: int = 1) -> nx.MultiDiGraph:
        seen = self._node_kinds({node_id})
        frontier = dict(seen)
        for _ in range(max(0, int(hops))):
            found: dict[str, str] = {}
            for kind, ids in _group_by_kind(frontier).items():
                for row in self.runner.read(f"neighbours:{kind}", {"ids": ids}):
                    if row["id"] not in seen and row["kind"] in cypher.LABELS:
                        found[row["id"]] = row["kind"]
            if not found:
                break
            seen.update(found)
            frontier = found
        graph = nx.MultiDiGraph()
        for kind, ids in _group_by_kind(seen).items():
            for props in self._nodes_by_id(kind, ids).values():
                graph.add_node(props["id"], **self._node_attrs(props, kind))
        orgs = _group_by_kind(seen).get("organisation", [])
        for row in self._read_batched("edges_from", orgs):
            if row["target"] in seen:
                self._add_edge(graph, row)
        return graph

    def to_networkx(self) -> nx.MultiDiGraph:
        graph = nx.MultiDiGraph()
        for kind in cypher.LABELS:
            nodes = [self._node_attrs(row["props"], kind) for row in self.runner.read(f"all_nodes:{kind}")]
            nodes.sort(key=lambda d: d["id"])
            graph.add_nodes_from((d["id"], d) for d in nodes)
        edges = self.runner.read("all_edges")
        edges.sort(key=lambda row: (row["source"], row["target"], row["props"].get("key", "")))
        for row in edges:
            self._add_edge(graph, row)
        return graph

    def graph_view(self) -> nx.MultiDiGraph:
        """The whole graph (read from the server each time; the app keeps it per data version)."""
        return self.to_networkx()

    def tie_view(self, fields: Iterable[str] | None = None) -> nx.MultiDiGraph:
        """The whole graph: the servers have no cheaper read of who is tied to whom."""
        return self.graph_view()

    def funding_view(self) -> nx.MultiDiGraph:
        """The whole graph (it holds the ``funded_by`` ties with all the rest)."""
        return self.graph_view()

    def organisation_stats(self) -> dict[str, Any]:
        return organisation_stats_of(self.to_networkx())

    def partner_view(self, org_id: str, **_search: Any) -> nx.MultiDiGraph:
        return self.to_networkx()

    def counts(self) -> dict[str, int]:
        result = {f"{kind}s": int(self.runner.read(f"count:{kind}")[0]["n"]) for kind in cypher.LABELS}
        result["relations"] = int(self.runner.read("count_relations")[0]["n"])
        return result

    def data_version(self) -> str:
        rows = self.runner.read("revision")
        revision, epoch = (rows[0]["revision"], rows[0]["epoch"]) if rows else (0, "")
        return f"{self.runner.server}:{self.runner.where}:{epoch}:{revision}"

    # -- helpers ----------------------------------------------------------------------------------------
    def _clean(self, props: dict[str, Any]) -> dict[str, Any]:
        """Properties as the server keeps them: no nulls, tuples as lists, values normalised."""
        return {k: self.runner.normalise(v) for k, v in props.items() if v is not None}

    def _read_batched(self, name: str, ids: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), cypher.BATCH_ROWS):
            rows += self.runner.read(name, {"ids": ids[start:start + cypher.BATCH_ROWS]})
        return rows

    def _node_kinds(self, ids: set[str]) -> dict[str, str]:
        return {row["id"]: row["kind"] for row in self._read_batched("node_kinds", sorted(ids))}

    def _nodes_by_id(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {row["props"]["id"]: dict(row["props"]) for row in self._read_batched(f"nodes_by_id:{kind}", ids)}

    def _edges_by_key(self, rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(rows), cypher.BATCH_ROWS):
            for row in self.runner.read("edges_by_key", {"rows": rows[start:start + cypher.BATCH_ROWS]}):
                found[row["props"]["key"]] = dict(row["props"])
        return found

    @staticmethod
    def _node_attrs(props: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
        kind = kind or props.get("kind", "organisation")
        attrs: dict[str, Any] = dict.fromkeys(NODE_FIELDS.get(kind, ()))
        attrs.update(props)
        attrs["kind"] = kind
        return attrs

    @staticmethod
    def _add_edge(graph: nx.MultiDiGraph, row: dict[str, Any]) -> None:
        props = dict(row["props"])
        key = props.pop("key")
        schema = EDGE_FIELDS["funded_by" if props.get("type") == "funded_by" else "relation"]
        attrs: dict[str, Any] = dict.fromkeys(schema)
        attrs.update(props)
        graph.add_edge(row["source"], row["target"], key, **attrs)

    def __repr__(self) -> str:
        return f"CypherStore({self.runner.server}:{self.runner.where})"


def _new_epoch() -> str:
    return uuid.uuid4().hex[:12]


def _group_by_kind(kinds: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for node_id, kind in sorted(kinds.items()):
        groups[kind].append(node_id)
    return groups


def _chunks(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), cypher.BATCH_ROWS):
        yield rows[start:start + cypher.BATCH_ROWS]


def _node_steps(kind: str, changed: list[tuple[str, dict[str, Any]]],
                before: dict[str, dict[str, Any]]) -> list[Step]:
    created = [{"id": i, "props": p} for i, p in changed if i not in before]
    updated = [{"id": i, "props": p} for i, p in changed if i in before]
    steps = [Step(f"create_nodes:{kind}", {"rows": chunk},
                  ((f"undo_delete_nodes:{kind}", {"ids": [r["id"] for r in chunk]}),))
             for chunk in _chunks(created)]
    steps += [Step(f"merge_nodes:{kind}", {"rows": chunk},
                   ((f"merge_nodes:{kind}", {"rows": [{"id": r["id"], "props": before[r["id"]]} for r in chunk]}),))
              for chunk in _chunks(updated)]
    return steps


def _edge_steps(rel_type: str, rows: list[dict[str, Any]], before: dict[str, dict[str, Any]]) -> list[Step]:
    created = [r for r in rows if r["key"] not in before]
    updated = [r for r in rows if r["key"] in before]
    steps = [Step(f"create_edges:{rel_type}", {"rows": chunk},
                  (("undo_delete_edges", {"rows": [{"source": r["source"], "key": r["key"]} for r in chunk]}),))
             for chunk in _chunks(created)]
    steps += [Step(f"merge_edges:{rel_type}", {"rows": chunk},
                   ((f"merge_edges:{rel_type}", {"rows": [{**r, "props": before[r["key"]]} for r in chunk]}),))
              for chunk in _chunks(updated)]
    return steps


# -- runners ------------------------------------------------------------------------------------------------
class _BaseRunner:
    server = ""

    def __init__(self, where: str):
        self.where = where
        self.requested: set[str] = set()
        self._statements = cypher.statements(self.server)

    def _text(self, name: str) -> str:
        # the only way a runner gets Cypher text: by name from graph.cypher
        return self._statements[name]

    def normalise(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return [self.normalise(v) for v in value]
        if isinstance(value, list):
            return [self.normalise(v) for v in value]
        return value

    def writing(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class Neo4jRunner(_BaseRunner):
    """Runs statements on Neo4j 5 with the official driver.

    Reads use ``driver.execute_query``; a load is one managed write transaction
    (``session.execute_write``) holding all its ``UNWIND`` batches, so a failed load changes nothing.

    Parameters
    ----------
    driver
        A ``neo4j.Driver`` (see :func:`connect_neo4j`).
    database
        Name of the database.
    where
        Description for messages (URI and database, no password).
    """

    server = "neo4j"

    def __init__(self, driver: Any, database: str = "neo4j", where: str | None = None):
        super().__init__(where or f"{database}")
        self.driver = driver
        self.database = database

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        import neo4j.exceptions as ne

        try:
            yield
        except (ne.ServiceUnavailable, ne.SessionExpired) as exc:
            raise StoreUnavailable(f"Der Neo4j-Server ({self.where}) ist nicht erreichbar. Bitte prüfen, ob er "
                                   "läuft und NEO4J_URI stimmt.") from exc
        except ne.AuthError as exc:
            raise StoreUnavailable(f"Neo4j ({self.where}) hat die Anmeldung abgelehnt. Bitte NEO4J_USERNAME und "
                                   "NEO4J_PASSWORD prüfen.") from exc
        except ne.Neo4jError as exc:
            if "DatabaseNotFound" in (exc.code or ""):
                raise StoreUnavailable(f"Die Datenbank „{self.database}“ gibt es auf dem Neo4j-Server nicht. "
                                       "Bitte NEO4J_DATABASE prüfen.") from exc
            raise StoreError(f"Neo4j ({self.where}) hat die Anfrage abgelehnt: {exc.message}. Es wurde nichts "
                             "geändert.") from exc
        except ne.DriverError as exc:
            raise StoreUnavailable(f"Verbindung zu Neo4j ({self.where}) fehlgeschlagen ({type(exc).__name__}). "
                                   "Bitte NEO4J_URI, NEO4J_USERNAME und NEO4J_PASSWORD prüfen.") from exc

    def setup(self) -> None:
        with self._guard():
            for name in self._statements:
                if name.startswith("schema:"):
                    self.driver.execute_query(self._text(name), database_=self.database)

    def _run(self, name: str, params: dict[str, Any] | None, write: bool) -> list[dict[str, Any]]:
        import neo4j

        self.requested.add(name)
        routing = neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ
        with self._guard():
            records, _, _ = self.driver.execute_query(self._text(name), params or {}, database_=self.database,
                                                      routing_=routing)
        return [record.data() for record in records]

    def read(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._run(name, params, write=False)

    def write(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._run(name, params, write=True)

    def write_steps(self, steps: Sequence[Step], epoch: str) -> None:
        self.requested.update(s.name for s in steps)
        self.requested.add("bump_revision")
        texts = [(self._text(s.name), s.params) for s in steps]
        bump = self._text("bump_revision")

        def work(tx: Any) -> None:
            for text, params in texts:
                tx.run(text, params).consume()
            tx.run(bump, {"epoch": epoch}).consume()

        with self._guard(), self.driver.session(database=self.database) as session:
            session.execute_write(work)

    def clear(self, epoch: str) -> None:
        self.write("clear", {"epoch": epoch})

    def close(self) -> None:
        self.driver.close()


class FalkorDBRunner(_BaseRunner):
    """Runs statements on FalkorDB with its own client (``falkordb`` package).

    FalkorDB applies each statement at once (no multi-statement transactions), so a load is made
    all-or-nothing with an undo journal: before each write statement, a ``MsonetJournal`` node with
    the statements that undo it is written; the load's last statement deletes the journal and advances
    the revision together (the commit point). If a statement fails, the journal is played backwards;
    if even that fails (server gone), the next writer plays it back before writing. A lock key
    in the same Redis database keeps writers one at a time.

    Parameters
    ----------
    db
        A ``falkordb.FalkorDB`` client.
    graph
        Name of the graph.
    where
        Description for messages (host, port, graph; no password).
    """

    server = "falkordb"

    def __init__(self, db: Any, graph: str = DEFAULT_GRAPH, where: str | None = None):
        super().__init__(where or graph)
        self.db = db
        self.graph_name = graph
        self.graph = db.select_graph(graph)
        self._lock_key = f"msonet-lock:{graph}"
        self._lock_token: str | None = None

    def _guard(self) -> contextlib.AbstractContextManager[None]:
        return _falkordb_errors(self.where)

    def _run(self, name: str, params: dict[str, Any] | None = None, read_only: bool = False) -> list[dict]:
        text = self._text(name)
        with self._guard():
            result = (self.graph.ro_query if read_only else self.graph.query)(text, params or {})
        names = [column[1] for column in result.header]
        return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in result.result_set]

    def setup(self) -> None:
        with self._guard():
            self.db.connection.ping()
        self.setup_indexes()
        with self.writing():
            pass  # taking the lock plays back a journal left by an interrupted load

    def setup_indexes(self) -> None:
        """Create the id indexes, ignoring those that exist."""
        for name in self._statements:
            if name.startswith("schema:"):
                try:
                    self._run(name)
                except StoreError as exc:
                    if "already indexed" not in str(exc):
                        raise

    def normalise(self, value: Any) -> Any:
        # FalkorDB returns doubles with 15 significant digits; store them that way so that what is
        # read back equals what was written (and an identical re-load counts as unchanged)
        if isinstance(value, float) and math.isfinite(value):
            return float(format(value, ".15g"))
        return super().normalise(value)

    def read(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.requested.add(name)
        return self._run(name, params, read_only=True)

    def write(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.requested.add(name)
        return self._run(name, params)

    # -- all-or-nothing loads ---------------------------------------------------------------------------
    def write_steps(self, steps: Sequence[Step], epoch: str) -> None:
        self.requested.update(s.name for s in steps)
        load = uuid.uuid4().hex
        done = 0
        try:
            for seq, step in enumerate(steps):
                undo = json.dumps([[name, params] for name, params in step.undo], ensure_ascii=False)
                self._keep_lock()
                self._run("journal_write", {"load": load, "seq": seq, "undo": undo})
                done = seq + 1
                self._run(step.name, step.params)
            self._run("journal_commit", {"load": load, "epoch": epoch})
        except StoreError as exc:
            if done:
                self._roll_back(load, [s.undo for s in steps[:done]])
            else:
                with contextlib.suppress(StoreError):
                    self._run("journal_drop", {"load": load})
            raise StoreError(f"{exc} Das Laden wurde zurückgenommen; es wurde nichts geändert.") from exc

    def _roll_back(self, load: str, undos: list[tuple[tuple[str, dict[str, Any]], ...]]) -> None:
        # newest first; undoing a statement that never ran is harmless (deletes/restores nothing)
        for undo in reversed(undos):
            for name, params in undo:
                self._run(name, params)
        self._run("journal_drop", {"load": load})

    def recover(self) -> int:
        """Play back journals of interrupted loads (call only while holding the lock); their number."""
        entries: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row in self._run("journal_read"):
            entries[row["load"]].append((int(row["seq"]), row["undo"]))
        for load, items in entries.items():
            items.sort()
            undos = [tuple((name, params) for name, params in json.loads(text)) for _, text in items]
            self._roll_back(load, undos)
        return len(entries)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        if self._lock_token is not None:  # re-entrant within one runner
            yield
            return
        token = secrets.token_hex(8)
        deadline = time.monotonic() + _LOCK_WAIT_S
        with self._guard():
            while not self.db.connection.set(self._lock_key, token, nx=True, px=_LOCK_TTL_MS):
                if time.monotonic() > deadline:
                    raise StoreError(f"In FalkorDB ({self.where}) läuft seit über {int(_LOCK_WAIT_S)} s ein anderer "
                                     "Ladevorgang. Bitte später erneut versuchen.")
                time.sleep(0.05)
        self._lock_token = token
        try:
            self.recover()
            yield
        finally:
            self._lock_token = None
            with contextlib.suppress(StoreError), self._guard():
                self.db.connection.eval(_UNLOCK_LUA, 1, self._lock_key, token)

    def clear(self, epoch: str) -> None:
        # one command removes the whole graph (atomic, fast, and clear of FalkorDB's label-deletion bug);
        # the revision node comes back with a new epoch, so data_version never repeats an earlier value
        self.requested.add("clear")
        with self._guard():
            if self.graph_name in self.db.list_graphs():
                self.graph.delete()
        self.setup_indexes()
        self._run("bump_revision", {"epoch": epoch})

    def _keep_lock(self) -> None:
        if self._lock_token is not None:
            with self._guard():
                self.db.connection.pexpire(self._lock_key, _LOCK_TTL_MS)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.connection.close()


_UNLOCK_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


@contextlib.contextmanager
def _falkordb_errors(where: str) -> Iterator[None]:
    """Client errors as msonet errors with a German message naming what to check (never the password)."""
    import redis.exceptions as re_

    try:
        yield
    except re_.AuthenticationError as exc:
        raise StoreUnavailable(f"FalkorDB ({where}) hat die Anmeldung abgelehnt. Bitte Benutzer und Passwort in "
                               "FALKORDB_URL prüfen.") from exc
    except (re_.ConnectionError, re_.TimeoutError) as exc:
        raise StoreUnavailable(f"Der FalkorDB-Server ({where}) ist nicht erreichbar. Bitte prüfen, ob er läuft "
                               "und Host und Port in FALKORDB_URL stimmen.") from exc
    except re_.ResponseError as exc:
        text = str(exc)
        if text.startswith(("NOAUTH", "WRONGPASS")) or "uthentication" in text:
            raise StoreUnavailable(f"FalkorDB ({where}) verlangt eine Anmeldung. Bitte das Passwort in "
                                   "FALKORDB_URL prüfen.") from exc
        raise StoreError(f"FalkorDB ({where}) hat die Anfrage abgelehnt: {text}.") from exc
    except re_.RedisError as exc:
        raise StoreUnavailable(f"Verbindung zu FalkorDB ({where}) fehlgeschlagen ({type(exc).__name__}). Bitte "
                               "FALKORDB_URL prüfen.") from exc


def _plain(value: Any) -> Any:
    """Client values as plain Python (FalkorDB maps arrive as OrderedDict)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- connecting -------------------------------------------------------------------------------------------------
_BOLT_SCHEMES = frozenset({"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"})


def connect_neo4j(uri: str, username: str = "neo4j", password: str | None = None, database: str = "neo4j",
                  *, timeout: float = 5.0) -> CypherStore:
    """Open a Neo4j 5 server as a store (creates the uniqueness constraints if missing).

    Raises
    ------
    graph.errors.StoreUnavailable
        Server unreachable, login refused or database missing; the message says which setting to check
        (never the password).
    """
    import neo4j
    import neo4j.exceptions as ne

    where = f"{hide_password(uri)}, Datenbank {database}"
    if urlsplit(uri).scheme.lower() not in _BOLT_SCHEMES:
        raise StoreUnavailable(f"Die Neo4j-Adresse „{hide_password(uri)}“ ist ungültig. Bitte NEO4J_URI prüfen, "
                               "z.B. neo4j://localhost:7687 (erlaubt: " + ", ".join(sorted(_BOLT_SCHEMES)) + ").")
    try:
        driver = neo4j.GraphDatabase.driver(uri, auth=(username, password or ""), connection_timeout=timeout,
                                            connection_acquisition_timeout=timeout,
                                            max_transaction_retry_time=timeout)
    except (ne.ConfigurationError, ValueError) as exc:
        raise StoreUnavailable(f"Die Neo4j-Adresse „{hide_password(uri)}“ ist ungültig. Bitte NEO4J_URI prüfen, "
                               "z.B. neo4j://localhost:7687.") from exc
    runner = Neo4jRunner(driver, database, where)
    try:
        with runner._guard():
            driver.verify_connectivity()
        return CypherStore(runner)
    except StoreUnavailable as exc:
        driver.close()
        raise StoreUnavailable(f"{exc} (Benutzer: {username}; geprüft werden NEO4J_URI, NEO4J_USERNAME, "
                               "NEO4J_PASSWORD, NEO4J_DATABASE)") from exc.__cause__
    except BaseException:
        driver.close()
        raise


def connect_falkordb(url: str, *, timeout: float = 5.0) -> CypherStore:
    """Open a FalkorDB server as a store; the graph name is the URL path (default ``msonet``).

    ``url`` looks like ``redis://[:password@]host:6379/msonet`` (also ``rediss://``, ``falkor://``,
    ``falkors://``).

    Raises
    ------
    graph.errors.StoreUnavailable
        Server unreachable, password refused or no FalkorDB module; never shows the password.
    """
    from falkordb import FalkorDB

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"redis", "rediss", "falkor", "falkors"} or not parts.hostname:
        raise StoreUnavailable(f"Die FalkorDB-Adresse „{hide_password(url)}“ ist ungültig. Bitte FALKORDB_URL "
                               "prüfen, z.B. redis://localhost:6379/msonet.")
    try:
        port = parts.port or 6379
    except ValueError as exc:
        raise StoreUnavailable(f"Der Port in „{hide_password(url)}“ ist ungültig. Bitte FALKORDB_URL "
                               "prüfen.") from exc
    graph = unquote(parts.path.strip("/")) or DEFAULT_GRAPH
    where = f"{parts.hostname}:{port}/{graph}"
    runner: FalkorDBRunner | None = None
    try:
        with _falkordb_errors(where):
            db = FalkorDB(host=parts.hostname, port=port,
                          username=unquote(parts.username) if parts.username else None,
                          password=unquote(parts.password) if parts.password else None,
                          socket_connect_timeout=timeout, socket_timeout=max(timeout, 300.0),
                          ssl=scheme in {"rediss", "falkors"})
        runner = FalkorDBRunner(db, graph, where)
        with runner._guard():
            modules = db.connection.execute_command("MODULE", "LIST")
        if not any("graph" in str(m).lower() for m in modules):
            raise StoreUnavailable(f"Auf {parts.hostname}:{port} läuft ein Redis-Server ohne FalkorDB-Modul. "
                                   "Bitte FALKORDB_URL prüfen oder FalkorDB starten (siehe docs/graph-servers.md).")
        return CypherStore(runner)
    except BaseException:
        if runner is not None:
            runner.close()
        raise
