"""Tests of loaders.dedupe: same municipality, similar names, legal forms ignored."""

from __future__ import annotations

import pytest

from msonet.graph.model import Organisation
from msonet.loaders.dedupe import likely_duplicates, name_key


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
    # x1 loaded again unchanged is no new record: its pair with x2 is known (issue 14.11); stored pairs are
    # not compared with each other
    assert sorted((p.first_id, p.second_id, p.existing) for p in pairs) == [("n1", "x1", True), ("n1", "x2", True)]
    # a renamed x1 is compared again
    renamed = likely_duplicates([org("x1", "Ronahi Bochum e.V.", "05911000", "Bochum")], existing)
    assert [(p.first_id, p.second_id) for p in renamed] == [("x1", "x2")]


def test_words_that_tell_organisations_apart_count_against_a_match():
    """Issue 14.11: another carrier, Stadt vs Kreis, another part of town or number: no duplicate."""
    cases = [("Integrationsagentur AWO Düsseldorf – Bürgerschaftliches Engagement",
              "Integrationsagentur DRK Düsseldorf – Bürgerschaftliches Engagement"),
             ("Servicestelle Antidiskriminierungsarbeit DRK Köln", "Servicestelle Antidiskriminierungsarbeit AWO Köln"),
             ("Kommunales Integrationszentrum StädteRegion Aachen", "Kommunales Integrationszentrum Stadt Aachen"),
             ("Seniorennetzwerk Köln-Mitte", "Seniorennetzwerk Köln-Nord"),
             ("Familienzentrum Regenbogen", "Familienzentrum Regenbogen II"),
             ("Türkischer Elternverein Köln", "Türkischer Elternverein Köln-Kalk")]
    for first, second in cases:
        assert likely_duplicates([org("a", first), org("b", second)]) == [], (first, second)
    # the carrier or the level named in one name only still pairs
    for first, second in (("Caritasverband für die Stadt Köln", "Caritasverband Köln"),
                          ("Integrationsagentur Caritas Köln", "Integrationsagentur des Caritasverbandes Köln"),
                          ("Sportverein Anadolu Köln", "SV Anadolu Köln")):
        assert len(likely_duplicates([org("a", first), org("b", second)])) == 1, (first, second)


def test_precision_and_recall_on_the_labelled_pairs():
    """The figures in docs/analytics.md (python -m bench.dedupe_quality prints them and every miss)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.dedupe_quality import PAIRS, measure

    tuned = measure(PAIRS)
    assert (tuned.true_positives, tuned.false_positives, tuned.false_negatives) == (43, 1, 1)
    held_out = measure(PAIRS.with_name("heldout_pairs.csv"))
    assert (held_out.true_positives, held_out.false_positives, held_out.false_negatives) == (21, 1, 0)


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


def test_pair_filter_keeps_every_pair_that_compares_alike(monkeypatch):
    """The numpy filter of candidate pairs only saves work: without it the same pairs come out."""
    import random

    import msonet.loaders.dedupe as dedupe

    rng = random.Random(3)
    words = ["Verein", "Kita", "Sonne", "AWO", "DRK", "Nord", "Süd", "Jugend", "Kultur", "e.V.", "12", "14", "Mitte",
             "Stadt", "Kreis", "Familie", "gGmbH", "SV", "Köln-Ost", "Beratung", "Frauen", "III", "Миръ"]

    def name() -> str:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.5:
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice("abcäöü -") + text[i + 1:]
        return text

    cases = []
    for _ in range(60):
        orgs = [org(f"o{i}", name(), rng.choice(["05315000", "05314000"])) for i in range(rng.randint(2, 80))]
        cut = rng.randint(0, len(orgs))
        cases.append((orgs[:cut], [o.properties() | {"id": o.id} for o in orgs[max(cut - 2, 0):]]))
    filtered = [likely_duplicates(new, old) for new, old in cases]
    monkeypatch.setattr(dedupe, "_possible", lambda entries, pairs: pairs)
    assert filtered == [likely_duplicates(new, old) for new, old in cases]
    assert sum(map(len, filtered)) > 20


def test_pair_filter_is_exactly_the_two_cheap_tests():
    """The vectorised filter keeps a pair exactly when the word overlap or both difflib bounds of ``_compare``
    pass (computed here pair by pair in Python)."""
    import random
    from itertools import combinations

    import msonet.loaders.dedupe as dedupe

    rng = random.Random(8)
    words = ["Verein", "Kita", "Sonne", "AWO", "Nord", "Jugend", "Kultur", "e.V.", "12", "Mitte", "Frauen", "Миръ",
             "Beratung", "Familie", "Sport", "Kunst"]
    entries = [dedupe._entry(f"o{i}", " ".join(rng.sample(words, rng.randint(1, 4))), "Köln", False)
               for i in range(120)]
    entries.append(dedupe._entry("empty", "e.V.", "Köln", False))  # no words left after cleaning
    pairs = list(combinations(range(len(entries)), 2))
    rng.shuffle(pairs)

    def passes(a: dedupe._Entry, b: dedupe._Entry) -> bool:
        union = a.tokens | b.tokens
        la, lb = len(a.compact), len(b.compact)
        if la + lb == 0 or (union and len(a.tokens & b.tokens) / len(union) >= dedupe.TOKEN_THRESHOLD):
            return True
        return (2 * min(la, lb) / (la + lb) >= dedupe.RATIO_THRESHOLD
                and 2 * sum((a.chars & b.chars).values()) / (la + lb) >= dedupe.RATIO_THRESHOLD)

    kept = dedupe._possible(entries, pairs)
    assert kept == [(i, j) for i, j in pairs if passes(entries[i], entries[j])]
    assert 0 < len(kept) < len(pairs)
