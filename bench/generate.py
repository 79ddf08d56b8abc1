"""Write a realistic synthetic msonet dataset of any size as CSV files the loader accepts.

Usage::

    python bench/generate.py --orgs 100000 --seed 1 --out /tmp/msonet-100k

Files (UTF-8, comma-separated, one header row; a kind with more than 500,000 rows is split into
``kind.csv``, ``kind-2.csv``, ... because the loader takes at most 1,000,000 data rows per file):

- ``organisations.csv``: id, name, type, sectors (``;``-joined), city, ags, synthetic, source, updated
- ``relations.csv``: source_id, target_id, type, since, synthetic, source, updated
- ``events.csv``: id, name, type, date, city, ags, sectors, synthetic, source, updated
- ``attendance.csv``: event, organisation, role (``attended``/``organised``), synthetic, source, updated
- ``funding.csv``: id, organisation, programme, kind, amount, year_from, year_to, sector, funder,
  synthetic, source, updated
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msonet.graph.model import RecordBatch  # noqa: E402
from msonet.loaders.synthetic import generate  # noqa: E402

__all__ = ["HEADERS", "write_csv", "main"]

#: Column names of each file, in order (the loader reads exactly these).
HEADERS: dict[str, tuple[str, ...]] = {
    "organisations": ("id", "name", "type", "sectors", "city", "ags", "synthetic", "source", "updated"),
    "relations": ("source_id", "target_id", "type", "since", "synthetic", "source", "updated"),
    "events": ("id", "name", "type", "date", "city", "ags", "sectors", "synthetic", "source", "updated"),
    "attendance": ("event", "organisation", "role", "synthetic", "source", "updated"),
    "funding": ("id", "organisation", "programme", "kind", "amount", "year_from", "year_to", "sector", "funder",
                "synthetic", "source", "updated"),
}
_ROLE = {"attended_event": "attended", "organised_event": "organised"}


#: Data rows per file part; below the loader's per-file limit (loaders.files.MAX_ROWS).
PART_ROWS = 500_000


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def write_csv(batch: RecordBatch, out: Path | str) -> dict[str, int]:
    """Write ``batch`` as the five CSV files into folder ``out`` (created if missing).

    Returns
    -------
    File kind -> number of data rows written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}

    def write(kind: str, records) -> None:
        # The loader takes at most MAX_ROWS data rows per file: larger kinds go into numbered parts
        # (kind.csv, kind-2.csv, ...), which it recognises by their columns.
        part, n, fh, writer = 0, 0, None, None
        try:
            for record in records:
                if n % PART_ROWS == 0:
                    if fh is not None:
                        fh.close()
                    part += 1
                    fh = open(out / (f"{kind}.csv" if part == 1 else f"{kind}-{part}.csv"), "w",
                              encoding="utf-8", newline="")
                    writer = csv.writer(fh)
                    writer.writerow(HEADERS[kind])
                writer.writerow([_text(v) for v in record])
                n += 1
            if fh is None:  # no rows: still one file with its header
                with open(out / f"{kind}.csv", "w", encoding="utf-8", newline="") as empty:
                    csv.writer(empty).writerow(HEADERS[kind])
        finally:
            if fh is not None:
                fh.close()
        rows[kind] = n

    write("organisations", ((o.id, o.name, o.org_type, ";".join(o.sectors), o.city, o.ags, _flag(o.synthetic),
                             o.source, o.updated) for o in batch.organisations))
    write("relations", ((r.source_id, r.target_id, r.rel_type, r.since, _flag(r.synthetic), r.source, r.updated)
                        for r in batch.relations if r.rel_type not in _ROLE))
    write("events", ((e.id, e.name, e.event_type, e.date, e.city, e.ags, ";".join(e.sectors), _flag(e.synthetic),
                      e.source, e.updated) for e in batch.events))
    write("attendance", ((r.target_id, r.source_id, _ROLE[r.rel_type], _flag(r.synthetic), r.source, r.updated)
                         for r in batch.relations if r.rel_type in _ROLE))
    write("funding", ((f.id, f.org_id, f.programme, f.funding_kind, f.amount, f.year_from, f.year_to, f.sector,
                       f.funder, _flag(f.synthetic), f.source, f.updated) for f in batch.fundings))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line: generate a dataset and write it as CSV; prints sizes and timings (German)."""
    parser = argparse.ArgumentParser(
        prog="bench/generate.py",
        description="Erzeugt einen synthetischen msonet-Datensatz (NRW-Gemeinden, reproduzierbar) als CSV-Dateien.")
    parser.add_argument("--orgs", type=int, default=10_000, help="Anzahl Organisationen (Standard: 10000)")
    parser.add_argument("--seed", type=int, default=1, help="Startwert des Zufallsgenerators (Standard: 1)")
    parser.add_argument("--out", type=Path, required=True, help="Zielordner für die CSV-Dateien")
    parser.add_argument("--ties-per-org", type=float, default=12.0,
                        help="mittlere Zahl selbst geknüpfter Beziehungen je Organisation (Standard: 12)")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 1),
                        help="Stichtag JJJJ-MM-TT (letztes Förderjahr, Stand-Datum; Standard: 2026-11-01)")
    args = parser.parse_args(argv)
    if args.orgs < 100:
        parser.error("--orgs muss mindestens 100 sein (sonst fehlen Kommunale Integrationszentren je Kreis).")

    from msonet.loaders.geography import load_districts, load_municipalities

    started = time.perf_counter()
    batch = generate(args.orgs, args.seed, municipalities=load_municipalities(), districts=load_districts(),
                     today=args.today, ties_per_org=args.ties_per_org)
    generated = time.perf_counter()
    rows = write_csv(batch, args.out)
    written = time.perf_counter()
    for kind, n in rows.items():
        print(f"{kind + '.csv':20s} {n:>10,d} Zeilen".replace(",", "."))
    print(f"Erzeugen: {generated - started:.1f} s, Schreiben: {written - generated:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
