"""Page „Daten“: upload files, see the validation report before anything is written, load, and export."""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from msonet.data import path as data_path
from msonet.ui import auth, common

__all__ = ["render", "problem_rows", "export_bytes", "column_reference", "value_reference", "EXAMPLES"]

KIND_LABELS = {"organisations": "Organisationen", "events": "Veranstaltungen", "relations": "Beziehungen",
               "fundings": "Förderungen"}
#: German names of the file kinds the loaders recognise (``loaders.files.KINDS``).
FILE_KINDS = {"organisations": "Organisationen", "events": "Veranstaltungen", "relations": "Beziehungen",
              "attendance": "Teilnahmen", "funding": "Förderungen"}
EXPORT_FORMATS = {
    "csv": ("CSV-Dateien (ZIP, für Excel)", "msonet-export.zip", "application/zip"),
    "json": ("JSON (eine Datei)", "msonet-export.json", "application/json"),
    "graphml": ("GraphML (für Gephi, yEd)", "msonet-export.graphml", "application/xml"),
    "gexf": ("GEXF (Gephi, mit Positionen und Farben der App)", "msonet-export.gexf", "application/xml"),
}
#: Choices of the file kind on upload: None = recognised from the column headings.
UPLOAD_KINDS = {None: "automatisch an den Spalten erkennen", **FILE_KINDS, "hsds": "Open Referral (HSDS)"}
#: The example files shipped with msonet (data/beispiele), offered for download.
EXAMPLES = data_path("beispiele")
_VALUE_TABLES = {"org_type": "Organisationstypen", "sector": "Handlungsfelder", "relation_type": "Beziehungstypen",
                 "event_type": "Veranstaltungstypen", "funding_kind": "Förderarten"}


def column_reference(kind: str) -> list[dict[str, str]]:
    """The columns of one file kind for the in-app reference: heading, other spellings, required (pure)."""
    from msonet.loaders.columns import COLUMNS

    return [{"Spalte": c.name, "andere Überschriften": ", ".join(c.aliases), "Pflicht": "ja" if c.required else ""}
            for c in COLUMNS[kind]]


def value_reference(vocabulary_name: str) -> list[dict[str, str]]:
    """The allowed values of one vocabulary: German name, description, key (pure)."""
    from msonet.graph import vocabulary

    table = {"org_type": vocabulary.ORG_TYPES, "sector": vocabulary.SECTORS,
             "relation_type": vocabulary.RELATION_TYPES, "event_type": vocabulary.EVENT_TYPES,
             "funding_kind": vocabulary.FUNDING_KINDS}[vocabulary_name]
    return [{"Bezeichnung": short, "Beschreibung": long, "Schlüssel": key} for key, (short, long) in table.items()]


def problem_rows(problems) -> list[dict[str, Any]]:
    """The validation report: one row per problem with German columns (pure, for tests)."""
    return [{"Datei": p.file, "Zeile": p.row if p.row is not None else "", "Spalte": p.column or "",
             "Wert": p.value if p.value is not None else "", "Was zu tun ist": p.expected} for p in problems]


def export_bytes(G, fmt: str, include_personal: bool) -> bytes:
    """The whole graph in one download: a ZIP of CSV files, a JSON file or a GraphML file."""
    from msonet.loaders.export import export_csv, export_graphml, export_json

    with tempfile.TemporaryDirectory(prefix="msonet-export-") as tmp:
        folder = Path(tmp)
        if fmt == "csv":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in export_csv(G, folder, include_personal=include_personal):
                    archive.write(path, arcname=path.name)
            return buffer.getvalue()
        if fmt == "json":
            return export_json(G, folder / "export.json", include_personal=include_personal).read_bytes()
        if fmt == "graphml":
            return export_graphml(G, folder / "export.graphml", include_personal=include_personal).read_bytes()
        if fmt == "gexf":
            from msonet.loaders.export import export_gexf

            return export_gexf(G, folder / "export.gexf", include_personal=include_personal).read_bytes()
    raise ValueError(f"Unbekanntes Exportformat „{fmt}“ – erlaubt: csv, json, graphml, gexf.")


def _validate(files: list[tuple[str, bytes]], kind: str | None = None):
    from msonet.loaders.load import parse_uploads

    return parse_uploads(files, common.get_store(), kind=kind, today=common.today().isoformat())


def _reference() -> None:
    """Which columns and values msonet understands, inside the app (a browser user cannot open docs/)."""
    with st.expander("Spaltenübersicht: welche Spalten und Werte msonet versteht"):
        st.caption("Groß-/Kleinschreibung, Umlaute und Leerzeichen in Überschriften sind egal. Werte dürfen als "
                   "deutsche Bezeichnung oder als Schlüssel stehen. Mehrere Handlungsfelder mit Komma, Semikolon "
                   "oder senkrechtem Strich trennen. Kantenlisten aus Gephi, networkx oder Kumu (`source`/"
                   "`target`, `weight`) und Gephis Knotentabellen (`Id`, `Label`, Typ-Spalte) gehen auch.")
        kinds = st.tabs([*FILE_KINDS.values(), "Erlaubte Werte"])
        for tab, kind in zip(kinds, FILE_KINDS, strict=False):
            with tab:
                rows = column_reference(kind)
                common.text_table(rows, text_columns=["andere Überschriften"], limit=420,
                                  column_config={"Spalte": st.column_config.TextColumn("Spalte", width=140),
                                                 "Pflicht": st.column_config.TextColumn("Pflicht", width="small")})
        with kinds[-1]:
            which = st.selectbox("Liste", list(_VALUE_TABLES), format_func=_VALUE_TABLES.get, key="ref_values")
            common.text_table(value_reference(which), text_columns=["Beschreibung"], limit=480)
        examples = sorted(p for p in EXAMPLES.glob("*") if p.suffix in (".csv", ".xlsx")) if EXAMPLES.is_dir() else []
        if examples:
            st.markdown("**Beispieldateien** (erfundene Vorlagen, laden so wie sie sind):")
            cols = st.columns(len(examples))
            for col, path in zip(cols, examples, strict=True):
                mime = "text/csv" if path.suffix == ".csv" else \
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                common.download_button(path.name, path.read_bytes(), file_name=path.name, mime=mime,
                                       key=f"example_{path.stem}", where=col)


#: The kinds of file the upload reads (shown in the upload field and its help).
UPLOAD_FORMATS = "CSV, TSV, TXT, Excel (XLSX, XLSM) oder JSON"


def _css_text(text: str) -> str:
    """``text`` as a CSS string literal."""
    return '"' + "".join(c if c.isalnum() or c in " ,.;:–()/-" else f"\\{ord(c):06x}" for c in text) + '"'


def uploader_style(limit_mb: int) -> str:
    """CSS that shows the upload field's own texts in German.

    Streamlit writes them in English into the page ("Upload", "50MB per file • CSV, …", "Drag and drop files
    here") and has no setting for them. The English words are set to size 0 and German ones drawn in their
    place (``::after``); the selectors are Streamlit's stable test ids, and the browser test checks what is
    visible, so a Streamlit update that changes the field shows up as a failing test.
    """
    zone = '[data-testid="stFileUploader"] [data-testid="stFileUploaderDropzone"]'
    replaced = {
        # the button (icon + "Upload")
        f'{zone} button[data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p':
            "Dateien auswählen",
        # the line beside it ("50MB per file • CSV, …")
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] span':
            f"CSV, Excel oder JSON, bis {limit_mb} MB je Datei",
        # while files are dragged over the field ("Drag and drop files here")
        f"{zone} > div:not([data-testid]) > span": "Dateien hier ablegen",
    }
    rules = "".join(f"{selector} {{ font-size: 0 !important; white-space: normal !important; }}\n"
                    f"{selector}::after {{ content: {_css_text(text)}; font-size: 0.875rem; }}\n"
                    for selector, text in replaced.items())
    return f"<style>\n{rules}</style>"


def _upload_section() -> None:
    st.subheader("Dateien hochladen und prüfen")
    limit = common.settings().max_upload_mb
    st.caption("Organisationen, Veranstaltungen, Beziehungen, Teilnahmen und Förderungen als CSV, Excel (XLSX) "
               f"oder JSON, höchstens {limit} MB je Datei. Die Dateien werden zuerst geprüft; geschrieben wird "
               "erst, wenn Sie auf „Daten laden“ klicken. Welche Spalten gehen: „Spaltenübersicht“ unten.")
    _reference()
    kind = st.selectbox("Art der Dateien", list(UPLOAD_KINDS), format_func=UPLOAD_KINDS.get, key="upload_kind",
                        help="Normalerweise erkennt msonet die Art an den Spaltenüberschriften. Wählen Sie sie hier, "
                             "wenn die Erkennung nicht klappt; sie gilt dann für alle Dateien dieser Ladung.")
    st.html(uploader_style(limit))
    # No ``type=``: Streamlit would refuse other kinds with an English message; msonet's check names the file
    # and the kinds it reads in German (loaders.files).
    uploads = st.file_uploader(
        "Dateien hierher ziehen oder über „Dateien auswählen“ öffnen", accept_multiple_files=True,
        key="upload_files", max_upload_size=limit,
        help=f"Mehrere Dateien auf einmal sind möglich: {UPLOAD_FORMATS}, höchstens {limit} MB je Datei.")
    if not uploads:
        return
    files, too_big = [], []
    for upload in uploads:
        data = upload.getvalue()
        if len(data) > limit * 1024 * 1024:
            too_big.append(upload.name)
        else:
            files.append((upload.name, data))
    for name in too_big:
        st.error(f"Die Datei „{common.md(name)}“ ist größer als {limit} MB. Bitte aufteilen oder die Grenze mit "
                 "MSONET_MAX_UPLOAD_MB (und server.maxUploadSize in .streamlit/config.toml) erhöhen.")
    if not files:
        return
    key = (kind, *((name, len(data), hash(data)) for name, data in files))
    if st.session_state.get("upload_key") != key:
        st.session_state["upload_key"] = key
        st.session_state["upload_result"] = _validate(files, kind)
        st.session_state.pop("upload_report", None)
    result = st.session_state["upload_result"]

    counts = result.counts()
    cols = st.columns(5)
    for col, (kind, text) in zip(cols, KIND_LABELS.items(), strict=False):
        col.metric(f"{text} (gültig)", common.number(counts.get(kind, 0)))
    cols[4].metric("Zeilen mit Problemen", common.number(result.invalid_rows))
    if result.files:
        st.dataframe(pd.DataFrame([{"Tabelle": f.name, "Art": FILE_KINDS.get(f.kind, f.kind), "Zeilen": f.rows,
                                    "gültige Datensätze": f.records, "Zeilen mit Problemen": f.invalid_rows}
                                   for f in result.files]),
                     hide_index=True, width="stretch")
    if result.problems:
        st.error(f"Prüfbericht: {common.number(len(result.problems))} Problem(e) gefunden. Bitte in der Datei "
                 "korrigieren und neu hochladen – oder nur die gültigen Zeilen laden.")
        st.dataframe(pd.DataFrame(problem_rows(result.problems)), hide_index=True, width="stretch",
                     column_config={"Was zu tun ist": st.column_config.TextColumn(width="large")})
        common.download_button("Prüfbericht als CSV", common.csv_bytes(problem_rows(result.problems)),
                               file_name="msonet-pruefbericht.csv", mime="text/csv", key="report_csv")
    else:
        st.success("Prüfung ohne Probleme.")
    for warning in result.warnings:
        st.warning(common.md(warning))
    if result.duplicates:
        from msonet.loaders.load import duplicate_rows

        with st.expander(f"Mögliche Dubletten ({common.number(len(result.duplicates))}) – bitte prüfen"):
            st.dataframe(pd.DataFrame([{"Erste": d.first_name, "Zweite": d.second_name, "Ort": d.city or "",
                                        "bereits im Bestand": "ja" if d.existing else "nein",
                                        "Begründung": d.reason} for d in result.duplicates]),
                         hide_index=True, width="stretch")
            common.download_button("Dubletten als CSV", common.csv_bytes(duplicate_rows(result.duplicates)),
                                   file_name="msonet-dubletten.csv", mime="text/csv", key="duplicates_csv")

    only_valid = st.checkbox("nur gültige Zeilen laden", value=False, key="upload_only_valid",
                             disabled=not result.problems,
                             help="Zeilen mit Problemen werden ausgelassen; Beziehungen nur, wenn beide "
                                  "Enden gültig sind.")
    blocked = bool(result.problems) and not only_valid
    if st.button("Daten laden", type="primary", disabled=blocked or not len(result.batch), key="upload_load"):
        from msonet.loaders.load import write_result

        report = write_result(result, common.get_store(), skip_invalid=only_valid)
        written = report.summary
        auth.audit("upload", files=len(files), organisations=written.organisations, events=written.events,
                   relations=written.relations, fundings=written.fundings)
        st.session_state["upload_report"] = report.summary
    summary = st.session_state.get("upload_report")
    if summary is not None:
        st.success(f"Geladen: {summary.organisations} Organisationen, {summary.events} Veranstaltungen, "
                   f"{summary.relations} Beziehungen, {summary.fundings} Förderungen neu oder geändert"
                   + (" (alles war bereits gespeichert)." if summary.total == 0 else "."))


def _export_section() -> None:
    st.subheader("Alles exportieren")
    G = common.graph()
    if G.number_of_nodes() == 0:
        st.caption("Noch keine Daten zum Exportieren.")
        return
    # One below the other: in a half-width column the checkbox label was cut off on 1024 px screens.
    c1 = c2 = st.container()
    fmt = c1.radio("Format", list(EXPORT_FORMATS), format_func=lambda k: EXPORT_FORMATS[k][0], key="export_fmt")
    personal = auth.allowed("admin") and c2.checkbox(
        "Personenbezogene Daten einschließen (Ansprechperson, E-Mail, Telefon)", value=False, key="export_personal",
        help="Nur ankreuzen, wenn die Weitergabe datenschutzrechtlich geklärt ist.")
    if not auth.allowed("admin"):
        c2.caption("Ohne personenbezogene Daten (Ansprechperson, E-Mail, Telefon); mit ihnen exportieren dürfen "
                   "Personen mit der Rolle „Verwalten“.")
    if personal:
        c2.warning("Der Export enthält personenbezogene Daten. Bitte nur berechtigten Personen weitergeben.")
    button_label, file_name, mime = EXPORT_FORMATS[fmt]
    # Built when the button is clicked (on its own thread), not on every visit of the page: at 100,000
    # organisations an export takes some seconds.
    build = functools.partial(export_bytes, G, fmt, personal)
    if personal:
        organisations = common.get_store().counts().get("organisations", 0)
        build = auth.audited_download("export_personal", build, organisations=organisations)
    common.download_button(f"{button_label} herunterladen", build,
                           file_name=file_name, mime=mime, key="export_download", type="primary")


def _body() -> None:
    auth.require("edit")
    st.title("Daten")
    _upload_section()
    st.divider()
    _export_section()


def render() -> None:
    """Draw the page."""
    common.run_page(_body)


if __name__ == "__main__":
    render()
