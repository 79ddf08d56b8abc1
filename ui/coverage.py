"""Page „Versorgungskarte“: districts coloured by coverage, with KI, IA and MSO points (offline map)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from graph.maps import POINT_GROUPS, add_points, choropleth_figure, point_rows
from graph.vocabulary import SECTORS, label
from ui import auth, common

__all__ = ["render", "metric_rows", "METRICS"]

#: Short column titles of the chosen figure in the table.
SHORT = {"msos_per_100k": "MSO je 100.000", "white_spots": "Akteure im Feld", "share_regular": "Regelförderung %"}
METRICS = {
    "msos_per_100k": "MSO je 100.000 Einwohner*innen",
    "white_spots": "Weiße Flecken: Akteure in einem Handlungsfeld",
    "share_regular": "Anteil Regelförderung an der MSO-Förderung (%)",
}


@st.cache_data(show_spinner="Berechne die Versorgung je Kreis …", max_entries=4)
def _coverage(version: str) -> list[dict[str, Any]]:
    from graph.coverage import district_coverage

    return district_coverage(common.graph(), common.districts())


@st.cache_data(show_spinner=False, max_entries=4)
def _points(version: str) -> dict[str, list[dict[str, Any]]]:
    G = common.graph()
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in POINT_GROUPS}
    for node, d in G.nodes(data=True):
        if d.get("kind") != "organisation":
            continue
        for name, types, *_ in POINT_GROUPS:
            if d.get("org_type") in types:
                groups[name].extend(point_rows([{**d, "id": node}]))
    return groups


def metric_rows(coverage: list[dict[str, Any]], metric: str, sector: str | None,
                labels: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Rows for the map and the table: ``value`` holds the chosen figure (pure, for tests)."""
    rows = []
    for c in coverage:
        if metric == "msos_per_100k":
            value = c.get("msos_per_100k")
        elif metric == "white_spots":
            counts = (c.get("sectors") or {}).get(sector or "", {"mso": 0, "regular": 0})
            value = int(counts.get("mso", 0)) + int(counts.get("regular", 0))
        else:
            share = c.get("share_regular")
            value = round(share * 100, 1) if isinstance(share, int | float) else None
        rows.append({**c, "name": labels.get(c["district"], c.get("name")), "value": value})
    if metric == "white_spots":
        title = f"Akteure im Handlungsfeld „{label('sector', sector or '')}“ (0 = weißer Fleck)"
    else:
        title = METRICS[metric]
    return rows, title


def _body() -> None:
    auth.require("view")
    st.title("Versorgungskarte")
    st.caption("Wo gibt es MSO, Kommunale Integrationszentren (KI) und Integrationsagenturen (IA)? Welche Kreise "
               "sind in einem Handlungsfeld weiße Flecken, wo wird MSO-Arbeit nur über Projekte gefördert?")
    if common.empty_state():
        return
    labels = common.district_names()
    c1, c2, c3 = st.columns([2, 2, 3])
    metric = c1.selectbox("Einfärben nach", list(METRICS), format_func=METRICS.get, key="cov_metric")
    sector = None
    if metric == "white_spots":
        sector = c2.selectbox("Handlungsfeld", list(SECTORS), format_func=lambda k: label("sector", k),
                              key="cov_sector")
    layers = c3.multiselect("Punkte zeigen", [name for name, *_ in POINT_GROUPS],
                            default=[POINT_GROUPS[0][0], POINT_GROUPS[1][0]], key="cov_points")

    version = common.data_version()
    rows, title = metric_rows(_coverage(version), metric, sector, labels)
    hover = [("mso_count", "MSO"), ("ki_count", "KI"), ("ia_count", "IA"), ("population", "Einwohner*innen")]
    scale = [[0.0, "#fff5eb"], [1.0, "#a63603"]] if metric != "white_spots" else [[0.0, "#ffffff"], [0.0001, "#deebf7"],
                                                                                   [1.0, "#08519c"]]
    fig = choropleth_figure(common.district_geojson(), rows, value="value", value_label=title, hover=hover,
                            colorscale=scale, zmin=0, title=title, height=640)
    points = _points(version)
    for name, _types, colour, size in POINT_GROUPS:
        if name in layers:
            add_points(fig, points.get(name, []), name=name, colour=colour, size=size)

    left, right = st.columns([1.6, 1])
    with left:
        st.plotly_chart(fig, width="stretch", config={"displaylogo": False, "scrollZoom": True}, key="cov_map")
        if metric == "share_regular":
            st.caption("Kreise ohne erfasste Förderbeträge bleiben weiß.")
    with right:
        table = [{"Kreis": r["name"], "Regierungsbezirk": r.get("regierungsbezirk") or "",
                  "Wert": r["value"], "MSO": r.get("mso_count", 0),
                  "KI": r.get("ki_count", 0), "IA": r.get("ia_count", 0), "Einwohner*innen": r.get("population")}
                 for r in rows]
        table.sort(key=lambda r: (r["Wert"] is None, r["Wert"] if r["Wert"] is not None else 0, r["Kreis"]))
        if metric == "white_spots":
            spots = [r["Kreis"] for r in table if r["Wert"] == 0]
            st.metric("Weiße Flecken (Kreise ohne Akteur)", len(spots))
        no_ki = [r["Kreis"] for r in table if not r["KI"]]
        st.caption(f"Kreise ohne KI in den Daten: {len(no_ki)}")
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", height=520,
                     column_config={"Wert": st.column_config.NumberColumn(SHORT[metric], format="%.1f", help=title)})
        common.download_button("Tabelle als CSV herunterladen", common.csv_bytes(table),
                               file_name="msonet-versorgung.csv", mime="text/csv", key="cov_csv")


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
