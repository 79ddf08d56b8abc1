"""The ``msonet`` command: load, report and export the MSO network without the app.

Built with click: :data:`cli` is the command group, :func:`main` runs it with German help and messages and
the one error handler (exit codes 0 ok, 1 input, 2 usage, 3 store, 4 internal, 130 interrupted). Each
command is a function ``cmd_NAME(net, ...)`` on an opened :class:`msonet.api.Network` that prints what the
API returns, so the same work can be done from Python (``msonet.open_network(...)``) without the CLI.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from msonet.api import Network
from msonet.graph.backends import describe_backend, open_store
from msonet.graph.errors import GraphError, NotFound, StoreError, ValidationError
from msonet.graph.formats import fmt_decimal, fmt_km, fmt_number, fmt_value
from msonet.graph.settings import Settings
from msonet.graph.vocabulary import SECTORS, label

#: = graph.meeting.DEFAULT_RADIUS_KM (a test checks it); not imported: that module pulls in networkx, which
#: commands such as ``stats`` do not need (its import took a third of their time)
DEFAULT_RADIUS_KM = 25.0

__all__ = ["main", "cli", "build_parser"]

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_STORE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


class CliError(GraphError):
    """A user error found by the command line itself (exit code 1)."""


# -- helpers ---------------------------------------------------------------------------------------

def json_text(data: Any) -> str:
    """Exactly ``json.dumps(data, ensure_ascii=False, indent=2, default=str)``, in about 60 % of the time.

    With an indent Python's ``json`` takes its pure-Python encoder, which passes every piece up
    through one generator per nesting level (the 91,000 rows of ``isolated --json`` at 100,000
    organisations: over a second). Here the pieces go straight into one list; strings are escaped by
    json's own (C) function, numbers written as json writes them. Tests compare both.
    """
    from json.encoder import encode_basestring

    parts: list[str] = []
    append = parts.append
    indents = ["\n"]

    def indent(level: int) -> str:
        while len(indents) <= level:
            indents.append("\n" + "  " * len(indents))
        return indents[level]

    def number(o: float) -> str:
        if o != o:
            return "NaN"
        if o == float("inf"):
            return "Infinity"
        if o == -float("inf"):
            return "-Infinity"
        return float.__repr__(o)

    def key_text(k: Any) -> str:
        if isinstance(k, str):
            return k
        if isinstance(k, float):
            return number(k)
        if k is True:
            return "true"
        if k is False:
            return "false"
        if k is None:
            return "null"
        if isinstance(k, int):
            return int.__repr__(k)
        raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")

    scalars: dict[type, Any] = {str: encode_basestring, int: int.__repr__, float: number,
                                bool: lambda o: "true" if o else "false", type(None): lambda o: "null"}
    keys: dict[str, str] = {}

    def key(k: Any) -> str:
        name = keys.get(k) if type(k) is str else None
        if name is None:
            name = encode_basestring(key_text(k)) + ": "
            if type(k) is str:
                keys[k] = name
        return name

    def members(pairs: Iterable[tuple[str, Any]], level: int, opening: str, closing: str) -> None:
        """A list's items or a dict's entries (key text, value), one per line, indented one level deeper."""
        inner = indent(level + 1)
        lead = opening + inner
        for name, item in pairs:
            write = scalars.get(type(item))  # exact types only; subclasses take the general way
            if write is not None:
                append(lead + name + write(item))
            else:
                append(lead + name)
                value(item, level + 1)
            lead = "," + inner
        append(indent(level) + closing)

    def value(o: Any, level: int) -> None:
        write = scalars.get(type(o))
        if write is not None:
            append(write(o))
        elif isinstance(o, str):
            append(encode_basestring(o))
        elif isinstance(o, int):  # bool is matched above, by its exact type
            append(int.__repr__(o))
        elif isinstance(o, float):
            append(number(o))
        elif isinstance(o, list | tuple):
            if o:
                members((("", item) for item in o), level, "[", "]")
            else:
                append("[]")
        elif isinstance(o, dict):
            if o:
                members(((key(k), v) for k, v in o.items()), level, "{", "}")
            else:
                append("{}")
        else:
            value(str(o), level)  # default=str

    value(data, 0)
    return "".join(parts)

def _print_json(data: Any) -> None:
    sys.stdout.write(json_text(data))
    sys.stdout.write("\n")


def _print_csv(rows: list[dict[str, Any]], columns: Sequence[str | tuple[str, str]], *, raw: bool = False) -> None:
    """CSV on standard output, by default for people: ``;``, UTF-8 with BOM, German headings and numbers.

    ``columns`` are keys or ``(key, German heading)`` pairs. ``raw`` writes it for programs instead: ``,``,
    UTF-8 without BOM, the internal keys as headings, numbers with a decimal point (``--raw``).
    """
    from msonet.loaders.export import neutralise_formula

    pairs = [(c, c) if isinstance(c, str) else c for c in columns]
    if raw:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([key for key, _ in pairs])
        for row in rows:
            writer.writerow([neutralise_formula(_raw_cell(row.get(key))) for key, _ in pairs])
        return
    sys.stdout.write("\ufeff")  # Excel reads the file as UTF-8 only with this mark
    writer = csv.writer(sys.stdout, delimiter=";", lineterminator="\r\n")
    writer.writerow([heading for _, heading in pairs])
    for row in rows:
        writer.writerow([neutralise_formula(_cell(row.get(key))) for key, _ in pairs])


def _raw_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "|".join(_raw_cell(v if not isinstance(v, dict) else v.get("code", v)) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(value: Any) -> str:
    """A value as people read it: German numbers and dates, yes/no, lists joined."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        parts = [_cell(v) if not isinstance(v, dict) else str(v.get("text", v)) for v in value]
        # sentences (reasons) already end with a full stop; bare values get a separator
        return " ".join(parts) if all(p.endswith((".", "!", "?")) for p in parts) else "; ".join(parts)
    return fmt_value(value)


def _width() -> int:
    """Line length for tables: the terminal's width, 100 characters when output goes to a file or pipe."""
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _print_table(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]], *, empty: str) -> None:
    """A plain text table: (key, German heading) per column.

    Columns are at most 40 characters wide (longer text ends in ``…``) except the last, which is never cut:
    it wraps within the line length (:func:`_width`), continued under its own heading; when the other columns
    leave it too little room it goes on indented lines below its row.
    """
    if not rows:
        print(empty)
        return
    cells = [[_cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [min(40, max(len(h), *(len(c[i]) for c in cells))) for i, (_, h) in enumerate(columns)]
    line = _width()
    start = sum(widths[:-1]) + 2 * (len(widths) - 1)
    room = line - start
    below = room < 30
    if below:
        room = line - 4
    widths[-1] = min(room, max(len(columns[-1][1]), *(len(c[-1]) for c in cells)))

    def cut(value: str, width: int) -> str:
        return (value if len(value) <= width else value[: width - 1] + "…").ljust(width)

    head = [cut(h, w) for (_, h), w in zip(columns, widths, strict=True)]
    print("  ".join(head[:-1] if below else head).rstrip())
    print("  ".join("-" * w for w in (widths[:-1] if below else widths)))
    for c in cells:
        first = "  ".join(cut(v, w) for v, w in zip(c[:-1], widths[:-1], strict=True))
        wrapped = textwrap.wrap(c[-1], widths[-1], break_long_words=True) or [""]
        if below:
            print(first.rstrip())
            for part in wrapped:
                print("    " + part)
            continue
        print(f"{first}  {wrapped[0]}".rstrip() if first else wrapped[0])
        for part in wrapped[1:]:
            print(" " * start + part)


def _de_number(value: float) -> str:
    """German decimal comma: 25.0 -> "25", 3.25 -> "3,25"."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _cli_principal():
    import getpass

    from msonet.graph.access import Principal

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. in a container without an /etc/passwd entry
        name = "unbekannt"
    return Principal(name, "verwalten", "cli")



def _audit(settings: Settings, action: str, **counts: int) -> None:
    """Record a write or an export with personal data in the audit log (the CLI acts as Verwalten)."""
    from msonet.graph.access import AuditLog

    AuditLog(settings.audit_path).record(_cli_principal(), action, **counts)


# -- commands: each works on an opened Network and prints; the return value is the exit code ---------------
def cmd_demo(net: Network, *, seed: int = 2024, replace: bool = False, if_empty: bool = False) -> int:
    organisations = net.store.counts().get("organisations")
    if organisations and if_empty:
        print(f"Der Speicher enthält bereits {organisations} Organisationen; Demodaten nicht neu geladen.")
        return EXIT_OK
    summary = net.load_demo(seed=seed, replace=replace)
    _audit(net.settings, "demo", organisations=summary.organisations, events=summary.events,
           relations=summary.relations, fundings=summary.fundings)
    print(f"Demodaten geladen: {summary.organisations} Organisationen, {summary.events} Veranstaltungen, "
          f"{summary.relations} Beziehungen, {summary.fundings} Förderungen.")
    return EXIT_OK


def cmd_load(net: Network, paths: Sequence[str], *, skip_invalid: bool = False, kind: str | None = None,
             as_json: bool = False, duplicates_out: str = "msonet-dubletten.csv") -> int:
    try:
        report = net.load([Path(p) for p in paths], skip_invalid=skip_invalid, kind=kind)
    except ValidationError as exc:
        if not as_json:
            raise
        # --json promises JSON on stdout also when nothing was loaded (the German text still goes to stderr)
        _print_json({"written": None, "problems": [p.as_dict() for p in exc.problems]})
        print(f"Nichts geladen. {exc}", file=sys.stderr)
        return EXIT_INPUT
    _audit(net.settings, "load", files=len(paths), organisations=report.summary.organisations,
           events=report.summary.events, relations=report.summary.relations, fundings=report.summary.fundings)
    if as_json:
        _print_json(report.as_dict())
    else:
        print(report.describe(duplicates_file=_write_duplicates(report, Path(duplicates_out))))
    return EXIT_INPUT if report.problems else EXIT_OK


def _write_duplicates(report: Any, path: Path) -> Path | str | None:
    """Write a long list of possible duplicates as CSV; the path, a German reason it failed, or ``None``."""
    from msonet.loaders.load import MAX_LISTED_DUPLICATES, duplicate_rows

    if len(report.duplicates) <= MAX_LISTED_DUPLICATES:
        return None
    rows = duplicate_rows(report.duplicates)
    try:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, list(rows[0]), delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        return (f"die Liste konnte nicht nach {path} geschrieben werden ({exc.strerror}); --duplicates-out wählt "
                "eine andere Datei")
    return path


def cmd_stats(net: Network, *, fmt: str = "text") -> int:
    stats = net.stats()
    if fmt == "json":
        _print_json(stats.as_dict())
        return EXIT_OK
    from msonet.loaders.geography import load_districts

    districts = load_districts()
    print(f"Organisationen: {fmt_number(stats.total)} (davon synthetisch: {fmt_number(stats.synthetic)})")
    print(f"Veranstaltungen: {fmt_number(stats.events)}, Förderprogramme: {fmt_number(stats.programmes)}, "
          f"Beziehungen: {fmt_number(stats.relations)}")
    print("\nNach Organisationstyp:")
    for key, n in sorted(stats.by_type.items(), key=lambda kv: -kv[1]):
        print(f"  {fmt_number(n):>7}  {label('org_type', key)}")
    print("\nNach Kreis / kreisfreier Stadt:")
    for key, n in sorted(stats.by_district.items(), key=lambda kv: -kv[1]):
        name = districts[key].name if key in districts else "?"
        print(f"  {fmt_number(n):>7}  {name} ({key})")
    print("\nNach Handlungsfeld:")
    for key, n in sorted(stats.by_sector.items(), key=lambda kv: -kv[1]):
        print(f"  {fmt_number(n):>7}  {label('sector', key)}")
    return EXIT_OK


def cmd_export(net: Network, *, format: str = "csv", out: str = "msonet-export",  # noqa: A002 - the option's name
               include_personal: bool = False) -> int:
    from msonet.loaders import export

    target = Path(out)
    store = net.store
    if format == "csv":
        paths = export.export_csv(store, target, include_personal=include_personal)
    elif format == "json":
        paths = [export.export_json(store, target, include_personal=include_personal)]
    elif format == "gexf":
        paths = [export.export_gexf(store, target, include_personal=include_personal)]
    else:
        paths = [export.export_graphml(store, target, include_personal=include_personal)]
    for path in paths:
        print(f"geschrieben: {path}")
    if include_personal:
        _audit(net.settings, "export_personal", files=len(paths), organisations=store.counts().get("organisations", 0))
    else:
        print("Personenbezogene Daten (Ansprechperson, E-Mail, Telefon) sind nicht enthalten; "
              "--include-personal nimmt sie auf.")
    return EXIT_OK


def cmd_isolated(net: Network, *, district: str | None = None, org_type: str | None = None, years: int = 3,
                 today: str | dt.date | None = None, fmt: str = "text") -> int:
    result = net.isolation(today=today, event_years=years, district=district, org_type=org_type)
    rows = result.as_dicts()
    if fmt == "json":
        _print_json(rows)
        return EXIT_OK
    from msonet.graph.isolation import REASON_CODES
    from msonet.loaders.geography import load_districts

    districts = load_districts()
    table = [{**r, "type_label": label("org_type", r.get("org_type") or "") if r.get("org_type") else "",
              "district_name": districts[r["district"]].label if r.get("district") in districts
              else r.get("district") or "",
              "codes": [x["code"] for x in r["reasons"]],
              "reason_labels": "; ".join(REASON_CODES.get(x["code"], x["code"]) for x in r["reasons"]),
              "why": " ".join(x["text"] for x in r["reasons"])} for r in rows]
    if fmt in ("csv", "raw"):
        raw = fmt == "raw"
        _print_csv(table, [("id", "id"), ("name", "name"), ("org_type", "org_type"), ("city", "city"),
                           ("district", "district"), ("codes", "codes"), ("why", "reasons")] if raw else
                   [("name", "Name"), ("type_label", "Typ"), ("city", "Ort"), ("district_name", "Kreis"),
                    ("reason_labels", "Gründe"), ("why", "Erläuterung"), ("id", "Id")], raw=raw)
        return EXIT_OK
    _print_table(table, [("name", "Name"), ("city", "Ort"), ("district_name", "Kreis"), ("why", "Warum")],
                 empty="Keine isolierten Organisationen gefunden.")
    if rows:
        print(f"\n{fmt_number(len(rows))} Organisationen.")
    return EXIT_OK


def cmd_partners(net: Network, org: str, *, top: int = 10, max_km: float | None = None, sector: str | None = None,
                 include_umbrella: bool = False, include_migration_services: bool = False,
                 fmt: str = "text") -> int:
    result = net.partners(org, top=top, max_km=max_km, sector=sector, include_umbrella=include_umbrella,
                          include_migration_services=include_migration_services)
    rows = result.as_dicts()
    if fmt == "json":
        _print_json(rows)
        return EXIT_OK
    org_id = net.organisation_id(org)
    print(f"Tandem-Vorschläge für {(net.store.get_node(org_id) or {}).get('name')} ({org_id}):\n")
    _print_table([_german_pair(r) for r in rows], [("score", "Punkte"), ("name", "Name"), ("city", "Ort"),
                                                   ("distance_km", "Entfernung"), ("reasons", "Gründe")],
                 empty="Keine passenden Partner gefunden (Entfernung oder Handlungsfeld zu eng?).")
    return EXIT_OK


def _german_pair(row: dict[str, Any]) -> dict[str, Any]:
    """A proposal with score and distance as people read them (``0,79``, ``13,6 km``)."""
    return {**row, "score": fmt_decimal(row.get("score"), 2),
            "distance_km": fmt_km(row["distance_km"]) if isinstance(row.get("distance_km"), int | float) else ""}


def cmd_tandems(net: Network, *, count: int, district: str | None = None, max_km: float | None = 50,
                fmt: str = "text") -> int:
    rows = net.cohort(count, district=district, max_km=max_km).as_dicts()
    if fmt == "json":
        _print_json(rows)
    else:
        _print_table([_german_pair(r) for r in rows], [("score", "Punkte"), ("mso_name", "MSO"),
                                                       ("partner_name", "Partner"), ("distance_km", "Entfernung"),
                                                       ("reasons", "Gründe")],
                     empty="Keine Tandems möglich.")
    return EXIT_OK


def cmd_meeting(net: Network, *, capacity: int, district: str | None = None, region: str | None = None,
                topic: str | None = None, tables: int = 4, venue: str | None = None, radius_km: float | None = None,
                organisers: Sequence[str] = (), today: str | dt.date | None = None, fmt: str = "text",
                include_personal: bool = False) -> int:
    result = net.meeting(capacity, today=today, district=district, region=region, topic=topic, tables=tables,
                         venue=venue, radius_km=radius_km, organisers=organisers)
    plan = result.as_dict()
    if fmt == "json":
        _print_json(plan)
    elif fmt == "raw":
        _print_csv(sorted(plan["invitees"], key=lambda r: (r.get("table") or 0, r["name"], r["id"])),
                   ["table", "id", "name", "org_type", "city", "district", "role", "reasons"], raw=True)
    elif fmt == "csv":
        rows: list[dict[str, Any]] = [dict(r) for r in net.invitation_list(result, include_email=include_personal)]
        if include_personal:
            _audit(net.settings, "invitations_email", rows=len(rows),
                   with_email=sum(1 for r in rows if r.get("E-Mail")))
        _print_csv(rows, list(rows[0]) if rows else ["Name"])
    else:
        place = plan["venue"]
        objective = plan["objective"]
        if place.get("lat") is not None:
            print(f"Veranstaltungsort: {place['name']} ({place['lat']:.4f}, {place['lon']:.4f}), Reiseradius "
                  f"{_de_number(place['radius_km'])} km")
        print(f"Ziel: {_de_number(objective['value'])} = {objective['pairs']} plausible neue Paare "
              f"({objective['pairs_isolated']} mit isolierten MSO, zählen doppelt; "
              f"{objective['pairs_other']} weitere), "
              f"davon {objective['pairs_at_tables']} am selben Tisch.")
        for note in plan["notes"]:
            print(note)
        print()
        _print_table(plan["invitees"], [("table", "Tisch"), ("name", "Name"), ("org_type_label", "Typ"),
                                        ("city", "Ort"), ("venue_km", "km"), ("role", "Rolle"), ("reasons", "Warum")],
                     empty="Niemand einzuladen.")
        for table in plan["tables"]:
            print(f"\nTisch {table['table']} ({table['pairs']} Paare): " + ", ".join(table["names"]))
    return EXIT_OK


def cmd_geocode(net: Network, *, limit: int | None = None, quiet: bool = False) -> int:
    from msonet.loaders.geocode import CACHE_FILE, GeocodeCache, GeocoderFailed, geocode_organisations, nominatim

    if limit is not None and limit < 1:
        raise CliError(f"--limit muss mindestens 1 sein (angegeben: {limit}).")
    settings = net.settings
    geocoder = nominatim(settings.geocoder_user_agent, settings.geocoder_domain, settings.geocoder_scheme)
    cache = GeocodeCache(settings.home / CACHE_FILE)
    try:
        report = geocode_organisations(net.store, geocoder, cache=cache, limit=limit,
                                       progress=None if quiet else lambda m: print(m, file=sys.stderr))
    except GeocoderFailed as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return EXIT_STORE
    print(f"{len(report.placed)} Organisationen nach Adresse verortet ({report.asked} Anfragen, "
          f"{report.from_cache} aus dem Zwischenspeicher); {len(report.not_found)} Adressen nicht gefunden, "
          f"{len(report.elsewhere)} Treffer außerhalb des eigenen Kreises verworfen.")
    if report.remaining:
        print(f"{report.remaining} Adressen noch offen – „msonet geocode“ erneut aufrufen.")
    if report.error:
        print(f"Fehler: {report.error}", file=sys.stderr)
        return EXIT_STORE
    return EXIT_OK


def cmd_attend(net: Network, event: str, file: str) -> int:
    import networkx as nx

    from msonet.graph.lookup import resolve_event, resolve_organisation
    from msonet.graph.meeting import attendance_relations
    from msonet.graph.model import RecordBatch
    from msonet.loaders.files import read_table

    # the events and organisations with their properties, not the graph with its million ties
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((d["id"], d) for d in net.store.find_events())
    event_id = resolve_event(graph, event)
    graph.add_nodes_from((d["id"], d) for d in net.store.find_organisations())
    table = read_table(Path(file))
    column = next((c for c in table.header if c.strip().casefold() in
                   {"organisation", "organisation_id", "id", "name", "organisation_name", "org"}), None)
    if column is None:
        raise CliError(f"{file}: Spalte „organisation“ fehlt (Id oder Name je Zeile).")
    org_ids, problems = [], []
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        text = (row.get(column) or "").strip()
        if not text:
            continue
        try:
            org_ids.append(resolve_organisation(graph, text))
        except NotFound as exc:
            problems.append(f"{file}, Zeile {number}, Spalte „{column}“: {exc}")
    if problems:
        raise CliError("Teilnahme nicht gespeichert:\n" + "\n".join(problems))
    updated = dt.date.fromtimestamp(Path(file).stat().st_mtime).isoformat()
    # ties already recorded keep their original provenance
    around = net.store.neighbourhood(event_id)
    known = {u for u, _, t in around.in_edges(event_id, data="type") if t == "attended_event"}
    relations = attendance_relations(event_id, [o for o in org_ids if o not in known],
                                     source=Path(file).name, updated=updated)
    summary = net.store.upsert(RecordBatch(relations=relations))
    _audit(net.settings, "attendance", organisations=len(set(org_ids)), relations=summary.relations)
    print(f"Teilnahme gespeichert: {len(set(org_ids))} Organisationen bei {graph.nodes[event_id].get('name')} "
          f"({summary.relations} neu).")
    return EXIT_OK


#: Columns of ``msonet coverage --csv``: (key, German heading).
COVERAGE_COLUMNS = [
    ("district", "Kreisschlüssel"), ("name", "Kreis"), ("regierungsbezirk", "Regierungsbezirk"),
    ("population", "Einwohner*innen"), ("organisations", "Organisationen"), ("mso_count", "MSO"),
    ("msos_per_100k", "MSO je 100.000 Einwohner*innen"), ("ki_present", "KI vorhanden"), ("ki_count", "KI"),
    ("ia_count", "IA"), ("regular_service_count", "Regeldienste"),
    ("white_spots", f"Handlungsfelder ohne Akteur (von {len(SECTORS)})"),
    ("missing_sectors", "Handlungsfelder ohne Akteur"), ("funded_msos", "Geförderte MSO"),
    ("funded_msos_regular", "MSO mit Regelförderung"), ("funded_msos_project", "MSO mit Projektförderung"),
    ("amount_regular", "Regelförderung (€)"), ("amount_project", "Projektförderung (€)"),
    ("share_regular_percent", "Anteil Regelförderung (%)"),
]


def cmd_coverage(net: Network, *, fmt: str = "text") -> int:
    report = net.coverage(network=fmt in ("json", "text"))
    if fmt == "json":
        _print_json(report.as_dict())
        return EXIT_OK
    flat = [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in report.districts.as_dicts()]
    for row in flat:
        row["white_spots"] = len(row.get("sectors_without_actor") or ())
    if fmt == "raw":
        _print_csv(flat, list(flat[0]) if flat else ["district"], raw=True)
        return EXIT_OK
    if fmt == "csv":
        for row in flat:
            row["share_regular_percent"] = (round(row["share_regular"] * 100, 1)
                                            if isinstance(row.get("share_regular"), int | float) else None)
            row["missing_sectors"] = ", ".join(label("sector", s) for s in row.get("sectors_without_actor") or ())
        _print_csv(flat, COVERAGE_COLUMNS)
        return EXIT_OK
    _print_table(flat, [("district", "Schlüssel"), ("name", "Kreis"), ("mso_count", "MSO"),
                        ("msos_per_100k", "MSO/100.000"), ("ki_present", "KI"), ("ia_count", "IA"),
                        ("white_spots", f"Handlungsfelder ohne Akteur (von {len(SECTORS)})")], empty="Keine Daten.")
    figures = report.network
    assert figures is not None  # asked for above
    print(f"\nNetzwerk: {fmt_number(figures.components)} Komponenten, "
          f"Dichte {fmt_decimal(figures.density, 5)}")
    for broker in figures.brokers[:5]:
        print(f"  Brückenakteur: {broker.name} ({broker.id})")
    return EXIT_OK


def cmd_forget(net: Network, org: str, *, yes: bool = False) -> int:
    org_id = net.organisation_id(org)
    name = (net.store.get_node(org_id) or {}).get("name")
    if not yes:
        answer = input(f"„{name}“ ({org_id}) mit allen Beziehungen und personenbezogenen Daten löschen? [j/N] ")
        if answer.strip().lower() not in {"j", "ja", "y", "yes"}:
            print("Nichts gelöscht.")
            return EXIT_OK
    forgotten = net.forget(org_id)
    _audit(net.settings, "forget", organisations=int(forgotten.removed), relations=forgotten.ties)
    print(f"Gelöscht: {name} ({org_id}) mit allen Beziehungen, Förderungen und Kontaktdaten.")
    return EXIT_OK


#: Streamlit settings ``msonet app`` passes unless the user gives them (the repository's .streamlit/config.toml
#: only applies when the app is started inside the clone).
APP_OPTIONS = {
    "server.address": "localhost",
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "viewer",
    "theme.base": "light",
    "theme.primaryColor": "#e6550d",
    # Streamlit runs a full garbage collection after every page run; with the cached graph in memory that
    # costs more than the page itself (docs/performance.md, "Viele Sitzungen"). Python's own collector runs.
    "runner.postScriptGC": "false",
}


def app_command(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    """The ``streamlit run`` command line that ``msonet app`` executes (settings as environment variables)."""
    from msonet.app import script_path

    given = {arg.split("=", 1)[0].removeprefix("--") for arg in extra if arg.startswith("--")}
    options = {**APP_OPTIONS, "server.maxUploadSize": str(settings.max_upload_mb)}
    command = [sys.executable, "-m", "streamlit", "run", str(script_path())]
    for key, value in options.items():
        if key not in given:
            command += [f"--{key}", value]
    return command + list(extra)


def cmd_app(settings: Settings, streamlit_args: Sequence[str] = (), *, store: str | None = None,
            neo4j: str | None = None, falkordb: str | None = None) -> int:
    """Start the Streamlit app; --store/--neo4j/--falkordb reach it as environment variables."""
    env = dict(os.environ)
    if store:
        env["MSONET_HOME"] = str(Path(store).resolve())
    if neo4j:
        env["NEO4J_URI"] = neo4j
    if falkordb:
        env["FALKORDB_URL"] = falkordb
    command = app_command(settings, streamlit_args)
    print(f"msonet {_version()}: App startet ({describe_backend(settings)}); beenden mit Strg+C.", file=sys.stderr)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _split_app_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``msonet [global options] app REST``: REST goes to Streamlit unchanged (except a help request)."""
    takes_value = {"--store", "--neo4j", "--falkordb"}
    for i, arg in enumerate(argv):
        if arg == "app" and (i == 0 or argv[i - 1] not in takes_value):
            rest = argv[i + 1:]
            if rest[:1] in (["-h"], ["--help"]):
                return argv, []
            return argv[:i + 1], rest[1:] if rest[:1] == ["--"] else rest
        if not arg.startswith("-") and (i == 0 or argv[i - 1] not in takes_value):
            break  # another command: nothing to split
    return argv, []


def _version() -> str:
    import msonet

    return msonet.__version__


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the installed version (read only when asked for; see ``msonet.__getattr__``)."""
    if value and not ctx.resilient_parsing:
        click.echo(f"msonet {_version()}")
        ctx.exit()


def cmd_user(settings: Settings, action: str, name: str | None = None, *, role: str | None = None,
             replace: bool = False, password_stdin: bool = False) -> int:
    """Local accounts of the app (MSONET_AUTH=local): ``add``, ``remove``, ``list``."""
    import getpass

    from msonet.graph.access import ROLE_LABELS, LocalAccounts, role_key

    accounts = LocalAccounts(settings.users_path)
    if action == "list":
        rows = [{"name": a.name, "role": ROLE_LABELS.get(a.role, a.role), "created": a.created,
                 "changed": a.changed} for a in accounts.accounts()]
        _print_table(rows, [("name", "Benutzer"), ("role", "Rolle"), ("created", "angelegt"), ("changed", "geändert")],
                     empty=f"Noch keine Benutzer ({settings.users_path}).")
        if settings.auth != "local":
            print("\nHinweis: Die App nutzt diese Konten nur mit MSONET_AUTH=local.")
        return EXIT_OK
    assert name is not None  # add and remove take a NAME
    if action == "remove":
        removed = accounts.remove(name)
        _audit(settings, "user_remove")
        print(f"Benutzer „{removed}“ entfernt; eine laufende Sitzung endet beim nächsten Klick.")
        return EXIT_OK
    key = role_key(role or "")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Passwort für {name}: ")
        if getpass.getpass("Passwort wiederholen: ") != password:
            raise CliError("Die beiden Passwörter stimmen nicht überein; nichts geändert.")
    changed = accounts.add(name, key, password, replace=replace)
    _audit(settings, "user_update" if changed else "user_add")
    print(f"Benutzer „{name}“ {'geändert' if changed else 'angelegt'}: Rolle {ROLE_LABELS[key]} "
          f"({settings.users_path}).")
    if settings.auth != "local":
        print("Damit die App diese Konten verlangt: MSONET_AUTH=local setzen (siehe README).")
    return EXIT_OK


def cmd_migrate(net: Network, direction: str, *, store_dir: str | None = None) -> int:
    from msonet.graph.migrate import copy_graph

    embedded = open_store(Settings.from_env({}, home=store_dir if store_dir is not None else net.settings.home))
    store = net.store
    source, target = (embedded, store) if direction == "to-server" else (store, embedded)
    if target is source or type(store).__name__ == "EmbeddedStore":
        raise CliError("Für „migrate“ muss ein Server angegeben sein (--neo4j, NEO4J_URI oder FALKORDB_URL).")
    summary = copy_graph(source, target)
    _audit(net.settings, "migrate", organisations=summary.organisations, events=summary.events,
           relations=summary.relations, fundings=summary.fundings)
    print(f"Kopiert: {summary.organisations} Organisationen, {summary.events} Veranstaltungen, "
          f"{summary.relations} Beziehungen, {summary.fundings} Förderungen.")
    return EXIT_OK


# -- the command line (click) ----------------------------------------------------------------------------------
CSV_HELP = "als CSV für Tabellenprogramme: Semikolon, UTF-8 mit BOM, deutsche Spaltennamen und Zahlen"
RAW_HELP = ("CSV für Programme: Komma, UTF-8 ohne BOM, Spaltennamen und Schlüssel wie bei --json, Punkt als "
            "Dezimaltrennzeichen")

#: click's own texts in German (click looks them up through gettext; see :func:`german_click`).
CLICK_GERMAN = {
    "Usage:": "Aufruf:",
    "Options": "Optionen",
    "Commands": "Befehle",
    "Positional arguments": "Argumente",
    "Show this message and exit.": "diese Hilfe zeigen und beenden",
    "Show the version and exit.": "Version zeigen und beenden",
    "Missing command.": "diese Angaben fehlen: BEFEHL",
    "No such command {name!r}.": "„{name}“ ist kein Befehl.",
    "No such option {name!r}.": "unbekannte Angabe: {name}",
    "Did you mean {possibility}?": "Gemeint ist vielleicht {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(gemeint ist vielleicht eine von: {possibilities})",
    "Got unexpected extra argument ({args})": "unbekannte Angaben: {args}",
    "Got unexpected extra arguments ({args})": "unbekannte Angaben: {args}",
    "Option {name!r} requires an argument.": "{name}: erwartet einen Wert",
    "Option {name!r} requires {nargs} arguments.": "{name}: erwartet {nargs} Werte",
    "Option {name!r} does not take a value.": "{name}: nimmt keinen Wert",
    "Argument {name!r} takes {nargs} values.": "{name}: erwartet {nargs} Werte",
    "Error: {message}": "Fehler: {message}",
    "Try '{command} {option}' for help.": "„{command} {option}“ zeigt die Hilfe.",
    "Invalid value: {message}": "{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint}: {message}",
    "Missing argument": "diese Angaben fehlen:",
    "Missing option": "diese Angaben fehlen:",
    "Missing parameter": "diese Angaben fehlen:",
    "Aborted!": "Abgebrochen.",
    "default: {default}": "Standard: {default}",
    "required": "nötig",
}

_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils")


def _german(message: str) -> str:
    return CLICK_GERMAN.get(message, message)


def _german_plural(singular: str, plural: str, n: int) -> str:
    return _german(singular if n == 1 else plural)


@contextlib.contextmanager
def german_click() -> Iterator[None]:
    """click speaking German while the command line is parsed and its help shown (click's texts come from
    ``gettext`` through the name ``_`` in its modules).

    Only for the duration of the block, so other users of click in the same process (Streamlit) keep theirs.
    """
    import importlib

    saved: list[tuple[Any, str, Any]] = []
    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        for attr, german in (("_", _german), ("ngettext", _german_plural)):
            if hasattr(module, attr):
                saved.append((module, attr, getattr(module, attr)))
                setattr(module, attr, german)
    try:
        yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


class _WholeNumber(click.ParamType):
    name = "ganze Zahl"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return int(value)
        except ValueError:
            self.fail(f"„{value}“ ist keine ganze Zahl", param, ctx)


class _Decimal(click.ParamType):
    """A number as people type it: ``12,5`` or ``12.5``."""

    name = "Zahl"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value).replace(",", "."))
        except ValueError:
            self.fail(f"„{value}“ ist keine Zahl", param, ctx)


class _Choice(click.Choice):
    """A choice whose error names the allowed values in German."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        self.fail(f"„{value}“ ist nicht vorgesehen (möglich: {', '.join(map(str, self.choices))})", param, ctx)


WHOLE_NUMBER, DECIMAL = _WholeNumber(), _Decimal()
FORMATS = {"json": "als JSON ausgeben", "csv": CSV_HELP, "raw": RAW_HELP}


def output_format(*names: str, **helps: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The one output-format option: the flags ``--json``, ``--csv``, ``--raw`` (those in ``names``), at most
    one of them; the command gets ``fmt`` = ``"json"``, ``"csv"``, ``"raw"`` or ``"text"``."""

    def chosen(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if not value or param.name is None:
            return
        before = ctx.meta.get("msonet.format")
        if before is not None and before != param.name:
            raise click.UsageError(f"--{param.name}: nicht zusammen mit --{before} möglich", ctx)
        ctx.meta["msonet.format"] = param.name

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(names):
            command = click.option(f"--{name}", is_flag=True, expose_value=False, callback=chosen,
                                   help=helps.get(name, FORMATS[name]))(command)
        return command

    return decorate


def _fmt() -> str:
    return str(click.get_current_context().meta.get("msonet.format", "text"))


@dataclass
class _State:
    """What the group passes to its commands: the global options, the Streamlit arguments of ``app``."""

    store: str | None = None
    neo4j: str | None = None
    falkordb: str | None = None
    streamlit_args: list[str] = field(default_factory=list)
    ran: bool = False


def _state() -> _State:
    """The state of this run, marked as one that ran a command (not only help)."""
    state = click.get_current_context().find_object(_State)
    assert state is not None  # main() passes it
    state.ran = True
    return state


def _settings(state: _State) -> Settings:
    return Settings.from_env(home=state.store, neo4j_uri=state.neo4j, falkordb_url=state.falkordb)


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _debug(settings: Settings | None) -> bool:
    """Whether MSONET_DEBUG asks for tracebacks (read through Settings, also when no settings were built)."""
    if settings is not None:
        return settings.debug
    try:
        return Settings.from_env().debug
    except GraphError:
        return False


def run_guarded(work: Callable[[], int], settings: Settings | None, *, interrupted: str | None = None) -> int:
    """The one error handler of the command line: runs ``work`` and turns every error into a German message
    on standard error and an exit code (no traceback reaches a user; ``MSONET_DEBUG=1`` shows it)."""
    where = describe_backend(settings) if settings is not None else "Speicher"
    try:
        return work()
    except ValidationError as exc:
        print(f"Nichts geladen. {exc}", file=sys.stderr)
        return _fail("Tipp: --skip-invalid lädt die gültigen Zeilen und meldet die übrigen.", EXIT_INPUT)
    except StoreError as exc:
        return _fail(f"Fehler beim Zugriff auf den {where}: {exc}", EXIT_STORE)
    except GraphError as exc:
        return _fail(f"Fehler: {exc}", EXIT_INPUT)
    except (KeyboardInterrupt, EOFError):
        if interrupted:
            print(f"\n{interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        # input files and export targets report their own errors; what is left is the store's folder
        place = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"Fehler beim Zugriff auf den {where}{place}: {exc.strerror or exc}. Bitte Schreibrechte und "
                     "Speicherplatz prüfen oder mit --store einen anderen Ordner wählen.", EXIT_STORE)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        if _debug(settings):
            raise
        return _fail(f"Interner Fehler ({type(exc).__name__}: {str(exc)[:200]}). Das sollte nicht passieren – bitte "
                     "mit dem Befehl melden. Ist der Speicher von Hand bearbeitet worden, bitte die Speicherdatei "
                     "prüfen. MSONET_DEBUG=1 zeigt Einzelheiten.", EXIT_INTERNAL)


def _with_network(command: Callable[..., int], *args: Any, **kwargs: Any) -> int:
    """Open the network the global options name, run ``command(net, ...)`` in :func:`run_guarded`, close it."""
    state = _state()
    try:
        settings = _settings(state)
    except GraphError as exc:
        return _fail(f"Fehler: {exc}", EXIT_USAGE)
    try:
        store = open_store(settings)
    except StoreError as exc:
        return _fail(f"Fehler: {exc}", EXIT_STORE)
    except OSError as exc:
        return _fail(f"Fehler: Der {describe_backend(settings)} kann nicht geöffnet werden ({exc.strerror or exc}). "
                     "Bitte Schreibrechte prüfen oder mit --store einen anderen Ordner wählen.", EXIT_STORE)
    net = Network(store, settings)
    from msonet.graph.store import gc_paused

    try:
        # One command, then the process ends: no cyclic garbage collection meanwhile. Each full collection
        # walked the millions of objects of a read graph again (at 100,000 organisations, ``isolated``
        # spent a second in them); graph data has no reference cycles, and loads pause it anyway.
        with gc_paused():
            return run_guarded(lambda: command(net, *args, **kwargs), settings)
    finally:
        store.close()


def _with_settings(command: Callable[..., int], *args: Any, interrupted: str | None = None, **kwargs: Any) -> int:
    """Run ``command(settings, ...)`` for the commands that need no store (app, user)."""
    state = _state()
    try:
        settings = _settings(state)
    except GraphError as exc:
        return _fail(f"Fehler: {exc}", EXIT_USAGE)
    return run_guarded(lambda: command(settings, *args, **kwargs), settings, interrupted=interrupted)


class _Group(click.Group):
    """Commands listed in the order they are defined (click sorts them by name)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


_HELP_OPTIONS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=_Group, context_settings=_HELP_OPTIONS, options_metavar="[OPTIONEN]",
             subcommand_metavar="BEFEHL [ANGABEN]...",
             epilog="Speicherort: --store, MSONET_HOME oder ~/.local/share/msonet. Server: --neo4j/NEO4J_URI "
                    "(mit NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE) oder --falkordb/FALKORDB_URL.")
@click.option("--store", metavar="ORDNER", help="Ordner des eingebetteten Speichers")
@click.option("--neo4j", metavar="URI", help="Neo4j-Server statt eingebettetem Speicher")
@click.option("--falkordb", metavar="URL", help="FalkorDB-Server statt eingebettetem Speicher")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Version zeigen und beenden")
@click.pass_context
def cli(ctx: click.Context, store: str | None, neo4j: str | None, falkordb: str | None) -> None:
    """Netzwerk-Explorer für Migrant*innenselbstorganisationen (MSO) und Regeldienste in NRW."""
    state = ctx.ensure_object(_State)
    state.store, state.neo4j, state.falkordb = store, neo4j, falkordb


def _command(name: str, help_text: str, arguments: str = "", **extra: Any) -> Callable[[Callable[..., Any]],
                                                                                      click.Command]:
    """A command of :data:`cli`: ``help_text`` in the list of commands, ``arguments`` explained below it."""
    return cli.command(name, help=f"{help_text}\n\n{arguments}" if arguments else help_text, short_help=help_text,
                       options_metavar="[OPTIONEN]", context_settings=_HELP_OPTIONS, **extra)


@_command("demo", "Demodaten (reale Akteure + synthetische Population) in den Speicher laden")
@click.option("--seed", metavar="ZAHL", type=WHOLE_NUMBER, default=2024, help="Zufallsstartwert (Standard 2024)")
@click.option("--replace", is_flag=True, help="vorhandene Daten ersetzen")
@click.option("--if-empty", is_flag=True, help="nur laden, wenn der Speicher leer ist")
def _demo(seed: int, replace: bool, if_empty: bool) -> int:
    if replace and if_empty:
        raise click.UsageError("--if-empty: nicht zusammen mit --replace möglich")
    return _with_network(cmd_demo, seed=seed, replace=replace, if_empty=if_empty)


@_command("load", "Dateien laden (CSV, XLSX, JSON, HSDS): Organisationen, Beziehungen, Veranstaltungen, "
                  "Teilnahmen, Förderungen", "DATEI: eine oder mehrere Dateien.")
@click.argument("paths", nargs=-1, required=True, metavar="DATEI...")
@click.option("--skip-invalid", is_flag=True, help="gültige Zeilen laden, ungültige melden")
@click.option("--kind", metavar="ART",
              type=_Choice(["organisations", "relations", "events", "attendance", "funding", "hsds"]),
              help="Dateiart erzwingen: organisations, relations, events, attendance, funding oder hsds "
                   "(sonst an den Spalten erkannt)")
@output_format("json", json="Bericht als JSON")
@click.option("--duplicates-out", default="msonet-dubletten.csv", metavar="DATEI",
              help="wohin eine lange Liste möglicher Dubletten geschrieben wird (Standard: msonet-dubletten.csv; ab "
                   "21 Paaren, sonst stehen sie im Bericht)")
def _load(paths: tuple[str, ...], skip_invalid: bool, kind: str | None, duplicates_out: str) -> int:
    return _with_network(cmd_load, list(paths), skip_invalid=skip_invalid, kind=kind, as_json=_fmt() == "json",
                         duplicates_out=duplicates_out)


@_command("stats", "Kennzahlen: Organisationen nach Typ, Kreis und Handlungsfeld")
@output_format("json")
def _stats() -> int:
    return _with_network(cmd_stats, fmt=_fmt())


@_command("export", "Alles exportieren (CSV-Ordner, JSON, GraphML oder GEXF für Gephi)")
@click.option("--format", "format_", type=_Choice(["csv", "json", "graphml", "gexf"]), default="csv",
              metavar="FORMAT", help="Format: csv, json, graphml oder gexf (Standard csv; graphml und gexf öffnen "
                                     "Gephi, yEd, Cytoscape)")
@click.option("--out", metavar="ZIEL", default="msonet-export", help="Zielordner (csv) oder Zieldatei")
@click.option("--include-personal", is_flag=True,
              help="personenbezogene Daten (Ansprechperson, E-Mail, Telefon) mit exportieren")
def _export(format_: str, out: str, include_personal: bool) -> int:
    return _with_network(cmd_export, format=format_, out=out, include_personal=include_personal)


@_command("isolated", "Isolierte Organisationen mit Begründung")
@click.option("--district", metavar="KREIS", help="Kreis/kreisfreie Stadt (Name oder 5-stelliger Schlüssel)")
@click.option("--type", "org_type", metavar="TYP", help="Organisationstyp (z.B. „MSO“ oder „Wohlfahrtsverband“)")
@click.option("--years", metavar="JAHRE", type=WHOLE_NUMBER, default=3,
              help="Zeitfenster für Veranstaltungen in Jahren (Standard 3)")
@click.option("--today", hidden=True)
@output_format("json", "csv", "raw")
def _isolated(district: str | None, org_type: str | None, years: int, today: str | None) -> int:
    return _with_network(cmd_isolated, district=district, org_type=org_type, years=years, today=today, fmt=_fmt())


@_command("partners", "Tandempartner für eine MSO vorschlagen", "ORG: Id oder Name der MSO.")
@click.argument("org", metavar="ORG")
@click.option("--top", metavar="ANZAHL", type=WHOLE_NUMBER, default=10, help="Anzahl Vorschläge (Standard 10)")
@click.option("--max-km", metavar="KM", type=DECIMAL, help="höchstens so weit entfernt")
@click.option("--sector", metavar="FELD", help="nur Partner in diesem Handlungsfeld (z.B. „Jugendarbeit“)")
@click.option("--include-umbrella", is_flag=True,
              help="auch Dach- und Landesverbände, Ministerien, Bezirksregierung vorschlagen")
@click.option("--include-migration-services", is_flag=True,
              help="auch migrationsspezifische Dienste (z.B. Fachdienst Integration) vorschlagen")
@output_format("json")
def _partners(org: str, top: int, max_km: float | None, sector: str | None, include_umbrella: bool,
              include_migration_services: bool) -> int:
    return _with_network(cmd_partners, org, top=top, max_km=max_km, sector=sector, include_umbrella=include_umbrella,
                         include_migration_services=include_migration_services, fmt=_fmt())


@_command("tandems", "N Tandems auf einmal planen (jede Organisation höchstens einmal)")
@click.option("--count", metavar="ANZAHL", type=WHOLE_NUMBER, required=True, help="Anzahl Tandems")
@click.option("--district", metavar="KREIS", help="nur in diesem Kreis")
@click.option("--max-km", metavar="KM", type=DECIMAL, default=50, help="höchste Entfernung (Standard 50 km)")
@output_format("json")
def _tandems(count: int, district: str | None, max_km: float) -> int:
    return _with_network(cmd_tandems, count=count, district=district, max_km=max_km, fmt=_fmt())


@_command("meeting", "Vernetzungstreffen planen: Einladungsliste und Tischgruppen")
@click.option("--capacity", metavar="PLÄTZE", type=WHOLE_NUMBER, required=True, help="Plätze")
@click.option("--district", metavar="KREIS", help="Kreis/kreisfreie Stadt")
@click.option("--region", metavar="RB", help="Regierungsbezirk (z.B. Arnsberg)")
@click.option("--topic", metavar="FELD", help="Thema als Handlungsfeld (z.B. „Jugendarbeit“ oder „Bildung“)")
@click.option("--tables", metavar="TISCHE", type=WHOLE_NUMBER, default=4, help="Anzahl Tische (Standard 4)")
@click.option("--venue", metavar="ORT", help="Veranstaltungsort: Ort oder PLZ in NRW (Standard: Mitte des Kreises "
                                             "bzw. Regierungsbezirks)")
@click.option("--radius-km", metavar="KM", type=DECIMAL,
              help=f"Reiseradius um den Veranstaltungsort in km (Standard {DEFAULT_RADIUS_KM:.0f}; ganz NRW ohne "
                   "--venue: keine Grenze)")
@click.option("--organiser", "organisers", multiple=True, metavar="ORG", help="Veranstalter (mehrfach möglich)")
@click.option("--today", hidden=True)
@output_format("json", "csv", "raw", csv="Einladungsliste " + CSV_HELP, raw="Einladungsliste als " + RAW_HELP)
@click.option("--include-personal", is_flag=True,
              help="E-Mail-Adressen (personenbezogen) in die Einladungsliste aufnehmen")
def _meeting(capacity: int, district: str | None, region: str | None, topic: str | None, tables: int,
             venue: str | None, radius_km: float | None, organisers: tuple[str, ...], today: str | None,
             include_personal: bool) -> int:
    if district and region:
        raise click.UsageError("--region: nicht zusammen mit --district möglich")
    return _with_network(cmd_meeting, capacity=capacity, district=district, region=region, topic=topic, tables=tables,
                         venue=venue, radius_km=radius_km, organisers=organisers, today=today, fmt=_fmt(),
                         include_personal=include_personal)


@_command("geocode", "Punkte nach Straße und Hausnummer nachtragen (Nominatim, 1 Anfrage/s, mit Zwischenspeicher; "
                     "braucht Internet)")
@click.option("--limit", metavar="ANZAHL", type=WHOLE_NUMBER,
              help="höchstens so viele neue Anfragen (Standard: alle)")
@click.option("--quiet", is_flag=True, help="keine Zeile je Anfrage ausgeben")
def _geocode(limit: int | None, quiet: bool) -> int:
    return _with_network(cmd_geocode, limit=limit, quiet=quiet)


@_command("attend", "Teilnahme an einer Veranstaltung nachtragen (Datei mit Spalte organisation)",
          "VERANSTALTUNG: Id oder Name der Veranstaltung; DATEI: CSV/XLSX mit einer Spalte „organisation“ "
          "(Id oder Name).")
@click.argument("event", metavar="VERANSTALTUNG")
@click.argument("file", metavar="DATEI")
def _attend(event: str, file: str) -> int:
    return _with_network(cmd_attend, event, file)


@_command("coverage", "Versorgung je Kreis: MSO je 100.000 Einw., KI/IA, weiße Flecken, Fördermix; "
                      "Netzwerkkennzahlen")
@output_format("json", "csv", "raw")
def _coverage() -> int:
    return _with_network(cmd_coverage, fmt=_fmt())


@_command("forget", "Eine Organisation mit allen Beziehungen und Kontaktdaten löschen", "ORG: Id oder Name.")
@click.argument("org", metavar="ORG")
@click.option("--yes", is_flag=True, help="ohne Rückfrage")
def _forget(org: str, yes: bool) -> int:
    return _with_network(cmd_forget, org, yes=yes)


@cli.group("user", cls=_Group, help="Konten der App-Anmeldung (MSONET_AUTH=local) verwalten: add, remove, list",
           short_help="Konten der App-Anmeldung (MSONET_AUTH=local) verwalten: add, remove, list",
           options_metavar="[OPTIONEN]", subcommand_metavar="AKTION [ANGABEN]...", context_settings=_HELP_OPTIONS)
def _user() -> None:
    pass


_ABORTED = "Abgebrochen; nichts geändert."


@_user.command("add", options_metavar="[OPTIONEN]", context_settings=_HELP_OPTIONS,
               short_help="Benutzer anlegen (oder mit --replace Rolle und Passwort ändern)",
               help="Benutzer anlegen; das Passwort wird abgefragt (mindestens 10 Zeichen) und nur als "
                    "Argon2id-Hash gespeichert. NAME: Benutzername.")
@click.argument("name", metavar="NAME")
@click.option("--role", required=True, metavar="ROLLE", help="Lesen, Beraten, Bearbeiten oder Verwalten")
@click.option("--replace", is_flag=True, help="vorhandenen Benutzer ändern")
@click.option("--password-stdin", is_flag=True, help="Passwort aus der ersten Zeile der Standardeingabe")
def _user_add(name: str, role: str, replace: bool, password_stdin: bool) -> int:
    return _with_settings(cmd_user, "add", name, role=role, replace=replace, password_stdin=password_stdin,
                          interrupted=_ABORTED)


@_user.command("remove", options_metavar="[OPTIONEN]", context_settings=_HELP_OPTIONS,
               help="Benutzer entfernen. NAME: Benutzername.", short_help="Benutzer entfernen")
@click.argument("name", metavar="NAME")
def _user_remove(name: str) -> int:
    return _with_settings(cmd_user, "remove", name, interrupted=_ABORTED)


@_user.command("list", options_metavar="[OPTIONEN]", context_settings=_HELP_OPTIONS,
               help="Benutzer und Rollen zeigen", short_help="Benutzer und Rollen zeigen")
def _user_list() -> int:
    return _with_settings(cmd_user, "list", interrupted=_ABORTED)


@_command("app", "Die App (Streamlit) starten, aus jedem Ordner; danach im Browser öffnen",
          epilog="Alle weiteren Angaben gehen an Streamlit, z.B. msonet app --server.port 8502. Ohne Angabe hört die "
                 "App nur auf diesem Computer (localhost), siehe README „Betrieb für mehrere Personen“.")
@click.pass_obj
def _app(state: _State) -> int:
    return _with_settings(cmd_app, state.streamlit_args, store=state.store, neo4j=state.neo4j,
                          falkordb=state.falkordb)


@_command("migrate", "Daten zwischen eingebettetem Speicher und Server kopieren",
          "RICHTUNG: to-server (eingebettet -> Server) oder from-server (Server -> eingebettet).")
@click.argument("direction", metavar="RICHTUNG", type=_Choice(["to-server", "from-server"]))
@click.option("--store-dir", metavar="ORDNER", help="Ordner des eingebetteten Speichers (Standard: MSONET_HOME)")
def _migrate(direction: str, store_dir: str | None) -> int:
    return _with_network(cmd_migrate, direction, store_dir=store_dir)


def build_parser() -> click.Group:
    """The command group (kept under its former name; it is :data:`cli`)."""
    return cli


def _usage_error(exc: click.UsageError) -> str:
    """The German text of a usage error: ``--years: „drei“ ist keine ganze Zahl``."""
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        names = exc.param.opts if isinstance(exc.param, click.Option) else [exc.param.make_metavar(exc.ctx)
                                                                              if exc.ctx else exc.param.name or ""]
        return f"diese Angaben fehlen: {'/'.join(names)}"
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        hint = "/".join(exc.param.opts) if isinstance(exc.param, click.Option) else (
            exc.param.make_metavar(exc.ctx) if exc.ctx else exc.param.name or "")
        return f"{hint}: {exc.message}"
    if isinstance(exc, click.NoSuchOption):
        text = f"unbekannte Angabe: {exc.option_name}"
        if exc.possibilities:
            text += f" (gemeint ist vielleicht {' oder '.join(sorted(exc.possibilities))}?)"
        return text
    return exc.format_message()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``msonet`` with ``argv`` (default: the process' arguments); returns the exit code.

    Help and ``--version`` end with ``SystemExit(0)``, a wrong call with ``SystemExit(2)`` after a German
    message on standard error (as ``msonet`` does on the command line).
    """
    argv, streamlit_args = _split_app_args(sys.argv[1:] if argv is None else list(argv))
    state = _State(streamlit_args=streamlit_args)
    with german_click():
        try:
            code = cli.main(args=argv, prog_name="msonet", standalone_mode=False, obj=state)
        except click.UsageError as exc:
            ctx = exc.ctx
            if isinstance(exc, click.exceptions.NoArgsIsHelpError) and ctx is not None:
                # no command (or no action of ``user``): the help, then what is missing
                missing = str(getattr(ctx.command, "subcommand_metavar", None) or "BEFEHL").split()[0]
                print(ctx.get_help(), file=sys.stderr)
                print(f"\n{ctx.command_path}: Fehler: diese Angaben fehlen: {missing}", file=sys.stderr)
                raise SystemExit(EXIT_USAGE) from None
            if ctx is not None:
                print(ctx.get_usage(), file=sys.stderr)
                print(f"„{ctx.command_path} --help“ zeigt die Hilfe.\n", file=sys.stderr)
            prog = ctx.command_path if ctx is not None else "msonet"
            print(f"{prog}: Fehler: {_usage_error(exc)}", file=sys.stderr)
            raise SystemExit(EXIT_USAGE) from None
        except click.Abort:
            print("\nAbgebrochen.", file=sys.stderr)
            return EXIT_INTERRUPTED
    if not state.ran:  # help or version shown
        raise SystemExit(code if isinstance(code, int) else EXIT_OK)
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
