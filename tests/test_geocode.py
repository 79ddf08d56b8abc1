"""Tests of ``msonet geocode``: geopy's own Nominatim code against a local server speaking Nominatim's /search."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from msonet.cli import main
from msonet.graph.model import RecordBatch
from msonet.graph.store import EmbeddedStore
from msonet.loaders.geocode import (
    CACHE_FILE,
    GeocodeCache,
    GeocoderFailed,
    address_query,
    geocode_organisations,
    nominatim,
)
from tests._graphs import org

#: Answers of the fake server by the street in the query: (lat, lon) or None for "nothing found".
ANSWERS = {"Venloer Straße 1": (50.94817, 6.92443), "Ruhrallee 5": (51.49361, 7.47652),
           "Nirgendweg 9": None, "Domplatz 1": (51.96236, 7.62571)}  # Domplatz: Münster, not Köln


class _Nominatim(BaseHTTPRequestHandler):
    requests: list[dict[str, list[str]]] = []
    refuse = False

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = parse_qs(url.query)
        type(self).requests.append(query)
        if type(self).refuse:
            self.send_response(403)
            self.end_headers()
            return
        assert url.path == "/search"
        street = query["q"][0].split(",")[0]
        point = ANSWERS.get(street)
        body = [] if point is None else [{
            "place_id": 1, "licence": "test", "osm_type": "node", "osm_id": 1, "lat": str(point[0]),
            "lon": str(point[1]), "display_name": f"{street}, Testort, Deutschland", "class": "place",
            "type": "house", "importance": 0.5, "boundingbox": [str(point[0]), str(point[0]), str(point[1]),
                                                                 str(point[1])]}]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture()
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Nominatim)
    _Nominatim.requests = []
    _Nominatim.refuse = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def real(org_id, **kwargs):
    return replace(org(org_id, **kwargs), synthetic=False)


def _store(path=None):
    store = EmbeddedStore(path)
    store.upsert(RecordBatch(organisations=[
        real("coach", address="Venloer Straße 1", postcode="50823", location_precision="postcode"),
        real("dom", address="Domplatz 1"),
        real("none", address="Nirgendweg 9"),
        real("dortmund", city="Dortmund", address="Ruhrallee 5"),
        org("invented", address="Hauptstraße 3"),  # synthetic: never asked
        real("noaddress"),
    ]))
    return store


def test_address_query():
    assert address_query({"address": "Venloer Straße 1", "postcode": "50823", "city": "Köln"}) == \
        "Venloer Straße 1, 50823 Köln, Deutschland"
    assert address_query({"address": "", "city": "Köln"}) is None


def test_geocode_places_checks_district_and_caches(server, tmp_path):
    store = _store()
    cache = GeocodeCache(tmp_path / CACHE_FILE)
    geocoder = nominatim("msonet-test", server, "http")
    report = geocode_organisations(store, geocoder, cache=cache, min_delay_seconds=0.0)
    assert sorted(report.placed) == ["coach", "dortmund"]
    assert report.not_found == ["none"] and report.elsewhere == ["dom"]  # Münster is not in Köln's district
    assert report.asked == 4 and len(_Nominatim.requests) == 4
    assert all(r["format"] == ["json"] for r in _Nominatim.requests)
    coach = store.get_node("coach")
    assert (coach["lat"], coach["lon"], coach["location_precision"]) == (50.94817, 6.92443, "address")
    assert coach["postcode"] == "50823" and coach["name"] == "COACH"  # nothing else changed
    assert store.get_node("dom")["location_precision"] is None  # stays as it was
    # a second run asks nothing: placed ones are done, the others come from the cache file
    again = geocode_organisations(store, geocoder, cache=GeocodeCache(tmp_path / CACHE_FILE), min_delay_seconds=0.0)
    assert again.asked == 0 and again.from_cache == 2 and len(_Nominatim.requests) == 4


def test_limit_counts_only_new_requests(server, tmp_path):
    store = _store()
    geocoder = nominatim("msonet-test", server, "http")
    report = geocode_organisations(store, geocoder, cache=GeocodeCache(tmp_path / CACHE_FILE), limit=1,
                                   min_delay_seconds=0.0)
    assert report.asked == 1 and report.remaining == 3


def test_refused_or_offline_changes_nothing(server, tmp_path):
    store = _store()
    before = {n["id"]: n for n in store.find_organisations()}
    _Nominatim.refuse = True
    with pytest.raises(GeocoderFailed, match="Der Geocoder antwortet nicht oder lehnt ab"):
        geocode_organisations(store, nominatim("msonet-test", server, "http"),
                              cache=GeocodeCache(tmp_path / CACHE_FILE), min_delay_seconds=0.0)
    assert {n["id"]: n for n in store.find_organisations()} == before
    with pytest.raises(GeocoderFailed):
        geocode_organisations(store, nominatim("msonet-test", "127.0.0.1:9", "http", timeout=2),
                              cache=GeocodeCache(None), min_delay_seconds=0.0)
    assert {n["id"]: n for n in store.find_organisations()} == before


def test_cli_geocode_with_the_rate_limiter(server, tmp_path, monkeypatch, capsys):
    home = tmp_path / "store"
    _store(home)
    monkeypatch.setenv("MSONET_GEOCODER_DOMAIN", server)
    monkeypatch.setenv("MSONET_GEOCODER_SCHEME", "http")
    monkeypatch.setenv("MSONET_GEOCODER_USER_AGENT", "msonet-test")
    code = main(["--store", str(home), "geocode", "--limit", "2", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "2 Anfragen" in out and "noch offen" in out
    assert (home / CACHE_FILE).exists()
    _Nominatim.refuse = True
    code = main(["--store", str(home), "geocode", "--quiet"])
    captured = capsys.readouterr()
    assert code == 3 and "Der Geocoder antwortet nicht" in captured.err and "Traceback" not in captured.err
    assert main(["--store", str(home), "geocode", "--limit", "0"]) == 1
