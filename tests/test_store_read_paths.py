"""The embedded store's fast read paths give exactly the answers of the whole graph (issue 16, read side).

``partners`` reads only the candidates a score bound needs (``EmbeddedStore.partner_view``), ``isolated`` reads
who is tied to whom without the ties' properties (``tie_view``), ``stats`` counts in SQL, and the CLI writes
JSON without ``json``'s encoder: each is compared with the whole-graph way on the demo data and on generated
data, including properties of unusual types that only an old or hand-made store holds.
"""

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msonet.graph.isolation import isolated_organisations
from msonet.graph.partners import VIEW_CANDIDATES, propose_partners
from msonet.graph.store import EmbeddedStore, _node_columns, _sector_rows, organisation_stats_of

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 1)
SEARCHES = ({"top": 10}, {"top": 3}, {"top": 5, "max_km": 8.0}, {"top": 5, "sector": "education"},
            {"top": 10, "include_umbrella": True, "include_migration_services": True},
            {"top": 7, "diversify": False}, {"top": 60})


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from msonet.loaders.demo import build_demo_batch

    store = EmbeddedStore(tmp_path_factory.mktemp("demo"))
    store.upsert(build_demo_batch())
    return store


@pytest.fixture(scope="module")
def generated_store(tmp_path_factory):
    from msonet.loaders.geography import load_districts, load_municipalities
    from msonet.loaders.synthetic import generate

    store = EmbeddedStore(tmp_path_factory.mktemp("generated"))
    store.upsert(generate(2500, 5, municipalities=load_municipalities(), districts=load_districts(), today=TODAY))
    return store


def _msos(G, n, seed):
    """The MSOs with the most ties (common contacts matter) and a seeded sample of the others."""
    msos = sorted(o for o, d in G.nodes(data=True) if d.get("kind") == "organisation"
                  and d.get("org_type") in ("mso", "mso_federation", "mso_umbrella"))
    busiest = sorted(msos, key=lambda o: (-G.degree(o), o))[:4]
    return busiest + random.Random(seed).sample([m for m in msos if m not in busiest], n)


def _same_partners(store, G, msos, searches=SEARCHES, *, index=True):
    """Compare the partner view with the search on the whole graph (with a PartnerIndex, which equals the scan
    of all candidates: tests/test_partners.py); returns how often the view was partial."""
    from msonet.graph.partners import PartnerIndex

    whole = {"index": PartnerIndex(G)} if index else {}
    partial = 0
    for mso in msos:
        for search in searches:
            view = store.partner_view(mso, **search)
            partial += VIEW_CANDIDATES in view.graph
            assert propose_partners(view, mso, **search) == propose_partners(G, mso, **search, **whole), \
                (mso, search)
    return partial


def test_partner_view_equals_the_whole_graph_on_the_demo_data(demo_store):
    G = demo_store.to_networkx()
    msos = _msos(G, 8, 16)
    partial = _same_partners(demo_store, G, msos)
    assert partial >= len(msos) * len(SEARCHES) // 2  # the fast path is really taken


def test_partner_view_equals_the_whole_graph_on_generated_data(generated_store):
    G = generated_store.to_networkx()
    msos = _msos(G, 10, 17)
    partial = _same_partners(generated_store, G, msos)
    assert partial >= len(msos) * len(SEARCHES) // 2
    # a partial view reads far fewer candidates than there are
    view = generated_store.partner_view(msos[-1], top=10)
    assert len(view.graph[VIEW_CANDIDATES]) < G.number_of_nodes() / 3


def _rewrite(store, node_id, change):
    """Change one node's stored properties the way an older or hand-made store may hold them (the columns
    follow the properties exactly as the store derives them)."""
    with store._connection() as conn:
        nid, props = conn.execute("SELECT nid, props FROM node WHERE id = ?", (node_id,)).fetchone()
        props = json.loads(props)
        change(props)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE node SET kind = ?, org_type = ?, name = ?, district = ?, regierungsbezirk = ?, "
                     "city = ?, lat = ?, lon = ?, synthetic = ?, props = ? WHERE nid = ?",
                     (*_node_columns(props), nid))
        conn.execute("DELETE FROM node_sector WHERE nid = ?", (nid,))
        conn.executemany("INSERT INTO node_sector (nid, pos, sector) VALUES (?, ?, ?)", _sector_rows(nid, props))
        conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'revision'")
        conn.execute("COMMIT")


def test_partner_view_with_unusual_property_types(tmp_path):
    """Text coordinates, integer coordinates, a sector string, odd districts: the bound reads the properties
    themselves where the columns are empty, so the list stays that of the whole graph."""
    from msonet.loaders.geography import load_districts, load_municipalities
    from msonet.loaders.synthetic import generate

    store = EmbeddedStore(tmp_path)
    store.upsert(generate(600, 8, municipalities=load_municipalities(), districts=load_districts(), today=TODAY))
    G = store.to_networkx()
    msos = _msos(G, 5, 3)
    others = sorted(o for o, d in G.nodes(data=True) if d.get("kind") == "organisation" and o not in msos)
    rng = random.Random(4)
    changes = [
        lambda p: p.update(lat=str(p["lat"]), lon=str(p["lon"])) if p.get("lat") is not None else None,
        lambda p: p.update(lat=round(p["lat"]), lon=round(p["lon"])) if p.get("lat") is not None else None,
        lambda p: p.update(sectors="education"),
        lambda p: p.update(district=5111),
        lambda p: p.update(lat=None, lon=None),
        lambda p: p.update(city=None, lat=None),
    ]
    for node in rng.sample(others, 80):
        _rewrite(store, node, rng.choice(changes))
    _rewrite(store, msos[0], lambda p: p.update(lat=None, lon=None))  # an MSO without coordinates
    G = store.to_networkx()
    _same_partners(store, G, msos, ({"top": 10}, {"top": 4, "max_km": 15.0}, {"top": 30, "sector": "education"}),
                   index=False)


def test_partner_view_errors_match_the_whole_graph(demo_store):
    from msonet.graph.errors import GraphError

    G = demo_store.to_networkx()
    service = next(o for o, d in G.nodes(data=True) if d.get("org_type") == "regular_service")
    mso = _msos(G, 1, 1)[0]
    for org_id, search in ((service, {"top": 5}), ("gibt-es-nicht", {"top": 5}), (mso, {"top": 5, "max_km": -1.0})):
        with pytest.raises(GraphError) as whole:
            propose_partners(G, org_id, **search)
        with pytest.raises(type(whole.value)) as partial:
            propose_partners(demo_store.partner_view(org_id, **search), org_id, **search)
        assert str(partial.value) == str(whole.value)


@pytest.mark.parametrize("which", ["demo_store", "generated_store"])
def test_isolation_on_the_tie_view_equals_the_whole_graph(which, request):
    store = request.getfixturevalue(which)
    G, ties = store.to_networkx(), store.tie_view()
    assert dict(ties.nodes(data=True)) == dict(G.nodes(data=True))
    assert set(ties.edges()) == set(G.edges())
    for node in G:  # neighbours in the same order (the ties' storage order), both directions
        assert list(ties._succ[node]) == list(G._succ[node]) and list(ties._pred[node]) == list(G._pred[node])
    some = next(d for _, d in G.nodes(data=True) if d.get("kind") == "organisation" and d.get("district"))
    for kwargs in ({}, {"event_years": 1}, {"event_years": 10, "small_component_max": 2},
                   {"district": some["district"]}, {"org_type": "mso"}, {"small_component_max": 12}):
        assert isolated_organisations(ties, today=TODAY, **kwargs) == isolated_organisations(G, today=TODAY, **kwargs)


def test_isolation_on_the_column_tie_view_equals_the_whole_graph(tmp_path):
    """``tie_view(FIELDS)`` reads organisations from the node columns without parsing their properties; where
    a column cannot hold a property as it is (text coordinates, whole-number coordinates, a number as
    district, no place), the node is parsed, so the isolation list stays that of the whole graph."""
    from msonet.graph.isolation import FIELDS
    from msonet.loaders.geography import load_districts, load_municipalities
    from msonet.loaders.synthetic import generate

    store = EmbeddedStore(tmp_path)
    store.upsert(generate(600, 8, municipalities=load_municipalities(), districts=load_districts(), today=TODAY))
    orgs = sorted(o for o, d in store.to_networkx().nodes(data=True) if d.get("kind") == "organisation")
    rng = random.Random(5)
    changes = [
        lambda p: p.update(lat=str(p["lat"]), lon=str(p["lon"])) if p.get("lat") is not None else None,
        lambda p: p.update(lat=round(p["lat"]), lon=round(p["lon"])) if p.get("lat") is not None else None,
        lambda p: p.update(lat=float(round(p["lat"])), lon=float(round(p["lon"]))) if p.get("lat") else None,
        lambda p: p.update(district=5111),
        lambda p: p.update(lat=None, lon=None),
        lambda p: p.update(city=None, regierungsbezirk=None),
    ]
    for node in rng.sample(orgs, 120):
        _rewrite(store, node, rng.choice(changes))
    G, ties = store.to_networkx(), store.tie_view(FIELDS)
    parsed = sum(1 for o in orgs if ties.nodes[o] == G.nodes[o])
    assert 0 < parsed < len(orgs) / 2  # most organisations came from the columns alone
    def text(value):  # 51 and 51.0 are equal in Python but not in the JSON output
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    for o in orgs:
        assert text({f: ties.nodes[o].get(f) for f in FIELDS}) == text({f: G.nodes[o].get(f) for f in FIELDS})
    assert set(ties.edges()) == set(G.edges())
    for kwargs in ({}, {"event_years": 1}, {"event_years": 10, "small_component_max": 2}, {"org_type": "mso"},
                   {"district": "05315"}, {"regierungsbezirk": "Köln"}):
        assert text(isolated_organisations(ties, today=TODAY, **kwargs)) == \
            text(isolated_organisations(G, today=TODAY, **kwargs))
    assert store.tie_view(["kind", "sectors"]).nodes[orgs[0]] == G.nodes[orgs[0]]  # not all columns: parsed


def test_tie_view_reuses_a_current_whole_graph_and_never_a_stale_one(tmp_path):
    from msonet.graph.model import Organisation, RecordBatch

    store = EmbeddedStore(tmp_path / "s")
    org = Organisation(id="o1", name="Verein A", org_type="mso", city="Köln", ags="05315000", district="05315")
    store.upsert(RecordBatch(organisations=[org]))
    assert store.tie_view() is not store.graph_view()  # nothing kept yet when tie_view was read
    whole = store.graph_view()
    assert store.tie_view() is whole  # the app keeps the whole graph: no second read
    store.upsert(RecordBatch(organisations=[Organisation(id="o2", name="Verein B", org_type="mso", city="Köln",
                                                         ags="05315000", district="05315")]))
    fresh = store.tie_view()
    assert fresh is not whole and set(fresh.nodes) == {"o1", "o2"}


@pytest.mark.parametrize("which", ["demo_store", "generated_store"])
def test_organisation_stats_equal_the_count_over_the_graph(which, request):
    store = request.getfixturevalue(which)
    G = store.to_networkx()
    # events carry districts and sectors too: the counts leave them out
    assert any(d.get("kind") == "event" and d.get("district") for _, d in G.nodes(data=True))
    assert store.organisation_stats() == organisation_stats_of(G)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5) | st.integers() | st.floats() | st.booleans() | st.none(), inner,
                      max_size=4),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_cli_json_text_equals_json_dumps(value):
    from msonet.cli import json_text

    assert json_text(value) == json.dumps(value, ensure_ascii=False, indent=2, default=str)


def test_cli_json_of_real_answers(demo_store):
    from msonet.cli import json_text

    G = demo_store.to_networkx()
    for answer in (isolated_organisations(G, today=TODAY), propose_partners(G, _msos(G, 1, 2)[0], top=20),
                   demo_store.organisation_stats()):
        assert json_text(answer) == json.dumps(answer, ensure_ascii=False, indent=2, default=str)


def test_stats_does_not_import_the_graph_libraries(demo_store):
    script = ("import sys, io\nimport msonet.cli as msonet_cli\n"
              "out, sys.stdout = sys.stdout, io.StringIO()\n"
              f"code = msonet_cli.main(['--store', {str(demo_store.home)!r}, 'stats', '--json'])\n"
              "sys.stdout = out\n"
              "print(code, sorted(m for m in ('networkx', 'pandas', 'scipy', 'numpy', 'geopy') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.split("\n")[0] == "0 []", result.stderr


def test_cli_meeting_radius_equals_the_library_default():
    import msonet.cli as msonet_cli
    from msonet.graph.meeting import DEFAULT_RADIUS_KM

    assert msonet_cli.DEFAULT_RADIUS_KM == DEFAULT_RADIUS_KM


@pytest.mark.parametrize("which", ["demo_store", "generated_store"])
def test_overview_figures_without_the_whole_graph_equal_the_whole_graph(which, request):
    """The overview page reads the tie view and the funding ties only: the same key figures, isolation counts
    and funding mix as on the whole graph (and as ``Network.isolation``)."""
    from msonet.api import Network
    from msonet.graph.coverage import funding_mix
    from msonet.graph.figures import isolation_reason_counts, key_figures, overview_figures
    from msonet.graph.settings import Settings
    from msonet.loaders.geography import load_districts

    store = request.getfixturevalue(which)
    names = {k: d.name for k, d in load_districts().items()}
    fresh = EmbeddedStore(store.home)  # keeps no whole graph: the views are read
    result = overview_figures(fresh, names, TODAY)
    assert fresh._view is None
    funding = fresh.funding_view()
    assert {t for _, _, t in funding.edges(data="type")} == {"funded_by"}
    G = store.to_networkx()
    assert result["figures"] == key_figures(G, names)
    assert result["figures"]["ties"] > 0 and result["figures"]["fundings"] > 0
    network = Network(fresh, Settings(home=store.home), today=TODAY)
    assert result["isolated"] == isolation_reason_counts(network.isolation().as_dicts())
    assert result["isolated"] == isolation_reason_counts(isolated_organisations(G, today=TODAY))
    assert result["funding"] == funding_mix(G)
    fresh.graph_view()  # a whole graph kept: both views are that graph, the same figures
    assert fresh.funding_view() is fresh.graph_view() and overview_figures(fresh, names, TODAY) == result
    fresh.close()
