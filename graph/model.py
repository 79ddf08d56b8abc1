"""Typed records of the domain model: organisations, events, relations, funding and places."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields

from graph.vocabulary import normalise_term

__all__ = [
    "Place",
    "Organisation",
    "Event",
    "Relation",
    "Funding",
    "RecordBatch",
    "PERSONAL_FIELDS",
    "make_id",
    "relation_key",
    "merge_node",
]

#: Organisation fields that hold personal data: optional, left out of exports unless asked for.
PERSONAL_FIELDS = ("contact_person", "email", "phone")


@dataclass(frozen=True, slots=True)
class Place:
    """A municipality in NRW with its district and Regierungsbezirk."""

    ags: str  # 8-digit Amtlicher Gemeindeschlüssel
    name: str
    district: str  # 5-digit key of the Kreis / kreisfreie Stadt
    district_name: str
    regierungsbezirk: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Organisation:
    """An actor in the network: MSO, integration centre, welfare association, regular service ..."""

    id: str
    name: str
    org_type: str
    sectors: tuple[str, ...] = ()
    city: str | None = None
    ags: str | None = None
    district: str | None = None
    regierungsbezirk: str | None = None
    lat: float | None = None
    lon: float | None = None
    postcode: str | None = None
    address: str | None = None
    website: str | None = None
    founded: int | None = None
    description: str | None = None
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    synthetic: bool = False
    source: str = ""
    updated: str = ""

    def properties(self) -> dict[str, object]:
        """Flat property map as stored on a graph node (lists as lists, no nested maps)."""
        props = _flat(self)
        props["sectors"] = list(self.sectors)
        props["kind"] = "organisation"
        return props


@dataclass(frozen=True, slots=True)
class Event:
    """A meeting, conference or other event that organisations attend or organise."""

    id: str
    name: str
    event_type: str
    date: str  # ISO date
    city: str | None = None
    ags: str | None = None
    district: str | None = None
    regierungsbezirk: str | None = None
    lat: float | None = None
    lon: float | None = None
    sectors: tuple[str, ...] = ()
    description: str | None = None
    synthetic: bool = False
    source: str = ""
    updated: str = ""

    def properties(self) -> dict[str, object]:
        props = _flat(self)
        props["sectors"] = list(self.sectors)
        props["kind"] = "event"
        return props


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed tie between two organisations, or between an organisation and an event."""

    source_id: str
    target_id: str
    rel_type: str
    since: str | None = None  # ISO date or year
    note: str | None = None
    synthetic: bool = False
    source: str = ""
    updated: str = ""
    weight: float | None = None  # strength of the tie as the file gives it (Gephi/networkx "weight")

    @property
    def key(self) -> str:
        return relation_key(self.rel_type, self.source_id, self.target_id)

    def properties(self) -> dict[str, object]:
        return {"type": self.rel_type, "since": self.since, "note": self.note, "synthetic": self.synthetic,
                "source": self.source, "updated": self.updated, "weight": self.weight}


@dataclass(frozen=True, slots=True)
class Funding:
    """One funding record: an organisation funded through a programme (a ``funded_by`` tie)."""

    id: str
    org_id: str
    programme: str
    funding_kind: str
    amount: float | None = None
    year_from: int | None = None
    year_to: int | None = None
    sector: str | None = None
    funder: str | None = None
    synthetic: bool = False
    source: str = ""
    updated: str = ""

    @property
    def programme_id(self) -> str:
        return "prog-" + slugify(self.programme)

    def properties(self) -> dict[str, object]:
        props = _flat(self)
        props["type"] = "funded_by"
        return props


@dataclass(slots=True)
class RecordBatch:
    """Everything one load writes, applied to a store as one all-or-nothing unit."""

    organisations: list[Organisation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    fundings: list[Funding] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.organisations) + len(self.events) + len(self.relations) + len(self.fundings)

    def extend(self, other: RecordBatch) -> None:
        self.organisations.extend(other.organisations)
        self.events.extend(other.events)
        self.relations.extend(other.relations)
        self.fundings.extend(other.fundings)


def _flat(record: object) -> dict[str, object]:
    # dataclasses.asdict deep-copies every value; the fields here are flat, so a plain read is enough
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]


def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII slug: ``"Coach e.V. Köln"`` -> ``"coach-e-v-koeln"``."""
    folded = normalise_term(text).replace("*", "")
    ascii_only = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    slug = re.sub(r"\s+", "-", ascii_only)[:limit].strip("-")
    if ascii_only != folded.strip():
        # letters outside a-z (e.g. a Cyrillic name) would vanish: a short digest keeps ids distinct
        slug = (slug + "-" if slug else "") + hashlib.sha1(folded.encode("utf-8")).hexdigest()[:8]
    return slug or "x"


def make_id(prefix: str, *parts: str | None) -> str:
    """Derive a stable, readable id from a record's identifying fields."""
    return prefix + "-" + "-".join(slugify(p) for p in parts if p)


def relation_key(rel_type: str, source_id: str, target_id: str) -> str:
    """Identity of a tie; symmetric types sort their ends so A-B and B-A are one tie."""
    from graph.vocabulary import SYMMETRIC_RELATIONS

    if rel_type in SYMMETRIC_RELATIONS and target_id < source_id:
        source_id, target_id = target_id, source_id
    return f"{rel_type}|{source_id}|{target_id}"


def merge_node(stored: dict[str, object] | None, incoming: dict[str, object]) -> dict[str, object]:
    """The properties a node has after an upsert of ``incoming`` over ``stored`` (``None``: a new node).

    The one rule every store applies when a record is written again; stores compare the result with
    ``stored`` to count a change.
    """
    return dict(incoming)

