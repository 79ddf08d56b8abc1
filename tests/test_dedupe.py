"""Tests of loaders.dedupe: same municipality, similar names, legal forms ignored."""

from __future__ import annotations

import pytest

from graph.model import Organisation
from loaders.dedupe import likely_duplicates, name_key


def org(org_id, name, ags="05315000", city="Köln"):
    return Organisation(org_id, name, "mso", city=city, ags=ags)


@pytest.mark.parametrize("name, city, key", [
    ("Coach e.V.", None, "coach"),
    ("Coach e. V. Köln", "Köln", "coach"),
    ("Verein der Freunde gGmbH", None, "verein freunde"),
    ("Köln e.V.", "Köln", "koeln"),   # never empty
    ("Bildungswerk UG (haftungsbeschränkt)", None, "bildungswerk"),
])
def test_name_key(name, city, key):
    assert name_key(name, city) == key


def test_pairs_with_reasons():
    orgs = [org("a", "Coach e.V."), org("b", "Coach Köln"), org("c", "Kulturverein Anatolien"),
            org("d", "Kulturverein Anatolein"), org("e", "Jugendzentrum Nord"),
            org("f", "Coach e.V.", "05314000", "Bonn")]
    pairs = likely_duplicates(orgs)
    assert [(p.first_id, p.second_id) for p in pairs] == [("a", "b"), ("c", "d")]
    assert pairs[0].score == 1.0 and "gleicher Name ohne Rechtsform" in pairs[0].reason
    assert "sehr ähnlicher Name" in pairs[1].reason and 0.88 <= pairs[1].score < 1
    assert pairs[0].city == "Köln" and not pairs[0].existing


def test_word_overlap():
    pairs = likely_duplicates([org("a", "Interkulturelles Zentrum Mülheim Süd Begegnung"),
                               org("b", "Begegnung Interkulturelles Zentrum Süd")], ())
    assert len(pairs) == 1 and "gleiche Wörter" in pairs[0].reason


def test_against_existing_records():
    existing = [{"id": "x1", "name": "Ronahi e.V.", "ags": "05911000", "city": "Bochum"},
                {"id": "x2", "name": "Ronahi", "ags": "05911000", "city": "Bochum"}]
    new = [org("n1", "Ronahi e. V.", "05911000", "Bochum"), org("x1", "Ronahi e.V.", "05911000", "Bochum")]
    pairs = likely_duplicates(new, existing)
    # The new x1 replaces the stored x1 (an update, not a duplicate); stored pairs are not compared.
    assert sorted((p.first_id, p.second_id, p.existing) for p in pairs) == [
        ("n1", "x1", False), ("n1", "x2", True), ("x1", "x2", True)]


def test_different_names_and_places_do_not_pair():
    orgs = [org("a", "Caritasverband"), org("b", "Diakonie"), org("c", "Caritasverband", "05314000", "Bonn"),
            Organisation("d", "Caritasverband", "mso")]   # no place: not compared
    assert likely_duplicates(orgs) == []


def test_large_block_stays_correct():
    orgs = [org(f"o{i}", f"Verein Nummer {i:04d} Sonnenblume{i}") for i in range(600)]
    orgs.append(org("dup", "Verein Nummer 0007 Sonnenblume7 e.V."))
    pairs = likely_duplicates(orgs)
    assert [(p.first_id, p.second_id) for p in pairs] == [("dup", "o7")] or \
        [(p.first_id, p.second_id) for p in pairs] == [("o7", "dup")]


def test_names_that_differ_only_in_their_numbers_are_not_duplicates():
    orgs = [{"id": "a", "name": "Verein Nummer 1009", "ags": "05315000", "city": "Köln"},
            {"id": "b", "name": "Verein Nummer 10009", "ags": "05315000", "city": "Köln"},
            {"id": "c", "name": "Kita 12", "ags": "05315000", "city": "Köln"},
            {"id": "d", "name": "Kita 12 e.V.", "ags": "05315000", "city": "Köln"}]
    assert [(p.first_id, p.second_id) for p in likely_duplicates(orgs)] == [("c", "d")]
