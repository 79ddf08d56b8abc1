"""Tests of loaders.demo: the demo dataset of real NRW actors and a seeded synthetic population."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

import pytest

from msonet.graph.model import RecordBatch
from msonet.graph.store import EmbeddedStore, check_references
from msonet.graph.vocabulary import (
    EVENT_TYPES,
    FUNDING_KINDS,
    MIGRATION_FIELD_TYPES,
    ORG_TYPES,
    RELATION_TYPES,
    SECTORS,
)
from msonet.loaders.demo import DEMO_DIR, TANDEM_PROGRAMME, build_demo_batch, demo_summary
from msonet.loaders.gazetteer import default_gazetteer
from msonet.loaders.geography import load_districts


@pytest.fixture(scope="module")
def batch() -> RecordBatch:
    return build_demo_batch()


@pytest.fixture(scope="module")
def summary(batch) -> dict:
    return demo_summary(batch)


@pytest.fixture(scope="module")
def orgs(batch) -> dict:
    return {o.id: o for o in batch.organisations}


def test_same_seed_gives_identical_records(batch):
    again = build_demo_batch()
    assert again.organisations == batch.organisations
    assert again.events == batch.events
    assert again.relations == batch.relations
    assert again.fundings == batch.fundings


def test_other_seed_changes_only_the_synthetic_part(batch):
    other = build_demo_batch(seed=7)
    real = [o for o in batch.organisations if not o.synthetic]
    assert [o for o in other.organisations if not o.synthetic] == real
    assert [o.name for o in other.organisations if o.synthetic] != [o.name for o in batch.organisations if o.synthetic]


def test_counts_in_expected_ranges(summary):
    assert summary["ki"] == 54
    assert summary["ki_districts"] == 53
    assert summary["integration_agencies"] == 170
    assert summary["antidiscrimination_offices"] == 42
    assert 1400 <= summary["msos"] <= 1600
    assert 2800 <= summary["regular_actors"] <= 3200
    assert summary["events"] == 60
    assert summary["real_events"] == 12
    assert summary["tandems"] == 12
    assert summary["regular_fundings"] > 100 and summary["project_fundings"] > 500
    assert summary["organisations"] == summary["real_organisations"] + summary["synthetic_organisations"]


def test_shares_follow_the_seed_facts(summary):
    # 10-15 % isolated MSOs; clearly more without any tie to regular services (mainstreaming gap)
    assert 0.10 <= summary["isolated_mso_share"] <= 0.15
    assert 0.35 <= summary["mso_without_regular_tie_share"] <= 0.60
    assert summary["mso_without_regular_tie_share"] > summary["isolated_mso_share"] + 0.2
    # Gemeinsam aktiv: 54 % founded for child and youth work, 18 % of them funded through it
    assert abs(summary["youth_founded_mso_share"] - 0.54) < 0.04
    assert abs(summary["youth_mso_regular_funded_share"] - 0.18) < 0.02


def test_all_references_resolve(batch):
    assert check_references(batch, lambda node_id: None) == []


def test_ids_unique_and_vocabulary_valid(batch):
    ids = [o.id for o in batch.organisations] + [e.id for e in batch.events]
    assert len(ids) == len(set(ids))
    assert len({f.id for f in batch.fundings}) == len(batch.fundings)
    assert all(o.org_type in ORG_TYPES and set(o.sectors) <= set(SECTORS) for o in batch.organisations)
    assert all(e.event_type in EVENT_TYPES and set(e.sectors) <= set(SECTORS) for e in batch.events)
    assert all(r.rel_type in RELATION_TYPES for r in batch.relations)
    assert all(f.funding_kind in FUNDING_KINDS for f in batch.fundings)
    pairs = Counter(r.key for r in batch.relations)
    assert max(pairs.values()) == 1


def test_synthetic_records_are_flagged_and_real_ones_have_sources(batch):
    for org in batch.organisations:
        if org.synthetic:
            assert "synthetisch erzeugt" in org.description and "synthetisch" in org.source
        else:
            assert org.source.startswith("http"), org.id
    for event in batch.events:
        assert event.synthetic == ("synthetisch erzeugt" in (event.description or "")) or not event.synthetic
        assert event.synthetic or event.source.startswith("http")
    for record in [*batch.relations, *batch.fundings]:
        assert record.synthetic or record.source.startswith("http")
    # a tie that involves a synthetic organisation can never be a real fact
    synthetic_ids = {o.id for o in batch.organisations if o.synthetic}
    for rel in batch.relations:
        if rel.source_id in synthetic_ids or rel.target_id in synthetic_ids:
            assert rel.synthetic
    for funding in batch.fundings:
        if funding.org_id in synthetic_ids or funding.amount is not None:
            assert funding.synthetic


@pytest.mark.parametrize("org_id, org_type, city", [
    ("org-paritaet-nrw", "welfare_association", "Wuppertal"),
    ("org-fachberatung-mso", "advisory_service", None),
    ("org-kfi-arnsberg", "state_authority", "Arnsberg"),
    ("org-mkjfgfi", "state_ministry", "Düsseldorf"),
    ("org-laki", "state_coordination_office", "Düsseldorf"),
    ("org-elternnetzwerk-nrw", "mso_federation", "Düsseldorf"),
    ("org-vmdo-dortmund", "mso_network", "Dortmund"),
    ("org-raum-der-kulturen-neuss", "mso_network", "Neuss"),
    ("org-coach-koeln", "mso", "Köln"),
    ("org-ronahi-bochum", "mso", "Bochum"),
    ("org-ibz-bielefeld", "mso", "Bielefeld"),
    ("org-multikulturelles-forum", "mso", "Lünen"),
    ("org-vielrespektzentrum-essen", "foundation", "Essen"),
    ("org-wir-in-monheim", "mso", "Monheim am Rhein"),
    ("org-as-ka-do", "mso", "Hückelhoven"),
    ("org-ki-05315", "municipal_integration_centre", "Köln"),
    ("org-ki-05334-stadt-aachen", "municipal_integration_centre", "Aachen"),
    ("org-ki-05958", "municipal_integration_centre", "Meschede"),
])
def test_real_actors_present(orgs, org_id, org_type, city):
    org = orgs[org_id]
    assert (org.org_type, org.city, org.synthetic) == (org_type, city, False)


def test_real_ties_from_the_facts(batch):
    real = {(r.source_id, r.target_id, r.rel_type) for r in batch.relations if not r.synthetic}
    for org in ("org-coach-koeln", "org-ronahi-bochum", "org-ibz-bielefeld"):
        assert (org, "org-fachberatung-mso", "advised_by") in real
        assert (org, "org-paritaet-nrw", "member_of") in real
    assert ("org-paritaet-nrw", "org-fachberatung-mso", "operates") in real
    assert ("org-vmdo-dortmund", "org-bv-nemo", "member_of") in real
    assert ("org-as-ka-do", "org-awo-kreis-heinsberg", "tandem_partner") in real
    assert ("org-phoenix-koeln", "org-ia-phoenix-koeln", "operates") in real
    for org in ("org-multikulturelles-forum", "org-agisra-koeln", "org-jha2000-koeln"):
        assert (org, "org-fdm", "member_of") in real
    kis = [o.id for o in batch.organisations if o.org_type == "municipal_integration_centre"]
    assert all((ki, "org-laki", "coordinated_by") in real for ki in kis)


def test_every_district_has_a_ki_at_its_seat(batch):
    gazetteer = default_gazetteer()
    kis = [o for o in batch.organisations if o.org_type == "municipal_integration_centre"]
    assert {o.district for o in kis} == set(load_districts())
    for ki in kis:
        assert gazetteer.resolve(ki.city).district == ki.district
        assert "Anschrift nicht hinterlegt" in ki.description


def test_real_events(batch, orgs):
    events = {e.id: e for e in batch.events}
    meeting = events["ev-2018-07-11-mso-vernetzungstreffen"]
    assert (meeting.date, meeting.city, meeting.synthetic) == ("2018-07-11", "Dortmund", False)
    guests = [r for r in batch.relations if r.target_id == meeting.id and r.rel_type == "attended_event"]
    assert len(guests) == 28 and all(r.synthetic for r in guests)
    assert len({orgs[r.source_id].ags for r in guests}) == 10  # 28 MSO from ten cities
    assert all(orgs[r.source_id].org_type == "mso" and orgs[r.source_id].founded <= 2018 for r in guests)
    organisers = {r.source_id for r in batch.relations if r.target_id == meeting.id and r.rel_type == "organised_event"}
    assert organisers == {"org-kfi-arnsberg", "org-mkjfgfi", "org-elternnetzwerk-nrw", "org-fachberatung-mso"}
    for event_id, day, city in [("ev-2024-12-04-mso-netzwerktreffen", "2024-12-04", "Bochum"),
                                ("ev-2024-06-14-abschluss-tandemprojekt", "2024-06-14", "Bochum"),
                                ("ev-2018-09-14-fachtag-dasa", "2018-09-14", "Dortmund"),
                                ("ev-2014-02-13-info-mso-foerderung", "2014-02-13", "Arnsberg"),
                                ("ev-2017-12-07-10-jahre-integrationsagenturen", "2017-12-07", "Bochum"),
                                ("ev-2022-05-02-aktionstage-ia", "2022-05-02", None)]:
        assert (events[event_id].date, events[event_id].city) == (day, city)


def test_synthetic_events_between_2019_and_today(batch):
    synthetic = [e for e in batch.events if e.synthetic]
    assert len(synthetic) == 48
    assert all("2019-01-01" <= e.date <= "2026-11-01" for e in synthetic)
    organised = {r.target_id for r in batch.relations if r.rel_type == "organised_event"}
    assert all(e.id in organised for e in batch.events)


def test_tandems_pair_an_mso_with_a_non_migration_organisation(batch, orgs):
    tandems = [r for r in batch.relations if r.rel_type == "tandem_partner"]
    assert len(tandems) == 12 and sum(not r.synthetic for r in tandems) == 1
    funded = {f.org_id for f in batch.fundings if f.programme == TANDEM_PROGRAMME}
    closing = {r.source_id for r in batch.relations if r.target_id == "ev-2024-06-14-abschluss-tandemprojekt"
               and r.rel_type == "attended_event"}
    for rel in tandems:
        a, b = orgs[rel.source_id], orgs[rel.target_id]
        assert a.org_type == "mso" and b.org_type not in MIGRATION_FIELD_TYPES
        assert a.ags == b.ags
        assert {a.id, b.id} <= funded and {a.id, b.id} <= closing
    assert {f.funding_kind for f in batch.fundings if f.programme == TANDEM_PROGRAMME} == {
        "foundation_grant", "pass_through_funding"}


def test_funding_amounts_and_years(batch):
    for f in batch.fundings:
        assert f.amount is None or f.amount > 0
        assert f.year_to is None or f.year_to <= 2026
        if f.funding_kind == "startup_funding":
            assert f.amount <= (6000 if f.year_from >= 2023 else 5000)
        if f.synthetic and f.year_from:
            assert 2019 <= f.year_from <= (f.year_to or 2026)
    kinds = {f.funding_kind for f in batch.fundings}
    assert {"regular_funding", "startup_funding", "single_project_funding", "partner_project_funding",
            "pass_through_funding", "foundation_grant", "municipal_grant"} <= kinds


def test_isolated_msos_have_nothing(batch):
    # the generator's quota (12 %) of synthetic MSOs has no relation, no event and no funding at all
    touched = {r.source_id for r in batch.relations} | {r.target_id for r in batch.relations}
    touched |= {f.org_id for f in batch.fundings}
    synthetic = [o for o in batch.organisations if o.org_type == "mso" and o.synthetic]
    isolated = [o for o in synthetic if o.id not in touched]
    assert 0.115 <= len(isolated) / len(synthetic) <= 0.13


def test_today_controls_dates():
    small = build_demo_batch(today=date(2024, 1, 31))
    assert all(o.updated == "2024-01-31" for o in small.organisations)
    assert all(e.date <= "2024-01-31" for e in small.events if e.synthetic)
    assert max(f.year_to or 0 for f in small.fundings) == 2024


def test_batch_loads_into_the_embedded_store(batch, summary):
    store = EmbeddedStore(None)
    store.upsert(batch)
    counts = store.counts()
    assert counts["organisations"] == summary["organisations"]
    assert counts["events"] == 60
    node = store.get_node("org-coach-koeln")
    assert node["city"] == "Köln" and node["synthetic"] is False


def test_curated_files_have_a_source_for_every_row():
    for name in ("real_actors.csv", "real_relations.csv", "real_events.csv", "real_fundings.csv"):
        with open(DEMO_DIR / name, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert rows and all(row["quelle"].startswith("http") for row in rows), name


def test_every_integration_agency_and_servicestelle_has_a_traeger(batch, orgs):
    operators = {r.target_id: r.source_id for r in batch.relations if r.rel_type == "operates"}
    for org in batch.organisations:
        if org.org_type in ("integration_agency", "antidiscrimination_office"):
            operator = orgs[operators[org.id]]
            assert operator.org_type in ("welfare_association", "mso"), org.id  # PHOENIX-Köln runs its own IA
    drk = [r for r in batch.relations if r.source_id == "org-drk-nordrhein" and r.rel_type == "operates"]
    assert len(drk) == 6 and all(orgs[r.target_id].regierungsbezirk in ("Düsseldorf", "Köln") for r in drk)
