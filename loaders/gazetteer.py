"""Offline gazetteer for NRW: place names, keys and postcodes to municipalities; a geopy-style geocoder."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping

from msonet.graph.errors import Ambiguous, NotFound
from msonet.graph.model import Place
from msonet.graph.vocabulary import normalise_term
from msonet.loaders.geography import (
    District,
    load_districts,
    load_municipalities,
    load_postcodes,
    load_regierungsbezirke,
    nearest_municipality,
)

__all__ = ["Gazetteer", "default_gazetteer", "normalise_place_name", "OfflineGeocoder", "online_geocoder"]

# Words that only say what kind of body a name is ("Stadt Hamm", "Hamm, Stadt", "Kreis Unna").
_ADMIN_WORDS = frozenset({
    "stadt", "gemeinde", "kreisfreie", "kreisstadt", "kreis", "landkreis", "staedteregion", "hansestadt",
    "grosse", "kreisangehoerige", "mittlere", "regierungsbezirk", "bezirksregierung", "rb", "bezirk",
})
# Filler words dropped when comparing ("Mülheim an der Ruhr" = "Mülheim a.d. Ruhr" = "Muelheim/Ruhr").
_FILLER = frozenset({"an", "der", "a", "d", "am", "im", "i", "in", "dem", "den", "ad", "bei", "b"})
# Spellings that mean the same token.
_SYNONYMS = {"st": "sankt", "westfalen": "westf", "rheinland": "rhld", "rhl": "rhld", "westfl": "westf"}
_DIGITS = re.compile(r"^\d[\d ]*$")
_POSTCODE_IN_TEXT = re.compile(r"^(?:D-?)?(\d{5})\s+(.+)$|^(.+?)\s+(\d{5})$", re.IGNORECASE)
_PARENTHESES = re.compile(r"\(([^)]*)\)")


def normalise_place_name(text: str) -> str:
    """Comparison key of a place name: case, umlauts, punctuation, filler words and variants folded.

    >>> normalise_place_name("Mülheim a.d. Ruhr") == normalise_place_name("Muelheim/Ruhr")
    True
    """
    tokens = [_SYNONYMS.get(t, t) for t in normalise_term(text).replace("*", " ").split()]
    kept = [t for t in tokens if t not in _FILLER]
    return " ".join(kept or tokens)


def _strip_admin_words(text: str) -> str:
    """Drop comma parts and leading/trailing words that only name the kind of body."""
    parts = [p for p in (s.strip() for s in text.split(",")) if p]
    parts = [p for p in parts if not all(t in _ADMIN_WORDS for t in normalise_term(p).split())] or parts
    tokens = " ".join(parts).split()
    while tokens and normalise_term(tokens[0]) in _ADMIN_WORDS:
        tokens = tokens[1:]
    while tokens and normalise_term(tokens[-1]) in _ADMIN_WORDS:
        tokens = tokens[:-1]
    return " ".join(tokens)


def _base_name(name: str) -> str | None:
    """Name without its qualifier: ``"Hennef (Sieg)"`` -> ``"Hennef"``, ``"Monheim am Rhein"`` -> ``"Monheim"``."""
    base = re.split(r"\s*\(|/|\s+(?:an der|am|an|im|in der|a\. ?d\.)\s+", name, maxsplit=1)[0].strip()
    return base if base and base != name else None


class Gazetteer:
    """Look up NRW municipalities and districts by name, key or postcode, offline.

    Parameters
    ----------
    municipalities
        AGS -> Place (default data: :func:`msonet.loaders.geography.load_municipalities`).
    districts
        District key -> District.
    postcodes
        Postcode -> AGS; may be empty.
    regierungsbezirke
        3-digit key -> name.

    Examples
    --------
    >>> gaz = default_gazetteer()
    >>> gaz.resolve("Koeln").ags
    '05315000'
    """

    def __init__(self, municipalities: Mapping[str, Place], districts: Mapping[str, District],
                 postcodes: Mapping[str, str] | None = None, regierungsbezirke: Mapping[str, str] | None = None):
        self.places: dict[str, Place] = dict(municipalities)
        self.districts: dict[str, District] = dict(districts)
        self.postcodes: dict[str, str] = {k: v for k, v in (postcodes or {}).items() if v in self.places}
        self.regierungsbezirke: dict[str, str] = dict(regierungsbezirke or {})
        self._by_district: dict[str, list[Place]] = {}
        for place in sorted(self.places.values(), key=lambda p: p.name):
            self._by_district.setdefault(place.district, []).append(place)
        # Two tiers: full names win over bare names, so "Halle" finds "Halle (Westf.)" only if nothing
        # is called plain "Halle".
        self._names: dict[str, set[str]] = {}
        self._bare_names: dict[str, set[str]] = {}
        for place in self.places.values():
            self._names.setdefault(normalise_place_name(place.name), set()).add(place.ags)
            base = _base_name(place.name)
            if base:
                self._bare_names.setdefault(normalise_place_name(base), set()).add(place.ags)
        self._district_names: dict[str, set[str]] = {}
        for district in self.districts.values():
            for variant in {district.name, district.label, _strip_admin_words(district.name)}:
                self._district_names.setdefault(normalise_place_name(variant), set()).add(district.key)
        self._rb_names = {normalise_place_name(name): name for name in self.regierungsbezirke.values()}
        # display name of every key, for suggestions
        self._display: dict[str, str] = {}
        for place in sorted(self.places.values(), key=lambda p: p.name):
            self._display.setdefault(normalise_place_name(place.name), place.name)
            base = _base_name(place.name)
            if base:
                self._display.setdefault(normalise_place_name(base), place.name)

    # ------------------------------------------------------------------------------------------------
    # municipalities

    def candidates(self, text: str) -> list[Place]:
        """Every municipality *text* may mean, best reading first; empty if none."""
        text = (text or "").strip()
        if not text:
            return []
        compact = text.replace(" ", "")
        if _DIGITS.match(text):
            return self._by_number(compact)
        match = _POSTCODE_IN_TEXT.match(text)
        if match:
            code = match.group(1) or match.group(4)
            name = match.group(2) or match.group(3)
            return self._by_name(name) or self._by_number(code)
        return self._by_name(text)

    def _places(self, keys: Iterable[str]) -> list[Place]:
        return sorted((self.places[k] for k in set(keys)), key=lambda p: p.ags)

    def _by_number(self, digits: str) -> list[Place]:
        if len(digits) == 8:
            return self._places([digits] if digits in self.places else [])
        if len(digits) == 12:  # Regionalschlüssel: Land+RB+Kreis (5), Verband (4), Gemeinde (3)
            ags = digits[:5] + digits[9:]
            return self._places([ags] if ags in self.places else [])
        if len(digits) == 5 and digits in self.districts:
            return list(self._by_district.get(digits, []))
        if len(digits) == 5 and digits in self.postcodes:
            return self._places([self.postcodes[digits]])
        return []

    def _lookup(self, text: str) -> set[str]:
        key = normalise_place_name(text)
        return self._names.get(key) or self._bare_names.get(key) or set()

    def _by_name(self, text: str) -> list[Place]:
        # 1 the name as written, then without "Stadt"/"Kreis"/", Stadt"
        for variant in (text, _strip_admin_words(text)):
            found = self._lookup(variant)
            if found:
                return self._places(found)
        # 2 a city part in parentheses: "Bochum (Hustadt)" -> Bochum, "Hustadt (Bochum)" -> Bochum
        if "(" in text:
            outside = _strip_admin_words(_PARENTHESES.sub(" ", text))
            inside = [m.strip() for m in _PARENTHESES.findall(text)]
            for variant in [outside, *inside]:
                # an unclosed "(" leaves the text as it was: recursing on it would never end
                if variant and variant != text and (places := self._by_name(variant)):
                    return places
        # 3 a district name: a kreisfreie Stadt is its municipality, a Kreis has several
        districts = self._district_names.get(normalise_place_name(text)) or self._district_names.get(
            normalise_place_name(_strip_admin_words(text)))
        if districts:
            return [p for key in sorted(districts) for p in self._by_district.get(key, [])]
        # 4 comma parts and city parts: "Ehrenfeld, Köln", "Köln-Ehrenfeld", "Essen Steele"
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > 1:
            # addresses end with the town: "Venloer Str. 1, 50823 Köln"
            for part in reversed(parts):
                if places := self.candidates(part):
                    return places
        words = re.split(r"[\s\-/]+", _strip_admin_words(text))
        for size in range(len(words) - 1, 0, -1):
            prefix = " ".join(words[:size])
            found = self._lookup(prefix)
            if found:
                return self._places(found)
        return []

    def resolve(self, text: str) -> Place:
        """The municipality *text* names.

        Accepts a name in any common spelling (``"Köln"``, ``"Koeln"``, ``"KÖLN"``, ``"Stadt Hamm"``,
        ``"Mülheim a.d. Ruhr"``, ``"Hennef"``), a name with a city part (``"Köln-Ehrenfeld"``,
        ``"Bochum (Hustadt)"``), an 8-digit AGS, a 12-digit Regionalschlüssel, the 5-digit key of a
        kreisfreie Stadt, a postcode (where the shipped data has it) or "PLZ Ort".

        Raises
        ------
        NotFound
            Nothing matches; ``suggestions`` holds up to five similar names.
        Ambiguous
            Several municipalities match (e.g. the name or key of a Kreis); ``suggestions`` lists them.
        """
        found = self.candidates(text)
        if len(found) == 1:
            return found[0]
        if not found:
            if not (text or "").strip():
                raise NotFound("Bitte einen Ortsnamen, eine PLZ oder einen Gemeindeschlüssel angeben.")
            raise NotFound(f"Ort „{text.strip()}“ ist in NRW nicht bekannt.", self.suggest(text))
        district = self.districts.get(found[0].district)
        if district and all(p.district == district.key for p in found):
            raise Ambiguous(f"„{text.strip()}“ ist kein Ort, sondern der Kreis „{district.label}“ mit "
                            f"{len(found)} Gemeinden; bitte eine Gemeinde angeben.", [p.name for p in found])
        raise Ambiguous(f"„{text.strip()}“ passt auf mehrere Orte; bitte genauer angeben.",
                        [f"{p.name} ({p.district_name})" for p in found])

    def try_resolve(self, text: str) -> Place | None:
        """Like :meth:`resolve`, but None instead of an error when nothing or several match."""
        found = self.candidates(text)
        return found[0] if len(found) == 1 else None

    def suggest(self, text: str, n: int = 5) -> list[str]:
        """Up to *n* municipality names that look like *text* (for "Meinten Sie …?")."""
        key = normalise_place_name(_strip_admin_words(text or "") or text or "")
        if not key:
            return []
        out: list[str] = []
        # names that start with what was typed come first ("Mönchen" -> Mönchengladbach)
        if len(key) >= 3:
            out.extend(self._display[k] for k in sorted(self._display) if k.startswith(key))
        out.extend(self._display[k] for k in difflib.get_close_matches(key, list(self._display), n=n * 2, cutoff=0.7))
        return list(dict.fromkeys(out))[:n]

    # ------------------------------------------------------------------------------------------------
    # districts and Regierungsbezirke

    def resolve_district(self, text: str) -> District:
        """The district *text* names: a 5-digit key, ``"Köln"``, ``"Kreis Unna"``, ``"Städteregion Aachen"``.

        A municipality name, AGS or postcode gives the municipality's district (``"Lünen"`` -> Kreis Unna).
        """
        raw = (text or "").strip()
        compact = raw.replace(" ", "")
        if compact in self.districts:
            return self.districts[compact]
        if not _DIGITS.match(raw):
            for variant in (raw, _strip_admin_words(raw)):
                keys = self._district_names.get(normalise_place_name(variant))
                if keys and len(keys) == 1:
                    return self.districts[next(iter(keys))]
        found = self.candidates(raw)
        districts = sorted({p.district for p in found})
        if len(districts) == 1:
            return self.districts[districts[0]]
        if len(districts) > 1:
            raise Ambiguous(f"„{raw}“ passt auf mehrere Kreise; bitte genauer angeben.",
                            [self.districts[k].label for k in districts])
        labels = {normalise_place_name(d.label): d.label for d in self.districts.values()}
        labels.update({normalise_place_name(d.name): d.label for d in self.districts.values()})
        close = difflib.get_close_matches(normalise_place_name(raw), list(labels), n=10, cutoff=0.75)
        raise NotFound(f"Kreis „{raw}“ ist in NRW nicht bekannt.", list(dict.fromkeys(labels[c] for c in close))[:5])

    def resolve_regierungsbezirk(self, text: str) -> str:
        """Name of the Regierungsbezirk *text* names: ``"Köln"``, ``"Regierungsbezirk Arnsberg"``, ``"053"``.

        A district or municipality gives its Regierungsbezirk (``"Bochum"`` -> ``"Arnsberg"``).
        """
        raw = (text or "").strip()
        compact = raw.replace(" ", "")
        if compact in self.regierungsbezirke:
            return self.regierungsbezirke[compact]
        for variant in (raw, _strip_admin_words(raw)):
            name = self._rb_names.get(normalise_place_name(variant))
            if name:
                return name
        try:
            return self.resolve_district(raw).regierungsbezirk
        except NotFound:
            pass
        close = difflib.get_close_matches(normalise_place_name(_strip_admin_words(raw)), list(self._rb_names), n=5,
                                          cutoff=0.6)
        raise NotFound(f"Regierungsbezirk „{raw}“ ist in NRW nicht bekannt.", [self._rb_names[c] for c in close])

    def municipalities_in(self, district_key: str) -> list[Place]:
        """Municipalities of one district, sorted by name."""
        return list(self._by_district.get(district_key, []))


@functools.cache
def default_gazetteer() -> Gazetteer:
    """Gazetteer over the shipped NRW data (built once per process)."""
    return Gazetteer(load_municipalities(), load_districts(), load_postcodes(), load_regierungsbezirke())


# ----------------------------------------------------------------------------------------------------
# geopy-compatible geocoding


def _location(place: Place):
    from geopy.location import Location

    address = ", ".join(dict.fromkeys([place.name, place.district_name, "Nordrhein-Westfalen", "Deutschland"]))
    raw = {"ags": place.ags, "name": place.name, "district": place.district, "district_name": place.district_name,
           "regierungsbezirk": place.regierungsbezirk, "lat": place.lat, "lon": place.lon,
           "source": "msonet-Ortsverzeichnis (BKG VG250)"}
    return Location(address, (place.lat, place.lon), raw)


class OfflineGeocoder:
    """A stand-in for geopy's ``Nominatim`` that answers from the shipped NRW gazetteer, without network.

    ``geocode`` returns a :class:`geopy.location.Location` at the municipality's point (not the street
    address), or None; ``reverse`` returns the nearest municipality in the district containing the
    point.  Extra keyword arguments of geopy's API (``timeout``, ``language`` …) are accepted and ignored.
    """

    def __init__(self, gazetteer: Gazetteer | None = None):
        self.gazetteer = gazetteer or default_gazetteer()

    def geocode(self, query: str | Mapping[str, str], exactly_one: bool = True, **kwargs: object):
        """Location(s) of a place name, AGS or postcode; a structured query may use ``city``,
        ``postalcode`` and ``county`` keys.  None if nothing matches."""
        if isinstance(query, Mapping):
            parts = [str(query[k]) for k in ("city", "county", "postalcode") if query.get(k)]
            found: list[Place] = []
            for part in parts:
                found = self.gazetteer.candidates(part)
                if found:
                    break
        else:
            # whole addresses work too: "Venloer Str. 1, 50823 Köln" (only the town is used)
            found = self.gazetteer.candidates(str(query))
        if not found:
            return None
        if exactly_one:
            return _location(found[0]) if len(found) == 1 else None
        return [_location(p) for p in found]

    def reverse(self, query, exactly_one: bool = True, **kwargs: object):
        """Nearest municipality to a point (``"51.0, 7.0"``, ``(lat, lon)`` or ``geopy.Point``); None outside NRW."""
        from geopy.point import Point

        point = Point(query)
        place = nearest_municipality(point.latitude, point.longitude)
        if place is None:
            return None
        return _location(place) if exactly_one else [_location(place)]


def online_geocoder(user_agent: str, **kwargs: object):
    """geopy's ``Nominatim`` (OpenStreetMap, needs internet) – only for callers that explicitly ask.

    Nominatim's usage policy requires a meaningful *user_agent* and at most one request per second.
    """
    if not (user_agent or "").strip():
        raise ValueError("Für den Online-Geocoder bitte einen aussagekräftigen user_agent angeben "
                         "(z. B. „msonet-<Organisation>“).")
    from geopy.geocoders import Nominatim

    return Nominatim(user_agent=user_agent, **kwargs)


def resolve_venue(text: str, gazetteer: Gazetteer | None = None) -> tuple[str, float, float]:
    """``(name, lat, lon)`` of a meeting venue: a place name, AGS or postcode (with "PLZ Ort" too).

    A postcode gives its own centre point, a place its municipality point. Unknown or ambiguous text
    raises :class:`msonet.graph.errors.NotFound` / ``Ambiguous`` with suggestions ("Meinten Sie …?").
    """
    from msonet.loaders.geography import load_postcode_points

    gaz = gazetteer or default_gazetteer()
    place = gaz.resolve(text)
    digits = "".join(ch for ch in text if ch.isdigit())
    point = load_postcode_points().get(digits) if len(digits) == 5 else None
    if point is not None and point.ags == place.ags:
        return f"{point.plz} {place.name}", point.lat, point.lon
    return place.name, place.lat, place.lon


def region_centre(district: str | None = None, regierungsbezirk: str | None = None
                  ) -> tuple[str, float, float] | None:
    """Default venue: the district's point, or the mean of the Regierungsbezirk's district points.

    ``None`` for all of NRW (the planner then takes the centre of the candidates' points).
    """
    from msonet.loaders.geography import load_districts

    districts = load_districts()
    if district:
        d = districts[district]
        return f"Mitte von {d.label}", d.lat, d.lon
    if regierungsbezirk:
        members = [d for d in districts.values() if d.regierungsbezirk == regierungsbezirk]
        if members:
            return (f"Mitte des Regierungsbezirks {regierungsbezirk}", sum(d.lat for d in members) / len(members),
                    sum(d.lon for d in members) / len(members))
    return None
