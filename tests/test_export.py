"""Tests of loaders.export: CSV/JSON round trips, formula neutralisation, personal data, GraphML."""

from __future__ import annotations

import csv
import json

import networkx as nx
import pytest

from msonet.graph.model import Organisation, RecordBatch
from msonet.graph.store import EmbeddedStore
from msonet.loaders.export import (
    EVENT_HEADERS,
    FUNDING_HEADERS,
    ORGANISATION_HEADERS,
    RELATION_HEADERS,
    export_csv,
    export_graphml,
    export_json,
    export_tables,
    neutralise_formula,
)
from msonet.loaders.files import unescape_formula
from msonet.loaders.load import load_files
from tests._loaders import GOOD, GOOD_FILES, graph_state, write

TRICKY = ("id;Name;Typ;Ort;Beschreibung;E-Mail;Telefon;Ansprechperson\n"
          "t1;=HYPERLINK(\"x\");mso;Köln;\"-5 Punkte\nzweite Zeile\";a@b.de;+49 221 1;@chef\n"
          "t2;'=schon maskiert;mso;Bonn;'quote;;;\n"
          "t3;Verein; mit Semikolon;mso;Lünen;;;;\n"
          "t4;Landesweite Stelle;state_authority;;;;;\n")


@pytest.fixture
def loaded(tmp_path):
    store = EmbeddedStore(tmp_path / "original")
    tricky = tmp_path / "in" / "tricky.csv"
    tricky.parent.mkdir()
    tricky.write_text(TRICKY.replace("t3;Verein; mit Semikolon", "t3;\"Verein; mit Semikolon\""), encoding="utf-8")
    funding = write(tmp_path / "in", "mehr.csv", "Organisation;Programm;Förderart;Betrag;Jahr\n"
                                                 "t1;Kleinprogramm;Projektförderung;1,125;2024\n"
                                                 "t2;Kleinprogramm;project_funding;1.234.567,89;2023\n")
    load_files(GOOD_FILES + [GOOD / "hsds", tricky, funding], store)
    return store


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"), ("+49", "'+49"), ("-5", "'-5"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=x", "''=x"), ("'x", "'x"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise_formula_and_back(text, expected):
    assert neutralise_formula(text) == expected
    assert unescape_formula(neutralise_formula(text)) == text


def test_csv_round_trip_is_exact(loaded, tmp_path):
    paths = export_csv(loaded, tmp_path / "export", include_personal=True)
    assert [p.name for p in paths] == ["organisations.csv", "events.csv", "relations.csv", "funding.csv"]
    fresh = EmbeddedStore(tmp_path / "fresh")
    report = load_files(paths, fresh)
    assert report.problems == []
    assert report.warnings == ["organisations.csv: 1 Organisation(en) ohne Ort (Zeilen 12) – sie erscheinen auf "
                               "keiner Karte und in keiner Kreis-Auswertung. Falls das nicht gewollt ist (z.B. "
                               "landesweit tätige Stellen), bitte die Spalte „Ort“ ausfüllen."]
    assert graph_state(fresh.to_networkx()) == graph_state(loaded.to_networkx())
    assert fresh.get_node("t4")["city"] is None


def test_json_round_trip_is_exact(loaded, tmp_path):
    path = export_json(loaded, tmp_path / "export.json", include_personal=True)
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert set(payload) == {"format", "organisations", "events", "relations", "funding"}
    fresh = EmbeddedStore(tmp_path / "fresh")
    load_files([path], fresh)
    assert graph_state(fresh.to_networkx()) == graph_state(loaded.to_networkx())


def test_csv_headers_and_formula_cells(loaded, tmp_path):
    export_csv(loaded, tmp_path / "export")
    text = (tmp_path / "export" / "organisations.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(text.splitlines(keepends=True), delimiter=";"))
    by_id = {r["id"]: r for r in rows}
    assert list(rows[0]) == [h for h in ORGANISATION_HEADERS if h not in ("contact_person", "email", "phone")]
    assert by_id["t1"]["name"] == "'=HYPERLINK(\"x\")"
    assert by_id["t1"]["description"] == "'-5 Punkte\nzweite Zeile"
    assert by_id["t2"]["name"] == "'=schon maskiert"   # the loader had removed the mask; export adds it again
    assert by_id["t2"]["description"] == "'quote"
    assert by_id["org-brueckenbauer-e-v-koeln"]["sectors"] == "child_youth;education"
    assert by_id["org-brueckenbauer-e-v-koeln"]["synthetic"] == "true"
    for name, headers in (("events.csv", EVENT_HEADERS), ("relations.csv", RELATION_HEADERS),
                          ("funding.csv", FUNDING_HEADERS)):
        first = (tmp_path / "export" / name).read_text(encoding="utf-8-sig").splitlines()[0]
        assert first.split(";") == headers


def test_amounts_are_written_unambiguously(loaded):
    rows = {r["programme"] + r["year_from"]: r["amount"] for r in export_tables(loaded)["funding"]}
    assert rows["Kleinprogramm2024"] == "1,125"
    assert rows["Kleinprogramm2023"] == "1234567,89"
    assert rows["Beispielprogramm Elternarbeit2023"] == "12500"


def test_personal_fields_left_out_by_default(loaded, tmp_path):
    export_csv(loaded, tmp_path / "export")
    text = (tmp_path / "export" / "organisations.csv").read_text(encoding="utf-8-sig")
    assert "a@b.de" not in text and "email" not in text.splitlines()[0]
    payload = json.loads(export_json(loaded, tmp_path / "x.json").read_text(encoding="utf-8"))
    assert all("email" not in o and "phone" not in o for o in payload["organisations"])
    with_personal = export_tables(loaded, include_personal=True)["organisations"]
    assert {r["id"]: r["email"] for r in with_personal}["t1"] == "a@b.de"


def test_event_relations_are_in_relations_csv(loaded):
    types = {r["type"] for r in export_tables(loaded)["relations"]}
    assert {"attended_event", "organised_event", "tandem_partner", "cooperates_with", "advised_by"} == types


def test_graphml_for_gephi(loaded, tmp_path):
    path = export_graphml(loaded, tmp_path / "netz.graphml")
    G = nx.read_graphml(path)
    original = loaded.to_networkx()
    assert G.number_of_nodes() == original.number_of_nodes()
    assert G.number_of_edges() == original.number_of_edges()
    node = G.nodes["org-brueckenbauer-e-v-koeln"]
    assert node["sectors"] == "child_youth;education"
    assert "address" in node and "website" in node and "contact_person" not in node
    assert "email" not in G.nodes["t1"]   # personal data left out
    assert "postcode" not in G.nodes["t1"]   # None values are omitted
    assert node["synthetic"] is True and isinstance(node["lat"], float)
    with_personal = nx.read_graphml(export_graphml(loaded, tmp_path / "p.graphml", include_personal=True))
    assert with_personal.nodes["t1"]["email"] == "a@b.de"


def test_apostrophe_before_formula_survives_a_round_trip(tmp_path):
    store = EmbeddedStore(None)
    org = Organisation("o1", "'=Apostroph", "mso", city="Köln", ags="05315000", district="05315",
                       regierungsbezirk="Köln", lat=50.94566, lon=6.97325, updated="2024-01-01", source="x")
    store.upsert(RecordBatch(organisations=[org]))
    [path, *_] = export_csv(store, tmp_path / "export")
    assert "''=Apostroph" in path.read_text(encoding="utf-8-sig")
    fresh = EmbeddedStore(None)
    load_files([path], fresh)
    assert fresh.get_node("o1")["name"] == "'=Apostroph"


def test_export_from_a_plain_graph(tmp_path):
    store = EmbeddedStore(None)
    store.upsert(RecordBatch(organisations=[Organisation("o1", "Eins", "mso", city="Köln", ags="05315000")]))
    [orgs, events, rels, funds] = export_csv(store.to_networkx(), tmp_path)
    assert orgs.read_text(encoding="utf-8-sig").splitlines()[1].startswith("o1;Eins;mso;Köln;")
    assert events.read_text(encoding="utf-8-sig").splitlines() == [";".join(EVENT_HEADERS)]


def _networkx_graphml(G: nx.MultiDiGraph, path, include_personal: bool = False):
    """What export_graphml wrote before it wrote the file itself: networkx's writer on the same attributes."""
    from msonet.loaders.export import _graphml_attrs

    H = nx.MultiDiGraph()
    H.add_nodes_from((n, _graphml_attrs(d, include_personal)) for n, d in G.nodes(data=True))
    H.add_edges_from((u, v, k, _graphml_attrs(d, include_personal)) for u, v, k, d in G.edges(keys=True, data=True))
    nx.write_graphml(H, path)
    return path


def _edges(H: nx.Graph) -> list:
    return list(H.edges(keys=True, data=True)) if H.is_multigraph() else list(H.edges(data=True))


def _tricky_graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.add_node("a&<b>\"'", kind="organisation", org_type="mso", name="Verein „A“ & <B>\nzweite Zeile\r\t",
               lat=50.5, lon=7, founded=1990, synthetic=False, sectors=["culture", "sport"])
    G.add_node("e1", kind="event", name="Fest", date="2024-05-01")
    G.add_edge("a&<b>\"'", "e1", "k1", type="attended_event", weight=2.5)
    G.add_edge("a&<b>\"'", "e1", "k2", type="organised_event", note="zwei Kanten, ein Paar")
    return G


@pytest.mark.parametrize("include_personal", [False, True])
def test_graphml_reads_back_as_networkx_wrote_it(loaded, tmp_path, include_personal):
    tricky = _tricky_graph()
    tricky.nodes["a&<b>\"'"]["name"] = "Verein „A“ & <B>\nzweite Zeile\t"  # networkx's writer loses a \r
    for G in (loaded.to_networkx(), tricky):
        ours = nx.read_graphml(export_graphml(G, tmp_path / "ours.graphml", include_personal=include_personal))
        theirs = nx.read_graphml(_networkx_graphml(G, tmp_path / "theirs.graphml", include_personal))
        assert type(ours) is type(theirs)
        assert list(ours.nodes(data=True)) == list(theirs.nodes(data=True))
        assert _edges(ours) == _edges(theirs)


def test_xml_exports_replace_characters_xml_cannot_hold(tmp_path):
    from msonet.loaders.export import export_gexf

    G = _tricky_graph()
    G.nodes["e1"]["name"] = "Fest\x00\x0b mit Steuerzeichen"
    G.nodes["e1"]["founded"] = "um 1990"  # one attribute, values of two types: declared once, as text
    read = nx.read_graphml(export_graphml(G, tmp_path / "x.graphml"))
    assert read.nodes["e1"]["name"] == "Fest\ufffd\ufffd mit Steuerzeichen"
    assert read.nodes["a&<b>\"'"]["name"] == "Verein „A“ & <B>\nzweite Zeile\r\t"
    assert [read.nodes[n]["founded"] for n in ("a&<b>\"'", "e1")] == ["1990", "um 1990"]
    gexf = nx.read_gexf(export_gexf(G, tmp_path / "x.gexf", positions={}))
    assert gexf.nodes["e1"]["label"] == "Fest\ufffd\ufffd mit Steuerzeichen"
    assert gexf.nodes["a&<b>\"'"]["label"] == "Verein „A“ & <B>\nzweite Zeile\r\t"
    assert sorted(key for *_, key in gexf.edges(keys=True)) == ["k1", "k2"]  # networkx reads its keys back
