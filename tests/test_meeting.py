"""Tests of the meeting planner: objective, venue and radius, carriers, tables, bad input, attendance."""

import datetime as dt
import itertools
import random

import pytest

from msonet.graph.errors import GraphError, NotFound
from msonet.graph.meeting import (
    MAX_CAPACITY,
    PAIRS_PER_MSO,
    _pairs_matched,
    attendance_relations,
    check_request,
    invitation_rows,
    objective_value,
    plan_meeting,
    plausible_pairs,
)
from msonet.graph.model import Relation
from tests._graphs import PLACES, build, event, org, rel

TODAY = dt.date(2025, 6, 30)
KOELN = PLACES["Köln"][3:]


def ids(plan):
    return [r["id"] for r in plan["invitees"]]


@pytest.fixture(scope="module")
def G():
    return build(
        orgs=[
            org("host", "advisory_service", sectors=["volunteering"], name="Gastgeber", email="info@host.example"),
            org("mso-iso", sectors=["child_youth"], name="Zeta e.V."),
            org("mso-plain", sectors=["culture"], name="Ypsilon e.V."),
            org("ki", "municipal_integration_centre", sectors=["child_youth"]),
            org("reg-youth", "regular_service", sectors=["child_youth"], name="Wichern Jugendzentrum"),
            org("reg-culture", "education_provider", sectors=["culture"], name="Volkshochschule"),
            org("reg-tied", "regular_service", sectors=["culture", "child_youth"], name="Bürgerhaus"),
            # alphabetically first, but no plausible pair: no shared or complementary sector, tied, umbrella
            org("a-mso", sectors=["child_youth"], name="AAA e.V."),
            org("a-reg", "regular_service", sectors=["labour_market"], name="AAA Jobwerkstatt"),
            org("a-lv", "welfare_association", sectors=["child_youth", "culture"], name="AAA Landesverband"),
            org("a-fdi", "welfare_association", sectors=["child_youth"], name="AAA Fachdienst Integration"),
            org("ministry", "state_ministry"),
            org("bonn-reg", "regular_service", city="Bonn", sectors=["culture"], name="Bonner Kulturhaus"),
        ],
        relations=[rel("mso-iso", "ki"), rel("mso-plain", "reg-tied"), rel("ki", "reg-tied"),
                   rel("a-mso", "reg-youth"), rel("a-mso", "reg-tied")],
    )


def test_alphabetically_first_candidates_are_not_invited(G):
    plan = plan_meeting(G, 2, today=TODAY, district="05315", venue=KOELN)
    # the isolated MSO and its partner give the objective 2 (isolated pairs weigh double)
    assert ids(plan) == ["mso-iso", "reg-youth"]
    assert plan["objective"]["value"] == 2.0 and plan["objective"]["pairs_isolated"] == 1
    assert not {"a-mso", "a-reg", "a-lv", "a-fdi"} & set(ids(plan))


def test_objective_counts_pairs_and_weights_isolated_msos(G):
    plan = plan_meeting(G, 4, today=TODAY, district="05315", venue=KOELN)
    # after the first pair, Bürgerhaus adds the isolated MSO's second pair (2 for one seat), then
    # Ypsilon e.V. pairs with Wichern's free slot (Bürgerhaus is tied to it already)
    assert ids(plan) == ["mso-iso", "reg-youth", "reg-tied", "mso-plain"]
    objective = plan["objective"]
    assert (objective["value"], objective["pairs"], objective["pairs_isolated"], objective["pairs_other"]) == \
        (5.0, 3, 2, 1)
    roles = {r["id"]: r["role"] for r in plan["invitees"]}
    assert roles["mso-iso"] == "isolierte MSO" and roles["mso-plain"] == "MSO"
    assert roles["reg-youth"] == "Partner außerhalb des Migrationsbereichs"
    reasons = {r["id"]: r["reasons"] for r in plan["invitees"]}
    assert ("Plausible neue Paare mit eingeladenen Partnern: Wichern Jugendzentrum (gemeinsam: "
            "Kinder- und Jugendhilfe); Bürgerhaus (gemeinsam: Kinder- und Jugendhilfe).") in reasons["mso-iso"]
    assert "Passt als Partner außerhalb des Migrationsbereichs zu Zeta e.V., Ypsilon e.V. (noch nicht verbunden)." \
        in reasons["reg-youth"]
    assert reasons["mso-iso"][-1] == "Anreise ca. 0,0 km, nach Gemeinde."


def test_pairs_leave_out_tied_umbrella_migration_services_and_misfits(G):
    msos = ["mso-iso", "mso-plain", "a-mso"]
    partners = ["reg-youth", "reg-culture", "reg-tied", "a-reg"]
    points = {o: KOELN for o in msos + partners}
    tied = {frozenset(("mso-plain", "reg-tied"))}
    pairs = plausible_pairs(G, msos, partners, tied, points)
    assert {a: sorted(bs) for a, bs in pairs.items()} == {
        "mso-iso": ["reg-tied", "reg-youth"], "mso-plain": ["reg-culture", "reg-youth"], "a-mso": ["reg-tied",
                                                                                                  "reg-youth"]}
    # with the real ties: a-mso knows both youth partners already; a child-and-youth partner is a
    # complementary field (tandem project) for the culture MSO
    tied |= {frozenset(("a-mso", "reg-youth")), frozenset(("a-mso", "reg-tied"))}
    assert plausible_pairs(G, msos, partners, tied, points)["a-mso"] == []
    plan = plan_meeting(G, 20, today=TODAY, district="05315", venue=KOELN)
    assert not {"a-lv", "a-fdi", "ministry", "ki"} & set(ids(plan))


def test_venue_and_radius_limit_who_is_invited(G):
    near = plan_meeting(G, 20, today=TODAY, regierungsbezirk="Köln", venue=KOELN, radius_km=10)
    assert "bonn-reg" not in ids(near)
    assert any("weiter als 10 km" in n for n in near["notes"])
    wide = plan_meeting(G, 20, today=TODAY, regierungsbezirk="Köln", venue=KOELN, radius_km=40)
    assert wide["summary"]["pool"] == near["summary"]["pool"] + 1  # Bonn, 26 km away: within 40 km
    assert wide["venue"] == {"name": None, "lat": KOELN[0], "lon": KOELN[1], "radius_km": 40.0}
    assert wide["summary"]["median_venue_km"] is not None


def test_capacity_larger_than_the_pool_fills_what_exists_and_says_so(G):
    plan = plan_meeting(G, MAX_CAPACITY, today=TODAY, district="05315", venue=KOELN, tables=3)
    assert plan["summary"]["invited"] == 5
    assert plan["notes"][-1].startswith(f"Nur 5 Plätze besetzt, {MAX_CAPACITY - 5} bleiben frei")


@pytest.mark.parametrize("kwargs, message", [
    ({"capacity": 1_000_000_000},
     "Die Zahl der Plätze muss zwischen 1 und 2.000 liegen \\(angegeben: 1.000.000.000\\)"),
    ({"capacity": 0}, "Plätze"),
    ({"capacity": 10, "radius_km": -1}, "Der Reiseradius muss zwischen 0,1 und 300 km liegen \\(angegeben: -1\\)"),
    ({"capacity": 10, "radius_km": float("nan")}, "Reiseradius"),
    ({"capacity": 10, "tables": 0}, "Tische"),
    ({"capacity": 10, "tables": 10**9}, "Tische"),
])
def test_absurd_values_are_refused_at_once(kwargs, message):
    huge = build(orgs=[org(f"m{i}", sectors=["culture"]) for i in range(3)])
    capacity = kwargs.pop("capacity")
    with pytest.raises(GraphError, match=message):
        check_request(capacity, **kwargs)
    with pytest.raises(GraphError, match=message):
        plan_meeting(huge, capacity, today=TODAY, **kwargs)


def test_no_carrier_dominates():
    orgs = [org(f"m{i}", sectors=["seniors_care"], name=f"MSO {i}") for i in range(6)]
    orgs += [org(f"awo{i}", "welfare_association", sectors=["seniors_care"], name=f"AWO Seniorentreff {i} Köln")
             for i in range(6)]
    orgs += [org("car", "welfare_association", sectors=["seniors_care"], name="Caritas Sozialdienst Köln"),
             org("dia", "welfare_association", sectors=["seniors_care"], name="Diakonie Pflege Köln")]
    plan = plan_meeting(build(orgs=orgs), 8, today=TODAY, venue=KOELN)
    assert plan["summary"]["carriers"]["AWO"] <= 2  # a quarter of 8 seats
    assert {"Caritas", "Diakonie"} <= set(plan["summary"]["carriers"])
    assert plan["objective"]["pairs"] >= 3


def test_tables_seat_counted_pairs_together():
    orgs = [org("m1", sectors=["sport"]), org("p1", "sports_club", sectors=["sport"]),
            org("m2", sectors=["culture"]), org("p2", "education_provider", sectors=["culture"])]
    plan = plan_meeting(build(orgs=orgs), 4, today=TODAY, tables=2, venue=KOELN)
    tables = {frozenset(t["members"]) for t in plan["tables"]}
    assert tables == {frozenset({"m1", "p1"}), frozenset({"m2", "p2"})}
    assert plan["objective"]["pairs_at_tables"] == 2


def _enumerate_best(pairs, weights, candidates, k):
    return max(objective_value(set(c), pairs, weights) for c in itertools.combinations(candidates, k))


@pytest.mark.parametrize("seed", range(4))
def test_greedy_against_the_exact_optimum_on_tiny_instances(seed):
    rng = random.Random(seed)
    sectors = ["sport", "culture", "seniors_care"]
    orgs = [org(f"m{i}", sectors=[rng.choice(sectors)]) for i in range(4)]
    orgs += [org(f"p{i}", "regular_service", sectors=[rng.choice(sectors)]) for i in range(4)]
    G = build(orgs=orgs)
    for k in (2, 4, 6):
        plan = plan_meeting(G, k, today=TODAY, venue=KOELN)
        msos = [f"m{i}" for i in range(4)]
        partners = [f"p{i}" for i in range(4)]
        pairs = plausible_pairs(G, msos, partners, set(), {o: KOELN for o in msos + partners})
        best = _enumerate_best(pairs, {a: 2.0 for a in msos}, msos + partners, k)
        assert plan["objective"]["value"] == objective_value(set(ids(plan)), pairs, {a: 2.0 for a in msos})
        # the objective is not submodular (a pair needs both ends), so greedy carries no (1 - 1/e)
        # guarantee; on these instances it stays within a quarter of the optimum
        assert plan["objective"]["value"] >= 0.75 * best


def test_shared_recent_event_means_not_isolated_and_tied():
    G = build(orgs=[org("m", sectors=["sport"]), org("p", "sports_club", sectors=["sport"]),
                    org("q", "sports_club", sectors=["sport"], city="Leverkusen")],
              events=[event("e", "2025-01-10")],
              relations=[rel("m", "e", "attended_event"), rel("p", "e", "attended_event")])
    plan = plan_meeting(G, 2, today=TODAY, venue=KOELN, radius_km=50)
    assert ids(plan) == ["m", "q"]  # m and p met at an event last winter: not a new pair
    assert plan["invitees"][0]["role"] == "MSO"


def test_organisers_and_unknown_ones(G):
    plan = plan_meeting(G, 3, today=TODAY, district="05315", organisers=["Gastgeber"], tables=1, venue=KOELN)
    assert ids(plan)[0] == "host" and plan["invitees"][0]["role"] == "Veranstalter"
    with pytest.raises(NotFound):
        plan_meeting(G, 3, today=TODAY, organisers=["gibt-es-nicht"])
    with pytest.raises(GraphError, match="2 Veranstalter"):
        plan_meeting(G, 1, today=TODAY, organisers=["host", "ki"])


def test_empty_graph():
    plan = plan_meeting(build(), 5, today=TODAY)
    assert plan["invitees"] == [] and plan["tables"] == [] and plan["summary"]["invited"] == 0


def test_invitation_rows(G):
    plan = plan_meeting(G, 5, today=TODAY, district="05315", organisers=["host"], tables=2, venue=KOELN)
    rows = invitation_rows(G, plan)
    assert list(rows[0]) == ["Tisch", "Name", "Typ", "Ort", "E-Mail", "Rolle", "Begründung"]
    assert {r["Name"] for r in rows} == {"Gastgeber", "Zeta e.V.", "Wichern Jugendzentrum", "Ypsilon e.V.",
                                         "Bürgerhaus"}
    by_name = {r["Name"]: r for r in rows}
    assert by_name["Gastgeber"]["E-Mail"] == "info@host.example" and by_name["Zeta e.V."]["E-Mail"] == ""
    assert "E-Mail" not in invitation_rows(G, plan, include_email=False)[0]
    assert {r["Tisch"] for r in rows} == {1, 2} and plan["objective"]["pairs_at_tables"] >= 1


def test_attendance_relations():
    rels = attendance_relations("e1", ["a", "b", "a", ""], source="Teilnahmeliste", updated="2025-07-01")
    assert rels == [Relation("a", "e1", "attended_event", source="Teilnahmeliste", updated="2025-07-01"),
                    Relation("b", "e1", "attended_event", source="Teilnahmeliste", updated="2025-07-01")]
    with pytest.raises(GraphError):
        attendance_relations("", ["a"], source="x", updated="2025-07-01")


def test_regierungsbezirk_filter_ignores_spelling(G):
    plan = plan_meeting(G, 20, today=TODAY, regierungsbezirk="  KÖLN ", venue=KOELN, radius_km=50)
    assert plan["summary"]["pool"] == 13  # every organisation: Bonn and Köln are both RB Köln
    elsewhere = plan_meeting(G, 20, today=TODAY, regierungsbezirk="Detmold")
    assert elsewhere["invitees"] == [] and elsewhere["notes"]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("few_stops", [2000, 0])
def test_nearest_partners_are_the_brute_force_nearest(seed, few_stops, monkeypatch):
    """The walk over the partners' points keeps exactly the nearest fitting, untied partners of every MSO
    (distance, then the seeded order), as ranking all partners would: shared points, rare sectors, ties and
    no point; with the points sorted directly and with the k-d tree (``_FEW_STOPS`` 0)."""
    import networkx as nx

    from msonet.graph import meeting
    from msonet.graph.meeting import PARTNERS_PER_MSO, _km, _sector_fit, _tie

    monkeypatch.setattr(meeting, "_FEW_STOPS", few_stops)
    from msonet.graph.vocabulary import SECTORS

    rng = random.Random(seed)
    keys = sorted(SECTORS)
    spots = [(rng.uniform(50.4, 52.4), rng.uniform(6.0, 9.3)) for _ in range(30)]
    G = nx.MultiDiGraph()
    msos = [f"m{i}" for i in range(400)]
    partners = [f"p{i}" for i in range(700)]
    points = {}
    for o in msos + partners:
        common = rng.random() < 0.8  # most organisations of a town share its centre point
        G.add_node(o, sectors=rng.sample(keys[:6] if common else keys, rng.randint(0, 2)))
        roll = rng.random()
        if roll < 0.6:
            points[o] = rng.choice(spots)
        elif roll < 0.95:
            lat, lon = rng.choice(spots)
            points[o] = (lat + rng.gauss(0, 0.2), lon + rng.gauss(0, 0.3))
    G.add_node("m-rare", sectors=[keys[-1]])
    G.add_node("p-rare", sectors=[keys[-1]])
    msos.append("m-rare")
    partners.append("p-rare")
    points["m-rare"], points["p-rare"] = spots[0], spots[-1]
    tied = {frozenset((rng.choice(msos), rng.choice(partners))) for _ in range(3000)}

    def brute(a):
        options = []
        for b in partners:
            if (a in points) != (b in points) or frozenset((a, b)) in tied:
                continue
            if any(_sector_fit(frozenset(G.nodes[a]["sectors"]), frozenset(G.nodes[b]["sectors"]))):
                options.append((_km(points[a], points[b]) if a in points else 0.0, _tie(b), b))
        return [b for _, _, b in sorted(options)[:PARTNERS_PER_MSO]]

    pairs = plausible_pairs(G, msos, partners, tied, points)
    assert list(pairs) == msos
    assert pairs == {a: brute(a) for a in msos}


def test_sector_fit_table_agrees_with_the_rule():
    """The bit-mask table of which sector sets fit equals the rule pair by pair (shared, or a complementary
    field of the tandem project only the partner covers), also past 62 distinct sectors."""
    from msonet.graph.meeting import _fit_table, _sector_fit
    from msonet.graph.vocabulary import SECTORS

    rng = random.Random(7)
    keys = sorted(SECTORS)
    for pool in (keys, keys + [f"x{i}" for i in range(60)]):
        sets = [frozenset(rng.sample(pool, rng.randint(0, 3))) for _ in range(80)]
        table = _fit_table(sets[:40], sets[40:])
        assert table == [[any(_sector_fit(m, p)) for p in sets[40:]] for m in sets[:40]]
        assert any(any(row) for row in table) and not all(all(row) for row in table)


def _lp_pairs_value(chosen, pairs, weights):
    """The same objective as a linear programme (bipartite b-matching: integral corners), by scipy's HiGHS."""
    import numpy as np
    from scipy.optimize import linprog

    edges = [(a, b) for a in sorted(pairs) if a in chosen for b in pairs[a] if b in chosen]
    if not edges:
        return 0.0
    ends = sorted({o for edge in edges for o in edge})
    A = np.zeros((len(ends), len(edges)))
    for k, (a, b) in enumerate(edges):
        A[ends.index(a), k] = A[ends.index(b), k] = 1
    result = linprog([-weights[a] for a, _ in edges], A_ub=A, b_ub=np.full(len(ends), PAIRS_PER_MSO),
                     bounds=(0, 1), method="highs-ds")
    return -result.fun


@pytest.mark.parametrize("seed", range(40))
def test_counted_pairs_are_the_linear_programmes_optimum(seed):
    rng = random.Random(seed)
    msos = [f"m{i}" for i in range(rng.randint(1, 14))]
    partners = [f"p{i}" for i in range(rng.randint(1, 10))]
    pairs = {a: rng.sample(partners, rng.randint(0, min(5, len(partners)))) for a in msos}
    weights = {a: rng.choice([1.0, 2.0]) for a in msos}
    chosen = set(rng.sample(msos + partners, rng.randint(1, len(msos) + len(partners))))
    value, used = _pairs_matched(chosen, pairs, weights)
    assert value == pytest.approx(_lp_pairs_value(chosen, pairs, weights), abs=1e-9)
    # what is counted is a valid choice: plausible pairs among the invited, at most PAIRS_PER_MSO each
    assert len(set(used)) == len(used) and all(a in chosen and b in chosen and b in pairs[a] for a, b in used)
    for o in chosen:
        assert sum(o in pair for pair in used) <= PAIRS_PER_MSO
    assert value == sum(weights[a] for a, _ in used)
    # the seeded order decides between equal weights, not the input order
    shuffled = {a: pairs[a] for a in rng.sample(list(pairs), len(pairs))}
    assert _pairs_matched(chosen, shuffled, weights) == (value, used)


def test_seating_keeps_counted_pairs_together_where_a_swap_can():
    """Random groups of counted pairs (chains and rings, at most 2 pairs each) at random tables: everybody is
    seated once, hosts at their own tables, tables even; the swaps never seat fewer pairs together than the
    greedy seating, and seat more in some cases."""
    import random

    from msonet.graph.meeting import _seat

    rng = random.Random(4)
    better = 0
    for _ in range(200):
        n = rng.randint(4, 60)
        guests = [f"g{i:02d}" for i in range(n)]
        shuffled = rng.sample(guests, n)
        counted: dict[str, list[str]] = {}
        i = 0
        while i < n - 1:  # chains and rings of random length
            size = min(rng.randint(2, 12), n - i)
            ring = shuffled[i:i + size]
            closed = size > 2 and rng.random() < 0.5
            for a, b in zip(ring, ring[1:] + ([ring[0]] if closed else []), strict=False):
                counted.setdefault(a, []).append(b)
            i += size + rng.randint(0, 2)
        tables = rng.randint(2, 8)
        hosts = rng.sample(guests, rng.randint(0, min(2, tables)))

        def together(groups, counted=counted):
            where = {o: g for g, members in enumerate(groups) for o in members}
            return sum(1 for a, bs in counted.items() for b in bs if where[a] == where[b])

        greedy = _seat(guests, hosts, tables, counted, improve=False)
        seated = _seat(guests, hosts, tables, counted)
        assert sorted(o for members in seated for o in members) == guests
        assert max(map(len, seated)) - min(map(len, seated)) <= 1
        assert all(host in seated[i] for i, host in enumerate(hosts))
        assert together(seated) >= together(greedy)
        better += together(seated) > together(greedy)
    assert better > 0
