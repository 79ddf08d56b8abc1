"""Page „Versorgungskarte“: districts coloured by coverage, with KI, IA and MSO points (offline map)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from msonet.graph.formats import MISSING, fmt_number
from msonet.graph.maps import POINT_GROUPS, add_points, choropleth_figure, point_rows
from msonet.graph.vocabulary import SECTORS, label
from msonet.ui import auth, common

__all__ = ["render", "metric_rows", "table_rows", "METRICS", "ZERO_LABELS", "MISSING_LABELS"]

METRICS = {
    "msos_per_100k": "MSO je 100.000 Einwohner*innen",
    "white_spots": "Weiße Flecken: Akteure in einem Handlungsfeld",
    "share_regular": "Anteil Regelförderung an der MSO-Förderung (%)",
}
#: Colour bar titles (short: the bar stands beside the map).
SCALE_TITLES = {"msos_per_100k": "MSO je 100.000 Einw.", "white_spots": "Akteure",
                "share_regular": "Anteil Regelförderung (%)"}
#: Legend entries of districts whose value is 0, per figure (the white spots).
ZERO_LABELS = {
    "msos_per_100k": "keine MSO erfasst (0)",
    "white_spots": "weißer Fleck: kein Akteur (0)",
    "share_regular": "0 % – nur Projektförderung",
}
#: Legend entries of districts without a value.
MISSING_LABELS = {
    "msos_per_100k": "keine Einwohnerzahl",
    "white_spots": "keine Daten",
    "share_regular": "keine Förderbeträge erfasst",
}


# cache_resource: shared and never changed in place (cache_data unpickled a copy on every page run)
@st.cache_resource(show_spinner="Berechne die Versorgung je Kreis …", max_entries=4)
def _coverage(version: str) -> list[dict[str, Any]]:
    from msonet.graph.coverage import district_coverage

    return district_coverage(common.graph(), common.districts())


@st.cache_resource(show_spinner=False, max_entries=4)
def _points(version: str) -> dict[str, list[dict[str, Any]]]:
    from msonet.graph.figures import organisations_by_group

    found = organisations_by_group(common.graph(), [(name, types) for name, types, *_ in POINT_GROUPS])
    return {name: point_rows(orgs) for name, orgs in found.items()}


@st.cache_resource(show_spinner=False, max_entries=32)
def _map(version: str, metric: str, sector: str | None,
         layers: tuple[str, ...]) -> tuple[list[dict[str, Any]], str, go.Figure]:
    """Rows, title and map of one choice, built once per data version: building the plotly figure cost more
    than the rest of a warm page run. Shared by all sessions; never changed in place."""
    rows, title = metric_rows(_coverage(version), metric, sector, common.district_names())
    hover = [("mso_count", "MSO"), ("ki_count", "KI"), ("ia_count", "IA"), ("population", "Einwohner*innen")]
    # Scales start at a visible colour; 0 and "no value" have their own layers (graph.maps.ZERO_COLOUR ...).
    scale = [[0.0, "#dadaeb"], [1.0, "#54278f"]] if metric != "white_spots" else [[0.0, "#c7e9c0"], [1.0, "#006d2c"]]
    fig = choropleth_figure(common.district_geojson(), rows, value="value", value_label=title, hover=hover,
                            colorscale=scale, zmin=0, height=560, zero_label=ZERO_LABELS[metric],
                            missing_label=MISSING_LABELS[metric], scale_title=SCALE_TITLES[metric])
    points = _points(version)
    for name, _types, colour, size in POINT_GROUPS:
        if name in layers:
            add_points(fig, points.get(name, []), name=name, colour=colour, size=size)
    return rows, title, fig


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


def value_heading(metric: str, sector: str | None) -> str:
    """Column heading of the chosen figure in table and CSV: names the figure and, for white spots, the field."""
    if metric == "white_spots":
        return f"Akteure im Handlungsfeld {label('sector', sector or '')}"
    return METRICS[metric]


def table_rows(rows: list[dict[str, Any]], metric: str, sector: str | None) -> list[dict[str, Any]]:
    """Table and CSV rows, the chosen figure under :func:`value_heading`; sorted lowest first (pure, for tests)."""
    heading = value_heading(metric, sector)
    table = [{"Kreis": r["name"], "Regierungsbezirk": r.get("regierungsbezirk") or "", heading: r["value"],
              "MSO": r.get("mso_count", 0), "KI": r.get("ki_count", 0), "IA": r.get("ia_count", 0),
              "Einwohner*innen": r.get("population")} for r in rows]
    table.sort(key=lambda r: (r[heading] is None, r[heading] if r[heading] is not None else 0, r["Kreis"]))
    return table


#: Places after the comma of each figure in the table.
VALUE_DIGITS = {"msos_per_100k": 1, "white_spots": 0, "share_regular": 1}


def german_numbers(table: list[dict[str, Any]], heading: str, digits: int) -> Any:
    """The coverage table with its numbers shown as graph.formats writes them (``11,4``, ``1.084.831``).

    The shown text no longer follows the browser's language (a grid formats numbers "localized" by the
    browser: 11.4 in an English browser). The values below stay numbers, so sorting a column still sorts
    by value; the CSV download gets the numbers as they are.
    """
    frame = pd.DataFrame(table)
    for column in ("MSO", "KI", "IA", "Einwohner*innen"):
        frame[column] = frame[column].astype("Int64")

    def number(places: int):
        return lambda v: MISSING if v is None or pd.isna(v) else fmt_number(v, places)

    formats = {heading: number(digits), **{c: number(0) for c in ("MSO", "KI", "IA", "Einwohner*innen")}}
    return frame.style.format(formats)


def _body() -> None:
    auth.require("view")
    st.title("Versorgungskarte")
    st.caption("Wo gibt es MSO, Kommunale Integrationszentren (KI) und Integrationsagenturen (IA)? Welche Kreise "
               "sind in einem Handlungsfeld weiße Flecken, wo wird MSO-Arbeit nur über Projekte gefördert?")
    if common.empty_state():
        return
    # the colour choice and the field side by side, the point layers below: in three columns the labels were
    # cut at 1024 px
    c1, c2 = st.columns(2)
    c3 = st.container()
    metric = c1.selectbox("Einfärben nach", list(METRICS), format_func=METRICS.get, key="cov_metric")
    sector = None
    if metric == "white_spots":
        sector = c2.selectbox("Handlungsfeld", list(SECTORS), format_func=lambda k: label("sector", k),
                              key="cov_sector")
    layers = c3.multiselect("Punkte zeigen", [name for name, *_ in POINT_GROUPS],
                            default=[POINT_GROUPS[0][0], POINT_GROUPS[1][0]], key="cov_points")

    rows, title, fig = _map(common.data_version(), metric, sector, tuple(layers))

    table = table_rows(rows, metric, sector)
    heading = value_heading(metric, sector)
    # Map and table one below the other: beside the table, a narrow column (1024 px screens) cut off the
    # east and west of NRW. The title stands above the chart: plotly's toolbar sat over a title in the figure.
    st.markdown(f"**{common.md(title)}**")
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False, "scrollZoom": True}, key="cov_map")
    if metric == "share_regular":
        st.caption("Grau: Kreise ohne erfasste Förderbeträge. 0 % heißt: Förderbeträge erfasst, aber keine "
                   "Regelförderung.")
    counts = st.columns(3)
    if metric == "white_spots":
        spots = [r["Kreis"] for r in table if r[heading] == 0]
        counts[0].metric("Weiße Flecken", len(spots), help="Kreise ohne Akteur im gewählten Handlungsfeld")
    no_ki = [r["Kreis"] for r in table if not r["KI"]]
    counts[1 if metric == "white_spots" else 0].metric("Ohne KI", len(no_ki),
                                                       help="Kreise ohne Kommunales Integrationszentrum in den Daten")
    # The Regierungsbezirk stays in the CSV; without it the grid fits 1024 px screens.
    shown = german_numbers([{k: v for k, v in r.items() if k != "Regierungsbezirk"} for r in table], heading,
                           VALUE_DIGITS[metric])
    st.dataframe(shown, hide_index=True, width="stretch", height=420, column_config={
        "Kreis": st.column_config.TextColumn("Kreis", width=165),
        # the short title of the colour bar, the full one as help (and in the CSV)
        heading: st.column_config.NumberColumn(SCALE_TITLES[metric], help=heading, width=150),
        **{c: st.column_config.NumberColumn(c, width=45) for c in ("MSO", "KI", "IA")},
        "Einwohner*innen": st.column_config.NumberColumn("Einwohner*innen", width=105)})
    common.download_button("Tabelle als CSV herunterladen", common.csv_bytes(table),
                           file_name="msonet-versorgung.csv", mime="text/csv", key="cov_csv")


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
