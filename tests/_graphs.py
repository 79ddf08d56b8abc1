"""Small hand-built graphs for the analytics tests, built through the real embedded store."""

from __future__ import annotations

import networkx as nx

from msonet.graph.model import Event, Funding, Organisation, RecordBatch, Relation
from msonet.graph.store import EmbeddedStore

#: A few real NRW municipalities: city -> (ags, district, Regierungsbezirk, lat, lon).
PLACES = {
    "Köln": ("05315000", "05315", "Köln", 50.9384, 6.9599),
    "Leverkusen": ("05316000", "05316", "Köln", 51.0459, 6.9847),
    "Bonn": ("05314000", "05314", "Köln", 50.7353, 7.1022),
    "Bochum": ("05911000", "05911", "Arnsberg", 51.4818, 7.2162),
    "Dortmund": ("05913000", "05913", "Arnsberg", 51.5136, 7.4653),
    "Bielefeld": ("05711000", "05711", "Detmold", 52.0302, 8.5325),
    "Hückelhoven": ("05370020", "05370", "Köln", 51.04319, 6.23072),
    "Heinsberg": ("05370016", "05370", "Köln", 51.05061, 6.11194),
}


def org(org_id: str, org_type: str = "mso", *, city: str | None = "Köln", sectors=(), name: str | None = None,
        coords: bool = True, **extra) -> Organisation:
    """An organisation in ``city`` (one of :data:`PLACES`, or ``None`` for no place at all)."""
    place = {}
    if city is not None:
        ags, district, rb, lat, lon = PLACES[city]
        place = {"city": city, "ags": ags, "district": district, "regierungsbezirk": rb}
        if coords:
            place.update(lat=lat, lon=lon)
    return Organisation(id=org_id, name=name or org_id.upper(), org_type=org_type, sectors=tuple(sectors),
                        synthetic=True, source="test", updated="2025-01-01", **{**place, **extra})


def event(event_id: str, date: str, *, city: str = "Köln", name: str | None = None) -> Event:
    ags, district, rb, lat, lon = PLACES[city]
    return Event(id=event_id, name=name or event_id.upper(), event_type="networking_meeting", date=date, city=city,
                 ags=ags, district=district, regierungsbezirk=rb, lat=lat, lon=lon, synthetic=True, source="test")


def rel(source: str, target: str, rel_type: str = "cooperates_with") -> Relation:
    return Relation(source, target, rel_type, synthetic=True, source="test")


def funding(funding_id: str, org_id: str, kind: str, amount: float | None, sector: str | None = None,
            programme: str = "Programm") -> Funding:
    return Funding(id=funding_id, org_id=org_id, programme=programme, funding_kind=kind, amount=amount,
                   sector=sector, synthetic=True, source="test")


def build(orgs=(), relations=(), events=(), fundings=()) -> nx.MultiDiGraph:
    """The analytics view (``to_networkx``) of an in-memory store holding exactly these records."""
    store = EmbeddedStore(None)
    store.upsert(RecordBatch(organisations=list(orgs), events=list(events), relations=list(relations),
                             fundings=list(fundings)))
    return store.to_networkx()
