"""Load files into a store: read, detect kinds, validate everything, then write once (all or nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from msonet.graph.errors import Problem, ValidationError
from msonet.graph.model import RecordBatch
from msonet.graph.store import LoadSummary, gc_paused
from msonet.loaders.columns import COLUMNS, accepted_spellings, detect_kind
from msonet.loaders.dedupe import DuplicatePair, likely_duplicates
from msonet.loaders.files import KIND_LABELS, KINDS, Table, decode_text, parse_json, read_bytes, read_tables
from msonet.loaders.hsds import is_hsds_folder, looks_like_hsds, read_hsds, read_hsds_json
from msonet.loaders.records import RecordParser, TableResult

__all__ = ["ParseResult", "LoadReport", "FileSummary", "parse_files", "parse_upload", "parse_uploads",
           "load_files", "write_result", "SUPPORTED_SUFFIXES", "DUPLICATE_COLUMNS", "duplicate_rows"]

#: Most problems a validation run keeps and reports (the rest are counted in one last problem).
MAX_REPORTED_PROBLEMS = 1_000

#: Up to this many possible duplicates are listed in a load report; more become one line and a file.
MAX_LISTED_DUPLICATES = 20
#: Columns of the list of possible duplicates that ``msonet load`` and the app's page *Daten* write
#: (``msonet-dubletten.csv``, :func:`duplicate_rows`).
DUPLICATE_COLUMNS = ("erste_id", "erster_name", "zweite_id", "zweiter_name", "ort", "bereits_im_speicher",
                     "aehnlichkeit", "begruendung")
# A table with these headers is such a list, not data: ``msonet load *.csv`` in the folder it was written to
# reads it again, and a nightly import would otherwise fail from its second run on.
_DUPLICATE_MARKS = frozenset({"erste_id", "zweite_id", "begruendung"})

#: File endings a folder is searched for (when it is no HSDS folder).
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json")

_KIND_ALIASES = {
    "organisations": "organisations", "organizations": "organisations", "orgs": "organisations",
    "organisationen": "organisations", "events": "events", "veranstaltungen": "events",
    "relations": "relations", "beziehungen": "relations", "attendance": "attendance", "teilnahme": "attendance",
    "funding": "funding", "foerderungen": "funding", "förderungen": "funding", "hsds": "hsds",
}


@dataclass(frozen=True)
class FileSummary:
    """Per table: the file (and sheet/key), its kind, data rows, valid records and rows with problems."""

    name: str
    kind: str
    rows: int
    records: int
    invalid_rows: int


@dataclass
class ParseResult:
    """Everything a validation run found; ``batch`` holds only valid records."""

    batch: RecordBatch = field(default_factory=RecordBatch)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates: list[DuplicatePair] = field(default_factory=list)
    invalid_rows: int = 0
    files: list[FileSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` when no problem was found."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Valid records per kind (``organisations``, ``events``, ``relations``, ``fundings``)."""
        return {"organisations": len(self.batch.organisations), "events": len(self.batch.events),
                "relations": len(self.batch.relations), "fundings": len(self.batch.fundings)}


@dataclass
class LoadReport:
    """The outcome of :func:`load_files`: what was written and what was left out (and why)."""

    summary: LoadSummary
    problems: list[Problem]
    warnings: list[str]
    duplicates: list[DuplicatePair]
    invalid_rows: int
    files: list[FileSummary]
    records: dict[str, int]

    @property
    def written(self) -> int:
        return self.summary.total

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (CLI ``--json``)."""
        return {
            "written": {"organisations": self.summary.organisations, "events": self.summary.events,
                        "relations": self.summary.relations, "fundings": self.summary.fundings,
                        "total": self.summary.total},
            "records": dict(self.records),
            "files": [asdict(f) for f in self.files],
            "invalid_rows": self.invalid_rows,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": list(self.warnings),
            "duplicates": [asdict(d) for d in self.duplicates],
        }

    def describe(self, duplicates_file: Path | str | None = None) -> str:
        """A German report for people: what was written, per file, problems, hints and duplicates.

        More than :data:`MAX_LISTED_DUPLICATES` possible duplicates become one summary line: the full
        list is in ``duplicates_file`` (a path the caller wrote, or a German reason why it could not).
        """
        s = self.summary
        lines = [f"Geladen: {s.organisations} Organisationen, {s.events} Veranstaltungen, {s.relations} "
                 f"Beziehungen, {s.fundings} Förderungen neu oder geändert"
                 + (" (alles war bereits gespeichert)." if s.total == 0 and len(self.files) else ".")]
        for f in self.files:
            lines.append(f"  {f.name} ({KIND_LABELS[f.kind]}): {f.rows} Zeilen, {f.records} gültig"
                         + (f", {f.invalid_rows} mit Problemen" if f.invalid_rows else ""))
        if self.problems:
            lines.append(f"{self.invalid_rows} Zeile(n) mit Problemen wurden nicht geladen:")
            lines.extend(f"  {p}" for p in self.problems)
        lines.extend(f"Hinweis: {w}" for w in self.warnings)
        if len(self.duplicates) <= MAX_LISTED_DUPLICATES:
            lines.extend(f"Mögliche Dublette: {d.reason}" for d in self.duplicates)
        else:
            known = sum(d.existing for d in self.duplicates)
            where = (f"die vollständige Liste steht in {duplicates_file}" if isinstance(duplicates_file, Path)
                     else (str(duplicates_file) if duplicates_file else "die Liste steht im JSON-Bericht (--json)"))
            lines.append(f"Mögliche Dubletten: {len(self.duplicates):,} Paare".replace(",", ".")
                         + (f", davon {known:,} mit bereits gespeicherten Organisationen".replace(",", ".")
                            if known else "") + f" – {where}. Bitte prüfen.")
        return "\n".join(lines)


def _normalise_kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    found = _KIND_ALIASES.get(kind.strip().casefold())
    if found is None:
        raise ValueError(f"Unbekannte Dateiart „{kind}“ – erlaubt: {', '.join(KINDS)} oder hsds.")
    return found


def _tables_of_path(path: Path, kind: str | None) -> list[Table]:
    if kind == "hsds" or is_hsds_folder(path):
        return read_hsds(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file())
        if not files:
            raise ValidationError([Problem(path.name, None, None, None,
                                           "einen Ordner mit .csv-, .xlsx- oder .json-Dateien – er ist leer")])
        return [t for p in files for t in _tables_of_path(p, kind)]
    if path.suffix.lower() == ".json" and path.is_file() and _is_hsds_json(path.read_bytes()):
        return read_hsds(path)
    return read_tables(path, kind=kind)


def _is_hsds_json(data: bytes) -> bool:
    try:
        return looks_like_hsds(parse_json("", decode_text(data)[0]))
    except ValidationError:
        return False


def _kind_of(table: Table, forced: str | None) -> str | None:
    if forced and forced != "hsds":
        return forced
    return table.kind_hint or detect_kind(table.headers)


def _undetected(table: Table) -> Problem:
    hints = "; ".join(f"{KIND_LABELS[k]}: " + ", ".join(accepted_spellings(k, c.name).split(", ")[0]
                                                         for c in COLUMNS[k] if c.required) for k in KINDS)
    return Problem(table.name, 1, None, ", ".join(table.headers)[:200],
                   "Überschriften, an denen die Dateiart erkennbar ist (" + hints + ") – oder die Dateiart "
                   "beim Laden angeben")


def _parse_tables(tables: list[Table], store: Any, kind: str | None, gazetteer: Any, problems: list[Problem],
                  today: str | None = None) -> ParseResult:
    parser = RecordParser(store, gazetteer, today=today)
    parser.problems.extend(problems)
    kinded: list[tuple[Table, str]] = []
    for table in tables:
        if _DUPLICATE_MARKS <= {h.strip().lower() for h in table.headers}:
            parser.warnings.append(f"{table.name} ist eine Liste möglicher Dubletten, wie msonet sie beim Laden "
                                   "schreibt, und wurde nicht geladen.")
            continue
        table_kind = _kind_of(table, kind)
        if table_kind is None:
            if table.problems:
                parser.problems.extend(table.problems)
            else:
                parser.problems.append(_undetected(table))
            continue
        kinded.append((table, table_kind))
    # Organisations and events first: later files may name them (stable within a kind: file order).
    kinded.sort(key=lambda tk: KINDS.index(tk[1]))
    results: list[TableResult] = [parser.parse_table(table, table_kind) for table, table_kind in kinded]
    result = ParseResult(batch=parser.batch, problems=parser.problems, warnings=parser.warnings)
    result.files = [FileSummary(r.name, r.kind, r.rows, r.records, r.invalid_rows) for r in results]
    result.invalid_rows = len({(p.file, p.row) for p in parser.problems if p.row is not None})
    if len(result.problems) > MAX_REPORTED_PROBLEMS:
        # a broken million-row file would otherwise carry a million messages into reports and the app
        more = len(result.problems) - MAX_REPORTED_PROBLEMS
        result.problems = result.problems[:MAX_REPORTED_PROBLEMS]
        result.problems.append(Problem("…", None, None, None, (
            f"… und {more:,} weitere Probleme – nur die ersten {MAX_REPORTED_PROBLEMS:,} sind aufgeführt; "
            "bitte diese beheben und die Datei erneut prüfen").replace(",", ".")))
    result.duplicates = likely_duplicates(parser.batch.organisations,
                                          _stored_neighbours(store, parser.batch.organisations))
    return result


def duplicate_rows(duplicates: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows of the list of possible duplicates (columns :data:`DUPLICATE_COLUMNS`), as written to
    ``msonet-dubletten.csv`` by ``msonet load`` and offered for download on the page *Daten*."""
    return [dict(zip(DUPLICATE_COLUMNS, (d.first_id, d.first_name, d.second_id, d.second_name, d.city or "",
                                         "ja" if d.existing else "nein", d.score, d.reason), strict=True))
            for d in duplicates]


def _stored_neighbours(store: Any, orgs: list[Any]) -> list[dict[str, Any]]:
    """The stored organisations a duplicate check of ``orgs`` needs: those in the districts of the new
    ones (pairs are only sought within one municipality, and a municipality lies in one district), read
    district by district from the store's index instead of all organisations."""
    if store is None or not orgs:
        return []
    with_place = [o for o in orgs if o.ags]
    if any(not o.district for o in with_place):
        return store.find_organisations()
    found: list[dict[str, Any]] = []
    for district in sorted({o.district for o in with_place}):
        found += store.find_organisations(district=district)
    return found


def parse_files(paths: Path | str | Iterable[Path | str], store: Any = None, *, kind: str | None = None,
                gazetteer: Any = None) -> ParseResult:
    """Read and validate files without writing anything.

    Parameters
    ----------
    paths
        One or more CSV/XLSX/JSON files, HSDS folders or HSDS JSON files, or folders of such files.
    store
        Optional store: relation, attendance and funding files may name organisations and events there.
    kind
        Force the file kind for all files: ``organisations``, ``events``, ``relations``, ``attendance``,
        ``funding`` (German names work too) or ``hsds``. By default it is detected from the headers.
    gazetteer
        Place resolver; by default :func:`msonet.loaders.gazetteer.default_gazetteer`.

    Returns
    -------
    A :class:`ParseResult`: the valid records, every problem, warnings (e.g. unknown columns) and
    likely duplicate organisations.
    """
    forced = _normalise_kind(kind)
    if isinstance(paths, str | Path):
        paths = [paths]
    tables: list[Table] = []
    problems: list[Problem] = []
    warnings: list[str] = []
    seen: set[Path] = set()
    with gc_paused():
        for path in paths:
            resolved = Path(path).resolve()
            if resolved in seen:
                # the same file twice would report each of its ids as a duplicate of itself
                warnings.append(f"{Path(path).name} wurde mehrfach angegeben und nur einmal gelesen.")
                continue
            seen.add(resolved)
            try:
                tables.extend(_tables_of_path(Path(path), forced))
            except ValidationError as exc:
                problems.extend(exc.problems)
        result = _parse_tables(tables, store, forced, gazetteer, problems)
    result.warnings[:0] = warnings
    return result


def parse_uploads(files: Iterable[tuple[str, bytes]], store: Any = None, *, kind: str | None = None,
                  gazetteer: Any = None, today: str | None = None) -> ParseResult:
    """Validate uploaded files given as ``(file name, bytes)`` pairs (e.g. from ``st.file_uploader``).

    ``updated`` defaults to ``today`` (ISO date; the current date if not given), since uploads carry no
    file date. Nothing is written; pass the result to :func:`write_result`.
    """
    forced = _normalise_kind(kind)
    tables: list[Table] = []
    problems: list[Problem] = []
    warnings: list[str] = []
    seen: set[tuple[str, int]] = set()
    with gc_paused():
        for name, data in files:
            if (name, hash(data)) in seen:
                warnings.append(f"{name} wurde mehrfach hochgeladen und nur einmal gelesen.")
                continue
            seen.add((name, hash(data)))
            try:
                if forced == "hsds" or (name.lower().endswith(".json") and _is_hsds_json(data)):
                    tables.extend(read_hsds_json(name, data, modified=today))
                else:
                    tables.extend(read_bytes(name, data, kind=forced, modified=today))
            except ValidationError as exc:
                problems.extend(exc.problems)
        result = _parse_tables(tables, store, forced, gazetteer, problems, today)
    result.warnings[:0] = warnings
    return result


def parse_upload(name: str, data: bytes, store: Any = None, *, kind: str | None = None,
                 gazetteer: Any = None, today: str | None = None) -> ParseResult:
    """Validate one uploaded file; see :func:`parse_uploads`."""
    return parse_uploads([(name, data)], store, kind=kind, gazetteer=gazetteer, today=today)


def write_result(result: ParseResult, store: Any, *, skip_invalid: bool = False) -> LoadReport:
    """Write a validated result with one ``store.upsert`` (all or nothing).

    Raises
    ------
    ValidationError
        When the result has problems and ``skip_invalid`` is false; nothing is written then.
    """
    if result.problems and not skip_invalid:
        raise ValidationError(result.problems)
    with gc_paused():
        summary = store.upsert(result.batch) if len(result.batch) else LoadSummary()
    return LoadReport(summary=summary, problems=list(result.problems), warnings=list(result.warnings),
                      duplicates=list(result.duplicates), invalid_rows=result.invalid_rows,
                      files=list(result.files), records=result.counts())


def load_files(paths: Path | str | Iterable[Path | str], store: Any, *, skip_invalid: bool = False,
               kind: str | None = None, gazetteer: Any = None) -> LoadReport:
    """Validate files and write them to ``store`` in one step.

    By default any problem raises :class:`msonet.graph.errors.ValidationError` (with all problems) and nothing
    is written. With ``skip_invalid=True`` the valid rows are written (ties only where both ends are
    valid) and the problems come back in the report. Loading the same files twice writes nothing the
    second time (``report.summary.total == 0``): ``updated`` defaults to the file's modification date.
    """
    result = parse_files(paths, store, kind=kind, gazetteer=gazetteer)
    return write_result(result, store, skip_invalid=skip_invalid)
