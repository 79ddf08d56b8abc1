"""Shared parts of the Streamlit pages: settings, the cached store and graph, errors, downloads, escaping."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import streamlit as st

from msonet.graph.errors import GraphError, StoreError
from msonet.graph.formats import fmt_date, fmt_decimal, fmt_number
from msonet.graph.settings import MAX_OPTIONS, Settings
from msonet.graph.vocabulary import MSO_TYPES, label
from msonet.loaders.export import neutralise_formula  # one rule for the app's downloads and the export files

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
    "MAX_OPTIONS",
    "max_options",
    "max_nodes",
    "max_table_rows",
    "settle",
    "fold",
    "search_options",
    "pick_one",
    "pick_many",
    "today",
    "number",
    "table_height",
    "text_table",
    "TEXT_ROW_HEIGHT",
    "empty_state",
    "org_type_label",
    "sector_label",
]

#: Keys of Streamlit secrets (``.streamlit/secrets.toml``) that override the environment.
SECRET_KEYS = ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE", "FALKORDB_URL",
               "MSONET_MAX_UPLOAD_MB", "MSONET_AUTH", "MSONET_USERS_FILE", "MSONET_AUDIT_LOG", "MSONET_OIDC_PROVIDER",
               "MSONET_OIDC_CLAIM", "MSONET_OIDC_ROLES", "MSONET_OIDC_DEFAULT_ROLE", "MSONET_ALLOW_UNPROTECTED")


def secrets_file_exists() -> bool:
    """Whether one of Streamlit's secrets files exists. Without one, ``st.secrets`` looks for the files again
    on every access (and raises), which costs every page run more than the page itself at many sessions."""
    try:
        paths = st.config.get_option("secrets.files")
    except Exception:  # noqa: BLE001 - an unreadable config: let st.secrets decide
        return True
    return any(Path(path).exists() for path in paths)


def _secrets() -> dict[str, str]:
    """Server settings from Streamlit secrets; no secrets file is normal and means none."""
    if not secrets_file_exists():
        return {}
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
    from msonet.graph.backends import open_store

    return open_store(_settings)


def get_store():
    """The store the settings point to, opened once per process (driver or file handle is reused)."""
    s = settings()
    return _open_store(_settings_key(s), s)


def network():
    """The store of this session as a :class:`msonet.api.Network` (the Python API the pages call); the
    reference day is :func:`today`. Not to be closed: the store is shared."""
    from msonet.api import Network

    return Network(get_store(), settings(), today=today())


def data_version() -> str:
    """Cache token: changes whenever the data changes; includes where the data lives."""
    s = settings()
    return "|".join(_settings_key(s)) + "|" + get_store().data_version()


@st.cache_resource(show_spinner="Lade das Netzwerk …", max_entries=3)
def _graph_for(version: str) -> nx.MultiDiGraph:
    # graph_view: a graph no write ever changes (a write makes the next call read a new one), so all
    # sessions can share it and each sees one data version, never a mix.
    G = get_store().graph_view()
    _freeze_long_lived()
    return G


def _freeze_long_lived() -> None:
    """Keep Python's garbage collector off the loaded graph.

    A graph of 100,000 organisations is some ten million objects. Streamlit runs a full collection
    after every page run, and each one walked all of them again: 0.7 s on every page switch. Frozen
    objects are skipped by the collector (reference counting still frees them). A graph that dropped
    out of the cache may sit in a reference cycle (networkx views point back to their graph), so each
    new load first unfreezes and collects once, which frees graphs of earlier data versions.
    """
    gc.unfreeze()
    settle()


def settle() -> None:
    """Collect garbage once and freeze what lives on (call after building a large cached resource)."""
    gc.collect()
    gc.freeze()


def graph() -> nx.MultiDiGraph:
    """The whole graph for the current data version, shared by all pages; treat it as read-only."""
    return _graph_for(data_version())


@st.cache_resource(show_spinner=False)
def districts() -> dict[str, Any]:
    """The 53 districts of NRW (key -> District)."""
    from msonet.loaders.geography import load_districts

    return load_districts()


def district_names() -> dict[str, str]:
    """District key -> name as people say it (``"Kreis Unna"``, ``"Köln"``)."""
    return {k: d.label for k, d in districts().items()}


@st.cache_resource(show_spinner=False)
def district_geojson() -> dict:
    """District outlines for drawing, simplified below a pixel at NRW's zoom (shared; do not modify)."""
    from msonet.graph.maps import display_geojson
    from msonet.loaders.geography import district_geojson as load

    return display_geojson(load())


def run_page(body: Callable[[], None]) -> None:
    """Run a page body; errors msonet raises on purpose appear as a German message, not a traceback."""
    try:
        body()
    except StoreError as exc:
        st.error(f"Der Datenspeicher ist nicht erreichbar oder fehlerhaft: {md(exc)}")
    except GraphError as exc:
        st.error(str(exc))


def neutralise(value: object) -> object:
    """Make a cell harmless for spreadsheet programs: text starting like a formula gets a leading ``'``."""
    return neutralise_formula(value) if isinstance(value, str) else value


def download_button(label: str, data: Any, *, file_name: str, mime: str, key: str, where: Any = None,
                    **kwargs: Any) -> None:
    """A download button that does not rerun the page when clicked.

    ``data`` may be bytes or a function that builds them on click. A rerun after the click is of no use
    to a download, and on a busy server it could drop a file built on click before the browser fetched
    it: the click then brought nothing.
    """
    (where or st).download_button(label, data, file_name=file_name, mime=mime, key=key, on_click="ignore",
                                  **kwargs)


def csv_bytes(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """CSV (UTF-8 with BOM so Excel shows umlauts, ``;`` separated as in German Excel), formulas neutralised.

    Decimal numbers get a decimal comma (``3,4``), whole numbers no thousands dot, so Excel reads both as numbers.
    """
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
            elif isinstance(value, float) and not isinstance(value, bool):
                # German Excel reads "3,4" as a number; "3.4" became a date or text.
                value = "" if math.isnan(value) else fmt_decimal(value, 6)
            cells.append("" if value is None else neutralise(value))
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


# GitHub-flavoured Markdown turns bare web and mail addresses into links even when escaped; a word joiner
# (invisible, U+2060) after the scheme, "www" or "@" keeps them text
_AUTOLINK = re.compile(r"(?i)(https?:|ftp:|mailto:|www(?=\.)|@)")


def md(text: object) -> str:
    """Escape user text for ``st.markdown`` so it shows literally (no links, images, HTML or formatting)."""
    unlinked = _AUTOLINK.sub("\\1\u2060", "" if text is None else str(text))
    # one line: a blank line would start a new block, where four leading spaces make code and so on
    return " ".join(_MD_SPECIAL.sub(r"\\\1", unlinked).splitlines())


def code(text: object) -> str:
    """User text as a Markdown code span on one line: shown exactly (copyable), never a link or markup."""
    one_line = " ".join(("" if text is None else str(text)).splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1)
    return f"{fence} {one_line} {fence}"


def org_type_label(key: str | None) -> str:
    return label("org_type", key) if key else ""


def sector_label(key: str | None) -> str:
    return label("sector", key) if key else ""


def org_label(node: str, d: Mapping[str, Any]) -> str:
    """How an organisation appears in select boxes: ``Name – Ort (Typ)``."""
    place = f" – {d['city']}" if d.get("city") else ""
    return f"{d.get('name') or node}{place} ({org_type_label(d.get('org_type'))})"


def max_options() -> int:
    """Above this many choices a select box becomes a search field plus a short list of hits (setting
    ``max_options``, ``MSONET_MAX_OPTIONS``; default :data:`MAX_OPTIONS`): every choice of a select box
    travels to the browser on every page run (100,000 organisations were 6 MB per run)."""
    return settings().max_options


def max_nodes() -> int:
    """Largest network view drawn node by node (setting ``max_nodes``, ``MSONET_MAX_NODES``).

    Larger views are drawn as one node per district.
    """
    return settings().max_nodes


def max_table_rows() -> int:
    """Rows drawn in a large result table (setting ``max_table_rows``, ``MSONET_MAX_TABLE_ROWS``)."""
    return settings().max_table_rows


#: Hits listed for one search.
SEARCH_HITS = 100

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def fold(text: str) -> str:
    """Text for matching: case-folded, umlauts as ``ae``/``oe``/``ue`` (``ß`` becomes ``ss``)."""
    return text.casefold().translate(_FOLD)


# cache_resource: shared read-only dicts (unpickling 100,000 labels on every run cost a noticeable time).
@st.cache_resource(show_spinner=False, max_entries=8)
def _org_options(version: str, only_mso: bool) -> dict[str, str]:
    G = graph()
    rows = [(n, d) for n, d in G.nodes(data=True) if d.get("kind") == "organisation"
            and (not only_mso or d.get("org_type") in MSO_TYPES)]
    rows.sort(key=lambda r: ((r[1].get("name") or "").casefold(), r[0]))
    options = {n: org_label(n, d) for n, d in rows}
    settle()
    return options


def org_options() -> dict[str, str]:
    """Organisation id -> select-box label, sorted by name (cached per data version; do not modify)."""
    return _org_options(data_version(), False)


def mso_options() -> dict[str, str]:
    """Like :func:`org_options`, MSOs only."""
    return _org_options(data_version(), True)


@st.cache_resource(show_spinner=False, max_entries=8)
def _event_options(version: str) -> dict[str, str]:
    G = graph()
    rows = [(n, d) for n, d in G.nodes(data=True) if d.get("kind") == "event"]
    rows.sort(key=lambda r: (r[1].get("date") or "", r[0]), reverse=True)
    return {n: f"{fmt_date(d['date']) if d.get('date') else 'ohne Datum'} – {d.get('name') or n}"
            + (f" ({d['city']})" if d.get("city") else "") for n, d in rows}


def event_options() -> dict[str, str]:
    """Event id -> select-box label, newest first (do not modify)."""
    return _event_options(data_version())


@st.cache_resource(show_spinner=False, max_entries=8)
def _folded(version: str, options_id: int, _options: Mapping[str, str]) -> list[tuple[str, str]]:
    folded = [(key, fold(text)) for key, text in _options.items()]
    settle()
    return folded


def search_options(options: Mapping[str, str], query: str, *, keep: Iterable[str] = (), limit: int = SEARCH_HITS,
                   folded: Sequence[tuple[str, str]] | None = None) -> tuple[dict[str, str], int]:
    """Choices whose label contains every word of ``query`` (case and umlauts ignored), for a search field.

    Labels starting with the query come first, otherwise the order of ``options`` is kept; at most
    ``limit`` hits. The choices in ``keep`` (what is already selected) are always included, first.
    Returns (choices, number of all hits).
    """
    words = fold(query).split()
    chosen = {k: options[k] for k in keep if k in options}
    if not words:
        return chosen, 0
    pairs = folded if folded is not None else [(k, fold(v)) for k, v in options.items()]
    phrase = " ".join(words)
    found = [(not text.startswith(phrase), k) for k, text in pairs if all(w in text for w in words)]
    hits = [k for _, k in sorted(found, key=lambda h: h[0])]  # stable: keeps the order of ``options``
    for k in hits[:limit]:
        chosen.setdefault(k, options[k])
    return chosen, len(hits)


def _search_field(container, label: str, options: Mapping[str, str], key: str, selected: list[str],
                  help: str | None) -> dict[str, str]:
    query = container.text_input(f"{label} – Suche", key=f"{key}__query", help=help,
                                 placeholder="Namen oder Ort eintippen und Enter drücken")
    folded = _folded(data_version(), id(options), options)
    shown, total = search_options(options, query, keep=selected, folded=folded)
    if query.strip():
        if total == 0:
            container.caption(f"Keine Organisation enthält „{md(query.strip())}“.")
        elif total > SEARCH_HITS:
            container.caption(f"{number(total)} Treffer, die ersten {number(SEARCH_HITS)} stehen zur Auswahl – "
                              "genauer suchen grenzt ein.")
        else:
            container.caption(f"{number(total)} Treffer.")
    return shown


def pick_one(container, label: str, options: Mapping[str, str], *, key: str, placeholder: str = "Namen eintippen …",
             help: str | None = None) -> str | None:
    """A select box over ``options`` (id -> label); with more than :data:`MAX_OPTIONS` a search field first."""
    if len(options) <= max_options():
        return container.selectbox(label, list(options), index=None, format_func=options.get,
                                   placeholder=placeholder, key=key, help=help)
    current = st.session_state.get(key)
    shown = _search_field(container, label, options, key, [current] if current in options else [], help)
    return container.selectbox(label, list(shown), index=None, format_func=shown.get, key=key,
                               placeholder="aus den Treffern wählen …" if len(shown) else "erst oben suchen",
                               label_visibility="collapsed")


def pick_many(container, label: str, options: Mapping[str, str], *, key: str, placeholder: str = "Namen eintippen …",
              help: str | None = None) -> list[str]:
    """A multiselect over ``options``; with more than :data:`MAX_OPTIONS` a search field adds hits to the list."""
    if len(options) <= max_options():
        return container.multiselect(label, list(options), format_func=options.get, placeholder=placeholder,
                                     key=key, help=help)
    current = [k for k in st.session_state.get(key) or () if k in options]
    shown = _search_field(container, label, options, key, current, help)
    return container.multiselect(label, list(shown), format_func=shown.get, key=key,
                                 placeholder="aus den Treffern wählen …" if len(shown) > len(current)
                                 else "erst oben suchen", label_visibility="collapsed")


def number(value: int | float) -> str:
    """German thousands separator: ``4907`` -> ``"4.907"`` (see :mod:`graph.formats`)."""
    return fmt_number(value)


def table_height(rows: int, limit: int = 520, row_height: int = 35) -> int:
    """Pixel height of a data frame showing ``rows`` rows, at most ``limit`` (no empty grid below short tables)."""
    return min(limit, 38 + row_height * max(rows, 1))


#: Row height of tables with sentences (reasons, roles): Streamlit wraps cell text from 65 px rows on.
TEXT_ROW_HEIGHT = 110


def text_table(rows: Any, *, text_columns: Sequence[str], key: str | None = None, limit: int = 560,
               column_config: Mapping[str, Any] | None = None, where: Any = None, selectable: bool = False) -> Any:
    """A data frame whose sentence columns wrap inside their cells instead of being cut off.

    ``text_columns`` (e.g. "Gründe") get the widest column setting and every row room for about five
    lines; the table uses the full width. Readers no longer scroll sideways to read why something is
    proposed. ``selectable`` lets the reader pick one row (needs ``key``); returns the selection state.
    """
    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    config = {c: st.column_config.TextColumn(c, width="large") for c in text_columns if c in frame.columns}
    config.update(column_config or {})
    extra: dict[str, Any] = {"on_select": "rerun", "selection_mode": "single-row"} if selectable else {}
    return (where or st).dataframe(frame, hide_index=True, width="stretch", row_height=TEXT_ROW_HEIGHT,
                                   height=table_height(len(frame), limit, TEXT_ROW_HEIGHT), column_config=config,
                                   key=key, **extra)


def reading_table(rows: Any, *, key: str, where: Any = None, markdown: Sequence[str] = ()) -> None:
    """A static table whose every cell is shown in full, wrapped inside its column (for reasons and roles).

    Data grids cut cell text at their row height and scroll sideways when columns are many; here few
    columns share the width and long text wraps onto more lines, so nothing needs scrolling to be read
    (keep it to about three text columns: each column is at least as wide as its longest word).
    Cells are user data: they are escaped (:func:`md`), so names stay text; columns named in ``markdown``
    are already escaped Markdown (e.g. a bold name built with :func:`md`). ``key`` names the container
    (CSS class ``st-key-<key>``) for the browser tests.
    """
    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    shown = frame.astype(object).where(frame.notna(), "")
    for column in shown.columns:
        if column not in markdown:
            shown[column] = shown[column].map(md)
    shown.columns = [md(c) for c in frame.columns]
    box = (where or st).container(key=key)
    box.table(shown, hide_index=True, border="horizontal")


def today() -> dt.date:
    """The reference date of analyses (setting ``today``, ``MSONET_TODAY``, for reproducible tests)."""
    try:
        return settings().reference_date()
    except ValueError as exc:
        st.warning(f"{exc}; verwende heute.")
    return dt.date.today()


def empty_state() -> bool:
    """Show a hint and return True when the store holds no organisations yet."""
    if any(d.get("kind") == "organisation" for _, d in graph().nodes(data=True)):
        return False
    st.info("Es sind noch keine Daten geladen. Auf der Seite **Übersicht** können Sie Demodaten laden, "
            "auf der Seite **Daten** eigene Dateien hochladen.")
    from msonet.app import page_file

    st.page_link(page_file("ui/overview.py"), label="Zur Übersicht", icon="🏠")
    return True

