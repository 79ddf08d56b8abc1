"""Tests of the coverage figures per district and the funding mix."""

from types import SimpleNamespace

import pytest

from msonet.graph.coverage import district_coverage, funding_mix
from msonet.graph.errors import GraphError
from msonet.graph.vocabulary import SECTORS
from tests._graphs import build, funding, org

DISTRICTS = {
    "05315": SimpleNamespace(name="Köln", regierungsbezirk="Köln", population=1_000_000),
    "05314": SimpleNamespace(name="Bonn", regierungsbezirk="Köln", population=300_000),
    "05711": SimpleNamespace(name="Bielefeld", regierungsbezirk="Detmold", population=None),
}


@pytest.fixture(scope="module")
def G():
    return build(
        orgs=[
            org("mso-1", sectors=["child_youth", "culture"]), org("mso-2", sectors=["child_youth"]),
            org("ki", "municipal_integration_centre", sectors=["education"]),
            org("ia", "integration_agency", sectors=["social_counselling"]),
            org("awo", "welfare_association", sectors=["seniors_care", "child_youth"]),
            org("mso-3", city="Bonn", sectors=["culture"]), org("reg", "regular_service", city="Bonn",
                                                                 sectors=["disability"]),
            org("mso-do", city="Dortmund", sectors=["women_girls"]),
        ],
        fundings=[
            funding("f1", "mso-1", "regular_funding", 10000.0, "child_youth"),
            funding("f2", "mso-1", "single_project_funding", 5000.0, "child_youth"),
            funding("f3", "mso-2", "startup_funding", 6000.0, "child_youth"),
            funding("f4", "mso-2", "project_funding", None, "culture"),
            funding("f5", "mso-3", "regular_funding", 2000.0),
            funding("f6", "awo", "regular_funding", 99999.0, "child_youth"),
        ],
    )


def test_district_rows(G):
    rows = district_coverage(G, DISTRICTS)
    assert [r["district"] for r in rows] == ["05314", "05315", "05711"]
    koeln = rows[1]
    active = {"child_youth", "culture", "education", "social_counselling", "seniors_care"}
    assert {k: v for k, v in koeln.items() if k not in ("sectors", "funding_by_sector")} == {
        "district": "05315", "name": "Köln", "regierungsbezirk": "Köln", "population": 1_000_000,
        "organisations": 5, "mso_count": 2, "msos_per_100k": 0.2, "ki_present": True, "ki_count": 1, "ia_count": 1,
        "regular_service_count": 1, "sectors_without_actor": [s for s in SECTORS if s not in active],
        "funded_msos": 2, "funded_msos_regular": 1, "funded_msos_project": 2, "amount_regular": 10000.0,
        "amount_project": 11000.0, "share_regular": 0.4762, "project_only_sectors": ["culture"],
    }
    assert koeln["sectors"]["child_youth"] == {"mso": 2, "regular": 1}
    assert koeln["sectors"]["education"] == {"mso": 0, "regular": 0}  # the KI is neither
    assert koeln["funding_by_sector"] == {
        "child_youth": {"funded_msos": 2, "funded_msos_regular": 1, "funded_msos_project": 2,
                        "amount_regular": 10000.0, "amount_project": 11000.0, "share_regular": 0.4762},
        "culture": {"funded_msos": 1, "funded_msos_regular": 0, "funded_msos_project": 1,
                    "amount_regular": 0.0, "amount_project": 0.0, "share_regular": None},
    }


def test_small_and_empty_districts(G):
    bonn, _, bielefeld = district_coverage(G, DISTRICTS)
    assert bonn["msos_per_100k"] == 0.33 and bonn["ki_present"] is False
    assert bonn["share_regular"] == 1.0 and bonn["project_only_sectors"] == []
    assert bonn["funding_by_sector"]["-"]["funded_msos_regular"] == 1
    assert bielefeld["msos_per_100k"] is None and bielefeld["organisations"] == 0
    assert bielefeld["sectors_without_actor"] == list(SECTORS) and bielefeld["share_regular"] is None


def test_funding_mix_by_sector(G):
    rows = {r["key"]: r for r in funding_mix(G)}
    assert list(rows) == ["child_youth", "women_girls", "culture", "-"]  # vocabulary order
    assert rows["child_youth"] | {"text": None} == {
        "key": "child_youth", "label": "Kinder- und Jugendhilfe", "msos": 2, "share_msos": 0.5, "funded_msos": 2,
        "funded_msos_regular": 1, "funded_msos_project": 2, "amount_regular": 10000.0, "amount_project": 11000.0,
        "share_regular": 0.4762, "share_msos_funded": 0.5, "project_only": False, "unfunded": False, "text": None}
    culture = rows["culture"]
    assert culture["project_only"] is True and culture["share_msos"] == 0.5 and culture["share_msos_funded"] == 0.25
    assert culture["text"] == ("MSO-Arbeit hier ruht nur auf Projektförderung (1 geförderte MSO, keine "
                               "Regelförderung). 50 % der MSO nennen dieses Handlungsfeld, 25 % werden darüber "
                               "gefördert.")
    assert rows["women_girls"]["unfunded"] is True and rows["women_girls"]["project_only"] is False
    assert rows["-"]["label"] == "ohne Handlungsfeld" and rows["-"]["msos"] == 0


def test_funding_mix_by_district(G):
    rows = funding_mix(G, by="district", districts=DISTRICTS)
    assert [(r["key"], r["label"], r["msos"], r["funded_msos"]) for r in rows] == [
        ("05314", "Bonn", 1, 1), ("05315", "Köln", 2, 2), ("05913", "05913", 1, 0)]
    assert rows[2]["unfunded"] is True
    with pytest.raises(GraphError):
        funding_mix(G, by="kreis")


def test_empty_graph():
    assert funding_mix(build()) == []
    rows = district_coverage(build(), DISTRICTS)
    assert [r["mso_count"] for r in rows] == [0, 0, 0]


def test_funding_mix_text_writes_numbers_the_german_way():
    """1.200 MSO, not 1200: the overview shows these sentences to German readers."""
    orgs = [org(f"m{i}", sectors=["culture"]) for i in range(1200)]
    G = build(orgs=orgs, fundings=[funding(f"f{i}", f"m{i}", "regular_funding", 100.0, "culture")
                                   for i in range(1200)])
    row = next(r for r in funding_mix(G) if r["key"] == "culture")
    assert row["text"].startswith("1.200 MSO mit Regelförderung, 0 mit Projektförderung")
