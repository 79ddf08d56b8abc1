"""Page „Tandem-Suche“: partners outside the migration field for an MSO, and a cohort of N tandems at once."""

from __future__ import annotations

from typing import Any

import streamlit as st

from msonet.graph.maps import focus_map, point_rows, points_figure, rank_labels, spread_points
from msonet.graph.vocabulary import SECTORS, label
from msonet.ui import auth, common

__all__ = ["render", "proposal_rows"]


@st.cache_resource(show_spinner="Bereite die Partnersuche vor …", max_entries=2)
def _index(version: str):
    from msonet.graph.partners import PartnerIndex

    index = PartnerIndex(common.graph())
    common.settle()
    return index


@st.cache_data(show_spinner="Suche Tandempartner …", max_entries=32)
def _proposals(version: str, org_id: str, top: int, max_km: float | None, sector: str | None,
               umbrella: bool = False, migration_services: bool = False) -> list[dict]:
    from msonet.graph.partners import propose_partners

    return propose_partners(common.graph(), org_id, top=top, max_km=max_km, sector=sector, index=_index(version),
                            include_umbrella=umbrella, include_migration_services=migration_services)


@st.cache_data(show_spinner="Plane die Tandem-Kohorte …", max_entries=16)
def _cohort(version: str, count: int, district: str | None, max_km: float) -> list[dict[str, Any]]:
    from msonet.graph.cohort import plan_cohort

    return plan_cohort(common.graph(), count, district=district, max_km=max_km, index=_index(version))


def _number(value: object, digits: int = 1) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{value:.{digits}f}".replace(".", ",")


def proposal_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Proposals as table rows with German column names (pure, for tests and the CSV download)."""
    out = []
    for rank, r in enumerate(rows, start=1):
        parts = r.get("parts") or {}
        out.append({
            "Rang": rank,
            "Name": r["name"],
            "Typ": r.get("org_type_label") or label("org_type", r.get("org_type") or ""),
            "Ort": r.get("city") or "",
            "Entfernung (km)": _number(r.get("distance_km")),
            "Genauigkeit": {"address": "Adresse", "postcode": "Postleitzahl", "municipality": "Gemeinde"}.get(
                r.get("distance_precision") or "", ""),
            "Punkte": _number(r.get("score"), 2),
            "Handlungsfelder": _number(parts.get("sector"), 2),
            "Nähe": _number(parts.get("distance"), 2),
            "Gemeinsame Kontakte": _number(parts.get("proximity"), 2),
            "Offenheit": _number(parts.get("openness"), 2),
            "Aktivität": _number(parts.get("activity"), 2),
            "Gründe": " ".join(r.get("reasons") or ()),
            "id": r["id"],
        })
    return out


#: Columns of the score's parts (shown apart from the reasons, see :func:`shown_proposals`).
SCORE_PARTS = ("Nähe", "Gemeinsame Kontakte", "Aktivität", "Handlungsfelder", "Offenheit")


def shown_proposals(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The proposals as shown: rank; name (bold), type, place, distance with its basis and points; reasons.

    Three columns that wrap in full: with one column per field the table scrolled sideways at 1440 px.
    """
    out = []
    for row in table:
        distance = "" if row["Entfernung (km)"] == "–" else f"{row['Entfernung (km)']} km"
        if distance and row["Genauigkeit"]:
            distance += f" (nach {row['Genauigkeit']})"
        out.append({"Rang": common.number(row["Rang"]),
                    "Vorschlag": f"**{common.md(row['Name'])}**"
                    + "".join(f" · {common.md(x)}" for x in (row["Typ"], row["Ort"], distance) if x)
                    + f" · {common.md(row['Punkte'])} Punkte",
                    "Gründe": row["Gründe"]})
    return out


def _partners_tab() -> None:
    options = common.mso_options()
    if not options:
        st.info("Es sind keine MSO im Datenbestand.")
        return
    c1, c2, c3, c4 = st.columns([2.6, 1, 1.3, 1.6])
    org_id = common.pick_one(c1, "MSO auswählen (Namen eintippen)", options, key="tandem_mso",
                             placeholder="Name eintippen …")
    top = c2.number_input("Vorschläge", 3, 50, 10, key="tandem_top")
    max_km = c3.number_input("Höchstens km", 0, 300, 0, step=5, key="tandem_km",
                             help="0 = ohne Grenze (so weit, wie es passende Partner gibt)")
    sector = c4.selectbox("Nur Handlungsfeld", list(SECTORS), index=None, format_func=lambda k: label("sector", k),
                          placeholder="alle", key="tandem_sector")
    if org_id is None:
        st.caption("Wählen Sie eine MSO. Vorgeschlagen werden Organisationen außerhalb des Migrationsfelds "
                   "(z.B. Behindertenhilfe, Senior\\*innenarbeit, Frauen- und Mädchenarbeit, LSBTIQ\\*, Jugendhilfe), "
                   "mit denen die MSO noch nicht verbunden ist – nach Handlungsfeld, Entfernung, gemeinsamen "
                   "Kontakten und freier Kapazität.")
        return
    o1 = o2 = st.container()  # one below the other: side by side the labels were cut at 1024 px
    umbrella = o1.checkbox("Auch Dach- und Landesverbände, Ministerien, Bezirksregierung", key="tandem_umbrella")
    services = o2.checkbox("Auch migrationsspezifische Dienste (z.B. Fachdienst Integration)", key="tandem_services")
    version = common.data_version()
    rows = _proposals(version, org_id, int(top), float(max_km) or None, sector, umbrella, services)
    if not rows:
        st.warning("Keine passenden Partner gefunden. Erweitern Sie die Entfernung oder entfernen Sie den Filter "
                   "für das Handlungsfeld.")
        return
    table = proposal_rows(rows)
    # The reasons are the point of the page: a few columns that wrap in full (the parts of the score, which made
    # the table scroll sideways, are below it and in the CSV).
    common.reading_table(shown_proposals(table), key="tandem_table", markdown=["Vorschlag"])
    with st.expander("Punkte im Einzelnen (Teilwerte 0–1)"):
        common.reading_table([{k: row[k] for k in ("Rang", "Name", "Punkte", *SCORE_PARTS)} for row in table],
                             key="tandem_parts")
    mso_name = common.graph().nodes[org_id].get("name") or org_id
    export = [{"MSO": mso_name, **row} for row in table]
    common.download_button("Vorschläge als CSV herunterladen", common.csv_bytes(export),
                           file_name="msonet-tandem-vorschlaege.csv", mime="text/csv", key="tandem_csv")
    G = common.graph()
    mso = point_rows([{**G.nodes[org_id], "id": org_id}])
    # partners at the MSO's point (same postcode or town) or at each other's are moved apart: every dot shows
    partners = spread_points(point_rows([{**G.nodes[r["id"]], "id": r["id"]} for r in rows]),
                             anchor=mso[0] if mso else None)
    extra = {r["id"]: [f"Rang {i}, Punkte {_number(r.get('score'), 2)}"]
             + ([f"Entfernung ca. {_number(r['distance_km'])} km"] if r.get("distance_km") is not None else [])
             for i, r in enumerate(rows, start=1)}
    fig = points_figure(partners, geojson=common.district_geojson(), highlight=mso,
                        highlight_name="gewählte MSO", extra=extra, height=480)
    rank_labels(fig, partners)
    focus_map(fig, [*partners, *mso], 480)
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key="tandem_map")
    with st.expander("So entsteht die Punktzahl"):
        st.markdown("Punkte (0–1) = 50 % Nähe (gleicher Punkt = 1, 5 km = 0,5, 15 km = 0,25; Entfernung nach "
                    "Adresse, sonst Postleitzahl, sonst Gemeinde) + 20 % gemeinsame Kontakte + 15 % Aktivität "
                    "(Zahl der Kontakte) + 10 % Handlungsfelder (gemeinsame und ergänzende Felder) + 5 % "
                    "Offenheit (noch kein oder wenige Tandems). Die Gewichte stammen aus der Qualitätsmessung "
                    "(docs/quality.md). Bereits verbundene Organisationen, Dach- und Landesverbände, Ministerien, "
                    "Bezirksregierung und migrationsspezifische Dienste werden nicht vorgeschlagen. Liegen "
                    "Vorschläge höchstens 0,03 Punkte auseinander, kommt zuerst eine Art (Typ, Träger), die noch "
                    "nicht in der Liste steht; solche Zeilen sagen das in den Gründen.")


def _cohort_tab() -> None:
    names = common.district_names()
    c1, c2, c3 = st.columns([1, 2, 1])
    count = c1.number_input("Anzahl Tandems", 1, 100, 5, key="cohort_count")
    district = c2.selectbox("Kreis / kreisfreie Stadt", sorted(names, key=names.get), index=None,
                            format_func=names.get, placeholder="ganz NRW", key="cohort_district")
    max_km = c3.number_input("Höchstens km", 1, 300, 50, step=5, key="cohort_km")
    st.caption("Jede Organisation kommt höchstens einmal vor; die Paare werden so gewählt, dass die Summe der "
               "Punkte am größten ist (gewichtetes Matching).")
    if not st.toggle("Kohorte planen", key="cohort_run"):
        return
    result = _cohort(common.data_version(), int(count), district, float(max_km))
    pairs = list(result)
    if not pairs:
        st.warning("Keine Tandems möglich – bitte Entfernung erhöhen oder den Kreis ändern.")
        return
    rows = [_pair_row(i, p) for i, p in enumerate(pairs, start=1)]
    # shown in fewer, wrapping columns (the CSV keeps one column per field)
    common.reading_table([{"Nr.": common.number(r["Nr."]),
                           "Tandem": f"**{common.md(r['MSO'])}**" + (f" ({common.md(r['Ort MSO'])})" if r["Ort MSO"]
                                                                      else "")
                           + f" und **{common.md(r['Partner'])}**"
                           + "".join(f" · {common.md(x)}" for x in (r["Typ Partner"], r["Ort Partner"]) if x)
                           + (f" · {common.md(r['Entfernung (km)'])} km" if r["Entfernung (km)"] != "–" else "")
                           + f" · {common.md(r['Punkte'])} Punkte",
                           "Gründe": r["Gründe"]} for r in rows], key="cohort_table", markdown=["Tandem"])
    if len(pairs) < count:
        st.info(f"Nur {len(pairs)} von {count} Tandems möglich.")
    common.download_button("Kohorte als CSV herunterladen", common.csv_bytes(rows),
                           file_name="msonet-tandem-kohorte.csv", mime="text/csv", key="cohort_csv")


def _pair_row(i: int, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "Nr.": i,
        "MSO": p.get("mso_name") or p.get("mso_id") or "",
        "Ort MSO": p.get("mso_city") or "",
        "Partner": p.get("partner_name") or p.get("partner_id") or "",
        "Typ Partner": label("org_type", p.get("partner_org_type") or ""),
        "Ort Partner": p.get("partner_city") or "",
        "Entfernung (km)": _number(p.get("distance_km")),
        "Punkte": _number(p.get("score"), 2),
        "Gründe": " ".join(p.get("reasons") or ()),
    }


def _body() -> None:
    auth.require("advise")
    st.title("Tandem-Suche")
    st.caption("Ein Tandem ist eine MSO und eine Organisation außerhalb des Migrationsfelds, im selben Ort oder "
               "in der Nähe, die „auf Augenhöhe“ zusammenarbeiten.")
    if common.empty_state():
        return
    tab_partner, tab_cohort = st.tabs(["Partner für eine MSO", "Kohorte planen (mehrere Tandems)"])
    with tab_partner:
        _partners_tab()
    with tab_cohort:
        _cohort_tab()


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
