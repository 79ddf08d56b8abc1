"""Isolated organisations: no ties, no tie to regular services, no recent event, small separate groups."""

from __future__ import annotations

import datetime as dt
import heapq
from typing import Any

import networkx as nx

from msonet.graph.lookup import name_key, vocabulary_key
from msonet.graph.network import TieData, collect_ties, gc_paused, in_window, window_start
from msonet.graph.vocabulary import MIGRATION_FIELD_TYPES, MSO_TYPES, label, normalise_term

__all__ = ["isolated_organisations", "REASON_CODES", "SMALL_COMPONENT_MAX", "names_text", "FIELDS"]

#: The organisations' properties the analysis reads (``store.tie_view(FIELDS)`` may leave out the rest).
FIELDS = ("kind", "org_type", "name", "district", "regierungsbezirk", "city", "lat", "lon")

#: Reason codes with their German headings (for legends and filters).
REASON_CODES = {
    "no_ties": "Keine Verbindungen",
    "no_regular_service_tie": "Keine Verbindung zu Regeldiensten",
    "no_recent_event": "Keine Veranstaltung im Zeitraum",
    "small_component": "Kleine abgetrennte Gruppe",
}
#: Default upper size of a "small" separate group of organisations.
SMALL_COMPONENT_MAX = 5
_NAMES_SHOWN = 5


def names_text(names: list[str], limit: int = _NAMES_SHOWN) -> str:
    """``"A, B, C und 2 weitere"``: a readable, bounded list of names (already sorted)."""
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    return f"{shown} und {more} weitere" if more > 0 else shown


def _name_ranks(orgs: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Position of every organisation in name order (:func:`name_key`), computed once per analysis."""
    order = sorted(orgs, key=lambda o: name_key(orgs[o].get("name") or o, o))
    return {org: i for i, org in enumerate(order)}


def _names_of(orgs: dict[str, dict[str, Any]], rank: dict[str, int], ids) -> str:
    """:func:`names_text` of these organisations in name order; only the shown names are sorted out."""
    ids = list(ids)
    first = heapq.nsmallest(_NAMES_SHOWN, ids, key=rank.__getitem__)
    names = [orgs[i].get("name") or i for i in first]
    more = len(ids) - len(first)
    return f"{', '.join(names)} und {more} weitere" if more > 0 else ", ".join(names)


def _format_date(date: dt.date) -> str:
    return f"{date.day:02d}.{date.month:02d}.{date.year}"


class _DirectTies:
    """Direct ties of organisations, read from the graph only where an answer needs them.

    Most questions stop at the first tie found ("has it any?", "is it in the big group?"); building
    the full set of neighbours for every one of 100,000 organisations cost most of the analysis.
    """

    def __init__(self, G: nx.MultiDiGraph, orgs: dict[str, dict[str, Any]]) -> None:
        self._succ, self._pred, self._orgs = G._succ, G._pred, orgs
        self._keys = orgs.keys()

    def each(self, org: str):
        """Other organisations tied to ``org`` in either direction (one may come twice)."""
        orgs = self._orgs
        for other in self._succ[org]:
            if other in orgs and other != org:
                yield other
        for other in self._pred[org]:
            if other in orgs and other != org:
                yield other

    def any(self, org: str, among: Any = None) -> bool:
        """Is ``org`` tied to another organisation (of ``among``, a set or dict view, if given)?"""
        succ, pred = self._succ[org], self._pred[org]
        if org in succ or org in pred:  # a tie to itself does not count: the slow way
            found = self.each(org) if among is None else (o for o in self.each(org) if o in among)
            return next(found, None) is not None
        group = self._keys if among is None else among
        # isdisjoint with a set or dict view walks the shorter side, in C
        return not (succ.keys().isdisjoint(group) and pred.keys().isdisjoint(group))

    def all(self, org: str) -> set[str]:
        return set(self.each(org))


def _small_groups(ties: TieData, direct: _DirectTies, limit: int) -> dict[str, list[str]]:
    """Members (sorted) of every group of at most ``limit`` organisations, for each of its members.

    A group is a connected part of the network of direct ties and events (an event joins all its
    attendees). Each walk stops as soon as it has found more than ``limit`` members or reached an
    organisation already known to be in a bigger group, so the network is walked about once in all,
    however large the big group is. Organisations in bigger groups are not in the result.
    """
    small: dict[str, list[str]] = {}
    big: set[str] = set()
    events_of, attendees = ties.events_of, ties.attendees
    for start in ties.orgs:
        if start in small or start in big:
            continue
        found = {start}
        stack = [start]
        seen_events: set[str] = set()
        overflow = False
        while stack and not overflow:
            org = stack.pop()
            reachable = [direct.each(org)]
            for event in events_of[org]:
                if event not in seen_events:
                    seen_events.add(event)
                    reachable.append(attendees[event])
            for others in reachable:
                for other in others:
                    if other in found:
                        continue
                    if other in big or len(found) >= limit:
                        overflow = True
                        break
                    found.add(other)
                    stack.append(other)
                if overflow:
                    break
        if overflow:
            big.update(found)
        else:
            members = sorted(found)
            for org in found:
                small[org] = members
    if not big and small:
        # Every group is small: the largest of them (ties broken by its first member) is the main network.
        largest = min(small.values(), key=lambda m: (-len(m), m[0]))
        for org in largest:
            del small[org]
    return small


def isolated_organisations(
    G: nx.MultiDiGraph,
    *,
    today: dt.date,
    event_years: int = 3,
    district: str | None = None,
    regierungsbezirk: str | None = None,
    org_type: str | None = None,
    small_component_max: int | None = None,
) -> list[dict[str, Any]]:
    """Organisations that are isolated in one of four ways, each with a German reason.

    Reasons (``code``):

    - ``no_ties``: no tie to any other organisation (any relation, any direction) and no event
      attended or organised. Funding (``funded_by`` a programme) is not a network tie.
    - ``no_regular_service_tie`` (MSO types only): no tie to an organisation outside the migration
      field (``MIGRATION_FIELD_TYPES``), neither direct (any time) nor through an event attended or
      organised together within the last ``event_years`` years. Ties to KI, IA, other MSOs do not count.
    - ``no_recent_event``: no event attended or organised between ``today`` minus ``event_years``
      years and ``today`` (both days included), although events took place in the organisation's
      district in that window (events without a place count everywhere). Only where events exist.
    - ``small_component``: in a group of at most ``small_component_max`` organisations (default
      :data:`SMALL_COMPONENT_MAX`) linked by ties or shared events (any date) but not to the largest
      group. Organisations without any tie get ``no_ties`` instead.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    today
        Reference day for the event window (passed in, never read from the clock).
    event_years
        Length of the event window in years.
    district, regierungsbezirk, org_type
        Only list organisations in this district (5-digit key), Regierungsbezirk (name) or of this
        type (key or German label). The analysis itself always uses the whole graph.
    small_component_max
        Largest group size that counts as small.

    Returns
    -------
    Rows ``{id, name, org_type, org_type_label, city, district, regierungsbezirk, lat, lon,
    reasons: [{code, text}]}``; most reasons first, then by name.
    """
    with gc_paused():
        return _isolated(G, today, event_years, district, regierungsbezirk, org_type, small_component_max)


def _isolated(G, today, event_years, district, regierungsbezirk, org_type, small_component_max):
    limit = SMALL_COMPONENT_MAX if small_component_max is None else small_component_max
    type_key = vocabulary_key("org_type", org_type) if org_type else None
    rb_key = normalise_term(regierungsbezirk) if regierungsbezirk else None
    start = window_start(today, event_years)
    heading = f"Keine Teilnahme an einer Veranstaltung in den letzten {event_years} Jahren (seit {_format_date(start)})"
    ties = collect_ties(G, neighbours=False)
    direct = _DirectTies(G, ties.orgs)
    orgs = ties.orgs
    has_events = bool(ties.event_dates)
    recent = {e for e, d in ties.event_dates.items() if in_window(d, today, event_years)}
    # "No event has reached it" only means something where events took place: in the organisation's
    # district, or anywhere for events without a place (statewide/online).
    event_districts = {G._node[e].get("district") for e in recent}
    statewide_event = None in event_districts
    outside = {o for o, d in orgs.items() if d.get("org_type") not in MIGRATION_FIELD_TYPES}
    # Per recent event: its attendees from outside the migration field (they close the gap).
    outside_at = {e: [a for a in members if a in outside] for e, members in ties.attendees.items() if e in recent}
    type_labels = {key: label("org_type", key) for key in {d.get("org_type") or "" for d in orgs.values()}}
    small = _small_groups(ties, direct, limit)
    rank = _name_ranks(orgs)

    rows = []
    for org, data in orgs.items():
        if type_key and data.get("org_type") != type_key:
            continue
        if district and data.get("district") != district:
            continue
        if rb_key and normalise_term(data.get("regierungsbezirk") or "") != rb_key:
            continue
        reasons = []
        attended = ties.events_of[org]
        tied = direct.any(org)
        if not tied and not attended:
            reasons.append({"code": "no_ties", "text": "Keine Verbindung zu einer anderen Organisation und keine "
                                                        "Teilnahme an einer Veranstaltung erfasst."})
        kind = data.get("org_type")
        if kind in MSO_TYPES and not direct.any(org, outside):
            reason = _regular_service_reason(ties, direct.all(org), rank, org, recent, outside_at, event_years)
            if reason:
                reasons.append(reason)
        if (has_events and recent.isdisjoint(attended)
                and (statewide_event or data.get("district") in event_districts)):
            reasons.append(_event_reason(G, ties, attended, start, heading))
        group = small.get(org)
        if group is not None and (tied or attended):
            others = [m for m in group if m != org]
            if others:
                text = (f"Gehört zu einer abgetrennten Gruppe von {len(group)} Organisationen ohne "
                        f"Verbindung zum großen Netzwerk; die anderen: {_names_of(orgs, rank, others)}.")
            else:
                text = ("Nur über Veranstaltungen ohne weitere erfasste Teilnehmende verbunden: keine "
                        "Verbindung zum großen Netzwerk.")
            reasons.append({"code": "small_component", "text": text})
        if reasons:
            rows.append({
                "id": org, "name": data.get("name") or org, "org_type": kind,
                "org_type_label": type_labels[kind or ""],
                "city": data.get("city"), "district": data.get("district"),
                "regierungsbezirk": data.get("regierungsbezirk"), "lat": data.get("lat"), "lon": data.get("lon"),
                "reasons": reasons,
            })
    rows.sort(key=lambda r: (-len(r["reasons"]), rank[r["id"]]))
    return rows


def _regular_service_reason(ties: TieData, direct: set[str], rank: dict[str, int], org: str, recent: set[str],
                            outside_at: dict[str, list[str]], event_years: int) -> dict[str, str] | None:
    """Reason for an MSO without direct ties outside the migration field, unless an event closes the gap."""
    orgs = ties.orgs
    mine = [e for e in ties.events_of[org] if e in recent]
    if any(outside_at.get(e) for e in mine):
        return None
    contacts = set(direct)
    for event in mine:
        contacts.update(a for a in ties.attendees[event] if a != org and a in orgs)
    if contacts:
        text = ("Keine Verbindung zu einem Regeldienst oder einer anderen Organisation außerhalb des "
                f"Migrationsbereichs (direkt oder über gemeinsame Veranstaltungen der letzten {event_years} "
                f"Jahre); nur Kontakte zu: {_names_of(orgs, rank, contacts)}.")
    else:
        text = ("Keine Verbindung zu einem Regeldienst oder einer anderen Organisation außerhalb des "
                "Migrationsbereichs; auch sonst keine Kontakte (direkt oder über gemeinsame Veranstaltungen der "
                f"letzten {event_years} Jahre) erfasst.")
    return {"code": "no_regular_service_tie", "text": text}


def _event_reason(G, ties: TieData, attended: list[str], start: dt.date, heading: str) -> dict[str, str]:
    since = heading
    dates = ties.event_dates
    dated = [(d, e) for e in attended if (d := dates.get(e)) is not None and d < start]
    if dated:
        date, event = max(dated)
        since += f"; zuletzt: {G._node[event].get('name') or event} am {_format_date(date)}"
    elif not attended:
        since += "; bisher überhaupt keine Veranstaltung erfasst"
    return {"code": "no_recent_event", "text": since + "."}
