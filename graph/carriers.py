"""Welfare-association carriers (Träger) and the kinds of organisation a tandem search leaves out."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from msonet.graph.vocabulary import MIGRATION_FIELD_TYPES, normalise_term

if TYPE_CHECKING:  # only in annotations: loading files does not import networkx
    import networkx as nx

__all__ = [
    "CARRIERS",
    "carrier_from_name",
    "carrier_of",
    "is_umbrella",
    "is_migration_service",
    "UMBRELLA_TYPES",
    "UMBRELLA_MEMBER_DISTRICTS",
]

#: The six associations of the Freie Wohlfahrtspflege NRW: key -> name shown to users.
CARRIERS: dict[str, str] = {
    "awo": "AWO", "caritas": "Caritas", "diakonie": "Diakonie", "drk": "DRK", "paritaet": "Paritätischer",
    "juedisch": "Jüdische Gemeinden",
}
# Matched on the normalised name (lower case, umlauts folded: ä -> ae).
_CARRIER_PATTERNS = (
    ("awo", re.compile(r"\bawo\b|arbeiterwohlfahrt")),
    ("caritas", re.compile(r"caritas")),
    ("diakonie", re.compile(r"diakonie|diakonisch")),
    ("drk", re.compile(r"\bdrk\b|rotes kreuz|rotkreuz")),
    ("paritaet", re.compile(r"paritaetisch")),
    ("juedisch", re.compile(r"juedische gemeinde")),
)

#: Types that act at state or federal level: never a local tandem partner.
UMBRELLA_TYPES = frozenset({"state_ministry", "state_authority", "state_coordination_office", "mso_federation"})
#: An organisation with members (``member_of``), operated services (``operates``) or coordinated bodies
#: (``coordinated_by``) in at least this many districts acts above the local level (an umbrella).
UMBRELLA_MEMBER_DISTRICTS = 3
_UMBRELLA_WORDS = re.compile(r"\b(landesverband|bundesverband|dachverband|spitzenverband|landesarbeitsgemeinschaft"
                             r"|landesweit|nrw|nordrhein|westfalen-lippe|nordrhein-westfalen)\b")
_MIGRATION_WORDS = re.compile(r"integration|migration|migrant|fluechtling|gefluechtete|zuwander|asyl|"
                              r"interkulturell")


def carrier_from_name(name: str | None) -> str | None:
    """The welfare association a name belongs to (``"AWO Ortsverein Köln"`` -> ``"awo"``), or ``None``."""
    text = normalise_term(name or "")
    for key, pattern in _CARRIER_PATTERNS:
        if pattern.search(text):
            return key
    return None


def carrier_of(G: nx.MultiDiGraph, node: str) -> str | None:
    """Carrier of an organisation: by its name, else by a welfare association that ``operates`` it.

    Memberships do not count: an MSO in the Paritätischer stays an independent organisation.
    """
    data = G._node[node]
    found = carrier_from_name(data.get("name"))
    if found or data.get("org_type") in MIGRATION_FIELD_TYPES - {"integration_agency", "antidiscrimination_office"}:
        return found
    for source, keydict in G._pred[node].items():
        if any(d.get("type") == "operates" for d in keydict.values()):
            found = carrier_from_name(G._node[source].get("name"))
            if found:
                return found
    return None


def is_umbrella(G: nx.MultiDiGraph, node: str, data: dict[str, Any] | None = None) -> bool:
    """True for state-level and umbrella bodies (Landesverband, ministry, Bezirksregierung, LaKI ...).

    The rule: a type in :data:`UMBRELLA_TYPES`, or a name with Landes-/Bundes-/Dachverband, "NRW",
    "Nordrhein(-Westfalen)", "Westfalen-Lippe", or members/operated services in at least
    :data:`UMBRELLA_MEMBER_DISTRICTS` districts.
    """
    data = data if data is not None else G._node[node]
    if data.get("org_type") in UMBRELLA_TYPES:
        return True
    if _UMBRELLA_WORDS.search(normalise_term(data.get("name") or "")):
        return True
    districts: set[str] = set()
    nodes = G._node
    for other, keydict in G._pred[node].items():
        if any(d.get("type") in ("member_of", "coordinated_by") for d in keydict.values()):
            districts.add(nodes[other].get("district") or "?")
    for other, keydict in G._succ[node].items():
        if any(d.get("type") == "operates" for d in keydict.values()):
            districts.add(nodes[other].get("district") or "?")
    return len(districts) >= UMBRELLA_MEMBER_DISTRICTS


def is_migration_service(data: dict[str, Any]) -> bool:
    """True for migration-specific services outside the migration-field types.

    E.g. a welfare association's "Fachdienst Integration" or a refugee-help initiative: a type in
    :data:`graph.vocabulary.MIGRATION_FIELD_TYPES`, a name with Integration, Migration, Flüchtling,
    Geflüchtete, Zuwanderung, Asyl or interkulturell, or refugees as the first (main) sector.
    """
    if data.get("org_type") in MIGRATION_FIELD_TYPES:
        return True
    if _MIGRATION_WORDS.search(normalise_term(data.get("name") or "")):
        return True
    sectors = list(data.get("sectors") or ())
    return bool(sectors) and sectors[0] == "refugees"
