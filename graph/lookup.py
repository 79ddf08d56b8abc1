"""Find organisations and events in the graph by id or name, and list an organisation's ties."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from msonet.graph.errors import Ambiguous, NotFound
from msonet.graph.vocabulary import NODE_KINDS, choices, label, lookup_key, normalise_term

if TYPE_CHECKING:  # only in annotations: loading files does not import networkx
    import networkx as nx

__all__ = [
    "Remembered",
    "organisations",
    "events",
    "get_organisation",
    "resolve_organisation",
    "resolve_event",
    "organisation_ties",
    "vocabulary_key",
    "name_key",
]

_MAX_SUGGESTIONS = 5


def organisations(G: nx.MultiDiGraph) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(id, attributes)`` of every organisation node."""
    for node, data in G.nodes(data=True):
        if data.get("kind") == "organisation":
            yield node, data


def events(G: nx.MultiDiGraph) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(id, attributes)`` of every event node."""
    for node, data in G.nodes(data=True):
        if data.get("kind") == "event":
            yield node, data


_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def name_key(name: str | None, node_id: str) -> tuple[str, str]:
    """Sort key used by all analytics: case-folded name with umlauts as ``ae`` ..., then id.

    Cheaper than :func:`msonet.graph.vocabulary.normalise_term` (no regex, no Unicode decomposition), which
    matters when 100,000 rows are sorted.
    """
    folded = (name or "").casefold()
    if "ä" in folded or "ö" in folded or "ü" in folded:  # translate() is slow; most names need none
        folded = folded.translate(_FOLD)
    return (folded, node_id)


def get_organisation(G: nx.MultiDiGraph, org_id: str) -> dict[str, Any]:
    """Attributes of organisation ``org_id``; raises :class:`NotFound` (with suggestions) otherwise."""
    data = G.nodes.get(org_id) if org_id in G else None
    if data is None or data.get("kind") != "organisation":
        found = resolve_organisation(G, org_id)  # raises NotFound / Ambiguous with suggestions
        raise NotFound(f"„{org_id}“ ist keine Organisations-Id, sondern ein Name. Bitte die Id angeben.",
                       [_describe_organisation(found, G.nodes[found])])
    return data


def _resolve(G: nx.MultiDiGraph, text: str, kind: str, describe) -> str:
    what = NODE_KINDS[kind]
    wanted = (text or "").strip()
    if not wanted:
        raise NotFound(f"Bitte Namen oder Id einer {what} angeben (die Eingabe ist leer).")
    if wanted in G and G.nodes[wanted].get("kind") == kind:
        return wanted
    folded = normalise_term(wanted)
    by_name: dict[str, list[str]] = {}
    for node, data in G.nodes(data=True):
        if data.get("kind") == kind:
            by_name.setdefault(normalise_term(data.get("name") or ""), []).append(node)
    matches = sorted(by_name.get(folded, ()))
    if len(matches) == 1:
        return matches[0]
    if matches:
        options = [describe(node, G.nodes[node]) for node in matches]
        raise Ambiguous(f"Der Name „{wanted}“ passt zu {len(matches)} Einträgen ({what}). "
                        "Bitte die Id angeben.", options)
    # Close spellings first, then names that contain what was typed (``Coach`` -> ``Coach e.V.``).
    close = difflib.get_close_matches(folded, list(by_name), n=_MAX_SUGGESTIONS, cutoff=0.6)
    if folded:
        close += sorted(name for name in by_name if folded in name and name not in close)
    suggestions = []
    for name in close[:_MAX_SUGGESTIONS]:
        for node in sorted(by_name[name]):
            suggestions.append(f"{G.nodes[node].get('name') or node} ({node})")
    raise NotFound(f"Keine {what} mit Id oder Namen „{wanted}“ gefunden.", suggestions[:_MAX_SUGGESTIONS])


def _describe_organisation(node: str, data: dict[str, Any]) -> str:
    place = data.get("city") or "Ort unbekannt"
    return f"{data.get('name') or node} ({node}, {place})"


def _describe_event(node: str, data: dict[str, Any]) -> str:
    parts = [node, data.get("city") or "Ort unbekannt"]
    if data.get("date"):
        parts.append(str(data["date"]))
    return f"{data.get('name') or node} ({', '.join(parts)})"


def resolve_organisation(G: nx.MultiDiGraph, text: str) -> str:
    """Return the id of the organisation meant by ``text``.

    ``text`` is an exact id or a name; names compare after :func:`msonet.graph.vocabulary.normalise_term`
    (case, umlauts, punctuation do not matter).

    Raises
    ------
    Ambiguous
        Several organisations carry that name; ``suggestions`` lists "Name (id, Ort)".
    NotFound
        No organisation matches; ``suggestions`` lists similar names as "Name (id)".
    """
    return _resolve(G, text, "organisation", _describe_organisation)


def resolve_event(G: nx.MultiDiGraph, text: str) -> str:
    """Return the id of the event meant by ``text`` (exact id or name); see :func:`resolve_organisation`."""
    return _resolve(G, text, "event", _describe_event)


def vocabulary_key(kind: str, text: str) -> str:
    """Vocabulary key for a key or German label; raises :class:`NotFound` listing the valid labels."""
    key = lookup_key(kind, text)
    if key is None:
        what = {"org_type": "Organisationstyp", "sector": "Handlungsfeld", "event_type": "Veranstaltungsart",
                "relation_type": "Beziehungstyp", "funding_kind": "Förderart"}[kind]
        options = [f"{label(kind, k)} ({k})" for k in choices(kind)]
        close = difflib.get_close_matches(normalise_term(text), [normalise_term(o) for o in options], n=3,
                                          cutoff=0.5)
        suggestions = [o for o in options if normalise_term(o) in close] or options
        raise NotFound(f"Unbekannter {what} „{text}“.", suggestions)
    return key


def organisation_ties(G: nx.MultiDiGraph, org_id: str) -> list[dict[str, Any]]:
    """Neighbours of an organisation with the relations that link them (for details panels).

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    org_id
        Id of an organisation.

    Returns
    -------
    One row per neighbour: ``{id, name, kind, kind_label, type, type_label, city, date,
    relations: [{type, label, direction, since, source}]}``; ``type`` is the neighbour's
    org_type, event_type or funding_kind; ``direction`` is ``"out"`` (this organisation is the
    source), ``"in"`` or ``"both"`` (symmetric relations). Sorted by kind (organisations, events,
    programmes), then name.
    """
    get_organisation(G, org_id)
    rows: dict[str, dict[str, Any]] = {}

    def add(other: str, data: dict[str, Any], direction: str) -> None:
        node = G.nodes[other]
        kind = node.get("kind", "")
        row = rows.get(other)
        if row is None:
            type_field = {"organisation": ("org_type", "org_type"), "event": ("event_type", "event_type"),
                          "programme": ("funding_kind", "funding_kind")}.get(kind)
            value = node.get(type_field[0]) if type_field else None
            row = rows[other] = {
                "id": other, "name": node.get("name") or other, "kind": kind,
                "kind_label": NODE_KINDS.get(kind, kind), "type": value,
                "type_label": label(type_field[1], value) if type_field and value else None,
                "city": node.get("city"), "date": node.get("date"), "relations": [],
            }
        rel_type = data.get("type", "")
        if rel_type in ("cooperates_with", "tandem_partner"):
            direction = "both"
        row["relations"].append({
            "type": rel_type, "label": label("relation_type", rel_type), "direction": direction,
            "since": data.get("since") or (f"{data['year_from']}" if data.get("year_from") else None),
            "source": data.get("source") or "",
        })

    for _, other, data in G.out_edges(org_id, data=True):
        add(other, data, "out")
    for other, _, data in G.in_edges(org_id, data=True):
        add(other, data, "in")
    order = {"organisation": 0, "event": 1, "programme": 2}
    for row in rows.values():
        row["relations"].sort(key=lambda r: (r["type"], r["direction"], r["since"] or ""))
    return sorted(rows.values(), key=lambda r: (order.get(r["kind"], 3), *name_key(r["name"], r["id"])))


class Remembered(dict):
    """``table[key]`` is ``check(key)``, worked out once per distinct key (a million rows share a few texts,
    a planner asks for the same ids again and again); ``known`` answers given in advance."""

    def __init__(self, check: Callable[[Any], Any], known: dict[Any, Any] | None = None) -> None:
        super().__init__(known or {})
        self.check = check

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.check(key)
        return value
