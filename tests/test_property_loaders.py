"""Property tests: random headers, cells, separators, encodings and JSON shapes never crash the loaders, and
what validation accepts can always be written."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from msonet.graph.errors import GraphError, Problem
from msonet.graph.model import Event, Organisation, RecordBatch, make_id
from msonet.graph.store import EmbeddedStore
from msonet.loaders.columns import COLUMNS
from msonet.loaders.load import parse_upload, write_result

__all__: list[str] = []

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_KOELN = dict(city="Köln", ags="05315000", district="05315", regierungsbezirk="Köln", lat=50.9384, lon=6.9599)
#: Values the validators accept, mixed into the random cells so that generated rows reach deep code paths.
GOOD_CELLS = ["MSO", "mso", "Regeldienst", "Köln", "Bonn", "Kölm", "50667", "14.06.2024", "2024-06-14",
              "31.02.2024", "2019", "kooperiert mit", "Tandempartner", "teilgenommen", "veranstaltet",
              "Projektförderung", "12.500,00", "-5", "ja", "nein", "Bildung; Gesundheit", "info@example.org",
              "Brückenbauer e.V.", "org-bb", "ev-treffen", "Vernetzungstreffen", "Vernetzungstreffen Süd",
              "=HYPERLINK(\"x\")", "'=1+1", "'}) MATCH (n) DETACH DELETE n //", "", " ", "\"", "\n"]


def _store() -> EmbeddedStore:
    """An in-memory store holding one organisation and one event that random rows may name."""
    store = EmbeddedStore(None)
    store.upsert(RecordBatch(
        organisations=[Organisation(id="org-bb", name="Brückenbauer e.V.", org_type="mso", source="t",
                                    updated="2024-07-01", **_KOELN)],
        events=[Event(id="ev-treffen", name="Vernetzungstreffen Süd", event_type="networking_meeting",
                      date="2024-06-14", source="t", updated="2024-07-01", **_KOELN)]))
    return store


def _check(name: str, data: bytes) -> None:
    """Validation reports instead of raising; an accepted result can be written; problems are well-formed."""
    store = _store()
    try:
        result = parse_upload(name, data, store, today="2024-07-01")
    except GraphError:
        return
    for problem in result.problems:
        assert isinstance(problem, Problem)
        assert problem.file.split(" [")[0] == name
        assert problem.row is None or (isinstance(problem.row, int) and problem.row >= 1)
        assert isinstance(problem.expected, str) and problem.expected
        str(problem)
    for warning in result.warnings:
        assert isinstance(warning, str)
    before = store.counts()
    if result.ok:
        # what validation accepts, the store accepts too (no second, stricter check that could fail later)
        report = write_result(result, store)
        assert report.problems == []
    else:
        try:
            write_result(result, store)
        except GraphError:
            assert store.counts() == before  # rejected: nothing written
        else:
            raise AssertionError("a result with problems was written without skip_invalid")
        try:
            write_result(result, store, skip_invalid=True)
        except GraphError:
            pass


def _headers(kind: str) -> st.SearchStrategy[list[str]]:
    spellings = [st.sampled_from(c.spellings) for c in COLUMNS[kind]]
    return st.lists(st.one_of(*spellings, st.text(max_size=12)), min_size=0, max_size=10)


cells = st.one_of(st.sampled_from(GOOD_CELLS), st.text(max_size=30),
                  st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
                  st.binary(max_size=10).map(lambda b: b.decode("latin-1")))


@st.composite
def csv_files(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(list(COLUMNS)))
    headers = draw(_headers(kind))
    width = max(1, len(headers))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=width + 2), max_size=6))
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    out = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        # written without quoting: separators, quotes and newlines inside cells break the structure
        out.write("\n".join(delimiter.join(r) for r in [headers, *rows]))
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:  # now and then a cut-off file or stray bytes
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8))
    suffix = draw(st.sampled_from([".csv", ".tsv", ".txt"]))
    return f"zufall{suffix}", data


@SETTINGS
@given(csv_files())
def test_random_csv_never_crashes(file):
    name, data = file
    _check(name, data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.sampled_from(GOOD_CELLS),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.one_of(st.sampled_from([s for cols in COLUMNS.values() for c in cols for s in c.spellings[:2]]
                                  + ["organisations", "events", "relations", "attendance", "funding"]),
                  st.text(max_size=8)), children, max_size=6),
    max_leaves=25)


@SETTINGS
@given(json_values)
def test_random_json_never_crashes(payload):
    data = json.dumps(payload, ensure_ascii=False, allow_nan=True).encode("utf-8")
    _check("zufall.json", data)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(cells, st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                                   st.dates()), max_size=6), max_size=5),
       st.sampled_from(list(COLUMNS)))
def test_random_xlsx_never_crashes(rows, kind):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([c.spellings[0] for c in COLUMNS[kind]])
    for row in rows:
        # openpyxl refuses control characters in cells; a real Excel file cannot hold them either
        sheet.append([c if not isinstance(c, str) else "".join(ch for ch in c if ch >= " " or ch in "\t\n\r")
                      for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _check("zufall.xlsx", buffer.getvalue())


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([".csv", ".xlsx", ".json", ".tsv", ".xls", ""]))
def test_random_bytes_never_crash(data, suffix):
    _check("zufall" + suffix, data)


# -- what loads, loads verbatim ----------------------------------------------------------------------------------
# control characters other than tab and line breaks are refused with a problem (tests/data/bad/58_...); the two
# non-characters U+FFFE/U+FFFF likewise
names = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff",
                              include_characters="\t\n\r"), min_size=1, max_size=40).filter(
    lambda s: s.strip() and not (s.startswith("'") and s.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r")))


@SETTINGS
@given(st.lists(names, min_size=1, max_size=5, unique_by=lambda s: s.strip()),
       st.sampled_from([";", ",", "\t"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_valid_organisations_load_verbatim(org_names, delimiter, encoding):
    """Any name (quotes, separators, newlines, HTML, formulas, Cypher) comes back exactly, trimmed at the ends."""
    for n in org_names:
        try:
            n.encode(encoding)
        except UnicodeEncodeError:
            return  # not representable in this code page; other examples cover it in UTF-8
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Name", "Typ", "Ort", "Stand"])
    for n in org_names:
        writer.writerow([n, "MSO", "Köln", "01.07.2024"])
    store = EmbeddedStore(None)
    result = parse_upload("namen.csv", out.getvalue().encode(encoding), store)
    stripped = {unicodedata.normalize("NFC", n).strip() for n in org_names}  # text is stored composed (NFC)
    # Names that fold to the same id (same letters up to case, umlauts and punctuation) are one organisation
    # by design (reported as a duplicate row); they are left out of this property.
    assume(len({make_id("org", n, "Köln") for n in stripped}) == len(stripped))
    assert result.problems == [], [str(p) for p in result.problems]
    write_result(result, store)
    assert {o["name"] for o in store.find_organisations()} == stripped


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_umlauts_survive_every_supported_encoding(encoding):
    text = "Name;Typ;Ort\nÄrztinnen für Flüchtlinge – „Straße“;MSO;Düsseldorf\n"
    result = parse_upload("umlaute.csv", text.encode(encoding), EmbeddedStore(None))
    assert result.ok
    assert result.batch.organisations[0].name == "Ärztinnen für Flüchtlinge – „Straße“"
