"""Wrote tests/data/legacy-store/graph.json with the JSON store as of commit 326c51a (before SQLite); kept for reference, it no longer runs against today's store."""
from pathlib import Path
import shutil
from graph.store import EmbeddedStore
from graph.model import Organisation, Event, Relation, Funding, RecordBatch
from loaders.load import load_files

home = Path("tests/data/legacy-store")
shutil.rmtree(home, ignore_errors=True)
store = EmbeddedStore(home)
report = load_files(sorted(Path("tests/data/good").glob("*.csv")), store)
print(report.describe())
store.upsert(RecordBatch(
    organisations=[
        Organisation("ü-verein", "Verein „Brücke“ – Ünal & Söhne", "mso", ("culture", "education"), city="Köln",
                     ags="05315000", district="05315", regierungsbezirk="Köln", lat=50.9384, lon=6.9599,
                     postcode="50667", address="Domkloster 4", website="https://brücke.example", founded=1999,
                     description="Zeile 1\nZeile 2 mit ; und \"Anführungszeichen\"", contact_person="Ayşe Yılmaz",
                     email="ayse@example.org", phone="+49 221 123", source="fixture.csv", updated="2026-11-30"),
        Organisation("ohne-ort", "Нова Громада", "mso", (), source="fixture.csv", updated="2026-11-30"),
        Organisation("weg", "Wird gelöscht", "regular_service", ("health",), source="fixture.csv", updated="2026-11-30"),
    ],
    events=[Event("ev-x", "Fachtag Ünity", "conference", "2026-05-04", city="Köln", source="fixture.csv")],
    relations=[Relation("ü-verein", "ohne-ort", "cooperates_with", since="2020", note="gut", source="fixture.csv"),
               Relation("ü-verein", "ev-x", "attended_event", source="fixture.csv"),
               Relation("weg", "ü-verein", "cooperates_with", source="fixture.csv")],
    fundings=[Funding("f-x1", "ü-verein", "Programm Ü", "project_funding", 12345.67, 2024, 2026, "culture",
                      "Land NRW", source="fixture.csv"),
              Funding("f-x2", "weg", "Nur für Weg", "startup_funding", None, source="fixture.csv")],
))
store.remove_organisation("weg")
print(store.counts(), store._revision)
