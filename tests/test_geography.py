"""Tests of the shipped NRW geography extracts, their loader and the build script's geometry helpers."""

from __future__ import annotations

import collections
import csv
import importlib.util
import json

import pytest

from msonet.graph.model import Place
from msonet.loaders import geography
from msonet.loaders.geography import (
    DATA_DIR,
    REGIERUNGSBEZIRKE,
    District,
    district_at,
    district_geojson,
    load_districts,
    load_municipalities,
    load_postcodes,
    load_regierungsbezirke,
    nearest_municipality,
    point_in_geometry,
)


def _in_ring(x: float, y: float, ring: list) -> bool:
    # Independent of the loader's implementation on purpose: crossing-number test.
    crossings = 0
    for i in range(len(ring) - 1):
        (x0, y0), (x1, y1) = ring[i], ring[i + 1]
        if (y0 <= y < y1) or (y1 <= y < y0):
            if x < x0 + (y - y0) / (y1 - y0) * (x1 - x0):
                crossings += 1
    return crossings % 2 == 1


def _inside(lat: float, lon: float, geometry: dict) -> bool:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return any(_in_ring(lon, lat, p[0]) and not any(_in_ring(lon, lat, h) for h in p[1:]) for p in polygons)


@pytest.fixture(scope="module")
def outlines() -> dict[str, dict]:
    return {f["properties"]["key"]: f["geometry"] for f in district_geojson()["features"]}


def test_counts():
    assert len(load_municipalities()) == 396
    assert len(load_districts()) == 53
    assert len(load_regierungsbezirke()) == 5
    assert load_regierungsbezirke() == REGIERUNGSBEZIRKE


def test_district_kinds_and_regierungsbezirke():
    districts = load_districts().values()
    assert collections.Counter(d.kind for d in districts) == {"kreisfreie_stadt": 22, "kreis": 30, "staedteregion": 1}
    assert collections.Counter(d.regierungsbezirk for d in districts) == {
        "Düsseldorf": 15, "Köln": 11, "Münster": 8, "Detmold": 7, "Arnsberg": 12}
    for d in districts:
        assert REGIERUNGSBEZIRKE[d.key[:3]] == d.regierungsbezirk


def test_known_records():
    districts = load_districts()
    assert districts["05315"] == District("05315", "Köln", "kreisfreie_stadt", "Köln", 1017355,
                                          districts["05315"].lat, districts["05315"].lon, "", True)
    assert districts["05334"].kind == "staedteregion"
    assert districts["05334"].label == "Städteregion Aachen"
    assert districts["05978"].label == "Kreis Unna"
    assert districts["05962"].label == "Märkischer Kreis"
    aachen = load_municipalities()["05334002"]
    assert isinstance(aachen, Place)
    assert (aachen.name, aachen.district, aachen.district_name, aachen.regierungsbezirk) == (
        "Aachen", "05334", "Städteregion Aachen", "Köln")


def test_kreisfreie_staedte_have_one_municipality():
    by_district = collections.defaultdict(list)
    for place in load_municipalities().values():
        by_district[place.district].append(place.ags)
    for d in load_districts().values():
        if d.kind == "kreisfreie_stadt":
            assert by_district[d.key] == [d.key + "000"], d.name
        else:
            assert len(by_district[d.key]) > 1, d.name


def test_population_total_and_notes():
    districts = load_districts()
    total = sum(d.population for d in districts.values())
    assert abs(total - 17_890_489) < 5_000  # NRW census 2022; three districts carry older/rounded values
    not_exact = {k for k, d in districts.items() if not d.exact_census}
    assert not_exact == {"05124", "05570", "05170"}  # Wuppertal, Warendorf, Wesel
    assert all(districts[k].population_note for k in not_exact)


def test_every_municipality_lies_in_its_district(outlines):
    districts = load_districts()
    for place in load_municipalities().values():
        assert place.district in districts
        assert place.ags.startswith(place.district) and len(place.ags) == 8
        assert place.regierungsbezirk == districts[place.district].regierungsbezirk
        assert _inside(place.lat, place.lon, outlines[place.district]), (place.ags, place.name)


def test_district_points_lie_inside(outlines):
    for d in load_districts().values():
        assert _inside(d.lat, d.lon, outlines[d.key]), d.name


def test_geojson_properties_and_fresh_copies():
    gj = district_geojson()
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 53
    props = {f["properties"]["key"]: f["properties"] for f in gj["features"]}
    assert props["05334"] == {"key": "05334", "name": "Städteregion Aachen", "kind": "staedteregion",
                              "regierungsbezirk": "Köln"}
    gj["features"][0]["properties"]["colour"] = "red"
    assert "colour" not in district_geojson()["features"][0]["properties"]


def test_district_at_and_point_in_geometry():
    cologne = load_municipalities()["05315000"]
    assert district_at(cologne.lat, cologne.lon).key == "05315"
    assert district_at(52.52, 13.40) is None  # Berlin
    square = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
                                                 [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]}
    assert point_in_geometry(3, 3, square)
    assert not point_in_geometry(1.5, 1.5, square)  # in the hole
    assert not point_in_geometry(5, 1, square)


def test_nearest_municipality():
    luenen = load_municipalities()["05978024"]
    assert nearest_municipality(luenen.lat, luenen.lon) == luenen
    assert nearest_municipality(48.14, 11.58) is None  # München


def test_postcodes_point_to_municipalities():
    postcodes = load_postcodes()
    if not postcodes:
        pytest.skip("Extrakt ohne Postleitzahlen gebaut")
    municipalities = load_municipalities()
    assert all(len(plz) == 5 and plz.isdigit() for plz in postcodes)
    assert set(postcodes.values()) <= set(municipalities)
    assert postcodes["50823"] == "05315000"  # Köln-Ehrenfeld
    assert postcodes["44801"] == "05911000"  # Bochum
    assert postcodes["41836"] == "05370020"  # Hückelhoven


def test_data_dir_is_absolute_and_small():
    assert DATA_DIR.is_absolute() and (DATA_DIR / "districts.csv").exists()
    total = sum(p.stat().st_size for p in DATA_DIR.iterdir() if p.is_file())
    assert total < 1_500_000
    manifest = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["municipalities"] == 396


def test_population_input_matches_districts():
    with open(DATA_DIR / "population_census_2022.csv", encoding="utf-8", newline="") as fh:
        rows = {r["key"]: r for r in csv.DictReader(fh)}
    districts = load_districts()
    assert set(rows) == set(districts)
    for key, row in rows.items():
        assert row["name"] == districts[key].name
        assert int(row["population"]) == districts[key].population


def test_missing_file_gives_german_hint(monkeypatch, tmp_path):
    from msonet.graph.errors import GraphError

    monkeypatch.setattr(geography, "DATA_DIR", tmp_path)
    with pytest.raises(GraphError, match="build_geography.py"):
        geography._read_rows("districts.csv")


# ---- build script helpers (pure Python geometry) --------------------------------------------------

@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_geography", DATA_DIR.parent / "build_geography.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flatten_nested_collections(build):
    feature = {"type": "Feature", "properties": {"AGS": "05"}, "geometry": None}
    nested = [feature, {"type": "FeatureCollection", "features": [
        {"type": "FeatureCollection", "features": [feature, feature]}]}]
    assert len(list(build.flatten_features(nested))) == 3


def test_simplify_ring_keeps_shape(build):
    # a square with many collinear points along its edges collapses to its 4 corners
    edge = [(i / 10, 0.0) for i in range(10)] + [(1.0, i / 10) for i in range(10)]
    edge += [(1 - i / 10, 1.0) for i in range(10)] + [(0.0, 1 - i / 10) for i in range(10)]
    ring = edge + [edge[0]]
    simple = build.simplify_ring(ring, 0.01)
    assert simple[0] == simple[-1]
    assert sorted(set(simple)) == [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]


def test_interior_point_of_c_shape(build):
    # the centroid of a "C" lies in its opening, outside the shape: the pole must be used
    c_shape = [[[(0, 0), (0.03, 0), (0.03, 0.005), (0.005, 0.005), (0.005, 0.025), (0.03, 0.025),
                 (0.03, 0.03), (0, 0.03), (0, 0)]]]
    cx, cy = build.multipolygon_centroid(c_shape)
    assert not build.point_in_multipolygon(cx, cy, c_shape)
    x, y, method = build.interior_point(c_shape)
    assert method == "pole_of_inaccessibility"
    assert build.point_in_multipolygon(x, y, c_shape)


def test_centroid_and_area(build):
    square = [[[(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)], [(0.5, 0.5), (1, 0.5), (1, 1), (0.5, 1), (0.5, 0.5)]]]
    assert build.multipolygon_area(square) == pytest.approx(4 - 0.25)
    assert build.multipolygon_centroid([[square[0][0]]]) == pytest.approx((1, 1))


def test_postcode_points_and_placing_an_organisation():
    from msonet.loaders.geography import load_municipalities, load_postcode_points, locate

    points = load_postcode_points()
    dortmund = load_municipalities()["05913000"]
    assert sum(1 for p in points.values() if p.ags == "05913000") == 27
    p = points["44137"]
    assert locate(dortmund, "44137") == (p.lat, p.lon, "postcode")
    # a postcode of another municipality, an unknown one or none: the municipality's point
    assert locate(dortmund, "50667") == (dortmund.lat, dortmund.lon, "municipality")
    assert locate(dortmund, "99999") == (dortmund.lat, dortmund.lon, "municipality")
    assert locate(dortmund, None) == (dortmund.lat, dortmund.lon, "municipality")
    assert locate(None, "44137") == (None, None, None)


def test_a_loaded_organisation_sits_at_its_postcode(tmp_path, capsys):
    from msonet.cli import main
    from msonet.loaders.geography import load_postcode_points

    data = tmp_path / "orgs.csv"
    data.write_text("id;Name;Typ;Ort;PLZ\nd1;Jugendtreff Nord;Regeldienst;Dortmund;44147\n"
                    "d2;Beratung Süd;Regeldienst;Dortmund;\n", encoding="utf-8")
    assert main(["--store", str(tmp_path / "store"), "load", str(data)]) == 0
    capsys.readouterr()
    from msonet.graph.store import EmbeddedStore

    store = EmbeddedStore(tmp_path / "store")
    d1, d2 = store.get_node("d1"), store.get_node("d2")
    point = load_postcode_points()["44147"]
    assert (d1["lat"], d1["lon"], d1["location_precision"]) == (point.lat, point.lon, "postcode")
    assert d2["location_precision"] == "municipality" and (d2["lat"], d2["lon"]) != (d1["lat"], d1["lon"])
