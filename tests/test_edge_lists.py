"""Files from Gephi, networkx and Kumu: ``source``/``target`` edge lists, ``Id``/``Label`` node tables, ``weight``,
and the GEXF export read back by networkx -- each checked against the exact ties loaded."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from msonet.graph.errors import ValidationError
from msonet.graph.store import EmbeddedStore
from msonet.loaders.columns import detect_kind, match_headers
from msonet.loaders.export import export_gexf
from msonet.loaders.load import load_files

GEPHI_NODES = ("Id,Label,type,city,timeset\n"
               "n1,Brückenbauer e.V.,MSO,Köln,\n"
               "n2,Kita Regenbogen,Regeldienst,Köln,\n"
               "n3,Frauenforum Morgenrot,mso,Bochum,\n")


def _ties(store: EmbeddedStore) -> set[tuple]:
    G = store.to_networkx()
    return {(u, v, d["type"], d.get("weight"), d.get("source")) for u, v, d in G.edges(data=True)
            if d.get("type") != "funded_by"}


@pytest.mark.parametrize(("headers", "kind", "source_column", "provenance"), [
    (["source", "target", "type"], "relations", "source", None),
    (["Source", "Target", "Type", "Id", "Label", "Weight"], "relations", "Source", None),
    (["source", "target", "type", "quelle"], "relations", "source", "quelle"),
    (["source_id", "target", "type", "source"], "relations", "source_id", "source"),
    (["von", "nach", "Beziehung", "source"], "relations", "von", "source"),  # no "target": source = provenance
])
def test_source_is_the_first_end_when_target_is_there(headers, kind, source_column, provenance):
    assert detect_kind(headers) == kind
    mapping, _unknown, clashes = match_headers(kind, headers)
    assert mapping["source_id"] == source_column and not clashes
    assert mapping.get("source") == provenance


def test_gephi_node_table_loads_as_organisations():
    assert detect_kind(["Id", "Label", "type"]) == "organisations"
    mapping, _, _ = match_headers("organisations", ["Id", "Label", "type"])
    assert mapping == {"id": "Id", "name": "Label", "type": "type"}


def test_gephi_files_load_with_exact_ties(tmp_path):
    nodes = tmp_path / "gephi-nodes.csv"
    nodes.write_text(GEPHI_NODES, encoding="utf-8")
    edges = tmp_path / "gephi-edges.csv"
    edges.write_text("Source,Target,Type,Id,Label,Weight\n"
                     "n1,n2,Undirected,0,kooperiert mit,2.5\n"
                     "n3,n1,Directed,1,ist Mitglied von,1\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store")
    report = load_files([nodes, edges], store)
    assert not report.problems, report.describe()
    G = store.to_networkx()
    assert {n: G.nodes[n]["name"] for n in ("n1", "n2", "n3")} == {
        "n1": "Brückenbauer e.V.", "n2": "Kita Regenbogen", "n3": "Frauenforum Morgenrot"}
    assert G.nodes["n2"]["org_type"] == "regular_service"
    assert _ties(store) == {("n1", "n2", "cooperates_with", 2.5, "gephi-edges.csv"),
                            ("n3", "n1", "member_of", 1.0, "gephi-edges.csv")}


def test_gephi_direction_without_label_is_a_clear_error(tmp_path):
    nodes = tmp_path / "knoten.csv"
    nodes.write_text(GEPHI_NODES, encoding="utf-8")
    edges = tmp_path / "kanten.csv"
    edges.write_text("Source,Target,Type\nn1,n2,Undirected\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store")
    report = load_files([nodes, edges], store, skip_invalid=True)
    messages = [str(p) for p in report.problems]
    assert len(messages) == 1 and "kanten.csv, Zeile 2" in messages[0] and "Label" in messages[0]
    assert _ties(store) == set()


def test_networkx_edge_list_round_trip(tmp_path):
    """A file written with networkx/pandas (``to_pandas_edgelist``) loads with exactly its ties."""
    nodes = tmp_path / "knoten.csv"
    nodes.write_text(GEPHI_NODES, encoding="utf-8")
    written = nx.MultiDiGraph()
    written.add_edge("n1", "n2", type="cooperates_with", weight=3.0, quelle="Netzwerkliste 2024")
    written.add_edge("n2", "n3", type="tandem_partner", weight=0.5, quelle="Netzwerkliste 2024")
    written.add_edge("n3", "n1", type="member_of", weight=1.0, quelle="Netzwerkliste 2024")
    edges = tmp_path / "kanten.csv"
    nx.to_pandas_edgelist(written)[["source", "target", "type", "weight", "quelle"]].to_csv(edges, index=False)
    store = EmbeddedStore(tmp_path / "store")
    report = load_files([nodes, edges], store)
    assert not report.problems, report.describe()
    assert _ties(store) == {("n1", "n2", "cooperates_with", 3.0, "Netzwerkliste 2024"),
                            ("n2", "n3", "tandem_partner", 0.5, "Netzwerkliste 2024"),
                            ("n3", "n1", "member_of", 1.0, "Netzwerkliste 2024")}
    # and back: msonet's ties as a networkx edge list. msonet's ties carry their provenance as "source",
    # so networkx needs other names for the ends.
    G = store.to_networkx()
    back = nx.to_pandas_edgelist(G, source="von", target="nach")
    assert sorted(map(tuple, back[["von", "nach", "type", "weight"]].values.tolist())) == [
        ("n1", "n2", "cooperates_with", 3.0), ("n2", "n3", "tandem_partner", 0.5), ("n3", "n1", "member_of", 1.0)]


def test_weight_must_be_a_number(tmp_path):
    nodes = tmp_path / "knoten.csv"
    nodes.write_text(GEPHI_NODES, encoding="utf-8")
    edges = tmp_path / "kanten.csv"
    edges.write_text("source;target;type;weight\nn1;n2;kooperiert mit;2,5\nn2;n3;kooperiert mit;viel\n",
                     encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store")
    with pytest.raises(ValidationError) as info:
        load_files([nodes, edges], store)
    assert "kanten.csv, Zeile 3, Spalte „weight“: Wert „viel“" in str(info.value)
    assert store.to_networkx().number_of_nodes() == 0  # nothing written when a row is wrong


def test_gexf_export_carries_positions_colours_and_loads_in_networkx(tmp_path):
    nodes = tmp_path / "knoten.csv"
    nodes.write_text(GEPHI_NODES, encoding="utf-8")
    edges = tmp_path / "kanten.csv"
    edges.write_text("source,target,type,weight\nn1,n2,kooperiert mit,2\nn3,n1,ist Mitglied von,\n",
                     encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store")
    assert not load_files([nodes, edges], store).problems
    positions = {"n1": (10.0, 20.0), "n2": (-5.5, 0.0), "n3": (0.0, -30.0)}
    path = export_gexf(store, tmp_path / "netz.gexf", positions=positions)
    text = path.read_text(encoding="utf-8")
    assert "<gexf" in text and 'xmlns:viz=' in text
    H = nx.read_gexf(path)
    assert {n: H.nodes[n]["label"] for n in H} == {"n1": "Brückenbauer e.V.", "n2": "Kita Regenbogen",
                                                   "n3": "Frauenforum Morgenrot"}
    assert H.nodes["n1"]["viz"]["position"]["x"] == 10.0 and H.nodes["n1"]["viz"]["position"]["y"] == -20.0
    from msonet.graph.render import ORG_TYPE_COLOURS

    mso = ORG_TYPE_COLOURS["mso"].lstrip("#")
    assert H.nodes["n1"]["viz"]["color"]["r"] == int(mso[:2], 16)
    ties = {(u, v, d["relation"], d.get("weight")) for u, v, d in H.edges(data=True)}
    assert ties == {("n1", "n2", "cooperates_with", 2.0), ("n3", "n1", "member_of", None)}
    assert {d["label"] for _, _, d in H.edges(data=True)} == {"kooperiert mit", "ist Mitglied von"}


def test_gexf_default_positions_follow_the_app_layout(tmp_path):
    from msonet.graph.render import layout_positions
    from msonet.loaders.export import gexf_positions
    from tests._loaders import GOOD_FILES

    store = EmbeddedStore(tmp_path / "store")
    load_files(GOOD_FILES, store)
    G = store.to_networkx()
    drawn = [n for n, d in G.nodes(data=True) if d.get("kind") in ("organisation", "event")]
    screen = layout_positions(G.subgraph(drawn), seed=42)
    assert gexf_positions(G) == {n: (x, -y) for n, (x, y) in screen.items()}
    H = nx.read_gexf(export_gexf(store, tmp_path / "alles.gexf"))
    assert set(H) == set(G) and H.number_of_edges() == G.number_of_edges()
    first = drawn[0]
    assert H.nodes[first]["viz"]["position"]["x"] == pytest.approx(screen[first][0])


def test_pandas_is_what_networkx_uses():
    assert pd.__version__  # the round trip above writes with pandas, as networkx users do
