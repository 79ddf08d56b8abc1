"""Tests of loaders.load: kind detection, all-or-nothing loads, idempotency, skip_invalid, uploads."""

from __future__ import annotations

import json

import openpyxl
import pytest

from msonet.graph.errors import ValidationError
from msonet.graph.store import STORE_FILE, EmbeddedStore
from msonet.loaders.columns import detect_kind
from msonet.loaders.load import load_files, parse_files, parse_upload, parse_uploads, write_result
from tests._loaders import GOOD, GOOD_FILES, sha256, write


@pytest.mark.parametrize("headers, kind", [
    (["Veranstaltung", "Organisation", "Rolle"], "attendance"),
    (["von", "nach", "Beziehung"], "relations"),
    (["source_id", "target_id", "type", "source"], "relations"),
    (["Organisation", "Förderprogramm", "Förderart"], "funding"),
    (["Organisation", "Betrag"], "funding"),
    (["Titel", "Veranstaltungstyp", "Datum"], "events"),
    (["Name", "Typ", "Ort"], "organisations"),
    (["id", "name", "type", "city", "source", "updated"], "organisations"),
    (["Farbe", "Größe"], None),
])
def test_detect_kind(headers, kind):
    assert detect_kind(headers) == kind


def test_good_sample_files_load(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    report = load_files(GOOD_FILES + [GOOD / "hsds"], store)
    assert report.problems == [] and report.warnings == []
    assert report.records == {"organisations": 7, "events": 2, "relations": 7, "fundings": 3}
    assert (report.summary.organisations, report.summary.events, report.summary.relations,
            report.summary.fundings) == (7, 2, 7, 3)
    assert store.counts() == {"organisations": 7, "events": 2, "programmes": 3, "relations": 10}
    node = store.get_node("org-brueckenbauer-e-v-koeln")
    assert node["sectors"] == ["child_youth", "education"] and node["synthetic"] is True
    assert node["district"] == "05315" and node["source"] == "organisationen.csv"
    assert [f.kind for f in report.files] == ["organisations", "organisations", "events", "relations",
                                              "attendance", "funding"]


def test_files_are_parsed_in_dependency_order(tmp_path):
    # The relation file comes first on the command line but names organisations from the second file.
    rels = write(tmp_path, "a_rel.csv", "von;nach;Typ\nA;B;kooperiert mit\n")
    orgs = write(tmp_path, "b_orgs.csv", "Name;Typ;Ort\nA;mso;Köln\nB;mso;Köln\n")
    result = parse_files([rels, orgs])
    assert result.ok and len(result.batch.relations) == 1


def test_load_twice_changes_nothing(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    first = load_files(GOOD_FILES, store)
    assert first.summary.total == 17
    before = sha256(tmp_path / "store" / STORE_FILE)
    second = load_files(GOOD_FILES, store)
    assert second.summary.total == 0
    assert sha256(tmp_path / "store" / STORE_FILE) == before
    # A fresh process (new store object on the same folder) sees the same: still nothing to write.
    assert load_files(GOOD_FILES, EmbeddedStore(tmp_path / "store")).summary.total == 0


def test_one_bad_row_writes_nothing(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    load_files(GOOD_FILES, store)
    before = sha256(tmp_path / "store" / STORE_FILE)
    bad = write(tmp_path, "neu.csv", "Name;Typ;Ort\nNeu A;mso;Köln\nNeu B;mso;Atlantis\n")
    with pytest.raises(ValidationError) as info:
        load_files([bad], store)
    [problem] = info.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == ("neu.csv", 3, "Ort", "Atlantis")
    assert "neu.csv, Zeile 3, Spalte „Ort“" in str(info.value)
    assert sha256(tmp_path / "store" / STORE_FILE) == before
    assert store.get_node("org-neu-a-koeln") is None


def test_skip_invalid_writes_valid_rows_and_ties(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    orgs = write(tmp_path, "orgs.csv", "Name;Typ;Ort\nA;mso;Köln\nB;mso;Köln\nC;mso;Atlantis\n")
    rels = write(tmp_path, "rels.csv", "von;nach;Typ\nA;B;kooperiert mit\nA;C;kooperiert mit\n")
    report = load_files([orgs, rels], store, skip_invalid=True)
    assert [(p.file, p.row, p.column) for p in report.problems] == [("orgs.csv", 4, "Ort"), ("rels.csv", 3, "nach")]
    assert report.invalid_rows == 2
    assert report.summary.organisations == 2 and report.summary.relations == 1
    assert store.counts()["organisations"] == 2
    assert [(f.name, f.rows, f.records, f.invalid_rows) for f in report.files] == [
        ("orgs.csv", 3, 2, 1), ("rels.csv", 2, 1, 1)]


def test_relations_may_name_organisations_already_stored(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    load_files([GOOD / "organisationen.csv"], store)
    rels = write(tmp_path, "rels.csv", "von;nach;Typ\nKita Regenbogen;Seniorentreff am Markt;kooperiert mit\n")
    report = load_files([rels], store)
    assert report.summary.relations == 1
    G = store.to_networkx()
    assert G.has_edge("org-kita-regenbogen-koeln", "org-seniorentreff-am-markt-bochum")


def test_likely_duplicates_are_reported(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    load_files([GOOD / "organisationen.csv"], store)
    new = write(tmp_path, "neu.csv", "Name;Typ;Ort\nBrückenbauer Köln e. V.;mso;Köln\nBrückenbauer;mso;Bonn\n")
    result = parse_files([new], store)
    assert result.ok
    [pair] = result.duplicates
    assert (pair.first_id, pair.second_id, pair.existing) == ("org-brueckenbauer-koeln-e-v-koeln",
                                                              "org-brueckenbauer-e-v-koeln", True)
    assert "vermutlich dieselbe Organisation" in pair.reason


def test_forced_kind(tmp_path):
    path = write(tmp_path, "liste.csv", "Name;Ort;Art\nA;Köln;mso\n")
    assert parse_files([path], kind="Organisationen").batch.organisations[0].org_type == "mso"
    with pytest.raises(ValueError, match="Unbekannte Dateiart"):
        parse_files([path], kind="personen")


def test_undetectable_file_is_a_problem(tmp_path):
    path = write(tmp_path, "x.csv", "Farbe;Größe\nblau;1\n")
    [problem] = parse_files([path]).problems
    assert (problem.file, problem.row) == ("x.csv", 1)
    assert "Dateiart" in problem.expected


def test_cp1252_semicolon_file_loads(tmp_path):
    path = write(tmp_path, "orgs.csv", "Name;Typ;Ort;Beschreibung\nVerein für Bürger;MSO;Mülheim an der Ruhr;Größe €\n",
                 "cp1252")
    [org] = parse_files([path]).batch.organisations
    assert (org.name, org.city, org.description) == ("Verein für Bürger", "Mülheim an der Ruhr", "Größe €")


def test_xlsx_workbook_with_sheets_per_kind(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Organisationen"
    for row in (["Name", "Typ", "Ort", "Gründungsjahr"], ["A", "MSO", "Köln", 1999], ["B", "KI", "Bonn", None]):
        ws.append(row)
    rel = wb.create_sheet("Beziehungen")
    for row in (["von", "nach", "Beziehung"], ["A", "B", "wird beraten von"]):
        rel.append(row)
    wb.save(tmp_path / "netz.xlsx")
    result = parse_files([tmp_path / "netz.xlsx"])
    assert result.ok
    assert [(o.name, o.org_type, o.founded) for o in result.batch.organisations] == [
        ("A", "mso", 1999), ("B", "municipal_integration_centre", None)]
    assert result.batch.relations[0].rel_type == "advised_by"
    assert result.batch.organisations[0].source == "netz.xlsx"


def test_xlsx_problem_names_the_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Typ", "Ort"])
    wb.active.append(["A", "Quatsch", "Köln"])
    wb.save(tmp_path / "orgs.xlsx")
    [problem] = parse_files([tmp_path / "orgs.xlsx"]).problems
    assert (problem.file, problem.row, problem.column) == ("orgs.xlsx", 2, "Typ")


def test_json_list_and_problem_item_numbers(tmp_path):
    path = write(tmp_path, "orgs.json", json.dumps([
        {"name": "A", "type": "mso", "city": "Köln", "sectors": ["health"]},
        {"name": "B", "type": "mso", "city": "Nowhere"}]))
    result = parse_files([path])
    [problem] = result.problems
    assert (problem.file, problem.row, problem.column) == ("orgs.json", 2, "city")
    assert result.batch.organisations[0].sectors == ("health",)


def test_json_missing_column_has_no_row(tmp_path):
    path = write(tmp_path, "orgs.json", json.dumps({"organisations": [{"name": "A", "city": "Köln"}]}))
    [problem] = parse_files([path]).problems
    assert (problem.file, problem.row, problem.column) == ("orgs.json [organisations]", None, "type")


def test_parse_upload_validates_bytes_without_writing(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    data = "Name;Typ;Ort\nA;mso;Köln\n".encode("cp1252")
    result = parse_upload("hochgeladen.csv", data, store, today="2024-03-01")
    assert result.ok and store.counts()["organisations"] == 0
    org = result.batch.organisations[0]
    assert (org.source, org.updated) == ("hochgeladen.csv", "2024-03-01")
    report = write_result(result, store)
    assert report.summary.organisations == 1 and store.get_node(org.id)["name"] == "A"


def test_parse_uploads_reports_problems_of_all_files(tmp_path):
    result = parse_uploads([("a.csv", b"Name;Typ;Ort\nA;mso;Atlantis\n"), ("b.pdf", b"%PDF")])
    assert [(p.file, p.row) for p in result.problems] == [("b.pdf", None), ("a.csv", 2)]
    with pytest.raises(ValidationError):
        write_result(result, EmbeddedStore(None))


def test_folder_of_files(tmp_path):
    folder = tmp_path / "daten"
    folder.mkdir()
    write(folder, "orgs.csv", "Name;Typ;Ort\nA;mso;Köln\nB;mso;Köln\n")
    write(folder, "rels.csv", "von;nach;Typ\nA;B;kooperiert mit\n")
    write(folder, "liesmich.md", "ignored")
    result = parse_files(folder)
    assert result.ok and result.counts() == {"organisations": 2, "events": 0, "relations": 1, "fundings": 0}


def test_report_describe_and_as_dict(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    orgs = write(tmp_path, "orgs.csv", "Name;Typ;Ort;Farbe\nA;mso;Köln;rot\nA e.V.;mso;Köln;blau\nC;mso;Atlantis;\n")
    report = load_files([orgs], store, skip_invalid=True)
    text = report.describe()
    assert text.splitlines()[0] == ("Geladen: 2 Organisationen, 0 Veranstaltungen, 0 Beziehungen, 0 Förderungen "
                                    "neu oder geändert.")
    assert "  orgs.csv (Organisationen): 3 Zeilen, 2 gültig, 1 mit Problemen" in text
    assert "orgs.csv, Zeile 4, Spalte „Ort“: Wert „Atlantis“" in text
    assert "Hinweis: orgs.csv: unbekannte Spalten werden nicht übernommen: „Farbe“" in text
    assert "Mögliche Dublette: „A“" in text or "Mögliche Dublette: „A e.V.“" in text
    data = report.as_dict()
    assert data["written"]["total"] == 2 and data["invalid_rows"] == 1
    assert data["problems"][0]["row"] == 4 and data["files"][0]["records"] == 2
    import json

    json.dumps(data)
    again = load_files([orgs], store, skip_invalid=True).describe()
    assert "(alles war bereits gespeichert)" in again.splitlines()[0]


def test_problem_list_is_capped_with_a_count_of_the_rest(tmp_path):
    """A file with thousands of bad rows reports the first MAX_REPORTED_PROBLEMS and counts the rest (issue 14.4)."""
    from msonet.loaders.load import MAX_REPORTED_PROBLEMS, parse_files

    bad = tmp_path / "viele.csv"
    bad.write_text("Name;Typ;Ort\n" + "".join(f"V{i};Unbekannt;Köln\n" for i in range(1500)), encoding="utf-8")
    result = parse_files(bad, gazetteer=None)
    assert len(result.problems) == MAX_REPORTED_PROBLEMS + 1 and result.invalid_rows == 1500
    assert "… und 500 weitere Probleme" in result.problems[-1].expected


def test_upload_of_an_xlsx_zip_bomb_is_refused_before_unpacking():
    """The app's upload path (parse_uploads) refuses the bomb from its zip directory (issue 14.4)."""
    from pathlib import Path

    from msonet.loaders.load import parse_uploads

    data = (Path(__file__).parent / "data" / "bad" / "65_xlsx_zip_bomb.xlsx").read_bytes()
    result = parse_uploads([("bombe.xlsx", data)], gazetteer=None)
    assert len(result.batch) == 0 and len(result.problems) == 1
    assert "entpackt höchstens 40 MB" in result.problems[0].expected
