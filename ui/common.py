"""Shared parts of the Streamlit pages: settings, the cached store and graph, errors, downloads, escaping."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import streamlit as st

from graph.errors import GraphError, StoreError
from graph.settings import Settings
from graph.vocabulary import MSO_TYPES, label
from loaders.export import neutralise_formula  # one rule for the app's downloads and the export files

__all__ = [
    "SECRET_KEYS",
    "settings",
    "get_store",
    "data_version",
    "graph",
    "districts",
    "district_names",
    "district_geojson",
    "run_page",
    "csv_bytes",
    "neutralise",
    "md",
    "org_label",
    "org_options",
    "mso_options",
    "event_options",
    "today",
    "number",
    "table_height",
    "empty_state",
    "org_type_label",
    "sector_label",
]

#: Keys of Streamlit secrets (``.streamlit/secrets.toml``) that override the environment.
SECRET_KEYS = ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE", "FALKORDB_URL",
               "MSONET_MAX_UPLOAD_MB")


def _secrets() -> dict[str, str]:
    """Server settings from Streamlit secrets; no secrets file is normal and means none."""
    try:
        return {k: str(st.secrets[k]) for k in SECRET_KEYS if k in st.secrets}
    except Exception:  # noqa: BLE001 - a missing or unreadable secrets file must not stop the app
        return {}


def settings() -> Settings:
    """Settings from the environment, with Streamlit secrets overriding the server keys."""
    environ = dict(os.environ)
    environ.update(_secrets())
    return Settings.from_env(environ)


def _settings_key(s: Settings) -> tuple[str, ...]:
    # The password stays out of the cache key: it would otherwise sit in Streamlit's cache index.
    return (s.backend, str(s.home), s.neo4j_uri or "", s.neo4j_username, s.neo4j_database, s.falkordb_url or "")


@st.cache_resource(show_spinner="Verbinde mit dem Datenspeicher …", max_entries=4)
def _open_store(key: tuple[str, ...], _settings: Settings):
    from graph.backends import open_store

    return open_store(_settings)


def get_store():
    """The store the settings point to, opened once per process (driver or file handle is reused)."""
    s = settings()
    return _open_store(_settings_key(s), s)


def data_version() -> str:
    """Cache token: changes whenever the data changes; includes where the data lives."""
    s = settings()
    return "|".join(_settings_key(s)) + "|" + get_store().data_version()


@st.cache_resource(show_spinner="Lade das Netzwerk …", max_entries=3)
def _graph_for(version: str) -> nx.MultiDiGraph:
    store = get_store()
    # The embedded store replaces (never mutates) its graph on every write, so its live view is safe to share.
    view = getattr(store, "graph_view", None)
    return store.to_networkx() if view is None else view()


def graph() -> nx.MultiDiGraph:
    """The whole graph for the current data version, shared by all pages; treat it as read-only."""
    return _graph_for(data_version())


@st.cache_resource(show_spinner=False)
def districts() -> dict[str, Any]:
    """The 53 districts of NRW (key -> District)."""
    from loaders.geography import load_districts

    return load_districts()


def district_names() -> dict[str, str]:
    """District key -> name as people say it (``"Kreis Unna"``, ``"Köln"``)."""
    return {k: d.label for k, d in districts().items()}


@st.cache_resource(show_spinner=False)
def district_geojson() -> dict:
    """District outlines (shared; do not modify)."""
    from loaders.geography import district_geojson as load

    return load()


def run_page(body: Callable[[], None]) -> None:
    """Run a page body; errors msonet raises on purpose appear as a German message, not a traceback."""
    try:
        body()
    except StoreError as exc:
        st.error(f"Der Datenspeicher ist nicht erreichbar oder fehlerhaft: {exc}")
    except GraphError as exc:
        st.error(str(exc))


def neutralise(value: object) -> object:
    """Make a cell harmless for spreadsheet programs: text starting like a formula gets a leading ``'``."""
    return neutralise_formula(value) if isinstance(value, str) else value


def csv_bytes(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """CSV (UTF-8 with BOM so Excel shows umlauts, ``;`` separated as in German Excel), formulas neutralised."""
    columns = list(columns or (list(rows[0]) if rows else []))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for col in columns:
            value = row.get(col)
            if isinstance(value, list | tuple | set):
                value = ", ".join(str(v) for v in value)
            cells.append("" if value is None else neutralise(value))
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md(text: object) -> str:
    """Escape user text for ``st.markdown`` so it shows literally (no links, images, HTML or formatting)."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text)).replace("\n", " ")


def org_type_label(key: str | None) -> str:
    return label("org_type", key) if key else ""


def sector_label(key: str | None) -> str:
    return label("sector", key) if key else ""


def org_label(node: str, d: Mapping[str, Any]) -> str:
    """How an organisation appears in select boxes: ``Name – Ort (Typ)``."""
    place = f" – {d['city']}" if d.get("city") else ""
    return f"{d.get('name') or node}{place} ({org_type_label(d.get('org_type'))})"


@st.cache_data(show_spinner=False, max_entries=8)
def _org_options(version: str, only_mso: bool) -> dict[str, str]:
    G = graph()
    rows = [(n, d) for n, d in G.nodes(data=True) if d.get("kind") == "organisation"
            and (not only_mso or d.get("org_type") in MSO_TYPES)]
    rows.sort(key=lambda r: ((r[1].get("name") or "").casefold(), r[0]))
    return {n: org_label(n, d) for n, d in rows}


def org_options() -> dict[str, str]:
    """Organisation id -> select-box label, sorted by name (cached per data version)."""
    return _org_options(data_version(), False)


def mso_options() -> dict[str, str]:
    """Like :func:`org_options`, MSOs only."""
    return _org_options(data_version(), True)


@st.cache_data(show_spinner=False, max_entries=8)
def _event_options(version: str) -> dict[str, str]:
    G = graph()
    rows = [(n, d) for n, d in G.nodes(data=True) if d.get("kind") == "event"]
    rows.sort(key=lambda r: (r[1].get("date") or "", r[0]), reverse=True)
    return {n: f"{d.get('date') or 'ohne Datum'} – {d.get('name') or n}"
            + (f" ({d['city']})" if d.get("city") else "") for n, d in rows}


def event_options() -> dict[str, str]:
    """Event id -> select-box label, newest first."""
    return _event_options(data_version())


def number(value: int | float) -> str:
    """German thousands separator: ``4907`` -> ``"4.907"``."""
    return f"{value:,.0f}".replace(",", ".")


def table_height(rows: int, limit: int = 520) -> int:
    """Pixel height of a data frame showing ``rows`` rows, at most ``limit`` (no empty grid below short tables)."""
    return min(limit, 38 + 35 * max(rows, 1))


def today() -> dt.date:
    """The reference date of analyses (overridable with ``MSONET_TODAY`` for reproducible tests)."""
    fixed = os.environ.get("MSONET_TODAY")
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError:
            st.warning(f"MSONET_TODAY „{fixed}“ ist kein Datum im Format JJJJ-MM-TT; verwende heute.")
    return dt.date.today()


def empty_state() -> bool:
    """Show a hint and return True when the store holds no organisations yet."""
    if any(d.get("kind") == "organisation" for _, d in graph().nodes(data=True)):
        return False
    st.info("Es sind noch keine Daten geladen. Auf der Seite **Übersicht** können Sie Demodaten laden, "
            "auf der Seite **Daten** eigene Dateien hochladen.")
    st.page_link("ui/overview.py", label="Zur Übersicht", icon="🏠")
    return True


def options_labels(keys: Iterable[str], kind: str) -> dict[str, str]:
    """Vocabulary key -> German label, for multiselects (``format_func=labels.get``)."""
    return {k: label(kind, k) for k in keys}
