"""The Python API of msonet: open a network and ask it the questions the app and the CLI ask.

For notebooks and scripts (documented in German in ``docs/api.md``)::

    import msonet

    with msonet.open_network(home="~/msonet-daten") as net:
        net.isolation(district="Bochum").to_frame()

The methods wrap the analyses in :mod:`msonet.graph` (isolation, partners, cohort, meeting, coverage and
the store's organisation statistics) unchanged and return frozen dataclasses; lists of rows come as
:class:`Rows`, which convert to a pandas DataFrame with :meth:`Rows.to_frame`. ``as_dict()`` gives the
same JSON form as ``msonet … --json``.

In the examples, ``demo_home`` is a folder holding the demo data (made with ``msonet --store ORDNER demo``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from msonet.graph.errors import GraphError
from msonet.graph.settings import Settings
from msonet.graph.vocabulary import choices, lookup_key

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    import networkx as nx
    import pandas as pd

    from msonet.graph.store import GraphStore, LoadSummary
    from msonet.loaders.load import LoadReport

__all__ = [
    "CoverageReport",
    "DistrictCoverage",
    "Forgotten",
    "FundingMix",
    "FundingSummary",
    "IsolatedOrganisation",
    "MeetingFilters",
    "MeetingObjective",
    "MeetingPlan",
    "MeetingSummary",
    "MeetingTable",
    "Invitee",
    "Network",
    "NetworkFigures",
    "NetworkStats",
    "PartnerProposal",
    "Reason",
    "Rows",
    "ScoreParts",
    "SectorCounts",
    "Tandem",
    "Venue",
    "open_network",
]

T = TypeVar("T")
R = TypeVar("R", bound="_Result")


# -- conversion between the analyses' rows and the typed results ---------------------------------------------
class _Result:
    """Base of the result dataclasses: built from an analysis row, back to it with :meth:`as_dict`."""

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """Build the result from a row of the analysis (every key must be a field, and every field a key)."""
        return typing.cast(T, _build(cls, data))

    def as_dict(self) -> dict[str, Any]:
        """The row as the analysis returned it (lists, dicts; the JSON form of ``msonet … --json``)."""
        return typing.cast(dict[str, Any], _plain(self))


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = set(data) - set(names)
    missing = set(names) - set(data)
    if unknown or missing:
        raise TypeError(f"{cls.__name__}: unexpected keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return cls(**{name: _convert(hints[name], data[name]) for name in names})


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value)
    if origin is tuple:
        return tuple(_convert(args[0], v) for v in value)
    if origin in (Mapping, dict):
        return {k: _convert(args[1], v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> Any:
    """A value for one DataFrame cell: nested results flattened, lists of reasons joined to one text."""
    if isinstance(value, tuple):
        parts = [v.text if isinstance(v, Reason) else v for v in value]
        if all(isinstance(p, str) for p in parts):
            return " ".join(parts) if all(p.endswith((".", "!", "?")) for p in parts if p) else ", ".join(parts)
        return list(_plain(value))
    if isinstance(value, Mapping):
        return _plain(value)
    return value


def _columns(cls: type) -> list[str]:
    """The DataFrame columns of a row type: its fields, those of nested parts as ``feld.teil``."""
    hints = _hints(cls)
    out: list[str] = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            out += [f"{f.name}.{sub.name}" for sub in dataclasses.fields(hint)]
        else:
            out.append(f.name)
    return out


def _record(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(row):
        value = getattr(row, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for sub in dataclasses.fields(value):
                out[f"{f.name}.{sub.name}"] = _cell(getattr(value, sub.name))
        else:
            out[f.name] = _cell(value)
    return out


class Rows(Generic[R]):
    """An ordered, immutable list of result rows (the analysis' order) that converts to a DataFrame.

    Behaves like a tuple: ``len(rows)``, ``rows[0]``, ``for row in rows``. It keeps the rows the analysis
    returned and builds the typed rows on first access, so handing the rows on as dicts
    (:meth:`as_dicts`, the CLI's ``--json``, the app's tables) costs nothing extra.
    """

    __slots__ = ("_raw", "_type", "_typed")

    def __init__(self, row_type: type[R], rows: Iterable[Mapping[str, Any]]) -> None:
        self._type = row_type
        self._raw: tuple[Mapping[str, Any], ...] = tuple(rows)
        self._typed: tuple[R, ...] | None = None

    @property
    def rows(self) -> tuple[R, ...]:
        """The typed rows."""
        if self._typed is None:
            self._typed = tuple(self._type.from_dict(r) for r in self._raw)
        return self._typed

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self) -> Iterator[R]:
        return iter(self.rows)

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[R, ...]: ...

    def __getitem__(self, index: int | slice) -> R | tuple[R, ...]:
        return self.rows[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rows) and self._type is other._type and self._raw == other._raw

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Rows[{self._type.__name__}]: {len(self._raw)} Zeilen>"

    def to_frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame: one column per field, nested parts as ``feld.teil`` columns,
        lists of reasons joined to one text."""
        import pandas as pd

        return pd.DataFrame([_record(r) for r in self.rows], columns=_columns(self._type))

    def as_dicts(self) -> list[dict[str, Any]]:
        """The rows as the analysis returned them (the JSON form of ``msonet … --json``)."""
        return [dict(r) for r in self._raw]


# -- result types ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reason(_Result):
    """Why an organisation counts as isolated: a code (``no_ties`` …) and a German sentence."""

    code: str
    text: str


@dataclass(frozen=True)
class IsolatedOrganisation(_Result):
    """An isolated organisation (see :func:`msonet.graph.isolation.isolated_organisations`)."""

    id: str
    name: str
    org_type: str | None
    org_type_label: str
    city: str | None
    district: str | None
    regierungsbezirk: str | None
    lat: float | None
    lon: float | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ScoreParts(_Result):
    """The five parts of a tandem score, each 0–1 (see :data:`msonet.graph.partners.WEIGHTS`)."""

    sector: float
    distance: float
    proximity: float
    openness: float
    activity: float


@dataclass(frozen=True)
class PartnerProposal(_Result):
    """A proposed tandem partner (see :func:`msonet.graph.partners.propose_partners`)."""

    id: str
    name: str
    org_type: str | None
    org_type_label: str
    city: str | None
    district: str | None
    sectors: tuple[str, ...]
    distance_km: float | None
    distance_precision: str | None
    lat: float | None
    lon: float | None
    carrier: str | None
    score: float
    parts: ScoreParts
    common_contacts: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Tandem(_Result):
    """One tandem of a cohort (see :func:`msonet.graph.cohort.plan_cohort`)."""

    mso_id: str
    mso_name: str
    mso_city: str | None
    partner_id: str
    partner_name: str
    partner_city: str | None
    partner_org_type: str | None
    score: float
    distance_km: float | None
    parts: ScoreParts
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Invitee(_Result):
    """An organisation invited to a networking meeting."""

    id: str
    name: str
    org_type: str | None
    org_type_label: str
    city: str | None
    district: str | None
    sectors: tuple[str, ...]
    role: str
    table: int | None
    carrier: str | None
    venue_km: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MeetingTable(_Result):
    """One table group of a meeting: members (ids and names), counted pairs, new ties."""

    table: int
    members: tuple[str, ...]
    names: tuple[str, ...]
    pairs: int
    new_ties: int
    cross_field_new_ties: int
    sectors: tuple[str, ...]


@dataclass(frozen=True)
class MeetingObjective(_Result):
    """The value the invitation list maximises and its parts."""

    value: float
    pairs: int
    pairs_isolated: int
    pairs_other: int
    pairs_at_tables: int
    isolated_weight: float
    pairs_per_mso: int
    description: str


@dataclass(frozen=True)
class MeetingSummary(_Result):
    """Key figures of a meeting plan."""

    capacity: int
    invited: int
    msos: int
    isolated_msos: int
    partners: int
    migration_field: int
    outside: int
    new_ties: int
    cross_field_new_ties: int
    carriers: Mapping[str, int]
    median_venue_km: float | None
    tables: int
    pool: int


@dataclass(frozen=True)
class Venue(_Result):
    """Where the meeting takes place and the travel radius around it."""

    name: str | None
    lat: float | None
    lon: float | None
    radius_km: float


@dataclass(frozen=True)
class MeetingFilters(_Result):
    """The selection the plan was made for."""

    district: str | None
    regierungsbezirk: str | None
    topic: str | None
    today: str
    event_years: int


@dataclass(frozen=True)
class MeetingPlan(_Result):
    """A networking meeting (see :func:`msonet.graph.meeting.plan_meeting`)."""

    invitees: Rows[Invitee]
    tables: Rows[MeetingTable]
    objective: MeetingObjective
    summary: MeetingSummary
    venue: Venue
    filters: MeetingFilters
    notes: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeetingPlan:
        """Build the plan from :func:`msonet.graph.meeting.plan_meeting`'s dict."""
        rest = {k: v for k, v in data.items() if k not in ("invitees", "tables")}
        plain = typing.cast(_MeetingParts, _build(_MeetingParts, {**rest, "invitees": (), "tables": ()}))
        return MeetingPlan(Rows(Invitee, data["invitees"]), Rows(MeetingTable, data["tables"]),
                           plain.objective, plain.summary, plain.venue, plain.filters, plain.notes)

    def as_dict(self) -> dict[str, Any]:
        return {"invitees": self.invitees.as_dicts(), "tables": self.tables.as_dicts(),
                "objective": self.objective.as_dict(), "summary": self.summary.as_dict(),
                "venue": self.venue.as_dict(), "filters": self.filters.as_dict(), "notes": list(self.notes)}


@dataclass(frozen=True)
class _MeetingParts:
    invitees: tuple[()]
    tables: tuple[()]
    objective: MeetingObjective
    summary: MeetingSummary
    venue: Venue
    filters: MeetingFilters
    notes: tuple[str, ...]


@dataclass(frozen=True)
class SectorCounts(_Result):
    """Organisations of a district working in one sector: MSOs and organisations outside the migration field."""

    mso: int
    regular: int


@dataclass(frozen=True)
class FundingSummary(_Result):
    """Funded MSOs and amounts, regular (Regelförderung) against project funding."""

    funded_msos: int
    funded_msos_regular: int
    funded_msos_project: int
    amount_regular: float
    amount_project: float
    share_regular: float | None


@dataclass(frozen=True)
class DistrictCoverage(_Result):
    """Coverage of one district (see :func:`msonet.graph.coverage.district_coverage`)."""

    district: str
    name: str
    regierungsbezirk: str | None
    population: int | None
    organisations: int
    mso_count: int
    msos_per_100k: float | None
    ki_present: bool
    ki_count: int
    ia_count: int
    regular_service_count: int
    sectors_without_actor: tuple[str, ...]
    sectors: Mapping[str, SectorCounts]
    funded_msos: int
    funded_msos_regular: int
    funded_msos_project: int
    amount_regular: float
    amount_project: float
    share_regular: float | None
    funding_by_sector: Mapping[str, FundingSummary]
    project_only_sectors: tuple[str, ...]


@dataclass(frozen=True)
class FundingMix(_Result):
    """How MSO work in one sector is funded (see :func:`msonet.graph.coverage.funding_mix`)."""

    key: str
    label: str
    msos: int
    share_msos: float | None
    funded_msos: int
    funded_msos_regular: int
    funded_msos_project: int
    amount_regular: float
    amount_project: float
    share_regular: float | None
    share_msos_funded: float | None
    project_only: bool
    unfunded: bool
    text: str


@dataclass(frozen=True)
class Broker(_Result):
    """An organisation that links parts of the network (high betweenness)."""

    id: str
    name: str
    org_type: str | None
    city: str | None
    district: str | None
    betweenness: float


@dataclass(frozen=True)
class NetworkFigures(_Result):
    """Key figures of the organisation network (see :func:`msonet.graph.network.network_figures`)."""

    organisations: int
    ties: int
    components: int
    largest_component: int
    isolates: int
    density: float
    brokers: tuple[Broker, ...]
    communities: Mapping[str, Any]
    betweenness_exact: bool
    notes: tuple[str, ...]


@dataclass(frozen=True)
class CoverageReport(_Result):
    """Coverage per district, funding mix per sector and the network's key figures (``msonet coverage``)."""

    districts: Rows[DistrictCoverage]
    funding_by_sector: Rows[FundingMix]
    network: NetworkFigures | None

    def as_dict(self) -> dict[str, Any]:
        return {"districts": self.districts.as_dicts(), "funding_by_sector": self.funding_by_sector.as_dicts(),
                "network": self.network.as_dict() if self.network is not None else None}

    def to_frame(self) -> pd.DataFrame:
        """The districts as a DataFrame (one row per district)."""
        return self.districts.to_frame()


@dataclass(frozen=True)
class NetworkStats(_Result):
    """Counts over the whole store (``msonet stats``)."""

    total: int
    synthetic: int
    events: int
    programmes: int
    relations: int
    by_type: Mapping[str, int]
    by_district: Mapping[str, int]
    by_sector: Mapping[str, int]

    def to_frame(self) -> pd.DataFrame:
        """The counts as a long table: columns ``gliederung`` (type, district, sector), ``schluessel``, ``anzahl``."""
        import pandas as pd

        rows = [(part, key, n) for part, counts in (("org_type", self.by_type), ("district", self.by_district),
                                                     ("sector", self.by_sector)) for key, n in counts.items()]
        return pd.DataFrame(rows, columns=["gliederung", "schluessel", "anzahl"])


@dataclass(frozen=True)
class Forgotten(_Result):
    """What :meth:`Network.forget` deleted: the organisation and the number of its ties."""

    id: str
    name: str
    removed: bool
    ties: int


# -- the network ----------------------------------------------------------------------------------------------
class Network:
    """An opened store with the analyses of msonet as methods (see :func:`open_network`).

    ``today`` is the reference day of the analyses that look at recent events (isolation, meeting); it is
    fixed when the network is opened and can be given per call.
    """

    def __init__(self, store: GraphStore, settings: Settings, *, today: dt.date | None = None) -> None:
        self.store = store
        self.settings = settings
        self.today: dt.date = today if today is not None else dt.date.today()

    # context manager ---------------------------------------------------------------------------------------
    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store (a server connection or the embedded database file)."""
        self.store.close()

    def __repr__(self) -> str:
        from msonet.graph.backends import describe_backend

        return f"<msonet.Network: {describe_backend(self.settings)}>"

    # reading ------------------------------------------------------------------------------------------------
    def graph(self) -> nx.MultiDiGraph:
        """The whole graph (networkx) of the current data, shared by the store: read only."""
        return self.store.graph_view()

    def stats(self) -> NetworkStats:
        """Counts of organisations by type, district and sector, of events, programmes and relations.

        Returns
        -------
        NetworkStats
            The same figures as ``msonet stats --json``.

        Examples
        --------
        >>> import msonet
        >>> net = msonet.open_network(home=demo_home)
        >>> stats = net.stats()
        >>> stats.total > 4000, stats.by_type["municipal_integration_centre"]
        (True, 54)
        >>> net.close()
        """
        orgs = self.store.organisation_stats()  # counted by the store (the embedded one: SQL, no graph built)
        counts = self.store.counts()
        return NetworkStats(total=orgs["total"], synthetic=orgs["synthetic"], events=counts.get("events", 0),
                            programmes=counts.get("programmes", 0), relations=counts.get("relations", 0),
                            by_type=dict(orgs["by_type"]), by_district=dict(orgs["by_district"]),
                            by_sector=dict(orgs["by_sector"]))

    def isolation(self, *, today: dt.date | str | None = None, event_years: int = 3, district: str | None = None,
                  regierungsbezirk: str | None = None, org_type: str | None = None) -> Rows[IsolatedOrganisation]:
        """Isolated organisations, each with the German reasons why.

        Parameters
        ----------
        today
            Reference day of the event window (default: the network's ``today``).
        event_years
            Length of the event window in years.
        district
            Only organisations of this district: name (``"Bochum"``) or 5-digit key.
        regierungsbezirk
            Only organisations of this Regierungsbezirk (name, e.g. ``"Arnsberg"``).
        org_type
            Only organisations of this type: key or German label (``"MSO"``).

        Returns
        -------
        Rows[IsolatedOrganisation]
            Most reasons first, then by name (see :func:`msonet.graph.isolation.isolated_organisations`).

        Examples
        --------
        >>> import msonet
        >>> net = msonet.open_network(home=demo_home, today="2025-01-15")
        >>> rows = net.isolation(district="Bochum")
        >>> {row.district for row in rows}
        {'05911'}
        >>> sorted({reason.code for row in rows for reason in row.reasons})[:2]
        ['no_recent_event', 'no_regular_service_tie']
        >>> net.close()
        """
        from msonet.graph.isolation import FIELDS, isolated_organisations

        # who is tied to whom and a few properties are all the analysis reads (the embedded store gives them
        # without the ties' properties and, where its columns hold them, without parsing the nodes' properties)
        rows = isolated_organisations(self.store.tie_view(FIELDS), today=self._today(today), event_years=event_years,
                                      district=district_key(district),
                                      regierungsbezirk=region_name(regierungsbezirk),
                                      org_type=vocabulary_key("org_type", org_type, "Organisationstyp"))
        return Rows(IsolatedOrganisation, rows)

    def organisation_id(self, text: str) -> str:
        """The id of the organisation ``text`` names (id or name; a near miss gets a German suggestion)."""
        import networkx as nx

        from msonet.graph.lookup import resolve_organisation

        node = self.store.get_node(text)
        if node is not None and node.get("kind") == "organisation":
            return text
        names = nx.MultiDiGraph()
        names.add_nodes_from((d["id"], d) for d in self.store.find_organisations())
        return resolve_organisation(names, text)

    def partners(self, org: str, *, top: int = 10, max_km: float | None = None, sector: str | None = None,
                 include_umbrella: bool = False, include_migration_services: bool = False) -> Rows[PartnerProposal]:
        """Tandem partners outside the migration field for one MSO, best first.

        Parameters
        ----------
        org
            Id or name of the MSO.
        top
            Number of proposals (1 to 100).
        max_km
            Leave out partners farther away.
        sector
            Only partners in this sector (key or German label, e.g. ``"Jugendarbeit"``).
        include_umbrella, include_migration_services
            Also propose umbrella bodies / migration-specific services.

        Returns
        -------
        Rows[PartnerProposal]
            As :func:`msonet.graph.partners.propose_partners`.

        Examples
        --------
        >>> import msonet
        >>> net = msonet.open_network(home=demo_home)
        >>> mso = net.isolation(org_type="MSO", today="2025-01-15")[0].id
        >>> proposals = net.partners(mso, top=3)
        >>> len(proposals), proposals[0].score >= proposals[-1].score
        (3, True)
        >>> list(proposals.to_frame().columns[:3])
        ['id', 'name', 'org_type']
        >>> net.close()
        """
        from msonet.graph.partners import check_top, propose_partners

        check_top(top)
        org_id = self.organisation_id(org)
        search: dict[str, Any] = {"top": top, "max_km": max_km,
                                  "sector": vocabulary_key("sector", sector, "Handlungsfeld"),
                                  "include_umbrella": include_umbrella,
                                  "include_migration_services": include_migration_services}
        # the MSO, its contacts and theirs, the partners that can make the list (read through indexes)
        rows = propose_partners(self.store.partner_view(org_id, **search), org_id, **search)
        return Rows(PartnerProposal, rows)

    def cohort(self, count: int, *, district: str | None = None, max_km: float | None = 50) -> Rows[Tandem]:
        """``count`` tandems at once, each organisation at most once, the total fit as high as possible.

        Parameters
        ----------
        count
            Number of tandems (0 to 5000).
        district
            Only MSOs of this district (name or key).
        max_km
            Largest distance between MSO and partner (``None``: any).

        Returns
        -------
        Rows[Tandem]
            As :func:`msonet.graph.cohort.plan_cohort`.

        Examples
        --------
        >>> import msonet
        >>> net = msonet.open_network(home=demo_home)
        >>> tandems = net.cohort(3, district="Köln")
        >>> len(tandems), len({t.partner_id for t in tandems})
        (3, 3)
        >>> net.close()
        """
        from msonet.graph.cohort import plan_cohort

        rows = plan_cohort(self.graph(), count, district=district_key(district), max_km=max_km)
        return Rows(Tandem, rows)

    def meeting(self, capacity: int, *, today: dt.date | str | None = None, district: str | None = None,
                region: str | None = None, topic: str | None = None, tables: int = 4, venue: str | None = None,
                radius_km: float | None = None, organisers: Sequence[str] = ()) -> MeetingPlan:
        """Plan a networking meeting: whom to invite and who sits at which table.

        Parameters
        ----------
        capacity
            Number of seats (organisers included).
        today
            Shared events of the last three years up to this day count as existing ties (default: the
            network's ``today``).
        district, region
            Invite from this district (name or key) or Regierungsbezirk (name); neither: all of NRW.
        topic
            Sector of the meeting (key or German label).
        tables
            Number of table groups.
        venue
            Place or postcode in NRW (default: the centre of the district or Regierungsbezirk).
        radius_km
            Travel radius around the venue.
        organisers
            Ids or names of the organisers (always invited, hosts of the tables).

        Returns
        -------
        MeetingPlan
            As :func:`msonet.graph.meeting.plan_meeting`.

        Examples
        --------
        >>> import msonet
        >>> net = msonet.open_network(home=demo_home, today="2025-01-15")
        >>> plan = net.meeting(12, district="Bochum", tables=3)
        >>> len(plan.invitees) <= 12, len(plan.tables)
        (True, 3)
        >>> plan.venue.radius_km
        25.0
        >>> net.close()
        """
        from msonet.graph.lookup import resolve_organisation
        from msonet.graph.meeting import check_request, plan_meeting
        from msonet.loaders.gazetteer import region_centre, resolve_venue

        check_request(capacity, tables, radius_km)
        district, region = district_key(district), region_name(region)
        place = resolve_venue(venue) if venue else region_centre(district, region)
        graph = self.graph()
        hosts = tuple(resolve_organisation(graph, o) for o in organisers)
        plan = plan_meeting(graph, capacity, today=self._today(today), district=district, regierungsbezirk=region,
                            topic=vocabulary_key("sector", topic, "Thema (Handlungsfeld)"), tables=tables,
                            organisers=hosts, venue=(place[1], place[2]) if place else None,
                            venue_name=place[0] if place else None, radius_km=radius_km)
        return MeetingPlan.from_dict(plan)

    def invitation_list(self, plan: MeetingPlan, *, include_email: bool = False) -> list[dict[str, str | int | None]]:
        """The invitation list of ``plan`` for CSV/XLSX: columns Tisch, Name, Typ, Ort, (E-Mail,) Rolle,
        Begründung; e-mail addresses (personal data) only with ``include_email``."""
        from msonet.graph.meeting import invitation_rows

        return invitation_rows(self.graph(), plan.as_dict(), include_email=include_email)

    def coverage(self, *, network: bool = True) -> CoverageReport:
        """Coverage per district, the funding mix per sector and (``network=True``) the network's key figures.

        Examples
        --------
        >>> import msonet
        >>> net = msonet.open_network(home=demo_home)
        >>> report = net.coverage(network=False)
        >>> len(report.districts), report.network is None
        (53, True)
        >>> frame = report.to_frame()
        >>> int(frame["ki_present"].sum())
        53
        >>> net.close()
        """
        from msonet.graph.coverage import district_coverage, funding_mix
        from msonet.graph.network import network_figures
        from msonet.loaders.geography import load_districts

        graph = self.graph()
        return CoverageReport(
            districts=Rows(DistrictCoverage, district_coverage(graph, load_districts())),
            funding_by_sector=Rows(FundingMix, funding_mix(graph, by="sector")),
            network=NetworkFigures.from_dict(network_figures(graph)) if network else None)

    # writing ------------------------------------------------------------------------------------------------
    def load(self, paths: Path | str | Iterable[Path | str], *, skip_invalid: bool = False,
             kind: str | None = None) -> LoadReport:
        """Load files (CSV, XLSX, JSON, HSDS) into the store; on any problem nothing is written (raises
        :class:`msonet.graph.errors.ValidationError`) unless ``skip_invalid``."""
        from msonet.loaders.load import load_files

        return load_files(paths, self.store, skip_invalid=skip_invalid, kind=kind)

    def load_demo(self, *, seed: int = 2024, replace: bool = False) -> LoadSummary:
        """Load the demo data (real actors and a synthetic population); refuses a store with data unless
        ``replace``.

        Examples
        --------
        >>> import msonet, tempfile
        >>> net = msonet.open_network(home=tempfile.mkdtemp())
        >>> net.load_demo().organisations > 4000
        True
        >>> net.load_demo()
        Traceback (most recent call last):
        ...
        msonet.graph.errors.GraphError: Der Speicher enthält bereits ... Organisationen. ...
        >>> net.close()
        """
        from msonet.loaders.demo import build_demo_batch

        counts = self.store.counts()
        if counts.get("organisations") and not replace:
            raise GraphError(f"Der Speicher enthält bereits {counts['organisations']} Organisationen. "
                             "„msonet demo --replace“ ersetzt alles durch die Demodaten "
                             "(vorher mit „msonet export“ sichern).")
        batch = build_demo_batch(seed=seed)
        if counts.get("organisations") or counts.get("events"):
            self.store.clear()
        return self.store.upsert(batch)

    def forget(self, org: str) -> Forgotten:
        """Delete an organisation with all its ties, fundings and contact data (the right to be forgotten).

        Parameters
        ----------
        org
            Id or name of the organisation.

        Returns
        -------
        Forgotten
            Its id and name, whether it was removed and how many ties it had (for the audit log).

        Examples
        --------
        >>> import msonet, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "orgs.csv").write_text("name;type;city\\nGeheim e.V.;mso;Köln\\n", encoding="utf-8")
        >>> net = msonet.open_network(home=folder / "store")
        >>> net.load(folder / "orgs.csv").summary.organisations
        1
        >>> gone = net.forget("Geheim e.V.")
        >>> gone.name, gone.removed, gone.ties, net.stats().total
        ('Geheim e.V.', True, 0, 0)
        >>> net.close()
        """
        org_id = self.organisation_id(org)
        name = str((self.store.get_node(org_id) or {}).get("name") or org_id)
        ties = int(self.store.neighbourhood(org_id, 1).degree(org_id))  # counted for the audit log only
        removed = bool(self.store.remove_organisation(org_id))
        return Forgotten(id=org_id, name=name, removed=removed, ties=ties)

    # helpers ------------------------------------------------------------------------------------------------
    def _today(self, today: dt.date | str | None) -> dt.date:
        return as_date(today) if today is not None else self.today


def as_date(value: dt.date | str) -> dt.date:
    """A date from a ``date`` or ISO text ``JJJJ-MM-TT`` (a German error otherwise)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise GraphError(f"„{value}“ ist kein Datum im Format JJJJ-MM-TT.") from None


def district_key(text: str | None) -> str | None:
    """The 5-digit key of the district ``text`` names (name or key; a German error if unknown)."""
    if not text:
        return None
    from msonet.loaders.gazetteer import default_gazetteer

    return default_gazetteer().resolve_district(text).key


def region_name(text: str | None) -> str | None:
    """The name of the Regierungsbezirk ``text`` names (a German error if unknown)."""
    if not text:
        return None
    from msonet.loaders.gazetteer import default_gazetteer

    return default_gazetteer().resolve_regierungsbezirk(text)


def vocabulary_key(kind: str, text: str | None, what: str) -> str | None:
    """The key of a vocabulary term given as key or German label (``"MSO"`` -> ``"mso"``).

    Examples
    --------
    >>> from msonet.api import vocabulary_key
    >>> vocabulary_key("sector", "Jugendarbeit", "Handlungsfeld")
    'child_youth'
    >>> vocabulary_key("org_type", "Raumschiff", "Organisationstyp")
    Traceback (most recent call last):
    ...
    msonet.graph.errors.GraphError: Organisationstyp „Raumschiff“ ist unbekannt. Erlaubt sind: ...
    """
    if not text:
        return None
    key = lookup_key(kind, text)
    if key is None:
        raise GraphError(f"{what} „{text}“ ist unbekannt. Erlaubt sind: {', '.join(choices(kind))}.")
    return key


def open_network(home: str | Path | None = None, *, neo4j_uri: str | None = None, falkordb_url: str | None = None,
                 today: dt.date | str | None = None, environ: Mapping[str, str] | None = None) -> Network:
    """Open the network with the same settings as the CLI and the app.

    Without arguments the environment decides (``MSONET_HOME``, ``NEO4J_URI`` with ``NEO4J_USERNAME``,
    ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``, or ``FALKORDB_URL``); the arguments win over it, like
    ``--store``, ``--neo4j`` and ``--falkordb`` of the CLI.

    Parameters
    ----------
    home
        Folder of the embedded store (``~`` is expanded).
    neo4j_uri
        A Neo4j server instead of the embedded store (credentials from the environment).
    falkordb_url
        A FalkorDB server instead of the embedded store, e.g. ``redis://localhost:6379/msonet``.
    today
        Reference day of the analyses (default: the day the network is opened).
    environ
        Environment variables to read instead of ``os.environ``.

    Returns
    -------
    Network
        Close it with :meth:`Network.close` or use it in a ``with`` block.

    Raises
    ------
    msonet.graph.errors.StoreError
        The store cannot be opened (a German message says why).

    Examples
    --------
    >>> import msonet, tempfile
    >>> with msonet.open_network(home=tempfile.mkdtemp(), today="2025-01-15") as net:
    ...     net.today, net.stats().total
    (datetime.date(2025, 1, 15), 0)
    """
    from msonet.graph.backends import open_store

    settings = Settings.from_env(dict(environ) if environ is not None else None,
                                 home=Path(home).expanduser() if home is not None else None,
                                 neo4j_uri=neo4j_uri, falkordb_url=falkordb_url)
    return Network(open_store(settings), settings, today=as_date(today) if today is not None else None)
