"""Cohort planner: many tandems at once, each organisation at most once, by maximum-weight matching."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from msonet.graph.compiled import linear_sum_assignment
from msonet.graph.errors import GraphError
from msonet.graph.partners import PartnerIndex, _tie_key, propose_partners
from msonet.graph.vocabulary import MIGRATION_FIELD_TYPES, MSO_TYPES

__all__ = ["plan_cohort", "eligible_msos", "max_weight_pairs", "DEFAULT_PER_MSO"]

#: Proposals per MSO that enter the matching (more = better totals, slower).
DEFAULT_PER_MSO = 5
_MIN_POOL = 500
_SCALE = 10_000  # scores have 4 decimals: integer weights keep the optimum exact


def _seeded(node: str) -> bytes:
    """The fixed random order (:data:`graph.partners.TIE_SEED`) in which the cohort breaks every tie."""
    return _tie_key("cohort", node)


def _has_tandem(G: nx.MultiDiGraph, node: str) -> bool:
    for adjacency in (G._succ[node], G._pred[node]):
        for keydict in adjacency.values():
            if any(d.get("type") == "tandem_partner" for d in keydict.values()):
                return True
    return False


def eligible_msos(G: nx.MultiDiGraph, *, district: str | None = None, pool: int | None = None) -> list[str]:
    """MSOs without a tandem (optionally in one district), most in need first, at most ``pool``.

    Need: first MSOs with no direct tie to any organisation outside the migration field, then
    fewer ties overall, then a fixed seeded order (:data:`graph.partners.TIE_SEED`), never the name.
    """
    nodes = G.nodes
    found = []
    for node, data in G.nodes(data=True):
        if data.get("kind") != "organisation" or data.get("org_type") not in MSO_TYPES:
            continue
        if district and data.get("district") != district:
            continue
        if _has_tandem(G, node):
            continue
        contacts = {o for o in (*G._succ[node], *G._pred[node]) if nodes[o].get("kind") == "organisation"}
        outside = sum(1 for o in contacts if nodes[o].get("org_type") not in MIGRATION_FIELD_TYPES)
        found.append((outside > 0, len(contacts), _seeded(node), node))
    found.sort()
    ids = [entry[-1] for entry in found]
    return ids if pool is None else ids[:pool]


def max_weight_pairs(weights: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """Pairs ``(left, right)`` with maximal total weight, each side used at most once.

    The same optimum as ``networkx.max_weight_matching`` on the bipartite graph, solved per
    connected part with scipy's ``linear_sum_assignment`` (C, exact): the pure-Python blossom
    algorithm needs minutes for a thousand MSOs. Missing pairs weigh 0 and are never returned.
    Where several choices reach the same total, the solver takes the first in its row and column
    order; both sides are therefore put in the fixed seeded order of :data:`graph.partners.TIE_SEED`,
    never in the order of ids (which often follow the names).
    """
    B = nx.Graph()
    B.add_edges_from((("l", a), ("r", b)) for (a, b), w in sorted(weights.items()) if w > 0)
    result: list[tuple[str, str]] = []
    for part in sorted(nx.connected_components(B), key=lambda p: min(_seeded(name) for _side, name in p)):
        left = sorted((name for side, name in part if side == "l"), key=_seeded)
        right = sorted((name for side, name in part if side == "r"), key=_seeded)
        col = {name: j for j, name in enumerate(right)}
        matrix = np.zeros((len(left), len(right)), dtype=np.int64)
        for i, a in enumerate(left):
            for _, (_, b) in B.edges(("l", a)):
                matrix[i, col[b]] = weights[(a, b)]
        rows, cols = linear_sum_assignment(matrix, maximize=True)
        result.extend((left[i], right[j]) for i, j in zip(rows, cols, strict=True) if matrix[i, j] > 0)
    return sorted(result)


def plan_cohort(
    G: nx.MultiDiGraph,
    count: int,
    *,
    district: str | None = None,
    max_km: float | None = 50,
    index: PartnerIndex | None = None,
    per_mso: int = DEFAULT_PER_MSO,
    pool: int | None = None,
    include_umbrella: bool = False,
    include_migration_services: bool = False,
) -> list[dict[str, Any]]:
    """Propose ``count`` tandems at once so that the total fit is as high as possible.

    Every MSO without a tandem (in ``district`` if given) gets its ``per_mso`` best proposals from
    :func:`msonet.graph.partners.propose_partners` (within ``max_km``). These pairs form a bipartite graph
    weighted by score; a maximum-weight matching (:func:`max_weight_pairs`, the optimum of
    ``networkx.max_weight_matching``) picks pairs so that no organisation appears twice and the sum
    of scores is maximal.
    Unlike taking the best pair first (greedy), this can give an MSO its second-best partner when
    that frees the best partner for another MSO. The ``count`` best matched pairs are returned.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    count
        Number of tandems wanted.
    district
        Only MSOs in this district (5-digit key); partners may be across the border (``max_km``).
    max_km
        Largest distance between MSO and partner (``None`` = any).
    index
        A :class:`msonet.graph.partners.PartnerIndex` of ``G`` (built here if not given).
    per_mso
        Proposals per MSO in the matching.
    pool
        At most this many MSOs (default ``max(20 * count, 500)``), the most in need first: those
        without any tie outside the migration field, then those with fewer ties, then a seeded order.
    include_umbrella, include_migration_services
        As in :func:`msonet.graph.partners.propose_partners`: the same location and partner rules apply.

    Returns
    -------
    Rows ``{mso_id, mso_name, mso_city, partner_id, partner_name, partner_city, partner_org_type,
    score, distance_km, parts, reasons}``; best score first, equal scores in the seeded order (never by id or
    name).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0 or count > 5000 or per_mso < 1 \
            or per_mso > 50:
        raise GraphError(f"Bitte zwischen 0 und 5.000 Tandems und 1 bis 50 Vorschläge je MSO angeben "
                         f"(angegeben: {count} Tandems, {per_mso} Vorschläge).")
    if max_km is not None and not max_km >= 0:  # also nan
        raise GraphError(f"Die höchste Entfernung muss eine Zahl ab 0 km sein (angegeben: {max_km}).")
    if count == 0:
        return []
    index = index if index is not None else PartnerIndex(G)
    msos = eligible_msos(G, district=district, pool=pool if pool is not None else max(20 * count, _MIN_POOL))
    proposals: dict[tuple[str, str], dict[str, Any]] = {}
    for mso in msos:
        for row in propose_partners(G, mso, top=per_mso, max_km=max_km, index=index, include_umbrella=include_umbrella,
                                    include_migration_services=include_migration_services):
            proposals[(mso, row["id"])] = row
    weights = {pair: round(row["score"] * _SCALE) for pair, row in proposals.items()}
    pairs = [(mso, partner, proposals[(mso, partner)]) for mso, partner in max_weight_pairs(weights)]
    pairs.sort(key=lambda p: (-p[2]["score"], _seeded(p[0]), _seeded(p[1])))
    nodes = G.nodes
    return [
        {"mso_id": mso, "mso_name": nodes[mso].get("name") or mso, "mso_city": nodes[mso].get("city"),
         "partner_id": partner, "partner_name": row["name"], "partner_city": row["city"],
         "partner_org_type": row["org_type"], "score": row["score"], "distance_km": row["distance_km"],
         "parts": row["parts"], "reasons": row["reasons"]}
        for mso, partner, row in pairs[:count]
    ]
