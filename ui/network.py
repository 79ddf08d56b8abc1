"""Page „Netzwerk“: the pyvis graph with filters, search, ego network, district view and details panel."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from msonet.graph.figures import facets
from msonet.graph.formats import fmt_date, fmt_percent
from msonet.graph.render import (
    aggregate_selection,
    build_network,
    district_selection,
    ego_selection,
    select_view,
    view_from_selection,
    view_tables,
)
from msonet.graph.vocabulary import FUNDING_KINDS, label
from msonet.ui import auth, common

__all__ = ["render", "facets", "details", "table_csv"]


@st.cache_data(show_spinner=False, max_entries=4)
def _facets(version: str) -> dict[str, Any]:
    return facets(common.graph())


def _selection(G, filters: tuple, selected: str | None, ego: bool, hops: int, open_district: str | None,
               limit: int):
    """(nodes, ties, total nodes before a district is opened) for these choices.

    Works on lists of the store graph's nodes and ties: the whole network at 100,000 organisations is a
    million ties, and copying them into a graph took longer than everything else on the page.
    """
    nodes, ties = select_view(G, **dict(filters))
    if selected and ego:
        nodes, ties = ego_selection(G, nodes, ties, selected, hops)
    total = len(nodes)
    if open_district and total > limit:
        nodes, ties = district_selection(G, nodes, ties, open_district)
    return nodes, ties, total


def table_csv(G, names: dict[str, str], which: str, filters: tuple, selected: str | None, ego: bool, hops: int,
              open_district: str | None, limit: int) -> bytes:
    """CSV of the nodes (``which="nodes"``) or ties of the view (pure; runs when a download is clicked)."""
    nodes, ties, _total = _selection(G, filters, selected, ego, hops, open_district, limit)
    node_rows, edge_rows = view_tables(view_from_selection(G, nodes, ties), names)
    return common.csv_bytes(node_rows if which == "nodes" else edge_rows)


def view_gexf(G, which_positions: str, filters: tuple, selected: str | None, ego: bool, hops: int,
              open_district: str | None, limit: int) -> bytes:
    """The view as GEXF for Gephi, with the positions and colours of the drawing (runs on click)."""
    import tempfile

    from msonet.graph.render import layout_positions
    from msonet.loaders.export import export_gexf

    nodes, ties, _total = _selection(G, filters, selected, ego, hops, open_district, limit)
    view = view_from_selection(G, nodes, ties)
    positions = layout_positions(view) if which_positions == "drawn" else None
    with tempfile.TemporaryDirectory(prefix="msonet-gexf-") as folder:
        return export_gexf(view, Path(folder) / "ansicht.gexf", positions=positions).read_bytes()


@st.cache_data(show_spinner="Zeichne das Netzwerk …", max_entries=16)
def _draw(version: str, filters: tuple, selected: str | None, ego: bool, hops: int,
          open_district: str | None, limit: int) -> dict[str, Any]:
    G, names = common.graph(), common.district_names()
    nodes, ties, total = _selection(G, filters, selected, ego, hops, open_district, limit)
    per_district = Counter(G.nodes[n].get("district") or "?" for n in nodes) if not open_district else {}
    if len(nodes) > limit:  # one node per district, counted straight from the lists
        # the chosen organisation's district stands out and is centred
        home = f"district:{G.nodes[selected].get('district') or '?'}" if selected in G else None
        drawn = build_network(aggregate_selection(G, nodes, ties, names), selected=home, district_names=names)
    else:
        drawn = build_network(view_from_selection(G, nodes, ties), selected=selected, district_names=names,
                              aggregate_threshold=limit)
    return {"html": drawn.html, "data": drawn.data, "nodes": drawn.nodes, "edges": drawn.edges,
            "aggregated": drawn.aggregated, "physics": drawn.physics, "total": total, "view_nodes": len(nodes),
            "view_edges": len(ties),
            "per_district": dict(per_district), "unplaced": drawn.unplaced}


def _sidebar_filters(f: dict[str, Any]) -> tuple:
    names = common.district_names()
    sb = st.sidebar
    sb.header("Filter")
    org_types = sb.multiselect("Organisationstyp", f["org_types"], format_func=lambda k: label("org_type", k),
                               placeholder="alle Typen", key="net_types")
    sectors = sb.multiselect("Handlungsfeld", f["sectors"], format_func=lambda k: label("sector", k),
                             placeholder="alle Handlungsfelder", key="net_sectors")
    bezirke = sb.multiselect("Regierungsbezirk", f["bezirke"], placeholder="alle Regierungsbezirke", key="net_rb")
    district_keys = [k for k, rb in f["districts"] if not bezirke or rb in bezirke]
    district_keys.sort(key=lambda k: names.get(k, k))
    districts = sb.multiselect("Kreis / kreisfreie Stadt", district_keys, format_func=lambda k: names.get(k, k),
                               placeholder="alle Kreise", key="net_districts")
    city_names = sorted({c for c, dk in f["cities"] if (not districts or dk in districts)
                         and (not bezirke or dk in district_keys)})
    cities = sb.multiselect("Ort", city_names, placeholder="alle Orte", key="net_cities")
    relations = sb.multiselect("Beziehungstyp", f["relations"], format_func=lambda k: label("relation_type", k),
                               placeholder="alle Beziehungen", key="net_relations")
    year_from = year_to = None
    if f["years"] and f["years"][0] < f["years"][1]:
        low, high = f["years"]
        span = sb.slider("Zeitraum (Veranstaltungen; Beziehungen, die bis Ende bestanden)", low, high, (low, high),
                         key="net_years")
        if span != (low, high):
            year_from, year_to = span
    include_events = sb.checkbox("Veranstaltungen zeigen", value=True, key="net_events")
    only_connected = sb.checkbox("Nur Organisationen mit Verbindungen", value=False, key="net_connected")
    name = sb.text_input("Name enthält", key="net_name", placeholder="z.B. Integrationszentrum")
    return (("org_types", tuple(org_types)), ("sectors", tuple(sectors)), ("regierungsbezirke", tuple(bezirke)),
            ("districts", tuple(districts)), ("cities", tuple(cities)), ("relation_types", tuple(relations)),
            ("year_from", year_from), ("year_to", year_to), ("include_events", include_events),
            ("only_connected", only_connected), ("name_contains", name.strip() or None))


def details(G, org_id: str, district_names: dict[str, str]) -> dict[str, Any]:
    """Everything the details panel shows about one organisation (pure, for tests)."""
    from msonet.graph.lookup import organisation_ties

    d = G.nodes[org_id]
    ties, events = [], []
    for row in organisation_ties(G, org_id):
        rels = ", ".join(r["label"] + (f" (seit {fmt_date(r['since'])})" if r.get("since") else "")
                         for r in row["relations"])
        if row["kind"] == "organisation":
            ties.append({"Organisation": row["name"], "Typ": row.get("type_label") or "", "Ort": row.get("city") or "",
                         "Beziehung": rels})
        elif row["kind"] == "event":
            events.append({"Datum": row.get("date") or "", "Veranstaltung": row["name"], "Ort": row.get("city") or "",
                           "Rolle": rels})
    funding = []
    for _, programme, f in G.out_edges(org_id, data=True):
        if f.get("type") != "funded_by":
            continue
        # one year once ("2023", not "2023–2023")
        years = "–".join(dict.fromkeys(str(y) for y in (f.get("year_from"), f.get("year_to")) if y))
        amount = f.get("amount")
        funding.append({
            "Programm": G.nodes[programme].get("name") or f.get("programme") or programme,
            "Förderart": label("funding_kind", f.get("funding_kind") or "") if f.get("funding_kind") in FUNDING_KINDS
            else f.get("funding_kind") or "",
            "Jahre": years,
            "Betrag (EUR)": f"{amount:,.0f}".replace(",", ".") if isinstance(amount, int | float) else "",
            "Geldgeber": f.get("funder") or "",
        })
    events.sort(key=lambda r: str(r["Datum"]), reverse=True)  # ISO dates sort by time; shown as dd.mm.yyyy
    for event in events:
        event["Datum"] = fmt_date(event["Datum"]) if event["Datum"] else ""
    return {
        "name": d.get("name") or org_id,
        "type": label("org_type", d.get("org_type") or ""),
        "city": d.get("city") or "",
        "district": district_names.get(d.get("district") or "", d.get("district") or ""),
        "regierungsbezirk": d.get("regierungsbezirk") or "",
        "sectors": [label("sector", s) for s in d.get("sectors") or ()],
        "founded": d.get("founded"),
        "website": d.get("website") or "",
        "address": ", ".join(x for x in (d.get("address"), " ".join(str(y) for y in (d.get("postcode"), d.get("city"))
                                                                     if y)) if x) if d.get("address") else "",
        "description": d.get("description") or "",
        "source": d.get("source") or "unbekannt",
        "updated": d.get("updated") or "",
        "synthetic": bool(d.get("synthetic")),
        "ties": ties, "events": events, "funding": funding,
    }


def _panel_list(lines: list[str], empty: str, *, key: str) -> None:
    """Entries of the details panel as a list that wraps; long lists scroll inside a box of fixed height."""
    if not lines:
        st.caption(empty)
        return
    box = st.container(height=280, key=key) if len(lines) > 6 else st.container(key=key)
    box.markdown("\n".join(f"- {line}" for line in lines))


def _details_panel(G, org_id: str) -> None:
    info = details(G, org_id, common.district_names())
    st.subheader(common.md(info["name"]))
    place = [info["city"]] if info["city"] else []
    if info["district"] and info["district"] != info["city"]:
        place.append(info["district"])
    if info["regierungsbezirk"]:
        place.append(f"Regierungsbezirk {info['regierungsbezirk']}")
    st.markdown(f"**{common.md(info['type'])}**  \n" + common.md(" · ".join(place)))
    if info["synthetic"]:
        st.caption("Synthetischer Demodatensatz – keine echte Organisation.")
    if info["sectors"]:
        st.markdown("**Handlungsfelder:** " + common.md(", ".join(info["sectors"])))
    facts = []
    if info["founded"]:
        facts.append(f"gegründet {common.md(info['founded'])}")
    if info["address"] and auth.allowed("contact"):  # a small association's address may be a private home
        facts.append(common.md(info["address"]))
    if info["website"]:
        facts.append("Website: " + common.code(info["website"]))
    if facts:
        st.markdown("  \n".join(facts))
    if info["description"]:
        st.caption(common.md(info["description"]))
    # Lists, not tables: in the narrow panel (a third of the page) table columns were cut off.
    st.markdown(f"**Verbindungen zu Organisationen ({common.number(len(info['ties']))})**")
    _panel_list([f"**{common.md(t['Organisation'])}**"
                 + (f" ({common.md(', '.join(x for x in (t['Typ'], t['Ort']) if x))})" if t["Typ"] or t["Ort"] else "")
                 + f": {common.md(t['Beziehung'])}" for t in info["ties"]], "Keine direkte Verbindung erfasst.",
                key="net_panel_ties")
    st.markdown(f"**Veranstaltungen ({common.number(len(info['events']))})**")
    _panel_list([f"{common.md(e['Datum'])} **{common.md(e['Veranstaltung'])}**"
                 + (f" ({common.md(e['Ort'])})" if e["Ort"] else "") + f": {common.md(e['Rolle'])}"
                 for e in info["events"]], "Keine Teilnahme erfasst.", key="net_panel_events")
    st.markdown(f"**Förderung ({common.number(len(info['funding']))})**")
    _panel_list([f"**{common.md(f['Programm'])}**"
                 + (f" ({common.md(', '.join(x for x in (f['Förderart'], f['Jahre']) if x))})"
                    if f["Förderart"] or f["Jahre"] else "")
                 + (f": {common.md(f['Betrag (EUR)'])} €" if f["Betrag (EUR)"] else "")
                 + (f", {common.md(f['Geldgeber'])}" if f["Geldgeber"] else "") for f in info["funding"]],
                "Keine Förderung erfasst.", key="net_panel_funding")
    stamp = f" · Stand {common.md(fmt_date(info['updated']))}" if info["updated"] else ""
    st.caption(f"Quelle: {common.md(info['source'])}{stamp}")


#: Session key of the network view (ui/netview): the last clicked node.
CLICK_KEY = "net_click"


def clicked(G, value: Any) -> tuple[str, str] | None:
    """What a click on a node of the view means: ``("organisation", id)``, ``("district", key)`` or ``None``.

    ``value`` is what the view sends (``{"id": node, "n": count}``); events and unknown ids choose nothing.
    """
    node = value.get("id") if isinstance(value, dict) else None
    if not isinstance(node, str):
        return None
    if node.startswith("district:"):
        return ("district", node.split(":", 1)[1])
    if node in G and G.nodes[node].get("kind") == "organisation":
        return ("organisation", node)
    return None


def _on_click() -> None:
    """A node was clicked: choose the organisation (as the select box does) or open the district."""
    what = clicked(common.graph(), st.session_state.get(CLICK_KEY))
    if what is None:
        return
    kind, key = what
    if kind == "organisation":
        st.session_state["net_selected"] = key
    else:
        st.session_state["net_open_district"] = key


def _show_network(data: dict[str, Any]) -> None:
    from msonet.ui.netview import network_view

    network_view(data, key=CLICK_KEY, on_change=_on_click)


def _body() -> None:
    auth.require("view")
    st.title("Netzwerk")
    if common.empty_state():
        return
    G = common.graph()
    version = common.data_version()
    names = common.district_names()
    filters = _sidebar_filters(_facets(version))

    options = common.org_options()
    top_left, top_mid, top_right = st.columns([2.6, 1.5, 1.1])
    selected = common.pick_one(top_left, "Organisation suchen (Namen eintippen)", options, key="net_selected",
                               placeholder="Name eintippen …")
    ego = top_mid.toggle("Nur Umfeld", value=False, key="net_ego",
                         disabled=selected is None, help="Ego-Netzwerk: zeigt die gewählte Organisation und alle, "
                         "die über "
                         "höchstens so viele Schritte mit ihr verbunden sind (Veranstaltungen zählen als Schritt).")
    hops = top_right.slider("Schritte", 1, 3, 1, key="net_hops", disabled=not (selected and ego))

    limit = common.max_nodes()
    result = _draw(version, filters, selected, bool(selected and ego), hops, None, limit)
    open_district = None
    if result["aggregated"]:
        per_district = result["per_district"]
        keys = sorted(per_district, key=lambda k: (-per_district[k], names.get(k, k)))

        def district_label(k: str) -> str:
            return names.get(k, "ohne Kreis" if k == "?" else k)

        open_district = st.selectbox(
            "Kreis öffnen", keys, index=None, placeholder="Zusammenfassung nach Kreisen anzeigen",
            format_func=lambda k: f"{district_label(k)} ({common.number(per_district[k])} Knoten)",
            key="net_open_district")
        if open_district:
            result = _draw(version, filters, selected, bool(selected and ego), hops, open_district, limit)
        if result["aggregated"] and open_district:
            st.warning(f"{district_label(open_district)} allein hat {common.number(result['view_nodes'])} "
                       f"Organisationen und Veranstaltungen – mehr als {common.number(limit)}, die einzeln "
                       "gezeichnet werden. Bitte links mit Filtern eingrenzen, z.B. nach Organisationstyp, "
                       "Handlungsfeld, Ort oder „Name enthält“.")
        elif result["aggregated"]:
            st.info(f"Die Ansicht enthält {common.number(result['total'])} Organisationen und Veranstaltungen – zu "
                    f"viele, um sie einzeln zu zeichnen (Grenze {common.number(limit)}). Jeder Kreis "
                    "ist ein Knoten an seinem Ort auf der Karte (Größe = Zahl der Organisationen, Linien = "
                    "Verbindungen zwischen Kreisen). Wählen Sie oben einen Kreis zum Öffnen oder grenzen Sie links "
                    "mit Filtern ein.")

    left, right = st.columns([3, 1.35]) if selected else (st.container(), None)
    with left:
        st.caption(f"{common.number(result['nodes'])} Knoten, {common.number(result['edges'])} Verbindungen"
                   + (" · Anordnung fest berechnet (keine Physik)" if not result["physics"] else
                      " · Knoten lassen sich ziehen")
                   + (" · Größe = Zahl der Organisationen im Kreis" if result["aggregated"] else
                      " · Farbe = Typ, Größe = Zahl der Verbindungen")
                   + " · Mauszeiger auf einen Knoten zeigt Details · "
                   + ("Klick auf einen Kreis öffnet ihn" if result["aggregated"] else
                      "Klick auf eine Organisation zeigt ihre Angaben daneben"))
        if result.get("unplaced"):
            st.caption(f"{common.number(result['unplaced'])} Organisationen ohne Kreis (landesweit tätig oder ohne "
                       "Ort) stehen nicht auf dieser Karte; „Kreis öffnen“ → „ohne Kreis“ zeigt sie.")
        _show_network(result["data"])
        # one row that wraps: in four fixed columns the labels were cut at 1024 px
        row = st.container(horizontal=True, wrap=True, key="net_downloads")
        c1 = c2 = c3 = c4 = row
        common.download_button("Ansicht als HTML herunterladen", result["html"].encode("utf-8"),
                               file_name="msonet-netzwerk.html", mime="text/html", key="dl_html", where=c1)
        # The tables are built when a button is clicked: for a view of the whole network they are a million
        # rows, which took longer than drawing the page.
        choice = (filters, selected, bool(selected and ego), hops, open_district, limit)
        common.download_button("Knoten als CSV", functools.partial(table_csv, G, names, "nodes", *choice),
                               file_name="msonet-knoten.csv", mime="text/csv", key="dl_nodes", where=c2)
        common.download_button("Verbindungen als CSV", functools.partial(table_csv, G, names, "edges", *choice),
                               file_name="msonet-verbindungen.csv", mime="text/csv", key="dl_edges", where=c3)
        if not result["aggregated"]:
            common.download_button("Ansicht als GEXF (Gephi)", functools.partial(view_gexf, G, "drawn", *choice),
                                   file_name="msonet-netzwerk.gexf", mime="application/xml", key="dl_gexf", where=c4,
                                   help="Knoten mit den Positionen und Farben dieser Zeichnung, für Gephi")
    if right is not None and selected:
        with right:
            _details_panel(G, selected)

    with st.expander("Kennzahlen des ganzen Netzwerks (Vermittler, Gruppen)"):
        if st.toggle("Berechnen (kann bei großen Daten einige Sekunden dauern)", key="net_figures"):
            _network_figures(version)


@st.cache_data(show_spinner="Berechne Kennzahlen …", max_entries=2)
def _figures(version: str) -> dict[str, Any]:
    from msonet.graph.network import network_figures

    return network_figures(common.graph())


def _network_figures(version: str) -> None:
    fig = _figures(version)
    names = common.district_names()
    cols = st.columns(4)
    cols[0].metric("Organisationen", common.number(fig["organisations"]))
    cols[1].metric("Verbundene Paare", common.number(fig["ties"]),
                   help="Paare von Organisationen mit einer direkten Beziehung oder einer gemeinsamen "
                        "Veranstaltung; jedes Paar zählt einmal. Die Übersicht zählt dagegen die erfassten "
                        "Beziehungen (ohne Veranstaltungen).")
    cols[2].metric("Getrennte Teilnetze", common.number(fig["components"]),
                   help="Teile des Netzes, zwischen denen keine Verbindung besteht (Einzelne mitgezählt).")
    cols[3].metric("Ohne jede Verbindung", common.number(fig["isolates"]))
    if fig.get("brokers"):
        st.markdown("**Vermittler**: über sie laufen viele der kürzesten Wege zwischen anderen Organisationen "
                    "– sie können Kontakte weitergeben.")
        st.dataframe(pd.DataFrame([{"Name": b["name"], "Typ": label("org_type", b.get("org_type") or ""),
                                    "Ort": b.get("city") or "", "Kreis": names.get(b.get("district") or "", ""),
                                    "Anteil kürzester Wege über sie": fmt_percent(b["betweenness"], 1)}
                                   for b in fig["brokers"]]),
                     hide_index=True, width="stretch")
    largest = (fig.get("communities") or {}).get("largest") or []
    if largest:
        st.markdown(f"**Gruppen**: Organisationen, die untereinander dichter verbunden sind als mit dem Rest "
                    f"({common.number(fig['communities']['count'])} Gruppen mit mindestens 2 Organisationen; "
                    f"die {len(largest)} größten).")
        st.dataframe(pd.DataFrame([{
            "Organisationen": common.number(g["size"]),
            "häufigster Kreis": (f"{names.get(g['district'] or '', g['district'] or '–')} "
                                 f"({fmt_percent(g['district_share'])})"),
            "häufigster Typ": f"{g.get('org_type_label') or '–'} ({fmt_percent(g['org_type_share'])})",
            "zum Beispiel": ", ".join(g.get("examples") or [])} for g in largest]),
            hide_index=True, width="stretch")
    for note in fig.get("notes", []):
        st.caption(common.md(note))


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
