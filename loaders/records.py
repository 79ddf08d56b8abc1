"""Turn table rows into validated records, collecting every problem with file, row, column and a German fix."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from msonet.graph.errors import Ambiguous, NotFound, Problem
from msonet.graph.lookup import Remembered
from msonet.graph.model import (
    LOCATION_FIELDS,
    Event,
    Funding,
    Organisation,
    Place,
    RecordBatch,
    Relation,
    make_id,
    relation_key,
)
from msonet.graph.vocabulary import (
    EVENT_RELATIONS,
    EVENT_TYPES,
    FUNDING_KINDS,
    ORG_TYPES,
    RELATION_TYPES,
    SECTORS,
    lookup_key,
    normalise_term,
)
from msonet.loaders.columns import COLUMNS, accepted_spellings, match_headers
from msonet.loaders.files import KIND_LABELS, Table
from msonet.loaders.geography import locate

__all__ = [
    "RecordParser",
    "TableResult",
    "Resolver",
    "parse_date",
    "parse_year",
    "parse_amount",
    "parse_bool",
    "split_list",
    "EVENT_RELATIONS",
    "CLEAR_MARKER",
]

#: A cell with this text (any case) clears the stored value of its column; an empty cell keeps it.
CLEAR_MARKER = "#leer"

_EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>.]{2,}$")
_POSTCODE = re.compile(r"^\d{5}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_YEAR = re.compile(r"^\d{4}$")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*[-–/]\s*(\d{4})$")
_LIST_SPLIT = re.compile(r"[;,|]")
# Characters no XML file and no graph server keeps (GraphML export, FalkorDB): control characters except
# tab and line breaks, lone surrogates (only JSON escapes make them) and the two non-characters XML forbids.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
#: Amounts from this many euros on are taken for a typing error (and floats lose cents beyond it).
MAX_AMOUNT = 1e12

_ROLES = {
    **dict.fromkeys(("attended", "attended event", "teilgenommen", "teilnahme", "teilnehmer", "teilnehmend",
                     "gast", "participant"), "attended_event"),
    **dict.fromkeys(("organised", "organized", "organised event", "veranstaltet", "veranstalter",
                     "veranstalterin", "organisiert", "ausgerichtet", "ausrichter", "gastgeber", "organiser",
                     "organizer", "host"), "organised_event"),
}

_TRUE = {"true", "ja", "j", "yes", "y", "1", "x", "wahr"}
_FALSE = {"false", "nein", "n", "no", "0", "falsch", ""}


# -- cell parsers (pure) ---------------------------------------------------------------------------
def parse_date(text: str) -> str | None:
    """ISO ``2024-06-14`` or German ``14.06.2024`` -> ISO date; ``None`` if it is no valid date."""
    text = text.strip()
    if text.endswith(" 00:00:00"):
        text = text[:-9]
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _GERMAN_DATE.match(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


# The same few spellings repeat on every row of a large file (dates, types, sectors): resolve each once.
_cached_date = lru_cache(maxsize=4096)(parse_date)
_cached_key = lru_cache(maxsize=4096)(lookup_key)
_cached_term = lru_cache(maxsize=4096)(normalise_term)


def parse_year(text: str, low: int = 1800, high: int = 2100) -> int | None:
    """A four-digit year within ``low``..``high`` (``"2019"`` or ``"2019.0"`` from spreadsheets)."""
    text = text.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not _YEAR.match(text):
        return None
    year = int(text)
    return year if low <= year <= high else None


_cached_year = lru_cache(maxsize=4096)(parse_year)


def parse_amount(text: str) -> float | None:
    """A money amount in German (``5.000,50``) or English (``5000.50``) notation; ``None`` if invalid.

    A lone ``,`` is the decimal comma; a lone ``.`` followed by groups of three digits (``5.000``) is a
    thousands separator, as German users write it; with both, the last one is the decimal mark.
    """
    text = text.strip().replace("€", "").replace("EUR", "").replace("\u00a0", "").replace(" ", "")
    if not re.fullmatch(r"-?[\d.,]*\d[\d.,]*", text):
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif "," in text:
        if text.count(",") > 1:
            return None
        text = text.replace(",", ".")
    elif "." in text and re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    if len(text) > 20:  # also keeps float() from turning 400 digits into infinity
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_bool(text: str) -> bool | None:
    """``true/false``, ``ja/nein``, ``1/0``, ``x``; empty is ``False``; ``None`` if not a yes/no value."""
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def split_list(text: str) -> list[str]:
    """Split a list cell at ``;``, ``,`` or ``|`` and drop empty parts."""
    return [part.strip() for part in _LIST_SPLIT.split(text) if part.strip()]


def _visible(text: str, limit: int = 80) -> str:
    """``text`` shortened, with control characters shown as ``\x01`` (for messages)."""
    return _UNSTORABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                           else f"\\u{ord(m.group()):04x}", text[:limit])




def _close_names(key: str, names: dict[str, str]) -> list[str]:
    """Normalised names like ``key``: similar spelling, or starting with it (``Coach`` -> ``Coach e.V.``)."""
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)
    if len(close) < 3 and key:
        close += sorted(n for n in names if n.startswith(key + " ") and n not in close)[: 3 - len(close)]
    return close


_GIVEN: dict[tuple[str, ...], frozenset[str]] = {}


def _given(fields: Any) -> frozenset[str]:
    """The frozenset of ``fields``, one shared object per combination (a million ties have a handful)."""
    key = tuple(fields)
    found = _GIVEN.get(key)
    if found is None:
        found = _GIVEN[key] = frozenset(key)
    return found


# -- name and id resolution ------------------------------------------------------------------------

class Resolver:
    """Find organisations and events by id or by name, in this load first and then in the store.

    Names match after :func:`msonet.graph.vocabulary.normalise_term` (case, umlauts, punctuation folded). A
    name shared by several organisations is ambiguous; the caller must then give the id.
    """

    def __init__(self, store: Any = None):
        self.store = store
        self._org_ids: dict[str, str] = {}           # id -> name (this load)
        self._org_names: dict[str, list[str]] = {}   # normalised name -> ids (this load)
        self._event_ids: dict[str, tuple[str, str]] = {}  # id -> (name, date)
        self._event_names: dict[str, list[str]] = {}
        self._invalid: dict[str, str] = {}            # id or normalised name -> "file, Zeile n"
        self._store_orgs: tuple[dict[str, str], dict[str, list[str]]] | None = None
        self._store_events: tuple[dict[str, tuple[str, str]], dict[str, list[str]]] | None = None

    # registration
    def add_organisation(self, org: Organisation) -> None:
        self._org_ids[org.id] = org.name
        ids = self._org_names.setdefault(normalise_term(org.name), [])
        if org.id not in ids:
            ids.append(org.id)

    def add_event(self, event: Event) -> None:
        self._event_ids[event.id] = (event.name, event.date)
        ids = self._event_names.setdefault(normalise_term(event.name), [])
        if event.id not in ids:
            ids.append(event.id)

    def mark_invalid(self, keys: list[str], where: str) -> None:
        """Remember a record that failed validation, so references to it get a clear message."""
        for key in keys:
            if key:
                self._invalid.setdefault(key, where)

    # store indexes (built once, only when needed)
    def _stored_orgs(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        if self._store_orgs is None:
            ids: dict[str, str] = {}
            names: dict[str, list[str]] = {}
            for props in self.store.find_organisations() if self.store is not None else []:
                ids[props["id"]] = props.get("name") or props["id"]
                names.setdefault(normalise_term(props.get("name") or ""), []).append(props["id"])
            self._store_orgs = (ids, names)
        return self._store_orgs

    def _stored_events(self) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]]]:
        if self._store_events is None:
            ids: dict[str, tuple[str, str]] = {}
            names: dict[str, list[str]] = {}
            # the stored events alone (a few hundred rows), not the graph (a million ties at full size)
            for props in self.store.find_events() if self.store is not None else []:
                node_id = props["id"]
                ids[node_id] = (props.get("name") or node_id, props.get("date") or "")
                names.setdefault(normalise_term(props.get("name") or ""), []).append(node_id)
            self._store_events = (ids, names)
        return self._store_events

    def organisation(self, text: str) -> str:
        """The id of the organisation that ``text`` names (an id or an exact name).

        Raises
        ------
        NotFound, Ambiguous
            With German messages and suggestions.
        """
        text, key, ids, stored_ids = self._candidates(text, self._org_ids, self._org_names, self._stored_orgs)
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise Ambiguous(f"„{text}“ ist mehrdeutig: {len(ids)} Organisationen heißen so – bitte die Id "
                            f"angeben: {', '.join(sorted(ids))}.", sorted(ids))
        where = self._invalid.get(text) or self._invalid.get(key)
        if where:
            raise NotFound(f"die Organisation „{text}“ steht in {where}, die fehlerhaft ist – bitte dort korrigieren.")
        names = {normalise_term(n): n for n in list(self._org_ids.values()) + list(stored_ids.values())}
        close = _close_names(key, names)
        raise NotFound(f"„{text}“ ist keine bekannte Organisation (weder Id noch Name, weder in dieser Ladung "
                       "noch im Speicher) – bitte Schreibweise prüfen oder die Organisation zuerst laden.",
                       [names[c] for c in close])

    @staticmethod
    def _candidates(text: str, own_ids: Mapping[str, Any], own_names: Mapping[str, list[str]],
                    stored: Callable[[], tuple[Mapping[str, Any], Mapping[str, list[str]]]]
                    ) -> tuple[str, str, list[str], Mapping[str, Any]]:
        """``(text, its name key, the ids it may name, stored ids)`` for an organisation or event.

        An id of this load or of the store names itself alone (``[text]``; the store is asked only when
        the load does not have it); a name gives the ids of that name in the load, then in the store.
        """
        text = text.strip()
        if not text.isascii():  # ASCII text is NFC already
            text = unicodedata.normalize("NFC", text)
        if text in own_ids:
            return text, "", [text], {}
        stored_ids, stored_names = stored()
        if text in stored_ids:
            return text, "", [text], stored_ids
        key = normalise_term(text)
        ids = list(own_names.get(key, []))
        ids += [i for i in stored_names.get(key, []) if i not in ids]
        return text, key, ids, stored_ids

    def event(self, text: str, date: str | None = None) -> str:
        """The id of the event that ``text`` names (an id or a name; ``date`` picks among equal names)."""
        text, key, ids, stored_ids = self._candidates(text, self._event_ids, self._event_names,
                                                      self._stored_events)
        if date and len(ids) > 1:
            def date_of(i: str) -> str:
                return (self._event_ids.get(i) or stored_ids.get(i) or ("", ""))[1]
            ids = [i for i in ids if date_of(i) == date]
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise Ambiguous(f"„{text}“ ist mehrdeutig: {len(ids)} Veranstaltungen heißen so – bitte die Id "
                            f"angeben oder eine Spalte „Datum“ ergänzen: {', '.join(sorted(ids))}.", sorted(ids))
        where = self._invalid.get(text) or self._invalid.get("event:" + key)
        if where:
            raise NotFound(f"die Veranstaltung „{text}“ steht in {where}, die fehlerhaft ist – bitte dort korrigieren.")
        names = {normalise_term(n): n for n, _ in list(self._event_ids.values()) + list(stored_ids.values())}
        close = _close_names(key, names)
        raise NotFound(f"„{text}“ ist keine bekannte Veranstaltung (weder Id noch Name) – bitte Schreibweise "
                       "prüfen oder die Veranstaltung zuerst laden.", [names[c] for c in close])


# -- row access --------------------------------------------------------------------------------------
class _Row:
    """One data row with its location, for reading cells and reporting problems."""

    def __init__(self, parser: RecordParser, table: Table, number: int, cells: dict[str, str],
                 mapping: dict[str, str], broken: bool = False):
        self.parser, self.table, self.number, self.cells, self.mapping = parser, table, number, cells, mapping
        self.problems: list[Problem] = []
        self.broken = broken  # the file reader already found a problem in this row (e.g. an extra cell)
        self.settled: set[str] = set()  # headers whose cell is already reported as a whole
        # every mapped column's text, stripped once (a large file asks for each cell several times)
        self.values = {column: (cells.get(header) or "").strip() for column, header in mapping.items()}

    @property
    def rejected(self) -> bool:
        """``True`` when the row must not become a record."""
        return self.broken or bool(self.problems)

    def _raw(self, column: str) -> str:
        return self.values.get(column, "")

    def get(self, column: str) -> str:
        """The cell's text; ``""`` for an empty cell, a missing column and the clear marker."""
        text = self.values.get(column, "")
        # only a text starting with "#" can fold to the marker
        return "" if text[:1] == "#" and text.casefold() == CLEAR_MARKER else text

    def cleared(self, column: str) -> bool:
        """``True`` when the cell holds :data:`CLEAR_MARKER` (the user wants the stored value removed)."""
        text = self.values.get(column, "")
        return text[:1] == "#" and text.casefold() == CLEAR_MARKER

    def given(self, *columns: str) -> bool:
        """``True`` when any of ``columns`` has a value or the clear marker (the record then sets it)."""
        values = self.values
        return any(values.get(c) for c in columns)

    def has(self, column: str) -> bool:
        return column in self.mapping

    def problem(self, column: str, value: str | None, expected: str, *, final: bool = False) -> None:
        """Report a problem with ``column``; after a ``final`` one, the cell gets no further problems."""
        header = self.mapping.get(column, column)
        if header in self.settled:
            return
        if final:
            self.settled.add(header)
        self.problems.append(Problem(self.table.name, self.number, header, value, expected))

    @property
    def where(self) -> str:
        return f"{self.table.name}, Zeile {self.number}"


def _vocab_expected(vocab: str, value: str) -> str:
    what, table, examples = _VOCAB[vocab]
    # Suggestions are German labels, also when the typed value is close to an internal key.
    labels = {normalise_term(k): short for k, (short, _) in table.items()}
    labels.update({normalise_term(short): short for short, _ in table.values()})
    close = difflib.get_close_matches(normalise_term(value), list(labels), n=3, cutoff=0.6) if value else []
    suggested = list(dict.fromkeys(labels[c] for c in close))[:2]
    empty = " – die Zelle ist leer" if not value else ""
    text = (f"{what}, z.B. „{examples[0]}“, „{examples[1]}“ oder „{examples[2]}“{empty} (deutsche Bezeichnung "
            "oder Schlüssel; alle Werte in der Spaltenübersicht auf der Seite „Daten“)")
    if suggested:
        text += " – meinten Sie " + " oder ".join(f"„{x}“" for x in suggested) + "?"
    return text


#: Values of Gephi's edge column "Type" (the direction, not the kind of tie).
_DIRECTIONS = frozenset({"directed", "undirected", "mixed", "gerichtet", "ungerichtet"})

_VOCAB = {
    "org_type": ("ein Organisationstyp", ORG_TYPES, ("MSO", "Regeldienst", "Kommunales Integrationszentrum (KI)")),
    "sector": ("ein Handlungsfeld", SECTORS, ("Jugendarbeit", "Gesundheit", "Eltern- und Familienarbeit")),
    "relation_type": ("ein Beziehungstyp", RELATION_TYPES, ("kooperiert mit", "ist Mitglied von", "Tandempartner")),
    "event_type": ("ein Veranstaltungstyp", EVENT_TYPES, ("Vernetzungstreffen", "Fachtag", "Fortbildung")),
    "funding_kind": ("eine Förderart", FUNDING_KINDS, ("Regelförderung", "Projektförderung", "Eigenmittel")),
}


@dataclass
class TableResult:
    """What one table gave: its kind, number of data rows, records made and rows with problems."""

    name: str
    kind: str
    rows: int = 0
    records: int = 0
    invalid_rows: int = 0


# -- the parser ------------------------------------------------------------------------------------
class RecordParser:
    """Validate tables of any kind into one :class:`RecordBatch`, collecting all problems.

    Parameters
    ----------
    store
        Optional store: names and ids in relation, attendance and funding files may refer to
        organisations and events already there.
    gazetteer
        Resolves place names (and postcodes) to :class:`msonet.graph.model.Place`; by default
        :func:`msonet.loaders.gazetteer.default_gazetteer`.
    today
        Date used for ``updated`` when a table has no modification date (uploads).
    """

    def __init__(self, store: Any = None, gazetteer: Any = None, *, today: str | None = None):
        if gazetteer is None:
            from msonet.loaders.gazetteer import default_gazetteer

            gazetteer = default_gazetteer()
        self.gazetteer = gazetteer
        self.resolver = Resolver(store)
        self.batch = RecordBatch()
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.today = today or dt.date.today().isoformat()
        self._ids: dict[str, dict[str, tuple[str, str, object]]] = {k: {} for k in COLUMNS}
        self._relation_keys: dict[str, tuple[str, int, Relation]] = {}  # key -> (table, row number, tie)
        self._place_cache: dict[str, Place | NotFound] = {}
        self._named_cache: dict[str, Place | None] = {}
        self._without_place: dict[str, list[int]] = {}

    # public --------------------------------------------------------------------------------------
    def parse_table(self, table: Table, kind: str) -> TableResult:
        """Validate one table as file kind ``kind``; valid records go into :attr:`batch`."""
        result = TableResult(table.name, kind, rows=len(table.rows))
        self.problems.extend(table.problems)
        self.warnings.extend(table.warnings)
        mapping, unknown, clashes = match_headers(kind, table.headers)
        header_row = None if table.name.lower().split(" [")[0].endswith(".json") else 1
        if not table.rows and not table.problems:
            self.warnings.append(f"{table.name}: enthält nur die Überschriften, keine Datenzeilen – nichts zu laden")
        if unknown:
            shown = ", ".join(f"„{u}“" for u in unknown[:10])
            if len(unknown) > 10:
                shown += f" und {len(unknown) - 10} weitere"
            self.warnings.append(f"{table.name}: unbekannte Spalten werden nicht übernommen: " + shown
                                 + f" (erlaubte Spalten für {KIND_LABELS[kind]}: siehe docs/columns.md)")
        for name, first, second in clashes:
            self.problems.append(Problem(table.name, header_row, second, second,
                                         f"nur eine Spalte „{name}“ – „{first}“ und „{second}“ meinen dasselbe; "
                                         "bitte eine davon umbenennen oder löschen"))
        missing = [c for c in COLUMNS[kind] if c.required and c.name not in mapping]
        for col in missing:
            self.problems.append(Problem(table.name, header_row, col.name, None,
                                         f"eine Spalte „{col.name}“ für {KIND_LABELS[kind]} – sie fehlt; erlaubte "
                                         f"Überschriften: {accepted_spellings(kind, col.name)}"))
        if missing:
            result.invalid_rows = len(table.rows)
            return result
        handler: Callable[[_Row], object | None] = getattr(self, "_" + kind)
        required = [c.name for c in COLUMNS[kind] if c.required]
        bad_rows = {p.row for p in table.problems if p.row is not None}
        bad_cells = {(p.row, p.column) for p in table.problems if p.row is not None}
        fast = self._relation_row_fast(table, mapping) if kind == "relations" else None
        for number, cells in table.numbered():
            if fast is not None and number not in bad_rows and fast(number, cells):
                result.records += 1
                continue
            row = _Row(self, table, number, cells, mapping, broken=number in bad_rows)
            if bad_cells:
                row.settled.update(header for header in mapping.values() if (number, header) in bad_cells)
            # one search over the whole row ("\n" is allowed); cell by cell only where it finds something
            if _UNSTORABLE.search("\n".join(row.values.values())):
                for name in mapping:
                    found = _UNSTORABLE.search(row._raw(name))
                    if found:
                        row.problem(name, _visible(row._raw(name)),
                                    f"Text ohne Steuerzeichen – an Stelle {found.start() + 1} steht das unsichtbare "
                                    f"Zeichen U+{ord(found.group()):04X}; bitte löschen (entsteht oft beim Kopieren "
                                    "aus anderen Programmen)", final=True)
            for name in required:
                if row.cleared(name):
                    row.problem(name, row._raw(name), f"einen Wert – „{CLEAR_MARKER}“ löscht nur Angaben in "
                                "freiwilligen Spalten, diese Spalte ist Pflicht", final=True)
            record = handler(row)
            if row.rejected:
                self.problems.extend(row.problems)
                result.invalid_rows += 1
                self._mark_invalid(kind, row)
            elif record is not None:
                result.records += 1
        rows = self._without_place.pop(table.name, [])
        if rows:
            shown = ", ".join(str(n) for n in rows[:10]) + (" …" if len(rows) > 10 else "")
            self.warnings.append(f"{table.name}: {len(rows)} Organisation(en) ohne Ort (Zeilen {shown}) – sie "
                                 "erscheinen auf keiner Karte und in keiner Kreis-Auswertung. Falls das nicht "
                                 "gewollt ist (z.B. landesweit tätige Stellen), bitte die Spalte „Ort“ ausfüllen.")
        return result

    # helpers -------------------------------------------------------------------------------------
    def _mark_invalid(self, kind: str, row: _Row) -> None:
        if kind == "organisations":
            self.resolver.mark_invalid([row.get("id"), normalise_term(row.get("name"))], row.where)
        elif kind == "events":
            self.resolver.mark_invalid([row.get("id"), "event:" + normalise_term(row.get("name"))], row.where)

    def _provenance(self, row: _Row) -> tuple[bool, str, str]:
        synthetic = parse_bool(row.get("synthetic"))
        if synthetic is None:
            row.problem("synthetic", row.get("synthetic"), "ja/nein bzw. true/false (oder leer = nein)")
        updated_text = row.get("updated")
        updated = _cached_date(updated_text) if updated_text else (row.table.modified or self.today)
        if updated is None:
            row.problem("updated", updated_text, "ein Datum wie 2024-06-14 oder 14.06.2024 (oder leer = "
                                                 "Änderungsdatum der Datei)")
        source = row.get("source") or row.table.file or row.table.name
        return bool(synthetic), source, updated or ""

    def _vocab(self, row: _Row, column: str, vocab: str, *, required: bool = True) -> str | None:
        value = row.get(column)
        if not value:
            if required:
                row.problem(column, value, _vocab_expected(vocab, value))
            return None
        key = _cached_key(vocab, value)
        if key is None:
            row.problem(column, value, _vocab_expected(vocab, value))
        return key

    def _sectors(self, row: _Row, column: str = "sectors") -> tuple[str, ...]:
        keys: list[str] = []
        for part in split_list(row.get(column)):
            key = _cached_key("sector", part)
            if key is None:
                row.problem(column, part, _vocab_expected("sector", part) + "; mehrere durch ; trennen")
            elif key not in keys:
                keys.append(key)
        return tuple(keys)

    def _place(self, row: _Row, column: str, text: str) -> Place | None:
        cached = self._place_cache.get(text)
        if cached is None:
            try:
                cached = self.gazetteer.resolve(text)
            except NotFound as exc:
                cached = exc
            self._place_cache[text] = cached
        if isinstance(cached, NotFound):
            expected = "ein Ort in NRW (Stadt oder Gemeinde, z.B. Köln oder Lünen)"
            if cached.suggestions:
                expected += " – meinten Sie " + ", ".join(f"„{s}“" for s in cached.suggestions[:3]) + "?"
            row.problem(column, text, expected)
            return None
        return cached

    def _located(self, row: _Row, city_text: str | None) -> Place | None:
        """The place of a row from its 8-digit ``ags`` (exact) or else its ``city`` text."""
        ags_text = row.get("ags")
        if not ags_text:
            return self._place(row, "city", city_text) if city_text else None
        if not re.fullmatch(r"05\d{6}", ags_text):
            row.problem("ags", ags_text, "einen 8-stelligen Gemeindeschlüssel aus NRW (beginnt mit 05), "
                                         "z.B. 05315000 für Köln – oder die Spalte leer lassen")
            return None
        place = self._place(row, "ags", ags_text)
        if place is not None and city_text:
            if city_text not in self._named_cache:
                self._named_cache[city_text] = self.gazetteer.try_resolve(city_text)
            named = self._named_cache[city_text]
            if named is not None and named.ags != place.ags:
                row.problem("city", city_text, f"denselben Ort wie der Gemeindeschlüssel {ags_text} "
                                               f"({place.name}) – bitte Ort oder AGS korrigieren")
        return place

    def _remember_id(self, kind: str, row: _Row, record_id: str, record: object, derived: bool) -> bool:
        """Check that ``record_id`` is new in this load; ``False`` (and a problem) or skip if repeated."""
        seen = self._ids[kind].get(record_id)
        other_kind = {"organisations": "events", "events": "organisations"}.get(kind)
        clash = self._ids[other_kind].get(record_id) if other_kind else None
        if clash is not None:
            what = "einer Veranstaltung" if other_kind == "events" else "einer Organisation"
            row.problem("id", record_id, f"eine eigene Id – „{record_id}“ ist schon die Id {what} in {clash[1]}; "
                                         "bitte eine der beiden Ids ändern")
            return False
        if seen is None:
            self._ids[kind][record_id] = (row.table.name, row.where, record)
            return True
        table_name, where, other = seen
        if other == record and table_name != row.table.name:
            self.warnings.append(f"{row.where}: gleicher Eintrag wie {where} – nur einmal übernommen.")
            return False
        if derived:
            label = {"organisations": "gleicher Name und Ort", "events": "gleicher Name und Datum",
                     "funding": "gleiche Organisation, Programm und Jahre"}[kind]
            row.problem("name" if kind != "funding" else "programme", None,
                        f"einen Eintrag nur einmal – {label} wie in {where}; bitte doppelte Zeile löschen oder "
                        "eine Spalte „id“ mit verschiedenen Ids ergänzen")
        else:
            row.problem("id", record_id, f"eine eindeutige Id – „{record_id}“ steht schon in {where}")
        return False

    def _reference(self, row: _Row, column: str, what: str, date: str | None = None) -> str | None:
        text = row.get(column)
        if not text:
            row.problem(column, text, f"{'eine Veranstaltung' if what == 'event' else 'eine Organisation'} "
                                      "(Id oder Name) – die Zelle ist leer")
            return None
        try:
            return self.resolver.event(text, date) if what == "event" else self.resolver.organisation(text)
        except Ambiguous as exc:
            row.problem(column, text, "einen eindeutigen Namen oder die Id – " + str(exc).split(" Meinten Sie")[0])
        except NotFound as exc:
            message = str(exc).split(" Meinten Sie")[0]
            if exc.suggestions:
                message += " Meinten Sie " + ", ".join(f"„{s}“" for s in exc.suggestions) + "?"
            row.problem(column, text, ("eine bekannte Veranstaltung" if what == "event"
                                       else "eine bekannte Organisation") + " – " + message)
        return None

    # kinds ---------------------------------------------------------------------------------------
    def _organisations(self, row: _Row) -> Organisation | None:
        name = row.get("name")
        if not name:
            row.problem("name", name, "einen Namen der Organisation – die Zelle ist leer")
        org_type = self._vocab(row, "type", "org_type")
        city_text, postcode = row.get("city"), row.get("postcode")
        if postcode and not _POSTCODE.match(postcode):
            row.problem("postcode", postcode, "eine fünfstellige Postleitzahl, z.B. 50667 (oder leer lassen)")
        place = self._located(row, city_text)
        if place is None and not city_text and not row.get("ags") and postcode and _POSTCODE.match(postcode):
            place = self.gazetteer.try_resolve(postcode)
            if place is None:
                row.problem("city", city_text, "ein Ort in NRW – die Zelle ist leer und die Postleitzahl "
                                               f"{postcode} ist keinem Ort in NRW zugeordnet")
        sectors = self._sectors(row)
        founded_text = row.get("founded")
        founded = parse_year(founded_text, 1800, dt.date.today().year + 1) if founded_text else None
        if founded_text and founded is None:
            row.problem("founded", founded_text, "ein Gründungsjahr als vierstellige Zahl, z.B. 1998 (oder leer)")
        email = row.get("email") or None
        if email and not _EMAIL.match(email):
            row.problem("email", email, "eine E-Mail-Adresse wie info@beispiel.de (oder leer lassen)")
        synthetic, source, updated = self._provenance(row)
        if row.rejected:
            return None
        assert org_type is not None
        given_id = row.get("id")
        values = row.values  # a value or the clear marker: the record sets the field (as _Row.given)
        given = {field for field in ("sectors", "postcode", "address", "website", "founded", "description",
                                     "contact_person", "email", "phone", "synthetic") if values.get(field)}
        if place is not None or row.cleared("city") or row.cleared("ags"):
            given.update((*LOCATION_FIELDS, "location_precision"))  # the point and how precise it is, together
        if place is None and not row.cleared("city"):
            self._without_place.setdefault(row.table.name, []).append(row.number)
        lat, lon, precision = locate(place, postcode if postcode and _POSTCODE.match(postcode) else None)
        org = Organisation(
            id=given_id or make_id("org", name, place.name if place else None), name=name, org_type=org_type,
            sectors=sectors, city=place.name if place else None, ags=place.ags if place else None,
            district=place.district if place else None,
            regierungsbezirk=place.regierungsbezirk if place else None, lat=lat, lon=lon,
            location_precision=precision, postcode=postcode or None, address=row.get("address") or None,
            website=row.get("website") or None, founded=founded, description=row.get("description") or None,
            contact_person=row.get("contact_person") or None, email=email, phone=row.get("phone") or None,
            synthetic=synthetic, source=source, updated=updated, given=frozenset(given))
        if not self._remember_id("organisations", row, org.id, org, not given_id):
            return None
        self.batch.organisations.append(org)
        self.resolver.add_organisation(org)
        return org

    def _events(self, row: _Row) -> Event | None:
        name = row.get("name")
        if not name:
            row.problem("name", name, "einen Titel der Veranstaltung – die Zelle ist leer")
        event_type = self._vocab(row, "type", "event_type")
        date_text = row.get("date")
        date = parse_date(date_text)
        if date is None:
            row.problem("date", date_text, "ein gültiges Datum wie 2024-06-14 oder 14.06.2024"
                        + (" – die Zelle ist leer" if not date_text else ""))
        place = self._located(row, row.get("city"))
        sectors = self._sectors(row)
        synthetic, source, updated = self._provenance(row)
        if row.rejected:
            return None
        assert event_type is not None and date is not None
        given_id = row.get("id")
        given = {field for field in ("sectors", "description", "synthetic") if row.given(field)}
        if place is not None or row.cleared("city") or row.cleared("ags"):
            given.update(LOCATION_FIELDS)
        event = Event(
            id=given_id or make_id("event", name, date), name=name, event_type=event_type, date=date,
            city=place.name if place else None, ags=place.ags if place else None,
            district=place.district if place else None, regierungsbezirk=place.regierungsbezirk if place else None,
            lat=place.lat if place else None, lon=place.lon if place else None, sectors=sectors,
            description=row.get("description") or None, synthetic=synthetic, source=source, updated=updated,
            given=frozenset(given))
        if not self._remember_id("events", row, event.id, event, not given_id):
            return None
        self.batch.events.append(event)
        self.resolver.add_event(event)
        return event

    def _add_relation(self, row: _Row, rel: Relation, column: str) -> Relation | None:
        key = rel.key
        seen = self._relation_keys.get(key)
        if seen is not None:
            table_name, number, other = seen
            where = f"{table_name}, Zeile {number}"
            if other.properties() == rel.properties():
                self.warnings.append(f"{row.where}: dieselbe Beziehung steht schon in {where} – nur einmal übernommen.")
                return None
            row.problem(column, None, f"jede Beziehung nur einmal – dieselbe Beziehung ({rel.rel_type}) steht schon "
                                      f"in {where} mit anderen Angaben; bitte eine Zeile löschen")
            return None
        self._relation_keys[key] = (row.table.name, row.number, rel)
        self.batch.relations.append(rel)
        return rel

    def _since(self, row: _Row) -> str | None:
        text = row.get("since")
        if not text:
            return None
        year = _cached_year(text, 1800, 2100)
        value = str(year) if year is not None else _cached_date(text)
        if value is None:
            row.problem("since", text, "ein Jahr wie 2019 oder ein Datum wie 14.06.2024 (oder leer)")
        return value

    def _relation_type(self, row: _Row) -> str | None:
        """The tie's type; in a Gephi edge table ``Type`` is the direction and ``Label`` says what the tie is."""
        type_text = row.get("type")
        if type_text and _cached_term(type_text) in _DIRECTIONS:
            if row.get("label"):
                return self._vocab(row, "label", "relation_type")
            row.problem("type", type_text, "ein Beziehungstyp wie „kooperiert mit“ – „Directed“/„Undirected“ "
                                           "gibt in Gephi nur die Richtung an; den Beziehungstyp bitte in eine "
                                           "Spalte „Label“ schreiben")
            return None
        return self._vocab(row, "type", "relation_type")

    def _weight(self, row: _Row) -> float | None:
        text = row.get("weight")
        if not text:
            return None
        # Weights come from programs (Gephi, networkx: "2.5") or people ("2,5"); a lone "." is a decimal
        # point here, unlike in amounts of money.
        folded = text.strip()
        if "," in folded and "." in folded:
            folded = parse_amount(folded)  # type: ignore[assignment]
        try:
            weight = float(str(folded).replace(",", ".")) if folded is not None else None
        except ValueError:
            weight = None
        if weight is None or not math.isfinite(weight) or weight < 0:
            row.problem("weight", text, "eine Zahl ab 0 wie 1, 2,5 oder 2.5 (oder leer)")
            return None
        return weight

    def _relations(self, row: _Row) -> Relation | None:
        rel_type = self._relation_type(row)
        if rel_type == "funded_by":
            row.problem("type", row.get("type"), "ein Beziehungstyp außer „wird gefördert durch“ – Förderungen "
                        "bitte in einer eigenen Förderungs-Datei (Programm, Förderart, Betrag) angeben")
            rel_type = None
        source_id = self._reference(row, "source_id", "organisation")
        target_what = "event" if rel_type in EVENT_RELATIONS else "organisation"
        target_id = self._reference(row, "target_id", target_what)
        if source_id and target_id and source_id == target_id:
            row.problem("target_id", row.get("target_id"), "eine andere Organisation als in der ersten Spalte – "
                        "keine Beziehung einer Organisation zu sich selbst")
        since = self._since(row)
        weight = self._weight(row)
        synthetic, source, updated = self._provenance(row)
        if row.rejected or rel_type is None or source_id is None or target_id is None:
            return None
        values = row.values
        rel = Relation(source_id, target_id, rel_type, since=since, note=row.get("note") or None,
                       synthetic=synthetic, source=source, updated=updated, weight=weight,
                       given=_given(f for f in ("since", "note", "synthetic", "weight") if values.get(f)))
        return self._add_relation(row, rel, "target_id")

    def _relation_row_fast(self, table: Table, mapping: dict[str, str]) -> Callable[[int, dict[str, str]], bool]:
        """A quick way through the usual row of a large relations file, for :meth:`parse_table`.

        The returned function takes ``(row number, cells)`` and adds the tie exactly as :meth:`_relations`
        would when the row is plainly valid: both ends are ids of this load, every value is valid, no cell
        holds a ``#`` (the clear marker) or a control character and the tie is new. Then it returns
        ``True``. Otherwise it changes nothing and returns ``False``: the row takes the usual way, which
        reports its problems (or warnings). The few distinct types, years, dates and yes/no values of a
        million rows are checked once each.
        """
        columns = list(mapping)
        headers = [mapping[c] for c in columns]
        position = {c: i for i, c in enumerate(columns)}
        missing = len(columns)  # the index of an always empty value
        at = [position.get(c, missing) for c in ("source_id", "target_id", "type", "label", "since", "note",
                                                   "weight", "synthetic", "source", "updated")]
        (source_at, target_at, type_at, label_at, since_at, note_at, weight_at, synthetic_at, origin_at,
         updated_at) = at
        org_ids, event_ids = self.resolver._org_ids, self.resolver._event_ids
        relation_keys, relations = self._relation_keys, self.batch.relations
        default_origin = table.file or table.name
        default_updated = table.modified or self.today
        table_name = table.name
        # the same few texts on every row: each one checked once (None: the usual way reports a problem)
        givens: dict[tuple[bool, ...], frozenset[str]] = {}  # which of since, note, synthetic, weight are given
        invalid = object()  # a cached "not plainly valid"

        def rel_type_of(type_text: str, label: str) -> str | None:
            if type_text and _cached_term(type_text) in _DIRECTIONS:
                key = _cached_key("relation_type", label) if label else None
            else:
                key = _cached_key("relation_type", type_text) if type_text else None
            return None if key == "funded_by" else key

        def since_of(text: str) -> Any:
            year = _cached_year(text, 1800, 2100)
            value = str(year) if year is not None else _cached_date(text)
            return invalid if value is None else value

        def weight_of(text: str) -> Any:
            folded: Any = text.strip()
            if "," in folded and "." in folded:
                folded = parse_amount(folded)
            try:
                weight = float(str(folded).replace(",", ".")) if folded is not None else None
            except ValueError:
                weight = None
            return invalid if weight is None or not math.isfinite(weight) or weight < 0 else weight

        types = Remembered(lambda pair: rel_type_of(*pair))
        sinces = Remembered(since_of, {"": None})
        weights = Remembered(weight_of, {"": None})
        flags = Remembered(parse_bool)
        dates = Remembered(_cached_date, {"": default_updated})

        def add(number: int, cells: dict[str, str]) -> bool:
            values = [(cells.get(h) or "").strip() for h in headers]
            joined = "\n".join(values)
            if "#" in joined or _UNSTORABLE.search(joined):
                return False
            values.append("")
            type_text, label = values[type_at], values[label_at]
            rel_type = types[(type_text, label)]
            if rel_type is None:
                return False
            source_id, target_id = values[source_at], values[target_at]
            if (source_id == target_id or source_id not in org_ids or not source_id.isascii()
                    or target_id not in (event_ids if rel_type in EVENT_RELATIONS else org_ids)
                    or not target_id.isascii()):
                return False
            since_text, weight_text, flag_text, updated_text = (values[since_at], values[weight_at],
                                                                values[synthetic_at], values[updated_at])
            since, weight = sinces[since_text], weights[weight_text]
            synthetic, updated = flags[flag_text], dates[updated_text]
            if since is invalid or weight is invalid or synthetic is None or updated is None:
                return False
            note = values[note_at]
            key = relation_key(rel_type, source_id, target_id)
            if key in relation_keys:
                return False
            pattern = (since_text != "", note != "", flag_text != "", weight_text != "")
            given = givens.get(pattern)
            if given is None:
                given = givens[pattern] = _given(f for f, text in zip(("since", "note", "synthetic", "weight"),
                                                                      pattern, strict=True) if text)
            rel = Relation(source_id, target_id, rel_type, since=since, note=note or None, synthetic=synthetic,
                           source=values[origin_at] or default_origin, updated=updated, weight=weight, given=given)
            relation_keys[key] = (table_name, number, rel)
            relations.append(rel)
            return True

        return add

    def _attendance(self, row: _Row) -> Relation | None:
        date_text = row.get("date")
        date = parse_date(date_text) if date_text else None
        if date_text and date is None:
            row.problem("date", date_text, "ein Datum wie 2024-06-14 oder 14.06.2024 (oder leer)")
        event_id = self._reference(row, "event", "event", date)
        org_id = self._reference(row, "organisation", "organisation")
        role_text = row.get("role")
        role = "attended_event"
        if role_text:
            role = _ROLES.get(normalise_term(role_text)) or lookup_key("relation_type", role_text) or ""
            if role not in EVENT_RELATIONS:
                row.problem("role", role_text, "„teilgenommen“ (attended) oder „veranstaltet“ (organised), "
                                               "leer = teilgenommen")
        synthetic, source, updated = self._provenance(row)
        if row.rejected or event_id is None or org_id is None:
            return None
        values = row.values
        rel = Relation(org_id, event_id, role, note=row.get("note") or None, synthetic=synthetic, source=source,
                       updated=updated, given=_given(f for f in ("note", "synthetic") if values.get(f)))
        return self._add_relation(row, rel, "organisation")

    def _years(self, row: _Row) -> tuple[int | None, int | None]:
        year_text, from_text, to_text = row.get("year"), row.get("year_from"), row.get("year_to")
        expected = "ein Jahr wie 2024"
        year_from = year_to = None
        if year_text:
            match = _YEAR_RANGE.match(year_text)
            if match:
                year_from, year_to = parse_year(match.group(1), 1900), parse_year(match.group(2), 1900)
            else:
                year_from = year_to = parse_year(year_text, 1900)
            if year_from is None or year_to is None:
                row.problem("year", year_text, expected + " oder ein Zeitraum wie 2022-2024")
        if from_text:
            year_from = parse_year(from_text, 1900)
            if year_from is None:
                row.problem("year_from", from_text, expected)
        if to_text:
            year_to = parse_year(to_text, 1900)
            if year_to is None:
                row.problem("year_to", to_text, expected)
        if year_from is not None and year_to is not None and year_to < year_from:
            row.problem("year_to" if to_text else "year", to_text or year_text,
                        f"ein Endjahr nicht vor dem Anfangsjahr {year_from}")
        return year_from, year_to

    def _funding(self, row: _Row) -> Funding | None:
        org_id = self._reference(row, "organisation", "organisation")
        programme = row.get("programme")
        if not programme:
            row.problem("programme", programme, "den Namen des Förderprogramms – die Zelle ist leer")
        funding_kind = self._vocab(row, "kind", "funding_kind")
        amount_text = row.get("amount")
        amount = parse_amount(amount_text) if amount_text else None
        if amount_text and (amount is None or amount < 0 or amount >= MAX_AMOUNT):
            row.problem("amount", amount_text[:40], "einen Betrag in Euro ab 0 und unter einer Billion, z.B. "
                                                    "5.000,50 oder 5000.50 (oder leer)")
        year_from, year_to = self._years(row)
        sector = self._vocab(row, "sector", "sector", required=False)
        synthetic, source, updated = self._provenance(row)
        if row.rejected or org_id is None or funding_kind is None:
            return None
        given = {f for f in ("amount", "year_from", "year_to", "sector", "funder", "synthetic") if row.given(f)}
        if row.given("year"):
            given.update(("year_from", "year_to"))
        given_id = row.get("id")
        years = [str(y) for y in (year_from, year_to) if y is not None]
        funding = Funding(
            id=given_id or make_id("fund", org_id, programme, *years), org_id=org_id, programme=programme,
            funding_kind=funding_kind, amount=amount, year_from=year_from, year_to=year_to, sector=sector,
            funder=row.get("funder") or None, synthetic=synthetic, source=source, updated=updated,
            given=frozenset(given))
        if not self._remember_id("funding", row, funding.id, funding, not given_id):
            return None
        self.batch.fundings.append(funding)
        return funding

