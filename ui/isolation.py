"""Page „Isolierte Organisationen“: who has no ties, no tie to regular services or no recent event, and why."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import streamlit as st

from msonet.graph.isolation import REASON_CODES
from msonet.graph.maps import points_figure
from msonet.graph.vocabulary import ORG_TYPES, label
from msonet.ui import auth, common

__all__ = ["render", "result_rows"]

REASONS = REASON_CODES


#: Points drawn on the map; rows in the table: common.max_table_rows(). The CSV download holds every row.
SHOWN_POINTS = 2000


# cache_resource, not cache_data: with 100,000 organisations unpickling the cached rows on every visit
# cost seconds; the rows are never changed in place (filters build new lists).
@st.cache_resource(show_spinner="Suche isolierte Organisationen …", max_entries=16)
def _isolated(version: str, today: str, event_years: int, district: str | None, org_type: str | None,
              regierungsbezirk: str | None) -> list[dict[str, Any]]:
    rows = common.network().isolation(today=today, event_years=event_years, district=district, org_type=org_type,
                                      regierungsbezirk=regierungsbezirk).as_dicts()
    common.settle()
    return rows


def result_rows(rows: list[dict[str, Any]], district_names: dict[str, str]) -> list[dict[str, Any]]:
    """Table rows with German column names (pure, for tests and the CSV download)."""
    out = []
    for r in rows:
        out.append({
            "Name": r["name"],
            "Typ": label("org_type", r.get("org_type") or ""),
            "Ort": r.get("city") or "",
            "Kreis": district_names.get(r.get("district") or "", r.get("district") or ""),
            "Regierungsbezirk": r.get("regierungsbezirk") or "",
            "Gründe": " | ".join(REASONS.get(x["code"], x["code"]) for x in r["reasons"]),
            "Erläuterung": " ".join(x["text"] for x in r["reasons"]),
            "id": r["id"],
        })
    return out


@st.cache_resource(max_entries=16)
def _page_data(version: str, key: tuple, _rows: list[dict[str, Any]], _names: dict[str, str],
               shown_rows: int) -> dict[str, Any]:
    """Counts, the shown table (``shown_rows`` rows) and map points, built once per data version and filter
    choice (``key``).

    With 100,000 organisations even counting the reasons of 90,000 rows on every run cost a noticeable
    part of a second.
    """
    counts = {code: 0 for code in REASONS}
    for r in _rows:
        for code in {x["code"] for x in r["reasons"]}:
            counts[code] = counts.get(code, 0) + 1
    placed = [r for r in _rows if isinstance(r.get("lat"), int | float) and isinstance(r.get("lon"), int | float)]
    points = placed[:SHOWN_POINTS]
    extra = {r["id"]: [REASONS.get(x["code"], x["code"]) for x in r["reasons"]] for r in points}
    # Place as "Ort (Kreis)" and no Regierungsbezirk on screen, so the reasons get the width (the CSV has all).
    table = result_rows(_rows[:shown_rows], _names)
    shown = pd.DataFrame([{"Name": r["Name"], "Typ": r["Typ"],
                           "Ort": r["Ort"] + (f" ({r['Kreis']})" if r["Kreis"] and r["Kreis"] != r["Ort"] else ""),
                           "Gründe": r["Gründe"], "Erläuterung": r["Erläuterung"]} for r in table])
    # Table rows only for what is shown. The CSV of all rows (30 MB and almost two seconds for 90,000
    # rows, per filter choice) is built when the download button is clicked.
    # The map too: building the plotly figure cost more than the rest of a warm page run (many sessions).
    figure = points_figure(points, geojson=common.district_geojson(), extra=extra, height=600)
    data = {"counts": counts, "shown": shown, "points": points, "extra": extra, "placed": len(placed),
            "figure": figure}
    common.settle()
    return data


def _csv(rows: list[dict[str, Any]], district_names: dict[str, str]) -> bytes:
    return common.csv_bytes(result_rows(rows, district_names))


def _body() -> None:
    auth.require("advise")
    st.title("Isolierte Organisationen")
    st.caption("Organisationen ohne Verbindungen, MSO ohne Verbindung zu Regeldiensten (die „Mainstreaming-"
               "Lücke“), Organisationen ohne Veranstaltung in den letzten Jahren und kleine abgetrennte Gruppen. "
               "Jeder Eintrag nennt seine Gründe.")
    if common.empty_state():
        return
    names = common.district_names()
    bezirke = sorted({d.regierungsbezirk for d in common.districts().values()})
    c1, c2, c3 = st.columns(3)
    bezirk = c1.selectbox("Regierungsbezirk", bezirke, index=None, placeholder="alle", key="iso_rb")
    keys = sorted((k for k, d in common.districts().items() if not bezirk or d.regierungsbezirk == bezirk),
                  key=lambda k: names[k])
    district = c2.selectbox("Kreis / kreisfreie Stadt", keys, index=None, format_func=names.get,
                            placeholder="alle", key="iso_district")
    org_type = c3.selectbox("Organisationstyp", list(ORG_TYPES), index=None,
                            format_func=lambda k: label("org_type", k), placeholder="alle", key="iso_type")
    c4, c5, c6 = st.columns(3)
    years = c4.number_input("Jahre ohne Veranstaltung", 1, 10, 3, key="iso_years")
    today = c5.date_input("Stichtag", common.today(), format="DD.MM.YYYY", key="iso_today")

    rows = _isolated(common.data_version(), today.isoformat(), int(years), district, org_type, bezirk)
    chosen = c6.multiselect("Nur diese Gründe", list(REASONS), format_func=REASONS.get, placeholder="alle Gründe",
                            key="iso_reasons")
    if chosen:
        rows = [r for r in rows if any(x["code"] in chosen for x in r["reasons"])]

    page = _page_data(common.data_version(), (today.isoformat(), int(years), district, org_type, bezirk,
                                              tuple(chosen)), rows, names, common.max_table_rows())
    counts = page["counts"]
    # The count per reason as a sentence: as metrics in five columns their labels were cut off.
    found, per_reason = st.columns([1, 4])
    found.metric("Gefunden", common.number(len(rows)))
    per_reason.markdown("**Davon nach Grund** (ein Eintrag kann mehrere haben):  \n" + " · ".join(
        f"{common.md(REASONS[code])}: **{common.number(counts[code])}**" for code in REASONS))
    if not rows:
        st.success("Keine isolierten Organisationen für diese Auswahl.")
        return

    shown = page["shown"]
    # Table and map one below the other: side by side, narrow columns cut off the reasons and the map.
    left, right = st.container(), st.container()
    with left:
        if len(rows) > len(shown):
            st.caption(f"Die Tabelle zeigt die ersten {common.number(len(shown))} von {common.number(len(rows))} "
                       "Einträgen; die CSV-Datei enthält alle. Mit den Filtern oben lässt sich die Liste eingrenzen.")
        # Narrow fixed widths for name, type and place leave the rest to the reasons, wrapped in their cells;
        # the long explanation of a row appears below the table when the row is chosen (and is in the CSV).
        picked = common.text_table(shown, text_columns=["Gründe"], key="iso_table", selectable=True,
                                   column_config={"Name": st.column_config.TextColumn("Name", width=170),
                                                  "Typ": st.column_config.TextColumn("Typ", width=70),
                                                  "Ort": st.column_config.TextColumn("Ort", width=120),
                                                  "Gründe": st.column_config.TextColumn("Gründe", width=150),
                                                  "Erläuterung": None})
        rows_picked = list(getattr(getattr(picked, "selection", None), "rows", None) or [])
        if rows_picked and rows_picked[0] < len(shown):
            row = shown.iloc[rows_picked[0]]
            st.info(f"**{common.md(row['Name'])}** ({common.md(row['Ort'])}): {common.md(row['Erläuterung'])}")
        else:
            st.caption("Eine Zeile auswählen (Kästchen links) zeigt ihre Erläuterung hier vollständig.")
        common.download_button("Liste als CSV herunterladen", functools.partial(_csv, rows, names),
                               file_name="msonet-isolierte-organisationen.csv", mime="text/csv", key="iso_csv")
    with right:
        points = page["points"]
        st.plotly_chart(page["figure"], width="stretch", config={"displaylogo": False}, key="iso_map")
        missing = len(rows) - page["placed"]
        if missing:
            st.caption(f"{missing} Organisationen ohne Ortsangabe sind nicht auf der Karte.")
        if page["placed"] > len(points):
            st.caption(f"Die Karte zeigt die ersten {common.number(len(points))} Einträge der Liste; Filter grenzen "
                       "weiter ein.")


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
