"""Isolated organisations: no ties, no tie to regular services, no recent event, small separate groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import networkx as nx

from graph.lookup import name_key, vocabulary_key
from graph.network import TieData, collect_ties, gc_paused, in_window, window_start
from graph.vocabulary import MIGRATION_FIELD_TYPES, MSO_TYPES, label, normalise_term

__all__ = ["isolated_organisations", "REASON_CODES", "SMALL_COMPONENT_MAX", "names_text"]

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


def _sorted_names(G: nx.MultiDiGraph, ids) -> list[str]:
    node_data = G._node
    return [node_data[i].get("name") or i for i in sorted(ids, key=lambda i: name_key(node_data[i].get("name"), i))]


def _format_date(date: dt.date) -> str:
    return f"{date.day:02d}.{date.month:02d}.{date.year}"


def _components(ties: TieData) -> tuple[dict[str, int], dict[int, list[str]]]:
    """Component number of each organisation and the sorted members of each component.

    A walk over direct ties and events: an event joins all its attendees without building every
    attendee pair.
    """
    label_of: dict[str, int] = {}
    members: dict[int, list[str]] = {}
    done_events: set[str] = set()
    neighbours, events_of, attendees = ties.neighbours, ties.events_of, ties.attendees
    for start in sorted(ties.orgs):
        if start in label_of:
            continue
        number = len(members)
        label_of[start] = number
        found = [start]
        stack = [start]
        while stack:
            org = stack.pop()
            for other in neighbours[org]:
                if other not in label_of:
                    label_of[other] = number
                    found.append(other)
                    stack.append(other)
            for event in events_of[org]:
                if event in done_events:
                    continue
                done_events.add(event)
                for other in attendees[event]:
                    if other not in label_of:
                        label_of[other] = number
                        found.append(other)
                        stack.append(other)
        found.sort()
        members[number] = found
    return label_of, members


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
    ties = collect_ties(G)
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
    label_of, members = _components(ties)
    sizes = {c: len(m) for c, m in members.items()}
    largest = min(sizes, key=lambda c: (-sizes[c], members[c][0])) if sizes else None

    rows = []
    for org, data in orgs.items():
        if type_key and data.get("org_type") != type_key:
            continue
        if district and data.get("district") != district:
            continue
        if rb_key and normalise_term(data.get("regierungsbezirk") or "") != rb_key:
            continue
        reasons = []
        direct = ties.neighbours[org]
        attended = ties.events_of[org]
        if not direct and not attended:
            reasons.append({"code": "no_ties", "text": "Keine Verbindung zu einer anderen Organisation und keine "
                                                        "Teilnahme an einer Veranstaltung erfasst."})
        kind = data.get("org_type")
        if kind in MSO_TYPES and direct.isdisjoint(outside):
            reason = _regular_service_reason(G, ties, org, recent, outside_at, event_years)
            if reason:
                reasons.append(reason)
        if (has_events and recent.isdisjoint(attended)
                and (statewide_event or data.get("district") in event_districts)):
            reasons.append(_event_reason(G, ties, attended, start, heading))
        component = label_of[org]
        if (direct or attended) and component != largest and sizes[component] <= limit:
            others = [m for m in members[component] if m != org]
            if others:
                text = (f"Gehört zu einer abgetrennten Gruppe von {sizes[component]} Organisationen ohne "
                        f"Verbindung zum großen Netzwerk; die anderen: {names_text(_sorted_names(G, others))}.")
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
    rows.sort(key=lambda r: (-len(r["reasons"]), *name_key(r["name"], r["id"])))
    return rows


def _regular_service_reason(G, ties: TieData, org: str, recent: set[str], outside_at: dict[str, list[str]],
                            event_years: int) -> dict[str, str] | None:
    """Reason for an MSO without direct ties outside the migration field, unless an event closes the gap."""
    orgs = ties.orgs
    direct = ties.neighbours[org]
    mine = [e for e in ties.events_of[org] if e in recent]
    if any(outside_at.get(e) for e in mine):
        return None
    contacts = set(direct)
    for event in mine:
        contacts.update(a for a in ties.attendees[event] if a != org and a in orgs)
    if contacts:
        text = ("Keine Verbindung zu einem Regeldienst oder einer anderen Organisation außerhalb des "
                f"Migrationsbereichs (direkt oder über gemeinsame Veranstaltungen der letzten {event_years} "
                f"Jahre); nur Kontakte zu: {names_text(_sorted_names(G, contacts))}.")
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
