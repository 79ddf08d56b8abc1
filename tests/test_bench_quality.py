"""Tests of the quality benchmark's pieces (the full run is ``python -m bench --only quality``)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_quality import _alphabetical_per_tier, _baselines, _held_out, _metrics  # noqa: E402
from tests._graphs import build, org, rel  # noqa: E402


def test_metrics_hits_mrr_and_bootstrap_interval():
    m = _metrics([1, 3, 12, None], seed=1)
    assert m["hits10"] == 0.5 and m["queries"] == 4
    assert m["mrr"] == (1 + 1 / 3 + 1 / 12) / 4
    assert m["hits10_lo"] <= m["hits10"] <= m["hits10_hi"] and m["mrr_lo"] <= m["mrr"] <= m["mrr_hi"]


def test_held_out_takes_a_seeded_fifth_of_the_mso_partner_ties():
    orgs = [org(f"m{i}") for i in range(5)] + [org(f"p{i}", "regular_service") for i in range(5)]
    G = build(orgs=orgs, relations=[rel(f"m{i}", f"p{i}") for i in range(5)] + [rel("m0", "m1")])
    eligible = {n: G.nodes[n] for n in G if n.startswith("p")}
    hidden = _held_out(G, eligible, seed=3)
    assert len(hidden) == 1 and hidden == _held_out(G, eligible, seed=3)
    mso, partner, _u, _key = hidden[0]
    assert mso.startswith("m") and partner == "p" + mso[1:]


def test_baselines_rank_the_same_untied_candidates():
    G = build(orgs=[org("m", sectors=["sport"]), org("near", "sports_club", sectors=["culture"]),
                    org("far", "sports_club", city="Bonn", sectors=["sport"]), org("tied", "sports_club")],
              relations=[rel("m", "tied")])
    eligible = {n: G.nodes[n] for n in ("near", "far", "tied")}
    rankers = _baselines(G, eligible, seed=1)
    assert rankers["nächste zuerst"]("m") == ["near", "far"]
    assert rankers["gleiches Handlungsfeld, zufällig (gleicher Kreis zuerst)"]("m") == ["far", "near"]
    assert set(rankers["zufällig im selben Kreis"]("m")) == {"near", "far"}


def test_alphabetical_baseline_is_the_old_name_order():
    G = build(orgs=[org("z", name="Zeta e.V."), org("a", name="Alpha e.V."), org("r", "regular_service", name="Beta"),
                    org("s", "regular_service", name="Aaa Dienst")])
    assert _alphabetical_per_tier(G, list(G), 3, dt.date(2025, 1, 1)) == ["a", "s", "z"]
