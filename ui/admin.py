"""Page „Verwaltung“ (role Verwalten): audit log, deleting an organisation („vergessen“), accounts, roles."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from msonet.graph.access import RIGHTS, ROLE_LABELS, ROLES, AuditLog, LocalAccounts, audit_rows, has_right
from msonet.ui import auth, common

__all__ = ["render", "rights_table"]


def rights_table() -> list[dict[str, str]]:
    """One row per right, a column per role with ✓ (pure, for tests and the page)."""
    return [{"Recht": text, **{ROLE_LABELS[r]: "✓" if has_right(r, right) else "" for r in ROLES}}
            for right, (_lowest, text) in RIGHTS.items()]


def _time(stamp: object) -> str:
    """``2026-12-01T05:41:20+00:00`` -> ``01.12.2026 05:41:20`` (the log writes UTC)."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(str(stamp)).strftime("%d.%m.%Y %H:%M:%S")
    except ValueError:
        return str(stamp)


def _log_section() -> None:
    settings = common.settings()
    log = AuditLog(settings.audit_path)
    entries = log.entries()
    st.subheader("Protokoll")
    st.caption(f"Jede Änderung der Daten, jeder Export mit personenbezogenen Daten und jede An- und Abmeldung – mit "
               f"Zeit, Benutzer, Aktion und Anzahlen, nie mit Inhalten der Daten. Datei: "
               f"{common.md(settings.audit_path)}")
    problems = log.verify()
    if problems:
        st.error("Das Protokoll wurde nachträglich verändert: " + common.md(" ".join(problems[:5])))
    elif entries:
        count = "1 Eintrag" if len(entries) == 1 else f"{common.number(len(entries))} Einträge"
        st.success(f"{count}, lückenlos verkettet (keine nachträgliche Änderung erkennbar).")
    if not entries:
        st.caption("Noch keine Einträge.")
        return
    rows = audit_rows(entries)
    # shown as TT.MM.JJJJ hh:mm:ss; the CSV keeps the exact ISO time stamp of the log
    shown = [{**r, "Zeit (UTC)": _time(r["Zeit (UTC)"])} for r in rows]
    st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch", height=common.table_height(len(rows), 420))
    c1 = c2 = st.container(horizontal=True, wrap=True, key="audit_downloads")  # labels not cut at 1024 px
    common.download_button("Protokoll als CSV herunterladen", common.csv_bytes(rows), file_name="msonet-protokoll.csv",
                           mime="text/csv", key="audit_csv", where=c1)
    common.download_button("Protokoll als Originaldatei (JSON Lines, mit Prüfkette)", settings.audit_path.read_bytes,
                           file_name="msonet-protokoll.jsonl", mime="application/x-ndjson", key="audit_jsonl",
                           where=c2)


def _forget_section() -> None:
    st.subheader("Organisation löschen („vergessen“)")
    st.caption("Löscht eine Organisation mit allen Beziehungen, Förderungen und Kontaktdaten aus dem Datenspeicher "
               "(z.B. auf Wunsch der Organisation). Im Protokoll bleibt nur, dass gelöscht wurde – ohne Namen.")
    options = common.org_options()
    if not options:
        st.caption("Es sind keine Organisationen gespeichert.")
        return
    org_id = common.pick_one(st, "Organisation", options, key="forget_org", placeholder="Namen eintippen …")
    if org_id is None:
        return
    confirm = st.checkbox("Ja, diese Organisation endgültig löschen", key="forget_confirm")
    if st.button("Löschen", type="primary", disabled=not confirm, key="forget_run"):
        forgotten = common.network().forget(org_id)
        auth.audit("forget", organisations=int(forgotten.removed), relations=forgotten.ties)
        st.session_state.pop("forget_org", None)
        st.session_state.pop("forget_confirm", None)
        st.session_state["forget_done"] = forgotten.ties
        st.rerun()


def _accounts_section() -> None:
    settings = common.settings()
    st.subheader("Benutzer und Rollen")
    mode = {"none": "keine Anmeldung (nur dieser Computer)", "local": "lokale Konten",
            "oidc": "Single Sign-on (OpenID Connect)"}[settings.auth]
    st.markdown(f"Anmeldung: **{mode}** (MSONET_AUTH)")
    if settings.auth == "local":
        accounts = LocalAccounts(settings.users_path).accounts()
        st.dataframe(pd.DataFrame([{"Benutzer": a.name, "Rolle": ROLE_LABELS.get(a.role, a.role),
                                    "angelegt": a.created, "geändert": a.changed} for a in accounts]),
                     hide_index=True, width="stretch")
        st.caption("Konten anlegen, ändern und entfernen auf dem Server: „msonet user add NAME --role ROLLE“, "
                   "„msonet user remove NAME“, „msonet user list“.")
    elif settings.auth == "oidc":
        st.caption(f"Rollen kommen aus dem Claim „{common.md(settings.oidc_claim)}“ des Anmeldedienstes "
                   "(Zuordnung in MSONET_OIDC_ROLES).")
    common.reading_table(rights_table(), key="admin_rights")  # wraps: the grid cut rights and roles at 1024 px


def _body() -> None:
    auth.require("admin")
    st.title("Verwaltung")
    done = st.session_state.pop("forget_done", None)
    if done is not None:
        st.success(f"Die Organisation wurde mit {done} Beziehungen gelöscht.")
    _log_section()
    st.divider()
    _forget_section()
    st.divider()
    _accounts_section()


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
