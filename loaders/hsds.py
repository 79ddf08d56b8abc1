"""Read Open Referral HSDS data (CSV folder or JSON) as an organisations table.

Mapping (HSDS 2.x and 3.x field names):

====================================  ===========================================================
HSDS                                  msonet
====================================  ===========================================================
organization.id                       ``id`` = ``"hsds-" + id`` (stable across re-imports)
organization.name                     ``name``
organization.description              ``description`` (+ "Angebote: ..." from the service names)
organization.website / url            ``website``
organization.email                    ``email``
organization.year_incorporated        ``founded``
organization.org_type / type (extra)  ``type``; otherwise the ``org_type`` argument (regular_service)
physical address of the first         ``city`` (city), ``postcode`` (postal_code),
location (physical_addresses.csv,     ``address`` (address_1 + address_2)
addresses.csv with address_type
physical, or nested in JSON)
phones.number (organization_id)       ``phone``
organization.synthetic (extra)        ``synthetic`` (for made-up test data)
====================================  ===========================================================

Everything else (alternate_name, tax fields, legal_status, schedules, taxonomy ...) is not imported.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from msonet.graph.errors import Problem, ValidationError
from msonet.loaders.files import Table, decode_text, parse_json, read_bytes

__all__ = ["HSDS_HEADERS", "is_hsds_folder", "looks_like_hsds", "read_hsds", "read_hsds_json"]

#: Headers of the organisations table made from HSDS data.
HSDS_HEADERS = ["id", "name", "type", "city", "postcode", "address", "website", "founded", "description",
                "email", "phone", "synthetic"]

_ORG_FILES = ("organizations.csv", "organization.csv")
_HSDS_KEYS = {"locations", "services", "year_incorporated", "alternate_name", "legal_status", "tax_status",
              "tax_id", "physical_addresses", "organization_identifiers"}


def is_hsds_folder(path: Path | str) -> bool:
    """``True`` when ``path`` is a folder holding an HSDS ``organizations.csv``."""
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in _ORG_FILES)


def looks_like_hsds(payload: Any) -> bool:
    """``True`` for parsed JSON that holds HSDS organization objects (list, page ``contents`` or one)."""
    items = _json_items(payload)
    return bool(items) and isinstance(items[0], dict) and bool(_HSDS_KEYS & set(items[0]))


def _json_items(payload: Any) -> list:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("contents", "organizations", "items", "data"):
            if isinstance(payload.get(key), list):
                return payload[key]
        if "name" in payload and "id" in payload:
            return [payload]
    return []


def _csv(folder: Path, *names: str) -> Table | None:
    for name in names:
        path = folder / name
        if path.is_file():
            return read_bytes(name, path.read_bytes())[0]
    return None


def _first(*values: Any) -> str:
    for value in values:
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _address_cells(address: dict[str, Any]) -> dict[str, str]:
    street = " ".join(p for p in (_first(address.get("address_1")), _first(address.get("address_2"))) if p)
    return {"city": _first(address.get("city")), "postcode": _first(address.get("postal_code")), "address": street}


def _pick_address(addresses: list[dict[str, Any]]) -> dict[str, str]:
    # HSDS 3 has one address table with a type; prefer physical, never use virtual ones.
    usable = [a for a in addresses if (a.get("address_type") or "physical") != "virtual"]
    usable.sort(key=lambda a: 0 if (a.get("address_type") or "physical") == "physical" else 1)
    return _address_cells(usable[0]) if usable else {}


def _org_cells(org: dict[str, Any], org_type: str, address: dict[str, str], services: list[str],
               phone: str) -> dict[str, str]:
    description = _first(org.get("description"))
    if services:
        offer = "Angebote: " + "; ".join(services)
        description = f"{description}\n{offer}" if description else offer
    hsds_id = _first(org.get("id"))
    return {
        "id": "hsds-" + hsds_id if hsds_id else "",
        "name": _first(org.get("name")),
        "type": _first(org.get("org_type"), org.get("type"), org_type),
        "city": address.get("city", ""),
        "postcode": address.get("postcode", ""),
        "address": address.get("address", ""),
        "website": _first(org.get("website"), org.get("url")),
        "founded": _first(org.get("year_incorporated")),
        "description": description,
        "email": _first(org.get("email")),
        "phone": phone,
        "synthetic": _first(org.get("synthetic")),
    }


def read_hsds(path: Path | str, *, org_type: str = "regular_service") -> list[Table]:
    """Read an HSDS folder (``organizations.csv`` and friends) or HSDS JSON file as organisations tables.

    Parameters
    ----------
    path
        A folder with ``organizations.csv``, optional ``locations.csv``, ``physical_addresses.csv``
        (HSDS 2) or ``addresses.csv`` (HSDS 3), ``services.csv``, ``phones.csv``; or a ``.json`` file.
    org_type
        Organisation type for organizations without an ``org_type``/``type`` field.

    Returns
    -------
    One table of kind ``organisations`` with msonet headers; row numbers are those of
    ``organizations.csv`` (or the JSON item numbers). Validate it with :class:`msonet.loaders.records.RecordParser`.
    """
    import datetime as dt

    path = Path(path)
    if path.is_file():
        modified = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
        return read_hsds_json(path.name, path.read_bytes(), org_type=org_type, modified=modified)
    orgs = _csv(path, *_ORG_FILES)
    if orgs is None:
        raise ValidationError([Problem(path.name, None, None, None,
                                       "einen HSDS-Ordner mit der Datei organizations.csv")])
    locations = _csv(path, "locations.csv", "location.csv")
    addresses = _csv(path, "physical_addresses.csv", "physical_address.csv", "addresses.csv", "address.csv")
    services = _csv(path, "services.csv", "service.csv")
    phones = _csv(path, "phones.csv", "phone.csv")

    org_of_location: dict[str, str] = {}
    location_order: dict[str, list[str]] = defaultdict(list)
    for cells in locations.rows if locations else []:
        if cells.get("organization_id"):
            org_of_location[cells.get("id", "")] = cells["organization_id"]
            location_order[cells["organization_id"]].append(cells.get("id", ""))
    addresses_of_location: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cells in addresses.rows if addresses else []:
        addresses_of_location[cells.get("location_id", "")].append(cells)
    service_names: dict[str, list[str]] = defaultdict(list)
    for cells in services.rows if services else []:
        if cells.get("organization_id") and cells.get("name", "").strip():
            service_names[cells["organization_id"]].append(cells["name"].strip())
    phone_of: dict[str, str] = {}
    for cells in phones.rows if phones else []:
        if cells.get("organization_id") and cells.get("number"):
            phone_of.setdefault(cells["organization_id"], cells["number"].strip())

    table = Table(orgs.name, list(HSDS_HEADERS), kind_hint="organisations",
                  modified=dt.date.fromtimestamp((path / orgs.name).stat().st_mtime).isoformat(),
                  problems=list(orgs.problems), warnings=list(orgs.warnings), file=orgs.name)
    for number, cells in orgs.numbered():
        org_id = cells.get("id", "")
        address: dict[str, str] = {}
        for location_id in location_order.get(org_id, []):
            address = _pick_address(addresses_of_location.get(location_id, []))
            if address:
                break
        table.add_row(number, _org_cells(cells, org_type, address, service_names.get(org_id, []),
                                         phone_of.get(org_id, "")))
    return [table]


def read_hsds_json(name: str, data: bytes, *, org_type: str = "regular_service",
                   modified: str | None = None) -> list[Table]:
    """Read HSDS JSON (a list of organization objects, an API page with ``contents``, or one object)."""
    text, _ = decode_text(data)
    payload = parse_json(name, text)
    table = Table(name, list(HSDS_HEADERS), kind_hint="organisations", modified=modified, file=name)
    for number, org in enumerate(_json_items(payload), start=1):
        if not isinstance(org, dict):
            table.problems.append(Problem(name, number, None, None, "ein HSDS-Organisationsobjekt ({...})"))
            continue
        address: dict[str, str] = {}
        for location in org.get("locations") or []:
            if not isinstance(location, dict):
                continue
            found = list(location.get("physical_addresses") or []) + list(location.get("addresses") or [])
            if isinstance(location.get("physical_address"), dict):
                found.append(location["physical_address"])
            address = _pick_address([a for a in found if isinstance(a, dict)])
            if address:
                break
        services = [s["name"].strip() for s in org.get("services") or []
                    if isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"].strip()]
        phone = next((str(p["number"]).strip() for p in org.get("phones") or []
                      if isinstance(p, dict) and p.get("number")), "")
        table.add_row(number, _org_cells(org, org_type, address, services, phone))
    return [table]
