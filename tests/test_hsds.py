"""Tests of loaders.hsds: Open Referral HSDS folders (2.x and 3.x) and JSON."""

from __future__ import annotations

import json

from msonet.graph.store import EmbeddedStore
from msonet.loaders.hsds import looks_like_hsds, read_hsds
from msonet.loaders.load import load_files, parse_files, parse_upload
from tests._loaders import GOOD, write


def test_hsds2_folder_maps_fields():
    [table] = read_hsds(GOOD / "hsds")
    assert table.name == "organizations.csv" and table.kind_hint == "organisations"
    number, cells = table.numbered()[0]
    assert number == 2
    assert cells == {"id": "hsds-a1", "name": "Beratungsstelle Beispiel", "type": "regular_service",
                     "city": "Dortmund", "postcode": "44135", "address": "Musterweg 5",
                     "website": "https://example.org", "founded": "1995",
                     "description": "Allgemeine Sozialberatung\nAngebote: Schuldnerberatung; Migrationsberatung",
                     "email": "info@example.org", "phone": "", "synthetic": "true"}
    assert table.rows[1]["address"] == "Beispielplatz 2 2. OG"


def test_hsds_folder_loads_into_store(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    report = load_files([GOOD / "hsds"], store)
    assert report.summary.organisations == 2
    node = store.get_node("hsds-a2")
    assert (node["org_type"], node["city"], node["ags"], node["source"]) == (
        "regular_service", "Lünen", "05978024", "organizations.csv")


def test_hsds3_addresses_and_org_type_and_problems(tmp_path):
    folder = tmp_path / "hsds3"
    folder.mkdir()
    write(folder, "organizations.csv", "id,name,description,website,org_type\n"
                                       "o1,Verein Eins,,https://eins.example,mso\n"
                                       "o2,Ohne Adresse,,,\n")
    write(folder, "locations.csv", "id,organization_id,name\nL1,o1,Sitz\nL2,o2,Online\n")
    write(folder, "addresses.csv", "id,location_id,address_1,city,postal_code,address_type\n"
                                   "A0,L1,Postfach 1,Essen,45127,postal\n"
                                   "A1,L1,Hauptstraße 3,Köln,50667,physical\n"
                                   "A2,L2,,,,virtual\n")
    write(folder, "phones.csv", "id,organization_id,number\nP1,o1,0221 123\n")
    result = parse_files([folder])
    assert result.problems == []
    [org, no_address] = result.batch.organisations
    assert (org.id, org.org_type, org.city, org.address, org.website, org.phone) == (
        "hsds-o1", "mso", "Köln", "Hauptstraße 3", "https://eins.example", "0221 123")
    assert (no_address.id, no_address.org_type, no_address.city) == ("hsds-o2", "regular_service", None)
    assert result.warnings[0].startswith("organizations.csv: 1 Organisation(en) ohne Ort (Zeilen 3)")


def test_hsds_json_nested(tmp_path):
    payload = {"contents": [
        {"id": "j1", "name": "Familienzentrum Beispiel", "description": "Beratung", "year_incorporated": 2001,
         "synthetic": True,
         "locations": [{"id": "l", "physical_addresses": [{"address_1": "Weg 1", "city": "Bielefeld",
                                                          "postal_code": "33602"}]}],
         "services": [{"name": "Elterncafé"}], "phones": [{"number": "0521 1"}]}]}
    assert looks_like_hsds(payload)
    assert not looks_like_hsds({"organisations": [{"name": "x", "type": "mso"}]})
    path = write(tmp_path, "hsds.json", json.dumps(payload))
    [org] = parse_files([path]).batch.organisations
    assert (org.id, org.city, org.founded, org.description, org.phone, org.synthetic) == (
        "hsds-j1", "Bielefeld", 2001, "Beratung\nAngebote: Elterncafé", "0521 1", True)
    upload = parse_upload("hsds.json", path.read_bytes())
    assert [o.id for o in upload.batch.organisations] == ["hsds-j1"]


def test_forced_hsds_kind_for_a_json_file(tmp_path):
    path = write(tmp_path, "liste.json", json.dumps([{"id": "7", "name": "Treffpunkt", "locations": []}]))
    result = parse_files([path], kind="hsds")
    assert [o.id for o in result.batch.organisations] == ["hsds-7"]
    path = write(tmp_path, "kaputt.json", json.dumps([{"id": "8", "name": "", "locations": []}]))
    [problem] = parse_files([path], kind="hsds").problems
    assert (problem.file, problem.row, problem.column) == ("kaputt.json", 1, "name")
