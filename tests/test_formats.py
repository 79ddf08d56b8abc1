"""Tests of the German number and date formats shared by app, command line and exports."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from msonet.graph.formats import fmt_date, fmt_decimal, fmt_km, fmt_number, fmt_percent, fmt_value


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (1968, 0, "1.968"), (4907.0, 0, "4.907"), (11.0, 0, "11"), (0.0, 0, "0"), (3.456, 1, "3,5"),
    (1234567.891, 2, "1.234.567,89"), (-1500, 0, "-1.500"), (2.0, 1, "2,0"), (None, 0, "–"), (math.nan, 1, "–"),
])
def test_fmt_number(value, digits, expected):
    assert fmt_number(value, digits) == expected


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (0.79, 2, "0,79"), (11.0, 2, "11"), (11.45, 2, "11,45"), (0.003, 5, "0,003"), (13.60, 2, "13,6"),
    (12345.5, 2, "12.345,5"), (-0.0001, 2, "0"),
])
def test_fmt_decimal_drops_trailing_zeros(value, digits, expected):
    assert fmt_decimal(value, digits) == expected


def test_km_percent_date():
    assert fmt_km(13.6) == "13,6 km" and fmt_km(None) == "–"
    assert fmt_percent(0.4512) == "45\u202f%" and fmt_percent(45.1, 1, of_one=False) == "45,1\u202f%"
    assert fmt_date("2026-11-01") == "01.11.2026" and fmt_date(dt.date(2015, 9, 17)) == "17.09.2015"
    assert fmt_date("2026-11-01T10:00:00") == "01.11.2026"
    assert fmt_date("Herbst 2026") == "Herbst 2026" and fmt_date(None) == "–" and fmt_date("") == "–"


def test_fmt_value():
    assert fmt_value(True) == "ja" and fmt_value(False) == "nein" and fmt_value(None) == ""
    assert fmt_value(1968) == "1.968" and fmt_value(0.79) == "0,79" and fmt_value([1.5, 2]) == "1,5, 2"
    assert fmt_value("05911") == "05911" and fmt_value(dt.date(2026, 11, 1)) == "01.11.2026"
