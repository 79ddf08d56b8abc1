"""The demo dataset: real NRW actors and events from public sources plus a seeded synthetic population."""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from msonet.graph.errors import GraphError
from msonet.graph.model import Event, Funding, Organisation, Place, RecordBatch, Relation
from msonet.graph.vocabulary import (
    EVENT_TYPES,
    FUNDING_KINDS,
    MIGRATION_FIELD_TYPES,
    MSO_TYPES,
    ORG_TYPES,
    RELATION_TYPES,
    SECTORS,
    funding_class,
)
from msonet.loaders.synthetic import (
    DEFAULT_COMPOSITION,
    PROGRAMMES,
    REGULAR_ACTOR_TYPES,
    generate,
    municipality_weights,
)

if TYPE_CHECKING:
    from msonet.loaders.geography import District

__all__ = [
    "DEMO_DIR",
    "DEMO_SEED",
    "DEMO_TODAY",
    "TANDEM_PROGRAMME",
    "build_demo_batch",
    "demo_summary",
    "load_real_actors",
    "load_ki",
]

#: Folder of the hand-curated CSV files with real facts (found relative to this file, not the cwd).
DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
DEMO_SEED = 2024
DEMO_TODAY = date(2026, 11, 1)

#: The tandem project of the Paritätischer NRW with the Robert Bosch Stiftung (12 tandems, until June 2024).
TANDEM_PROGRAMME = "In der Vielfaltsgesellschaft gemeinsam solidarisch Handeln!"
_TANDEM_SOURCE = "https://www.paritaet-nrw.org/themen/projekte/in-der-vielfaltsgesellschaft-gemeinsam-solidarisch-handeln"
_KI_SOURCE = "https://lesen-in-deutschland.de/html/content.php?object=akteure&lid=6941"
_KI_SECTORS = ("education", "culture", "sport", "democracy_participation", "volunteering", "health", "seniors_care")
_DRK_NORDRHEIN_IA = 6  # drk-nordrhein.de: DRK Nordrhein runs 6 IA
_TANDEM_FIELDS = ("disability", "seniors_care", "women_girls", "lgbtiq")

#: Role of the state-level hubs in the synthetic population -> id of the real actor.
_ROLES = {
    "laki": "org-laki", "ministry": "org-mkjfgfi", "kfi": "org-kfi-arnsberg",
    "fachberatung": "org-fachberatung-mso", "mso_federation": "org-elternnetzwerk-nrw", "fdm": "org-fdm",
    "landesintegrationsrat": "org-landesintegrationsrat-nrw",
    "welfare:awo": "org-awo-nrw", "welfare:caritas": "org-caritas-nrw", "welfare:diakonie": "org-diakonie-nrw",
    "welfare:drk": "org-drk-nrw", "welfare:paritaet": "org-paritaet-nrw",
    "welfare:juedisch": "org-juedische-gemeinden-nrw",
}


# -- reading the curated files ---------------------------------------------------------------------------

def _rows(name: str) -> list[tuple[int, dict[str, str]]]:
    path = DEMO_DIR / name
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return [(line, {k: (v or "").strip() for k, v in row.items()}) for line, row in
                    enumerate(csv.DictReader(fh), start=2)]
    except FileNotFoundError:
        raise GraphError(f"Demodatei {path} fehlt. Bitte das Repository vollständig auschecken.") from None


def _check(value: str, table: Mapping[str, object], name: str, line: int, column: str, what: str) -> str:
    if value not in table:
        raise GraphError(f"{DEMO_DIR / name}, Zeile {line}, Spalte „{column}“: „{value}“ ist kein gültiger "
                         f"Schlüssel für {what}. Erlaubt: {', '.join(table)}.")
    return value


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _resolve(gazetteer, city: str, name: str, line: int) -> Place | None:
    if not city:
        return None
    place = gazetteer.try_resolve(city)
    if place is None:
        raise GraphError(f"{DEMO_DIR / name}, Zeile {line}, Spalte „city“: Ort „{city}“ ist in NRW nicht eindeutig "
                         "bekannt. Bitte den Gemeindenamen prüfen.")
    return place


class _Location(TypedDict, total=False):
    """Location fields shared by Organisation and Event (empty when the place is unknown)."""

    city: str
    ags: str
    district: str
    regierungsbezirk: str
    lat: float | None
    lon: float | None
    location_precision: str | None


def _located(place: Place | None, postcode: str | None = None) -> _Location:
    if place is None:
        return {}
    from msonet.loaders.geography import locate

    lat, lon, precision = locate(place, postcode)
    return {"city": place.name, "ags": place.ags, "district": place.district,
            "regierungsbezirk": place.regierungsbezirk, "lat": lat, "lon": lon, "location_precision": precision}


def _event_location(place: Place | None) -> dict[str, Any]:
    """Location fields of an event (events have no precision field)."""
    return {k: v for k, v in _located(place).items() if k != "location_precision"}


def load_real_actors(gazetteer, today: date = DEMO_TODAY) -> list[Organisation]:
    """The real organisations of ``data/demo/real_actors.csv`` (``synthetic=False``, source = public URL).

    Parameters
    ----------
    gazetteer
        A :class:`msonet.loaders.gazetteer.Gazetteer` to place the organisations at their municipality.
    today
        Value of ``updated``.
    """
    out = []
    for line, row in _rows("real_actors.csv"):
        org_type = _check(row["type"], ORG_TYPES, "real_actors.csv", line, "type", "Organisationstypen")
        sectors = tuple(_check(s, SECTORS, "real_actors.csv", line, "sectors", "Handlungsfelder")
                        for s in _split(row["sectors"]))
        if not row["quelle"].startswith("http"):
            raise GraphError(f"{DEMO_DIR / 'real_actors.csv'}, Zeile {line}, Spalte „quelle“: URL erwartet.")
        description = row["description"]
        if row.get("ort_quelle") and row["ort_quelle"] != row["quelle"]:
            description += f" Quelle für den Ort: {row['ort_quelle']}"
        out.append(Organisation(
            id=row["id"], name=row["name"], org_type=org_type, sectors=sectors,
            **_located(_resolve(gazetteer, row["city"], "real_actors.csv", line), row["postcode"] or None),
            postcode=row["postcode"] or None, address=row["address"] or None,
            founded=int(row["founded"]) if row["founded"] else None, description=description,
            synthetic=False, source=row["quelle"], updated=today.isoformat()))
    return out


def load_ki(gazetteer, districts: Mapping[str, object], today: date = DEMO_TODAY) -> list[Organisation]:
    """The 54 Kommunale Integrationszentren: one per district plus the Stadt Aachen (``ki_sites.csv``).

    They exist in reality (54 KI per lesen-in-deutschland.de), so ``synthetic=False``; the point is the
    district seat because the sources give no addresses.
    """
    out = []
    seen: set[str] = set()
    for line, row in _rows("ki_sites.csv"):
        key = row["kreis"]
        if key not in districts:
            raise GraphError(f"{DEMO_DIR / 'ki_sites.csv'}, Zeile {line}, Spalte „kreis“: Kreis „{key}“ unbekannt.")
        place = _resolve(gazetteer, row["sitz"], "ki_sites.csv", line)
        if place is None or place.district != key:
            raise GraphError(f"{DEMO_DIR / 'ki_sites.csv'}, Zeile {line}, Spalte „sitz“: „{row['sitz']}“ liegt "
                             f"nicht im Kreis {key}.")
        org_id = f"org-ki-{key}" if key not in seen else f"org-ki-{key}-stadt-aachen"
        seen.add(key)
        note = f" {row['hinweis']}." if row["hinweis"] else ""
        out.append(Organisation(
            id=org_id, name=f"Kommunales Integrationszentrum {row['ki_region']}",
            org_type="municipal_integration_centre", sectors=_KI_SECTORS, **_located(place),
            founded=int(row["gegruendet"]) if row["gegruendet"] else None,
            description=("Reale Einrichtung (in NRW gibt es 54 KI). Anschrift nicht hinterlegt: der Kartenpunkt ist "
                         f"der Sitz des Kreises bzw. die Stadt ({place.name})." + note),
            synthetic=False, source=row["quelle"] or _KI_SOURCE, updated=today.isoformat()))
    return out


def _real_relations(known: set[str], today: date) -> list[Relation]:
    out = []
    for line, row in _rows("real_relations.csv"):
        rel_type = _check(row["type"], RELATION_TYPES, "real_relations.csv", line, "type", "Beziehungstypen")
        for column in ("source_id", "target_id"):
            if row[column] not in known:
                raise GraphError(f"{DEMO_DIR / 'real_relations.csv'}, Zeile {line}, Spalte „{column}“: "
                                 f"„{row[column]}“ fehlt in real_actors.csv bzw. ki_sites.csv.")
        out.append(Relation(row["source_id"], row["target_id"], rel_type, since=row["since"] or None,
                            note=row["note"] or None, synthetic=False, source=row["quelle"],
                            updated=today.isoformat()))
    return out


def _real_fundings(known: set[str], today: date) -> list[Funding]:
    out = []
    for line, row in _rows("real_fundings.csv"):
        kind = _check(row["kind"], FUNDING_KINDS, "real_fundings.csv", line, "kind", "Förderarten")
        if row["organisation"] not in known:
            raise GraphError(f"{DEMO_DIR / 'real_fundings.csv'}, Zeile {line}, Spalte „organisation“: "
                             f"„{row['organisation']}“ fehlt in real_actors.csv.")
        out.append(Funding(
            id=row["id"], org_id=row["organisation"], programme=row["programme"], funding_kind=kind,
            amount=float(row["amount"]) if row["amount"] else None,
            year_from=int(row["year_from"]) if row["year_from"] else None,
            year_to=int(row["year_to"]) if row["year_to"] else None, sector=row["sector"] or None,
            funder=row["funder"] or None, synthetic=False, source=row["quelle"], updated=today.isoformat()))
    return out


# -- assembling the demo ---------------------------------------------------------------------------------

class _Picker:
    """Chooses synthetic organisations for synthetic attendance at real events."""

    def __init__(self, rng: random.Random, orgs: list[Organisation], tied: set[str]):
        self.rng = rng
        # isolated organisations stay isolated: never picked
        self.orgs = [o for o in orgs if o.synthetic and o.id in tied]

    def pick(self, k: int, year: int, types: frozenset[str], where=None) -> list[Organisation]:
        pool = [o for o in self.orgs
                if o.org_type in types and (o.founded or 0) <= year and (where is None or where(o))]
        return self.rng.sample(pool, min(k, len(pool)))

    def pick_cities(self, k: int, n_cities: int, year: int) -> list[Organisation]:
        """``k`` MSOs from ``n_cities`` different municipalities (e.g. "28 MSO aus zehn Städten")."""
        by_city: dict[str, list[Organisation]] = {}
        for o in self.orgs:
            if o.org_type == "mso" and (o.founded or 0) <= year and o.ags:
                by_city.setdefault(o.ags, []).append(o)
        cities = sorted((a for a, members in by_city.items() if len(members) >= 2),
                        key=lambda a: (-len(by_city[a]), a))[: n_cities * 3]
        chosen = sorted(self.rng.sample(cities, min(n_cities, len(cities))))
        out = [self.rng.choice(by_city[a]) for a in chosen]
        rest = [o for a in chosen for o in by_city[a] if o not in out]
        out += self.rng.sample(rest, min(k - len(out), len(rest)))
        return out


def _real_events(gazetteer, picker: _Picker, tandem_orgs: list[str], known: set[str],
                 today: date) -> tuple[list[Event], list[Relation]]:
    events, relations = [], []
    stamp = today.isoformat()
    mso = frozenset({"mso"})
    agencies = frozenset({"integration_agency", "antidiscrimination_office"})
    broad = frozenset({"mso", "mso_network", "integration_agency", "regular_service", "welfare_association",
                       "self_help_group", "initiative"})
    for line, row in _rows("real_events.csv"):
        event_type = _check(row["type"], EVENT_TYPES, "real_events.csv", line, "type", "Veranstaltungsarten")
        place = _resolve(gazetteer, row["city"], "real_events.csv", line)
        day = date.fromisoformat(row["date"])
        event = Event(id=row["id"], name=row["name"], event_type=event_type, date=day.isoformat(),
                      **_event_location(place),
                      sectors=tuple(_check(s, SECTORS, "real_events.csv", line, "sectors", "Handlungsfelder")
                                    for s in _split(row["sectors"])),
                      description=row["description"], synthetic=False, source=row["quelle"], updated=stamp)
        events.append(event)
        for column, rel_type in (("organisers", "organised_event"), ("attendees", "attended_event")):
            for org_id in _split(row[column]):
                if org_id not in known:
                    raise GraphError(f"{DEMO_DIR / 'real_events.csv'}, Zeile {line}, Spalte „{column}“: "
                                     f"„{org_id}“ fehlt in real_actors.csv.")
                relations.append(Relation(org_id, event.id, rel_type, since=event.date, synthetic=False,
                                          source=row["quelle"], updated=stamp))
        # Synthetic guests: who came is not in the sources.
        k = int(row["synthetic_attendance"] or 0)
        if not k:
            continue
        year = day.year
        if event.id.endswith("abschluss-tandemprojekt"):
            guests = tandem_orgs[:k]
        elif event.id.endswith("mso-vernetzungstreffen"):
            guests = [o.id for o in picker.pick_cities(k, 10, year)]
        elif "integrationsagenturen" in event.id or "aktionstage" in event.id:
            guests = [o.id for o in picker.pick(k, year, agencies)]
        elif place is not None and event_type in ("general_assembly", "festival"):
            guests = [o.id for o in picker.pick(k, year, broad if event_type == "festival" else mso,
                                                lambda o, p=place: o.ags == p.ags)]
        elif place is not None and event_type == "info_session":
            guests = [o.id for o in picker.pick(k, year, mso,
                                                lambda o, p=place: o.regierungsbezirk == p.regierungsbezirk)]
        elif event_type == "conference":
            guests = [o.id for o in picker.pick(k, year, broad)]
        else:
            guests = [o.id for o in picker.pick(k, year, mso)]
        for org_id in guests:
            relations.append(Relation(org_id, event.id, "attended_event", since=event.date,
                                      note="Teilnahme synthetisch", synthetic=True,
                                      source="synthetisch: msonet-Demodaten", updated=stamp))
    return events, relations


def _tandems(rng: random.Random, syn: RecordBatch, tied: set[str], source: str,
             today: date) -> tuple[list[Relation], list[tuple[str, str]]]:
    """Eleven synthetic tandems: an MSO and a disability/seniors/women/LSBTIQ* organisation in one town."""
    pairs: set[tuple[str, str]] = set()
    for r in syn.relations:
        pairs.add((r.source_id, r.target_id) if r.source_id < r.target_id else (r.target_id, r.source_id))
    msos = [o for o in syn.organisations if o.org_type == "mso" and o.id in tied and o.ags]
    partners: dict[tuple[str, str], list[Organisation]] = {}
    for o in syn.organisations:
        if o.org_type in ("self_help_group", "regular_service") and o.id in tied and o.ags:
            for field in _TANDEM_FIELDS:
                if field in o.sectors:
                    partners.setdefault((o.ags, field), []).append(o)
    rng.shuffle(msos)
    out: list[Relation] = []
    chosen: list[tuple[str, str]] = []
    used_towns: set[str] = set()
    for mso in msos:
        if len(chosen) == 11:
            break
        town = mso.ags
        assert town is not None  # msos holds only organisations with a municipality
        field = _TANDEM_FIELDS[len(chosen) % len(_TANDEM_FIELDS)]
        candidates = [p for p in partners.get((town, field), ()) if p.id not in {c for pair in chosen for c in pair}]
        if town in used_towns or not candidates:
            continue
        partner = rng.choice(candidates)
        used_towns.add(town)
        chosen.append((mso.id, partner.id))
        out.append(Relation(mso.id, partner.id, "tandem_partner", since="2023",
                            note=f"Tandem im Projekt „{TANDEM_PROGRAMME}“ (synthetisch; Feld: {SECTORS[field][0]})",
                            synthetic=True, source=source, updated=today.isoformat()))
    # a tandem replaces whatever tie the two had before
    drop = {(a, b) if a < b else (b, a) for a, b in chosen}
    syn.relations[:] = [r for r in syn.relations if r.rel_type in ("attended_event", "organised_event")
                        or ((r.source_id, r.target_id) if r.source_id < r.target_id
                            else (r.target_id, r.source_id)) not in drop]
    return out, chosen


def build_demo_batch(seed: int = DEMO_SEED, *, today: date = DEMO_TODAY,
                     municipalities: Mapping[str, Place] | None = None,
                     districts: Mapping[str, District] | None = None) -> RecordBatch:
    """Build the demo dataset: real actors, the 54 KI, real events, and a synthetic population around them.

    Deterministic: the same ``seed`` and ``today`` give identical records; no clock, no network.
    Real records (``synthetic=False``) carry the URL of their public source; everything generated
    carries ``synthetic=True`` and, for organisations and events, "synthetisch erzeugt" in its description.

    Parameters
    ----------
    seed
        Seed of the synthetic part.
    today
        Reference date (last funding year, ``updated`` of every record).
    municipalities, districts
        NRW geography (default: the shipped data from :mod:`loaders.geography`).

    Returns
    -------
    RecordBatch ready for ``store.upsert``: about 4,900 organisations, 60 events, 16,000 relations and
    2,500 funding records.
    """
    from msonet.loaders.gazetteer import Gazetteer
    from msonet.loaders.geography import load_districts, load_municipalities, load_postcodes

    municipalities = municipalities if municipalities is not None else load_municipalities()
    districts = districts if districts is not None else load_districts()
    gazetteer = Gazetteer(municipalities, districts, load_postcodes())
    stamp = today.isoformat()
    source = f"synthetisch: msonet-Demodaten (Seed {seed})"

    real = load_real_actors(gazetteer, today)
    kis = load_ki(gazetteer, districts, today)
    base = real + kis
    known = {o.id for o in base}
    duplicates = [k for k, n in Counter(o.id for o in base).items() if n > 1]
    if duplicates:
        raise GraphError(f"Doppelte Ids in den Demodateien: {', '.join(duplicates)}")
    relations = _real_relations(known, today)
    relations += [Relation(ki.id, _ROLES["laki"], "coordinated_by", synthetic=False, source=_KI_SOURCE,
                           updated=stamp) for ki in kis]
    fundings = _real_fundings(known, today)

    # Synthetic population around the real actors.
    counts = dict(DEFAULT_COMPOSITION)
    counts["integration_agency"] -= sum(1 for o in real if o.org_type == "integration_agency")
    seats = {ki.district: ki.ags for ki in kis if ki.district and ki.ags}
    weights = municipality_weights(municipalities, districts, seats=seats)
    n_real_events = len(_rows("real_events.csv"))
    syn = generate(sum(counts.values()), seed, municipalities=municipalities, districts=districts, today=today,
                   base=base, roles=_ROLES, counts=counts, ties_per_org=2.5, n_events=60 - n_real_events,
                   weights=weights, id_prefix="demo", source=source)
    rng = random.Random(seed * 7919 + 1)

    # DRK Nordrhein runs 6 IA (real number; which ones is synthetic): Nordrhein = RB Düsseldorf and Köln.
    drk_ia = [o for o in syn.organisations if o.org_type == "integration_agency"
              and "Träger: DRK" in (o.description or "") and o.regierungsbezirk in ("Düsseldorf", "Köln")]
    drk_ids = {o.id for o in rng.sample(drk_ia, min(_DRK_NORDRHEIN_IA, len(drk_ia)))}
    syn.relations[:] = [r for r in syn.relations if not (r.rel_type == "operates" and r.target_id in drk_ids)]
    relations += [Relation("org-drk-nordrhein", ia, "operates", note="Zahl real (6 IA), Zuordnung synthetisch",
                           synthetic=True, source=source, updated=stamp) for ia in sorted(drk_ids)]

    # Land funding of the real KI and the real IA (amounts synthetic).
    for org in base:
        programme = {"municipal_integration_centre": "ki", "integration_agency": "ia"}.get(org.org_type)
        if programme:
            name, kind, funder = PROGRAMMES[programme]
            start = max(2019, org.founded or 2019)
            per_year = rng.randint(180, 320) * 1000 if programme == "ki" else rng.randint(45, 70) * 1000
            fundings.append(Funding(id=f"fd-{org.id}-land", org_id=org.id, programme=name, funding_kind=kind,
                                    amount=float(per_year * (today.year - start + 1)), year_from=start,
                                    year_to=today.year, sector="education" if programme == "ki" else
                                    "social_counselling", funder=funder, synthetic=True,
                                    source=source + "; Förderung real, Betrag synthetisch", updated=stamp))

    tied = {r.source_id for r in syn.relations} | {r.target_id for r in syn.relations}
    tandem_relations, tandem_pairs = _tandems(rng, syn, tied, source, today)
    relations += tandem_relations
    tandem_orgs = ["org-as-ka-do", "org-awo-kreis-heinsberg"] + [o for pair in tandem_pairs for o in pair]
    for org_id in tandem_orgs:
        fundings.append(Funding(
            id=f"fd-tandem-{org_id}", org_id=org_id, programme=TANDEM_PROGRAMME, funding_kind="pass_through_funding",
            amount=float(rng.randrange(2000, 8001, 100)), year_from=2023, year_to=2024, sector=None,
            funder="Robert Bosch Stiftung (über Der Paritätische NRW)", synthetic=True,
            source=source + f"; Projekt real: {_TANDEM_SOURCE}", updated=stamp))

    picker = _Picker(rng, syn.organisations, tied)
    events, event_relations = _real_events(gazetteer, picker, tandem_orgs, known, today)
    relations += event_relations

    return RecordBatch(organisations=base + syn.organisations, events=events + syn.events,
                       relations=relations + syn.relations, fundings=fundings + syn.fundings)


# -- summary ---------------------------------------------------------------------------------------------

def demo_summary(batch: RecordBatch) -> dict[str, object]:
    """Key figures of a demo (or any) batch, for docs, tests and the CLI.

    Shares are fractions (0..1). "Isolated" = no relation of any kind (no tie, no event) and no funding.
    "Without regular-service tie" = no tie to an organisation outside the migration field
    (:data:`graph.vocabulary.MIGRATION_FIELD_TYPES`).
    """
    types = {o.id: o.org_type for o in batch.organisations}
    touched: set[str] = {f.org_id for f in batch.fundings}
    bridged: set[str] = set()
    for r in batch.relations:
        touched.add(r.source_id)
        touched.add(r.target_id)
        if r.rel_type in ("attended_event", "organised_event"):
            continue
        for a, b in ((r.source_id, r.target_id), (r.target_id, r.source_id)):
            if b in types and types[b] not in MIGRATION_FIELD_TYPES:
                bridged.add(a)
    msos = [o for o in batch.organisations if o.org_type == "mso"]
    youth = [o for o in msos if o.sectors[:1] == ("child_youth",)]
    youth_regular = {f.org_id for f in batch.fundings
                     if f.sector == "child_youth" and funding_class(f.funding_kind) == "regular"}
    kis = [o for o in batch.organisations if o.org_type == "municipal_integration_centre"]

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return {
        "organisations": len(batch.organisations),
        "real_organisations": sum(1 for o in batch.organisations if not o.synthetic),
        "synthetic_organisations": sum(1 for o in batch.organisations if o.synthetic),
        "by_type": dict(sorted(Counter(types.values()).items())),
        "ki": len(kis),
        "ki_districts": len({o.district for o in kis if o.district}),
        "integration_agencies": sum(1 for t in types.values() if t == "integration_agency"),
        "antidiscrimination_offices": sum(1 for t in types.values() if t == "antidiscrimination_office"),
        "msos": sum(1 for t in types.values() if t in MSO_TYPES - {"mso_federation"}),
        "regular_actors": sum(1 for t in types.values() if t in REGULAR_ACTOR_TYPES),
        "events": len(batch.events),
        "real_events": sum(1 for e in batch.events if not e.synthetic),
        "relations": len(batch.relations),
        "attendance": sum(1 for r in batch.relations if r.rel_type in ("attended_event", "organised_event")),
        "tandems": sum(1 for r in batch.relations if r.rel_type == "tandem_partner"),
        "fundings": len(batch.fundings),
        "regular_fundings": sum(1 for f in batch.fundings if funding_class(f.funding_kind) == "regular"),
        "project_fundings": sum(1 for f in batch.fundings if funding_class(f.funding_kind) == "project"),
        "isolated_mso_share": share(sum(1 for o in msos if o.id not in touched), len(msos)),
        "mso_without_regular_tie_share": share(sum(1 for o in msos if o.id not in bridged), len(msos)),
        "youth_founded_mso_share": share(len(youth), len(msos)),
        "youth_mso_regular_funded_share": share(sum(1 for o in youth if o.id in youth_regular), len(youth)),
    }
