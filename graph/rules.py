"""The contract's rules, once for every store: id/kind checks, the canonical node and tie rows of a load,
and the organisation filter.

Pure functions without any store behind them. Each store (embedded SQLite, the former JSON file store,
Neo4j and FalkorDB) asks them what a batch means and only decides how to keep it, so the stores cannot
drift apart in what they accept, what a tie is called or which organisations a search finds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from msonet.graph.errors import Problem
from msonet.graph.model import Funding, RecordBatch, relation_key, tie_ends
from msonet.graph.vocabulary import EVENT_RELATIONS, FUNDING_RELATION, NODE_KINDS

__all__ = [
    "NodeKind",
    "kind_conflicts",
    "check_references",
    "batch_ids",
    "tie_ends",
    "funding_key",
    "programme_node",
    "programme_rows",
    "node_rows",
    "Tie",
    "tie_rows",
    "OrganisationFilter",
    "organisation_matcher",
]

#: ``node_kind(node_id)``: the stored kind of a node (``"organisation"``, ``"event"``, ``"programme"``) or None.
NodeKind = Callable[[str], "str | None"]

# where a record without a source file comes from, in messages
_NO_FILE = {"organisation": "Organisationen", "event": "Veranstaltungen", "relation": "Beziehungen",
            "funding": "Förderungen"}


def _kind_name(kind: str) -> str:
    return NODE_KINDS.get(kind, kind)


def _id_of(kind: str) -> str:
    """„die Id …“ of a node of ``kind``, in the genitive: einer Organisation, eines Förderprogramms."""
    return "eines Förderprogramms" if kind == "programme" else f"einer {_kind_name(kind)}"


def kind_conflicts(batch: RecordBatch, node_kind: NodeKind) -> list[Problem]:
    """Ids that ``batch`` gives to two kinds of node, within the batch or against the stored data.

    One id names one node: an event with the id of an organisation would replace it, a programme with
    an organisation's id would turn funding into a tie between organisations. Checked: organisations and
    events of the batch among themselves and against the stored kind, and the programme of each funding
    record against the organisations and events of the batch and the store.

    Examples
    --------
    >>> from msonet.graph.model import Event, Organisation
    >>> batch = RecordBatch(organisations=[Organisation("x", "Verein", "mso", source="orgs.csv")],
    ...                     events=[Event("x", "Fest", "festival", "2024-05-01", source="events.csv")])
    >>> [(p.file, p.value) for p in kind_conflicts(batch, lambda node_id: None)]
    [('events.csv', 'x')]
    """
    problems = []
    first: dict[str, tuple[str, str]] = {}
    for kind, records in (("organisation", batch.organisations), ("event", batch.events)):
        for record in records:
            where = record.source or _NO_FILE[kind]
            seen = first.setdefault(record.id, (kind, where))
            if seen[0] != kind:
                problems.append(Problem(where, None, "id", record.id,
                                        f"eine eigene Id für die {_kind_name(kind)} – „{record.id}“ ist in "
                                        f"derselben Ladung schon die Id {_id_of(seen[0])} (in "
                                        f"{seen[1]}); bitte eine der beiden Ids ändern"))
                continue
            stored = node_kind(record.id)
            if stored is not None and stored != kind:
                problems.append(Problem(where, None, "id", record.id,
                                        f"eine eigene Id für die {_kind_name(kind)} – „{record.id}“ ist im "
                                        f"Speicher schon die Id {_id_of(stored)}; "
                                        "bitte eine andere Id wählen"))
    for funding in batch.fundings:
        programme_id = funding.programme_id
        seen_in_batch = first.get(programme_id)
        other = seen_in_batch[0] if seen_in_batch else node_kind(programme_id)
        if other is not None and other != "programme":
            problems.append(Problem(funding.source or _NO_FILE["funding"], None, "programme", funding.programme,
                                    f"ein Programmname, dessen Id „{programme_id}“ nicht schon die Id "
                                    f"{_id_of(other)} ist – bitte den Programmnamen ergänzen oder die Id "
                                    "der anderen Einträge ändern"))
    return problems


def check_references(batch: RecordBatch, node_kind: NodeKind) -> list[Problem]:
    """Every problem with the ids of ``batch``: ids used for two kinds of node (:func:`kind_conflicts`),
    ties whose ends exist neither in the batch nor in the store (or are of the wrong kind), ties of a
    node to itself, and funding records of unknown organisations.

    ``node_kind(node_id)`` returns the stored kind or ``None`` (see :data:`NodeKind`). A store raises
    ``ValidationError(problems)`` when the list is not empty and then writes nothing.

    Examples
    --------
    >>> from msonet.graph.model import Relation
    >>> batch = RecordBatch(relations=[Relation("a", "b", "member_of", source="ties.csv")])
    >>> [(p.column, p.value) for p in check_references(batch, {"a": "organisation"}.get)]
    [('target_id', 'b')]
    """
    conflicts = kind_conflicts(batch, node_kind)
    kinds = {o.id: "organisation" for o in batch.organisations}
    kinds.update({e.id: "event" for e in batch.events})

    def kind_of(node_id: str) -> str | None:
        return kinds.get(node_id) or node_kind(node_id)

    problems = []
    for rel in batch.relations:
        where = rel.source or _NO_FILE["relation"]
        want_target = "event" if rel.rel_type in EVENT_RELATIONS else "organisation"
        for column, node_id, want in (("source_id", rel.source_id, "organisation"),
                                      ("target_id", rel.target_id, want_target)):
            if kind_of(node_id) != want:
                problems.append(Problem(where, None, column, node_id,
                                        f"eine bekannte {_kind_name(want)} (Id oder Name) – bitte zuerst laden"))
        if rel.source_id == rel.target_id:
            problems.append(Problem(where, None, "target_id", rel.target_id,
                                    "eine andere Organisation als die Quelle (keine Beziehung zu sich selbst)"))
    for funding in batch.fundings:
        if kind_of(funding.org_id) != "organisation":
            problems.append(Problem(funding.source or _NO_FILE["funding"], None, "org_id", funding.org_id,
                                    "eine bekannte Organisation (Id oder Name) – bitte zuerst laden"))
    return conflicts + problems


def batch_ids(batch: RecordBatch) -> set[str]:
    """Every id ``batch`` names: its own nodes, the ends of its ties, and its funded organisations and
    programmes (what a store looks up before :func:`check_references`)."""
    ids = {o.id for o in batch.organisations} | {e.id for e in batch.events}
    ids |= {r.source_id for r in batch.relations} | {r.target_id for r in batch.relations}
    ids |= {f.org_id for f in batch.fundings} | {f.programme_id for f in batch.fundings}
    return ids


# -- canonical rows ------------------------------------------------------------------------------------------
def funding_key(funding_id: str) -> str:
    """The key of the tie of one funding record (organisation -> programme).

    >>> funding_key("f-1")
    'funded_by|f-1'
    """
    return f"{FUNDING_RELATION}|{funding_id}"


def programme_node(funding: Funding) -> dict[str, Any]:
    """The properties of the programme node a funding record names (written once, when it is new)."""
    return {"id": funding.programme_id, "kind": "programme", "name": funding.programme,
            "funding_kind": funding.funding_kind, "source": funding.source, "updated": funding.updated}


def programme_rows(batch: RecordBatch) -> dict[str, dict[str, Any]]:
    """Programme id -> :func:`programme_node` of the first funding record naming it, in load order."""
    rows: dict[str, dict[str, Any]] = {}
    for funding in batch.fundings:
        if funding.programme_id not in rows:
            rows[funding.programme_id] = programme_node(funding)
    return rows


def node_rows(batch: RecordBatch) -> list[tuple[str, str, dict[str, Any]]]:
    """``(kind, id, incoming properties)`` of every organisation, then every event, in load order.

    The properties hold only the fields the record's file gave; a store merges them over the state just
    before (:func:`msonet.graph.model.merge_node`), so a repeated record counts each change and the last wins.
    """
    rows = [("organisation", o.id, o.properties()) for o in batch.organisations]
    rows += [("event", e.id, e.properties()) for e in batch.events]
    return rows


@dataclass(frozen=True, slots=True)
class Tie:
    """One tie of a load as every store keeps it."""

    source: str
    target: str
    key: str
    type: str
    props: dict[str, Any]
    #: the :class:`msonet.graph.store.LoadSummary` count it adds to: ``"relations"`` or ``"fundings"``
    counter: str


def tie_rows(batch: RecordBatch) -> list[Tie]:
    """The ties of ``batch``: every relation (ends sorted for symmetric types, key from
    :func:`msonet.graph.model.relation_key`), then every funding record (organisation -> programme,
    key from :func:`funding_key`), in load order.

    >>> from msonet.graph.model import Relation
    >>> [(t.source, t.target, t.key) for t in tie_rows(RecordBatch(relations=[Relation("b", "a", "tandem_partner")]))]
    [('a', 'b', 'tandem_partner|a|b')]
    """
    ties = []
    for rel in batch.relations:
        source, target = tie_ends(rel.rel_type, rel.source_id, rel.target_id)
        ties.append(Tie(source, target, relation_key(rel.rel_type, source, target), rel.rel_type,
                        rel.properties(), "relations"))
    for funding in batch.fundings:
        ties.append(Tie(funding.org_id, funding.programme_id, funding_key(funding.id), FUNDING_RELATION,
                        funding.properties(), "fundings"))
    return ties


# -- the organisation filter ---------------------------------------------------------------------------------
def _choice(values: Collection[str] | str | None) -> frozenset[str] | None:
    """The accepted values of one filter: ``None`` when nothing (or only empty text) is given."""
    if values is None:
        return None
    found = frozenset([values] if isinstance(values, str) else values) - {""}
    return found or None


def organisation_matcher(*, org_types: Collection[str] | str | None = None,
                         sectors: Collection[str] | str | None = None,
                         cities: Collection[str] | str | None = None,
                         districts: Collection[str] | str | None = None,
                         regierungsbezirke: Collection[str] | str | None = None,
                         name_contains: str | None = None) -> Callable[[Mapping[str, Any]], bool]:
    """The one organisation filter: a test of node properties, for store searches and network views.

    A node passes when it is an organisation whose type, district and Regierungsbezirk are among the given
    ones, that lists one of the given sectors, whose city is one of the given ones (case-folded) and whose
    name contains ``name_contains`` (case-folded, spaces around it ignored). A filter given as ``None``, as
    empty text or as an empty collection does not filter.

    >>> keep = organisation_matcher(org_types={"mso", "mso_network"}, cities="KÖLN", name_contains=" strasse ")
    >>> keep({"kind": "organisation", "org_type": "mso", "city": "Köln", "name": "Straßenkinder"})
    True
    >>> keep({"kind": "event", "org_type": "mso", "city": "Köln", "name": "Straßenfest"})
    False
    """
    types_, sectors_, districts_, bezirke_ = (_choice(org_types), _choice(sectors), _choice(districts),
                                              _choice(regierungsbezirke))
    cities_ = frozenset(c.casefold() for c in _choice(cities) or ()) or None
    needle = name_contains.strip().casefold() if name_contains and name_contains.strip() else None

    def keep(props: Mapping[str, Any]) -> bool:
        if props.get("kind") != "organisation":
            return False
        if types_ and props.get("org_type") not in types_:
            return False
        if districts_ and props.get("district") not in districts_:
            return False
        if bezirke_ and props.get("regierungsbezirk") not in bezirke_:
            return False
        if sectors_ and not sectors_.intersection(props.get("sectors") or ()):
            return False
        if cities_ and (props.get("city") or "").casefold() not in cities_:
            return False
        return not needle or needle in (props.get("name") or "").casefold()

    return keep


@dataclass(frozen=True, slots=True)
class OrganisationFilter:
    """The filters of ``GraphStore.find_organisations``: all given ones must match; empty ones do not filter.

    ``org_type``, ``district``, ``regierungsbezirk`` and ``sector`` compare exactly (a store may apply them
    by index first, see :meth:`exact`); ``city`` compares case-folded, ``name_contains`` is a case-folded
    part of the name (see :func:`organisation_matcher`). Results are sorted by name, then id, and cut at
    ``limit``.

    Examples
    --------
    >>> rows = [{"id": "b", "kind": "organisation", "name": "Straße e.V.", "city": "Köln"},
    ...         {"id": "a", "kind": "organisation", "name": "Bonn hilft", "city": "Bonn"}]
    >>> [r["id"] for r in OrganisationFilter(name_contains="STRASSE").select(rows)]
    ['b']
    >>> [r["id"] for r in OrganisationFilter(limit=1).select(rows)]
    ['a']
    """

    org_type: str | None = None
    district: str | None = None
    regierungsbezirk: str | None = None
    sector: str | None = None
    city: str | None = None
    name_contains: str | None = None
    limit: int | None = None

    def exact(self) -> dict[str, str | None]:
        """The exact-match filters (``None`` where not set), for a store's index or query parameters."""
        return {"org_type": self.org_type or None, "district": self.district or None,
                "regierungsbezirk": self.regierungsbezirk or None, "sector": self.sector or None}

    def matcher(self) -> Callable[[Mapping[str, Any]], bool]:
        """This filter as :func:`organisation_matcher` (one value per filter)."""
        return organisation_matcher(org_types=self.org_type, sectors=self.sector, cities=self.city,
                                    districts=self.district, regierungsbezirke=self.regierungsbezirk,
                                    name_contains=self.name_contains)

    def matches(self, props: Mapping[str, Any]) -> bool:
        """Whether the node with ``props`` is an organisation that passes every filter."""
        return self.matcher()(props)

    def select(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows that :meth:`matches`, sorted by name then id, at most ``limit``."""
        keep = self.matcher()
        found = [row for row in rows if keep(row)]
        found.sort(key=lambda r: (r.get("name") or "", r["id"]))
        return found[:self.limit] if self.limit is not None else found
