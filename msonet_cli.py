"""The ``msonet`` command: load, report and export the MSO network without the app."""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from msonet.graph.backends import describe_backend, open_store
from msonet.graph.errors import GraphError, NotFound, StoreError, ValidationError
from msonet.graph.formats import fmt_decimal, fmt_km, fmt_number, fmt_value
from msonet.graph.meeting import DEFAULT_RADIUS_KM
from msonet.graph.settings import Settings
from msonet.graph.store import GraphStore
from msonet.graph.vocabulary import SECTORS, choices, label, lookup_key

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_STORE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class CliError(GraphError):
    """A user error found by the command line itself (exit code 1)."""


# -- helpers ---------------------------------------------------------------------------------------
def _today(args: argparse.Namespace) -> dt.date:
    return dt.date.fromisoformat(args.today) if getattr(args, "today", None) else dt.date.today()


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
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


def _district_key(text: str | None) -> str | None:
    if not text:
        return None
    from msonet.loaders.gazetteer import default_gazetteer

    return default_gazetteer().resolve_district(text).key


def _region_name(text: str | None) -> str | None:
    if not text:
        return None
    from msonet.loaders.gazetteer import default_gazetteer

    return default_gazetteer().resolve_regierungsbezirk(text)


def _vocab(kind: str, text: str | None, what: str) -> str | None:
    if not text:
        return None
    key = lookup_key(kind, text)
    if key is None:
        raise CliError(f"{what} „{text}“ ist unbekannt. Erlaubt sind: {', '.join(choices(kind))}.")
    return key


def _audit(args: argparse.Namespace, action: str, **counts: int) -> None:
    """Record a write or an export with personal data in the audit log (the CLI acts as Verwalten)."""
    from msonet.graph.access import AuditLog

    AuditLog(args.settings.audit_path).record(_cli_principal(), action, **counts)


def _cli_principal():
    import getpass

    from msonet.graph.access import Principal

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. in a container without an /etc/passwd entry
        name = "unbekannt"
    return Principal(name, "verwalten", "cli")


def _analysis_graph(store: GraphStore):
    return store.graph_view()


def _org_id(store: GraphStore, text: str) -> str:
    """The id of the organisation ``text`` names; an exact id needs no whole graph."""
    import networkx as nx

    from msonet.graph.lookup import resolve_organisation

    node = store.get_node(text)
    if node is not None and node.get("kind") == "organisation":
        return text
    names = nx.MultiDiGraph()
    names.add_nodes_from((d["id"], d) for d in store.find_organisations())
    return resolve_organisation(names, text)


# -- commands --------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.loaders.demo import build_demo_batch

    counts = store.counts()
    if counts.get("organisations") and args.if_empty:
        print(f"Der Speicher enthält bereits {counts['organisations']} Organisationen; Demodaten nicht neu geladen.")
        return EXIT_OK
    if counts.get("organisations") and not args.replace:
        raise CliError(f"Der Speicher enthält bereits {counts['organisations']} Organisationen. "
                       "„msonet demo --replace“ ersetzt alles durch die Demodaten "
                       "(vorher mit „msonet export“ sichern).")
    batch = build_demo_batch(seed=args.seed)
    if counts.get("organisations") or counts.get("events"):
        store.clear()
    summary = store.upsert(batch)
    _audit(args, "demo", organisations=summary.organisations, events=summary.events, relations=summary.relations,
           fundings=summary.fundings)
    print(f"Demodaten geladen: {summary.organisations} Organisationen, {summary.events} Veranstaltungen, "
          f"{summary.relations} Beziehungen, {summary.fundings} Förderungen.")
    return EXIT_OK


def cmd_load(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.loaders.load import load_files

    try:
        report = load_files([Path(p) for p in args.paths], store, skip_invalid=args.skip_invalid, kind=args.kind)
    except ValidationError as exc:
        if not args.json:
            raise
        # --json promises JSON on stdout also when nothing was loaded (the German text still goes to stderr)
        _print_json({"written": None, "problems": [p.as_dict() for p in exc.problems]})
        print(f"Nichts geladen. {exc}", file=sys.stderr)
        return EXIT_INPUT
    _audit(args, "load", files=len(args.paths), organisations=report.summary.organisations,
           events=report.summary.events, relations=report.summary.relations, fundings=report.summary.fundings)
    if args.json:
        _print_json(report.as_dict())
    else:
        print(report.describe(duplicates_file=_write_duplicates(report, Path(args.duplicates_out))))
    return EXIT_INPUT if report.problems else EXIT_OK


def _write_duplicates(report: Any, path: Path) -> Path | str | None:
    """Write a long list of possible duplicates as CSV; the path, a German reason it failed, or ``None``."""
    from msonet.loaders.load import MAX_LISTED_DUPLICATES

    if len(report.duplicates) <= MAX_LISTED_DUPLICATES:
        return None
    rows = [{"erste_id": d.first_id, "erster_name": d.first_name, "zweite_id": d.second_id,
             "zweiter_name": d.second_name, "ort": d.city or "", "bereits_im_speicher": "ja" if d.existing else "nein",
             "aehnlichkeit": d.score, "begruendung": d.reason} for d in report.duplicates]
    try:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, list(rows[0]), delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        return (f"die Liste konnte nicht nach {path} geschrieben werden ({exc.strerror}); --duplicates-out wählt "
                "eine andere Datei")
    return path


def _stats(store: GraphStore) -> dict[str, Any]:
    orgs = store.organisation_stats()  # counted by the store (the embedded one: SQL, no graph built)
    counts = store.counts()
    return {
        "total": orgs["total"],
        "synthetic": orgs["synthetic"],
        "events": counts.get("events", 0),
        "programmes": counts.get("programmes", 0),
        "relations": counts.get("relations", 0),
        "by_type": orgs["by_type"],
        "by_district": orgs["by_district"],
        "by_sector": orgs["by_sector"],
    }


def cmd_stats(args: argparse.Namespace, store: GraphStore) -> int:
    stats = _stats(store)
    if args.json:
        _print_json(stats)
        return EXIT_OK
    from msonet.loaders.geography import load_districts

    districts = load_districts()
    print(f"Organisationen: {fmt_number(stats['total'])} (davon synthetisch: {fmt_number(stats['synthetic'])})")
    print(f"Veranstaltungen: {fmt_number(stats['events'])}, Förderprogramme: {fmt_number(stats['programmes'])}, "
          f"Beziehungen: {fmt_number(stats['relations'])}")
    print("\nNach Organisationstyp:")
    for key, n in sorted(stats["by_type"].items(), key=lambda kv: -kv[1]):
        print(f"  {fmt_number(n):>7}  {label('org_type', key)}")
    print("\nNach Kreis / kreisfreier Stadt:")
    for key, n in sorted(stats["by_district"].items(), key=lambda kv: -kv[1]):
        name = districts[key].name if key in districts else "?"
        print(f"  {fmt_number(n):>7}  {name} ({key})")
    print("\nNach Handlungsfeld:")
    for key, n in sorted(stats["by_sector"].items(), key=lambda kv: -kv[1]):
        print(f"  {fmt_number(n):>7}  {label('sector', key)}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.loaders import export

    out = Path(args.out)
    if args.format == "csv":
        paths = export.export_csv(store, out, include_personal=args.include_personal)
    elif args.format == "json":
        paths = [export.export_json(store, out, include_personal=args.include_personal)]
    elif args.format == "gexf":
        paths = [export.export_gexf(store, out, include_personal=args.include_personal)]
    else:
        paths = [export.export_graphml(store, out, include_personal=args.include_personal)]
    for path in paths:
        print(f"geschrieben: {path}")
    if args.include_personal:
        _audit(args, "export_personal", files=len(paths), organisations=store.counts().get("organisations", 0))
    else:
        print("Personenbezogene Daten (Ansprechperson, E-Mail, Telefon) sind nicht enthalten; "
              "--include-personal nimmt sie auf.")
    return EXIT_OK


def cmd_isolated(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.isolation import isolated_organisations

    rows = isolated_organisations(_analysis_graph(store), today=_today(args), event_years=args.years,
                                  district=_district_key(args.district),
                                  org_type=_vocab("org_type", args.type, "Organisationstyp"))
    if args.json:
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
    if args.csv or args.raw:
        _print_csv(table, [("id", "id"), ("name", "name"), ("org_type", "org_type"), ("city", "city"),
                           ("district", "district"), ("codes", "codes"), ("why", "reasons")] if args.raw else
                   [("name", "Name"), ("type_label", "Typ"), ("city", "Ort"), ("district_name", "Kreis"),
                    ("reason_labels", "Gründe"), ("why", "Erläuterung"), ("id", "Id")], raw=args.raw)
        return EXIT_OK
    _print_table(table, [("name", "Name"), ("city", "Ort"), ("district_name", "Kreis"), ("why", "Warum")],
                 empty="Keine isolierten Organisationen gefunden.")
    if rows:
        print(f"\n{fmt_number(len(rows))} Organisationen.")
    return EXIT_OK


def _resolve_org(graph, text: str) -> str:
    from msonet.graph.lookup import resolve_organisation

    return resolve_organisation(graph, text)


def cmd_partners(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.partners import check_top, propose_partners

    check_top(args.top)
    org_id = _org_id(store, args.org)
    sector = _vocab("sector", args.sector, "Handlungsfeld")
    search = {"top": args.top, "max_km": args.max_km, "sector": sector, "include_umbrella": args.include_umbrella,
              "include_migration_services": args.include_migration_services}
    # the MSO, its contacts and theirs, the partners that can make the list (read through indexes)
    rows = propose_partners(store.partner_view(org_id, **search), org_id, **search)
    if args.json:
        _print_json(rows)
        return EXIT_OK
    print(f"Tandem-Vorschläge für {(store.get_node(org_id) or {}).get('name')} ({org_id}):\n")
    _print_table([_german_pair(r) for r in rows], [("score", "Punkte"), ("name", "Name"), ("city", "Ort"),
                                                   ("distance_km", "Entfernung"), ("reasons", "Gründe")],
                 empty="Keine passenden Partner gefunden (Entfernung oder Handlungsfeld zu eng?).")
    return EXIT_OK


def _german_pair(row: dict[str, Any]) -> dict[str, Any]:
    """A proposal with score and distance as people read them (``0,79``, ``13,6 km``)."""
    return {**row, "score": fmt_decimal(row.get("score"), 2),
            "distance_km": fmt_km(row["distance_km"]) if isinstance(row.get("distance_km"), int | float) else ""}


def cmd_tandems(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.cohort import plan_cohort

    rows = plan_cohort(_analysis_graph(store), args.count, district=_district_key(args.district),
                       max_km=args.max_km)
    if args.json:
        _print_json(rows)
    else:
        _print_table([_german_pair(r) for r in rows], [("score", "Punkte"), ("mso_name", "MSO"),
                                                       ("partner_name", "Partner"), ("distance_km", "Entfernung"),
                                                       ("reasons", "Gründe")],
                     empty="Keine Tandems möglich.")
    return EXIT_OK


def cmd_meeting(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.meeting import check_request, invitation_rows, plan_meeting
    from msonet.loaders.gazetteer import region_centre, resolve_venue

    check_request(args.capacity, args.tables, args.radius_km)
    district, region = _district_key(args.district), _region_name(args.region)
    venue = resolve_venue(args.venue) if args.venue else region_centre(district, region)
    graph = _analysis_graph(store)
    organisers = tuple(_resolve_org(graph, o) for o in args.organiser or ())
    plan = plan_meeting(graph, args.capacity, today=_today(args), district=district, regierungsbezirk=region,
                        topic=_vocab("sector", args.topic, "Thema (Handlungsfeld)"), tables=args.tables,
                        organisers=organisers, venue=venue[1:] if venue else None,
                        venue_name=venue[0] if venue else None, radius_km=args.radius_km)
    if args.json:
        _print_json(plan)
    elif args.raw:
        _print_csv(sorted(plan["invitees"], key=lambda r: (r.get("table") or 0, r["name"], r["id"])),
                   ["table", "id", "name", "org_type", "city", "district", "role", "reasons"], raw=True)
    elif args.csv:
        rows = invitation_rows(graph, plan, include_email=args.include_personal)
        if args.include_personal:
            _audit(args, "invitations_email", rows=len(rows), with_email=sum(1 for r in rows if r.get("E-Mail")))
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


def cmd_geocode(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.loaders.geocode import CACHE_FILE, GeocodeCache, GeocoderFailed, geocode_organisations, nominatim

    if args.limit is not None and args.limit < 1:
        raise CliError(f"--limit muss mindestens 1 sein (angegeben: {args.limit}).")
    settings = Settings.from_env(home=args.store)
    geocoder = nominatim(settings.geocoder_user_agent, settings.geocoder_domain, settings.geocoder_scheme)
    cache = GeocodeCache(settings.home / CACHE_FILE)
    try:
        report = geocode_organisations(store, geocoder, cache=cache, limit=args.limit,
                                       progress=None if args.quiet else lambda m: print(m, file=sys.stderr))
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


def cmd_attend(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.lookup import resolve_event
    from msonet.graph.meeting import attendance_relations
    from msonet.graph.model import RecordBatch
    from msonet.loaders.files import read_table

    graph = _analysis_graph(store)
    event_id = resolve_event(graph, args.event)
    table = read_table(Path(args.file))
    column = next((c for c in table.header if c.strip().casefold() in
                   {"organisation", "organisation_id", "id", "name", "organisation_name", "org"}), None)
    if column is None:
        raise CliError(f"{args.file}: Spalte „organisation“ fehlt (Id oder Name je Zeile).")
    org_ids, problems = [], []
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        text = (row.get(column) or "").strip()
        if not text:
            continue
        try:
            org_ids.append(_resolve_org(graph, text))
        except NotFound as exc:
            problems.append(f"{args.file}, Zeile {number}, Spalte „{column}“: {exc}")
    if problems:
        raise CliError("Teilnahme nicht gespeichert:\n" + "\n".join(problems))
    updated = dt.date.fromtimestamp(Path(args.file).stat().st_mtime).isoformat()
    # ties already recorded keep their original provenance
    known = {u for u, _, t in graph.in_edges(event_id, data="type") if t == "attended_event"}
    relations = attendance_relations(event_id, [o for o in org_ids if o not in known],
                                     source=Path(args.file).name, updated=updated)
    summary = store.upsert(RecordBatch(relations=relations))
    _audit(args, "attendance", organisations=len(set(org_ids)), relations=summary.relations)
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


def cmd_coverage(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.coverage import district_coverage, funding_mix
    from msonet.graph.network import network_figures
    from msonet.loaders.geography import load_districts

    graph = _analysis_graph(store)
    rows = district_coverage(graph, load_districts())
    if args.json:
        _print_json({"districts": rows, "funding_by_sector": funding_mix(graph, by="sector"),
                     "network": network_figures(graph)})
        return EXIT_OK
    flat = [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in rows]
    for row in flat:
        row["white_spots"] = len(row.get("sectors_without_actor") or ())
    if args.raw:
        _print_csv(flat, list(flat[0]) if flat else ["district"], raw=True)
        return EXIT_OK
    if args.csv:
        for row in flat:
            row["share_regular_percent"] = (round(row["share_regular"] * 100, 1)
                                            if isinstance(row.get("share_regular"), int | float) else None)
            row["missing_sectors"] = ", ".join(label("sector", s) for s in row.get("sectors_without_actor") or ())
        _print_csv(flat, COVERAGE_COLUMNS)
        return EXIT_OK
    _print_table(flat, [("district", "Schlüssel"), ("name", "Kreis"), ("mso_count", "MSO"),
                        ("msos_per_100k", "MSO/100.000"), ("ki_present", "KI"), ("ia_count", "IA"),
                        ("white_spots", f"Handlungsfelder ohne Akteur (von {len(SECTORS)})")], empty="Keine Daten.")
    figures = network_figures(graph)
    print(f"\nNetzwerk: {fmt_number(figures.get('components'))} Komponenten, "
          f"Dichte {fmt_decimal(figures.get('density'), 5)}")
    for broker in figures.get("brokers", [])[:5]:
        print(f"  Brückenakteur: {broker.get('name')} ({broker.get('id')})")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace, store: GraphStore) -> int:
    org_id = _org_id(store, args.org)
    name = (store.get_node(org_id) or {}).get("name")
    if not args.yes:
        answer = input(f"„{name}“ ({org_id}) mit allen Beziehungen und personenbezogenen Daten löschen? [j/N] ")
        if answer.strip().lower() not in {"j", "ja", "y", "yes"}:
            print("Nichts gelöscht.")
            return EXIT_OK
    ties = store.neighbourhood(org_id, 1).degree(org_id)  # counted for the audit log only
    removed = store.remove_organisation(org_id)
    _audit(args, "forget", organisations=int(bool(removed)), relations=ties)
    print(f"Gelöscht: {name} ({org_id}) mit allen Beziehungen, Förderungen und Kontaktdaten.")
    return EXIT_OK


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    """Local accounts of the app (MSONET_AUTH=local): add, remove, list."""
    import getpass

    from msonet.graph.access import ROLE_LABELS, LocalAccounts, role_key

    accounts = LocalAccounts(settings.users_path)
    if args.user_command == "list":
        rows = [{"name": a.name, "role": ROLE_LABELS.get(a.role, a.role), "created": a.created,
                 "changed": a.changed} for a in accounts.accounts()]
        _print_table(rows, [("name", "Benutzer"), ("role", "Rolle"), ("created", "angelegt"), ("changed", "geändert")],
                     empty=f"Noch keine Benutzer ({settings.users_path}).")
        if settings.auth != "local":
            print("\nHinweis: Die App nutzt diese Konten nur mit MSONET_AUTH=local.")
        return EXIT_OK
    if args.user_command == "remove":
        name = accounts.remove(args.name)
        _audit(args, "user_remove")
        print(f"Benutzer „{name}“ entfernt; eine laufende Sitzung endet beim nächsten Klick.")
        return EXIT_OK
    role = role_key(args.role)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Passwort für {args.name}: ")
        if getpass.getpass("Passwort wiederholen: ") != password:
            raise CliError("Die beiden Passwörter stimmen nicht überein; nichts geändert.")
    changed = accounts.add(args.name, role, password, replace=args.replace)
    _audit(args, "user_update" if changed else "user_add")
    print(f"Benutzer „{args.name}“ {'geändert' if changed else 'angelegt'}: Rolle {ROLE_LABELS[role]} "
          f"({settings.users_path}).")
    if settings.auth != "local":
        print("Damit die App diese Konten verlangt: MSONET_AUTH=local setzen (siehe README).")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace, store: GraphStore) -> int:
    from msonet.graph.migrate import copy_graph

    embedded = open_store(Settings.from_env({}, home=args.store_dir))
    source, target = (embedded, store) if args.direction == "to-server" else (store, embedded)
    if target is source or type(store).__name__ == "EmbeddedStore":
        raise CliError("Für „migrate“ muss ein Server angegeben sein (--neo4j, NEO4J_URI oder FALKORDB_URL).")
    summary = copy_graph(source, target)
    _audit(args, "migrate", organisations=summary.organisations, events=summary.events,
           relations=summary.relations, fundings=summary.fundings)
    print(f"Kopiert: {summary.organisations} Organisationen, {summary.events} Veranstaltungen, "
          f"{summary.relations} Beziehungen, {summary.fundings} Förderungen.")
    return EXIT_OK


# -- parser ----------------------------------------------------------------------------------------
#: argparse's own texts in German (it looks them up through gettext; see :func:`_german_argparse`).
CSV_HELP = "als CSV für Tabellenprogramme: Semikolon, UTF-8 mit BOM, deutsche Spaltennamen und Zahlen"
RAW_HELP = ("CSV für Programme: Komma, UTF-8 ohne BOM, Spaltennamen und Schlüssel wie bei --json, Punkt als "
            "Dezimaltrennzeichen")

ARGPARSE_GERMAN = {
    "usage: ": "Aufruf: ",
    "positional arguments": "Argumente",
    "options": "Optionen",
    "show this help message and exit": "diese Hilfe zeigen und beenden",
    "%(prog)s: error: %(message)s\n": "%(prog)s: Fehler: %(message)s\n",
    "the following arguments are required: %s": "diese Angaben fehlen: %s",
    "one of the arguments %s is required": "eine dieser Angaben ist nötig: %s",
    "unrecognized arguments: %s": "unbekannte Angaben: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "„%(value)s“ ist nicht vorgesehen (möglich: %(choices)s)",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "not allowed with argument %s": "nicht zusammen mit %s möglich",
    "ignored explicit argument %r": "überflüssiger Wert %r",
    "expected one argument": "erwartet einen Wert",
    "expected at most one argument": "erwartet höchstens einen Wert",
    "expected at least one argument": "erwartet mindestens einen Wert",
    "invalid %(type)s value: %(value)r": "„%(value)s“ ist keine %(type)s",
    "ambiguous option: %(option)s could match %(matches)s": "mehrdeutige Angabe %(option)s: passt zu %(matches)s",
    "unexpected option string: %s": "unerwartete Angabe: %s",
    "%r is not callable": "%r ist nicht aufrufbar",
}


def _translate(message: str) -> str:
    return ARGPARSE_GERMAN.get(message, message)


@contextlib.contextmanager
def _german_argparse():
    """argparse speaking German while the parser is built and used (its texts come from ``argparse._``).

    Only for the duration of the block, so other users of argparse in the same process keep theirs.
    """
    original = argparse._  # type: ignore[attr-defined]
    argparse._ = _translate  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(text) from None


def _decimal(text: str) -> float:
    """A number as people type it: ``12,5`` or ``12.5``."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ValueError(text) from None


# argparse names the expected type by the function's name in its error message.
_whole_number.__name__ = "ganze Zahl"
_decimal.__name__ = "Zahl"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with German help and messages (build and use it inside :func:`_german_argparse`)."""
    with _german_argparse():
        return _build_parser()


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="msonet",
        description="Netzwerk-Explorer für Migrant*innenselbstorganisationen (MSO) und Regeldienste in NRW.",
        epilog="Speicherort: --store, MSONET_HOME oder ~/.local/share/msonet. Server: --neo4j/NEO4J_URI "
               "(mit NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE) oder --falkordb/FALKORDB_URL.",
    )
    parser.add_argument("--store", metavar="ORDNER", help="Ordner des eingebetteten Speichers")
    parser.add_argument("--neo4j", metavar="URI", help="Neo4j-Server statt eingebettetem Speicher")
    parser.add_argument("--falkordb", metavar="URL", help="FalkorDB-Server statt eingebettetem Speicher")
    sub = parser.add_subparsers(dest="command", required=True, metavar="BEFEHL")

    def add(name: str, func: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("demo", cmd_demo, "Demodaten (reale Akteure + synthetische Population) in den Speicher laden")
    p.add_argument("--seed", metavar="ZAHL", type=_whole_number, default=2024, help="Zufallsstartwert (Standard 2024)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true", help="vorhandene Daten ersetzen")
    mode.add_argument("--if-empty", action="store_true", help="nur laden, wenn der Speicher leer ist")

    p = add("load", cmd_load, "Dateien laden (CSV, XLSX, JSON, HSDS): Organisationen, Beziehungen, "
                              "Veranstaltungen, Teilnahmen, Förderungen")
    p.add_argument("paths", nargs="+", metavar="DATEI", help="eine oder mehrere Dateien")
    p.add_argument("--skip-invalid", action="store_true", help="gültige Zeilen laden, ungültige melden")
    p.add_argument("--kind", metavar="ART",
                   choices=["organisations", "relations", "events", "attendance", "funding", "hsds"],
                   help="Dateiart erzwingen: organisations, relations, events, attendance, funding oder hsds "
                        "(sonst an den Spalten erkannt)")
    p.add_argument("--json", action="store_true", help="Bericht als JSON")
    p.add_argument("--duplicates-out", default="msonet-dubletten.csv", metavar="DATEI",
                   help="wohin eine lange Liste möglicher Dubletten geschrieben wird (Standard: "
                        "msonet-dubletten.csv; ab 21 Paaren, sonst stehen sie im Bericht)")

    p = add("stats", cmd_stats, "Kennzahlen: Organisationen nach Typ, Kreis und Handlungsfeld")
    p.add_argument("--json", action="store_true", help="als JSON ausgeben")

    p = add("export", cmd_export, "Alles exportieren (CSV-Ordner, JSON, GraphML oder GEXF für Gephi)")
    p.add_argument("--format", choices=["csv", "json", "graphml", "gexf"], default="csv",
                   help="Format (Standard csv; graphml und gexf öffnen Gephi, yEd, Cytoscape)")
    p.add_argument("--out", metavar="ZIEL", default="msonet-export", help="Zielordner (csv) oder Zieldatei")
    p.add_argument("--include-personal", action="store_true",
                   help="personenbezogene Daten (Ansprechperson, E-Mail, Telefon) mit exportieren")

    p = add("isolated", cmd_isolated, "Isolierte Organisationen mit Begründung")
    p.add_argument("--district", metavar="KREIS", help="Kreis/kreisfreie Stadt (Name oder 5-stelliger Schlüssel)")
    p.add_argument("--type", metavar="TYP", help="Organisationstyp (z.B. „MSO“ oder „Wohlfahrtsverband“)")
    p.add_argument("--years", metavar="JAHRE", type=_whole_number, default=3,
                   help="Zeitfenster für Veranstaltungen in Jahren (Standard 3)")
    p.add_argument("--today", help=argparse.SUPPRESS)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="als JSON ausgeben")
    fmt.add_argument("--csv", action="store_true", help=CSV_HELP)
    fmt.add_argument("--raw", action="store_true", help=RAW_HELP)

    p = add("partners", cmd_partners, "Tandempartner für eine MSO vorschlagen")
    p.add_argument("org", metavar="ORG", help="Id oder Name der MSO")
    p.add_argument("--top", metavar="ANZAHL", type=_whole_number, default=10, help="Anzahl Vorschläge (Standard 10)")
    p.add_argument("--max-km", metavar="KM", type=_decimal, help="höchstens so weit entfernt")
    p.add_argument("--sector", metavar="FELD", help="nur Partner in diesem Handlungsfeld (z.B. „Jugendarbeit“)")
    p.add_argument("--include-umbrella", action="store_true",
                   help="auch Dach- und Landesverbände, Ministerien, Bezirksregierung vorschlagen")
    p.add_argument("--include-migration-services", action="store_true",
                   help="auch migrationsspezifische Dienste (z.B. Fachdienst Integration) vorschlagen")
    p.add_argument("--json", action="store_true", help="als JSON ausgeben")

    p = add("tandems", cmd_tandems, "N Tandems auf einmal planen (jede Organisation höchstens einmal)")
    p.add_argument("--count", metavar="ANZAHL", type=_whole_number, required=True, help="Anzahl Tandems")
    p.add_argument("--district", metavar="KREIS", help="nur in diesem Kreis")
    p.add_argument("--max-km", metavar="KM", type=_decimal, default=50, help="höchste Entfernung (Standard 50 km)")
    p.add_argument("--json", action="store_true", help="als JSON ausgeben")

    p = add("meeting", cmd_meeting, "Vernetzungstreffen planen: Einladungsliste und Tischgruppen")
    p.add_argument("--capacity", metavar="PLÄTZE", type=_whole_number, required=True, help="Plätze")
    area = p.add_mutually_exclusive_group()
    area.add_argument("--district", metavar="KREIS", help="Kreis/kreisfreie Stadt")
    area.add_argument("--region", metavar="RB", help="Regierungsbezirk (z.B. Arnsberg)")
    p.add_argument("--topic", metavar="FELD", help="Thema als Handlungsfeld (z.B. „Jugendarbeit“ oder „Bildung“)")
    p.add_argument("--tables", metavar="TISCHE", type=_whole_number, default=4, help="Anzahl Tische (Standard 4)")
    p.add_argument("--venue", metavar="ORT", help="Veranstaltungsort: Ort oder PLZ in NRW "
                                                   "(Standard: Mitte des Kreises bzw. Regierungsbezirks)")
    p.add_argument("--radius-km", metavar="KM", type=_decimal,
                   help=f"Reiseradius um den Veranstaltungsort in km (Standard {DEFAULT_RADIUS_KM:.0f}; "
                        "ganz NRW ohne --venue: keine Grenze)")
    p.add_argument("--organiser", action="append", metavar="ORG", help="Veranstalter (mehrfach möglich)")
    p.add_argument("--today", help=argparse.SUPPRESS)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="als JSON ausgeben")
    fmt.add_argument("--csv", action="store_true", help="Einladungsliste " + CSV_HELP)
    fmt.add_argument("--raw", action="store_true", help="Einladungsliste als " + RAW_HELP)
    p.add_argument("--include-personal", action="store_true",
                   help="E-Mail-Adressen (personenbezogen) in die Einladungsliste aufnehmen")

    p = add("geocode", cmd_geocode, "Punkte nach Straße und Hausnummer nachtragen (Nominatim, 1 Anfrage/s, "
                                    "mit Zwischenspeicher; braucht Internet)")
    p.add_argument("--limit", type=int, help="höchstens so viele neue Anfragen (Standard: alle)")
    p.add_argument("--quiet", action="store_true", help="keine Zeile je Anfrage ausgeben")

    p = add("attend", cmd_attend, "Teilnahme an einer Veranstaltung nachtragen (Datei mit Spalte organisation)")
    p.add_argument("event", metavar="VERANSTALTUNG", help="Id oder Name der Veranstaltung")
    p.add_argument("file", metavar="DATEI", help="CSV/XLSX mit einer Spalte „organisation“ (Id oder Name)")

    p = add("coverage", cmd_coverage, "Versorgung je Kreis: MSO je 100.000 Einw., KI/IA, weiße Flecken, "
                                      "Fördermix; Netzwerkkennzahlen")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="als JSON ausgeben")
    fmt.add_argument("--csv", action="store_true", help=CSV_HELP)
    fmt.add_argument("--raw", action="store_true", help=RAW_HELP)

    p = add("forget", cmd_forget, "Eine Organisation mit allen Beziehungen und Kontaktdaten löschen")
    p.add_argument("org", metavar="ORG", help="Id oder Name")
    p.add_argument("--yes", action="store_true", help="ohne Rückfrage")

    p = add("user", cmd_user, "Konten der App-Anmeldung (MSONET_AUTH=local) verwalten: add, remove, list")
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="AKTION")
    q = user_sub.add_parser("add", help="Benutzer anlegen (oder mit --replace Rolle und Passwort ändern)",
                            description="Benutzer anlegen; das Passwort wird abgefragt (mindestens 10 Zeichen) und "
                                        "nur als Argon2id-Hash gespeichert.")
    q.add_argument("name", metavar="NAME", help="Benutzername")
    q.add_argument("--role", required=True, metavar="ROLLE", help="Lesen, Beraten, Bearbeiten oder Verwalten")
    q.add_argument("--replace", action="store_true", help="vorhandenen Benutzer ändern")
    q.add_argument("--password-stdin", action="store_true", help="Passwort aus der ersten Zeile der Standardeingabe")
    q = user_sub.add_parser("remove", help="Benutzer entfernen")
    q.add_argument("name", metavar="NAME", help="Benutzername")
    user_sub.add_parser("list", help="Benutzer und Rollen zeigen")

    p = add("migrate", cmd_migrate, "Daten zwischen eingebettetem Speicher und Server kopieren")
    p.add_argument("direction", choices=["to-server", "from-server"],
                   help="to-server: eingebettet -> Server; from-server: Server -> eingebettet")
    p.add_argument("--store-dir", dest="store_dir", metavar="ORDNER",
                   help="Ordner des eingebetteten Speichers (Standard: MSONET_HOME)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with _german_argparse():
        parser = _build_parser()
        args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(home=args.store, neo4j_uri=args.neo4j, falkordb_url=args.falkordb)
    except GraphError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args.settings = settings
    if args.command == "user":  # needs no store
        try:
            return cmd_user(args, settings)
        except GraphError as exc:
            print(f"Fehler: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except (KeyboardInterrupt, EOFError):
            print("\nAbgebrochen; nichts geändert.", file=sys.stderr)
            return 130
    if args.command == "migrate" and args.store_dir is None:
        args.store_dir = str(settings.home)
    try:
        store = open_store(settings)
    except StoreError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return EXIT_STORE
    except OSError as exc:
        print(f"Fehler: Der {describe_backend(settings)} kann nicht geöffnet werden ({exc.strerror or exc}). "
              "Bitte Schreibrechte prüfen oder mit --store einen anderen Ordner wählen.", file=sys.stderr)
        return EXIT_STORE
    try:
        return args.func(args, store)
    except ValidationError as exc:
        print(f"Nichts geladen. {exc}", file=sys.stderr)
        print("Tipp: --skip-invalid lädt die gültigen Zeilen und meldet die übrigen.", file=sys.stderr)
        return EXIT_INPUT
    except StoreError as exc:
        print(f"Fehler beim Zugriff auf den {describe_backend(settings)}: {exc}", file=sys.stderr)
        return EXIT_STORE
    except GraphError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        # input files and export targets report their own errors; what is left is the store's folder
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"Fehler beim Zugriff auf den {describe_backend(settings)}{where}: {exc.strerror or exc}. Bitte "
              "Schreibrechte und Speicherplatz prüfen oder mit --store einen anderen Ordner wählen.", file=sys.stderr)
        return EXIT_STORE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        if os.environ.get("MSONET_DEBUG"):
            raise
        print(f"Interner Fehler ({type(exc).__name__}: {str(exc)[:200]}). Das sollte nicht passieren – bitte "
              "mit dem Befehl melden. Ist der Speicher von Hand bearbeitet worden, bitte die Speicherdatei prüfen. "
              "MSONET_DEBUG=1 zeigt Einzelheiten.", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        store.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

