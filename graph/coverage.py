"""Regional coverage: MSOs per inhabitants, KI/IA presence, white spots by sector, regular vs project funding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from msonet.graph.errors import GraphError
from msonet.graph.formats import fmt_number
from msonet.graph.vocabulary import MIGRATION_FIELD_TYPES, MSO_TYPES, SECTORS, funding_class, label

__all__ = ["district_coverage", "funding_mix", "NO_SECTOR"]

#: Key used for funding records that name no sector.
NO_SECTOR = "-"


def _new_funding() -> dict[str, Any]:
    return {"regular": set(), "project": set(), "amount_regular": 0.0, "amount_project": 0.0}


def _mso_fundings(G: nx.MultiDiGraph):
    """Yield ``(org_id, org_data, class, sector, amount)`` for every funding record of an MSO."""
    node_data = G._node  # private dict: the public view costs more on large graphs
    for programme, data in node_data.items():
        if data.get("kind") != "programme":
            continue
        for u, keydict in G._pred[programme].items():
            org = node_data[u]
            if org.get("kind") != "organisation" or org.get("org_type") not in MSO_TYPES:
                continue
            for edge in keydict.values():
                if edge.get("type") != "funded_by":
                    continue
                amount = edge.get("amount")
                try:
                    amount = float(amount) if amount is not None else None
                except (TypeError, ValueError):
                    amount = None
                yield (u, org, funding_class(edge.get("funding_kind") or ""), edge.get("sector") or NO_SECTOR,
                       amount)


def _add(entry: dict[str, Any], org: str, cls: str, amount: float | None) -> None:
    entry[cls].add(org)
    if amount is not None:
        entry["amount_" + cls] += amount


def _share(regular: float, project: float) -> float | None:
    total = regular + project
    return round(regular / total, 4) if total > 0 else None


def _pct(share: float | None) -> str:
    return f"{round((share or 0) * 100)} %"


def _summary(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "funded_msos": len(entry["regular"] | entry["project"]),
        "funded_msos_regular": len(entry["regular"]),
        "funded_msos_project": len(entry["project"]),
        "amount_regular": round(entry["amount_regular"], 2),
        "amount_project": round(entry["amount_project"], 2),
        "share_regular": _share(entry["amount_regular"], entry["amount_project"]),
    }


def district_coverage(G: nx.MultiDiGraph, districts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Coverage figures for every district.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    districts
        5-digit district key -> object with attributes ``name``, ``regierungsbezirk`` and
        ``population`` (e.g. ``loaders.geography`` District records). Organisations in districts not
        listed here are not counted.

    Returns
    -------
    One row per district, sorted by key: ``{district, name, regierungsbezirk, population,
    organisations, mso_count, msos_per_100k, ki_present, ki_count, ia_count, regular_service_count,
    sectors_without_actor, sectors: {sector: {mso, regular}}, funded_msos, funded_msos_regular,
    funded_msos_project, amount_regular, amount_project, share_regular, funding_by_sector:
    {sector: {...same funding fields}}, project_only_sectors}``. ``regular`` counts organisations
    outside the migration field (:data:`graph.vocabulary.MIGRATION_FIELD_TYPES`); a funded MSO
    counts in both classes if it has both kinds of funding; ``share_regular`` is the share of the
    known amounts that is regular funding (``None`` without amounts); ``project_only_sectors`` are
    sectors in which MSOs of the district get project funding but no regular funding.
    """
    stats: dict[str, dict[str, Any]] = {}
    for key in districts:
        stats[key] = {"organisations": 0, "msos": 0, "ki": 0, "ia": 0, "regular": 0,
                      "sectors": {s: {"mso": 0, "regular": 0} for s in SECTORS}, "active": set(),
                      "funding": _new_funding(), "by_sector": {}}
    for _, data in G.nodes(data=True):
        if data.get("kind") != "organisation":
            continue
        entry = stats.get(data.get("district"))
        if entry is None:
            continue
        org_type = data.get("org_type")
        entry["organisations"] += 1
        is_mso = org_type in MSO_TYPES
        outside = org_type not in MIGRATION_FIELD_TYPES
        entry["msos"] += is_mso
        entry["ki"] += org_type == "municipal_integration_centre"
        entry["ia"] += org_type == "integration_agency"
        entry["regular"] += outside
        for sector in data.get("sectors") or ():
            entry["active"].add(sector)
            counts = entry["sectors"].get(sector)
            if counts is not None:
                counts["mso"] += is_mso
                counts["regular"] += outside
    for org, data, cls, sector, amount in _mso_fundings(G):
        entry = stats.get(data.get("district"))
        if entry is None:
            continue
        _add(entry["funding"], org, cls, amount)
        _add(entry["by_sector"].setdefault(sector, _new_funding()), org, cls, amount)
    rows = []
    for key in sorted(districts):
        district = districts[key]
        entry = stats[key]
        population = getattr(district, "population", None)
        by_sector = {s: _summary(entry["by_sector"][s]) for s in [*SECTORS, NO_SECTOR] if s in entry["by_sector"]}
        rows.append({
            "district": key,
            "name": getattr(district, "name", key),
            "regierungsbezirk": getattr(district, "regierungsbezirk", None),
            "population": population,
            "organisations": entry["organisations"],
            "mso_count": entry["msos"],
            "msos_per_100k": round(entry["msos"] * 100_000 / population, 2) if population else None,
            "ki_present": entry["ki"] > 0,
            "ki_count": entry["ki"],
            "ia_count": entry["ia"],
            "regular_service_count": entry["regular"],
            "sectors_without_actor": [s for s in SECTORS if s not in entry["active"]],
            "sectors": entry["sectors"],
            **_summary(entry["funding"]),
            "funding_by_sector": by_sector,
            "project_only_sectors": [s for s, f in by_sector.items()
                                     if s != NO_SECTOR and f["funded_msos_project"] and not f["funded_msos_regular"]],
        })
    return rows


def funding_mix(
    G: nx.MultiDiGraph,
    *,
    by: str = "sector",
    districts: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """How MSO work is funded: regular (Regelförderung) vs project funding, per sector or district.

    Parameters
    ----------
    G
        The graph from ``store.to_networkx()``.
    by
        ``"sector"`` (the sector a funding record names) or ``"district"`` (the MSO's district).
    districts
        Optional district key -> object with ``name`` for readable labels (``by="district"``).

    Returns
    -------
    Rows ``{key, label, msos, share_msos, funded_msos, share_msos_funded, funded_msos_regular,
    funded_msos_project, amount_regular, amount_project, share_regular, project_only, unfunded,
    text}``. By sector, ``msos`` counts MSOs that name the sector among their fields and
    ``share_msos_funded`` the share of all MSOs funded through it (the survey's 54 % vs 18 %
    comparison for child and youth services). ``project_only``: MSOs are funded in it, but only
    through projects; ``unfunded``: MSOs work in it, no funding record names it. Records without a
    sector form the row ``key="-"``. By district, ``msos`` counts the district's MSOs.
    """
    if by not in ("sector", "district"):
        raise GraphError(f"Unbekannte Gliederung „{by}“: bitte „sector“ (Handlungsfeld) oder „district“ (Kreis).")
    total_msos = 0
    working: dict[str, int] = {}
    for _, data in G.nodes(data=True):
        if data.get("kind") != "organisation" or data.get("org_type") not in MSO_TYPES:
            continue
        total_msos += 1
        if by == "sector":
            for sector in set(data.get("sectors") or ()):
                working[sector] = working.get(sector, 0) + 1
        else:
            key = data.get("district") or NO_SECTOR
            working[key] = working.get(key, 0) + 1
    groups: dict[str, dict[str, Any]] = {}
    for org, data, cls, sector, amount in _mso_fundings(G):
        key = sector if by == "sector" else (data.get("district") or NO_SECTOR)
        _add(groups.setdefault(key, _new_funding()), org, cls, amount)
    if by == "sector":
        keys = [s for s in SECTORS if s in working or s in groups]
        keys += sorted(k for k in {*working, *groups} if k not in SECTORS and k != NO_SECTOR)
        if NO_SECTOR in groups:
            keys.append(NO_SECTOR)
    else:
        keys = sorted({*working, *groups})
    rows = []
    for key in keys:
        summary = _summary(groups.get(key, _new_funding()))
        msos = working.get(key, 0)
        if by == "sector":
            name = "ohne Handlungsfeld" if key == NO_SECTOR else label("sector", key)
        else:
            district = (districts or {}).get(key)
            name = "ohne Kreis" if key == NO_SECTOR else getattr(district, "name", None) or key
        project_only = summary["funded_msos_project"] > 0 and summary["funded_msos_regular"] == 0
        unfunded = msos > 0 and summary["funded_msos"] == 0
        share_msos = round(msos / total_msos, 4) if total_msos else None
        share_funded = round(summary["funded_msos"] / total_msos, 4) if total_msos else None
        if unfunded:
            text = f"{fmt_number(msos)} MSO arbeiten hier, aber keine Förderung ist erfasst."
        elif project_only:
            text = ("MSO-Arbeit hier ruht nur auf Projektförderung "
                    f"({fmt_number(summary['funded_msos_project'])} geförderte MSO, keine Regelförderung).")
        elif summary["funded_msos"]:
            share = summary["share_regular"]
            text = (f"{fmt_number(summary['funded_msos_regular'])} MSO mit Regelförderung, "
                    f"{fmt_number(summary['funded_msos_project'])} "
                    "mit Projektförderung" + (f"; Regelförderung {_pct(share)} der Beträge." if share is not None
                                              else "; keine Beträge erfasst."))
        else:
            text = "Keine MSO und keine Förderung erfasst."
        if by == "sector" and key != NO_SECTOR and total_msos and share_msos is not None:
            text += (f" {_pct(share_msos)} der MSO nennen dieses Handlungsfeld, {_pct(share_funded)} werden darüber "
                     "gefördert.")
        rows.append({"key": key, "label": name, "msos": msos, "share_msos": share_msos, **summary,
                     "share_msos_funded": share_funded, "project_only": project_only, "unfunded": unfunded,
                     "text": text})
    return rows
