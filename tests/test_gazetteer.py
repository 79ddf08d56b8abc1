"""Tests of the NRW gazetteer and the offline geopy-compatible geocoder."""

from __future__ import annotations

import socket

import pytest

from msonet.graph.errors import Ambiguous, NotFound
from msonet.graph.model import Place
from msonet.loaders.gazetteer import (
    Gazetteer,
    OfflineGeocoder,
    default_gazetteer,
    normalise_place_name,
    online_geocoder,
)
from msonet.loaders.geography import District, load_postcodes


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


@pytest.mark.parametrize(("text", "ags"), [
    ("Köln", "05315000"),
    ("Koeln", "05315000"),
    ("köln", "05315000"),
    ("KÖLN", "05315000"),
    ("  Köln ", "05315000"),
    ("Mülheim an der Ruhr", "05117000"),
    ("Mülheim a.d. Ruhr", "05117000"),
    ("Muelheim/Ruhr", "05117000"),
    ("Mülheim a. d. Ruhr", "05117000"),
    ("05315000", "05315000"),  # AGS
    ("053150000000", "05315000"),  # Regionalschlüssel
    ("05315", "05315000"),  # key of a kreisfreie Stadt
    ("05913", "05913000"),
    ("Aachen", "05334002"),  # the city inside the Städteregion
    ("Stadt Aachen", "05334002"),
    ("Köln-Ehrenfeld", "05315000"),
    ("Bochum (Hustadt)", "05911000"),
    ("Ehrenfeld, Köln", "05315000"),
    ("Essen Steele", "05113000"),
    ("Stadt Hamm", "05915000"),
    ("Hamm, Stadt", "05915000"),
    ("Kreisfreie Stadt Hamm", "05915000"),
    ("Hückelhoven", "05370020"),
    ("Hueckelhoven", "05370020"),
    ("Hennef", "05382020"),  # official name "Hennef (Sieg)"
    ("Hennef (Sieg)", "05382020"),
    ("Halle/Westf.", "05754012"),
    ("Halle (Westfalen)", "05754012"),
    ("Fröndenberg", "05978012"),  # official name "Fröndenberg/Ruhr"
    ("St. Augustin", "05382056"),
    ("Monheim", "05158026"),
    ("Castrop-Rauxel", "05562004"),
    ("Castrop-Rauxel-Habinghorst", "05562004"),
    ("Schloss Holte-Stukenbrock", "05754036"),
    ("Kreis Unna", "05978036"),  # a Kreis named like its town: the town
    ("Städteregion Aachen", "05334002"),
    ("Venloer Str. 1, 50823 Köln", "05315000"),
])
def test_resolve(gaz, text, ags):
    place = gaz.resolve(text)
    assert isinstance(place, Place)
    assert place.ags == ags
    assert gaz.try_resolve(text) == place


def test_mülheim_variants_are_one_place(gaz):
    variants = ["Mülheim an der Ruhr", "Mülheim a.d. Ruhr", "Muelheim/Ruhr", "MÜLHEIM AN DER RUHR"]
    assert len({gaz.resolve(v) for v in variants}) == 1
    assert len({normalise_place_name(v) for v in variants}) == 1


def test_resolve_postcode(gaz):
    if not load_postcodes():
        pytest.skip("Extrakt ohne Postleitzahlen gebaut")
    assert gaz.resolve("50823").ags == "05315000"
    assert gaz.resolve("41836").name == "Hückelhoven"
    assert gaz.resolve("50823 Köln").ags == "05315000"
    assert gaz.resolve("D-44801 Bochum").ags == "05911000"


def test_place_carries_district(gaz):
    place = gaz.resolve("Hückelhoven")
    assert (place.district, place.district_name, place.regierungsbezirk) == ("05370", "Kreis Heinsberg", "Köln")


def test_unknown_place_suggests(gaz):
    with pytest.raises(NotFound) as info:
        gaz.resolve("Koln")
    assert not isinstance(info.value, Ambiguous)
    assert info.value.suggestions[0] == "Köln"
    assert "Ort „Koln“ ist in NRW nicht bekannt." in str(info.value)
    assert "Meinten Sie: Köln" in str(info.value)
    assert gaz.try_resolve("Koln") is None


def test_nonsense_is_not_found_without_suggestions(gaz):
    with pytest.raises(NotFound) as info:
        gaz.resolve("Xyzabc")
    assert info.value.suggestions == []
    assert str(info.value) == "Ort „Xyzabc“ ist in NRW nicht bekannt."
    with pytest.raises(NotFound):
        gaz.resolve("")
    with pytest.raises(NotFound):
        gaz.resolve("12")


def test_kreis_is_ambiguous(gaz):
    with pytest.raises(Ambiguous) as info:
        gaz.resolve("05978")  # Kreis Unna has ten municipalities
    assert len(info.value.suggestions) == 10
    assert "Lünen" in info.value.suggestions and "Unna" in info.value.suggestions
    assert "Kreis „Kreis Unna“" in str(info.value)
    with pytest.raises(Ambiguous) as info:
        gaz.resolve("Kreis Lippe")  # no town called Lippe
    assert "Detmold" in info.value.suggestions
    assert gaz.try_resolve("Rhein-Kreis Neuss") is None


def test_suggest(gaz):
    assert gaz.suggest("Koln") == ["Köln"]
    assert gaz.suggest("Mönchengladbch")[0] == "Mönchengladbach"
    assert gaz.suggest("Mönchen")[0] == "Mönchengladbach"  # prefix first
    assert len(gaz.suggest("Bad", n=3)) == 3
    assert gaz.suggest("Xyzabc") == []
    assert gaz.suggest("") == []


@pytest.mark.parametrize(("text", "key"), [
    ("05315", "05315"),
    ("Köln", "05315"),
    ("Kreis Unna", "05978"),
    ("Unna", "05978"),
    ("Städteregion Aachen", "05334"),
    ("StädteRegion Aachen", "05334"),
    ("Aachen", "05334"),
    ("Rhein-Kreis Neuss", "05162"),
    ("Kreis Neuss", "05162"),
    ("Märkischer Kreis", "05962"),
    ("Lippe", "05766"),
    ("Lünen", "05978"),  # a municipality gives its district
    ("05978024", "05978"),
])
def test_resolve_district(gaz, text, key):
    district = gaz.resolve_district(text)
    assert isinstance(district, District)
    assert district.key == key


def test_resolve_district_unknown(gaz):
    with pytest.raises(NotFound) as info:
        gaz.resolve_district("Kreis Lipe")
    assert info.value.suggestions[0] == "Kreis Lippe"
    assert str(info.value).startswith("Kreis „Kreis Lipe“ ist in NRW nicht bekannt.")


@pytest.mark.parametrize(("text", "name"), [
    ("Köln", "Köln"),
    ("Regierungsbezirk Arnsberg", "Arnsberg"),
    ("RB Münster", "Münster"),
    ("Bezirksregierung Detmold", "Detmold"),
    ("051", "Düsseldorf"),
    ("Bochum", "Arnsberg"),  # a municipality gives its Regierungsbezirk
    ("05334", "Köln"),
])
def test_resolve_regierungsbezirk(gaz, text, name):
    assert gaz.resolve_regierungsbezirk(text) == name


def test_resolve_regierungsbezirk_unknown(gaz):
    with pytest.raises(NotFound) as info:
        gaz.resolve_regierungsbezirk("Dusseldorf")
    assert info.value.suggestions == ["Düsseldorf"]


def test_small_hand_built_gazetteer_with_duplicate_names():
    # Two towns called "Neustadt" in different districts: a name alone is ambiguous, the key is not.
    districts = {
        "05901": District("05901", "Nordkreis", "kreis", "Arnsberg", 1000, 51.0, 7.0),
        "05902": District("05902", "Südkreis", "kreis", "Arnsberg", 2000, 50.0, 7.0),
    }
    places = {
        "05901001": Place("05901001", "Neustadt", "05901", "Kreis Nordkreis", "Arnsberg", 51.0, 7.0),
        "05901002": Place("05901002", "Altdorf (Westf.)", "05901", "Kreis Nordkreis", "Arnsberg", 51.1, 7.1),
        "05902001": Place("05902001", "Neustadt", "05902", "Kreis Südkreis", "Arnsberg", 50.0, 7.0),
    }
    gaz = Gazetteer(places, districts, {"59999": "05902001", "12345": "99999999"}, {"059": "Arnsberg"})
    with pytest.raises(Ambiguous) as info:
        gaz.resolve("Neustadt")
    assert info.value.suggestions == ["Neustadt (Kreis Nordkreis)", "Neustadt (Kreis Südkreis)"]
    assert gaz.resolve("05902001").district == "05902"
    assert gaz.resolve("59999").ags == "05902001"
    assert gaz.try_resolve("12345") is None  # postcode pointing outside the data is dropped
    assert gaz.resolve("Altdorf").ags == "05901002"
    assert gaz.resolve("altdorf westfalen").ags == "05901002"
    assert gaz.resolve_district("Südkreis").key == "05902"
    with pytest.raises(Ambiguous):
        gaz.resolve_district("Neustadt")
    assert gaz.municipalities_in("05901")[0].name == "Altdorf (Westf.)"


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("Netzwerk im Test gesperrt")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_offline_geocoder_without_network(no_network):
    from geopy.location import Location

    geocoder = OfflineGeocoder()
    location = geocoder.geocode("Köln")
    assert isinstance(location, Location)
    cologne = default_gazetteer().resolve("Köln")
    assert (location.latitude, location.longitude) == (cologne.lat, cologne.lon)
    assert location.address == "Köln, Nordrhein-Westfalen, Deutschland"
    assert location.raw["ags"] == "05315000"
    assert geocoder.geocode("Lünen").address == "Lünen, Kreis Unna, Nordrhein-Westfalen, Deutschland"
    assert geocoder.geocode("Mülheim a.d. Ruhr", timeout=10).raw["ags"] == "05117000"
    assert geocoder.geocode({"city": "Bochum"}).raw["ags"] == "05911000"
    assert geocoder.geocode("Xyzabc") is None
    assert geocoder.geocode("05978") is None  # a Kreis: no single place
    assert len(geocoder.geocode("05978", exactly_one=False)) == 10


def test_offline_reverse_without_network(no_network):
    geocoder = OfflineGeocoder()
    cologne = default_gazetteer().resolve("Köln")
    assert geocoder.reverse(f"{cologne.lat}, {cologne.lon}").raw["ags"] == "05315000"
    assert geocoder.reverse((52.52, 13.40)) is None  # Berlin is not in NRW


def test_online_geocoder_only_on_request(no_network):
    from geopy.geocoders import Nominatim

    with pytest.raises(ValueError, match="user_agent"):
        online_geocoder("")
    # constructing it does not touch the network; it is never called in tests
    assert isinstance(online_geocoder("msonet-test"), Nominatim)
