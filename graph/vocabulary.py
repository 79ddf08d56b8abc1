"""Controlled vocabulary of msonet with German labels (keys are stable, labels are for people)."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "LOCATION_PRECISIONS",
    "ORG_TYPES",
    "SECTORS",
    "RELATION_TYPES",
    "EVENT_TYPES",
    "FUNDING_KINDS",
    "MSO_TYPES",
    "MIGRATION_FIELD_TYPES",
    "COMPLEMENTARY_SECTORS",
    "SYMMETRIC_RELATIONS",
    "EVENT_RELATIONS",
    "FUNDING_RELATION",
    "NODE_KINDS",
    "REGULAR_FUNDING_KINDS",
    "target_kind",
    "label",
    "funding_class",
    "normalise_term",
    "lookup_key",
]

# Each entry: key -> (short German label, longer German description).
ORG_TYPES: dict[str, tuple[str, str]] = {
    "mso": ("MSO", "Migrant*innen(selbst)organisation (MSO/MO), Verein"),
    "mso_network": ("MSO-Verbund", "Lokaler Verbund von MSO (z.B. VMDO Dortmund, BONEM Bochum)"),
    "mso_federation": ("MSO-Dachverband", "MSO-Dachverband auf Landes- oder Bundesebene (z.B. Elternnetzwerk NRW)"),
    "welfare_association": ("Wohlfahrtsverband", "Verband der Freien Wohlfahrtspflege (AWO, Caritas, Diakonie, DRK, Paritätischer)"),
    "regular_service": ("Regeldienst", "Regeldienst / Einrichtung der sozialen Arbeit (Kita, Beratungsstelle, Jugendzentrum)"),
    "integration_agency": ("Integrationsagentur (IA)", "Integrationsagentur der Freien Wohlfahrtspflege"),
    "antidiscrimination_office": ("Servicestelle Antidiskriminierung", "Servicestelle für Antidiskriminierungsarbeit"),
    "municipal_integration_centre": ("Kommunales Integrationszentrum (KI)", "Kommunales Integrationszentrum"),
    "state_coordination_office": ("LaKI", "Landesweite Koordinierungsstelle der Kommunalen Integrationszentren"),
    "state_ministry": ("Landesministerium", "Ministerium des Landes NRW"),
    "state_authority": ("Bezirksregierung / KfI", "Bezirksregierung / Kompetenzzentrum für Integration (KfI)"),
    "municipal_administration": ("Kommunalverwaltung", "Kommunalverwaltung (Jugendamt, Sozialamt, Kreisverwaltung)"),
    "integration_council": ("Integrationsrat", "Integrationsrat / Ausschuss für Chancengerechtigkeit und Integration"),
    "advisory_service": ("Fachberatung / Servicestelle", "Fachberatung oder Servicestelle (z.B. Fachberatung MSO)"),
    "foundation": ("Stiftung", "Stiftung"),
    "education_provider": ("Bildungseinrichtung", "Bildungseinrichtung / Bildungswerk / Hochschule / Schule"),
    "religious_community": ("Religionsgemeinschaft", "Religionsgemeinschaft / Gemeinde"),
    "sports_club": ("Sportverein", "Sportverein"),
    "self_help_group": ("Selbsthilfegruppe / Interessenverband", "Selbsthilfegruppe oder Interessenverband (z.B. LSBTIQ*, Behinderung)"),
    "initiative": ("Initiative", "Initiative / informelle Gruppe"),
}

SECTORS: dict[str, tuple[str, str]] = {
    "child_youth": ("Kinder- und Jugendhilfe", "Kinder- und Jugendhilfe / Jugendarbeit"),
    "parents_family": ("Eltern- und Familienarbeit", "Eltern- und Familienarbeit"),
    "education": ("Bildung", "Bildung / außerschulische Bildung / Hausaufgabenhilfe"),
    "language": ("Sprachförderung", "Sprachförderung / Mehrsprachigkeit"),
    "social_counselling": ("Sozial- und Migrationsberatung", "Sozial- und Migrationsberatung"),
    "refugees": ("Flüchtlingshilfe", "Flüchtlingshilfe / Neuzugewanderte"),
    "antidiscrimination": ("Antidiskriminierung", "Antidiskriminierung / Antirassismus"),
    "democracy_participation": ("Demokratie und Partizipation", "Demokratieförderung / politische Bildung / Partizipation"),
    "labour_market": ("Arbeitsmarkt und Ausbildung", "Arbeitsmarkt / Ausbildung / Qualifizierung"),
    "health": ("Gesundheit", "Gesundheit"),
    "seniors_care": ("Senior*innenarbeit und Pflege", "Senior*innenarbeit / Pflege"),
    "disability": ("Behinderung und Inklusion", "Arbeit mit Menschen mit Behinderung / Inklusion"),
    "women_girls": ("Frauen und Mädchen", "Frauen- und Mädchenarbeit / Gewaltschutz"),
    "lgbtiq": ("LSBTIQ*", "LSBTIQ*"),
    "culture": ("Kultur", "Kultur / interkultureller Austausch"),
    "sport": ("Sport", "Sport"),
    "interreligious_dialogue": ("Interreligiöser Dialog", "Interkultureller / interreligiöser Dialog"),
    "neighbourhood": ("Quartiersarbeit", "Quartiers- und Gemeinwesenarbeit / Zusammenleben im Stadtteil"),
    "volunteering": ("Ehrenamt", "Engagementförderung / Ehrenamt"),
    "development": ("Entwicklungspolitik", "Entwicklungspolitik / transnationales Engagement"),
}

RELATION_TYPES: dict[str, tuple[str, str]] = {
    "member_of": ("ist Mitglied von", "ist Mitglied von (Verband, Verbund, Gremium)"),
    "cooperates_with": ("kooperiert mit", "kooperiert mit"),
    "tandem_partner": ("Tandempartner", "Tandempartner (symmetrisch; MSO + nicht-migrantische Organisation)"),
    "attended_event": ("nahm teil an", "nahm teil an (Organisation -> Veranstaltung)"),
    "organised_event": ("veranstaltete", "veranstaltete / richtete aus (Organisation -> Veranstaltung)"),
    "advised_by": ("wird beraten von", "wird beraten / qualifiziert von"),
    "funded_by": ("wird gefördert durch", "wird gefördert durch (Förderart, Programm, Jahre, Betrag)"),
    "supports": ("unterstützt", "unterstützt / begleitet / mentort"),
    "operates": ("ist Träger von", "ist Träger von (z.B. Wohlfahrtsverband -> Integrationsagentur)"),
    "coordinated_by": ("wird koordiniert von", "wird koordiniert von (KI -> LaKI)"),
    "represented_in": ("ist vertreten in", "ist vertreten in (Integrationsrat, Fachgremium, Netzwerk)"),
}

EVENT_TYPES: dict[str, tuple[str, str]] = {
    "networking_meeting": ("Vernetzungstreffen", "Vernetzungstreffen / Netzwerktreffen"),
    "conference": ("Fachtag", "Fachtag / Fachtagung / Konferenz"),
    "anniversary": ("Jubiläum", "Jubiläumsveranstaltung"),
    "training": ("Fortbildung", "Fortbildung / Seminar / Workshop"),
    "info_session": ("Informationsveranstaltung", "Informationsveranstaltung (z.B. zu Förderaufrufen)"),
    "closing_event": ("Abschlussveranstaltung", "Abschlussveranstaltung eines Projekts"),
    "action_days": ("Aktionstage", "Aktionstage / Aktionswochen"),
    "general_assembly": ("Mitgliederversammlung", "Mitgliederversammlung"),
    "festival": ("Fest / Tag der offenen Tür", "Kultur-/Sommerfest / Tag der offenen Tür"),
    "political_visit": ("Politischer Besuch", "Besuch politischer Vertreter*innen"),
    "committee_meeting": ("Gremiensitzung", "Gremien-/Arbeitskreissitzung"),
}

FUNDING_KINDS: dict[str, tuple[str, str]] = {
    "regular_funding": ("Regelförderung", "Regelförderung (dauerhaft/institutionell, z.B. KI, IA, Fachberatung, SGB VIII)"),
    "project_funding": ("Projektförderung", "Projektförderung (befristet, zweckgebunden)"),
    "startup_funding": ("Anschubförderung", "Anschubförderung (MSO im Aufbau; NRW: bis 100 %, max. 6.000 EUR)"),
    "single_project_funding": ("Einzelprojektförderung", "Einzelprojektförderung (MSO-Richtlinie NRW, bis 80 %)"),
    "partner_project_funding": ("Partnerprojektförderung", "Partnerprojektförderung / Unterstützungsförderung"),
    "structural_funding": ("Strukturförderung", "Strukturförderung (z.B. BAMF-Strukturförderung für Dachverbände)"),
    "pass_through_funding": ("Weitergeleitete Mittel", "Weitergeleitete Mittel (z.B. KOMM-AN NRW über KI)"),
    "foundation_grant": ("Stiftungsförderung", "Stiftungsförderung"),
    "municipal_grant": ("Kommunaler Zuschuss", "Kommunaler Zuschuss"),
    "own_funds": ("Eigenmittel", "Eigenmittel / Spenden / Mitgliedsbeiträge"),
}

#: Organisation types that count as migrant (self-)organisations.
MSO_TYPES = frozenset({"mso", "mso_network", "mso_federation"})

#: Types inside the migration field: ties among them do not close the mainstreaming gap.
MIGRATION_FIELD_TYPES = frozenset(
    MSO_TYPES
    | {
        "integration_agency",
        "municipal_integration_centre",
        "antidiscrimination_office",
        "state_coordination_office",
        "integration_council",
    }
)

#: Fields the tandem project paired MSOs with (plus youth services).
COMPLEMENTARY_SECTORS = frozenset({"disability", "seniors_care", "women_girls", "lgbtiq", "child_youth"})

#: Relations that have no direction.
SYMMETRIC_RELATIONS = frozenset({"cooperates_with", "tandem_partner"})

#: Relations from an organisation to an event (every other relation ties two organisations).
EVENT_RELATIONS = frozenset({"attended_event", "organised_event"})

#: The relation of a funding record: organisation -> programme (made from funding files only).
FUNDING_RELATION = "funded_by"

#: Kinds of node -> German name (for messages and tables).
NODE_KINDS: dict[str, str] = {"organisation": "Organisation", "event": "Veranstaltung", "programme": "Förderprogramm"}

#: Funding kinds that are permanent (everything else counts as project funding).
REGULAR_FUNDING_KINDS = frozenset({"regular_funding"})

_TABLES = {
    "org_type": ORG_TYPES,
    "sector": SECTORS,
    "relation_type": RELATION_TYPES,
    "event_type": EVENT_TYPES,
    "funding_kind": FUNDING_KINDS,
}


def label(kind: str, key: str) -> str:
    """Return the short German label of a vocabulary key (the key itself if unknown)."""
    entry = _TABLES[kind].get(key)
    return entry[0] if entry else key


def target_kind(rel_type: str) -> str:
    """Node kind at the head of a relation: ``"event"``, ``"programme"`` or ``"organisation"``.

    >>> target_kind("attended_event"), target_kind("funded_by"), target_kind("member_of")
    ('event', 'programme', 'organisation')

    Raises ``KeyError`` for a type that is not in :data:`RELATION_TYPES`.
    """
    if rel_type not in RELATION_TYPES:
        raise KeyError(rel_type)
    if rel_type in EVENT_RELATIONS:
        return "event"
    if rel_type == FUNDING_RELATION:
        return "programme"
    return "organisation"


def funding_class(funding_kind: str) -> str:
    """Return ``"regular"`` or ``"project"`` for a funding kind."""
    return "regular" if funding_kind in REGULAR_FUNDING_KINDS else "project"


def normalise_term(text: str) -> str:
    """Fold case, umlauts, accents and punctuation so that user spellings compare equal."""
    # composed first: a decomposed "ü" (u + U+0308, as macOS writes it) must fold like the composed one
    text = unicodedata.normalize("NFC", text.strip()).casefold()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():  # only then can there be combining marks (checked in C, most names are ASCII here)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    # keep letters of every script (Cyrillic, Arabic, ...) so such names stay distinguishable
    return re.sub(r"[^\w*]+|_", " ", text).strip()


def _build_index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = {}
    for kind, table in _TABLES.items():
        terms: dict[str, str] = {}
        for key, (short, long) in table.items():
            bare = re.sub(r"\s*\(.*?\)", "", short)  # "Integrationsagentur (IA)" -> "Integrationsagentur"
            for term in (key, key.replace("_", " "), short, long, bare):
                terms.setdefault(normalise_term(term), key)
        if kind == "sector":
            # Each part of a field's description names it too ("Kinder- und Jugendhilfe / Jugendarbeit" ->
            # "Jugendarbeit"). Only for fields: in organisation types a part such as "Gemeinde" is ambiguous.
            for key, (_short, long) in table.items():
                for part in long.split("/"):
                    terms.setdefault(normalise_term(part), key)
        index[kind] = terms
    # Common abbreviations and synonyms users type.
    extra = {
        "org_type": {
            "ki": "municipal_integration_centre", "ia": "integration_agency", "mo": "mso",
            "migrantenorganisation": "mso", "migrantinnenorganisation": "mso", "verein": "mso",
            "kfi": "state_authority", "bezirksregierung": "state_authority", "laki": "state_coordination_office",
            "ministerium": "state_ministry", "jugendamt": "municipal_administration",
            "beratungsstelle": "regular_service", "dachverband": "mso_federation", "verbund": "mso_network",
        },
        "sector": {"jugend": "child_youth", "jugendhilfe": "child_youth", "senioren": "seniors_care",
                   "pflege": "seniors_care", "frauen": "women_girls", "lsbt*": "lgbtiq", "lsbtiq": "lgbtiq",
                   "lgbt": "lgbtiq", "behinderung": "disability", "inklusion": "disability",
                   "integration": "social_counselling", "familie": "parents_family", "eltern": "parents_family",
                   "fluechtlinge": "refugees", "gefluechtete": "refugees", "arbeit": "labour_market"},
        "funding_kind": {"regelfoerderung": "regular_funding", "regular": "regular_funding",
                         "projekt": "project_funding", "project": "project_funding"},
    }
    for kind, terms in extra.items():
        for term, key in terms.items():
            index[kind].setdefault(normalise_term(term), key)
    return index


_INDEX = _build_index()


def lookup_key(kind: str, text: str) -> str | None:
    """Resolve a vocabulary key or German label (any case, with or without umlauts) to its key.

    Parameters
    ----------
    kind
        One of ``org_type``, ``sector``, ``relation_type``, ``event_type``, ``funding_kind``.
    text
        What the user wrote.

    Returns
    -------
    The vocabulary key, or ``None`` when the text matches nothing.
    """
    return _INDEX[kind].get(normalise_term(text))


def choices(kind: str) -> list[str]:
    """Return the valid keys of one vocabulary table, in their defined order."""
    return list(_TABLES[kind])


#: How exactly an organisation's point is known, finest first -> German wording for reasons and tables.
LOCATION_PRECISIONS: dict[str, str] = {
    "address": "nach Adresse",
    "postcode": "nach Postleitzahl",
    "municipality": "nach Gemeinde",
}

