"""Tests of loaders.columns and of its user documentation (docs/columns.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from msonet.graph import vocabulary
from msonet.loaders.columns import COLUMNS, accepted_spellings, match_headers, normalise_header

DOC = (Path(__file__).parent.parent / "docs" / "columns.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("a, b", [("E-Mail", "email"), ("Straße", "strasse"), ("Gründungsjahr", "gruendungsjahr"),
                                  ("contact_person", "Contact Person"), (" PLZ ", "plz")])
def test_normalise_header(a, b):
    assert normalise_header(a) == normalise_header(b)


def test_match_headers():
    headers = ["NAME", "Organisationstyp", "Stadt", "Ort", "Farbe", ""]
    mapping, unknown, clashes = match_headers("organisations", headers)
    assert mapping == {"name": "NAME", "type": "Organisationstyp", "city": "Stadt"}
    assert unknown == ["Farbe"] and clashes == [("city", "Stadt", "Ort")]


def test_no_spelling_means_two_columns_of_one_kind():
    for kind, columns in COLUMNS.items():
        seen = {}
        for column in columns:
            for spelling in column.spellings:
                key = normalise_header(spelling)
                assert seen.setdefault(key, column.name) == column.name, (kind, spelling)


def test_accepted_spellings_text():
    assert accepted_spellings("events", "date") == "„date“, „Datum“, „Termin“ oder „Tag“"


def test_every_column_and_spelling_is_documented():
    for columns in COLUMNS.values():
        for column in columns:
            assert f"`{column.name}`" in DOC, column.name
            for alias in column.aliases:
                assert alias in DOC, alias


@pytest.mark.parametrize("table", [vocabulary.ORG_TYPES, vocabulary.SECTORS, vocabulary.RELATION_TYPES,
                                   vocabulary.EVENT_TYPES, vocabulary.FUNDING_KINDS])
def test_every_vocabulary_value_is_documented(table):
    for key, (short, _) in table.items():
        assert f"| `{key}` | {short} |" in DOC, key
