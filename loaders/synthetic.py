"""Deterministic synthetic population of MSOs, services, events and funding for demos and benchmarks."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from msonet.graph.model import Event, Funding, Organisation, Place, RecordBatch, Relation
from msonet.graph.vocabulary import COMPLEMENTARY_SECTORS, MIGRATION_FIELD_TYPES, SECTORS
from msonet.loaders.geography import PostcodePoint, load_postcode_points

__all__ = [
    "generate",
    "default_composition",
    "municipality_weights",
    "invented_word",
    "DEFAULT_COMPOSITION",
    "MSO_SECTOR_SHARES",
    "ROLES",
    "WELFARE_ASSOCIATIONS",
    "PROGRAMMES",
    "REGULAR_ACTOR_TYPES",
    "SYNTHETIC_DESCRIPTION",
    "ISOLATED_MSO_SHARE",
    "INWARD_MSO_SHARE",
    "PARTNER_TIE_MODEL",
    "STREET_NAMES",
]

#: Text every generated organisation and event carries in ``description``.
SYNTHETIC_DESCRIPTION = "synthetisch erzeugt (keine reale Organisation)"

#: Organisation counts of the demo population (about NRW's size); ``default_composition`` scales them.
DEFAULT_COMPOSITION: dict[str, int] = {
    "integration_agency": 170,  # 2022: 172 IA (freiewohlfahrtspflege-nrw.de)
    "antidiscrimination_office": 42,  # 2022: 42 Servicestellen (same source)
    "integration_council": 104,  # 2025: 104 Integrationsräte (landesintegrationsrat.nrw)
    "mso": 1430,
    "mso_network": 70,
    "regular_service": 1200,
    "welfare_association": 300,  # local branches of the six associations
    "self_help_group": 420,
    "sports_club": 300,
    "education_provider": 300,
    "municipal_administration": 110,
    "religious_community": 180,
    "initiative": 190,
}

#: Types outside the migration field that count as "Regeldienste" in the broad sense.
REGULAR_ACTOR_TYPES = frozenset({
    "regular_service", "welfare_association", "self_help_group", "sports_club", "education_provider",
    "municipal_administration", "religious_community", "initiative",
})

#: Share of MSOs with no tie at all (no relation, no event, no funding).
ISOLATED_MSO_SHARE = 0.12
#: Share of MSOs tied only inside the migration field (the mainstreaming gap). With the isolated
#: ones this gives the 48 % of MOs that belong to no welfare association (Gemeinsam aktiv survey).
INWARD_MSO_SHARE = 0.36
#: Share of regular-service actors with no recorded tie.
ISOLATED_REGULAR_SHARE = 0.06

#: Probability that an MSO offers something in a sector (DeZIM as reported by MiGAZIN: 85 % youth,
#: about two thirds refugees, about half seniors, 16 % disability, 12 % care counselling -> health;
#: the other shares are assumptions).
MSO_SECTOR_SHARES: dict[str, float] = {
    "child_youth": 0.85, "refugees": 0.66, "seniors_care": 0.50, "disability": 0.16, "health": 0.12,
    "culture": 0.45, "education": 0.40, "parents_family": 0.35, "language": 0.25, "social_counselling": 0.25,
    "women_girls": 0.18, "democracy_participation": 0.15, "antidiscrimination": 0.15, "sport": 0.12,
    "interreligious_dialogue": 0.08, "neighbourhood": 0.12, "volunteering": 0.15, "labour_market": 0.08,
    "development": 0.08, "lgbtiq": 0.02,
}
#: Gemeinsam aktiv: 54 % of MOs were founded to work in child and youth services.
MSO_FOUNDED_FOR_YOUTH = 0.54
#: ... but only 18 % are financed through them: share of youth-founded MSOs with SGB VIII funding.
MSO_YOUTH_REGULAR_FUNDED = 0.18

#: State-level hubs the population attaches to. ``generate`` creates a synthetic stand-in for every
#: role not given in ``roles``.
ROLES: dict[str, tuple[str, str]] = {
    "laki": ("state_coordination_office", "Landeskoordinierung der Integrationszentren"),
    "ministry": ("state_ministry", "Landesministerium für Integration"),
    "kfi": ("state_authority", "Landesstelle für Integrationsförderung"),
    "fachberatung": ("advisory_service", "Fachberatung für MSO"),
    "mso_federation": ("mso_federation", "Landesdachverband der Migrant*innenorganisationen"),
    "fdm": ("mso_federation", "Forum der Migrant*innenorganisationen"),
    "landesintegrationsrat": ("integration_council", "Landesverband der Integrationsräte"),
    "welfare:awo": ("welfare_association", "AWO-Landesverband"),
    "welfare:caritas": ("welfare_association", "Caritas-Landesverband"),
    "welfare:diakonie": ("welfare_association", "Diakonie-Landesverband"),
    "welfare:drk": ("welfare_association", "DRK-Landesverband"),
    "welfare:paritaet": ("welfare_association", "Paritätischer Landesverband"),
    "welfare:juedisch": ("welfare_association", "Landesverband der Jüdischen Gemeinden"),
}

#: The six associations of the Freie Wohlfahrtspflege NRW: key -> (short name, weight as IA Träger,
#: weight among local branches).
WELFARE_ASSOCIATIONS: dict[str, tuple[str, float, float]] = {
    "awo": ("AWO", 0.24, 0.28),
    "caritas": ("Caritas", 0.26, 0.26),
    "diakonie": ("Diakonie", 0.24, 0.24),
    "drk": ("DRK", 0.08, 0.14),
    "paritaet": ("Paritätischer", 0.16, 0.08),
    "juedisch": ("Jüdische Gemeinde", 0.02, 0.0),
}

#: Funding programmes: key -> (programme name, funding kind, funder).
PROGRAMMES: dict[str, tuple[str, str, str]] = {
    "ki": ("Landesförderung Kommunale Integrationszentren", "regular_funding", "Land NRW (MKJFGFI)"),
    "ia": ("Landesförderung Integrationsagenturen", "regular_funding", "Land NRW (MKJFGFI)"),
    "ads": ("Landesförderung Servicestellen für Antidiskriminierungsarbeit", "regular_funding",
            "Land NRW (MKJFGFI)"),
    "sgb8": ("Förderung der freien Jugendhilfe (SGB VIII)", "regular_funding", "Jugendamt"),
    "startup": ("MSO-Förderung NRW: Anschubförderung", "startup_funding",
                "Land NRW (KfI, Bezirksregierung Arnsberg)"),
    "single": ("MSO-Förderung NRW: Einzelprojektförderung", "single_project_funding",
               "Land NRW (KfI, Bezirksregierung Arnsberg)"),
    "partner": ("MSO-Förderung NRW: Partnerprojektförderung", "partner_project_funding",
                "Land NRW (KfI, Bezirksregierung Arnsberg)"),
    "komm_an": ("KOMM-AN NRW", "pass_through_funding", "Kommunales Integrationszentrum"),
    "municipal": ("Kommunaler Zuschuss", "municipal_grant", "Kommune"),
    "foundation": ("Stiftungsförderung", "foundation_grant", "Stiftung"),
}

# -- names -------------------------------------------------------------------------------------------
# Invented words (never real places, people or languages) make synthetic names plainly fictional.
_ONSETS = ("Ka", "Lo", "Mi", "Ra", "Ve", "Su", "Ti", "No", "Be", "Da", "Fe", "Ko", "La", "Mo", "Ne", "Pa",
           "Ri", "Sa", "To", "Za", "Vi", "Lu", "Ga", "Yo")
_MIDDLES = ("ra", "li", "no", "ve", "ma", "si", "ta", "lu", "re", "mo", "ki", "da")
_ENDINGS = ("n", "l", "ra", "ne", "ta", "ro", "lia", "no", "va", "rin", "sa", "")

# Short purpose words keep the invented part dominant, so name similarity checks do not see
# look-alikes where two names only share the purpose.
_PURPOSE = {
    "child_youth": "Jugend", "parents_family": "Familie", "education": "Bildung", "language": "Sprache",
    "social_counselling": "Beratung", "refugees": "Ankommen", "antidiscrimination": "Respekt",
    "democracy_participation": "Teilhabe", "labour_market": "Arbeit", "health": "Gesundheit",
    "seniors_care": "Senior*innen", "disability": "Inklusion", "women_girls": "Frauen", "lgbtiq": "Queer",
    "culture": "Kultur", "sport": "Sport", "interreligious_dialogue": "Dialog", "neighbourhood": "Nachbarschaft",
    "volunteering": "Engagement", "development": "Entwicklung",
}

# kind word, sectors (first = main), for each regular-service type
_REGULAR_KINDS: dict[str, tuple[tuple[str, tuple[str, ...], float], ...]] = {
    "regular_service": (
        ("Jugendzentrum", ("child_youth",), 0.18), ("Familienzentrum", ("parents_family", "child_youth"), 0.14),
        ("Erziehungsberatungsstelle", ("parents_family", "child_youth"), 0.08),
        ("Beratungsstelle", ("social_counselling",), 0.12), ("Pflegedienst", ("seniors_care", "health"), 0.10),
        ("Seniorentreff", ("seniors_care", "neighbourhood"), 0.08),
        ("Frauenberatungsstelle", ("women_girls", "social_counselling"), 0.06),
        ("Wohnverbund", ("disability",), 0.07), ("Quartiersbüro", ("neighbourhood", "volunteering"), 0.07),
        ("Freiwilligenagentur", ("volunteering",), 0.04), ("Jobwerkstatt", ("labour_market",), 0.06),
    ),
    "self_help_group": (
        ("Inklusionsgruppe", ("disability",), 0.34), ("Queerer Treffpunkt", ("lgbtiq",), 0.18),
        ("Senior*innen-Selbsthilfe", ("seniors_care",), 0.26), ("Frauennetzwerk", ("women_girls",), 0.14),
        ("Gesundheitsselbsthilfe", ("health",), 0.08),
    ),
    "sports_club": (
        ("Sportverein", ("sport", "child_youth"), 0.6), ("Turnverein", ("sport",), 0.2),
        ("Fußballclub", ("sport", "child_youth"), 0.2),
    ),
    "education_provider": (
        ("Bildungswerk", ("education", "labour_market"), 0.35), ("Sprachschule", ("language", "education"), 0.25),
        ("Gesamtschule", ("education", "child_youth"), 0.25),
        ("Familienbildungsstätte", ("parents_family", "education"), 0.15),
    ),
    "religious_community": (
        ("Kirchengemeinde", ("interreligious_dialogue", "neighbourhood", "seniors_care"), 0.7),
        ("Pfarrei", ("interreligious_dialogue", "seniors_care"), 0.3),
    ),
    "initiative": (
        ("Initiative", ("neighbourhood", "volunteering"), 0.4),
        ("Flüchtlingshilfe", ("refugees", "volunteering"), 0.35),
        ("Nachbarschaftsinitiative", ("neighbourhood",), 0.25),
    ),
}
# Focus areas (Eckpunkte) of the integration agencies, to tell several in one town apart.
_IA_FOCUS = ("Interkulturelle Öffnung", "Bürgerschaftliches Engagement", "Sozialraumorientierte Arbeit")
_WELFARE_UNITS = ("Ortsverein", "Fachdienst Integration", "Stadtteilbüro", "Familienhilfe", "Sozialdienst",
                  "Beratungszentrum", "Jugendhilfe")
_WELFARE_SECTORS = ("child_youth", "seniors_care", "social_counselling", "disability", "refugees", "parents_family")

_EVENT_TYPES = (("networking_meeting", 0.30), ("training", 0.24), ("conference", 0.15), ("info_session", 0.12),
                ("festival", 0.08), ("committee_meeting", 0.06), ("general_assembly", 0.03),
                ("political_visit", 0.02))
_EVENT_WORDS = {
    "networking_meeting": "Vernetzungstreffen", "training": "Fortbildung", "conference": "Fachtag",
    "info_session": "Informationsabend", "festival": "Fest der Vielfalt", "committee_meeting": "Arbeitskreis",
    "general_assembly": "Mitgliederversammlung", "political_visit": "Besuch aus dem Landtag",
}
_EVENT_TOPICS = ("child_youth", "parents_family", "refugees", "antidiscrimination", "democracy_participation",
                 "seniors_care", "disability", "women_girls", "education", "volunteering", "health")

# Pool groups the tie generator draws targets from.
_GROUP_OF_TYPE = {
    "municipal_integration_centre": "ki", "integration_agency": "ia", "antidiscrimination_office": "ads",
    "mso": "mso", "mso_network": "network", "integration_council": "council", "welfare_association": "welfare",
    "municipal_administration": "jugendamt", "regular_service": "regular", "self_help_group": "regular",
    "sports_club": "regular", "education_provider": "regular", "religious_community": "regular",
    "initiative": "regular",
}
# Where the ties of each kind of actor go (group, weight). "mso_bridged" = MSOs open to regular services.
_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    # ties to "regular" and "welfare" actors come from the partner-tie mechanism (_make_partner_ties)
    "mso_bridged": (("ki", .12), ("ia", .12), ("mso", .24), ("network", .05), ("council", .04), ("ads", .02),
                    ("jugendamt", .06)),
    "mso_inward": (("ki", .20), ("ia", .20), ("mso", .43), ("network", .09), ("council", .05), ("ads", .03)),
    "network": (("mso", .50), ("ki", .15), ("ia", .10), ("network", .08), ("regular", .10), ("council", .07)),
    "regular": (("regular", .55), ("welfare", .10), ("jugendamt", .08), ("ki", .05), ("ia", .06), ("ads", .03)),
    "welfare": (("regular", .55), ("ia", .10), ("jugendamt", .10), ("ki", .08), ("welfare", .05)),
    "jugendamt": (("regular", .60), ("ki", .15), ("welfare", .15), ("mso_bridged", .10)),
    "ki": (("mso", .40), ("regular", .20), ("ia", .15), ("council", .10), ("jugendamt", .10), ("ads", .05)),
    "ia": (("mso", .40), ("regular", .25), ("ki", .10), ("ia", .08), ("ads", .07), ("welfare", .10)),
    "ads": (("mso", .40), ("ia", .30), ("regular", .20), ("ki", .10)),
    "council": (("mso", .60), ("ki", .25), ("ia", .15)),
}
# Relative number of own ties per kind of actor (hubs reach out more).
_STUB_FACTOR = {"mso_bridged": 1.0, "mso_inward": 0.8, "network": 3.0, "regular": 0.8, "welfare": 2.0,
                "jugendamt": 3.0, "ki": 6.0, "ia": 3.0, "ads": 2.0, "council": 1.5}
# Relative attractiveness as a tie target (hubs attract more).
_FITNESS_FACTOR = {"ki": 6.0, "ia": 3.0, "ads": 2.0, "network": 3.0, "council": 1.5, "welfare": 2.0,
                   "jugendamt": 3.0}
# Where a tie's other end lives: same municipality, same district, same Regierungsbezirk, anywhere.
_LOCALITY = (0.55, 0.85, 0.95)

#: The mechanism that forms ties between MSOs open to regular services and local organisations outside the
#: migration field (see docs/quality.md). It is deliberately not the partner search's scorer: an MSO first
#: hears of ``heard_of`` organisations (active ones more often: drawn by activity from its district, a few
#: from its Regierungsbezirk), then chooses one with odds ``exp(-km / decay_km)`` (``decay_km`` = 2.5 km
#: in kreisfreie Städte, 8 km in Kreise) x ``shared_sector`` per shared sector x ``complementary`` if the
#: other covers a field of the tandem project the MSO lacks x ``carrier`` for the welfare association the
#: MSO belongs to x (1 + ``closure`` x common contacts). A share ``noise`` of ties ignores all of this
#: (a random organisation of the Regierungsbezirk). Ties per MSO are heavy-tailed (Pareto, ``pareto_alpha``).
PARTNER_TIE_MODEL: dict[str, float] = {
    "heard_of": 40, "decay_km_city": 2.5, "decay_km_rural": 8.0, "shared_sector": 1.8, "complementary": 1.6,
    "carrier": 2.5, "closure": 1.5, "noise": 0.12, "mean_ties": 1.6, "pareto_alpha": 2.2,
}

#: Street names found in most German towns (synthetic addresses use them with a house number).
STREET_NAMES = ("Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Kirchstraße", "Lindenstraße",
                "Bergstraße", "Ringstraße", "Goethestraße", "Schillerstraße", "Friedrichstraße", "Marktstraße",
                "Mühlenweg", "Am Markt", "Poststraße", "Wiesenstraße", "Feldstraße", "Parkstraße",
                "Kaiserstraße", "Mozartstraße", "Beethovenstraße", "Jahnstraße", "Am Bahnhof", "Lessingstraße")


def invented_word(rng: random.Random) -> str:
    """A plainly invented, pronounceable word such as ``"Kavelo"`` (for synthetic names)."""
    return rng.choice(_ONSETS) + rng.choice(_MIDDLES) + rng.choice(_MIDDLES) + rng.choice(_ENDINGS)


def municipality_weights(municipalities: Mapping[str, Place], districts: Mapping[str, object],
                         seats: Mapping[str, str] | None = None, seat_factor: float = 3.0) -> dict[str, float]:
    """Inhabitant weight of every municipality: its district's population shared among its municipalities.

    The shipped geography has populations per district only, so each district's census figure is split
    evenly among its municipalities, with ``seat_factor`` shares for the district seat (``seats`` maps
    district key -> AGS of the seat). A kreisfreie Stadt keeps its whole population.

    Parameters
    ----------
    municipalities
        AGS -> Place.
    districts
        District key -> object with a ``population`` attribute.
    seats
        Optional district key -> AGS of the district seat.
    seat_factor
        How many shares the seat gets.

    Returns
    -------
    AGS -> weight (inhabitants), in AGS order.
    """
    by_district: dict[str, list[str]] = {}
    for ags in sorted(municipalities):
        by_district.setdefault(municipalities[ags].district, []).append(ags)
    weights: dict[str, float] = {}
    for key, members in by_district.items():
        population = float(getattr(districts.get(key), "population", 0) or 0) or 100_000.0
        seat = (seats or {}).get(key)
        shares = {ags: (seat_factor if ags == seat else 1.0) for ags in members}
        total = sum(shares.values())
        for ags in members:
            weights[ags] = population * shares[ags] / total
    return dict(sorted(weights.items()))


def default_composition(n_orgs: int, n_places: int = 396) -> dict[str, int]:
    """Organisation counts per type that add up to ``n_orgs`` (the demo's shares, scaled).

    Municipal offices and integration councils are capped by the number of municipalities (a town has
    one Integrationsrat and a Jugendamt plus a Sozialamt at most); the rest goes to regular services.
    """
    total = sum(DEFAULT_COMPOSITION.values())
    counts = {k: int(v * n_orgs / total) for k, v in DEFAULT_COMPOSITION.items()}
    counts["integration_council"] = min(counts["integration_council"], n_places)
    counts["municipal_administration"] = min(counts["municipal_administration"], 2 * n_places)
    counts["regular_service"] += n_orgs - sum(counts.values())
    return counts


@dataclass
class _Pool:
    ids: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)


@dataclass
class _Actor:
    org: Organisation
    group: str  # tie-mix key: mso_bridged, mso_inward, regular, ki ...
    isolated: bool = False
    fitness: float = 1.0
    created: bool = True  # False for given (base) organisations: targets only, no generated ties of their own
    traeger: str | None = None  # welfare association key of branches, IA and Servicestellen


class _Generator:
    """Holds the random source, places and indexes while one population is built."""

    def __init__(self, seed: int, municipalities: Mapping[str, Place], districts: Mapping[str, object],
                 today: date, id_prefix: str, source: str, weights: Mapping[str, float] | None,
                 postcodes: Mapping[str, PostcodePoint] | None = None):
        self.rng = random.Random(seed)
        # Addresses draw from their own source, so the rest of the population does not depend on them.
        self.address_rng = random.Random(f"msonet-addresses-{seed}")
        self.postcodes_by_ags: dict[str, list[PostcodePoint]] = {}
        for plz in sorted(postcodes or {}):
            point = (postcodes or {})[plz]
            self.postcodes_by_ags.setdefault(point.ags, []).append(point)
        self.today = today
        self.updated = today.isoformat()
        self.prefix = id_prefix
        self.source = source
        self.places = [municipalities[a] for a in sorted(municipalities)]
        self.by_ags = {p.ags: p for p in self.places}
        self.districts = districts
        w = weights or municipality_weights(municipalities, districts)
        self.weight = {p.ags: float(w.get(p.ags, 1.0)) for p in self.places}
        self.names: set[str] = set()
        self.actors: list[_Actor] = []
        self.by_id: dict[str, _Actor] = {}
        self.counters: dict[str, itertools.count] = {}
        self.relations: list = []
        self.tied: set[tuple[str, str]] = set()
        self.fundings: list[Funding] = []
        self.events: list[Event] = []
        self._samplers: dict[float, tuple[list[str], list[float]]] = {}
        self.district_places: dict[str, list[Place]] = {}
        for p in self.places:
            self.district_places.setdefault(p.district, []).append(p)

    # -- helpers -----------------------------------------------------------------------------------
    def next_id(self, kind: str) -> str:
        counter = self.counters.setdefault(kind, itertools.count(1))
        return f"{self.prefix}-{kind}-{next(counter):06d}"

    def place(self, exponent: float = 1.0) -> Place:
        """A municipality drawn in proportion to inhabitants (``exponent`` > 1 favours big cities)."""
        sampler = self._samplers.get(exponent)
        if sampler is None:
            ags = [p.ags for p in self.places]
            sampler = (ags, list(itertools.accumulate(self.weight[a] ** exponent for a in ags)))
            self._samplers[exponent] = sampler
        ags, cum = sampler
        i = bisect.bisect_right(cum, self.rng.random() * cum[-1])
        return self.by_ags[ags[min(i, len(ags) - 1)]]

    def unique(self, make) -> str:
        """A name not used yet: ``make(attempt)`` is called again on a clash, then two invented words are added.

        Invented words rather than numbers: "X 2" next to "X" looks like a duplicate entry.
        """
        for attempt in itertools.count():
            name = make(attempt)
            if attempt >= 6:
                name = f"{name} {invented_word(self.rng)} {invented_word(self.rng)}"
            if name not in self.names:
                self.names.add(name)
                return name
        raise AssertionError("unreachable")

    def founded(self, median_age: float = 12.0, earliest: int = 1960) -> int:
        age = int(self.rng.expovariate(math.log(2) / median_age))
        return max(earliest, self.today.year - age)

    def weighted(self, table):
        r = self.rng.random() * sum(w for *_, w in table)
        for *item, w in table:
            r -= w
            if r <= 0:
                return item if len(item) > 1 else item[0]
        last = table[-1][:-1]
        return last if len(last) > 1 else last[0]

    def add(self, org: Organisation, group: str, isolated: bool = False) -> _Actor:
        actor = _Actor(org, group, isolated, self.rng.lognormvariate(0.0, 1.0) * _FITNESS_FACTOR.get(
            _GROUP_OF_TYPE.get(org.org_type, ""), 1.0))
        self.actors.append(actor)
        self.by_id[org.id] = actor
        return actor

    def organisation(self, org_type: str, name: str, place: Place | None, sectors: Sequence[str],
                     founded: int | None, note: str = "") -> Organisation:
        kind = {"mso": "mso", "mso_network": "msonet", "integration_agency": "ia",
                "antidiscrimination_office": "ads", "municipal_integration_centre": "ki",
                "integration_council": "ir"}.get(org_type, "org")
        description = SYNTHETIC_DESCRIPTION + (f"; {note}" if note else "")
        lat, lon, precision = (place.lat, place.lon, "municipality") if place else (None, None, None)
        postcode = address = None
        points = self.postcodes_by_ags.get(place.ags) if place else None
        if points:  # a postcode of the municipality and an everyday street name
            point = points[self.address_rng.randrange(len(points))]
            postcode, lat, lon, precision = point.plz, point.lat, point.lon, "postcode"
            address = f"{self.address_rng.choice(STREET_NAMES)} {self.address_rng.randint(1, 120)}"
        return Organisation(
            id=self.next_id(kind), name=name, org_type=org_type, sectors=tuple(dict.fromkeys(sectors)),
            city=place.name if place else None, ags=place.ags if place else None,
            district=place.district if place else None, regierungsbezirk=place.regierungsbezirk if place else None,
            lat=lat, lon=lon, location_precision=precision, postcode=postcode, address=address, founded=founded,
            description=description, synthetic=True, source=self.source, updated=self.updated)

    def relate(self, source_id: str, target_id: str, rel_type: str, since: str | None = None,
               note: str | None = None) -> bool:
        """Add one tie unless the two already have one (keeps the graph simple)."""
        if source_id == target_id:
            return False
        pair = (source_id, target_id) if source_id < target_id else (target_id, source_id)
        if pair in self.tied:
            return False
        self.tied.add(pair)
        self.relations.append(Relation(source_id, target_id, rel_type, since=since, note=note, synthetic=True,
                                       source=self.source, updated=self.updated))
        return True

    def since(self, *ids: str) -> str:
        """A plausible start year of a tie: after 2000 and after both ends were founded."""
        start = 2000
        for i in ids:
            actor = self.by_id.get(i)
            if actor is not None and actor.org.founded and actor.org.founded > start:
                start = actor.org.founded
        last = self.today.year
        start = min(start, last)
        return str(start + int(self.rng.random() * (last - start + 1)))

    def fund(self, org: Organisation, programme: str, amount: float | None, year_from: int, year_to: int,
             sector: str | None, funder: str | None = None) -> None:
        name, kind, default_funder = PROGRAMMES[programme]
        self.fundings.append(Funding(
            id=self.next_id("fd"), org_id=org.id, programme=name, funding_kind=kind,
            amount=None if amount is None else float(round(amount, -1)), year_from=year_from, year_to=year_to,
            sector=sector, funder=funder or default_funder, synthetic=True, source=self.source,
            updated=self.updated))


# -- building blocks -----------------------------------------------------------------------------------

def _largest_remainder(total: int, weights: Mapping[str, float], minimum: int = 0) -> dict[str, int]:
    """Split ``total`` over keys in proportion to ``weights`` (each at least ``minimum`` when possible)."""
    keys = list(weights)
    if not keys or total <= 0:
        return {k: 0 for k in keys}
    base = {k: minimum for k in keys} if total >= minimum * len(keys) else {k: 0 for k in keys}
    rest = total - sum(base.values())
    wsum = sum(weights.values()) or 1.0
    exact = {k: rest * weights[k] / wsum for k in keys}
    out = {k: base[k] + int(exact[k]) for k in keys}
    left = total - sum(out.values())
    for k in sorted(keys, key=lambda k: (-(exact[k] - int(exact[k])), k))[:left]:
        out[k] += 1
    return out


def _district_weights(gen: _Generator) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in gen.places:
        out[p.district] = out.get(p.district, 0.0) + gen.weight[p.ags]
    return dict(sorted(out.items()))


def _place_in_district(gen: _Generator, district: str) -> Place:
    members = gen.district_places[district]
    cum = list(itertools.accumulate(gen.weight[p.ags] for p in members))
    i = bisect.bisect_right(cum, gen.rng.random() * cum[-1])
    return members[min(i, len(members) - 1)]


def _make_roles(gen: _Generator, roles: Mapping[str, str]) -> dict[str, str]:
    """Role -> org id; creates synthetic stand-ins for the roles not given.

    Stand-ins sit in the state capital (or the biggest municipality) so that CSV exports of a purely
    synthetic dataset have a town in every row.
    """
    out = dict(roles)
    capital = next((p for p in gen.places if p.name == "Düsseldorf"), None) or max(
        gen.places, key=lambda p: (gen.weight[p.ags], p.ags))
    for role, (org_type, name) in ROLES.items():
        if role in out:
            continue
        org = gen.organisation(org_type, gen.unique(lambda _a, n=name: f"{n} (synthetisch)"), capital, (), None)
        gen.add(org, "state")
        out[role] = org.id
    return out


def _make_ki(gen: _Generator, base: Sequence[Organisation]) -> dict[str, list[str]]:
    """District key -> KI ids; a synthetic KI at the district's biggest municipality where none is given."""
    have: dict[str, list[str]] = {}
    for org in base:
        if org.org_type == "municipal_integration_centre" and org.district:
            have.setdefault(org.district, []).append(org.id)
    for key in sorted(gen.district_places):
        if key in have:
            continue
        seat = max(gen.district_places[key], key=lambda p: (gen.weight[p.ags], p.ags))
        district = gen.districts.get(key)
        label = getattr(district, "label", None) or getattr(district, "name", None) or seat.district_name
        org = gen.organisation("municipal_integration_centre",
                               gen.unique(lambda _a, lab=label: f"Kommunales Integrationszentrum {lab} (synthetisch)"),
                               seat, ("education", "child_youth", "democracy_participation", "volunteering"),
                               gen.rng.randint(2012, 2014))
        gen.add(org, "ki")
        have[key] = [org.id]
    return have


def _mso_sectors(gen: _Generator) -> tuple[str, ...]:
    rng = gen.rng
    if rng.random() < MSO_FOUNDED_FOR_YOUTH:
        primary = "child_youth"
    else:
        primary = gen.weighted([(k, v) for k, v in MSO_SECTOR_SHARES.items() if k != "child_youth"])
    # child_youth offers: 85 % overall, so (0.85 - 0.54) / 0.46 of the others also have them
    shares = dict(MSO_SECTOR_SHARES)
    shares["child_youth"] = (MSO_SECTOR_SHARES["child_youth"] - MSO_FOUNDED_FOR_YOUTH) / (1 - MSO_FOUNDED_FOR_YOUTH)
    others = [s for s in SECTORS if s != primary and rng.random() < shares.get(s, 0.0)]
    return (primary, *others)


def _make_population(gen: _Generator, counts: Mapping[str, int], roles: Mapping[str, str]) -> None:
    rng = gen.rng
    dweights = _district_weights(gen)
    # Integration agencies and anti-discrimination offices: spread over districts by population.
    offices = (("integration_agency", "Integrationsagentur"),
               ("antidiscrimination_office", "Servicestelle für Antidiskriminierungsarbeit"))
    for org_type, word in offices:
        n = counts.get(org_type, 0)
        minimum = 1 if org_type == "integration_agency" else 0
        for district, k in _largest_remainder(n, dweights, minimum).items():
            for _ in range(k):
                place = _place_in_district(gen, district)
                assoc = gen.weighted([(a, v[1]) for a, v in WELFARE_ASSOCIATIONS.items()])
                short = WELFARE_ASSOCIATIONS[assoc][0]
                sectors: tuple[str, ...] = (("social_counselling", "neighbourhood", "antidiscrimination", "refugees")
                           if org_type == "integration_agency" else ("antidiscrimination", "social_counselling"))
                # "Integrationsagentur AWO Köln"; a second one of the same Träger gets its focus area
                focus = org_type == "integration_agency"
                name = gen.unique(lambda a, w=word, s=short, p=place, f=focus: f"{w} {s} {p.name}" if a == 0 or not f
                                  else f"{w} {s} {p.name} – {rng.choice(_IA_FOCUS)}")
                org = gen.organisation(org_type, name, place, sectors[: rng.randint(2, len(sectors))],
                                       rng.randint(2007 if org_type == "integration_agency" else 2009, 2016),
                                       note=f"Träger: {short}")
                gen.add(org, "ia" if org_type == "integration_agency" else "ads").traeger = assoc
    # Integration councils: in the biggest municipalities, one each.
    ranked = sorted(gen.places, key=lambda p: (-gen.weight[p.ags], p.ags))
    for place in ranked[: counts.get("integration_council", 0)]:
        org = gen.organisation("integration_council", gen.unique(lambda _a, p=place: f"Integrationsrat {p.name}"),
                               place, ("democracy_participation",), None)
        gen.add(org, "council")
    # Municipal offices: Jugendamt first, then Sozialamt, biggest places first.
    n_admin = counts.get("municipal_administration", 0)
    admin_offices = [(p, "Jugendamt") for p in ranked] + [(p, "Sozialamt") for p in ranked]
    for place, office in admin_offices[:n_admin]:
        sectors = ("child_youth", "parents_family") if office == "Jugendamt" else ("social_counselling", "refugees")
        org = gen.organisation("municipal_administration", gen.unique(lambda _a, p=place, o=office: f"{o} {p.name}"),
                               place, sectors, None)
        gen.add(org, "jugendamt")
    # MSOs concentrate in big cities: weight ** 1.15.
    n_mso = counts.get("mso", 0)
    # Exact quotas (shuffled) keep the isolated and inward shares stable for every seed.
    states = (["isolated"] * round(n_mso * ISOLATED_MSO_SHARE) + ["mso_inward"] * round(n_mso * INWARD_MSO_SHARE))
    states += ["mso_bridged"] * (n_mso - len(states))
    rng.shuffle(states)
    for org_type, n in (("mso_network", counts.get("mso_network", 0)), ("mso", n_mso)):
        for i in range(n):
            place = gen.place(1.15)
            if org_type == "mso":
                sectors = _mso_sectors(gen)
                purpose = _PURPOSE[sectors[0]]
                name = gen.unique(lambda _a, pu=purpose: f"{invented_word(rng)} {invented_word(rng)} e.V. – {pu}")
                org = gen.organisation("mso", name, place, sectors, gen.founded(14.0, 1961),
                                       note=f"Gründungszweck: {SECTORS[sectors[0]][0]}")
                state = states[i]
                gen.add(org, "mso_inward" if state == "isolated" else state, isolated=state == "isolated")
            else:
                name = gen.unique(lambda _a: f"MSO-Verbund {invented_word(rng)} {invented_word(rng)}")
                org = gen.organisation("mso_network", name, place,
                                       ("democracy_participation", "volunteering", "culture"), gen.founded(8.0, 2000))
                gen.add(org, "network")
    # Local branches of the welfare associations.
    for _ in range(counts.get("welfare_association", 0)):
        place = gen.place()
        assoc = gen.weighted([(a, v[2]) for a, v in WELFARE_ASSOCIATIONS.items() if v[2] > 0])
        short = WELFARE_ASSOCIATIONS[assoc][0]
        name = gen.unique(lambda _a, s=short, p=place: f"{s} {rng.choice(_WELFARE_UNITS)} {p.name}")
        welfare_sectors = rng.sample(_WELFARE_SECTORS, rng.randint(2, 4))
        org = gen.organisation("welfare_association", name, place, welfare_sectors, gen.founded(30.0, 1950),
                               note=f"Gliederung: {short}")
        gen.add(org, "welfare").traeger = assoc
    # The other regular-service actors.
    for org_type, kinds in _REGULAR_KINDS.items():
        for _ in range(counts.get(org_type, 0)):
            place = gen.place()
            word, kind_sectors = gen.weighted(kinds)
            regular_sectors = list(kind_sectors)
            if rng.random() < 0.4:
                regular_sectors.append(rng.choice(("volunteering", "neighbourhood", "education", "health", "culture")))
            name = gen.unique(lambda _a, wd=word: f"{wd} {invented_word(rng)} {invented_word(rng)}")
            org = gen.organisation(org_type, name, place, regular_sectors, gen.founded(20.0, 1950))
            gen.add(org, "regular", isolated=rng.random() < ISOLATED_REGULAR_SHARE)


# -- ties ------------------------------------------------------------------------------------------------

def _build_pools(gen: _Generator) -> dict[tuple[str, str, str], _Pool]:
    pools: dict[tuple[str, str, str], _Pool] = {}
    for actor in gen.actors:
        if actor.isolated:
            continue
        org = actor.org
        group = _GROUP_OF_TYPE.get(org.org_type)
        if group is None:
            continue
        groups = [group]
        if group == "mso" and actor.group == "mso_bridged":
            groups.append("mso_bridged")
        levels = [("all", "")]
        if org.ags:
            levels += [("ags", org.ags), ("district", org.district or ""), ("rb", org.regierungsbezirk or "")]
        for g in groups:
            for level, key in levels:
                pool = pools.setdefault((g, level, key), _Pool())
                pool.ids.append(org.id)
                pool.weights.append(actor.fitness)
    for pool in pools.values():
        pool.cum = list(itertools.accumulate(pool.weights))
    return pools


def _draw(gen: _Generator, pools, group: str, org: Organisation) -> str | None:
    """A tie target of ``group`` near ``org``: same town first, then district, region, anywhere."""
    rng = gen.rng
    r = rng.random()
    start = 0 if r < _LOCALITY[0] else 1 if r < _LOCALITY[1] else 2 if r < _LOCALITY[2] else 3
    keys = (("ags", org.ags), ("district", org.district), ("rb", org.regierungsbezirk), ("all", ""))
    if not org.ags:
        start = 3
    for level, key in keys[start:]:
        pool = pools.get((group, level, key or ""))
        if pool and pool.ids:
            for _ in range(2):
                i = bisect.bisect_right(pool.cum, rng.random() * pool.cum[-1])
                target = pool.ids[min(i, len(pool.ids) - 1)]
                if target != org.id:
                    return target
    return None


def _tie_type(gen: _Generator, src: _Actor, tgt: _Actor) -> tuple[str, str, str]:
    """(source id, target id, relation type) for a tie from ``src`` to ``tgt``."""
    rng = gen.rng
    s_mso = src.org.org_type in ("mso", "mso_network")
    t_type = tgt.org.org_type
    a, b = src.org.id, tgt.org.id
    if s_mso:
        if t_type in ("municipal_integration_centre", "integration_agency", "antidiscrimination_office"):
            return (a, b, "advised_by") if rng.random() < 0.45 else (a, b, "cooperates_with")
        if t_type == "mso_network" and src.org.org_type == "mso":
            return a, b, "member_of"
        if t_type == "integration_council":
            return a, b, "represented_in"
        if t_type == "mso" and rng.random() < 0.15:
            return a, b, "supports"
        return a, b, "cooperates_with"
    if src.org.org_type in ("municipal_integration_centre", "integration_agency", "antidiscrimination_office") \
            and t_type in ("mso", "mso_network", "regular_service", "initiative", "self_help_group"):
        r = rng.random()
        if r < 0.3:
            return b, a, "advised_by"
        if r < 0.5:
            return a, b, "supports"
        return a, b, "cooperates_with"
    if src.org.org_type == "integration_council":
        return (b, a, "represented_in") if t_type in ("mso", "mso_network") else (a, b, "cooperates_with")
    if t_type == "integration_council":
        return a, b, "represented_in"
    if t_type == "municipal_integration_centre" and rng.random() < 0.3:
        return a, b, "advised_by"
    return a, b, "cooperates_with"


def _make_ties(gen: _Generator, ties_per_org: float, roles: Mapping[str, str],
               ki_by_district: Mapping[str, list[str]]) -> None:
    rng = gen.rng
    pools = _build_pools(gen)
    # Structural ties first (coordination, Träger, memberships): a drawn tie must not block them.
    laki = roles["laki"]
    created = [a for a in gen.actors if a.created]
    for actor in created:
        if actor.org.org_type == "municipal_integration_centre":  # given KI bring their own ties
            gen.relate(actor.org.id, laki, "coordinated_by", since=str(actor.org.founded or 2013))
    branches: dict[tuple[str, str], list[str]] = {}
    for actor in created:
        if actor.org.org_type == "welfare_association" and actor.traeger:
            branches.setdefault((actor.traeger, actor.org.district or ""), []).append(actor.org.id)
            gen.relate(actor.org.id, roles[f"welfare:{actor.traeger}"], "member_of")
    for actor in created:
        org = actor.org
        if org.org_type in ("integration_agency", "antidiscrimination_office") and actor.traeger:
            local = branches.get((actor.traeger, org.district or ""))
            operator = rng.choice(local) if local else roles[f"welfare:{actor.traeger}"]
            gen.relate(operator, org.id, "operates", since=str(org.founded) if org.founded else None)
        elif org.org_type == "integration_council":
            gen.relate(org.id, roles["landesintegrationsrat"], "member_of")
        elif org.org_type == "mso" and not actor.isolated:
            if actor.group == "mso_bridged":
                # Gemeinsam aktiv: 32 % of MOs in the Paritätischer, 20 % in another association.
                if rng.random() < 0.32 / (1 - ISOLATED_MSO_SHARE - INWARD_MSO_SHARE):
                    gen.relate(org.id, roles["welfare:paritaet"], "member_of", since=gen.since(org.id))
                else:
                    assoc = gen.weighted([("awo", .5), ("diakonie", .2), ("caritas", .15), ("drk", .15)])
                    local = branches.get((assoc, org.district or ""))
                    gen.relate(org.id, rng.choice(local) if local else roles[f"welfare:{assoc}"], "member_of",
                               since=gen.since(org.id))
                if rng.random() < 0.10:
                    gen.relate(org.id, roles["fachberatung"], "advised_by", since=gen.since(org.id))
            if rng.random() < 0.20:  # Elternnetzwerk NRW: about 300 member MSOs
                gen.relate(org.id, roles["mso_federation"], "member_of", since=gen.since(org.id))
            if rng.random() < 0.04:
                gen.relate(org.id, roles["fdm"], "member_of", since=gen.since(org.id))
    population = [a for a in gen.actors if a.created and not a.isolated and a.group in _MIX]
    mean_factor = sum(_STUB_FACTOR[a.group] for a in population) / max(1, len(population))
    alpha = 2.2
    scale = 1.0 / (alpha - 1.0)  # mean of paretovariate(alpha) - 1
    cap = 400
    # cumulative weights once, not per draw (a million draws at benchmark size)
    mixes = {key: ([g for g, _ in mix], list(itertools.accumulate(w for _, w in mix))) for key, mix in _MIX.items()}
    for actor in population:
        mean = max(1.0, ties_per_org * _STUB_FACTOR[actor.group] / mean_factor)
        k = 1 + int((mean - 1.0) * (rng.paretovariate(alpha) - 1.0) / scale + rng.random())
        groups, cum = mixes[actor.group]
        for _ in range(min(k, cap)):
            group = groups[bisect.bisect_right(cum, rng.random() * cum[-1])]
            target = _draw(gen, pools, group, actor.org)
            if target is None:
                continue
            s, t, rel = _tie_type(gen, actor, gen.by_id[target])
            gen.relate(s, t, rel, since=gen.since(s, t))


def _km(a: Organisation, b: Organisation) -> float:
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return 50.0
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _make_partner_ties(gen: _Generator, ties_per_org: float, roles: Mapping[str, str]) -> None:
    """Ties between MSOs open to regular services and local actors outside the migration field.

    The process of :data:`PARTNER_TIE_MODEL`; it runs after the other ties, so common contacts exist.
    """
    model = PARTNER_TIE_MODEL
    rng = gen.rng
    role_carrier = {org_id: role.split(":", 1)[1] for role, org_id in roles.items() if role.startswith("welfare:")}
    neighbours: dict[str, set[str]] = {}
    for a, b in sorted(gen.tied):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    carrier_of_mso: dict[str, str] = {}
    for relation in gen.relations:
        if relation.rel_type != "member_of":
            continue
        target = gen.by_id.get(relation.target_id)
        carrier = role_carrier.get(relation.target_id) or (target.traeger if target is not None else None)
        if carrier:
            carrier_of_mso.setdefault(relation.source_id, carrier)
    partners: dict[tuple[str, str], list[_Actor]] = {}
    for actor in gen.actors:
        group = _GROUP_OF_TYPE.get(actor.org.org_type)
        if actor.isolated or group not in ("regular", "welfare") or not actor.org.district \
                or actor.org.id in role_carrier:
            continue
        partners.setdefault(("district", actor.org.district), []).append(actor)
        partners.setdefault(("rb", actor.org.regierungsbezirk or ""), []).append(actor)
    cums = {key: list(itertools.accumulate(a.fitness for a in members)) for key, members in partners.items()}
    alpha = model["pareto_alpha"]
    scale = 1.0 / (alpha - 1.0)
    mean = max(1.0, model["mean_ties"] * ties_per_org / 2.5)
    msos = [a for a in gen.actors if a.created and not a.isolated and a.group == "mso_bridged"]
    for actor in msos:
        org = actor.org
        if not org.district:
            continue
        district = gen.districts.get(org.district)
        city = getattr(district, "kind", "") == "kreisfreie_stadt"
        decay = model["decay_km_city"] if city else model["decay_km_rural"]
        k = 1 + int((mean - 1.0) * (rng.paretovariate(alpha) - 1.0) / scale + rng.random())
        local = partners.get(("district", org.district), [])
        regional = partners.get(("rb", org.regierungsbezirk or ""), [])
        if not local and not regional:
            continue
        mine = neighbours.setdefault(org.id, set())
        for _ in range(min(k, 50)):
            if rng.random() < model["noise"] or not local:
                target = (regional or local)[rng.randrange(len(regional or local))]
            else:
                heard: dict[str, _Actor] = {}
                near_draws, far_draws = int(model["heard_of"] * 0.8), int(model["heard_of"] * 0.2)
                for key, members, draws in ((("district", org.district), local, near_draws),
                                            (("rb", org.regierungsbezirk or ""), regional, far_draws)):
                    cum = cums.get(key)
                    if not members or not cum:
                        continue
                    for _ in range(draws):
                        i = bisect.bisect_right(cum, rng.random() * cum[-1])
                        candidate = members[min(i, len(members) - 1)]
                        heard[candidate.org.id] = candidate
                options = []
                total = 0.0
                for cid in sorted(heard):
                    candidate = heard[cid]
                    if cid in mine:
                        continue
                    weight = math.exp(-_km(org, candidate.org) / decay)
                    weight *= model["shared_sector"] ** len(set(org.sectors) & set(candidate.org.sectors))
                    if (set(candidate.org.sectors) & COMPLEMENTARY_SECTORS) - set(org.sectors):
                        weight *= model["complementary"]
                    if candidate.traeger and candidate.traeger == carrier_of_mso.get(org.id):
                        weight *= model["carrier"]
                    weight *= 1.0 + model["closure"] * len(mine & neighbours.get(cid, set()))
                    total += weight
                    options.append((total, candidate))
                if not options:
                    continue
                r = rng.random() * total
                target = options[min(bisect.bisect_right([t for t, _ in options], r), len(options) - 1)][1]
            if gen.relate(org.id, target.org.id, "cooperates_with", since=gen.since(org.id, target.org.id)):
                mine.add(target.org.id)
                neighbours.setdefault(target.org.id, set()).add(org.id)


# -- events ----------------------------------------------------------------------------------------------

def _make_events(gen: _Generator, n_events: int, ki_by_district: Mapping[str, list[str]],
                 first_year: int = 2019) -> None:
    rng = gen.rng
    organisers: dict[str, list[str]] = {}
    attendees: dict[str, list[str]] = {}
    everyone: list[str] = []
    for actor in gen.actors:
        org = actor.org
        if actor.isolated or not org.district:
            continue
        if org.org_type in ("integration_agency", "welfare_association", "mso_network", "antidiscrimination_office"):
            organisers.setdefault(org.district, []).append(org.id)
        if org.org_type in MIGRATION_FIELD_TYPES or org.org_type in REGULAR_ACTOR_TYPES:
            attendees.setdefault(org.district, []).append(org.id)
            everyone.append(org.id)
    districts = sorted(attendees)
    if not districts:
        return
    dweights = _district_weights(gen)
    dcum = list(itertools.accumulate(dweights.get(d, 1.0) for d in districts))
    start = date(first_year, 1, 1).toordinal()
    end = max(start, gen.today.toordinal())
    for _ in range(n_events):
        event_type = gen.weighted(_EVENT_TYPES)
        day = date.fromordinal(rng.randint(start, end))
        statewide = rng.random() < 0.12
        district = districts[min(bisect.bisect_right(dcum, rng.random() * dcum[-1]), len(districts) - 1)]
        ki_ids = list(ki_by_district.get(district, ()))
        candidates = ki_ids * 3 + organisers.get(district, [])
        organiser = rng.choice(candidates) if candidates else rng.choice(attendees[district])
        org_actor = gen.by_id.get(organiser)
        if org_actor is not None and org_actor.org.ags:
            place = gen.by_ags.get(org_actor.org.ags) or _place_in_district(gen, district)
        else:
            place = _place_in_district(gen, district)
        topic = rng.choice(_EVENT_TOPICS)
        word = _EVENT_WORDS[event_type]
        scope = "NRW" if statewide else place.name
        name = gen.unique(lambda _a, w=word, t=topic, s=scope, y=day.year: f"{w} „{SECTORS[t][0]}“ {s} {y}")
        event = Event(id=gen.next_id("ev"), name=name, event_type=event_type, date=day.isoformat(), city=place.name,
                      ags=place.ags, district=place.district, regierungsbezirk=place.regierungsbezirk,
                      lat=place.lat, lon=place.lon, sectors=(topic,), description=SYNTHETIC_DESCRIPTION,
                      synthetic=True, source=gen.source, updated=gen.updated)
        gen.events.append(event)
        gen.relations.append(Relation(organiser, event.id, "organised_event", since=event.date, synthetic=True,
                                      source=gen.source, updated=gen.updated))
        size = max(5, min(120, int(rng.lognormvariate(math.log(22), 0.6))))
        pool = everyone if statewide else attendees[district]
        chosen: set[str] = {organiser}
        for _ in range(size * 2):
            if len(chosen) > size:
                break
            candidate = pool[rng.randrange(len(pool))]
            founded = gen.by_id[candidate].org.founded if candidate in gen.by_id else None
            if candidate in chosen or (founded and founded > day.year):
                continue
            chosen.add(candidate)
            gen.relations.append(Relation(candidate, event.id, "attended_event", since=event.date, synthetic=True,
                                          source=gen.source, updated=gen.updated))


# -- funding ---------------------------------------------------------------------------------------------

def _make_funding(gen: _Generator, ki_by_district: Mapping[str, list[str]], first_year: int = 2019) -> None:
    rng = gen.rng
    last = gen.today.year
    ki_names = {key: ids[0] for key, ids in ki_by_district.items()}
    # Gemeinsam aktiv: 54 % of MOs were founded for child and youth work, 18 % are financed through it.
    # Only MSOs tied to regular services get such funding, so the quota is drawn from those.
    youth = [a for a in gen.actors if a.org.org_type == "mso" and a.org.sectors[:1] == ("child_youth",)]
    open_to_services = [a.org.id for a in youth if a.group == "mso_bridged" and not a.isolated]
    youth_funded = set(rng.sample(open_to_services, min(len(open_to_services),
                                                        round(MSO_YOUTH_REGULAR_FUNDED * len(youth)))))
    for actor in gen.actors:
        org = actor.org
        if actor.isolated:
            continue
        start = max(first_year, org.founded or first_year)
        if start > last:
            start = last
        years = last - start + 1
        kind = org.org_type
        if kind == "municipal_integration_centre":
            gen.fund(org, "ki", rng.randint(180, 320) * 1000 * years, start, last, "education")
        elif kind == "integration_agency":
            # 10.5 M EUR per year for more than 180 IA (2017) -> about 58,000 EUR each
            gen.fund(org, "ia", rng.randint(45, 70) * 1000 * years, start, last, "social_counselling")
        elif kind == "antidiscrimination_office":
            gen.fund(org, "ads", rng.randint(40, 60) * 1000 * years, start, last, "antidiscrimination")
        elif kind == "mso":
            _fund_mso(gen, actor, ki_names, first_year, youth_funded)
        elif kind == "mso_network":
            if rng.random() < 0.5:
                year = rng.randint(first_year, last)
                gen.fund(org, "partner", rng.randrange(8000, 40001, 100), year, min(last, year + 1),
                         "democracy_participation")
        elif kind in REGULAR_ACTOR_TYPES and kind != "municipal_administration":
            if "child_youth" in org.sectors and kind in ("regular_service", "welfare_association") \
                    and rng.random() < 0.6:
                gen.fund(org, "sgb8", rng.randint(20, 180) * 1000 * years, start, last, "child_youth",
                         funder=f"Jugendamt {org.city}" if org.city else None)
            if rng.random() < 0.15:
                year = rng.randint(first_year, last)
                gen.fund(org, "municipal", rng.randrange(500, 10001, 100), year, year, org.sectors[0] if org.sectors
                         else None, funder=f"Stadt {org.city}" if org.city else None)
            if rng.random() < 0.04:
                year = rng.randint(first_year, last)
                gen.fund(org, "foundation", rng.randrange(2000, 30001, 500), year, min(last, year + 1),
                         org.sectors[0] if org.sectors else None, funder=f"Stiftung {invented_word(rng)} (synthetisch)")


def _fund_mso(gen: _Generator, actor: _Actor, ki_names: Mapping[str, str], first_year: int,
              youth_funded: set[str]) -> None:
    rng = gen.rng
    org = actor.org
    last = gen.today.year
    start = max(first_year, org.founded or first_year)
    if start > last:
        return

    def sector() -> str | None:
        if not org.sectors:
            return None
        return org.sectors[0] if rng.random() < 0.5 else rng.choice(org.sectors)

    if org.id in youth_funded:
        years = last - start + 1
        gen.fund(org, "sgb8", rng.randint(5, 40) * 1000 * years, start, last, "child_youth",
                 funder=f"Jugendamt {org.city}" if org.city else None)
    if (org.founded or 0) >= 2016 and rng.random() < 0.25:
        year = rng.randint(max(start, org.founded or start), last)
        cap = 6000 if year >= 2023 else 5000  # Richtlinie of 25.11.2022: max 6,000 EUR, before 5,000 EUR
        gen.fund(org, "startup", rng.randrange(1000, cap + 1, 100), year, year, sector())
    if rng.random() < 0.22:
        year = rng.randint(start, last)
        gen.fund(org, "single", rng.randrange(3000, 25001, 100), year, min(last, year + rng.randint(0, 1)), sector())
    if (org.founded or last) <= 2015 and rng.random() < 0.06:
        year = rng.randint(start, last)
        gen.fund(org, "partner", rng.randrange(8000, 40001, 100), year, min(last, year + 1), sector())
    if rng.random() < 0.12 and org.district is not None and org.district in ki_names:
        year = rng.randint(max(start, 2016), last) if start <= last else last
        ki = gen.by_id.get(ki_names[org.district])
        funder = f"{ki.org.name} (Weiterleitung von Landesmitteln)" if ki else None
        gen.fund(org, "komm_an", rng.randrange(500, 8001, 100), year, year, "refugees", funder=funder)
    if rng.random() < 0.18:
        year = rng.randint(start, last)
        gen.fund(org, "municipal", rng.randrange(300, 5001, 100), year, year, sector(),
                 funder=f"Stadt {org.city}" if org.city else None)
    if rng.random() < 0.05:
        year = rng.randint(start, last)
        gen.fund(org, "foundation", rng.randrange(2000, 30001, 500), year, min(last, year + 1), sector(),
                 funder=f"Stiftung {invented_word(rng)} (synthetisch)")


# -- entry point -------------------------------------------------------------------------------------------

def generate(n_orgs: int, seed: int, *, municipalities: Mapping[str, Place], districts: Mapping[str, object],
             today: date = date(2026, 11, 1), base: Sequence[Organisation] = (),
             roles: Mapping[str, str] | None = None, counts: Mapping[str, int] | None = None,
             ties_per_org: float = 12.0, n_events: int | None = None, weights: Mapping[str, float] | None = None,
             id_prefix: str = "syn", source: str | None = None,
             postcodes: Mapping[str, PostcodePoint] | None = None) -> RecordBatch:
    """Generate a realistic, fully synthetic network of MSOs and regular services in NRW.

    Deterministic: the same arguments give identical records (one seeded ``random.Random``, no clock,
    no network). Every record carries ``synthetic=True``. Runs in linear time: 100,000 organisations
    with about 1,000,000 relations take seconds.

    What it builds: integration agencies and anti-discrimination offices run by local branches of the
    welfare associations, integration councils, youth offices, MSOs (more in big cities; sectors after the
    DeZIM shares), MSO networks and regular-service actors, all at real municipality points; heavy-tailed,
    mostly local ties; a share of isolated MSOs and of MSOs tied only inside the migration field; events
    2019 to ``today`` with attendance; regular and project funding.

    Parameters
    ----------
    n_orgs
        Number of organisations to create (ignored per type where ``counts`` gives a number).
    seed
        Seed of the random source.
    municipalities
        AGS -> Place (e.g. :func:`msonet.loaders.geography.load_municipalities`).
    districts
        District key -> District with ``population`` (e.g. :func:`msonet.loaders.geography.load_districts`).
    today
        Reference date: last funding year, latest event date, ``updated`` of every record.
    base
        Existing organisations (e.g. real actors and KI) the population attaches to; not returned.
    roles
        Role (see :data:`ROLES`) -> id of an organisation in ``base``; missing roles get stand-ins.
    counts
        Organisation type -> number, instead of :func:`default_composition`.
    ties_per_org
        Mean number of ties an organisation starts (relations are about ``n_orgs * ties_per_org``).
    n_events
        Number of events (default ``n_orgs // 100``).
    weights
        AGS -> inhabitant weight (default :func:`municipality_weights`).
    id_prefix
        Prefix of all generated ids.
    source
        Value of the ``source`` field (default names the generator and seed).
    postcodes
        Postcode -> :class:`msonet.loaders.geography.PostcodePoint` (default: the shipped postcodes). Every
        organisation in a municipality with postcodes gets one of them (its point, precision
        ``postcode``) and an everyday street name with a house number; ``{}`` keeps municipality points.

    Returns
    -------
    RecordBatch with the new organisations, events, relations (ties and attendance) and funding records.
    """
    source = source or f"synthetisch: msonet-Generator (Seed {seed})"
    gen = _Generator(seed, municipalities, districts, today, id_prefix, source, weights,
                     load_postcode_points() if postcodes is None else postcodes)
    base_actors = []
    for org in base:
        group = _GROUP_OF_TYPE.get(org.org_type)
        actor = _Actor(org, "mso_bridged" if group == "mso" else group or "state", False,
                       gen.rng.lognormvariate(0.0, 1.0) * _FITNESS_FACTOR.get(group or "", 1.0), created=False)
        gen.by_id[org.id] = actor
        gen.names.add(org.name)
        base_actors.append(actor)
    roles = _make_roles(gen, roles or {})
    ki_by_district = _make_ki(gen, base)
    if counts is None:
        counts = default_composition(max(0, n_orgs - len(gen.actors)), len(gen.places))
    _make_population(gen, counts, roles)
    created = list(gen.actors)
    # Given organisations are tie targets and event guests; their own ties come with them.
    gen.actors = base_actors + created
    _make_ties(gen, ties_per_org, roles, ki_by_district)
    _make_partner_ties(gen, ties_per_org, roles)
    _make_events(gen, n_orgs // 100 if n_events is None else n_events, ki_by_district)
    gen.actors = created
    _make_funding(gen, ki_by_district)
    return RecordBatch(organisations=[a.org for a in created], events=gen.events, relations=gen.relations,
                       fundings=gen.fundings)
