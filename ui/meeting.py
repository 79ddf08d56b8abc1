"""Page „Vernetzungstreffen“: plan whom to invite and how to seat them; record who came afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from msonet.graph.formats import fmt_number
from msonet.graph.model import Event, RecordBatch, make_id
from msonet.graph.vocabulary import EVENT_TYPES, SECTORS, label
from msonet.ui import auth, common

__all__ = ["render", "table_rows"]

#: ``source`` of records entered in the app.
APP_SOURCE = "Eingabe in der App"


@st.cache_resource(show_spinner=False)
def _municipalities() -> dict[str, Any]:
    from msonet.loaders.geography import load_municipalities

    return load_municipalities()


@st.cache_data(show_spinner="Plane das Treffen …", max_entries=16)
def _plan(version: str, capacity: int, today: str, district: str | None, bezirk: str | None, topic: str | None,
          tables: int, organisers: tuple[str, ...], venue: tuple[str, float, float] | None = None,
          radius_km: float | None = None) -> dict[str, Any]:
    from msonet.graph.meeting import plan_meeting

    return plan_meeting(common.graph(), capacity, today=dt.date.fromisoformat(today), district=district,
                        regierungsbezirk=bezirk, topic=topic, tables=tables, organisers=organisers,
                        venue=venue[1:] if venue else None, venue_name=venue[0] if venue else None,
                        radius_km=radius_km)


def _de(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def objective_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The objective's value and its parts as German rows (pure, for tests)."""
    objective = plan.get("objective") or {}
    summary = plan.get("summary") or {}
    carriers = summary.get("carriers") or {}
    return [
        {"Kennzahl": "Zielwert", "Wert": _de(objective.get("value", 0)),
         "Erläuterung": objective.get("description", "")},
        {"Kennzahl": "plausible neue Paare mit isolierten MSO", "Wert": str(objective.get("pairs_isolated", 0)),
         "Erläuterung": f"zählen {_de(objective.get('isolated_weight', 2))}-fach"},
        {"Kennzahl": "weitere plausible neue Paare", "Wert": str(objective.get("pairs_other", 0)),
         "Erläuterung": "MSO mit einer Organisation außerhalb des Migrationsbereichs, noch nicht verbunden"},
        {"Kennzahl": "davon am selben Tisch", "Wert": str(objective.get("pairs_at_tables", 0)), "Erläuterung": ""},
        {"Kennzahl": "Träger unter den Eingeladenen",
         "Wert": ", ".join(f"{k} {v}" for k, v in carriers.items()) or "keine",
         "Erläuterung": "kein Träger erhält mehr als ein Viertel der Plätze"},
        {"Kennzahl": "Anreise (Median)",
         "Wert": f"{_de(summary['median_venue_km'])} km" if summary.get("median_venue_km") is not None else "–",
         "Erläuterung": "Luftlinie zum Veranstaltungsort"},
    ]


def table_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per table group with German columns (pure, for tests)."""
    return [{"Tisch": t["table"], "Teilnehmende": ", ".join(t.get("names") or ()),
             "plausible Paare": t.get("pairs", 0), "neue Kontakte": t.get("new_ties", 0),
             "davon über das Migrationsfeld hinaus": t.get("cross_field_new_ties", 0),
             "Handlungsfelder": ", ".join(label("sector", s) for s in t.get("sectors") or ())}
            for t in plan.get("tables", [])]


def shown_invitees(invitees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invitation list as shown: table, the organisation (name in bold, type, place, travel, role), reason."""
    return [{"Tisch": "" if r["Tisch"] is None else fmt_number(r["Tisch"]),
             "Organisation": f"**{common.md(r['Name'])}**"
             + "".join(f" · {common.md(x)}" for x in (r["Typ"], r["Ort"], r["Anreise"], r["Rolle"]) if x),
             "Begründung": r["Begründung"]} for r in invitees]


def shown_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table groups as shown: table, who sits there, and what the table brings (figures and fields)."""
    return [{"Tisch": fmt_number(g["Tisch"]), "Teilnehmende": g["Teilnehmende"],
             "Was der Tisch verbindet": f"{fmt_number(g['plausible Paare'])} plausible Paare, "
             f"{fmt_number(g['neue Kontakte'])} neue Kontakte (davon "
             f"{fmt_number(g['davon über das Migrationsfeld hinaus'])} über das Migrationsfeld hinaus)"
             + (f"; Handlungsfelder: {g['Handlungsfelder']}" if g["Handlungsfelder"] else "")} for g in groups]


def _plan_tab() -> None:
    names = common.district_names()
    options = common.org_options()
    bezirke = sorted({d.regierungsbezirk for d in common.districts().values()})
    # two rows: five fields in one row broke "Regierungsbezirk" and cut the choices at 1024 px
    c1, c2, c5 = st.columns([1, 1, 2])
    c3, c4 = st.columns(2)
    from msonet.graph.meeting import DEFAULT_RADIUS_KM, MAX_CAPACITY, MAX_RADIUS_KM

    capacity = c1.number_input("Plätze", 2, MAX_CAPACITY, 30, key="meet_capacity")
    tables = c2.number_input("Tische", 1, 50, 4, key="meet_tables")
    bezirk = c3.selectbox("Regierungsbezirk", bezirke, index=None, placeholder="ganz NRW", key="meet_rb")
    district_keys = sorted((k for k, d in common.districts().items() if not bezirk or d.regierungsbezirk == bezirk),
                           key=names.get)
    district = c4.selectbox("Kreis / kreisfreie Stadt", district_keys, index=None, format_func=names.get,
                            placeholder="alle", key="meet_district")
    topic = c5.selectbox("Thema (Handlungsfeld)", list(SECTORS), index=None, format_func=lambda k: label("sector", k),
                         placeholder="alle Themen", key="meet_topic")
    organisers = common.pick_many(st, "Veranstaltende Organisationen (sind gesetzt und leiten je einen Tisch)",
                                  options, placeholder="optional", key="meet_hosts")
    v1, v2 = st.columns([2, 1])
    venue_text = v1.text_input("Veranstaltungsort (Ort oder PLZ in NRW)", key="meet_venue",
                               placeholder="leer: Mitte des Kreises bzw. Regierungsbezirks")
    # empty: the planner's default, shown as it will apply (no region and no venue: all of NRW, no limit)
    limited = bool(bezirk or district or venue_text.strip())
    radius = v2.number_input("Reiseradius (km)", 1.0, MAX_RADIUS_KM, None, step=5.0, key="meet_radius",
                             placeholder=f"{DEFAULT_RADIUS_KM:.0f} km" if limited else "ohne Grenze",
                             help=f"Leer: {DEFAULT_RADIUS_KM:.0f} km um den Veranstaltungsort; für ganz NRW ohne "
                                  "Grenze.")
    from msonet.graph.errors import GraphError
    from msonet.loaders.gazetteer import region_centre, resolve_venue

    try:
        venue = resolve_venue(venue_text) if venue_text.strip() else region_centre(district, bezirk)
    except GraphError as exc:
        st.error(common.md(str(exc)))
        return
    today = common.today()
    plan = _plan(common.data_version(), int(capacity), today.isoformat(), district, bezirk, topic, int(tables),
                 tuple(organisers), venue, float(radius) if radius is not None else None)
    st.session_state["meet_last_invitees"] = [r["id"] for r in plan["invitees"]]
    summary = plan.get("summary", {})
    objective = plan.get("objective") or {}
    cols = [*st.columns(3), *st.columns(3)]  # five in one row cut their labels on 1024 px screens
    cols[0].metric("Eingeladen", summary.get("invited", len(plan["invitees"])))
    cols[1].metric("Zielwert", _de(objective.get("value", 0)))
    cols[2].metric("plausible neue Paare", objective.get("pairs", 0))
    cols[3].metric("isolierte MSO eingeladen", summary.get("isolated_msos", 0))
    cols[4].metric("MSO / Partner", f"{summary.get('msos', 0)} / {summary.get('partners', 0)}")
    place = plan.get("venue") or {}
    if place.get("name"):
        radius_text = ("ohne Grenze" if place["radius_km"] >= MAX_RADIUS_KM else f"{_de(place['radius_km'])} km")
        st.caption(common.md(f"Veranstaltungsort: {place['name']}, Reiseradius {radius_text}. "
                             "Ziel: möglichst viele plausible neue Paare aus MSO und Organisationen außerhalb des "
                             "Migrationsbereichs (gemeinsames oder ergänzendes Handlungsfeld, beide erreichbar, "
                             "noch nicht verbunden); isolierte MSO zählen doppelt."))
    with st.expander("Zielwert und seine Teile"):
        common.text_table(objective_rows(plan), text_columns=[])
    for note in plan.get("notes", []):
        st.caption(common.md(note))
    if not plan["invitees"]:
        st.warning("Für diese Auswahl gibt es keine Organisationen. Bitte Region oder Thema ändern.")
        return
    # One below the other: side by side, roles, reasons and table groups were cut off in narrow columns.
    left, right = st.container(), st.container()
    with left:
        st.markdown("**Einladungsliste**")
        invitees = [{"Tisch": r.get("table"), "Name": r["name"], "Typ": r.get("org_type_label") or "",
                     "Ort": r.get("city") or "",
                     "Anreise": f"{_de(r['venue_km'])} km" if r.get("venue_km") is not None else "",
                     "Rolle": r.get("role") or "",
                     "Begründung": " ".join(r.get("reasons") or ())}
                    for r in plan["invitees"]]
        # Three columns, every cell wrapped in full: no cut reasons or roles, no sideways scrolling at 1024 px.
        common.reading_table(shown_invitees(invitees), key="meet_invitees", markdown=["Organisation"])
    with right:
        st.markdown("**Tischgruppen**")
        groups = table_rows(plan)
        common.reading_table(shown_groups(groups), key="meet_groups")
    from msonet.graph.meeting import invitation_rows

    include_email = auth.allowed("contact") and st.checkbox(
        "E-Mail-Adressen in die Liste aufnehmen (personenbezogene Daten)", value=False, key="meet_email")
    rows = invitation_rows(common.graph(), plan, include_email=include_email)
    data = common.csv_bytes(rows)
    if include_email:
        data = auth.audited_download("invitations_email", lambda content=data: content, rows=len(rows),
                                     with_email=sum(1 for r in rows if r.get("E-Mail")))
    common.download_button("Einladungsliste als CSV herunterladen", data,
                           file_name="msonet-einladungsliste.csv", mime="text/csv", key="meet_csv")


def _take_invitees() -> None:
    options = common.org_options()
    st.session_state["att_orgs"] = [o for o in st.session_state.get("meet_last_invitees", []) if o in options]


def _attendance_tab() -> None:
    if not auth.allowed("edit"):
        st.info("Teilnahmen erfassen dürfen Personen mit der Rolle „Bearbeiten“ oder „Verwalten“.")
        return
    st.caption("Nach dem Treffen: Veranstaltung wählen oder anlegen, teilnehmende Organisationen auswählen und "
               "speichern. Daraus werden Beziehungen „nahm teil an“.")
    mode = st.radio("Veranstaltung", ["Bestehende Veranstaltung wählen", "Neue Veranstaltung anlegen"],
                    horizontal=True, key="att_mode")
    new_event: Event | None = None
    event_id: str | None = None
    if mode.startswith("Bestehende"):
        events = common.event_options()
        event_id = st.selectbox("Veranstaltung (Namen eintippen)", list(events), index=None, format_func=events.get,
                                placeholder="Veranstaltung wählen …", key="att_event")
    else:
        munis = _municipalities()
        c1, c2, c3, c4 = st.columns([2.2, 1.2, 1, 1.6])
        name = c1.text_input("Name der Veranstaltung", key="att_name", placeholder="z.B. Vernetzungstreffen Köln 2025")
        event_type = c2.selectbox("Art", list(EVENT_TYPES), format_func=lambda k: label("event_type", k),
                                  key="att_type")
        date = c3.date_input("Datum", common.today(), format="DD.MM.YYYY", key="att_date")
        ags = c4.selectbox("Ort", sorted(munis, key=lambda a: munis[a].name), index=None,
                           format_func=lambda a: f"{munis[a].name} ({munis[a].district_name})",
                           placeholder="Ort wählen …", key="att_place")
        if name.strip() and ags:
            place = munis[ags]
            event_id = make_id("ev", name.strip(), date.isoformat())
            new_event = Event(id=event_id, name=name.strip(), event_type=event_type, date=date.isoformat(),
                              city=place.name, ags=place.ags, district=place.district,
                              regierungsbezirk=place.regierungsbezirk, lat=place.lat, lon=place.lon,
                              source=APP_SOURCE, updated=common.today().isoformat())
    options = common.org_options()
    st.button("Eingeladene aus der Planung übernehmen", on_click=_take_invitees, key="att_take",
              disabled=not st.session_state.get("meet_last_invitees"))
    org_ids = common.pick_many(st, "Teilnehmende Organisationen", options, placeholder="Namen eintippen …",
                               key="att_orgs")
    ready = bool(event_id and org_ids)
    if st.button("Teilnahme speichern", type="primary", disabled=not ready, key="att_save"):
        from msonet.graph.meeting import attendance_relations

        relations = attendance_relations(event_id, org_ids, source=APP_SOURCE, updated=common.today().isoformat())
        batch = RecordBatch(events=[new_event] if new_event else [], relations=relations)
        summary = common.get_store().upsert(batch)
        auth.audit("attendance", organisations=len(relations), events=summary.events, relations=summary.relations)
        st.session_state["att_saved"] = (len(relations), summary.total)
    saved = st.session_state.pop("att_saved", None)
    if saved:
        st.success(f"Teilnahme von {saved[0]} Organisationen gespeichert ({saved[1]} Datensätze neu oder geändert).")
    if not ready:
        st.caption("Zum Speichern eine Veranstaltung (bei neuen: Name und Ort) und mindestens eine Organisation "
                   "wählen.")


def _body() -> None:
    auth.require("advise")
    st.title("Vernetzungstreffen")
    st.caption("Wen einladen, damit neue Verbindungen entstehen – besonders zwischen MSO und Regeldiensten? "
               "Isolierte MSO und Brückenakteure kommen zuerst; an den Tischen sitzen möglichst Menschen, die "
               "sich noch nicht kennen.")
    if common.empty_state():
        return
    tab_plan, tab_record = st.tabs(["Treffen planen", "Teilnahme erfassen"])
    with tab_plan:
        _plan_tab()
    with tab_record:
        _attendance_tab()


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
