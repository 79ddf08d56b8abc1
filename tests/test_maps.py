"""Tests of graph.maps: offline choropleths and point maps with escaped hover texts."""

from __future__ import annotations

import itertools
import math

import pytest

from msonet.graph.maps import (
    BORDER_COLOUR,
    MAP_STYLE,
    MISSING_COLOUR,
    ZERO_COLOUR,
    add_points,
    choropleth_figure,
    display_geojson,
    point_rows,
    points_figure,
    zoom_for_height,
)

XSS = "<img src=x onerror=alert(1)>"

GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"key": "05315", "name": "Köln"},
         "geometry": {"type": "Polygon", "coordinates": [[[6.8, 50.8], [7.1, 50.8], [7.1, 51.1], [6.8, 51.1],
                                                          [6.8, 50.8]]]}},
        {"type": "Feature", "properties": {"key": "05911", "name": "Bochum"},
         "geometry": {"type": "Polygon", "coordinates": [[[7.1, 51.4], [7.35, 51.4], [7.35, 51.55],
                                                          [7.1, 51.55], [7.1, 51.4]]]}},
    ],
}
ROWS = [
    {"district": "05315", "name": "Köln", "value": 12.5, "mso_count": 134},
    {"district": "05911", "name": XSS, "value": None, "mso_count": 0},
]
POINTS = [
    {"id": "a", "name": XSS, "org_type": "mso", "city": "Köln", "lat": 50.94, "lon": 6.96},
    {"id": "b", "name": "Zweite MSO", "org_type": "mso", "city": "Köln", "lat": 50.94, "lon": 6.96},
    {"id": "c", "name": "KI Bochum", "org_type": "municipal_integration_centre", "city": "Bochum",
     "lat": 51.48, "lon": 7.22},
]


def test_choropleth_uses_the_blank_offline_style_and_district_keys():
    fig = choropleth_figure(GEOJSON, ROWS, value="value", value_label="MSO je 100.000",
                            hover=[("mso_count", "MSO")])
    trace = fig.data[0]
    assert trace.type == "choroplethmap"
    assert trace.featureidkey == "properties.key"
    assert list(trace.locations) == ["05315", "05911"]
    assert trace.z[0] == 12.5 and math.isnan(trace.z[1])
    assert fig.layout.map.style == MAP_STYLE == "white-bg"
    assert "http" not in fig.to_json()  # no tiles, sprites or glyphs to fetch


def test_choropleth_hover_text_is_escaped_and_german():
    fig = choropleth_figure(GEOJSON, ROWS, value="value", value_label="MSO je 100.000",
                            hover=[("mso_count", "MSO")])
    cologne, hostile = fig.data[0].text
    assert cologne == "<b>Köln</b><br>MSO je 100.000: 12,5<br>MSO: 134"
    assert "<img" not in hostile and "&lt;img src=x onerror=alert(1)&gt;" in hostile
    assert "MSO je 100.000: –" in hostile


def test_points_figure_one_layer_per_type_and_highlight_on_top():
    fig = points_figure(POINTS, geojson=GEOJSON, highlight=[POINTS[2]], highlight_name="gewählte MSO")
    shown = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in shown] == ["MSO", "Kommunales Integrationszentrum (KI)", "gewählte MSO"]
    assert all(t.type == "scattermap" for t in fig.data)
    assert shown[-1].marker.size == 15
    layers = fig.layout.map.layers
    assert len(layers) == 1 and layers[0].sourcetype == "geojson" and layers[0].type == "line"
    assert "http" not in fig.to_json()


def test_points_hover_escapes_names_and_extra_lines():
    fig = points_figure(POINTS, extra={"a": ["Grund: <script>"]})
    hover = fig.data[0].hovertext[0]
    assert hover.startswith("<b>&lt;img src=x onerror=alert(1)&gt;</b>")
    assert "Grund: &lt;script&gt;" in hover and "<script>" not in hover


def test_points_sharing_a_municipality_are_spread_apart():
    fig = points_figure(POINTS, by_type=False)
    coords = list(zip(fig.data[0].lat, fig.data[0].lon, strict=True))
    assert coords[0] == (50.94, 6.96)
    assert coords[1] != coords[0]
    assert abs(coords[1][0] - coords[0][0]) < 0.05 and abs(coords[1][1] - coords[0][1]) < 0.05


def test_empty_points_figure_still_draws_a_map():
    fig = points_figure([], geojson=GEOJSON)
    assert len(fig.data) == 1 and fig.data[0].name == "keine Treffer"
    assert fig.layout.map.style == "white-bg"


def test_add_points_ignores_empty_rows():
    fig = choropleth_figure(GEOJSON, ROWS, value="value", value_label="x")
    assert len(add_points(fig, [], name="leer", colour="#000").data) == 1


def test_point_rows_drop_organisations_without_coordinates():
    rows = point_rows([{"id": "a", "name": "A", "lat": 51.0, "lon": 7.0}, {"id": "b", "name": "B", "lat": None}])
    assert [r["id"] for r in rows] == ["a"]


@pytest.mark.parametrize(("height", "zoom"), [(480, 6.1), (240, 5.5), (960, 6.6)])
def test_zoom_for_height(height, zoom):
    assert zoom_for_height(height) == zoom


def test_spread_points_moves_partners_off_the_anchor_and_each_other():
    from msonet.graph.maps import spread_points

    mso = {"id": "m", "lat": 51.5, "lon": 7.4}
    rows = [{"id": f"p{i}", "name": "", "org_type": "regular_service", "city": "", "lat": 51.5, "lon": 7.4}
            for i in range(5)] + [{"id": "far", "name": "", "org_type": None, "city": "", "lat": 51.6, "lon": 7.5}]
    spread = spread_points(rows, anchor=mso)
    spots = {(round(r["lat"], 6), round(r["lon"], 6)) for r in spread} | {(51.5, 7.4)}
    assert len(spots) == 7  # five partners at the MSO's point, one elsewhere, the MSO: all distinct
    assert spread[-1]["lat"] == 51.6 and spread[-1]["lon"] == 7.5  # a free spot stays where it is
    # the step grows with the area shown (0.1 degrees here): far enough apart to see, still near their spot
    moved = [(r["lat"], r["lon"]) for r in spread[:5]] + [(51.5, 7.4)]
    gaps = [math.dist(a, b) for i, a in enumerate(moved) for b in moved[i + 1:]]
    assert min(gaps) > 0.003 and all(abs(r["lat"] - 51.5) < 0.01 for r in spread[:5])
    assert rows[0]["lat"] == 51.5  # the input is not changed
    close = spread_points(rows[:5], anchor=mso)  # all on one spot: the smallest step, about 130 m
    assert all(abs(r["lat"] - 51.5) < 0.005 for r in close)


def test_rank_labels_number_the_points_in_list_order():
    from msonet.graph.maps import rank_labels

    fig = rank_labels(points_figure(POINTS), [{"lat": 51.5, "lon": 7.4}, {"lat": 51.6, "lon": 7.5}])
    labels = fig.data[-1]
    assert labels.mode == "text" and list(labels.text) == ["1", "2"] and labels.showlegend is False


def test_focus_map_zooms_to_the_points():
    from msonet.graph.maps import focus_map

    fig = points_figure(POINTS)
    focus_map(fig, [{"lat": 51.50, "lon": 7.40}, {"lat": 51.52, "lon": 7.46}], 480)
    assert fig.layout.map.zoom > 10 and abs(fig.layout.map.center.lat - 51.51) < 1e-9


def test_zero_and_missing_districts_get_their_own_visible_layers():
    rows = [{"district": "05315", "name": "Köln", "value": 0}, {"district": "05911", "name": "Bochum", "value": None}]
    fig = choropleth_figure(GEOJSON, rows, value="value", value_label="Akteure", zero_label="weißer Fleck (0)",
                            missing_label="keine Daten")
    main, zero, missing = fig.data[:3]
    assert main.showlegend is False and main.colorbar.x >= 1.0  # colour bar right of the map, not on it
    assert list(zero.locations) == ["05315"] and zero.name == "weißer Fleck (0)"
    assert list(missing.locations) == ["05911"] and missing.name == "keine Daten"
    assert zero.colorscale[0][1] == ZERO_COLOUR != missing.colorscale[0][1] == MISSING_COLOUR
    for trace in (main, zero, missing):
        assert trace.marker.line.color == BORDER_COLOUR != "#ffffff"
    # each extra layer carries only the outlines it colours, not all districts again
    assert [f["properties"]["key"] for f in zero.geojson["features"]] == ["05315"]
    assert [f["properties"]["key"] for f in missing.geojson["features"]] == ["05911"]
    assert len(main.geojson["features"]) == 2


def _segment_distance(p, a, b):
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy))) if dx or dy else 0.0
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def test_display_outlines_are_smaller_and_stay_within_the_tolerance():
    from msonet.graph.maps import DISPLAY_TOLERANCE_DEG
    from msonet.loaders.geography import district_geojson

    full = district_geojson()
    shown = display_geojson(full)
    assert [f["properties"] for f in shown["features"]] == [f["properties"] for f in full["features"]]

    def rings(geojson):
        for feature in geojson["features"]:
            geometry = feature["geometry"]
            polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
            for polygon in polygons:
                yield from polygon

    before, after = list(rings(full)), list(rings(shown))
    assert len(before) == len(after)
    assert sum(map(len, after)) < 0.5 * sum(map(len, before))
    for old, new in zip(before, after, strict=True):
        assert new[0] == new[-1] and len(new) >= 4  # still closed polygons
        assert all(p in old for p in new)  # only points of the outline, none moved
        for point in old:  # every dropped point lies within the tolerance of the drawn outline
            nearest = min(_segment_distance(point, a, b) for a, b in itertools.pairwise(new))
            assert nearest <= DISPLAY_TOLERANCE_DEG + 1e-12
    assert full["features"][0]["geometry"]["coordinates"] != shown["features"][0]["geometry"]["coordinates"]
    assert display_geojson(full) == shown  # the source is not changed
