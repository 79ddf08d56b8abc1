"""NRW administrative geography shipped with msonet: Regierungsbezirke, districts, municipalities, postcodes."""

from __future__ import annotations

import csv
import functools
import json
import math
from dataclasses import dataclass

from msonet.data import path as data_path
from msonet.graph.errors import GraphError
from msonet.graph.model import Place

__all__ = [
    "DATA_DIR",
    "REGIERUNGSBEZIRKE",
    "DISTRICT_KINDS",
    "District",
    "load_districts",
    "load_municipalities",
    "load_regierungsbezirke",
    "load_postcodes",
    "load_postcode_points",
    "PostcodePoint",
    "locate",
    "district_geojson",
    "district_at",
    "nearest_municipality",
    "point_in_geometry",
]

#: Folder of the extracts built by ``data/build_geography.py`` (package data ``msonet.data``, not the cwd).
DATA_DIR = data_path("nrw")

#: The five Regierungsbezirke of NRW: 3-digit key -> name.
REGIERUNGSBEZIRKE: dict[str, str] = {
    "051": "Düsseldorf",
    "053": "Köln",
    "055": "Münster",
    "057": "Detmold",
    "059": "Arnsberg",
}

#: District kinds -> German label.
DISTRICT_KINDS: dict[str, str] = {
    "kreisfreie_stadt": "Kreisfreie Stadt",
    "kreis": "Kreis",
    "staedteregion": "Städteregion",
}


@dataclass(frozen=True, slots=True)
class District:
    """A Kreis, kreisfreie Stadt or the Städteregion Aachen, with its census 2022 population.

    ``lat``/``lon`` is a point inside the district (not its seat).  ``population_note`` says when the
    figure is not an exact census value; ``exact_census`` is False then.
    """

    key: str  # 5-digit Kreisschlüssel, e.g. "05315"
    name: str  # official short name (VG250 GEN), e.g. "Unna"
    kind: str  # kreisfreie_stadt | kreis | staedteregion
    regierungsbezirk: str  # name, e.g. "Arnsberg"
    population: int
    lat: float
    lon: float
    population_note: str = ""
    exact_census: bool = True

    @property
    def label(self) -> str:
        """Name as people say it: ``"Kreis Unna"``, ``"Köln"``, ``"Städteregion Aachen"``, ``"Märkischer Kreis"``."""
        if self.kind == "kreis" and "kreis" not in self.name.casefold():
            return f"Kreis {self.name}"
        return self.name


def _read_rows(name: str) -> list[dict[str, str]]:
    path = DATA_DIR / name
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        raise GraphError(f"Geodatei {path} fehlt. Bitte mit „python data/build_geography.py“ neu erzeugen "
                         "oder das Repository vollständig auschecken.") from None


def _float(row: dict[str, str], column: str, file: str, line: int) -> float:
    try:
        return float(row[column])
    except (KeyError, TypeError, ValueError):
        raise GraphError(f"{DATA_DIR / file}, Zeile {line}, Spalte „{column}“: Zahl erwartet, "
                         f"gefunden „{row.get(column)}“. Bitte die Datei neu erzeugen.") from None


@functools.cache
def load_regierungsbezirke() -> dict[str, str]:
    """Regierungsbezirke from ``regierungsbezirke.csv``: 3-digit key -> name."""
    return {row["key"]: row["name"] for row in _read_rows("regierungsbezirke.csv")}


@functools.cache
def _districts() -> tuple[District, ...]:
    out = []
    for line, row in enumerate(_read_rows("districts.csv"), start=2):
        out.append(District(
            key=row["key"], name=row["name"], kind=row["kind"], regierungsbezirk=row["regierungsbezirk"],
            population=int(_float(row, "population", "districts.csv", line)),
            lat=_float(row, "lat", "districts.csv", line), lon=_float(row, "lon", "districts.csv", line),
            population_note=row.get("population_note") or "",
            exact_census=(row.get("exact_census") or "ja") == "ja",
        ))
    return tuple(out)


def load_districts() -> dict[str, District]:
    """All 53 districts of NRW: 5-digit key -> :class:`District` (a fresh dict, shared records)."""
    return {d.key: d for d in _districts()}


@functools.cache
def _municipalities() -> tuple[Place, ...]:
    districts = load_districts()
    out = []
    for line, row in enumerate(_read_rows("municipalities.csv"), start=2):
        district = districts.get(row["district"])
        if district is None:
            raise GraphError(f"{DATA_DIR / 'municipalities.csv'}, Zeile {line}, Spalte „district“: "
                             f"Kreis „{row['district']}“ fehlt in districts.csv. Bitte die Dateien neu erzeugen.")
        out.append(Place(ags=row["ags"], name=row["name"], district=district.key, district_name=district.label,
                         regierungsbezirk=row["regierungsbezirk"],
                         lat=_float(row, "lat", "municipalities.csv", line),
                         lon=_float(row, "lon", "municipalities.csv", line)))
    return tuple(out)


def load_municipalities() -> dict[str, Place]:
    """All 396 municipalities of NRW: 8-digit AGS -> :class:`msonet.graph.model.Place`.

    ``Place.district_name`` is the district's :attr:`District.label` (``"Kreis Unna"``, ``"Köln"``), and
    ``lat``/``lon`` a point inside the municipality (its centroid where that lies well inside).
    """
    return {p.ags: p for p in _municipalities()}




@dataclass(frozen=True, slots=True)
class PostcodePoint:
    """The centre point of a postcode (PLZ) area and the municipality that contains it."""

    plz: str
    ags: str
    lat: float
    lon: float


@functools.cache
def _postcode_points() -> tuple[PostcodePoint, ...]:
    if not (DATA_DIR / "postcodes.csv").exists():
        return ()
    out = []
    for line, row in enumerate(_read_rows("postcodes.csv"), start=2):
        out.append(PostcodePoint(row["plz"], row["ags"], _float(row, "lat", "postcodes.csv", line),
                                 _float(row, "lon", "postcodes.csv", line)))
    return tuple(out)


def _postcodes() -> tuple[tuple[str, str], ...]:
    return tuple((p.plz, p.ags) for p in _postcode_points())


def load_postcode_points() -> dict[str, PostcodePoint]:
    """Postcode -> :class:`PostcodePoint` (centre of the postcode area, rounded to about 1 m)."""
    return {p.plz: p for p in _postcode_points()}


def locate(place: Place | None, postcode: str | None,
           points: dict[str, PostcodePoint] | None = None) -> tuple[float | None, float | None, str | None]:
    """``(lat, lon, precision)`` of an organisation from its municipality and postcode.

    The postcode's centre point is used when the postcode belongs to the same municipality (a postcode
    area that spans several municipalities is assigned to one of them only; for the others the
    municipality point is the safer guess). Precision is ``"postcode"`` or ``"municipality"``, and
    ``(None, None, None)`` without a place. A street address comes only from ``msonet geocode``.
    """
    if place is None:
        return None, None, None
    if postcode:
        point = (points if points is not None else load_postcode_points()).get(postcode.strip())
        if point is not None and point.ags == place.ags:
            return point.lat, point.lon, "postcode"
    return place.lat, place.lon, "municipality"


def load_postcodes() -> dict[str, str]:
    """Postcode (PLZ) -> AGS of the municipality that contains the postcode area's centre point.

    Approximate: a postcode area can span several municipalities; this names only one.  Empty if the
    extract was built without postcodes.
    """
    return dict(_postcodes())


@functools.cache
def _geojson_text() -> str:
    path = DATA_DIR / "districts.geojson"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphError(f"Geodatei {path} fehlt. Bitte mit „python data/build_geography.py“ neu erzeugen.") from None


def district_geojson() -> dict:
    """District outlines as a GeoJSON FeatureCollection (properties key, name, kind, regierungsbezirk).

    Each call returns a new object, so callers may add properties (colours, counts) freely.
    """
    return json.loads(_geojson_text())


def _polygons(geometry: dict) -> list[list[list[list[float]]]]:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def _in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def point_in_geometry(lat: float, lon: float, geometry: dict) -> bool:
    """True if (lat, lon) lies inside a GeoJSON Polygon/MultiPolygon (holes respected)."""
    return any(_in_ring(lon, lat, poly[0]) and not any(_in_ring(lon, lat, hole) for hole in poly[1:])
               for poly in _polygons(geometry))


@functools.cache
def _district_shapes() -> tuple[tuple[str, tuple[float, float, float, float], dict], ...]:
    shapes = []
    for feature in district_geojson()["features"]:
        outer = [pt for poly in _polygons(feature["geometry"]) for pt in poly[0]]
        box = (min(p[0] for p in outer), min(p[1] for p in outer), max(p[0] for p in outer), max(p[1] for p in outer))
        shapes.append((feature["properties"]["key"], box, feature["geometry"]))
    return tuple(shapes)


def district_at(lat: float, lon: float) -> District | None:
    """The district whose (simplified) outline contains the point, or None outside NRW.

    Outlines are simplified to about 30 m, so points right on a border may land in the neighbour.
    """
    for key, (x0, y0, x1, y1), geometry in _district_shapes():
        if x0 <= lon <= x1 and y0 <= lat <= y1 and point_in_geometry(lat, lon, geometry):
            return load_districts()[key]
    return None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def nearest_municipality(lat: float, lon: float) -> Place | None:
    """The municipality whose point is nearest, within the district containing (lat, lon).

    None outside NRW.  Only municipality points are shipped (no municipal outlines), so near a
    municipal border the answer can be the neighbouring municipality.
    """
    district = district_at(lat, lon)
    if district is None:
        return None
    candidates = [p for p in _municipalities() if p.district == district.key]
    return min(candidates, key=lambda p: _distance_km(lat, lon, p.lat, p.lon))
