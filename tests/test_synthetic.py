"""Tests of loaders.synthetic (the seeded population generator) and bench/generate.py (CSV writer)."""

from __future__ import annotations

import csv
import importlib.util
import statistics
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from msonet.graph.model import Place, RecordBatch
from msonet.graph.store import check_references
from msonet.graph.vocabulary import MIGRATION_FIELD_TYPES, ORG_TYPES, RELATION_TYPES
from msonet.loaders.geography import District, load_districts, load_municipalities
from msonet.loaders.synthetic import (
    DEFAULT_COMPOSITION,
    ISOLATED_MSO_SHARE,
    default_composition,
    generate,
    invented_word,
    municipality_weights,
)

ROOT = Path(__file__).resolve().parent.parent


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def geo():
    return load_municipalities(), load_districts()


@pytest.fixture(scope="module")
def big(geo) -> RecordBatch:
    municipalities, districts = geo
    return generate(10_000, 11, municipalities=municipalities, districts=districts)


def _tiny_geography():
    """Two districts, three towns: a stand-in geography to show the generator needs nothing else."""
    places = {
        "05999001": Place("05999001", "Altstadt", "05999", "Kreis Probe", "Düsseldorf", 51.0, 7.0),
        "05999002": Place("05999002", "Neudorf", "05999", "Kreis Probe", "Düsseldorf", 51.1, 7.1),
        "05998000": Place("05998000", "Großstadt", "05998", "Großstadt", "Köln", 50.9, 6.9),
    }
    districts = {
        "05999": District("05999", "Probe", "kreis", "Düsseldorf", 100_000, 51.05, 7.05),
        "05998": District("05998", "Großstadt", "kreisfreie_stadt", "Köln", 300_000, 50.9, 6.9),
    }
    return places, districts


def test_deterministic(geo):
    municipalities, districts = geo
    a = generate(1500, 5, municipalities=municipalities, districts=districts)
    b = generate(1500, 5, municipalities=municipalities, districts=districts)
    c = generate(1500, 6, municipalities=municipalities, districts=districts)
    assert (a.organisations, a.events, a.relations, a.fundings) == (b.organisations, b.events, b.relations, b.fundings)
    assert [o.name for o in a.organisations] != [o.name for o in c.organisations]


def test_exact_size_and_all_flagged(big):
    assert len(big.organisations) == 10_000
    assert all(o.synthetic and "synthetisch" in o.description for o in big.organisations)
    assert all(e.synthetic for e in big.events) and all(r.synthetic for r in big.relations)
    assert all(f.synthetic for f in big.fundings)
    assert all(o.org_type in ORG_TYPES and o.ags and o.city for o in big.organisations)
    assert all(r.rel_type in RELATION_TYPES for r in big.relations)


def test_scales_to_about_ten_relations_per_organisation(big):
    ties = [r for r in big.relations if r.rel_type not in ("attended_event", "organised_event")]
    assert 7 * 10_000 <= len(ties) <= 13 * 10_000  # ties_per_org=12 minus repeated pairs
    assert len(big.events) == 100


def test_references_resolve_and_no_duplicate_ties(big):
    assert check_references(big, lambda node_id: None) == []
    pairs = Counter(tuple(sorted((r.source_id, r.target_id))) for r in big.relations)
    assert max(pairs.values()) == 1
    assert len({o.id for o in big.organisations}) == len(big.organisations)
    assert len({o.name for o in big.organisations}) == len(big.organisations)


def test_ties_are_local_and_heavy_tailed(big):
    orgs = {o.id: o for o in big.organisations}
    degree: Counter[str] = Counter()
    same_district = total = 0
    for r in big.relations:
        if r.rel_type in ("attended_event", "organised_event"):
            continue
        degree[r.source_id] += 1
        degree[r.target_id] += 1
        a, b = orgs[r.source_id], orgs[r.target_id]
        if a.org_type.startswith("state_") or b.org_type.startswith("state_") or "synthetisch)" in a.name + b.name:
            continue  # state-level stand-ins sit in the capital
        total += 1
        same_district += a.district == b.district
    assert same_district / total > 0.75
    values = [degree[o.id] for o in big.organisations]
    assert max(values) > 20 * statistics.median(values)


def test_mso_isolation_and_mainstreaming_gap(big):
    types = {o.id: o.org_type for o in big.organisations}
    touched = {r.source_id for r in big.relations} | {r.target_id for r in big.relations}
    touched |= {f.org_id for f in big.fundings}
    bridged = set()
    for r in big.relations:
        for a, b in ((r.source_id, r.target_id), (r.target_id, r.source_id)):
            if b in types and types[b] not in MIGRATION_FIELD_TYPES:
                bridged.add(a)
    msos = [o.id for o in big.organisations if o.org_type == "mso"]
    isolated = sum(1 for m in msos if m not in touched) / len(msos)
    gap = sum(1 for m in msos if m not in bridged) / len(msos)
    assert abs(isolated - ISOLATED_MSO_SHARE) < 0.01
    assert 0.4 <= gap <= 0.55


def test_big_cities_get_more_msos(big):
    per_town = Counter(o.city for o in big.organisations if o.org_type == "mso")
    assert per_town.most_common(1)[0][0] == "Köln"
    assert per_town["Köln"] > 3 * per_town["Bielefeld"] / 2


def test_msos_and_funding_follow_the_survey_shares(big):
    msos = [o for o in big.organisations if o.org_type == "mso"]
    assert abs(sum("child_youth" in o.sectors for o in msos) / len(msos) - 0.85) < 0.03
    assert abs(sum(o.sectors[0] == "child_youth" for o in msos) / len(msos) - 0.54) < 0.03
    kinds = Counter(f.funding_kind for f in big.fundings)
    assert kinds["regular_funding"] and kinds["startup_funding"] and kinds["pass_through_funding"]
    assert all(f.amount <= 6000 for f in big.fundings if f.funding_kind == "startup_funding")


def test_works_on_any_geography():
    places, districts = _tiny_geography()
    batch = generate(400, 1, municipalities=places, districts=districts, today=date(2025, 6, 30))
    assert len(batch.organisations) == 400
    assert {o.ags for o in batch.organisations} <= set(places) | {None}
    kis = [o for o in batch.organisations if o.org_type == "municipal_integration_centre"]
    assert sorted(o.district for o in kis) == ["05998", "05999"]
    assert all(e.date <= "2025-06-30" for e in batch.events)
    assert check_references(batch, lambda node_id: None) == []


def test_base_organisations_are_attached_not_returned(geo, big):
    municipalities, districts = geo
    base = [o for o in big.organisations if o.org_type == "municipal_integration_centre"]
    batch = generate(800, 3, municipalities=municipalities, districts=districts, base=base)
    assert not {o.id for o in batch.organisations} & {o.id for o in base}
    assert not [o for o in batch.organisations if o.org_type == "municipal_integration_centre"]
    base_ids = {o.id for o in base}
    assert any(r.target_id in base_ids for r in batch.relations)
    assert check_references(RecordBatch(base + batch.organisations, batch.events, batch.relations, batch.fundings),
                            lambda node_id: None) == []


def test_default_composition():
    counts = default_composition(4816)
    assert sum(counts.values()) == 4816 and counts == DEFAULT_COMPOSITION
    huge = default_composition(100_000, n_places=396)
    assert sum(huge.values()) == 100_000
    assert huge["integration_council"] == 396 and huge["municipal_administration"] == 792


def test_municipality_weights_split_the_district_population():
    places, districts = _tiny_geography()
    weights = municipality_weights(places, districts, seats={"05999": "05999001"}, seat_factor=3.0)
    assert weights == {"05998000": 300_000.0, "05999001": 75_000.0, "05999002": 25_000.0}


def test_invented_words_are_reproducible():
    import random

    assert [invented_word(random.Random(4)) for _ in range(3)] == [invented_word(random.Random(4))] * 3


def test_bench_csv_files_load_without_problems(tmp_path):
    bench = _bench_module()
    assert bench.main(["--orgs", "600", "--seed", "4", "--out", str(tmp_path)]) == 0
    for kind, headers in bench.HEADERS.items():
        with open(tmp_path / f"{kind}.csv", encoding="utf-8", newline="") as fh:
            assert tuple(next(csv.reader(fh))) == headers
    from msonet.loaders.load import parse_files

    result = parse_files(sorted(tmp_path.glob("*.csv")))
    assert result.problems == []
    with open(tmp_path / "organisations.csv", encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 601
