"""Page tests of the Streamlit app with streamlit.testing (AppTest) against a throw-away store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _uidata import TODAY, XSS_NAME, small_batch

from msonet.graph.store import EmbeddedStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["ui/overview.py", "ui/network.py", "ui/isolation.py", "ui/tandem.py", "ui/meeting.py", "ui/coverage.py",
         "ui/data.py"]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A store with the small test dataset; the app finds it through MSONET_HOME."""
    folder = tmp_path / "store"
    EmbeddedStore(folder).upsert(small_batch())
    for var in ("NEO4J_URI", "FALKORDB_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MSONET_HOME", str(folder))
    monkeypatch.setenv("MSONET_TODAY", TODAY)
    return folder


@pytest.fixture
def empty_home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "empty"
    for var in ("NEO4J_URI", "FALKORDB_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MSONET_HOME", str(folder))
    monkeypatch.setenv("MSONET_TODAY", TODAY)
    return folder


def open_page(page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != PAGES[0]:
        at.switch_page(page)
        at.run()
    return at


def assert_clean(at) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def markdown_texts(at) -> list[str]:
    return [m.value for m in (*at.markdown, *at.caption, *at.title, *at.subheader, *at.info, *at.warning,
                              *at.success)]


def shown_table(element):
    """A static table (``common.reading_table``) as a data frame of the texts shown (escapes removed)."""
    frame = element.value
    frame = frame.map(lambda v: str(v).replace("\\", ""))
    frame.columns = [str(c).replace("\\", "") for c in frame.columns]
    return frame


def network_html(at) -> str:
    """The arguments of the network view (nodes, edges, options as JSON)."""
    views = at.get("component_instance")
    assert len(views) == 1
    return views[0].proto.json_args


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_error(home, page):
    at = open_page(page)
    assert_clean(at)
    assert at.title[0].value
    # User data never reaches Markdown unescaped (no HTML, no images, no links).
    assert not any("<img" in text for text in markdown_texts(at))


def test_navigation_titles_are_german(home):
    at = open_page("ui/overview.py")
    titles = [at.title[0].value]
    for page in PAGES[1:]:
        at.switch_page(page)
        at.run()
        titles.append(at.title[0].value)
    assert titles == ["Übersicht", "Netzwerk", "Isolierte Organisationen", "Tandem-Suche", "Vernetzungstreffen",
                      "Versorgungskarte", "Daten"]


def test_overview_key_figures(home):
    at = open_page("ui/overview.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Organisationen"] == "12"
    assert metrics["davon MSO"] == "5"
    assert metrics["Veranstaltungen"] == "2"
    assert metrics["Beziehungen"] == "13"
    sources = at.dataframe[-1].value
    assert list(sources["Quelle"]) == ["testdaten.csv"]
    assert any("15.01.2025" in c.value.replace("\\", "") for c in at.caption)  # German date


def test_overview_empty_state_offers_demo_data(empty_home):
    at = open_page("ui/overview.py")
    assert_clean(at)
    assert "noch leer" in at.info[0].value
    assert at.button(key="load_demo").label == "Demodaten laden"


@pytest.mark.slow
def test_demo_data_smoke(empty_home):
    """Load the demo through the button, then every page must work with ~4,900 organisations."""
    at = open_page("ui/overview.py")
    at.button(key="load_demo").click()
    at.run()
    assert_clean(at)
    assert at.success[0].value == "Die Demodaten wurden geladen."
    organisations = int(next(m.value for m in at.metric if m.label == "Organisationen").replace(".", ""))
    assert organisations > 4000
    at.switch_page("ui/network.py")
    at.run()
    assert_clean(at)
    # Too many nodes: the district view with one node per district.
    assert "zu viele, um sie einzeln zu zeichnen" in at.info[0].value
    assert at.selectbox(key="net_open_district").value is None
    at.selectbox(key="net_open_district").set_value("05315")
    at.run()
    assert_clean(at)
    assert not at.info  # the opened district is drawn node by node
    for page in PAGES[2:]:
        at.switch_page(page)
        at.run()
        assert_clean(at)


def _node_count(at) -> int:
    caption = next(c.value for c in at.caption if "Knoten" in c.value)
    return int(caption.split(" Knoten")[0].replace(".", ""))


def test_network_filters_change_the_graph(home):
    at = open_page("ui/network.py")
    assert _node_count(at) == 14
    view = json.loads(network_html(at))
    # Tooltips are HTML built from escaped values; labels are drawn on the canvas as text.
    titles = " ".join(n.get("title") or "" for n in view["nodes"])
    assert "<img src=x" not in titles and "&lt;img src=x onerror=alert(1)&gt;" in titles
    at.multiselect(key="net_types").set_value(["mso"])
    at.run()
    assert_clean(at)
    assert _node_count(at) == 7  # five MSOs and the two events they attended
    at.checkbox(key="net_events").uncheck()
    at.run()
    assert _node_count(at) == 5
    at.multiselect(key="net_districts").set_value(["05315"])
    at.run()
    assert _node_count(at) == 3


def test_network_key_figures_speak_plain_german(home):
    at = open_page("ui/network.py")
    at.toggle(key="net_figures").set_value(True)
    at.run()
    assert_clean(at)
    assert [m.label for m in at.metric] == ["Organisationen", "Verbundene Paare", "Getrennte Teilnetze",
                                           "Ohne jede Verbindung"]
    brokers, groups = (t.value for t in at.dataframe[-2:])
    shares = brokers["Anteil kürzester Wege über sie"].tolist()
    assert shares and all(re.fullmatch(r"\d+(,\d)?\u202f%", v) for v in shares), shares  # 19,8 %, not 0.1978
    assert list(groups.columns) == ["Organisationen", "häufigster Kreis", "häufigster Typ", "zum Beispiel"]
    assert any("Gruppen" in t for t in markdown_texts(at))


def test_network_time_span_and_relation_filter(home):
    at = open_page("ui/network.py")
    at.slider(key="net_years").set_value((2012, 2020))
    at.run()
    assert_clean(at)
    assert "ev-treffen-2024" not in network_html(at)
    at.slider(key="net_years").set_value((2012, 2024))
    at.multiselect(key="net_relations").set_value(["tandem_partner"])
    at.checkbox(key="net_connected").check()
    at.run()
    assert _node_count(at) == 4


def test_network_ego_view_and_details_panel(home):
    at = open_page("ui/network.py")
    assert at.toggle(key="net_ego").disabled  # nothing chosen yet
    at.selectbox(key="net_selected").set_value("org-ronahi")
    at.run()
    at.toggle(key="net_ego").set_value(True)
    at.run()
    assert_clean(at)
    assert _node_count(at) == 4  # Ronahi, IA Bochum, Lebenshilfe, the conference
    at.slider(key="net_hops").set_value(2)
    at.run()
    assert _node_count(at) == 5  # plus IBZ through the shared conference
    assert any("Ronahi e.V. Bochum" in s.value.replace("\\", "") for s in at.subheader)
    # the panel lists ties, events and funding (wrapping lines, no cut table columns)
    texts = [m.value.replace("\\", "") for m in at.markdown]
    ties = next(t for t in texts if "advised_by" not in t and "Integrationsagentur AWO Bochum" in t)
    assert re.findall(r"^- \*\*(.+?)\*\*", ties, re.M) == ["Integrationsagentur AWO Bochum", "Lebenshilfe Bochum"]
    funding = next(t for t in texts if t.startswith("- **MSO-Richtlinie NRW**"))
    assert "(Einzelprojektförderung" in funding


def test_network_large_views_are_drawn_by_district_and_open_one_district(home, monkeypatch):
    monkeypatch.setenv("MSONET_MAX_NODES", "5")  # the 14 nodes of the test data count as "large"
    at = open_page("ui/network.py")
    assert_clean(at)
    assert any("zu viele, um sie einzeln zu zeichnen (Grenze 5)" in i.value for i in at.info)
    html = network_html(at)
    assert "district:05911" in html and "org-ronahi" not in html
    choices = at.selectbox(key="net_open_district")
    assert choices.options == ["Köln (7 Knoten)", "Bielefeld (4 Knoten)", "Bochum (3 Knoten)"]
    choices.set_value("05911")
    at.run()
    assert_clean(at)
    assert not at.info and not at.warning and _node_count(at) == 3  # Bochum: drawn node by node
    assert "org-ronahi" in network_html(at)
    at.selectbox(key="net_open_district").set_value("05315")  # Köln: still more than five
    at.run()
    assert_clean(at)
    assert any(w.value.startswith("Köln allein hat") and "mehr als 5" in w.value for w in at.warning)


def test_network_downloads(home):
    at = open_page("ui/network.py")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Ansicht als HTML herunterladen", "Knoten als CSV", "Verbindungen als CSV",
                      "Ansicht als GEXF (Gephi)"]
    import networkx as nx

    from msonet.ui.common import graph
    from msonet.ui.network import view_gexf

    G = graph()
    data = view_gexf(G, "drawn", (), None, False, 1, None, 1000)
    path = home / "ansicht.gexf"
    path.write_bytes(data)
    H = nx.read_gexf(path)
    assert set(H) == {n for n, d in G.nodes(data=True) if d.get("kind") in ("organisation", "event")}
    assert all("position" in H.nodes[n]["viz"] for n in H)


def test_isolation_filters(home):
    at = open_page("ui/isolation.py")
    found = int(at.metric[0].value)
    assert found == 7  # no_recent_event only in Köln, where the 2024 meeting took place
    rows = at.dataframe[0].value
    rubicon = rows[rows["Name"] == "Rubicon e.V."].iloc[0]
    assert "Keine Verbindungen" in rubicon["Gründe"]
    at.selectbox(key="iso_district").set_value("05315")
    at.run()
    assert_clean(at)
    filtered = at.dataframe[0].value
    assert 0 < len(filtered) < found and set(filtered["Ort"]) == {"Köln"}  # "Ort (Kreis)", Kreis only if other
    at.selectbox(key="iso_district").set_value("05911")
    at.run()
    assert_clean(at)
    # nobody in Bochum is isolated: all are tied, and no event took place there in the window
    assert at.metric[0].value == "0" and at.success
    at.selectbox(key="iso_district").set_value(None)
    at.multiselect(key="iso_reasons").set_value(["no_ties"])
    at.run()
    assert_clean(at)
    only = at.dataframe[0].value
    assert at.metric[0].value == str(len(only)) and "Rubicon e.V." in set(only["Name"])
    assert only["Gründe"].str.contains("Keine Verbindungen").all()
    # choosing a row shows its whole explanation under the table
    assert any("Eine Zeile auswählen" in c.value for c in at.caption)


def test_tandem_proposals_and_cohort(home):
    at = open_page("ui/tandem.py")
    at.selectbox(key="tandem_mso").set_value("org-agisra")
    at.run()
    assert_clean(at)
    table = shown_table(at.table[0])
    assert len(table) >= 1
    assert list(table.columns) == ["Rang", "Vorschlag", "Gründe"]
    names = [re.match(r"\*\*(.+?)\*\*", v).group(1) for v in table["Vorschlag"]]
    # agisra is already tied to the KI Köln and works in women_girls: partners are outside the migration field.
    assert names and "Kommunales Integrationszentrum Köln" not in names
    assert table.iloc[0]["Rang"] == "1"
    # distance with its basis and the points, German decimals
    assert all(re.search(r" · \d+,\d km \(nach (Gemeinde|Postleitzahl|Adresse)\) · \d,\d\d Punkte$", v)
               for v in table["Vorschlag"]), list(table["Vorschlag"])
    parts = shown_table(at.table[1])  # the parts of the score, below the reasons
    assert list(parts.columns) == ["Rang", "Name", "Punkte", "Nähe", "Gemeinsame Kontakte", "Aktivität",
                                   "Handlungsfelder", "Offenheit"] and list(parts["Name"]) == names
    at.checkbox(key="tandem_umbrella").check()
    at.checkbox(key="tandem_services").check()
    at.run()
    assert_clean(at)
    assert len(at.table[0].value) >= len(table)  # asking for more kinds never removes a proposal
    at.toggle(key="cohort_run").set_value(True)
    at.run()
    assert_clean(at)
    cohort = shown_table(at.table[-1])
    assert list(cohort.columns) == ["Nr.", "Tandem", "Gründe"]
    partners = [re.search(r" und \*\*(.+?)\*\*", v).group(1) for v in cohort["Tandem"]]
    assert len(set(partners)) == len(cohort)  # each partner at most once


def test_meeting_plan_and_attendance(home):
    at = open_page("ui/meeting.py")
    metrics = {m.label: m.value for m in at.metric}
    # only organisations that form plausible new pairs are invited (9 of 12); the rest stays free and is said
    assert metrics["Eingeladen"] == "9" and metrics["Zielwert"] == "14"
    assert any("Plätze besetzt" in c.value.replace("\\", "") for c in at.caption)
    # an empty radius shows what applies: no limit for all of NRW, the default around a region's centre
    assert at.number_input(key="meet_radius").proto.placeholder == "ohne Grenze"
    at.selectbox(key="meet_district").set_value("05315")
    at.run()
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["Eingeladen"] == "4"  # 2 isolated MSOs x 2 partners
    assert at.number_input(key="meet_radius").proto.placeholder == "25 km"
    at.text_input(key="meet_venue").input("Kölle")
    at.run()
    assert "Ort „Kölle“ ist in NRW nicht bekannt" in at.error[0].value and "Köln" in at.error[0].value
    at.text_input(key="meet_venue").input("50667")
    at.run()
    assert_clean(at)
    assert any("Veranstaltungsort: 50667 Köln" in c.value.replace("\\", "") for c in at.caption)
    # Record who came to the 2019 conference.
    at.selectbox(key="att_event").set_value("ev-fachtag-2019")
    at.multiselect(key="att_orgs").set_value(["org-jugend", "org-ki-bielefeld"])
    at.run()
    at.button(key="att_save").click()
    at.run()
    assert_clean(at)
    assert "Teilnahme von 2 Organisationen gespeichert" in at.success[0].value
    G = EmbeddedStore(home).to_networkx()
    assert G.has_edge("org-jugend", "ev-fachtag-2019", "attended_event|org-jugend|ev-fachtag-2019")


def test_meeting_new_event(home):
    at = open_page("ui/meeting.py")
    at.radio(key="att_mode").set_value("Neue Veranstaltung anlegen")
    at.run()
    at.text_input(key="att_name").input("Vernetzungstreffen Bochum")
    at.selectbox(key="att_place").set_value("05911000")
    at.multiselect(key="att_orgs").set_value(["org-ronahi"])
    at.run()
    at.button(key="att_save").click()
    at.run()
    assert_clean(at)
    G = EmbeddedStore(home).to_networkx()
    events = {n: d for n, d in G.nodes(data=True) if d.get("kind") == "event" and d["city"] == "Bochum"}
    assert len(events) == 1
    (event_id, event), = events.items()
    assert event["name"] == "Vernetzungstreffen Bochum" and event["district"] == "05911"
    assert G.has_edge("org-ronahi", event_id)


def test_coverage_metrics(home):
    at = open_page("ui/coverage.py")
    table = at.dataframe[0].value
    assert len(table) == 53
    koeln = table[table["Kreis"] == "Köln"].iloc[0]
    assert koeln["MSO"] == 3 and koeln["KI"] == 1
    at.selectbox(key="cov_metric").set_value("white_spots")
    at.run()
    assert_clean(at)
    at.selectbox(key="cov_sector").set_value("lgbtiq")
    at.run()
    spots = {m.label: m.value for m in at.metric}["Weiße Flecken"]
    assert spots == "52"  # only Köln has an LSBTIQ* actor
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    heading = "Akteure im Handlungsfeld LSBTIQ*"  # the figure and the field, not just "Wert"
    assert heading in table.columns and (table[heading] == 0).sum() == 52
    assert str(table["MSO"].dtype) == "Int64"  # counts stay whole numbers (no "11.0")
    from msonet.ui.coverage import table_rows, value_heading

    assert value_heading("msos_per_100k", None) == "MSO je 100.000 Einwohner*innen"
    rows = table_rows([{"name": "A", "value": 1.5}, {"name": "B", "value": None}], "share_regular", None)
    assert [r["Kreis"] for r in rows] == ["A", "B"] and "Anteil Regelförderung an der MSO-Förderung (%)" in rows[0]


def test_data_upload_shows_report_before_loading(home):
    at = open_page("ui/data.py")
    csv = "Name;Typ;Ort\nNeue MSO;mso;Köln\nKaputt;gibtsnicht;Köln\n".encode()
    at.file_uploader[0].set_value(("neu.csv", csv, "text/csv"))
    at.run()
    report = at.dataframe[-1].value
    assert list(report.columns) == ["Datei", "Zeile", "Spalte", "Wert", "Was zu tun ist"]
    files = next(d.value for d in at.dataframe if "Art" in d.value.columns)  # after the column reference
    assert list(files["Art"]) == ["Organisationen"]  # the kind of file, in German
    assert (report.iloc[0]["Datei"], report.iloc[0]["Zeile"], report.iloc[0]["Wert"]) == ("neu.csv", 3, "gibtsnicht")
    assert at.button(key="upload_load").disabled
    assert EmbeddedStore(home).counts()["organisations"] == 12  # nothing written yet
    at.checkbox(key="upload_only_valid").check()
    at.run()
    at.button(key="upload_load").click()
    at.run()
    assert "Geladen: 1 Organisationen" in at.success[-1].value
    assert EmbeddedStore(home).counts()["organisations"] == 13


def test_every_file_kind_has_a_german_name():
    from msonet.loaders.files import KINDS
    from msonet.ui.data import FILE_KINDS

    assert set(FILE_KINDS) == set(KINDS)


def test_data_export_leaves_out_personal_data_unless_asked(home):
    import io
    import zipfile

    from msonet.ui.data import export_bytes

    G = EmbeddedStore(home).to_networkx()
    archive = zipfile.ZipFile(io.BytesIO(export_bytes(G, "csv", False)))
    assert sorted(archive.namelist()) == ["events.csv", "funding.csv", "organisations.csv", "relations.csv"]
    assert b"erika@example.org" not in archive.read("organisations.csv")
    assert b"erika@example.org" in zipfile.ZipFile(io.BytesIO(export_bytes(G, "csv", True))).read(
        "organisations.csv")
    assert b"<graphml" in export_bytes(G, "graphml", False)
    at = open_page("ui/data.py")
    at.radio(key="export_fmt").set_value("json")
    at.run()
    assert at.get("download_button")[-1].label == "JSON (eine Datei) herunterladen"


def test_csv_downloads_neutralise_formulas():
    import csv

    from msonet.ui.common import csv_bytes

    data = csv_bytes([{"Name": "=HYPERLINK(\"x\")", "Ort": "-1+1", "Zahl": -3}]).decode("utf-8-sig")
    header, row = list(csv.reader(data.splitlines(), delimiter=";"))
    assert header == ["Name", "Ort", "Zahl"]
    assert row == ["'=HYPERLINK(\"x\")", "'-1+1", "-3"]  # text is neutralised, numbers stay numbers


def test_store_errors_show_a_german_message(tmp_path, monkeypatch):
    folder = tmp_path / "kaputt"
    folder.mkdir()
    (folder / "graph.json").write_text("{kein json", encoding="utf-8")
    monkeypatch.setenv("MSONET_HOME", str(folder))
    at = open_page("ui/overview.py")
    assert not at.exception
    assert "kann nicht gelesen werden" in at.error[0].value


def test_xss_name_is_text_everywhere(home):
    at = open_page("ui/meeting.py")
    invitees = shown_table(at.table[0])
    assert any(f"**{XSS_NAME}**" in v for v in invitees["Organisation"])  # escaped: shown as plain text
    assert not any(re.search(r"(?<!\\)<", str(v)) for v in at.table[0].value["Organisation"])  # every "<" escaped
    assert not any("<img" in text for text in markdown_texts(at))


def test_isolation_table_is_capped_but_csv_holds_every_row(home, monkeypatch):
    monkeypatch.setenv("MSONET_MAX_TABLE_ROWS", "3")
    at = open_page("ui/isolation.py")
    assert_clean(at)
    found = int(at.metric[0].value)
    assert found > 3 and len(at.dataframe[0].value) == 3
    assert any(f"ersten 3 von {found}" in c.value for c in at.caption)


def test_size_settings_that_are_not_positive_numbers_fall_back_to_the_defaults(home, monkeypatch):
    from msonet.graph.settings import MAX_NODES, Settings

    for bad in ("abc", "0", "-5", "1.5"):
        assert Settings.from_env({"MSONET_MAX_NODES": bad}).max_nodes == MAX_NODES
    assert Settings.from_env({"MSONET_MAX_NODES": " 12 "}).max_nodes == 12
    monkeypatch.setenv("MSONET_MAX_TABLE_ROWS", "viele")
    monkeypatch.setenv("MSONET_MAX_NODES", "0")
    at = open_page("ui/isolation.py")
    assert_clean(at)
    assert len(at.dataframe[0].value) == int(at.metric[0].value)  # default 1000 rows: all of the few shown
    at = open_page("ui/network.py")
    assert_clean(at)
    assert _node_count(at) == 14  # default limit: drawn node by node


def test_search_options_match_words_umlauts_and_keep_the_selection():
    from msonet.ui.common import search_options

    options = {"a": "Kölner Frauenverein – Köln (MSO)", "b": "Bochumer Kulturverein – Bochum (MSO)",
               "c": "Verein Köln-Ost – Köln (Regeldienst)", "d": "Straßenkinder e.V. – Essen (Regeldienst)"}
    assert search_options(options, "") == ({}, 0)
    shown, total = search_options(options, "koeln verein")
    assert total == 2 and list(shown) == ["a", "c"]
    shown, _ = search_options(options, "verein")  # labels starting with the query first, then name order
    assert list(shown) == ["c", "a", "b"]
    assert list(search_options(options, "STRASSEN")[0]) == ["d"]
    shown, total = search_options(options, "bochum", keep=["d", "gone"])
    assert list(shown) == ["d", "b"] and total == 1
    shown, total = search_options(options, "e", limit=2)
    assert total == 4 and len(shown) == 2


def test_large_choice_lists_become_a_search_field(home, monkeypatch):
    """Above MSONET_MAX_OPTIONS choices, pages ask for a search first and list only the hits."""
    monkeypatch.setenv("MSONET_MAX_OPTIONS", "3")
    at = open_page("ui/network.py")
    assert_clean(at)
    assert at.selectbox(key="net_selected").options == []
    at.text_input(key="net_selected__query").input("ronahi")
    at.run()
    assert [o for o in at.selectbox(key="net_selected").options] == ["Ronahi e.V. Bochum – Bochum (MSO)"]
    assert "1 Treffer." in [c.value for c in at.caption]
    at.selectbox(key="net_selected").set_value("org-ronahi")
    at.run()
    at.text_input(key="net_selected__query").input("bielefeld")  # a new search keeps the chosen one
    at.run()
    assert_clean(at)
    assert at.selectbox(key="net_selected").value == "org-ronahi"
    assert len(at.selectbox(key="net_selected").options) == 4  # Ronahi plus three hits
    assert any("Ronahi e.V. Bochum" in s.value.replace("\\", "") for s in at.subheader)  # details panel

    at = open_page("ui/meeting.py")
    at.selectbox(key="att_event").set_value("ev-fachtag-2019")
    at.text_input(key="att_orgs__query").input("bielefeld")
    at.run()
    at.multiselect(key="att_orgs").set_value(["org-jugend"])
    at.run()
    at.text_input(key="att_orgs__query").input("kommunales bielefeld")
    at.run()
    at.multiselect(key="att_orgs").set_value(["org-jugend", "org-ki-bielefeld"])
    at.run()
    assert at.multiselect(key="att_orgs").value == ["org-jugend", "org-ki-bielefeld"]
    at.button(key="att_save").click()
    at.run()
    assert_clean(at)
    assert "Teilnahme von 2 Organisationen gespeichert" in at.success[0].value

    at = open_page("ui/tandem.py")
    at.text_input(key="tandem_mso__query").input("agisra")
    at.run()
    at.selectbox(key="tandem_mso").set_value("org-agisra")
    at.run()
    assert_clean(at)
    assert len(at.table[0].value) >= 1


def test_data_page_reference_kind_choice_and_examples(home):
    """The column reference is in the app, the file kind can be chosen, the example files are offered."""
    from msonet.ui.data import EXAMPLES, column_reference, value_reference

    at = open_page("ui/data.py")
    assert not any("docs/columns.md" in c.value for c in at.caption)
    assert "Spaltenübersicht" in at.expander[0].label
    assert {b.proto.label for b in at.get("download_button")} >= {p.name for p in EXAMPLES.glob("*.csv")}
    relations = {r["Spalte"]: r for r in column_reference("relations")}
    assert "target" in relations["target_id"]["andere Überschriften"] and relations["type"]["Pflicht"] == "ja"
    assert any(r["Schlüssel"] == "child_youth" and "Jugendarbeit" in r["Beschreibung"]
               for r in value_reference("sector"))
    # With a "Datum" column the headings look like events; the kind the user chooses wins.
    upload = ("liste.csv", "Name;Typ;Ort;Datum\nNeue MSO;MSO;Köln;2024-01-01\n".encode(), "text/csv")
    at.file_uploader[0].set_value(upload)
    at.run()
    files = next(d.value for d in at.dataframe if "Art" in d.value.columns)
    assert list(files["Art"]) == ["Veranstaltungen"] and at.error  # "MSO" is no event type
    at.selectbox(key="upload_kind").set_value("organisations")
    at.run()
    files = next(d.value for d in at.dataframe if "Art" in d.value.columns)
    assert list(files["Art"]) == ["Organisationen"] and not at.error


def test_a_clicked_node_chooses_an_organisation_or_opens_a_district(home):
    """What a click in the network view means (ui.network.clicked, used by the view's on_change)."""
    from msonet.ui.common import graph
    from msonet.ui.network import clicked

    at = open_page("ui/network.py")
    assert_clean(at)
    G = graph()
    assert clicked(G, {"id": "org-ronahi", "n": 1}) == ("organisation", "org-ronahi")
    assert clicked(G, {"id": "district:05911", "n": 2}) == ("district", "05911")
    assert clicked(G, {"id": "ev-fachtag-2019", "n": 3}) is None  # events have no details panel
    assert clicked(G, {"id": "gibt-es-nicht", "n": 4}) is None
    assert clicked(G, None) is None and clicked(G, "org-ronahi") is None
    view = json.loads(network_html(at))
    assert view["selected"] is None and {"nodes", "edges", "options", "legend", "view_key"} <= set(view)
    at.selectbox(key="net_selected").set_value("org-ronahi")
    at.run()
    chosen = json.loads(network_html(at))
    # Choosing keeps the drawing (same key: the view only outlines and centres the node).
    assert chosen["selected"] == "org-ronahi" and chosen["view_key"] == view["view_key"]
