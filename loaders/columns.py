"""Column names of each file kind: accepted header spellings (English and German) and kind detection."""

from __future__ import annotations

from dataclasses import dataclass

from msonet.graph.vocabulary import normalise_term

__all__ = [
    "Column",
    "COLUMNS",
    "normalise_header",
    "match_headers",
    "detect_kind",
    "column",
    "accepted_spellings",
]


@dataclass(frozen=True)
class Column:
    """One field of a file kind: its canonical header, other accepted headers and whether it is required."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _c(name: str, *aliases: str, required: bool = False) -> Column:
    return Column(name, aliases, required)


_PROVENANCE = (
    _c("synthetic", "synthetisch", "fiktiv", "synthetische Daten"),
    _c("source", "Quelle", "Datenquelle", "Herkunft", "provenance"),
    _c("updated", "Stand", "aktualisiert", "Aktualisierung", "letzte Änderung", "last_updated"),
)

#: The columns of every file kind; the first spelling is the one the export writes.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "organisations": (
        _c("id", "ID", "Kennung", "org_id"),
        # "Label": Gephi's node table (Id, Label) and Kumu name the organisation so.
        _c("name", "Name", "Organisationsname", "Organisation", "Bezeichnung", "Einrichtung", "Label", required=True),
        _c("type", "Typ", "Art", "Organisationstyp", "Organisationsart", "org_type", "Kategorie", required=True),
        _c("city", "Ort", "Stadt", "Gemeinde", "Kommune", "Sitz"),
        _c("ags", "AGS", "Gemeindeschlüssel", "Gemeindekennziffer"),
        _c("postcode", "PLZ", "Postleitzahl", "zip", "postal_code"),
        _c("address", "Adresse", "Straße", "Anschrift", "Straße und Hausnummer", "street"),
        _c("sectors", "Handlungsfelder", "Handlungsfeld", "Themen", "Arbeitsfelder", "Arbeitsfeld", "sector"),
        _c("website", "Webseite", "Homepage", "Internetseite", "Internet", "url"),
        _c("founded", "gegründet", "Gründungsjahr", "Gründung", "gegründet im Jahr"),
        _c("description", "Beschreibung", "Kurzbeschreibung"),
        _c("contact_person", "Ansprechperson", "Ansprechpartner", "Ansprechpartnerin", "Ansprechpartner*in",
           "Kontaktperson", "Kontakt"),
        _c("email", "E-Mail", "Mail", "E-Mail-Adresse"),
        _c("phone", "Telefon", "Tel", "Telefonnummer"),
        *_PROVENANCE,
    ),
    "events": (
        _c("id", "ID", "Kennung", "event_id"),
        _c("name", "Name", "Titel", "Bezeichnung", "Veranstaltungsname", required=True),
        _c("type", "Typ", "Art", "Veranstaltungstyp", "Veranstaltungsart", "Format", "event_type", required=True),
        _c("date", "Datum", "Termin", "Tag", required=True),
        _c("city", "Ort", "Stadt", "Gemeinde", "Veranstaltungsort"),
        _c("ags", "AGS", "Gemeindeschlüssel", "Gemeindekennziffer"),
        _c("sectors", "Handlungsfelder", "Handlungsfeld", "Themen", "sector"),
        _c("description", "Beschreibung"),
        *_PROVENANCE,
    ),
    "relations": (
        _c("source_id", "from", "von", "organisation", "Organisation A", "org_a", "Ausgangsorganisation",
           required=True),
        _c("target_id", "to", "nach", "zu", "partner", "Partnerorganisation", "Organisation B", "org_b", "Ziel",
           "target", required=True),
        _c("type", "Typ", "Art", "Beziehung", "Beziehungstyp", "Beziehungsart", "relation", "rel_type",
           required=True),
        _c("since", "seit", "Beginn", "ab"),
        _c("note", "Notiz", "Bemerkung", "Anmerkung", "Kommentar"),
        _c("weight", "Gewicht", "Stärke", "Intensität"),
        # Gephi's edge table: "Type" is the direction (Directed/Undirected), "Label" then names the tie.
        _c("label", "Label"),
        *_PROVENANCE,
    ),
    "attendance": (
        _c("event", "Veranstaltung", "event_id", "Veranstaltungs-Id", required=True),
        _c("organisation", "Organisation", "org", "org_id", "Teilnehmer", "Teilnehmende", "teilnehmende Organisation",
           required=True),
        _c("role", "Rolle", "Teilnahmeart"),
        _c("date", "Datum", "Veranstaltungsdatum"),
        _c("note", "Notiz", "Bemerkung", "Anmerkung"),
        *_PROVENANCE,
    ),
    "funding": (
        _c("id", "ID", "Kennung", "funding_id", "Förder-Id"),
        _c("organisation", "Organisation", "org", "org_id", "Zuwendungsempfänger", "Empfänger", "Träger",
           required=True),
        _c("programme", "program", "Programm", "Förderprogramm", "Förderlinie", "Projekt", required=True),
        _c("kind", "Förderart", "funding_kind", "Art der Förderung", "Art", required=True),
        _c("amount", "Betrag", "Summe", "Fördersumme", "Fördervolumen", "Euro", "EUR"),
        _c("year", "Jahr", "Förderjahr"),
        _c("year_from", "von", "Jahr von", "ab Jahr", "Beginn", "Laufzeit von"),
        _c("year_to", "bis", "Jahr bis", "bis Jahr", "Ende", "Laufzeit bis"),
        _c("sector", "Handlungsfeld", "Bereich"),
        _c("funder", "Fördergeber", "Mittelgeber", "Zuwendungsgeber", "Geldgeber"),
        *_PROVENANCE,
    ),
}


def normalise_header(text: str) -> str:
    """Fold a header so that ``E-Mail``, ``e_mail`` and ``EMAIL`` compare equal (umlauts folded too)."""
    return normalise_term(text).replace(" ", "")


_INDEX: dict[str, dict[str, str]] = {
    kind: {normalise_header(s): col.name for col in cols for s in col.spellings} for kind, cols in COLUMNS.items()
}


def column(kind: str, name: str) -> Column:
    """The :class:`Column` ``name`` of file kind ``kind``."""
    return next(c for c in COLUMNS[kind] if c.name == name)


def accepted_spellings(kind: str, name: str) -> str:
    """German list of the accepted headers of one column, for messages: ``„name“, „Name“ oder „Titel“``."""
    spellings = [f"„{s}“" for s in column(kind, name).spellings]
    return ", ".join(spellings[:-1]) + " oder " + spellings[-1] if len(spellings) > 1 else spellings[0]


def _names(kind: str, headers: list[str]) -> list[str | None]:
    """The column each header stands for (``None``: unknown), with the edge-list convention applied.

    Gephi, networkx (``from_pandas_edgelist``), Kumu and most tools call the ends of a tie ``source`` and
    ``target``. In a relations file whose header has ``target`` and no other spelling of the first end,
    ``source`` is that first end; the data source (provenance) then comes from ``Quelle``/``provenance``,
    or from ``source`` only when ``source_id`` is there as well.
    """
    index = _INDEX[kind]
    names = [index.get(normalise_header(h)) if h else None for h in headers]
    if kind == "relations":
        folded = [normalise_header(h) if h else "" for h in headers]
        first_end = any(n == "source_id" for n in names)
        if "target" in folded and not first_end:
            names = ["source_id" if f == "source" else n for f, n in zip(folded, names, strict=True)]
    return names


def match_headers(kind: str, headers: list[str]) -> tuple[dict[str, str], list[str], list[tuple[str, str, str]]]:
    """Map the headers of a file to the columns of ``kind`` (edge-list convention: see :func:`_names`).

    Returns
    -------
    mapping
        Canonical column name -> header as written in the file.
    unknown
        Headers that match no column (reported as a warning, never dropped silently).
    clashes
        ``(column, first header, second header)`` when two headers mean the same column.
    """
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    clashes: list[tuple[str, str, str]] = []
    for header, name in zip(headers, _names(kind, headers), strict=True):
        if not header:
            continue
        if name is None:
            unknown.append(header)
        elif name in mapping:
            clashes.append((name, mapping[name], header))
        else:
            mapping[name] = header
    return mapping, unknown, clashes


def detect_kind(headers: list[str]) -> str | None:
    """Guess the file kind from its headers.

    Rules, in order: event + organisation -> attendance; source + target -> relations; programme or
    amount -> funding; date + (event type or name) -> events; name + type (or city) -> organisations.
    """
    def has(kind: str, *names: str) -> bool:
        found = set(_names(kind, headers))
        return all(n in found for n in names)

    if has("attendance", "event", "organisation"):
        return "attendance"
    if has("relations", "source_id", "target_id"):
        return "relations"
    if has("funding", "programme") or has("funding", "amount"):
        return "funding"
    if has("events", "date") and (has("events", "type") or has("events", "name")):
        return "events"
    if has("organisations", "name") and (has("organisations", "type") or has("organisations", "city")):
        return "organisations"
    return None
