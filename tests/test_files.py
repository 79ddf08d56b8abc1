"""Tests of loaders.files: encodings, separators, quoting, Excel and JSON shapes, row numbers."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest

from msonet.graph.errors import ValidationError
from msonet.loaders.files import decode_text, read_bytes, read_tables, sniff_delimiter, unescape_formula
from tests._loaders import write

HEADER = "Name;Typ;Ort\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_give_the_same_umlauts(tmp_path, encoding):
    path = write(tmp_path, "orgs.csv", HEADER + "Förderverein Südstadt;MSO;Köln\n", encoding)
    [table] = read_tables(path)
    assert table.headers == ["Name", "Typ", "Ort"]
    assert table.numbered() == [(2, {"Name": "Förderverein Südstadt", "Typ": "MSO", "Ort": "Köln"})]


def test_decode_prefers_utf8_and_falls_back_to_cp1252():
    assert decode_text("Straße".encode()) == ("Straße", "utf-8")
    assert decode_text("\ufeffStraße".encode()) == ("Straße", "utf-8")
    assert decode_text("Straße €".encode("cp1252")) == ("Straße €", "cp1252")


@pytest.mark.parametrize("text, expected", [
    ("a;b;c\n1;2;3", ";"),
    ("a,b,c\n1,2,3", ","),
    ('"x;y",b,c\n1,2,3', ","),   # separators inside quotes do not count
    ("a\tb\n1\t2", "\t"),
    ("name\nx", ","),
])
def test_sniff_delimiter(text, expected):
    assert sniff_delimiter(text) == expected


def test_quoted_newlines_keep_spreadsheet_row_numbers(tmp_path):
    text = 'name,type,city\n"Eins",mso,Köln\n"Zwei\nmit Umbruch",mso,Köln\n\n"Drei",mso,Bonn\n'
    [table] = read_tables(write(tmp_path, "orgs.csv", text))
    assert [(n, c["name"]) for n, c in table.numbered()] == [(2, "Eins"), (3, "Zwei\nmit Umbruch"), (5, "Drei")]


def test_duplicate_header_is_a_problem(tmp_path):
    [table] = read_tables(write(tmp_path, "orgs.csv", "name,Ort,Ort\nA,Köln,Bonn\n"))
    [problem] = table.problems
    assert (problem.file, problem.row, problem.column) == ("orgs.csv", 1, "Ort")
    assert "Spalte B und C" in problem.expected


def test_value_without_header_is_a_problem(tmp_path):
    [table] = read_tables(write(tmp_path, "orgs.csv", "name,type\nA,mso,extra\n"))
    [problem] = table.problems
    assert (problem.row, problem.column, problem.value) == (2, "C", "extra")


@pytest.mark.parametrize("cell, expected", [
    ("'=SUM(A1)", "=SUM(A1)"), ("'+49 211", "+49 211"), ("'-x", "-x"), ("'@home", "@home"),
    ("''=x", "'=x"), ("'abc", "'abc"), ("'", "'"), ("=x", "=x"),
])
def test_unescape_formula(cell, expected):
    assert unescape_formula(cell) == expected


def test_csv_cells_are_unescaped(tmp_path):
    [table] = read_tables(write(tmp_path, "orgs.csv", "name;description\nA;'=1+2\n"))
    assert table.rows[0]["description"] == "=1+2"


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(ValidationError, match=r"\.csv, \.xlsx oder \.json"):
        read_bytes("orgs.pdf", b"x")
    with pytest.raises(ValidationError) as info:
        read_tables(tmp_path / "nope.csv")
    assert info.value.problems[0].file == "nope.csv"


def test_empty_file_is_a_problem(tmp_path):
    [table] = read_tables(write(tmp_path, "leer.csv", "\n\n"))
    assert "leer" in table.problems[0].expected


def test_modified_date_comes_from_the_file(tmp_path):
    path = write(tmp_path, "orgs.csv", HEADER)
    stamp = dt.datetime(2023, 5, 17, 12, 0).timestamp()
    import os

    os.utime(path, (stamp, stamp))
    [table] = read_tables(path)
    assert table.modified == "2023-05-17"
    assert table.file == "orgs.csv"


# -- Excel -----------------------------------------------------------------------------------------
def _workbook(tmp_path, sheets: dict[str, list[list]], merge: dict[str, str] | None = None):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if merge and title in merge:
            ws.merge_cells(merge[title])
    path = tmp_path / "daten.xlsx"
    wb.save(path)
    return path


def test_xlsx_first_sheet_with_data_and_cell_types(tmp_path):
    path = _workbook(tmp_path, {"Leer": [], "Tabelle1": [
        ["Name", "Typ", "Ort", "gegründet", "Datum", "aktiv"],
        ["Verein A", "mso", "Köln", 1998, dt.datetime(2024, 6, 14), True],
        [None, None, None, None, None, None],
        ["Verein B", "mso", "Bonn", 2001.0, dt.date(2024, 1, 2), False],
    ]})
    [table] = read_tables(path)
    assert table.name == "daten.xlsx [Tabelle1]"
    assert table.numbered() == [
        (2, {"Name": "Verein A", "Typ": "mso", "Ort": "Köln", "gegründet": "1998", "Datum": "2024-06-14",
             "aktiv": "true"}),
        (4, {"Name": "Verein B", "Typ": "mso", "Ort": "Bonn", "gegründet": "2001", "Datum": "2024-01-02",
             "aktiv": "false"}),
    ]


def test_xlsx_sheets_named_like_kinds(tmp_path):
    path = _workbook(tmp_path, {
        "Hinweise": [["Bitte ausfüllen"]],
        "Organisationen": [["Name", "Typ", "Ort"], ["A", "mso", "Köln"]],
        "Beziehungen": [["von", "nach", "Typ"], ["A", "B", "kooperiert mit"]],
    })
    tables = read_tables(path)
    assert [(t.name, t.kind_hint) for t in tables] == [
        ("daten.xlsx [Organisationen]", "organisations"), ("daten.xlsx [Beziehungen]", "relations")]
    [only] = read_tables(path, kind="relations")
    assert only.kind_hint == "relations"


def test_xlsx_merged_header_cells_are_reported(tmp_path):
    path = _workbook(tmp_path, {"Tabelle1": [["Name", None, "Ort"], ["A", "mso", "Köln"]]},
                     merge={"Tabelle1": "A1:B1"})
    [table] = read_tables(path)
    [problem] = table.problems
    assert (problem.row, problem.column) == (1, "A1:B1")
    assert "verbunden" in problem.expected and "Überschrift" in problem.expected


def test_broken_xlsx(tmp_path):
    path = tmp_path / "kaputt.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValidationError, match="Excel"):
        read_tables(path)


# -- JSON ------------------------------------------------------------------------------------------
def test_json_list_of_objects(tmp_path):
    items = [{"name": "A", "type": "mso", "city": "Köln", "sectors": ["health", "sport"], "founded": 1998,
              "synthetic": True, "description": None}, {"name": "B", "amount": 1.125}]
    path = write(tmp_path, "orgs.json", json.dumps(items))
    [table] = read_tables(path)
    assert table.kind_hint is None
    assert table.headers == ["name", "type", "city", "sectors", "founded", "synthetic", "description", "amount"]
    assert table.numbered()[0] == (1, {"name": "A", "type": "mso", "city": "Köln", "sectors": "health;sport",
                                 "founded": "1998", "synthetic": "true", "description": ""})
    assert table.numbered()[1] == (2, {"name": "B", "amount": "1,125"})


def test_json_export_object(tmp_path):
    payload = {"format": "msonet-export/1", "organisations": [{"name": "A"}], "relations": [],
               "funding": [{"programme": "P"}], "extra": 1}
    tables = read_tables(write(tmp_path, "export.json", json.dumps(payload)))
    assert [(t.name, t.kind_hint) for t in tables] == [("export.json [organisations]", "organisations"),
                                                       ("export.json [funding]", "funding")]
    assert "extra" in tables[0].warnings[0]


def test_json_nested_value_and_bad_shapes(tmp_path):
    [table] = read_tables(write(tmp_path, "x.json", json.dumps([{"name": {"de": "A"}}, 5])))
    assert [(p.row, p.column) for p in table.problems] == [(1, "name"), (2, None)]
    with pytest.raises(ValidationError, match="gültiges JSON"):
        read_tables(write(tmp_path, "y.json", "{broken"))
    with pytest.raises(ValidationError, match="Liste von Objekten"):
        read_tables(write(tmp_path, "z.json", '"text"'))
