"""Typed records of the domain model: organisations, events, relations, funding and places."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar

from msonet.graph.vocabulary import SYMMETRIC_RELATIONS, normalise_term

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
    "tie_ends",
    "merge_node",
    "record_fields",
    "LOCATION_FIELDS",
]

#: Organisation fields that hold personal data: optional, left out of exports unless asked for.
PERSONAL_FIELDS = ("contact_person", "email", "phone")

#: Fields that come from one place lookup and so are given, kept or cleared together.
LOCATION_FIELDS = ("city", "ags", "district", "regierungsbezirk", "lat", "lon")

# Written on every upsert whatever the file had: what a record is, and where and when it came from.
_PROVENANCE = frozenset({"source", "updated"})
_ALWAYS = frozenset({"id", "name", "org_type", "event_type", "date", "source_id", "target_id", "rel_type",
                     "org_id", "programme", "funding_kind", "source", "updated"})


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


class _NodeRecord:
    """What organisations and events share: they are stored as nodes of the kind :attr:`KIND`."""

    __slots__ = ()
    KIND: ClassVar[str] = ""
    sectors: tuple[str, ...]

    def properties(self) -> dict[str, object]:
        """Flat property map as stored on a graph node (lists as lists, no nested maps), given fields only."""
        props = _flat(self)
        if "sectors" in props:
            props["sectors"] = list(self.sectors)
        props["kind"] = self.KIND
        return props


@dataclass(frozen=True, slots=True)
class Organisation(_NodeRecord):
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
    #: How exactly ``lat``/``lon`` is known: ``address`` (geocoded), ``postcode`` or ``municipality``.
    location_precision: str | None = None
    website: str | None = None
    founded: int | None = None
    description: str | None = None
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    synthetic: bool = False
    source: str = ""
    updated: str = ""
    #: Fields the input gave (a value, or cleared on purpose); ``None``: all. An upsert changes only these.
    given: frozenset[str] | None = None

    KIND: ClassVar[str] = "organisation"


@dataclass(frozen=True, slots=True)
class Event(_NodeRecord):
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
    given: frozenset[str] | None = None  # as in Organisation

    KIND: ClassVar[str] = "event"


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
    given: frozenset[str] | None = None  # as in Organisation
    weight: float | None = None  # strength of the tie as the file gives it (Gephi/networkx "weight")

    @property
    def key(self) -> str:
        return relation_key(self.rel_type, self.source_id, self.target_id)

    def properties(self) -> dict[str, object]:
        props: dict[str, object] = {"type": self.rel_type, "since": self.since, "note": self.note,
                                    "synthetic": self.synthetic, "source": self.source, "updated": self.updated,
                                    "weight": self.weight}
        if self.given is not None:
            props = {k: v for k, v in props.items() if k in self.given or k in _ALWAYS or k == "type"}
        return props


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
    given: frozenset[str] | None = None  # as in Organisation

    @property
    def programme_id(self) -> str:
        return _programme_id(self.programme)

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


def record_fields(record_type: type) -> tuple[str, ...]:
    """The stored fields of a record class (everything but the bookkeeping field ``given``)."""
    return tuple(f.name for f in fields(record_type) if f.name != "given")


#: :func:`record_fields` per record class, for :func:`_flat` (a million records ask for the same few).
_FIELDS: dict[type, tuple[str, ...]] = {}


def _flat(record: object) -> dict[str, object]:
    # dataclasses.asdict deep-copies every value; the fields here are flat, so a plain read is enough
    given = getattr(record, "given", None)
    names = _FIELDS.get(type(record))
    if names is None:
        names = _FIELDS[type(record)] = record_fields(type(record))
    return {name: getattr(record, name) for name in names if given is None or name in given or name in _ALWAYS}


def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII slug: ``"Coach e.V. Köln"`` -> ``"coach-e-v-koeln"``."""
    folded = normalise_term(text).replace("*", "")
    ascii_only = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    slug = re.sub(r"\s+", "-", ascii_only)[:limit].strip("-")
    if ascii_only != folded.strip():
        # letters outside a-z (e.g. a Cyrillic name) would vanish: a short digest keeps ids distinct
        slug = (slug + "-" if slug else "") + hashlib.sha1(folded.encode("utf-8")).hexdigest()[:8]
    return slug or "x"


@functools.lru_cache(maxsize=4096)
def _programme_id(programme: str) -> str:
    """The id of a programme node (cached: many funding records name the same few programmes)."""
    return "prog-" + slugify(programme)


def make_id(prefix: str, *parts: str | None) -> str:
    """Derive a stable, readable id from a record's identifying fields."""
    return prefix + "-" + "-".join(slugify(p) for p in parts if p)


def tie_ends(rel_type: str, source_id: str, target_id: str) -> tuple[str, str]:
    """The stored ``(source, target)`` of a tie: a symmetric relation has its ends in sorted order, so
    A–B and B–A are one tie.

    >>> tie_ends("cooperates_with", "b", "a"), tie_ends("member_of", "b", "a")
    (('a', 'b'), ('b', 'a'))
    """
    if rel_type in SYMMETRIC_RELATIONS and target_id < source_id:
        return target_id, source_id
    return source_id, target_id


def relation_key(rel_type: str, source_id: str, target_id: str) -> str:
    """Identity of a tie (its ends as :func:`tie_ends` stores them), so A-B and B-A of a symmetric type
    are one tie.

    >>> relation_key("tandem_partner", "b", "a")
    'tandem_partner|a|b'
    """
    source_id, target_id = tie_ends(rel_type, source_id, target_id)
    return f"{rel_type}|{source_id}|{target_id}"


def _defaults(record_type: type, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {}
    for f in fields(record_type):
        if f.name == "given":
            continue
        default = None if f.default is MISSING else f.default
        values[f.name] = list(default) if isinstance(default, tuple) else default
    return {**values, **extra}


# The full property map of a new node (by ``kind``) or tie (``funded_by`` or any other ``type``): what a
# record that gave only some fields starts from.
_NODE_DEFAULTS = {"organisation": _defaults(Organisation, kind="organisation"),
                  "event": _defaults(Event, kind="event")}
_FUNDING_DEFAULTS = _defaults(Funding, type="funded_by")
_RELATION_DEFAULTS: dict[str, object] = {"type": None, "since": None, "note": None, "synthetic": False,
                                         "source": "", "updated": ""}


def merge_node(stored: dict[str, object] | None, incoming: dict[str, object]) -> dict[str, object]:
    """The properties a node (or tie) has after an upsert of ``incoming`` over ``stored`` (``None``: new).

    The one rule every store applies when a record is written again; stores compare the result with
    ``stored`` to count a change. ``incoming`` holds only the fields its file gave (see
    :attr:`Organisation.given`): those replace the stored values, a given ``None`` clears one, and every
    other stored value stays. A new node starts from its kind's defaults, so it has every field.

    Examples
    --------
    >>> merge_node({"id": "a", "kind": "organisation", "email": "x@y.de", "phone": "1"},
    ...            {"id": "a", "kind": "organisation", "phone": None})
    {'id': 'a', 'kind': 'organisation', 'email': 'x@y.de', 'phone': None}
    """
    if stored is None:
        kind = incoming.get("kind")
        base: dict[str, object]
        if kind in _NODE_DEFAULTS:
            base = _NODE_DEFAULTS[kind]
        elif "kind" not in incoming and "type" in incoming:
            base = _FUNDING_DEFAULTS if incoming["type"] == "funded_by" else _RELATION_DEFAULTS
        else:
            base = {}
        return {**{k: (list(v) if isinstance(v, list) else v) for k, v in base.items()}, **incoming}
    merged = {**stored, **incoming}
    if all(merged[k] == stored.get(k) for k in merged if k not in _PROVENANCE):
        # nothing but where and when it was seen: the stored record keeps its source (no change to count)
        return dict(stored)
    return merged

