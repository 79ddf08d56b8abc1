"""Read tables from CSV, Excel and JSON files into rows of text cells with spreadsheet row numbers."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import json
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from msonet.graph.errors import Problem, ValidationError
from msonet.graph.vocabulary import normalise_term

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "Table",
    "KINDS",
    "KIND_LABELS",
    "JSON_KEYS",
    "read_tables",
    "read_table",
    "read_bytes",
    "decode_text",
    "sniff_delimiter",
    "unescape_formula",
    "FORMULA_CHARS",
    "parse_json",
    "MAX_FILE_BYTES",
    "MAX_XLSX_UNPACKED_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
]

#: The file kinds msonet reads, in the order a load processes them.
KINDS = ("organisations", "events", "relations", "attendance", "funding")

#: German names of the file kinds (for messages and Excel sheet names).
KIND_LABELS = {
    "organisations": "Organisationen",
    "events": "Veranstaltungen",
    "relations": "Beziehungen",
    "attendance": "Teilnahme",
    "funding": "Förderungen",
}

#: Keys of the JSON export object and the kind each holds.
JSON_KEYS = {
    "organisations": "organisations", "organizations": "organisations", "organisationen": "organisations",
    "events": "events", "veranstaltungen": "events",
    "relations": "relations", "beziehungen": "relations",
    "attendance": "attendance", "teilnahme": "attendance",
    "funding": "funding", "fundings": "funding", "foerderungen": "funding",
}

# Excel sheet names that say which kind a sheet holds.
_SHEET_NAMES = {normalise_term(k): v for k, v in JSON_KEYS.items()} | {
    "orgs": "organisations", "ties": "relations", "teilnahmen": "attendance", "foerderung": "funding",
}

#: First characters that make spreadsheet programs treat a cell as a formula (CSV injection).
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")

#: Largest file the loaders read (bytes); the app's upload limit (MSONET_MAX_UPLOAD_MB) is lower.
MAX_FILE_BYTES = 256 * 2**20
#: Largest total of the unpacked parts of an Excel file (bytes). An .xlsx is a zip archive: a 2 MB file
#: can unpack to gigabytes (a "zip bomb"). 200 MB of sheet XML is some 2 million filled cells.
MAX_XLSX_UNPACKED_BYTES = 40 * 2**20
#: Most data rows and columns of one table (also the most cells: rows x columns of an Excel sheet).
MAX_ROWS = 1_000_000
MAX_COLUMNS = 5_000
MAX_CELLS = 5_000_000
#: Longest cell of a CSV file (characters): the csv module's own limit.
MAX_CELL_CHARS = csv.field_size_limit()

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_CONTROL_IN_NAME = re.compile("[\x00-\x1f\x7f]")
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass
class Table:
    """One table read from a file: headers as written and the data rows as text cells.

    ``rows`` holds one ``{header: text}`` dict per data row and ``row_numbers`` the matching row
    numbers as a user sees them in a spreadsheet (header = row 1, first data row = row 2) or, for
    JSON, the item number starting at 1.
    """

    name: str
    headers: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    kind_hint: str | None = None
    modified: str | None = None
    file: str = ""  # the file name (``name`` may add a sheet or JSON key)

    @property
    def header(self) -> list[str]:
        """The headers (same as :attr:`headers`)."""
        return self.headers

    def add_row(self, number: int, cells: dict[str, str]) -> None:
        self.row_numbers.append(number)
        self.rows.append(cells)

    def numbered(self) -> list[tuple[int, dict[str, str]]]:
        """``(row number, cells)`` pairs."""
        return list(zip(self.row_numbers, self.rows, strict=True))
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def unescape_formula(value: str) -> str:
    r"""Undo the export's formula neutralisation: drop one leading ``'`` before ``= + - @`` (tab, CR).

    The export prefixes ``'`` to every cell matching ``'*[=+\-@\t\r]...`` (so a value that itself
    starts with ``'=`` survives too); this removes exactly that one ``'`` again.
    """
    if value.startswith("'"):
        rest = value.lstrip("'")
        if rest and rest[0] in FORMULA_CHARS:
            return value[1:]
    return value


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode file bytes: strict UTF-8 (with or without BOM) first, else Windows-1252; the text in NFC.

    Returns the text and the encoding name used. Text is composed (Unicode NFC) so that "Köln" written
    with a combining diaeresis (macOS does that) is the same text as the usual one.
    """
    text, encoding = _decode(data)
    return unicodedata.normalize("NFC", text), encoding


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode-Text" export: UTF-16 with a byte-order mark, tab-separated
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Line by line: files pasted together from several sources mix UTF-8 and Windows-1252 lines.
    # For a pure Windows-1252 file this gives the same text as decoding it whole.
    lines = data.split(b"\n")
    decoded, kinds = [], set()
    for line in lines:
        try:
            decoded.append(line.decode("utf-8"))
            kinds.add("utf-8" if any(b > 0x7F for b in line) else "ascii")
        except UnicodeDecodeError:
            decoded.append(_decode_cp1252(line))
            kinds.add("cp1252")
    text = "\n".join(decoded).lstrip("\ufeff")
    return text, ("utf-8+cp1252" if {"utf-8", "cp1252"} <= kinds else "cp1252")


def _decode_cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so reading never fails here.
        return data.decode("latin-1")


def sniff_delimiter(text: str) -> str:
    """Pick ``;``, ``,`` or tab by counting them in the header line (outside quotes)."""
    counts = dict.fromkeys(";,\t", 0)
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            if any(counts.values()):
                break
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda c: counts[c])
    # With no separator at all the file has one column; ',' is as good as any then.
    return best if counts[best] else ","


def _modified(path: Path) -> str:
    return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()


def read_tables(path: Path | str, *, kind: str | None = None) -> list[Table]:
    """Read every table of a CSV, XLSX or JSON file.

    Parameters
    ----------
    path
        The file. The format follows the suffix (``.csv``/``.txt``/``.tsv``, ``.xlsx``, ``.json``).
    kind
        Forced file kind; for workbooks it picks the sheet named like that kind, if there is one.

    Returns
    -------
    A list of tables (a JSON export object or a workbook with sheets per kind gives several).

    Raises
    ------
    ValidationError
        When the file cannot be read at all (missing, wrong format, broken JSON).
    """
    path = Path(path)
    name = clean_name(path.name)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            # a pipe would block and a device like /dev/zero never ends: only plain files are read
            raise ValidationError([Problem(name, None, None, None, "eine gewöhnliche Datei – "
                                           f"„{clean_name(str(path))}“ ist ein Gerät, eine Pipe oder ein Ordner")])
        if info.st_size > MAX_FILE_BYTES:
            raise ValidationError([Problem(name, None, None, None, too_large(info.st_size))])
        data = path.read_bytes()
    except OSError as exc:
        message = f"eine lesbare Datei – sie kann nicht geöffnet werden ({exc.strerror})"
        raise ValidationError([Problem(name, None, None, None, message)]) from exc
    return read_bytes(name, data, kind=kind, modified=_modified(path))


def too_large(size: int) -> str:
    """The German "expected" text for a file of ``size`` bytes over :data:`MAX_FILE_BYTES`."""
    return (f"eine Datei bis {MAX_FILE_BYTES // 2**20} MB – diese hat {_de_int(size / 2**20)} MB; bitte in "
            "mehrere Dateien aufteilen")


def _de_int(number: float) -> str:
    """``1234567`` -> ``"1.234.567"`` (German thousands separator)."""
    return f"{number:,.0f}".replace(",", ".")


def read_table(path: Path | str, *, kind: str | None = None) -> Table:
    """Read the first (or, with ``kind``, the matching) table of a file; see :func:`read_tables`."""
    return read_tables(path, kind=kind)[0]


def clean_name(name: str) -> str:
    """A file name as msonet shows and stores it (``source``): composed (NFC), control characters such as
    line breaks replaced by spaces (they would split reports and table cells)."""
    return _CONTROL_IN_NAME.sub(" ", unicodedata.normalize("NFC", name)).strip() or "Datei"


def read_bytes(name: str, data: bytes, *, kind: str | None = None, modified: str | None = None) -> list[Table]:
    """Read the tables of a file given as bytes (e.g. a browser upload); see :func:`read_tables`."""
    name = clean_name(name)
    suffix = Path(name).suffix.lower()
    if suffix in _CSV_SUFFIXES:
        tables = [_read_csv(name, data)]
    elif suffix in _XLSX_SUFFIXES:
        tables = _read_xlsx(name, data, kind)
    elif suffix == ".json":
        tables = _read_json(name, data)
    elif suffix == ".xls":
        raise ValidationError([Problem(name, None, None, None, "eine Datei im Format .xlsx – alte .xls-Dateien "
                                       "bitte in Excel/LibreOffice als .xlsx oder .csv speichern")])
    else:
        raise ValidationError([Problem(name, None, None, None,
                                       "eine Datei im Format .csv, .xlsx oder .json (Dateiendung prüfen)")])
    for table in tables:
        table.modified = modified
        table.file = name
    return tables


# -- CSV -------------------------------------------------------------------------------------------
def _read_csv(name: str, data: bytes) -> Table:
    text, _encoding = decode_text(data)
    delimiter = "\t" if name.lower().endswith(".tsv") else sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    numbers: list[int] = []
    count = 0  # records read, blank ones too (they count as spreadsheet rows, but are not kept)
    try:
        for record in reader:
            count += 1
            if not any(record):
                continue
            if len(record) > MAX_COLUMNS:
                raise ValidationError([Problem(name, count, None, None, f"höchstens {_de_int(MAX_COLUMNS)} "
                                               f"Spalten – diese Zeile hat {_de_int(len(record))}")])
            if len(records) > MAX_ROWS:
                raise ValidationError([Problem(name, count, None, None, f"höchstens {_de_int(MAX_ROWS)} "
                                               "Datenzeilen je Datei – bitte in mehrere Dateien aufteilen")])
            # cell by cell only when a cell may start with the export's "'" (most files have none)
            records.append([unescape_formula(c) for c in record] if "'" in "".join(record) else record)
            numbers.append(count)
    except csv.Error as exc:
        # the record that failed starts on the line after the last complete one
        start = count + 1
        if "field larger than field limit" in str(exc):
            expected = (f"Zellen mit höchstens {_de_int(MAX_CELL_CHARS)} Zeichen – eine Zelle dieser Zeile ist "
                        "länger (oder ein Anführungszeichen wird nie geschlossen, sodass der Rest der Datei als "
                        "eine Zelle gelesen wird)")
        else:
            expected = ("eine gültige CSV-Zeile – hier beginnt ein Wert mit einem Anführungszeichen, das nicht "
                        "(richtig) geschlossen wird; bitte Anführungszeichen prüfen (ein Anführungszeichen im "
                        "Text wird verdoppelt: \"\")")
        raise ValidationError([Problem(name, start, None, None, expected)]) from exc
    return _table_from_records(name, records, numbers=numbers)


def _table_from_records(name: str, records: list[list[str]], *, first_row: int = 1,
                        quiet_columns: frozenset[int] = frozenset(), numbers: list[int] | None = None) -> Table:
    """Build a table from raw records; the first non-empty record is the header.

    ``quiet_columns`` are columns whose missing header is already reported (e.g. merged header cells).
    ``numbers`` are the row numbers of the records when blank rows were left out (default: consecutive).
    """
    header_index = next((i for i, rec in enumerate(records) if any(c.strip() for c in rec)), None)
    if header_index is None:
        message = "eine Tabelle mit Überschriften in der ersten Zeile – die Datei ist leer"
        return Table(name, problems=[Problem(name, None, None, None, message)])
    table = Table(name)
    raw_headers = [h.strip().lstrip("\ufeff") for h in records[header_index]]
    header_row = numbers[header_index] if numbers is not None else first_row + header_index
    quiet = set(quiet_columns)
    table.headers = _clean_headers(table, raw_headers, header_row, quiet)
    headers = table.headers
    all_named = all(headers)
    for offset, rec in enumerate(records[header_index + 1:], start=header_index + 1):
        row_number = numbers[offset] if numbers is not None else first_row + offset
        if not "".join(rec).strip():  # every cell blank (the cells are whitespace only)
            continue
        if all_named and len(rec) <= len(headers):  # the usual row: every cell under a header
            table.add_row(row_number, dict(zip(headers, rec, strict=False)))  # a short row: missing cells stay out
            continue
        cells: dict[str, str] = {}
        for i, value in enumerate(rec):
            header = table.headers[i] if i < len(table.headers) else ""
            if not header:
                if value.strip() and i not in quiet:
                    table.problems.append(Problem(name, row_number, _column_letter(i), value,
                                                  "keinen Wert in einer Spalte ohne Überschrift – bitte eine "
                                                  "Überschrift ergänzen oder den Wert löschen"))
                continue
            cells[header] = value
        table.add_row(row_number, cells)
    return table


def _clean_headers(table: Table, headers: list[str], row: int, quiet: set[int]) -> list[str]:
    seen: dict[str, int] = {}
    for i, header in enumerate(headers):
        if not header:
            continue
        if header in seen:
            table.problems.append(Problem(table.name, row, header, header,
                                          f"eindeutige Spaltenüberschriften – „{header}“ steht in Spalte "
                                          f"{_column_letter(seen[header])} und {_column_letter(i)}"))
            headers[i] = ""
            quiet.add(i)
        else:
            seen[header] = i
    return headers


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# -- Excel -----------------------------------------------------------------------------------------
def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value))


def _read_xlsx(name: str, data: bytes, kind: str | None) -> list[Table]:
    import openpyxl  # imported here: only Excel users pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    formulas = _check_xlsx_archive(name, data)
    try:
        # Not read-only: merged cell ranges are only known in the normal mode.
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ValidationError([Problem(name, None, None, None,
                                       "eine gültige Excel-Datei (.xlsx) – die Datei ist beschädigt oder kein "
                                       f"Excel-Format ({type(exc).__name__})")]) from exc
    sheets = [ws for ws in workbook.worksheets if ws.max_row and any(
        c is not None for row in ws.iter_rows(max_row=min(ws.max_row, 50), values_only=True) for c in row)]
    named = [(ws, _SHEET_NAMES[normalise_term(ws.title)]) for ws in sheets
             if normalise_term(ws.title) in _SHEET_NAMES]
    # fallback: the first sheet with data, without a hint (no sheet name says what it holds)
    first: list[tuple[Worksheet, str | None]] = [(ws, None) for ws in sheets[:1]]
    chosen: Sequence[tuple[Worksheet, str | None]]
    if kind is not None:
        chosen = [(ws, k) for ws, k in named if k == kind] or first
    else:
        chosen = named or first
    if not chosen:
        raise ValidationError([Problem(name, None, None, None, "eine Tabelle mit Daten – alle Blätter sind leer")])
    many = len(workbook.worksheets) > 1
    tables = [_sheet_table(f"{name} [{ws.title}]" if many else name, ws, hint) for ws, hint in chosen]
    for (ws, _hint), table in zip(chosen, tables, strict=True):
        for coordinate in formulas.get(ws.title, []):
            cell = ws[coordinate]
            header = table.headers[cell.column - 1] if cell.column <= len(table.headers) else ""
            table.problems.append(Problem(table.name, cell.row, header or _column_letter(cell.column - 1), None,
                                          f"einen Wert – die Zelle {coordinate} enthält eine Formel ohne "
                                          "gespeichertes Ergebnis (z.B. von einem Programm erzeugt, nicht in "
                                          "Excel gespeichert). Bitte die Datei in Excel oder LibreOffice öffnen "
                                          "und speichern oder die Formel durch ihren Wert ersetzen"))
    return tables


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?"')
# a formula cell whose formula is not followed by a cached value <v>
_FORMULA_WITHOUT_VALUE = re.compile(
    rb'<c r="([A-Z]{1,3}\d{1,7})"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _check_xlsx_archive(name: str, data: bytes) -> dict[str, list[str]]:
    """Check an .xlsx before openpyxl unpacks it: not encrypted, unpacked size and cells bounded.

    Returns the cells with a formula but no stored result, per sheet title.
    """
    if data.startswith(_OLE_MAGIC):
        raise ValidationError([Problem(name, None, None, None, "eine Excel-Datei ohne Kennwortschutz – diese "
                                       "Datei ist verschlüsselt (oder im alten .xls-Format). Bitte in Excel den "
                                       "Kennwortschutz aufheben (Datei > Informationen > Arbeitsmappe schützen) "
                                       "bzw. als .xlsx speichern")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return {}  # openpyxl reports it as a broken file
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise ValidationError([Problem(name, None, None, None, (
                f"eine Excel-Datei, die entpackt höchstens {MAX_XLSX_UNPACKED_BYTES // 2**20} MB groß ist – "
                f"diese entpackt sich auf {_de_int(unpacked / 2**20)} MB. Große Tabellen bitte als CSV speichern "
                "(Datei > Speichern unter > CSV UTF-8)"))])
        formulas: dict[str, list[str]] = {}
        titles = _sheet_names(archive)
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            try:
                xml = archive.read(info)  # bounded by the unpacked size checked above
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
                return {}  # openpyxl reports the damage (or the encryption)
            match = _DIMENSION.search(xml, 0, 4096)
            if match and match.group(3):
                rows = int(match.group(4)) - int(match.group(2)) + 1
                columns = _column_number(match.group(3)) - _column_number(match.group(1)) + 1
                if rows * columns > MAX_CELLS:
                    raise ValidationError([Problem(name, None, None, None, (
                        f"ein Tabellenblatt mit höchstens {_de_int(MAX_CELLS)} Zellen – ein Blatt reicht über "
                        f"{_de_int(rows)} Zeilen und {_de_int(columns)} Spalten; bitte leere Zeilen und Spalten am "
                        "Ende löschen oder die Tabelle aufteilen"))])
            found = [m.group(1).decode() for m in _FORMULA_WITHOUT_VALUE.finditer(xml)]
            if found:
                formulas.setdefault(titles.get(info.filename, info.filename), []).extend(found)
    return formulas


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title by part name (``xl/worksheets/sheet1.xml``), from the workbook and its relations."""
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return {}
    targets = {}
    for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
        rid, target = re.search(r'Id="([^"]+)"', rel.group()), re.search(r'Target="([^"]+)"', rel.group())
        if rid and target:
            part = target.group(1).lstrip("/")
            targets[rid.group(1)] = part if part.startswith("xl/") else "xl/" + part
    names = {}
    for sheet in re.finditer(r"<sheet\b[^>]*>", workbook):
        title, rid = re.search(r'name="([^"]*)"', sheet.group()), re.search(r'r:id="([^"]+)"', sheet.group())
        if title and rid and rid.group(1) in targets:
            names[targets[rid.group(1)]] = html.unescape(title.group(1))
    return names


def _sheet_table(name: str, ws, kind_hint: str | None) -> Table:
    records = [[_cell_text(c) for c in row] for row in ws.iter_rows(values_only=True)]
    header_row = next((i + 1 for i, rec in enumerate(records) if any(c.strip() for c in rec)), 1)
    merged_header = frozenset(col - 1 for rng in ws.merged_cells.ranges if rng.min_row <= header_row <= rng.max_row
                              for col in range(rng.min_col + 1, rng.max_col + 1))
    table = _table_from_records(name, records, quiet_columns=merged_header)
    table.kind_hint = kind_hint
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= header_row <= rng.max_row:
            table.problems.append(Problem(name, header_row, rng.coord, None,
                                          f"eine Überschrift je Spalte – die Zellen {rng.coord} sind verbunden. "
                                          "Bitte die Verbindung aufheben (Zellen verbinden ausschalten) und "
                                          "jeder Spalte eine eigene Überschrift geben"))
        elif rng.min_row > header_row:
            table.warnings.append(f"{name}: Die Zellen {rng.coord} sind verbunden; nur die erste Zelle hat einen "
                                  "Wert, die anderen gelten als leer.")
    return table


# -- JSON ------------------------------------------------------------------------------------------
def parse_json(name: str, text: str) -> object:
    """``json.loads(text)`` with a German :class:`ValidationError` for every way it can fail.

    Besides broken syntax: nesting too deep for Python (``RecursionError``) and integers longer than
    Python converts (4,300 digits, ``ValueError``).
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError([Problem(name, exc.lineno, None, None,
                                       f"gültiges JSON ({exc.msg}, Zeile {exc.lineno}, Zeichen {exc.colno})")]) from exc
    except RecursionError as exc:
        raise ValidationError([Problem(name, None, None, None, "JSON mit höchstens einigen hundert Ebenen "
                                       "verschachtelter Listen und Objekte – die Datei ist viel tiefer "
                                       "verschachtelt (kein Export von msonet)")]) from exc
    except ValueError as exc:
        raise ValidationError([Problem(name, None, None, None, "JSON mit Zahlen üblicher Länge – eine Zahl hat "
                                       f"mehrere tausend Stellen ({exc})")]) from exc


def _read_json(name: str, data: bytes) -> list[Table]:
    text, _ = decode_text(data)
    payload = parse_json(name, text)
    if isinstance(payload, list):
        return [_json_table(name, payload, None)]
    if isinstance(payload, dict):
        keys = {k: JSON_KEYS.get(normalise_term(k).replace(" ", "")) for k in payload}
        if any(keys.values()):
            tables = []
            for key, kind in keys.items():
                if kind is None:
                    continue
                items = payload[key]
                if not isinstance(items, list):
                    tables.append(Table(f"{name} [{key}]", kind_hint=kind, problems=[
                        Problem(name, None, key, None, f"unter „{key}“ eine Liste von Objekten ([{{...}}, ...])")]))
                    continue
                if items:
                    tables.append(_json_table(f"{name} [{key}]", items, kind))
            unknown = [k for k, v in keys.items() if v is None and k not in ("format", "version", "exported")]
            if unknown and tables:
                tables[0].warnings.append(f"{name}: unbekannte Schlüssel werden ignoriert: {', '.join(unknown)}")
            return tables
    raise ValidationError([Problem(name, None, None, None,
                                   "eine JSON-Liste von Objekten oder ein Objekt mit den Schlüsseln organisations, "
                                   "events, relations, attendance, funding (wie beim Export)")])


def _json_value(value: object) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not value.is_integer():
        # Written with a decimal comma: the cell parsers read "1.125" the German way (as 1125).
        return repr(value).replace(".", ",")
    if isinstance(value, float):
        return str(int(value))
    if isinstance(value, int | str):
        return unicodedata.normalize("NFC", str(value))  # a JSON escape can spell a decomposed umlaut
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ";".join(str(v) for v in value)
    return None


def _json_table(name: str, items: list, kind_hint: str | None) -> Table:
    table = Table(name, kind_hint=kind_hint)
    headers: dict[str, None] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            table.problems.append(Problem(name, number, None, _shorten(item),
                                          "ein Objekt mit Feldern ({\"name\": ..., ...})"))
            continue
        cells = {}
        for key, value in item.items():
            key = str(key).strip()
            text = _json_value(value)
            if text is None:
                table.problems.append(Problem(name, number, key, _shorten(value), "einen einfachen Wert (Text, "
                                              "Zahl, true/false) oder eine Liste von Texten"))
                continue
            headers.setdefault(key)
            cells[key] = text
        table.add_row(number, cells)
    table.headers = list(headers)
    return table


def _shorten(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)[:80]
