"""msonet – the Streamlit app: start with ``streamlit run app.py`` (German user interface)."""

from __future__ import annotations

import streamlit as st

__all__ = ["PAGES", "main"]

#: (page file, German title, Material icon, URL path); the first page opens by default (its URL is "/").
PAGES = [
    ("ui/overview.py", "Übersicht", ":material/home:", "uebersicht"),
    ("ui/network.py", "Netzwerk", ":material/hub:", "netzwerk"),
    ("ui/isolation.py", "Isolierte Organisationen", ":material/person_off:", "isoliert"),
    ("ui/tandem.py", "Tandem-Suche", ":material/handshake:", "tandem"),
    ("ui/meeting.py", "Vernetzungstreffen", ":material/groups:", "treffen"),
    ("ui/coverage.py", "Versorgungskarte", ":material/map:", "karte"),
    ("ui/data.py", "Daten", ":material/upload_file:", "daten"),
    ("ui/admin.py", "Verwaltung", ":material/admin_panel_settings:", "verwaltung"),
]


def main() -> None:
    """Configure the page and run the page the user chose."""
    # An explicit emoji page_icon becomes an inline SVG favicon. Without it Streamlit uses the page's Material
    # icon as favicon and fetches it from fonts.gstatic.com, which fails offline.
    st.set_page_config(page_title="msonet – Netzwerk-Explorer MSO NRW", page_icon="🕸️", layout="wide")
    from msonet.ui import auth

    principal = auth.gate()  # sign-in; stops here until the session has a role
    # Pages the role may not open are not offered; a URL of such a page opens the Übersicht instead
    # (and every page checks the right itself as well).
    pages = [st.Page(path, title=title, icon=icon, url_path=url, default=(i == 0))
             for i, (path, title, icon, url) in enumerate(PAGES) if i == 0 or auth.may_open(path)]
    page = st.navigation(pages)
    st.sidebar.caption("msonet · Netzwerk-Explorer für Migrant\\*innenselbstorganisationen und Regeldienste in NRW")
    auth.sidebar(principal)
    page.run()


# Streamlit executes this file as "__main__" on every rerun.
if __name__ == "__main__":
    main()
