"""Page „Übersicht“: key figures of the network, data sources, and loading the demo data."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from msonet.graph.figures import key_figures
from msonet.graph.formats import fmt_date, fmt_number, fmt_percent
from msonet.graph.render import escape_text
from msonet.graph.vocabulary import ORG_TYPES, SECTORS, label
from msonet.ui import auth, common

__all__ = ["render", "key_figures"]


@st.cache_data(show_spinner="Berechne Kennzahlen …", max_entries=4)
def _overview(version: str, today: str) -> dict[str, Any]:
    """Key figures, MSOs per isolation reason and the funding mix of one data version (see
    :func:`msonet.graph.figures.overview_figures`: read without the whole graph where the store can)."""
    from msonet.graph.figures import overview_figures

    return overview_figures(common.get_store(), common.district_names(), dt.date.fromisoformat(today),
                            whole=common.graph)


def _percent(value: object) -> str:
    return fmt_percent(value) if isinstance(value, int | float) else "–"


def _mix_row(r: dict[str, Any]) -> dict[str, Any]:
    """One row of the funding table: few, short columns so that it fits a 1024 px screen."""
    return {"Handlungsfeld": r.get("label") or r.get("key"),
            "MSO im Feld": f"{fmt_number(r.get('msos', 0))} ({_percent(r.get('share_msos'))})",
            # a share of all MSOs, as in the survey's comparison (54 % name child and youth work, 18 % are funded
            # for it) - not of the MSOs in the field, which "davon" would suggest
            "darüber gefördert (Anteil aller MSO)": f"{fmt_number(r.get('funded_msos', 0))} "
                                                    f"({_percent(r.get('share_msos_funded'))})",
            "MSO mit Regel- / Projektförderung": f"{fmt_number(r.get('funded_msos_regular', 0))} / "
                                                 f"{fmt_number(r.get('funded_msos_project', 0))}",
            "Regelförderung am Betrag": _percent(r.get("share_regular")), "Hinweis": r.get("text") or ""}


def _load_demo() -> None:
    from msonet.loaders.demo import build_demo_batch

    with st.spinner("Erzeuge und lade die Demodaten (einige Sekunden) …"):
        batch = build_demo_batch(seed=2024)
        summary = common.get_store().upsert(batch)
    auth.audit("demo", organisations=summary.organisations, events=summary.events, relations=summary.relations,
               fundings=summary.fundings)
    st.session_state["demo_loaded"] = summary.total


def _bar(counter: Counter[str], column: str, top: int | None = None) -> pd.DataFrame:
    rows = counter.most_common(top)
    return pd.DataFrame(rows, columns=[column, "Anzahl"]).set_index(column)


def _bar_figure(counter: Counter[str]) -> go.Figure:
    """Horizontal bars, largest on top, every label shown (labels come from the vocabulary or the data)."""
    rows = sorted(counter.items(), key=lambda kv: (kv[1], kv[0]))
    fig = go.Figure(go.Bar(x=[v for _, v in rows], y=[escape_text(k) for k, _ in rows], orientation="h",
                           marker_color="#e6550d", hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_layout(height=max(160, 24 * len(rows) + 40), margin={"l": 0, "r": 10, "t": 10, "b": 30},
                      yaxis={"automargin": True}, separators=",.",
                      xaxis={"separatethousands": True, "exponentformat": "none"})  # 10.000, not 10k
    return fig


def _body() -> None:
    auth.require("view")
    st.title("Übersicht")
    st.caption("Migrant\\*innenselbstorganisationen (MSO), Integrationszentren, Integrationsagenturen und "
               "Regeldienste in Nordrhein-Westfalen – wer ist mit wem verbunden, wo gibt es Lücken?")
    from msonet.graph.backends import describe_backend

    auth.unprotected_notice()
    if st.session_state.pop("demo_loaded", None) is not None:
        st.success("Die Demodaten wurden geladen.")
    overview = _overview(common.data_version(), common.today().isoformat())
    figures = overview["figures"]
    if figures["organisations"] == 0:
        st.info("Der Datenspeicher ist noch leer. Laden Sie die Demodaten (realistische, aber zum großen Teil "
                "**synthetische** Organisationen und Veranstaltungen in NRW) oder eigene Dateien auf der Seite "
                "**Daten**.")
        if auth.allowed("edit"):
            st.button("Demodaten laden", type="primary", on_click=_load_demo, key="load_demo")
        st.caption("Speicherort: " + common.md(describe_backend(common.settings())))
        return

    isolated = overview["isolated"]
    no_ties = isolated.get("no_ties", 0)
    gap = isolated.get("no_regular_service_tie", 0)
    # Two rows of three: six in one row cut their labels short on 1024 px screens.
    cols = [*st.columns(3), *st.columns(3)]
    cols[0].metric("Organisationen", common.number(figures["organisations"]))
    cols[1].metric("davon MSO", common.number(figures["mso"]), help="MSO, MSO-Verbünde und MSO-Dachverbände.")
    cols[2].metric("Veranstaltungen", common.number(figures["events"]))
    cols[3].metric("Beziehungen", common.number(figures["ties"]),
                   help=f"Dazu {common.number(figures['fundings'])} Förderungen.")
    cols[4].metric("MSO ohne Regeldienst", common.number(gap),
                   help="MSO (auch MSO-Verbünde und MSO-Dachverbände) ohne Verbindung zu einer Organisation "
                        "außerhalb des Migrationsfelds – weder direkt noch über eine gemeinsame Veranstaltung in den "
                        "letzten 3 Jahren (Seite „Isolierte Organisationen“; dort zählt der Filter Typ „MSO“ nur "
                        "einzelne MSO).")
    cols[5].metric("MSO ohne Verbindung", common.number(no_ties),
                   help="MSO ohne jede erfasste Verbindung oder Veranstaltung.")
    if figures["synthetic"]:
        st.warning(f"{common.number(figures['synthetic'])} von {common.number(figures['organisations'])} "
                   "Organisationen sind synthetische Demodatensätze (keine echten Organisationen).")

    # Two columns, headings in bold text: in three columns headings broke mid-word and bar labels were cut.
    left, right = st.columns(2)
    with left:
        st.markdown("**Nach Organisationstyp**")
        types = Counter({label("org_type", k) if k in ORG_TYPES else k: v for k, v in figures["by_type"].items()})
        st.plotly_chart(_bar_figure(types), width="stretch", config={"displayModeBar": False}, key="ov_types")
    with right:
        st.markdown("**Nach Handlungsfeld**")
        sectors = Counter({label("sector", k) if k in SECTORS else k: v for k, v in figures["by_sector"].items()})
        st.plotly_chart(_bar_figure(sectors), width="stretch", config={"displayModeBar": False}, key="ov_sectors")
    left, right = st.columns(2)
    with left:
        st.markdown("**Nach Regierungsbezirk**")
        st.plotly_chart(_bar_figure(figures["by_bezirk"]), width="stretch", config={"displayModeBar": False},
                        key="ov_bezirke")
    with right:
        st.markdown("**Kreise mit den meisten Organisationen**")
        top_districts = _bar(figures["by_district"], "Kreis", top=10)
        st.dataframe(top_districts.style.format({"Anzahl": fmt_number}), width="stretch",
                     height=common.table_height(len(top_districts), 220))

    st.subheader("Förderung von MSO: Regel- oder Projektförderung")
    mix = overview["funding"]
    if mix:
        st.caption("Je Handlungsfeld: wie viele MSO dort arbeiten und wie viele über dieses Feld gefördert werden "
                   "(Regel- oder Projektförderung).")
        # A static table: headings and the note wrap in full (the grid cut the last column at 1024 px).
        common.reading_table([_mix_row(r) for r in mix], key="overview_funding")
    else:
        st.caption("Keine Förderdaten vorhanden.")

    st.subheader("Datenquellen")
    sources = pd.DataFrame(figures["sources"].most_common(), columns=["Quelle", "Datensätze"])
    # the count first and the address in the wide column: at 1024 px a long address pushed the count out of view
    st.dataframe(sources[["Datensätze", "Quelle"]].style.format({"Datensätze": fmt_number}), width="stretch",
                 hide_index=True,
                 height=min(300, 38 + 35 * len(sources)),
                 column_config={"Datensätze": st.column_config.NumberColumn("Datensätze", width="small")})
    first, last = fmt_date(figures["first_update"]), fmt_date(figures["last_update"])
    st.caption(f"Stand der Daten: {common.md(first)}"
               + (f" bis {common.md(last)}" if last != first else "") + " · "
               "Speicherort: " + common.md(describe_backend(common.settings())))


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
