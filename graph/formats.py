"""German number and date formats, one rule for app, command line and exports (``1.968``, ``13,6 km``)."""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["fmt_number", "fmt_decimal", "fmt_km", "fmt_percent", "fmt_date", "fmt_value", "parse_date"]

#: What an absent value looks like in tables and texts.
MISSING = "–"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: int | float | None, digits: int = 0) -> str:
    """A number with thousands dot and decimal comma: ``4907`` -> ``"4.907"``, ``(3.456, 1)`` -> ``"3,5"``.

    ``digits`` places after the comma are always shown (``fmt_number(2.0, 1)`` -> ``"2,0"``).

    Examples
    --------
    >>> fmt_number(1968)
    '1.968'
    >>> fmt_number(11.0)
    '11'
    >>> fmt_number(1234567.891, 2)
    '1.234.567,89'
    """
    if _missing(value):
        return MISSING
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_decimal(value: int | float | None, max_digits: int = 2) -> str:
    """A number with up to ``max_digits`` places after the comma, trailing zeros dropped.

    Examples
    --------
    >>> fmt_decimal(0.79)
    '0,79'
    >>> fmt_decimal(11.0)
    '11'
    >>> fmt_decimal(0.003, 5)
    '0,003'
    """
    if _missing(value):
        return MISSING
    text = fmt_number(value, max_digits)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return "0" if text == "-0" else text


def fmt_km(value: int | float | None, digits: int = 1) -> str:
    """A distance: ``13.6`` -> ``"13,6 km"``."""
    return MISSING if _missing(value) else f"{fmt_number(value, digits)} km"


def fmt_percent(share: int | float | None, digits: int = 0, *, of_one: bool = True) -> str:
    """A share as percent with a narrow space: ``0.4512`` -> ``"45 %"``.

    ``of_one=False`` takes ``share`` as already in percent (``45.1`` -> ``"45 %"``).
    """
    if share is None or _missing(share):
        return MISSING
    return f"{fmt_number(share * 100 if of_one else share, digits)}\u202f%"


def parse_date(value: object) -> dt.date | None:
    """A date from a ``date``/``datetime`` or ISO text (``2026-11-01``); ``None`` when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def fmt_date(value: object) -> str:
    """A date as ``dd.mm.yyyy``; text that is no ISO date is returned unchanged, nothing as ``–``.

    Examples
    --------
    >>> fmt_date("2026-11-01")
    '01.11.2026'
    >>> fmt_date(None)
    '–'
    """
    day = parse_date(value)
    if day is not None:
        return day.strftime("%d.%m.%Y")
    return MISSING if _missing(value) or value == "" else str(value)


def fmt_value(value: object, max_digits: int = 2) -> str:
    """Any cell value as German text: numbers as :func:`fmt_decimal`, yes/no, dates, lists joined with ``, ``."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int):
        return fmt_number(value)
    if isinstance(value, float):
        return fmt_decimal(value, max_digits)
    if isinstance(value, dt.date):
        return fmt_date(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(fmt_value(v, max_digits) for v in value)
    return str(value)
