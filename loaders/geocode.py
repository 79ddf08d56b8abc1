"""Street-level points for organisations with an address: geopy's Nominatim, rate-limited, with an on-disk cache.

Loads never call this; ``msonet geocode`` does, on request. Every answer (also "not found") is kept in a
JSON cache in the store folder, so no address is ever asked twice; a point is accepted only if it lies in
the organisation's district. When the service cannot be reached or refuses, the command stops with a
German message: points found up to then are saved, all others stay as they were.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from msonet.graph.errors import GraphError
from msonet.graph.model import Organisation, RecordBatch

__all__ = ["GeocodeCache", "GeocodeReport", "GeocoderFailed", "address_query", "geocode_organisations",
           "nominatim", "CACHE_FILE", "MIN_DELAY_SECONDS"]

CACHE_FILE = "geocode-cache.json"
#: Nominatim's usage policy: at most one request per second.
MIN_DELAY_SECONDS = 1.0


class GeocoderFailed(GraphError):
    """The geocoding service could not be reached or refused the requests."""


class GeocodeCache:
    """Answers of the geocoder by query text, kept in a JSON file (written atomically)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, dict[str, Any] | None] = {}
        if path is not None and path.exists():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache only costs new requests

    def __contains__(self, query: str) -> bool:
        return query in self.entries

    def get(self, query: str) -> dict[str, Any] | None:
        return self.entries.get(query)

    def put(self, query: str, answer: dict[str, Any] | None) -> None:
        self.entries[query] = answer

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".geocode-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.entries, fh, ensure_ascii=False, indent=0, sort_keys=True)
        os.replace(tmp, self.path)


@dataclass
class GeocodeReport:
    """What one run did: found points, from cache, asked, not found, outside the district, waiting."""

    placed: list[str] = field(default_factory=list)
    from_cache: int = 0
    asked: int = 0
    not_found: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    remaining: int = 0
    error: str | None = None


def address_query(data: dict[str, Any]) -> str | None:
    """``"Venloer Straße 1, 50823 Köln, Deutschland"`` for an organisation with street and place, else None."""
    street = (data.get("address") or "").strip()
    city = (data.get("city") or "").strip()
    if not street or not city:
        return None
    postcode = (data.get("postcode") or "").strip()
    return f"{street}, {postcode + ' ' if postcode else ''}{city}, Deutschland"


def nominatim(user_agent: str, domain: str, scheme: str, timeout: float = 10.0):
    """geopy's Nominatim for a configurable server (``domain`` may include a port)."""
    from geopy.geocoders import Nominatim

    if not (user_agent or "").strip():
        raise GraphError("Bitte einen aussagekräftigen User-Agent für den Geocoder angeben "
                         "(MSONET_GEOCODER_USER_AGENT), z. B. „msonet-Beratungsstelle-Köln“.")
    return Nominatim(user_agent=user_agent, domain=domain, scheme=scheme, timeout=timeout)


def _organisation(data: dict[str, Any], **changes: Any) -> Organisation:
    values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(Organisation)}
    values["sectors"] = tuple(values["sectors"] or ())
    values["synthetic"] = bool(values["synthetic"])
    values["source"] = values["source"] or ""
    values["updated"] = values["updated"] or ""
    values.update(changes)
    return Organisation(**values)


def geocode_organisations(store: Any, geocoder: Any, *, cache: GeocodeCache, limit: int | None = None,
                          min_delay_seconds: float = MIN_DELAY_SECONDS,
                          progress: Callable[[str], None] | None = None) -> GeocodeReport:
    """Fill in street-level points for organisations with an address that have none yet.

    Only real records (not ``synthetic``) with street and place whose point is not already
    ``address`` precise are asked; at most ``limit`` new requests go out (answers from the cache do not
    count). A point outside the organisation's district is not used (a wrong match is worse than the
    postcode's point).

    Raises
    ------
    GeocoderFailed
        Only if nothing could be saved; otherwise the report's ``error`` says what went wrong.
    """
    from geopy.exc import GeopyError
    from geopy.extra.rate_limiter import RateLimiter

    from msonet.loaders.geography import district_at

    todo = []
    for data in store.find_organisations():
        query = address_query(data)
        if query and not data.get("synthetic") and data.get("location_precision") != "address":
            todo.append((data, query))
    todo.sort(key=lambda item: item[0]["id"])
    lookup = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay_seconds, max_retries=0,
                         swallow_exceptions=False)
    report = GeocodeReport()
    updates: list[Organisation] = []
    for position, (data, query) in enumerate(todo):
        if query in cache:
            answer = cache.get(query)
            report.from_cache += 1
        else:
            if limit is not None and report.asked >= limit:
                report.remaining = sum(1 for _, q in todo[position:] if q not in cache)
                break
            try:
                location = lookup(query, exactly_one=True, country_codes="de")
            except GeopyError as exc:
                report.error = (f"Der Geocoder antwortet nicht oder lehnt ab ({type(exc).__name__}: {exc}). "
                                "Bitte später erneut versuchen oder MSONET_GEOCODER_DOMAIN prüfen; die übrigen "
                                "Punkte bleiben wie sie sind.")
                report.remaining = len(todo) - position
                break
            report.asked += 1
            answer = None if location is None else {"lat": location.latitude, "lon": location.longitude,
                                                    "display": location.address}
            cache.put(query, answer)
            if progress:
                progress(f"{report.asked}: {query} -> {'gefunden' if answer else 'nicht gefunden'}")
        if answer is None:
            report.not_found.append(data["id"])
            continue
        district = district_at(answer["lat"], answer["lon"])
        if district is None or (data.get("district") and district.key != data["district"]):
            report.elsewhere.append(data["id"])
            continue
        updates.append(_organisation(data, lat=round(float(answer["lat"]), 6), lon=round(float(answer["lon"]), 6),
                                     location_precision="address"))
        report.placed.append(data["id"])
    cache.save()
    if updates:
        store.upsert(RecordBatch(organisations=updates))
    elif report.error and not report.from_cache:
        raise GeocoderFailed(report.error)
    return report
