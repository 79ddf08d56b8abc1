"""Export the graph as CSV files, JSON, GraphML or GEXF (Gephi) in the formats the loader reads back."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from msonet.graph.errors import GraphError
from msonet.graph.model import PERSONAL_FIELDS
from msonet.loaders.files import FORMULA_CHARS

__all__ = [
    "export_csv",
    "export_json",
    "export_graphml",
    "export_gexf",
    "gexf_positions",
    "export_tables",
    "neutralise_formula",
    "ORGANISATION_HEADERS",
    "EVENT_HEADERS",
    "RELATION_HEADERS",
    "FUNDING_HEADERS",
    "EXPORT_FORMAT",
]

EXPORT_FORMAT = "msonet-export/1"

# (header written, node/edge attribute); the headers are the loader's canonical column names.
_ORGANISATION_COLUMNS = [
    ("id", "id"), ("name", "name"), ("type", "org_type"), ("city", "city"), ("postcode", "postcode"),
    ("address", "address"), ("sectors", "sectors"), ("website", "website"), ("founded", "founded"),
    ("description", "description"), ("contact_person", "contact_person"), ("email", "email"),
    ("phone", "phone"), ("synthetic", "synthetic"), ("source", "source"), ("updated", "updated"),
]
_EVENT_COLUMNS = [
    ("id", "id"), ("name", "name"), ("type", "event_type"), ("date", "date"), ("city", "city"),
    ("sectors", "sectors"), ("description", "description"), ("synthetic", "synthetic"), ("source", "source"),
    ("updated", "updated"),
]
_RELATION_COLUMNS = [
    ("source_id", "_u"), ("target_id", "_v"), ("type", "type"), ("since", "since"), ("note", "note"),
    ("weight", "weight"), ("synthetic", "synthetic"), ("source", "source"), ("updated", "updated"),
]
_FUNDING_COLUMNS = [
    ("id", "id"), ("organisation", "org_id"), ("programme", "programme"), ("kind", "funding_kind"),
    ("amount", "amount"), ("year_from", "year_from"), ("year_to", "year_to"), ("sector", "sector"),
    ("funder", "funder"), ("synthetic", "synthetic"), ("source", "source"), ("updated", "updated"),
]

ORGANISATION_HEADERS = [h for h, _ in _ORGANISATION_COLUMNS]
EVENT_HEADERS = [h for h, _ in _EVENT_COLUMNS]
RELATION_HEADERS = [h for h, _ in _RELATION_COLUMNS]
FUNDING_HEADERS = [h for h, _ in _FUNDING_COLUMNS]


@contextlib.contextmanager
def _writing(target: Path, what: str) -> Iterator[None]:
    """Turn a failed write into a German :class:`GraphError` naming the target and the cause."""
    try:
        yield
    except IsADirectoryError as exc:
        raise GraphError(f"{target} ist ein Ordner – für {what} bitte einen Dateinamen angeben, z.B. "
                         f"{target / ('export' + target.suffix if target.suffix else 'export.' + what.lower())}."
                         ) from exc
    except OSError as exc:
        raise GraphError(f"Der Export nach {target} ist nicht möglich ({exc.strerror or exc}). Bitte einen "
                         "Ort angeben, an dem Sie schreiben dürfen (--out).") from exc


def _graph(store_or_graph: Any) -> nx.MultiDiGraph:
    if isinstance(store_or_graph, nx.Graph):
        return store_or_graph
    return store_or_graph.to_networkx()


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR).

    Cells that already start with ``'`` before such a character get one more, so that the loader's
    :func:`msonet.loaders.files.unescape_formula` gives back exactly the original text.
    """
    rest = text.lstrip("'")
    return "'" + text if rest and rest[0] in FORMULA_CHARS else text


def _tables(G: nx.MultiDiGraph, include_personal: bool) -> dict[str, tuple[list[tuple[str, str]], list[dict]]]:
    """Rows per kind as attribute dicts, in a stable order (by id, edges by key)."""
    org_columns = [c for c in _ORGANISATION_COLUMNS if include_personal or c[0] not in PERSONAL_FIELDS]
    orgs, events, relations, fundings = [], [], [], []
    for _node_id, data in sorted(G.nodes(data=True), key=lambda nd: str(nd[0])):
        if data.get("kind") == "organisation":
            orgs.append(data)
        elif data.get("kind") == "event":
            events.append(data)
    for u, v, _key, data in sorted(G.edges(keys=True, data=True), key=lambda e: (str(e[2]), str(e[0]), str(e[1]))):
        if data.get("type") == "funded_by":
            fundings.append((v, data))
        else:
            relations.append({**data, "_u": u, "_v": v})

    # The store takes a programme's attributes from the first funding naming it: put the funding that
    # matches the stored programme first, so that a reload builds the same programme node.
    def programme_first(item: tuple[str, dict]) -> tuple:
        programme, data = item
        node = G.nodes[programme] if programme in G else {}
        same = all(node.get(a) == data.get(b) for a, b in (("name", "programme"), ("funding_kind", "funding_kind"),
                                                          ("source", "source"), ("updated", "updated")))
        return (str(programme), 0 if same else 1, str(data.get("id")))

    fundings.sort(key=programme_first)
    return {
        "organisations": (org_columns, orgs),
        "events": (_EVENT_COLUMNS, events),
        "relations": (_RELATION_COLUMNS, relations),
        "funding": (_FUNDING_COLUMNS, [d for _, d in fundings]),
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, float):
        # Integers without ".0"; otherwise a decimal comma, which the loader reads unambiguously.
        return str(int(value)) if value.is_integer() else repr(value).replace(".", ",")
    return str(value)


def export_tables(store_or_graph: Any, *, include_personal: bool = False) -> dict[str, list[dict[str, str]]]:
    """The export rows per kind (``organisations``, ``events``, ``relations``, ``funding``) as text cells.

    Cells are exactly what :func:`export_csv` writes before formula neutralisation.
    """
    tables = _tables(_graph(store_or_graph), include_personal)
    return {kind: [{h: _cell(data.get(a)) for h, a in columns} for data in rows]
            for kind, (columns, rows) in tables.items()}


def export_csv(store_or_graph: Any, out_dir: Path | str, *, include_personal: bool = False,
               delimiter: str = ";") -> list[Path]:
    """Write ``organisations.csv``, ``events.csv``, ``relations.csv`` and ``funding.csv``.

    The files use the loader's headers, UTF-8 with BOM and ``;`` (what German Excel expects), lists
    joined with ``;``. Cells that a spreadsheet would run as a formula get a leading ``'``; the loader
    removes it again, so loading the export rebuilds the same graph.

    Parameters
    ----------
    store_or_graph
        A store (anything with ``to_networkx()``) or a graph as :meth:`to_networkx` returns it.
    out_dir
        Folder for the files; created if missing. Existing files of these names are replaced.
    include_personal
        Also write contact person, e-mail and phone (left out by default).

    Returns
    -------
    The paths written, in the order above.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise GraphError(f"{out} ist eine Datei – der CSV-Export braucht einen Ordner (--out ORDNER).")
    with _writing(out, "CSV"):
        out.mkdir(parents=True, exist_ok=True)
    paths = []
    tables = _tables(_graph(store_or_graph), include_personal)
    for kind, (columns, rows) in tables.items():
        path = out / f"{kind}.csv"
        with _writing(path, "CSV"), open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow([h for h, _ in columns])
            for data in rows:
                writer.writerow([neutralise_formula(_cell(data.get(a))) for _, a in columns])
        paths.append(path)
    return paths


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def export_json(store_or_graph: Any, path: Path | str, *, include_personal: bool = False) -> Path:
    """Write one JSON object with the keys ``organisations``, ``events``, ``relations``, ``funding``.

    Each is a list of objects with the same field names as the CSV headers (sectors as lists, numbers
    as numbers, empty values as ``null``); the loader reads the file back as it is.
    """
    tables = _tables(_graph(store_or_graph), include_personal)
    payload: dict[str, Any] = {"format": EXPORT_FORMAT}
    for kind, (columns, rows) in tables.items():
        payload[kind] = [{h: _json_value(data.get(a)) for h, a in columns} for data in rows]
    path = Path(path)
    text = json.dumps(payload, ensure_ascii=False, indent=1)
    with _writing(path, "JSON"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


# Invalid in XML 1.0: C0 controls except tab, newline, carriage return; lone surrogates; U+FFFE/U+FFFF.
_XML_INVALID = {c: "\ufffd" for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF,
                                      *range(0xD800, 0xE000))}
_XML_TEXT = str.maketrans({**_XML_INVALID, "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_XML_ATTRIBUTE = str.maketrans({**_XML_INVALID, "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _xml_type(values: list[Any]) -> str:
    """One XML schema type for all values of an attribute (GraphML and GEXF use the same names)."""
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return "string"
    return "long" if all(isinstance(v, int) for v in values) else "double"


def _xml_value(value: Any, xml_type: str) -> str:
    if xml_type == "boolean":
        return "true" if value else "false"
    if xml_type == "double":
        return repr(float(value))
    return str(value)


class _ValueLines:
    """The XML line of an attribute value (``template`` with ``{key}`` and the escaped ``{text}``), made once
    per attribute, type and value: most values repeat (kinds, types, sources, flags)."""

    def __init__(self, template: str, escape: dict[int, str]):
        self.template, self.escape = template, escape
        self.made: dict[tuple[str, type, Any], str] = {}

    def __call__(self, key: str, xml_type: str, value: Any) -> str:
        line = self.made.get((key, type(value), value))
        if line is None:
            text = _xml_value(value, xml_type).translate(self.escape)
            line = self.made[(key, type(value), value)] = self.template.format(key=key, text=text)
        return line


def _declare(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Attribute name -> XML type over ``rows``, in order of first appearance."""
    values: dict[str, list[Any]] = {}
    for attrs in rows:
        for key, value in attrs.items():
            values.setdefault(key, []).append(value)
    return {key: _xml_type(found) for key, found in values.items()}


def _graphml_attrs(data: dict[str, Any], include_personal: bool) -> dict[str, Any]:
    attrs = {}
    for key, value in data.items():
        if value is None or (not include_personal and key in PERSONAL_FIELDS):
            continue
        if isinstance(value, list | tuple):
            value = ";".join(str(v) for v in value)
        elif key in ("amount", "lat", "lon") and not isinstance(value, bool):
            value = float(value)  # one GraphML type per attribute, even if some amounts were whole numbers
        attrs[key] = value
    return attrs


def _write_xml(path: Path, what: str, lines: list[str]) -> Path:
    with _writing(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def export_graphml(store_or_graph: Any, path: Path | str, *, include_personal: bool = False) -> Path:
    """Write the graph as GraphML for Gephi: lists joined as ``"a;b"``, empty values left out.

    Each attribute is declared once with one type for all its values (``boolean``, ``long``, ``double``,
    else ``string``); edges keep their key as GraphML edge id. Written line by line (networkx's writer
    builds an XML tree: five times slower).
    """
    G = _graph(store_or_graph)
    nodes = [(str(n), _graphml_attrs(d, include_personal)) for n, d in G.nodes(data=True)]
    edges = [(str(u), str(v), str(k), _graphml_attrs(d, include_personal))
             for u, v, k, d in G.edges(keys=True, data=True)]
    types = {"node": _declare([attrs for _, attrs in nodes]), "edge": _declare([attrs for *_, attrs in edges])}
    keys: dict[tuple[str, str], str] = {}
    lines = ["<?xml version='1.0' encoding='utf-8'?>",
             '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
             'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">']
    for scope, declared in types.items():
        for name, xml_type in declared.items():
            key = keys[(scope, name)] = f"d{len(keys)}"
            lines.append(f'  <key id="{key}" for="{scope}" attr.name="{name.translate(_XML_ATTRIBUTE)}" '
                         f'attr.type="{xml_type}" />')
    lines.append('  <graph edgedefault="directed">')

    line = _ValueLines('      <data key="{key}">{text}</data>', _XML_TEXT)

    def data(scope: str, attrs: dict[str, Any]) -> None:
        declared = types[scope]
        for name, value in attrs.items():
            lines.append(line(keys[(scope, name)], declared[name], value))

    for node, attrs in nodes:
        lines.append(f'    <node id="{node.translate(_XML_ATTRIBUTE)}">')
        data("node", attrs)
        lines.append("    </node>")
    for u, v, key, attrs in edges:
        lines.append(f'    <edge source="{u.translate(_XML_ATTRIBUTE)}" target="{v.translate(_XML_ATTRIBUTE)}" '
                     f'id="{key.translate(_XML_ATTRIBUTE)}">')
        data("edge", attrs)
        lines.append("    </edge>")
    lines += ["  </graph>", "</graphml>"]
    return _write_xml(Path(path), "GraphML", lines)


def _gexf_colour(colour: str) -> str:
    colour = colour.lstrip("#")
    return f'<viz:color r="{int(colour[0:2], 16)}" g="{int(colour[2:4], 16)}" b="{int(colour[4:6], 16)}" a="1.0" />'


def gexf_positions(G: nx.Graph, *, seed: int = 42) -> dict[Any, tuple[float, float]]:
    """Positions for a GEXF file, as the app's network page draws the graph.

    Graphs up to :data:`graph.render.AGGREGATE_THRESHOLD` organisations and events get the page's seeded
    layout (:func:`msonet.graph.render.layout_positions`); larger ones, which the page only shows per district,
    get each organisation's geographic point in the same projection. Nodes without coordinates then have
    no position (Gephi places them). GEXF's y axis points up, so the screen y is turned over.
    """
    from msonet.graph.render import AGGREGATE_THRESHOLD, layout_positions

    drawn = [n for n, d in G.nodes(data=True) if d.get("kind") in ("organisation", "event")]
    if len(drawn) <= AGGREGATE_THRESHOLD:
        screen = layout_positions(G.subgraph(drawn), seed=seed)
    else:
        located = [n for n in drawn if isinstance(G.nodes[n].get("lat"), int | float)
                   and isinstance(G.nodes[n].get("lon"), int | float)]
        screen = layout_positions(G.subgraph(located), seed=seed, geographic=True, size=1600.0)
    return {n: (x, -y) for n, (x, y) in screen.items()}


def export_gexf(store_or_graph: Any, path: Path | str, *, include_personal: bool = False,
                positions: dict[Any, tuple[float, float]] | None = None) -> Path:
    """Write the graph as GEXF 1.2 (Gephi's own format) with positions, colours and sizes as the app shows them.

    Nodes carry their attributes (lists joined as ``"a;b"``), ``label`` = name and ``viz`` colour (the
    app's colour per organisation type), size (1 + number of ties) and position (``positions`` in
    screen coordinates, y down, e.g. ``NetworkView.positions``; default :func:`gexf_positions`). Edges
    carry the relation key as ``relation``, the German name as ``label``, ``symmetric`` (true for ties
    without direction, stored once) and the relation's colour. Personal data only with ``include_personal``.
    """
    from msonet.graph.render import EVENT_COLOUR, ORG_TYPE_COLOURS, RELATION_COLOURS, UNKNOWN_COLOUR
    from msonet.graph.vocabulary import SYMMETRIC_RELATIONS, label

    G = _graph(store_or_graph)
    if positions is None:
        points = gexf_positions(G)
    else:
        points = {n: (x, -y) for n, (x, y) in positions.items()}
    nodes = []
    for node, data in G.nodes(data=True):
        attrs = _graphml_attrs(data, include_personal)
        attrs.pop("id", None)  # the node id is the GEXF id
        kind = data.get("kind")
        colour = (ORG_TYPE_COLOURS.get(data.get("org_type") or "", UNKNOWN_COLOUR) if kind == "organisation"
                  else EVENT_COLOUR if kind == "event" else UNKNOWN_COLOUR)
        viz = [_gexf_colour(colour), f'<viz:size value="{float(1 + G.degree(node))!r}" />']
        if node in points:
            x, y = points[node]
            viz.append(f'<viz:position x="{float(x)!r}" y="{float(y)!r}" z="0.0" />')
        nodes.append((str(node), str(data.get("name") or node), viz, attrs))
    edges = []
    for number, (u, v, key, data) in enumerate(G.edges(keys=True, data=True)):
        attrs = _graphml_attrs(data, include_personal)
        relation = attrs.pop("type", "")
        if "id" in attrs:
            attrs["funding_id"] = attrs.pop("id")  # GEXF edge ids are the writer's own
        weight = attrs.pop("weight", None)
        # Every edge stays directed as stored: a GEXF file mixing edge directions is one networkx cannot read.
        attrs.update(relation=relation, symmetric=relation in SYMMETRIC_RELATIONS, networkx_key=str(key))
        extra = f' weight="{str(weight).translate(_XML_ATTRIBUTE)}"' if weight is not None else ""
        edges.append((f'source="{str(u).translate(_XML_ATTRIBUTE)}" target="{str(v).translate(_XML_ATTRIBUTE)}" '
                      f'id="{number}" label="{label("relation_type", relation).translate(_XML_ATTRIBUTE)}"{extra}',
                      _gexf_colour(RELATION_COLOURS.get(relation, UNKNOWN_COLOUR)), attrs))
    types = {"node": _declare([n[-1] for n in nodes]), "edge": _declare([e[-1] for e in edges])}
    ids: dict[tuple[str, str], int] = {}
    lines = ["<?xml version='1.0' encoding='utf-8'?>",
             '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:viz="http://www.gexf.net/1.2draft/viz" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">',
             f'  <meta lastmodifieddate="{dt.date.today().isoformat()}">', "    <creator>msonet</creator>", "  </meta>",
             '  <graph defaultedgetype="directed" mode="static" name="">']
    for scope, declared in types.items():
        lines.append(f'    <attributes mode="static" class="{scope}">')
        for name, xml_type in declared.items():
            number = ids[(scope, name)] = len(ids)
            title = name.translate(_XML_ATTRIBUTE)
            lines.append(f'      <attribute id="{number}" title="{title}" type="{xml_type}" />')
        lines.append("    </attributes>")

    line = _ValueLines('          <attvalue for="{key}" value="{text}" />', _XML_ATTRIBUTE)

    def attvalues(scope: str, attrs: dict[str, Any]) -> None:
        if not attrs:
            return
        declared = types[scope]
        lines.append("        <attvalues>")
        for name, value in attrs.items():
            lines.append(line(str(ids[(scope, name)]), declared[name], value))
        lines.append("        </attvalues>")

    lines.append("    <nodes>")
    for node, name, viz, attrs in nodes:
        lines.append(f'      <node id="{node.translate(_XML_ATTRIBUTE)}" label="{name.translate(_XML_ATTRIBUTE)}">')
        lines.extend(f"        {element}" for element in viz)
        attvalues("node", attrs)
        lines.append("      </node>")
    lines += ["    </nodes>", "    <edges>"]
    for head, colour, attrs in edges:
        lines.append(f"      <edge {head}>")
        lines.append(f"        {colour}")
        attvalues("edge", attrs)
        lines.append("      </edge>")
    lines += ["    </edges>", "  </graph>", "</gexf>"]
    return _write_xml(Path(path), "GEXF", lines)
