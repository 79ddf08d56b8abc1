"""The example files the README's Schnellstart names load as they are, with exactly their records."""

from __future__ import annotations

from pathlib import Path

from msonet.graph.store import EmbeddedStore
from msonet.loaders.load import load_files

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "beispiele"
README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_quick_start_names_the_shipped_examples():
    for name in ("organisationen.csv", "beziehungen.csv", "veranstaltungen-und-foerderungen.xlsx"):
        assert (EXAMPLES / name).is_file()
        assert f"data/beispiele/{name}" in README


def test_examples_load_as_they_are(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    report = load_files([EXAMPLES / "organisationen.csv", EXAMPLES / "beziehungen.csv",
                         EXAMPLES / "veranstaltungen-und-foerderungen.xlsx", EXAMPLES / "kanten-gephi.csv"], store)
    assert not report.problems and not report.warnings, report.describe()
    G = store.to_networkx()
    orgs = {d["name"]: d for _, d in G.nodes(data=True) if d.get("kind") == "organisation"}
    assert len(orgs) == 6 and all(d["synthetic"] for d in orgs.values())
    assert list(orgs["Beispielverein Brückenbauer e.V."]["sectors"]) == ["child_youth", "education"]  # „Jugendarbeit“
    name = {n: d.get("name") for n, d in G.nodes(data=True)}
    ties = {(name[u], name[v], d["type"], d.get("weight")) for u, v, d in G.edges(data=True)
            if d["type"] in ("cooperates_with", "tandem_partner", "advised_by")}
    assert len(ties) == 6
    assert ("Beispielverein Brückenbauer e.V.", "Beispiel-Integrationsagentur Dortmund", "advised_by", 3.0) in ties
    assert sum(1 for _, d in G.nodes(data=True) if d.get("kind") == "event") == 2
    assert sum(1 for *_, t in G.edges(data="type") if t == "funded_by") == 2
    assert sum(1 for *_, t in G.edges(data="type") if t in ("attended_event", "organised_event")) == 4
