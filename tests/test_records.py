"""Tests of loaders.records: cell parsers and every validation problem with file, row and column."""

from __future__ import annotations

import pytest

from msonet.graph.model import Organisation
from msonet.graph.store import EmbeddedStore
from msonet.loaders.load import parse_files
from msonet.loaders.records import parse_amount, parse_bool, parse_date, parse_year, split_list
from tests._loaders import write

ORGS = ("Name;Typ;Ort;id\n"
        "Brückenbauer e.V.;mso;Köln;org-a\n"
        "Morgenrot;mso;Bochum;org-b\n"
        "Treff;regular_service;Köln;org-c\n"
        "Treff;regular_service;Bonn;org-d\n")


@pytest.mark.parametrize("text, expected", [
    ("5.000,50", 5000.5), ("5000.50", 5000.5), ("5000", 5000.0), ("5.000", 5000.0), ("1.234.567", 1234567.0),
    ("1,125", 1.125), ("12,5 €", 12.5), ("1,000.25", 1000.25), ("0", 0.0), ("-5", -5.0), ("EUR 300", 300.0),
    ("abc", None), ("5,000,00", None), ("", None),
])
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2024-06-14", "2024-06-14"), ("14.06.2024", "2024-06-14"), ("1.2.2024", "2024-02-01"),
    ("2024-06-14 00:00:00", "2024-06-14"), ("31.02.2024", None), ("2024-13-01", None), ("14.06.24", None),
    ("morgen", None), ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_small_parsers():
    assert parse_year("1998") == 1998 and parse_year("1998.0") == 1998
    assert parse_year("98") is None and parse_year("1700") is None
    assert [parse_bool(t) for t in ("ja", "Nein", "TRUE", "0", "x", "", "vielleicht")] == \
        [True, False, True, False, True, False, None]
    assert split_list("Bildung; Sport, Kultur | Gesundheit;;") == ["Bildung", "Sport", "Kultur", "Gesundheit"]


def _problems(tmp_path, files: dict[str, str], store=None):
    paths = [write(tmp_path, name, text) for name, text in files.items()]
    result = parse_files(paths, store)
    return result, {(p.file, p.row, p.column): p for p in result.problems}


def test_organisation_cell_problems(tmp_path):
    text = ("Name;Typ;Ort;PLZ;gegründet;E-Mail;synthetisch;Stand;Handlungsfelder\n"
            "A;Verien;Köln;;;;;;\n"               # 2 unknown type (suggestion Verein -> MSO?)
            "B;mso;Kölle;;;;;;\n"                  # 3 unknown place with suggestion
            ";mso;Köln;;;;;;\n"                    # 4 empty name
            "C;mso;Köln;5066;1890x;info@;vielleicht;32.13.2024;Jugend\n"  # 5 many problems
            "D;mso;;;;;;;\n"                       # 6 no city: allowed, with a warning
            "E;mso;Köln;;;;;;Sport, Quatsch\n")     # 7 unknown sector
    result, problems = _problems(tmp_path, {"orgs.csv": text})
    assert set(problems) == {
        ("orgs.csv", 2, "Typ"), ("orgs.csv", 3, "Ort"), ("orgs.csv", 4, "Name"), ("orgs.csv", 5, "PLZ"),
        ("orgs.csv", 5, "gegründet"), ("orgs.csv", 5, "E-Mail"), ("orgs.csv", 5, "synthetisch"),
        ("orgs.csv", 5, "Stand"), ("orgs.csv", 7, "Handlungsfelder"),
    }
    assert problems["orgs.csv", 2, "Typ"].expected.startswith(
        "ein Organisationstyp, z.B. „MSO“, „Regeldienst“ oder „Kommunales Integrationszentrum (KI)“")
    assert "docs/columns.md" not in problems["orgs.csv", 2, "Typ"].expected  # a browser user cannot open it
    assert problems["orgs.csv", 3, "Ort"].value == "Kölle"
    assert "ein Ort in NRW" in problems["orgs.csv", 3, "Ort"].expected
    assert "„Köln“" in problems["orgs.csv", 3, "Ort"].expected
    assert "leer" in problems["orgs.csv", 4, "Name"].expected
    assert "fünfstellige Postleitzahl" in problems["orgs.csv", 5, "PLZ"].expected
    assert "E-Mail-Adresse" in problems["orgs.csv", 5, "E-Mail"].expected
    assert problems["orgs.csv", 7, "Handlungsfelder"].value == "Quatsch"
    assert result.invalid_rows == 5
    [org] = result.batch.organisations
    assert (org.id, org.city, org.ags, org.district) == ("org-d", None, None, None)
    assert any("orgs.csv: 1 Organisation(en) ohne Ort (Zeilen 6)" in w for w in result.warnings)
    assert str(problems["orgs.csv", 3, "Ort"]).startswith("orgs.csv, Zeile 3, Spalte „Ort“: Wert „Kölle“ – ")


def test_postcode_alone_finds_the_place(tmp_path):
    result, problems = _problems(tmp_path, {"orgs.csv": "Name;Typ;Ort;PLZ\nA;mso;;50667\n"})
    assert not problems
    assert result.batch.organisations[0].city == "Köln"


def test_missing_required_column_names_the_accepted_spellings(tmp_path):
    result, problems = _problems(tmp_path, {"orgs.csv": "Name;Ort\nA;Köln\n"})
    [problem] = problems.values()
    assert (problem.file, problem.row, problem.column) == ("orgs.csv", 1, "type")
    assert "„Typ“" in problem.expected and "„Organisationstyp“" in problem.expected
    assert result.files[0].invalid_rows == 1


def test_two_headers_for_one_column(tmp_path):
    _, problems = _problems(tmp_path, {"orgs.csv": "Name;Typ;Ort;Stadt\nA;mso;Köln;Köln\n"})
    assert ("orgs.csv", 1, "Stadt") in problems
    assert "„Ort“ und „Stadt“" in problems["orgs.csv", 1, "Stadt"].expected


def test_unknown_columns_are_a_warning_not_an_error(tmp_path):
    result, problems = _problems(tmp_path, {"orgs.csv": "Name;Typ;Ort;Farbe;Größe\nA;mso;Köln;blau;1\n"})
    assert not problems and len(result.batch.organisations) == 1
    assert any("„Farbe“, „Größe“" in w for w in result.warnings)


def test_duplicate_ids_and_duplicate_rows_in_a_file(tmp_path):
    text = "id;Name;Typ;Ort\nx1;A;mso;Köln\nx1;B;mso;Köln\n"
    _, problems = _problems(tmp_path, {"orgs.csv": text})
    assert problems["orgs.csv", 3, "id"].expected == "eine eindeutige Id – „x1“ steht schon in orgs.csv, Zeile 2"
    _, problems = _problems(tmp_path, {"o2.csv": "Name;Typ;Ort\nA;mso;Köln\nA;mso;koeln\n"})
    assert "gleicher Name und Ort wie in o2.csv, Zeile 2" in problems["o2.csv", 3, "Name"].expected


def test_event_problems(tmp_path):
    text = ("Titel;Veranstaltungstyp;Datum;Ort\n"
            "Treffen;Vernetzungstreffen;31.02.2024;Köln\n"
            "Treffen 2;Grillen;2024-06-14;\n"
            "Treffen 3;Fachtag;;\n"
            ";Fachtag;2024-06-14;Atlantis\n")
    result, problems = _problems(tmp_path, {"events.csv": text})
    assert set(problems) == {("events.csv", 2, "Datum"), ("events.csv", 3, "Veranstaltungstyp"),
                             ("events.csv", 4, "Datum"), ("events.csv", 5, "Titel"), ("events.csv", 5, "Ort")}
    assert "2024-06-14 oder 14.06.2024" in problems["events.csv", 2, "Datum"].expected
    assert "ein Veranstaltungstyp" in problems["events.csv", 3, "Veranstaltungstyp"].expected
    assert result.batch.events == []


def test_event_ids_and_places(tmp_path):
    result, _ = _problems(tmp_path, {"events.csv": "Titel;Typ;Datum;Ort\nFachtag Süd;Fachtag;14.06.2024;koeln\n"})
    [event] = result.batch.events
    assert (event.id, event.date, event.city, event.ags) == ("event-fachtag-sued-2024-06-14", "2024-06-14", "Köln",
                                                             "05315000")


def test_relation_problems(tmp_path):
    rels = ("von;nach;Beziehung;seit\n"
            "org-a;org-a;kooperiert mit;\n"            # 2 self-loop
            "Brückenbauer;Morgenrot;kooperiert mit;\n"  # 3 unknown name with suggestion
            "org-a;Treff;kooperiert mit;\n"             # 4 ambiguous name
            "org-a;org-b;wird gefördert durch;\n"       # 5 funding as relation
            "org-a;org-b;befreundet;\n"                 # 6 unknown relation type
            "org-a;org-b;kooperiert mit;letztes Jahr\n"  # 7 invalid since
            "org-a;org-b;nahm teil an;\n"               # 8 target must be an event
            "brueckenbauer e v;morgenrot;member_of;2019\n")  # 9 fine: names match normalised
    result, problems = _problems(tmp_path, {"orgs.csv": ORGS, "rels.csv": rels})
    assert set(problems) == {("rels.csv", 2, "nach"), ("rels.csv", 3, "von"), ("rels.csv", 4, "nach"),
                             ("rels.csv", 5, "Beziehung"), ("rels.csv", 6, "Beziehung"), ("rels.csv", 7, "seit"),
                             ("rels.csv", 8, "nach")}
    assert "keine Beziehung einer Organisation zu sich selbst" in problems["rels.csv", 2, "nach"].expected
    assert "„Brückenbauer e.V.“" in problems["rels.csv", 3, "von"].expected
    assert "org-c, org-d" in problems["rels.csv", 4, "nach"].expected
    assert "mehrdeutig" in problems["rels.csv", 4, "nach"].expected
    assert "Förderungs-Datei" in problems["rels.csv", 5, "Beziehung"].expected
    assert "bekannte Veranstaltung" in problems["rels.csv", 8, "nach"].expected
    [rel] = result.batch.relations
    assert (rel.source_id, rel.target_id, rel.rel_type, rel.since) == ("org-a", "org-b", "member_of", "2019")


def test_reference_to_an_invalid_row_points_there(tmp_path):
    orgs = "Name;Typ;Ort\nGut;mso;Köln\nKaputt;mso;Nirgendwo\n"
    rels = "von;nach;Typ\nGut;Kaputt;kooperiert mit\n"
    _, problems = _problems(tmp_path, {"orgs.csv": orgs, "rels.csv": rels})
    assert "steht in orgs.csv, Zeile 3, die fehlerhaft ist" in problems["rels.csv", 2, "nach"].expected


def test_duplicate_relations(tmp_path):
    rels = ("von;nach;Typ;Notiz\norg-a;org-b;kooperiert mit;\norg-b;org-a;cooperates_with;\n"
            "org-a;org-b;member_of;x\norg-a;org-b;member_of;y\n")
    result, problems = _problems(tmp_path, {"orgs.csv": ORGS, "rels.csv": rels})
    assert set(problems) == {("rels.csv", 5, "nach")}   # same tie, different note
    assert any("rels.csv, Zeile 3: dieselbe Beziehung steht schon in rels.csv, Zeile 2" in w for w in result.warnings)
    assert len(result.batch.relations) == 2


def test_attendance_problems_and_roles(tmp_path):
    events = ("id;Titel;Typ;Datum\nev1;Treffen;Vernetzungstreffen;2024-01-10\n"
              "ev2;Treffen;Vernetzungstreffen;2024-06-14\n")
    att = ("Veranstaltung;Organisation;Rolle;Datum\n"
           "Treffen;org-a;teilgenommen;14.06.2024\n"   # 2 picked by date
           "Treffen;org-b;;\n"                         # 3 ambiguous event
           "ev1;org-b;Zuschauer;\n"                     # 4 unknown role
           "Party;org-b;;\n"                            # 5 unknown event
           "ev1;org-c;veranstaltet;\n")                 # 6 fine
    result, problems = _problems(tmp_path, {"orgs.csv": ORGS, "events.csv": events, "att.csv": att})
    assert set(problems) == {("att.csv", 3, "Veranstaltung"), ("att.csv", 4, "Rolle"), ("att.csv", 5, "Veranstaltung")}
    assert "ev1, ev2" in problems["att.csv", 3, "Veranstaltung"].expected
    assert "„teilgenommen“" in problems["att.csv", 4, "Rolle"].expected
    assert [(r.source_id, r.target_id, r.rel_type) for r in result.batch.relations] == [
        ("org-a", "ev2", "attended_event"), ("org-c", "ev1", "organised_event")]


def test_funding_problems(tmp_path):
    fund = ("Organisation;Programm;Förderart;Betrag;Jahr;von;bis;Handlungsfeld\n"
            "org-a;P1;Projektförderung;-5;;;;\n"          # 2 negative amount
            "org-a;P2;Projektförderung;viel;;;;\n"        # 3 text amount
            "org-a;P3;Projektförderung;;;2024;2022;\n"    # 4 end before start
            "org-a;P4;Spende;;;;;\n"                      # 5 unknown kind
            "org-a;P5;Projektförderung;;20x4;;;\n"        # 6 bad year
            "org-a;;Projektförderung;;;;;Kochen\n"        # 7 empty programme, unknown sector
            "Morgenrot;P6;Regelförderung;5.000,50;2022-2024;;;Bildung\n")  # 8 fine
    result, problems = _problems(tmp_path, {"orgs.csv": ORGS, "fund.csv": fund})
    assert set(problems) == {("fund.csv", 2, "Betrag"), ("fund.csv", 3, "Betrag"), ("fund.csv", 4, "bis"),
                             ("fund.csv", 5, "Förderart"), ("fund.csv", 6, "Jahr"), ("fund.csv", 7, "Programm"),
                             ("fund.csv", 7, "Handlungsfeld")}
    assert "einen Betrag in Euro ab 0" in problems["fund.csv", 2, "Betrag"].expected
    assert "nicht vor dem Anfangsjahr 2024" in problems["fund.csv", 4, "bis"].expected
    [funding] = result.batch.fundings
    assert (funding.id, funding.org_id, funding.funding_kind, funding.amount, funding.year_from, funding.year_to,
            funding.sector) == ("fund-org-b-p6-2022-2024", "org-b", "regular_funding", 5000.5, 2022, 2024,
                                "education")


def test_names_resolve_against_the_store(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    from msonet.graph.model import RecordBatch

    store.upsert(RecordBatch(organisations=[
        Organisation("s1", "Altverein", "mso", city="Köln", ags="05315000"),
        Organisation("s2", "Doppelt", "mso", city="Köln", ags="05315000"),
        Organisation("s3", "Doppelt", "mso", city="Bonn", ags="05314000")]))
    orgs = "Name;Typ;Ort\nNeuverein;mso;Köln\n"
    rels = "von;nach;Typ\nNeuverein;altverein;kooperiert mit\nNeuverein;Doppelt;kooperiert mit\n"
    result, problems = _problems(tmp_path, {"orgs.csv": orgs, "rels.csv": rels}, store)
    assert set(problems) == {("rels.csv", 3, "nach")}
    assert "s2, s3" in problems["rels.csv", 3, "nach"].expected
    assert [(r.source_id, r.target_id) for r in result.batch.relations] == [("org-neuverein-koeln", "s1")]


def test_sector_named_by_part_of_its_description_and_german_suggestions(tmp_path):
    """„Jugendarbeit“ is part of the child_youth field's description; suggestions are German labels."""
    text = ("Name;Typ;Ort;Handlungsfelder\n"
            "A;mso;Köln;Jugendarbeit\n"
            "B;mso;Köln;Hausaufgabenhilfe | Gewaltschutz\n"
            "C;mso;Köln;chld_youth\n")
    result, problems = _problems(tmp_path, {"orgs.csv": text})
    assert set(problems) == {("orgs.csv", 4, "Handlungsfelder")}
    expected = problems["orgs.csv", 4, "Handlungsfelder"].expected
    assert "„Kinder- und Jugendhilfe“" in expected and "child_youth“?" not in expected
    sectors = {o.name: o.sectors for o in result.batch.organisations}
    assert sectors["A"] == ("child_youth",) and set(sectors["B"]) == {"education", "women_girls"}


def _relation_rows() -> str:
    """A relations file of plain rows and rows that must leave the quick way (each line says why)."""
    head = "von;nach;Typ;seit;Notiz;Gewicht;Label;synthetic;source;updated\n"
    rows = [
        "org-a;org-b;cooperates_with;2019;;;;true;;",            # plain
        "org-a;org-b;cooperates_with;2019;;;;true;;",            # the same tie again: a warning
        "org-b;org-a;cooperates_with;2020;;;;true;;",            # the same symmetric tie, other values
        "org-a;org-c;#leer;;;;;;;",                              # clear marker in a required column
        "org-a;org-c;member_of;;#LEER;;;;;",                     # clear marker in an optional one
        "org-a;org-d;member_of;;Raum #3;2,5;;ja;eigene Quelle;14.06.2024",
        "org-b;org-c;member_of;;Zeichen \x01;;;;;",
        "org-b;org-d;member_of;20x9;;;;;;",
        "org-c;org-d;member_of;1.2.2024;;-1;;;;",
        "org-c;org-a;member_of;;;1.000,5;;vielleicht;;2024-13-01",
        "org-a;org-a;supports;;;;;;;",
        "org-a;org-x;supports;;;;;;;",
        "Morgenrot;org-c;supports;;;;;;;",                       # a name, not an id
        "org-a;Treff;supports;;;;;;;",                           # an ambiguous name
        "org-d;org-a;Directed;;;;kooperiert mit;;;",
        "org-d;org-b;Directed;;;;;;;",
        "org-d;org-c;funded_by;;;;;;;",
        "org-b;org-a;;;;;;;;",
        " org-c ; org-b ;ist Mitglied von;2001;;0;;nein;;",
        ";org-b;supports;;;;;;;",
        "org-c;org-b;supports;;;;;;;;zu viel",
    ]
    return head + "\n".join(rows) + "\n"


def _parsed(result) -> tuple:
    return (result.batch.relations, [str(p) for p in result.problems], result.warnings, result.files,
            result.invalid_rows)


def test_quick_way_for_relation_rows_matches_the_usual_way(tmp_path, monkeypatch):
    from msonet.loaders.records import RecordParser

    files = [write(tmp_path, "orgs.csv", ORGS), write(tmp_path, "rel.csv", _relation_rows())]
    quick = parse_files(files, EmbeddedStore(tmp_path / "a"))
    monkeypatch.setattr(RecordParser, "_relation_row_fast", lambda self, table, mapping: lambda number, cells: False)
    usual = parse_files(files, EmbeddedStore(tmp_path / "b"))
    assert _parsed(quick) == _parsed(usual)
    assert len(quick.batch.relations) >= 5 and len(quick.problems) >= 10 and quick.warnings
