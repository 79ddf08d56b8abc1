"""Offline maps of NRW as plotly figures: district choropleths and organisation points, no tile server."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from msonet.graph.render import ORG_TYPE_COLOURS, UNKNOWN_COLOUR, escape_text
from msonet.graph.vocabulary import label

__all__ = [
    "spread_points",
    "rank_labels",
    "focus_map",
    "NRW_CENTER",
    "NRW_ZOOM",
    "ZERO_COLOUR",
    "MISSING_COLOUR",
    "BORDER_COLOUR",
    "MAP_STYLE",
    "POINT_GROUPS",
    "choropleth_figure",
    "points_figure",
    "add_points",
    "point_rows",
    "zoom_for_height",
    "display_geojson",
    "DISPLAY_TOLERANCE_DEG",
]

NRW_CENTER = {"lat": 51.47, "lon": 7.55}
NRW_ZOOM = 6.1  # fits NRW into a map about 480 px high
#: Largest map height (px) the zoom is chosen for, whatever the figure's height (see ``_layout``).
MAP_FIT = 470
#: "white-bg" needs no tiles, sprites or glyphs: the map draws with no network access.
MAP_STYLE = "white-bg"
#: Districts whose value is 0 (the white spots a coverage map is for): a warm colour that no scale uses,
#: so they neither vanish on the white background nor look like districts without data.
ZERO_COLOUR = "#fec44f"
#: Districts without a value (no data, e.g. no funding recorded): light grey.
MISSING_COLOUR = "#d9d9d9"
#: District borders: visible on white and on every fill colour.
BORDER_COLOUR = "#737373"

#: Point layers of the coverage map: (legend label, org types, colour, marker size).
POINT_GROUPS: list[tuple[str, frozenset[str], str, int]] = [
    ("Kommunales Integrationszentrum (KI)", frozenset({"municipal_integration_centre"}),
     ORG_TYPE_COLOURS["municipal_integration_centre"], 11),
    ("Integrationsagentur (IA)", frozenset({"integration_agency"}), ORG_TYPE_COLOURS["integration_agency"], 9),
    ("MSO", frozenset({"mso", "mso_network", "mso_federation"}), ORG_TYPE_COLOURS["mso"], 6),
]


#: Largest shift (degrees: about 220 m north-south, 140 m east-west) of a district border drawn on a map: under
#: a third of a pixel at the zoom that shows NRW, where a pixel is about 750 m.
DISPLAY_TOLERANCE_DEG = 0.002


def _simplify(points: Sequence[Sequence[float]], tolerance: float) -> list[list[float]]:
    """Douglas–Peucker: the fewest points of ``points`` that keep every dropped one within ``tolerance``."""
    if len(points) < 3:
        return [list(p) for p in points]
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first][:2], points[last][:2]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        worst, where = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i][0], points[i][1]
            d = abs(dy * (px - x1) - dx * (py - y1)) / norm if norm else math.hypot(px - x1, py - y1)
            if d > worst:
                worst, where = d, i
        if where >= 0 and worst > tolerance:
            keep[where] = True
            stack += [(first, where), (where, last)]
    return [list(p) for p, kept in zip(points, keep, strict=True) if kept]


def _ring(ring: Sequence[Sequence[float]], tolerance: float) -> list[list[float]]:
    # A closed ring: split at the point farthest from its start so both halves simplify without a degenerate
    # first/last segment, and keep at least a triangle.
    if len(ring) <= 5:
        return [list(p) for p in ring]
    x0, y0 = ring[0][0], ring[0][1]
    far = max(range(len(ring)), key=lambda i: (ring[i][0] - x0) ** 2 + (ring[i][1] - y0) ** 2)
    out = _simplify(ring[:far + 1], tolerance)[:-1] + _simplify(ring[far:], tolerance)
    return out if len(out) >= 4 else [list(p) for p in ring]


def display_geojson(geojson: Mapping[str, Any], tolerance: float = DISPLAY_TOLERANCE_DEG) -> dict[str, Any]:
    """A copy of a polygon GeoJSON for drawing: every ring simplified within ``tolerance`` degrees.

    Each map of a page carries its district outlines to the browser on every page run; the simplified
    outlines are under a third of the size and look the same at the zoom that shows NRW. Properties and
    features are kept as they are; only for drawing (places are located with the full outlines).
    """
    def polygon(rings: Sequence[Any]) -> list[Any]:
        return [_ring(r, tolerance) for r in rings]

    features = []
    for feature in geojson.get("features", ()):
        geometry = dict(feature.get("geometry") or {})
        if geometry.get("type") == "Polygon":
            geometry["coordinates"] = polygon(geometry["coordinates"])
        elif geometry.get("type") == "MultiPolygon":
            geometry["coordinates"] = [polygon(p) for p in geometry["coordinates"]]
        features.append({**feature, "geometry": geometry})
    return {**geojson, "features": features}


def zoom_for_height(height: int) -> float:
    """Map zoom at which NRW fills a map of ``height`` pixels (about as wide as high at this latitude)."""
    return round(min(6.6, max(5.5, NRW_ZOOM + math.log2(max(height, 1) / 480))), 2)


def _layout(fig: go.Figure, geojson: Mapping[str, Any] | None, height: int, *, right: int = 0) -> go.Figure:
    layers = []
    if geojson is not None:
        # District borders as a line layer: orientation without any tile server.
        layers.append({"sourcetype": "geojson", "source": geojson, "type": "line", "color": "#8c8c8c",
                       "line": {"width": 0.6}, "below": "traces"})
    titled = bool(fig.layout.title.text)
    entries = sum(1 for trace in fig.data if trace.showlegend is not False and trace.name)
    # The legend sits below the map and takes height from it; the zoom fits NRW into what is left (the
    # browser cannot fit the view itself: plotly's "fitbounds" does not work inside Streamlit).
    legend_rows = 0 if entries == 0 else 1 + entries // 4
    # Nor is the width known here: NRW is drawn at most MAP_FIT pixels high (about as wide), which fits the
    # narrowest map column of the pages (1024 px screens).
    free = height - (40 if titled else 10) - 22 * legend_rows
    fig.update_layout(
        map={"style": MAP_STYLE, "center": NRW_CENTER, "layers": layers, "zoom": zoom_for_height(min(free, MAP_FIT))},
        margin={"l": 0, "r": right, "t": 40 if titled else 10, "b": 0},
        height=height,
        # Below the map, not on it: in a narrow column the entries wrap into many rows and hid the west.
        legend={"orientation": "h", "yanchor": "top", "y": -0.01, "xanchor": "left", "x": 0.0},
        paper_bgcolor="white",
    )
    return fig


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return str(value)


def choropleth_figure(
    geojson: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    value: str,
    value_label: str,
    key: str = "district",
    name: str = "name",
    hover: Sequence[tuple[str, str]] = (),
    colorscale: str = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    title: str | None = None,
    height: int = 620,
    zero_label: str | None = None,
    missing_label: str | None = None,
    scale_title: str | None = None,
) -> go.Figure:
    """A choropleth of districts coloured by ``row[value]``.

    Parameters
    ----------
    geojson
        FeatureCollection whose features carry ``properties.key`` (5-digit district key).
    rows
        One mapping per district with ``row[key]`` = district key, ``row[name]`` and ``row[value]``.
    value, value_label
        Column to colour by and its German label (colour bar and hover).
    hover
        Further ``(column, German label)`` pairs shown on hover.
    zero_label, missing_label
        With a legend text, districts whose value is 0 are drawn in :data:`ZERO_COLOUR`, districts
        without a value in :data:`MISSING_COLOUR`, each as its own layer with that legend entry, so a
        0 never looks like "no data" nor vanishes on the white background.
    scale_title
        Short title of the colour bar (default ``value_label``); a long one ran under plotly's toolbar.
    title
        Title above the map; better given by the page (plotly's toolbar sits over a title in the figure).

    Returns
    -------
    A ``plotly.graph_objects.Figure``: the ``Choroplethmap`` of all districts first (colour bar right of
    the map), then the zero and missing layers, on a blank ("white-bg") map.
    """
    locations, z, text = [], [], []
    for row in rows:
        raw = row.get(value)
        number = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else math.nan
        locations.append(str(row[key]))
        z.append(number)
        lines = [f"<b>{escape_text(row.get(name) or row[key])}</b>", f"{escape_text(value_label)}: {_fmt(raw)}"]
        lines += [f"{escape_text(lab)}: {escape_text(_fmt(row.get(col)))}" for col, lab in hover]
        text.append("<br>".join(lines))
    fig = go.Figure(go.Choroplethmap(
        geojson=dict(geojson),
        featureidkey="properties.key",
        locations=locations,
        z=z,
        text=text,
        hoverinfo="text",
        colorscale=colorscale,
        zmin=zmin,
        zmax=zmax,
        marker={"opacity": 0.8, "line": {"width": 0.8, "color": BORDER_COLOUR}},
        # Colour bar right of the map, outside it: inside, its box covered Kreis Kleve and Wesel.
        # Its top starts below the toolbar's row.
        colorbar={"title": {"text": _short_title(scale_title or value_label, 14), "side": "top"}, "thickness": 12,
                  "len": 0.6, "x": 1.0, "xanchor": "left", "xpad": 6, "y": 0.9, "yanchor": "top",
                  "outlinewidth": 0},
        name=escape_text(value_label),
        showlegend=False,
    ))
    for wanted, colour, legend in ((0.0, ZERO_COLOUR, zero_label), (None, MISSING_COLOUR, missing_label)):
        if legend is None:
            continue
        picked = [i for i, v in enumerate(z) if (math.isnan(v) if wanted is None else v == wanted)]
        if not picked:
            continue  # an empty layer would leave the browser's fitted view without bounds: a blank map
        wanted_keys = {locations[i] for i in picked}
        # only the outlines this layer colours: the whole geojson again would double what the browser gets
        layer = {**geojson, "features": [f for f in geojson.get("features", ())
                                         if str((f.get("properties") or {}).get("key")) in wanted_keys]}
        fig.add_trace(go.Choroplethmap(
            geojson=layer, featureidkey="properties.key",
            locations=[locations[i] for i in picked], z=[1] * len(picked), text=[text[i] for i in picked],
            hoverinfo="text", colorscale=[[0, colour], [1, colour]], showscale=False, showlegend=True,
            marker={"opacity": 0.9, "line": {"width": 0.8, "color": BORDER_COLOUR}},
            name=escape_text(legend), legendrank=1 if wanted is not None else 2,
        ))
    if title:
        fig.update_layout(title={"text": escape_text(title), "x": 0.01, "font": {"size": 15}})
    return _layout(fig, None, height, right=110)


def _short_title(text: str, limit: int = 28) -> str:
    """Escaped colour bar title, broken into lines of about ``limit`` characters."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(escape_text(x) for x in lines)


def point_rows(nodes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Organisations with coordinates, reduced to what a map point needs."""
    rows = []
    for d in nodes:
        lat, lon = d.get("lat"), d.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            rows.append({"id": d.get("id"), "name": d.get("name") or d.get("id") or "", "org_type": d.get("org_type"),
                         "city": d.get("city") or "", "lat": float(lat), "lon": float(lon)})
    return rows


def _jitter(rows: Sequence[Mapping[str, Any]]) -> list[tuple[float, float]]:
    """Spread points that share a municipality point on a small spiral so each stays visible and hoverable."""
    seen: dict[tuple[float, float], int] = {}
    out = []
    for row in rows:
        base = (round(row["lat"], 5), round(row["lon"], 5))
        i = seen.get(base, 0)
        seen[base] = i + 1
        if i == 0:
            out.append((row["lat"], row["lon"]))
            continue
        # Golden-angle spiral: a city's organisations form a small cloud around its point, each hoverable.
        angle, radius = i * 2.4, 0.008 * math.sqrt(i)
        out.append((row["lat"] + radius * math.sin(angle), row["lon"] + radius * math.cos(angle) * 1.6))
    return out


def spread_points(rows: Sequence[Mapping[str, Any]], anchor: Mapping[str, Any] | None = None,
                  step_deg: float | None = None) -> list[dict[str, Any]]:
    """Copies of ``rows`` moved apart so that no two points, and no point and ``anchor``, coincide.

    Points sharing a spot (same postcode or municipality point) are placed on a golden-angle spiral around
    it, across all layers; the anchor (e.g. the MSO a tandem is sought for) keeps its spot. The step grows
    with the area the points cover (``step_deg``: 5 % of it, at least about 130 m), so that the dots stay
    apart at the zoom that shows them all. Rows keep their order; ``lat``/``lon`` of the copies are the
    drawn positions.
    """
    if step_deg is None:
        every = [*rows, *([anchor] if anchor is not None else [])]
        lats = [float(r["lat"]) for r in every if isinstance(r.get("lat"), int | float)]
        lons = [float(r["lon"]) for r in every if isinstance(r.get("lon"), int | float)]
        span = max(max(lats) - min(lats), (max(lons) - min(lons)) / 1.6) if lats and lons else 0.0
        step_deg = max(0.0012, 0.05 * span)
    taken: dict[tuple[float, float], int] = {}
    if anchor is not None and isinstance(anchor.get("lat"), int | float) and isinstance(anchor.get("lon"), int | float):
        taken[(round(float(anchor["lat"]), 5), round(float(anchor["lon"]), 5))] = 1
    out = []
    for row in rows:
        base = (round(float(row["lat"]), 5), round(float(row["lon"]), 5))
        i = taken.get(base, 0)
        taken[base] = i + 1
        moved = dict(row)
        if i:
            angle, radius = i * 2.39996, step_deg * math.sqrt(i)
            moved["lat"] = row["lat"] + radius * math.sin(angle)
            moved["lon"] = row["lon"] + radius * math.cos(angle) * 1.6  # a longitude degree is shorter here
        out.append(moved)
    return out


def rank_labels(fig: go.Figure, rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Write each point's rank (1, 2, ... in the order of ``rows``) beside it, so the map matches the list."""
    if rows:
        fig.add_trace(go.Scattermap(lat=[r["lat"] for r in rows], lon=[r["lon"] for r in rows], mode="text",
                                    text=[str(i) for i in range(1, len(rows) + 1)], textposition="top right",
                                    textfont={"size": 13, "color": "#111111"}, hoverinfo="skip",
                                    showlegend=False, name="Rang"))
    return fig


def focus_map(fig: go.Figure, rows: Sequence[Mapping[str, Any]], height: int) -> go.Figure:
    """Centre and zoom the map on ``rows`` (all of them visible), never wider than all of NRW."""
    if not rows:
        return fig
    lats = [float(r["lat"]) for r in rows]
    lons = [float(r["lon"]) for r in rows]
    span = max(max(lats) - min(lats), (max(lons) - min(lons)) / 1.6, 0.02)
    # a map of 480 px shows about 2.6 degrees of latitude at zoom 6.6; each zoom step halves that
    zoom = min(14.0, max(zoom_for_height(height), 6.6 + math.log2(2.6 / (span * 1.4)) + math.log2(height / 480)))
    fig.update_layout(map={"center": {"lat": (min(lats) + max(lats)) / 2, "lon": (min(lons) + max(lons)) / 2},
                           "zoom": round(zoom, 2)})
    return fig


def add_points(
    fig: go.Figure,
    rows: Sequence[Mapping[str, Any]],
    *,
    name: str,
    colour: str,
    size: int = 8,
    extra: Mapping[str, Sequence[str]] | None = None,
) -> go.Figure:
    """Add one point layer (a legend entry) to ``fig``; names and extra hover lines are escaped.

    ``extra`` maps an organisation id to further hover lines (e.g. the reasons it is listed).
    """
    if not rows:
        return fig
    points = _jitter(rows)
    hover = []
    for row in rows:
        lines = [f"<b>{escape_text(row.get('name'))}</b>"]
        if row.get("org_type"):
            lines.append(escape_text(label("org_type", row["org_type"])))
        if row.get("city"):
            lines.append(escape_text(row["city"]))
        lines += [escape_text(x) for x in (extra or {}).get(row.get("id") or "", ())]
        hover.append("<br>".join(lines))
    fig.add_trace(go.Scattermap(
        lat=[p[0] for p in points],
        lon=[p[1] for p in points],
        mode="markers",
        marker={"size": size, "color": colour, "opacity": 0.85},
        hovertext=hover,
        hoverinfo="text",
        name=escape_text(name),
        customdata=[row.get("id") for row in rows],
    ))
    return fig


def points_figure(
    rows: Sequence[Mapping[str, Any]],
    *,
    geojson: Mapping[str, Any] | None = None,
    by_type: bool = True,
    highlight: Sequence[Mapping[str, Any]] = (),
    highlight_name: str = "Ausgewählt",
    extra: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
    height: int = 560,
) -> go.Figure:
    """Organisations as points on a blank NRW map with district borders.

    Parameters
    ----------
    rows
        Mappings with ``id``, ``name``, ``org_type``, ``city``, ``lat``, ``lon`` (see :func:`point_rows`).
    geojson
        District borders to draw underneath (optional).
    by_type
        One coloured layer per organisation type; otherwise one layer.
    highlight
        Points drawn on top, larger and black-rimmed (e.g. the MSO a tandem is sought for).
    """
    fig = go.Figure()
    if by_type:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault(row.get("org_type") or "", []).append(row)
        for org_type in sorted(groups, key=lambda t: (list(ORG_TYPE_COLOURS).index(t) if t in ORG_TYPE_COLOURS
                                                      else 99, t)):
            add_points(fig, groups[org_type], name=label("org_type", org_type) if org_type else "ohne Typ",
                       colour=ORG_TYPE_COLOURS.get(org_type, UNKNOWN_COLOUR), extra=extra)
    else:
        add_points(fig, rows, name="Organisationen", colour=ORG_TYPE_COLOURS["mso"], extra=extra)
    if highlight:
        add_points(fig, highlight, name=highlight_name, colour="#000000", size=15, extra=extra)
    if title:
        fig.update_layout(title={"text": escape_text(title), "x": 0.01, "font": {"size": 15}})
    if not fig.data:
        # An empty map still shows the borders, so users see that nothing matched rather than a broken map.
        fig.add_trace(go.Scattermap(lat=[], lon=[], mode="markers", name="keine Treffer"))
    return _layout(fig, geojson, height)
