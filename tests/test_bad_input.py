"""The bad-input corpus (tests/data/bad): every file either loads correctly or is rejected with German
problems naming file, row, column and the fix, and a rejection leaves the store file byte-for-byte unchanged."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from pathlib import Path

import pytest

from msonet.graph.errors import Problem, ValidationError
from msonet.graph.store import EmbeddedStore
from msonet.loaders.load import load_files, parse_files

__all__: list[str] = []

BAD = Path(__file__).parent / "data" / "bad"
CYPHER = "'}) MATCH (n) DETACH DELETE n //"

# The store every corpus file is loaded into: three organisations and one event (with personal data).
PREFILL_ORGS = (
    "id;Name;Typ;Ort;Ansprechperson;E-Mail;Telefon;Stand\n"
    "org-brueckenbauer;Brückenbauer e.V.;MSO;Köln;Max Muster;max@example.org;0221 1;01.06.2024\n"
    "org-kita-regenbogen;Kita Regenbogen;Regeldienst;Köln;;;;01.06.2024\n"
    "org-ki-koeln;Kommunales Integrationszentrum Köln;KI;Köln;;;;01.06.2024\n"
)
PREFILL_EVENTS = (
    "id;Titel;Veranstaltungstyp;Datum;Ort;Stand\n"
    "ev-sued;Vernetzungstreffen Süd;Vernetzungstreffen;14.06.2024;Köln;01.06.2024\n"
)
PREFILL_COUNTS = {"organisations": 3, "events": 1, "programmes": 0, "relations": 0}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A pre-filled store folder, built once and copied for every test."""
    folder = tmp_path_factory.mktemp("prefill")
    (folder / "orgs.csv").write_text(PREFILL_ORGS, encoding="utf-8")
    (folder / "events.csv").write_text(PREFILL_EVENTS, encoding="utf-8")
    store = EmbeddedStore(folder / "store")
    load_files([folder / "orgs.csv", folder / "events.csv"], store)
    assert store.counts() == PREFILL_COUNTS
    return folder / "store"


@pytest.fixture
def store(tmp_path, template) -> EmbeddedStore:
    home = tmp_path / "store"
    shutil.copytree(template, home)
    return EmbeddedStore(home)


def org_named(store, name: str) -> dict:
    """The one stored organisation called exactly ``name``."""
    found = [o for o in store.find_organisations() if o["name"] == name]
    assert len(found) == 1, f"{name!r}: {[o['name'] for o in store.find_organisations()]}"
    return found[0]


def new_counts(store) -> dict[str, int]:
    counts = store.counts()
    return {k: counts.get(k, 0) - PREFILL_COUNTS.get(k, 0) for k in ("organisations", "events", "programmes",
                                                                       "relations")}


# -- files that load ------------------------------------------------------------------------------------------
def _check_cp1252(store, report):
    org = org_named(store, "Türkisch-Deutscher Elternverein Düsseldorf e.V.")
    # „ “ – and € only exist in Windows-1252, not in Latin-1: the right code page was used
    assert org["description"] == "Väter, Mütter & Großeltern – „gemeinsam“"
    assert org["address"] == "Königsallee 1" and org["city"] == "Düsseldorf" and org["district"] == "05111"
    assert org_named(store, "Verein für Straßenfußball Gelsenkirchen")["org_type"] == "sports_club"
    assert org_named(store, "Verein für Straßenfußball Gelsenkirchen")["description"] == "Öffnungszeiten: Mo–Fr, 15 €"


def _check_mixed(store, report):
    assert org_named(store, "Brücke der Kulturen e.V.")["city"] == "Bonn"
    assert org_named(store, "Südstadt-Treff für Jung & Alt")["org_type"] == "initiative"
    assert not any("Ã" in o["name"] for o in store.find_organisations())


def _check_utf16(store, report):
    org = org_named(store, "Internationaler Frauentreff Münster")
    assert org["city"] == "Münster" and org["org_type"] == "mso"


def _check_bom(store, report):
    assert org_named(store, "Elternnetzwerk Ruhr Süd")["sectors"] == ["parents_family", "education"]


def _check_comma(store, report):
    assert org_named(store, "Afrika-Forum Dortmund, e.V.")["description"] == "Beratung; Kultur, Sport"
    assert org_named(store, 'Der "Treffpunkt" Essen')["city"] == "Essen"


def _check_tsv(store, report):
    assert org_named(store, "Polnischer Kulturverein Bielefeld")["sectors"] == ["culture", "language"]


def _check_newline(store, report):
    assert org_named(store, "Verein für Bildung\nund Begegnung")["city"] == "Hamm"
    assert org_named(store, "Hammer Jugendtreff")["org_type"] == "regular_service"


def _check_unknown_columns(store, report):
    org = org_named(store, "Griechische Gemeinde Essen")
    assert "Lieblingsfarbe" not in org and "blau" not in org.values()
    assert any("„Lieblingsfarbe“" in w and "„interne Nummer“" in w for w in report.warnings)


def _check_header_only(store, report):
    assert report.written == 0


def _check_dates(store, report):
    G = store.to_networkx()
    dates = {d["name"]: d["date"] for _, d in G.nodes(data=True) if d.get("kind") == "event"}
    assert dates["Fachtag Elternarbeit"] == "2024-06-14"
    assert dates["Sommerfest der Vielfalt"] == "2024-09-20"
    assert {d["updated"] for _, d in G.nodes(data=True) if d.get("name") == "Fachtag Elternarbeit"} == {"2024-07-01"}


def _check_amounts(store, report):
    G = store.to_networkx()
    amounts = {d["programme"]: d["amount"] for _, _, d in G.edges(data=True) if d.get("type") == "funded_by"}
    assert amounts == {"Programm A": 12500.0, "Programm B": 5000.5, "Programm C": 6000.0, "Programm D": 1234567.89}


def _check_wide(store, report):
    for r in range(3):
        assert org_named(store, f"Breite Tabelle {r}")["city"] == "Köln"
    assert any("„Spalte 0000“" in w and "und 987 weitere" in w and len(w) < 600 for w in report.warnings)


def _check_sheets(store, report):
    org = org_named(store, "Vietnamesischer Verein Dortmund")
    assert org["founded"] == 1998
    G = store.to_networkx()
    events = [d for _, d in G.nodes(data=True) if d.get("name") == "Netzwerktreffen Dortmund"]
    assert [e["date"] for e in events] == ["2024-05-03"]
    assert G.has_edge(org["id"], "org-brueckenbauer", f"cooperates_with|org-brueckenbauer|{org['id']}") or \
        G.has_edge("org-brueckenbauer", org["id"], f"cooperates_with|org-brueckenbauer|{org['id']}") or \
        G.has_edge(org["id"], "org-brueckenbauer", f"cooperates_with|{org['id']}|org-brueckenbauer")
    # the sheet "Hinweise" is no data: nothing else came in
    assert new_counts(store) == {"organisations": 1, "events": 1, "programmes": 0, "relations": 1}


def _check_html(store, report):
    assert org_named(store, "<img src=x onerror=alert(1)>")["description"] == "<script>alert('xss')</script>"
    org = org_named(store, 'Verein "><svg onload=alert(2)> e.V.')
    assert org["description"] == '<a href="javascript:alert(3)">Klick</a>'


FORMULA_NAMES = ['=HYPERLINK("http://example.invalid/x";"Klick")', "+1", "@SUM(A1:A3)", "-2+3"]


def _check_formulas(store, report):
    for name in FORMULA_NAMES:
        org_named(store, name)
    assert org_named(store, "+1")["description"] == "+49 221 000"
    assert org_named(store, "-2+3")["description"] == "-cmd|' /C calc'!A0"


def _check_cypher(store, report):
    org = store.get_node("x" + CYPHER)
    assert org is not None
    for field in ("name", "address", "website", "description", "contact_person", "phone", "source"):
        assert org[field] == CYPHER, field
    assert org["email"] == "n'})DETACH_DELETE_n//@example.org"
    other = store.get_node("x\" }) RETURN 1 UNION MATCH (n) SET n.name = 'pwned' //")
    assert other["name"] == '\\"}) MATCH (n) DELETE n; CALL db.clearQueryCaches() //'
    assert other["address"] == "$id `Organisation` {id: $id}" and other["source"] == "\\"
    assert store.get_node("org-brueckenbauer")["name"] == "Brückenbauer e.V."  # nothing else touched


def _check_cypher_note(store, report):
    G = store.to_networkx()
    (data,) = [d for _, _, d in G.edges(data=True)]
    assert data["note"] == CYPHER and data["source"] == CYPHER and data["since"] == "2020"


def _check_spaces(store, report):
    org = org_named(store, "Verein mit Leerzeichen")
    assert org["org_type"] == "mso" and org["city"] == "Bonn"


def _check_personal(store, report):
    org = org_named(store, "Verein der Datenschützer")
    assert (org["contact_person"], org["email"], org["phone"]) == ("Erika Mustermann", "erika@example.org",
                                                                    "0221 123456")


NON_LATIN = ["Русский дом", "جمعية الصداقة", "Ελληνική Κοινότητα"]


def _check_non_latin(store, report):
    for name in NON_LATIN:
        assert org_named(store, name)["city"] == "Köln"



def _check_fewer_columns(store, report):
    # a known id with only some columns changes only those: contact data and sectors stay (issue 14.1)
    org = store.get_node("org-brueckenbauer")
    assert (org["contact_person"], org["email"], org["phone"]) == ("Max Muster", "max@example.org", "0221 1")
    assert org["source"] == "orgs.csv" and report.written == 0


def _check_clear_marker(store, report):
    # "#leer" clears the e-mail; the empty phone cell keeps the phone; sectors are set
    org = store.get_node("org-brueckenbauer")
    assert (org["contact_person"], org["email"], org["phone"]) == ("Max Muster", None, "0221 1")
    assert org["sectors"] == ["education"] and report.summary.organisations == 1


def _check_nfd(store, report):
    # decomposed umlauts (macOS) are stored composed: one spelling, places found (issue 14.7)
    org = store.get_node("nfd-1")
    assert org["name"] == "M\u00fctterzentrum S\u00fcd" and org["city"] == "K\u00f6ln" and org["district"] == "05315"
    assert org_named(store, "Gr\u00fcne J\u00fcngere")["id"] == "org-gruene-juengere-muenster"


def _check_nfd_relation(store, report):
    G = store.to_networkx()
    assert G.has_edge("org-brueckenbauer", "org-kita-regenbogen") or G.has_edge("org-kita-regenbogen",
                                                                                 "org-brueckenbauer")


#: file -> (new records per kind, check of the stored values)
LOADS = {
    "01_cp1252_umlauts.csv": ({"organisations": 2}, _check_cp1252),
    "02_mixed_utf8_cp1252.csv": ({"organisations": 2}, _check_mixed),
    "03_utf16_excel_unicode_text.txt": ({"organisations": 1}, _check_utf16),
    "04_utf8_bom_semicolon.csv": ({"organisations": 1}, _check_bom),
    "05_comma_separated_quoted.csv": ({"organisations": 2}, _check_comma),
    "06_tab_separated.tsv": ({"organisations": 1}, _check_tsv),
    "07_quoted_newline_in_name.csv": ({"organisations": 2}, _check_newline),
    "10_unknown_columns.csv": ({"organisations": 1}, _check_unknown_columns),
    "12_header_only.csv": ({}, _check_header_only),
    "21_events_german_and_iso_dates.csv": ({"events": 2}, _check_dates),
    "25_funding_amount_formats.csv": ({"programmes": 4, "relations": 4}, _check_amounts),
    "26_thousand_columns.csv": ({"organisations": 3}, _check_wide),
    "28_xlsx_several_sheets.xlsx": ({"organisations": 1, "events": 1, "relations": 1}, _check_sheets),
    "33_html_js_in_names.csv": ({"organisations": 2}, _check_html),
    "34_formulas_in_names.csv": ({"organisations": 4}, _check_formulas),
    "35_cypher_in_every_field.csv": ({"organisations": 2}, _check_cypher),
    "36_cypher_in_relation_note.csv": ({"relations": 1}, _check_cypher_note),
    "48_blank_lines_and_spaces.csv": ({"organisations": 1}, _check_spaces),
    "49_personal_data.csv": ({"organisations": 1}, _check_personal),
    "51_non_latin_names.csv": ({"organisations": 3}, _check_non_latin),
    "55_known_id_fewer_columns.csv": ({}, _check_fewer_columns),
    "56_clear_marker.csv": ({}, _check_clear_marker),
    "62_nfd_decomposed_umlauts.csv": ({"organisations": 2}, _check_nfd),
    "63_nfd_names_in_relations.csv": ({"relations": 1}, _check_nfd_relation),
}
_XFAIL: dict[str, str] = {}

# -- files that are rejected ----------------------------------------------------------------------------------
#: file -> [(row, column, parts of the German "expected" text)]; the problems must be exactly these.
REJECTS: dict[str, list[tuple[int | None, str | None, tuple[str, ...]]]] = {
    "08_quoted_newline_then_error.csv": [(3, "Typ", ("Organisationstyp", "meinten Sie „Regeldienst“"))],
    "09_missing_required_column.csv": [(1, "type", ("Spalte „type“", "fehlt", "„Typ“"))],
    "11_empty.csv": [(None, None, ("die Datei ist leer",))],
    "13_duplicate_ids.csv": [(3, "id", ("eindeutige Id", "„org-a“", "Zeile 2"))],
    "14_duplicate_rows_without_id.csv": [(3, "Name", ("gleicher Name und Ort", "Zeile 2", "Spalte „id“"))],
    "15_unknown_org_type.csv": [(2, "Typ", ("ein Organisationstyp", "meinten Sie „Regeldienst“"))],
    "16_unknown_sector.csv": [(2, "Handlungsfelder", ("ein Handlungsfeld", "meinten Sie „Gesundheit“"))],
    "17_unknown_places.csv": [(2, "Ort", ("ein Ort in NRW", "meinten Sie „Köln“")),
                              (3, "Ort", ("ein Ort in NRW",))],
    "18_relation_unknown_org.csv": [(2, "von", ("keine bekannte Organisation", "Meinten Sie „Brückenbauer e.V.“"))],
    "19_relation_self_loop.csv": [(2, "nach", ("keine Beziehung einer Organisation zu sich selbst",))],
    "20_relation_unknown_type.csv": [(2, "Beziehungstyp", ("ein Beziehungstyp", "kooperiert mit"))],
    "22_events_invalid_dates.csv": [(2, "Datum", ("ein gültiges Datum", "14.06.2024")),
                                    (3, "Datum", ("ein gültiges Datum",)), (4, "Datum", ("ein gültiges Datum",))],
    "23_funding_negative_amount.csv": [(2, "Betrag", ("Betrag in Euro ab 0",))],
    "24_funding_text_amount.csv": [(2, "Betrag", ("Betrag in Euro", "5.000,50"))],
    "27_xlsx_merged_header_cells.xlsx": [
        (1, "A1:C1", ("die Zellen A1:C1 sind verbunden", "Verbindung aufheben")),
        (1, "D1:E1", ("die Zellen D1:E1 sind verbunden",)),
        (1, "name", ("Spalte „name“", "fehlt")), (1, "type", ("Spalte „type“",)),
        (2, "von", ("Kurdisches Kulturzentrum Köln",)),
    ],
    "29_json_number.json": [(None, None, ("eine JSON-Liste von Objekten",))],
    "30_json_dict_unknown_keys.json": [(None, None, ("organisations, events, relations",))],
    "31_json_list_of_lists.json": [(1, None, ("ein Objekt mit Feldern",)), (2, None, ("ein Objekt mit Feldern",))],
    "32_json_truncated.json": [(2, None, ("gültiges JSON", "Zeile 2"))],
    "37_unbalanced_quote.csv": [(2, None, ("Anführungszeichen",))],
    "38_old_excel_format.xls": [(None, None, ("Format .xlsx", "alte .xls-Dateien"))],
    "39_not_really_xlsx.xlsx": [(None, None, ("gültige Excel-Datei",))],
    "40_binary_garbage.csv": [(1, None, ("Überschriften, an denen die Dateiart erkennbar ist",))],
    "41_value_without_header.csv": [(2, "E", ("Spalte ohne Überschrift",))],
    "42_duplicate_headers.csv": [(1, "Name", ("eindeutige Spaltenüberschriften", "Spalte A und D"))],
    "43_invalid_email_postcode_year.csv": [(2, "PLZ", ("fünfstellige Postleitzahl",)),
                                           (2, "Gründungsjahr", ("Gründungsjahr als vierstellige Zahl",)),
                                           (2, "E-Mail", ("E-Mail-Adresse wie info@beispiel.de",))],
    "44_attendance_unknown_event.csv": [(2, "Veranstaltung", ("keine bekannte Veranstaltung",
                                                              "Vernetzungstreffen Süd"))],
    "45_funding_years_reversed.csv": [(2, "bis", ("Endjahr nicht vor dem Anfangsjahr 2024",))],
    "46_synthetic_not_yes_no.csv": [(2, "synthetisch", ("ja/nein",))],
    "47_one_bad_row_among_good.csv": [(3, "Ort", ("ein Ort in NRW",))],
    "50_unknown_file_type.pdf": [(None, None, (".csv, .xlsx oder .json",))],
    "52_unclosed_parenthesis_in_city.csv": [(2, "Ort", ("ein Ort in NRW",))],
    "53_extra_cell_in_every_row.csv": [(2, "D", ("Spalte ohne Überschrift",)), (3, "D", ("Spalte ohne Überschrift",))],
    "54_same_id_organisation_and_event.json": [(1, "id", ("eine eigene Id", "schon die Id einer Organisation",
                                                          "[organisations], Zeile 1"))],
    "57_clear_marker_in_required_column.csv": [(2, "Typ", ("„#leer“ löscht nur Angaben in freiwilligen Spalten",))],
    "58_control_characters.csv": [(2, "Name", ("ohne Steuerzeichen", "U+0000")),
                                  (3, "Beschreibung", ("ohne Steuerzeichen", "Stelle 10", "U+0001"))],
    "59_funding_400_digit_amount.csv": [(2, "Betrag", ("unter einer Billion",))],
    "60_json_nested_100000_deep.json": [(None, None, ("verschachtelt",))],
    "61_json_5000_digit_integer.json": [(None, None, ("Zahlen üblicher Länge",))],
    "64_xlsx_formula_without_value.xlsx": [(3, "Name", ("Zelle A3 enthält eine Formel ohne gespeichertes Ergebnis",))],
    "65_xlsx_zip_bomb.xlsx": [(None, None, ("entpackt höchstens 40 MB", "auf 49 MB", "als CSV speichern"))],
    "66_xlsx_password_protected.xlsx": [(None, None, ("ohne Kennwortschutz", "verschlüsselt"))],
    "67_cell_over_131072_characters.csv": [(3, None, ("höchstens 131.072 Zeichen",))],
}


def _param(name: str, value):
    marks = [pytest.mark.xfail(strict=True, reason=_XFAIL[name])] if name in _XFAIL else []
    return pytest.param(name, value, id=name, marks=marks)


def test_corpus_is_complete():
    """Every file in tests/data/bad has exactly one expected outcome, and there are at least 30."""
    files = {p.name for p in BAD.iterdir() if p.is_file()}
    assert files == set(LOADS) | set(REJECTS)
    assert not set(LOADS) & set(REJECTS)
    assert len(files) >= 30


@pytest.mark.parametrize("name, expected", [_param(n, v) for n, v in LOADS.items()])
def test_corpus_file_loads(store, name, expected):
    delta, check = expected
    report = load_files([BAD / name], store)
    assert report.problems == []
    want = {k: delta.get(k, 0) for k in ("organisations", "events", "programmes", "relations")}
    assert new_counts(store) == want
    check(store, report)
    # the values survive a fresh read of the file on disk, too
    check(EmbeddedStore(store.home), report)


def _assert_problems(name: str, problems: list[Problem], expected) -> None:
    got = sorted(((p.row, p.column) for p in problems), key=str)
    assert got == sorted(((row, col) for row, col, _ in expected), key=str), [str(p) for p in problems]
    for row, column, parts in expected:
        (problem,) = [p for p in problems if (p.row, p.column) == (row, column)]
        assert problem.file.split(" [")[0] == name
        text = str(problem)
        assert text.startswith(name)
        if row is not None:
            assert f"Zeile {row}" in text
        if column is not None:
            assert f"Spalte „{column}“" in text
        for part in parts:
            assert part in problem.expected, (part, problem.expected)


@pytest.mark.parametrize("name, expected", [_param(n, v) for n, v in REJECTS.items()])
def test_corpus_file_is_rejected_and_store_unchanged(store, name, expected):
    before = _sha(store.path)
    with pytest.raises(ValidationError) as info:
        load_files([BAD / name], store)
    _assert_problems(name, info.value.problems, expected)
    assert _sha(store.path) == before
    assert EmbeddedStore(store.home).counts() == PREFILL_COUNTS
    # the message the CLI prints names every problem in German
    assert f"{len(expected)} Problem(e) in den Eingabedaten" in str(info.value)


def test_skip_invalid_loads_the_good_rows_and_reports_the_bad(store):
    report = load_files([BAD / "47_one_bad_row_among_good.csv"], store, skip_invalid=True)
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "Ort", "Atlantis")]
    assert new_counts(store)["organisations"] == 2
    org_named(store, "Gut Eins")
    org_named(store, "Gut Zwei")


def test_skip_invalid_writes_no_row_it_reports_as_skipped(store):
    """Rows the file reader flagged (an extra cell) are reported and not written (issue 14.2)."""
    before = _sha(store.path)
    report = load_files([BAD / "53_extra_cell_in_every_row.csv"], store, skip_invalid=True)
    assert report.invalid_rows == 2 and [f.records for f in report.files] == [0]
    assert report.written == 0 and _sha(store.path) == before
    assert EmbeddedStore(store.home).counts() == PREFILL_COUNTS


def test_skip_invalid_keeps_the_organisation_when_an_event_reuses_its_id(store):
    report = load_files([BAD / "54_same_id_organisation_and_event.json"], store, skip_invalid=True)
    assert report.summary.organisations == 1 and report.summary.events == 0
    assert store.get_node("x-1")["kind"] == "organisation"


def test_nfc_and_nfd_spellings_are_one_organisation(store, tmp_path):
    """The same name and id written composed and decomposed load as one organisation (issue 14.7)."""
    import unicodedata

    text = "id;Name;Typ;Ort\nbr\u00fccke-1;Br\u00fccke e.V.;MSO;K\u00f6ln\n"
    (tmp_path / "nfc.csv").write_text(text, encoding="utf-8")
    (tmp_path / "nfd.csv").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    load_files([tmp_path / "nfc.csv"], store)
    assert load_files([tmp_path / "nfd.csv"], store).written == 0
    assert new_counts(store)["organisations"] == 1


def test_non_latin_names_get_distinct_ids(store, tmp_path):
    """Two loads of different organisations must never overwrite each other."""
    for number, name in enumerate(NON_LATIN[:2]):
        path = tmp_path / f"datei{number}.csv"
        path.write_text(f"Name;Typ;Ort;Stand\n{name};MSO;Köln;01.07.2024\n", encoding="utf-8")
        load_files([path], store)
    assert new_counts(store)["organisations"] == 2
    for name in NON_LATIN[:2]:
        org_named(store, name)


def test_rejection_via_cli_names_file_row_column_and_leaves_store(store, capsys):
    from msonet.cli import main

    before = _sha(store.path)
    code = main(["--store", str(store.home), "load", str(BAD / "17_unknown_places.csv")])
    err = capsys.readouterr().err
    assert code == 1
    assert "Nichts geladen" in err
    assert "17_unknown_places.csv, Zeile 2, Spalte „Ort“: Wert „Kölm“" in err and "meinten Sie „Köln“?" in err
    assert "Traceback" not in err
    assert _sha(store.path) == before


def test_cli_loads_hostile_but_valid_file(store, capsys):
    from msonet.cli import main

    code = main(["--store", str(store.home), "load", str(BAD / "35_cypher_in_every_field.csv"),
                 str(BAD / "01_cp1252_umlauts.csv")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.out + captured.err
    fresh = EmbeddedStore(store.home)
    assert fresh.get_node("x" + CYPHER)["name"] == CYPHER
    assert new_counts(fresh)["organisations"] == 4


def test_one_bad_file_among_good_ones_writes_nothing(store):
    before = _sha(store.path)
    with pytest.raises(ValidationError) as info:
        load_files([BAD / "01_cp1252_umlauts.csv", BAD / "22_events_invalid_dates.csv"], store)
    assert {p.file for p in info.value.problems} == {"22_events_invalid_dates.csv"}
    assert _sha(store.path) == before


# -- hostile text: harmless in exports and HTML ---------------------------------------------------------------
def test_formulas_are_neutralised_in_csv_export_and_round_trip(store, tmp_path):
    from msonet.loaders.export import export_csv

    load_files([BAD / "34_formulas_in_names.csv"], store)
    paths = export_csv(store, tmp_path / "out")
    orgs = next(p for p in paths if p.name == "organisations.csv")
    with open(orgs, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    names = {r["name"] for r in rows}
    for name in FORMULA_NAMES:
        assert "'" + name in names  # a spreadsheet shows the text instead of running it
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r", row
    # loading the export back gives the original text
    again = EmbeddedStore(tmp_path / "again")
    load_files(paths, again)
    assert {o["name"] for o in again.find_organisations()} >= set(FORMULA_NAMES)


def test_html_in_names_is_escaped_in_network_html(store):
    from msonet.graph.render import build_network, node_tooltip

    load_files([BAD / "33_html_js_in_names.csv"], store)
    G = store.to_networkx()
    page = build_network(G).html
    for raw in ("<img src=x onerror=alert(1)>", "<svg onload=alert(2)>", "<script>alert('xss')</script>"):
        assert raw not in page
    org = org_named(store, "<img src=x onerror=alert(1)>")
    tip = node_tooltip(org["id"], G.nodes[org["id"]], 0)
    assert "<img" not in tip and "&lt;img src=x onerror=alert(1)&gt;" in tip


def test_html_in_names_is_escaped_in_markdown_helper():
    from msonet.ui.common import md

    text = md("<img src=x onerror=alert(1)> [klick](javascript:alert(1))")
    # every character Markdown or HTML would act on is backslash-escaped, so it shows literally
    assert re.search(r"(?<!\\)[<>\[\]()]", text) is None, text


def test_cypher_text_round_trips_on_falkordb(falkordb_server, tmp_path):
    """Cypher-looking text in every field is stored verbatim by the FalkorDB store and changes nothing else."""
    from msonet.graph.cypher_store import connect_falkordb

    store = connect_falkordb(falkordb_server.url("bad_input_cypher"))
    try:
        store.clear()
        (tmp_path / "orgs.csv").write_text(PREFILL_ORGS, encoding="utf-8")
        (tmp_path / "events.csv").write_text(PREFILL_EVENTS, encoding="utf-8")
        load_files([tmp_path / "orgs.csv", tmp_path / "events.csv"], store)
        report = load_files([BAD / "35_cypher_in_every_field.csv", BAD / "36_cypher_in_relation_note.csv"], store)
        assert report.problems == []
        assert store.counts() == {"organisations": 5, "events": 1, "programmes": 0, "relations": 1}
        _check_cypher(store, report)
        _check_cypher_note_server(store)
        # the same text as a search term is a value, not a query
        assert [o["id"] for o in store.find_organisations(name_contains="DETACH DELETE")] == ["x" + CYPHER]
        # loading it again changes nothing (values compare equal after the round trip)
        again = load_files([BAD / "35_cypher_in_every_field.csv"], store)
        assert again.written == 0
    finally:
        store.clear()
        store.close()


def _check_cypher_note_server(store) -> None:
    G = store.to_networkx()
    notes = [d["note"] for _, _, d in G.edges(data=True)]
    assert notes == [CYPHER]


# -- a 50 MB file ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_fifty_megabyte_file_loads(tmp_path):
    """The loader has no size limit (the CLI loads what it is given; the app caps uploads at
    MSONET_MAX_UPLOAD_MB, default 50): a 50 MB file with 26,000 organisations loads completely."""
    cities = ["Köln", "Bonn", "Essen", "Dortmund", "Bochum", "Münster", "Aachen", "Bielefeld", "Hamm", "Düsseldorf"]
    description = ("Beratung, Begleitung und Vernetzung im Quartier. " * 41)[:2000]
    path = tmp_path / "gross.csv"
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("id;Name;Typ;Ort;Beschreibung;Stand\n")
        while fh.tell() < 50 * 2**20:
            tag = hashlib.sha1(str(rows).encode()).hexdigest()[:10]
            fh.write(f"org-gross-{rows};Initiative {tag};MSO;{cities[rows % 10]};{description};01.07.2024\n")
            rows += 1
    assert path.stat().st_size >= 50 * 2**20
    store = EmbeddedStore(tmp_path / "store")
    report = load_files([path], store)
    assert report.problems == [] and report.records["organisations"] == rows
    assert store.counts()["organisations"] == rows
    last = store.get_node(f"org-gross-{rows - 1}")
    assert last["description"] == description and last["city"] == cities[(rows - 1) % 10]
    assert EmbeddedStore(tmp_path / "store").counts()["organisations"] == rows


@pytest.mark.parametrize("name", [
    pytest.param(p.name, id=p.name) for p in sorted(BAD.iterdir())])
def test_parse_files_never_raises_for_corpus(name):
    """Validation alone (what the app's upload page does) reports, never raises, for every corpus file."""
    result = parse_files([BAD / name])
    assert isinstance(result.problems, list)


def test_markdown_helpers_keep_user_text_inert():
    """Issue 14.6: no block break, link, image or autolink can come out of md(); code() keeps the text exact."""
    from msonet.ui.common import code, md

    payload = "x`\n\n[klick](http://127.0.0.1:9/l) ![i](https://127.0.0.1:9/t.png)\r\n\n    www.example.org a@b.de"
    escaped = md(payload)
    assert "\n" not in escaped and "\r" not in escaped
    for raw in ("](", "![", "http://", "https://", "www.", "a@b"):
        assert raw not in escaped, raw
    span = code("a``b\n\nc")
    assert span == "``` a``b  c ```"
