"""A small hand-built dataset for the app, render and browser tests (includes a hostile name)."""

from __future__ import annotations

from msonet.graph.model import Event, Funding, Organisation, RecordBatch, Relation

__all__ = ["XSS_NAME", "BEACON", "MARKDOWN_PAYLOAD", "small_batch", "TODAY"]

#: A name that would run script if any page put it into HTML unescaped.
XSS_NAME = "<img src=x onerror=alert(1)>"
#: Markdown that would become a live link and a live image (a tracking beacon) if rendered as Markdown.
BEACON = "http://127.0.0.1:9/"
MARKDOWN_PAYLOAD = f"x`\n\n[klick]({BEACON}l) ![i]({BEACON}t.png)\n\n`y"
TODAY = "2025-06-01"

_PLACES = {
    "koeln": ("Köln", "05315000", "05315", "Köln", 50.9384, 6.9599),
    "bochum": ("Bochum", "05911000", "05911", "Arnsberg", 51.4818, 7.2162),
    "bielefeld": ("Bielefeld", "05711000", "05711", "Detmold", 52.0302, 8.5325),
}


def _org(oid: str, name: str, org_type: str, place: str, sectors: tuple[str, ...], **extra) -> Organisation:
    city, ags, district, rb, lat, lon = _PLACES[place]
    return Organisation(id=oid, name=name, org_type=org_type, sectors=sectors, city=city, ags=ags,
                        district=district, regierungsbezirk=rb, lat=lat, lon=lon, source="testdaten.csv",
                        updated="2025-01-15", **extra)


def small_batch() -> RecordBatch:
    """Twelve organisations in three districts, two events, ties, funding and one hostile name."""
    orgs = [
        _org("org-coach", "Coach e.V. Köln", "mso", "koeln", ("education", "child_youth"),
             contact_person="Erika Muster", email="erika@example.org"),
        _org("org-agisra", "agisra e.V.", "mso", "koeln", ("women_girls", "social_counselling")),
        _org("org-xss", XSS_NAME, "mso", "koeln", ("culture",), website=MARKDOWN_PAYLOAD,
             description=MARKDOWN_PAYLOAD, address=MARKDOWN_PAYLOAD),
        _org("org-ki-koeln", "Kommunales Integrationszentrum Köln", "municipal_integration_centre", "koeln",
             ("education",)),
        _org("org-lsbtiq", "Rubicon e.V.", "self_help_group", "koeln", ("lgbtiq", "health")),
        _org("org-senioren", "Seniorennetzwerk Köln-Mitte", "regular_service", "koeln", ("seniors_care",)),
        _org("org-ronahi", "Ronahi e.V. Bochum", "mso", "bochum", ("women_girls", "parents_family")),
        _org("org-ia-bochum", "Integrationsagentur AWO Bochum", "integration_agency", "bochum",
             ("social_counselling",)),
        _org("org-behinderung", "Lebenshilfe Bochum", "regular_service", "bochum", ("disability",)),
        _org("org-ibz", "IBZ Friedenshaus Bielefeld", "mso", "bielefeld", ("culture", "democracy_participation")),
        _org("org-ki-bielefeld", "Kommunales Integrationszentrum Bielefeld", "municipal_integration_centre",
             "bielefeld", ("education",)),
        _org("org-jugend", "Jugendzentrum Bielefeld-Mitte", "regular_service", "bielefeld", ("child_youth",)),
    ]
    events = [
        Event(id="ev-treffen-2024", name="Vernetzungstreffen Köln 2024", event_type="networking_meeting",
              date="2024-05-14", city="Köln", ags="05315000", district="05315", regierungsbezirk="Köln",
              lat=50.9384, lon=6.9599, source="testdaten.csv", updated="2025-01-15"),
        Event(id="ev-fachtag-2019", name="Fachtag MSO Bielefeld 2019", event_type="conference",
              date="2019-10-02", city="Bielefeld", ags="05711000", district="05711", regierungsbezirk="Detmold",
              lat=52.0302, lon=8.5325, source="testdaten.csv", updated="2025-01-15"),
    ]
    rel = [
        ("org-coach", "org-ki-koeln", "cooperates_with", "2018"),
        ("org-agisra", "org-ki-koeln", "cooperates_with", "2021"),
        ("org-coach", "org-senioren", "tandem_partner", "2023"),
        ("org-ronahi", "org-ia-bochum", "advised_by", "2016"),
        ("org-ronahi", "org-behinderung", "tandem_partner", "2022"),
        ("org-ibz", "org-ki-bielefeld", "cooperates_with", "2012"),
        ("org-ki-bielefeld", "org-jugend", "cooperates_with", None),
        ("org-xss", "org-coach", "member_of", "2020"),
        ("org-coach", "ev-treffen-2024", "attended_event", None),
        ("org-agisra", "ev-treffen-2024", "attended_event", None),
        ("org-ki-koeln", "ev-treffen-2024", "organised_event", None),
        ("org-ibz", "ev-fachtag-2019", "attended_event", None),
        ("org-ronahi", "ev-fachtag-2019", "attended_event", None),
    ]
    relations = [Relation(a, b, t, since=s, source="testdaten.csv", updated="2025-01-15") for a, b, t, s in rel]
    fundings = [
        Funding(id="f-coach-1", org_id="org-coach", programme="KJP NRW", funding_kind="regular_funding",
                amount=40000.0, year_from=2020, year_to=2026, sector="child_youth", funder="Land NRW",
                source="testdaten.csv", updated="2025-01-15"),
        Funding(id="f-ronahi-1", org_id="org-ronahi", programme="MSO-Richtlinie NRW",
                funding_kind="single_project_funding", amount=12000.0, year_from=2024, year_to=2025,
                funder="KfI Arnsberg", source="testdaten.csv", updated="2025-01-15"),
    ]
    return RecordBatch(organisations=orgs, events=events, relations=relations, fundings=fundings)
