"""Find organisations that are probably the same: same municipality and nearly the same name."""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graph.vocabulary import normalise_term

__all__ = ["DuplicatePair", "likely_duplicates", "name_key", "RATIO_THRESHOLD", "TOKEN_THRESHOLD"]

#: Minimum difflib similarity of the cleaned names.
RATIO_THRESHOLD = 0.88
#: Minimum share of common words (Jaccard) of the cleaned names.
TOKEN_THRESHOLD = 0.75

# Legal forms and filler words that say nothing about which organisation is meant (normalised spelling).
_LEGAL_FORMS = [
    "eingetragener verein", "e v", "ev", "ggmbh i g", "ggmbh", "gmbh", "gug", "ug haftungsbeschraenkt", "ug",
    "gbr", "mbh", "eg", "kdoer", "k d oe r", "gemeinnuetzige", "gemeinnuetziger", "gemeinnuetziges",
]
_FILLER = {"der", "die", "das", "und", "fuer", "in", "im", "von", "e", "v", "zu", "zur", "zum", "am", "an"}

# Tokens shared by more names than this in one municipality are too common to suggest a pair alone.
_COMMON_TOKEN_LIMIT = 50


@dataclass(frozen=True)
class DuplicatePair:
    """Two organisations that look like one, with a German explanation for the person who checks them."""

    first_id: str
    first_name: str
    second_id: str
    second_name: str
    city: str | None
    score: float
    reason: str
    existing: bool = False  # True when the second one is already in the store

    def __str__(self) -> str:
        return self.reason


def name_key(name: str, city: str | None = None) -> str:
    """Normalised name without legal form (``e.V.``, ``gGmbH`` ...), filler words and the city name."""
    text = f" {normalise_term(name)} "
    for form in _LEGAL_FORMS:
        text = text.replace(f" {form} ", " ")
    city_tokens = set(normalise_term(city).split()) if city else set()
    words = [t for t in text.split() if t not in _FILLER]
    # A name that is only the city name plus a legal form must not become empty.
    return " ".join(t for t in words if t not in city_tokens) or " ".join(words) or normalise_term(name)


def _props(record: Any) -> Mapping[str, Any]:
    if isinstance(record, Mapping):
        return record
    return {"id": record.id, "name": record.name, "ags": record.ags, "city": record.city}


@dataclass
class _Entry:
    id: str
    name: str
    city: str | None
    key: str
    compact: str
    tokens: frozenset[str]
    existing: bool
    chars: Counter[str]


_NUMBERS = re.compile(r"\d+")


def _compare(a: _Entry, b: _Entry) -> tuple[float, str] | None:
    if a.key == b.key:
        return 1.0, "gleicher Name ohne Rechtsform/Ortsangabe"
    numbers_a, numbers_b = _NUMBERS.findall(a.key), _NUMBERS.findall(b.key)
    if numbers_a and numbers_b and numbers_a != numbers_b:
        return None  # "Kita 12" and "Kita 14", "Verein 1009" and "Verein 10009" are different places
    union = a.tokens | b.tokens
    jaccard = len(a.tokens & b.tokens) / len(union) if union else 0.0
    if jaccard >= TOKEN_THRESHOLD:
        return jaccard, f"{round(jaccard * 100)} % gleiche Wörter im Namen"
    # Length alone bounds the ratio: skip the costly comparison when it cannot reach the threshold.
    la, lb = len(a.compact), len(b.compact)
    if 2 * min(la, lb) / (la + lb) < RATIO_THRESHOLD:
        return None
    # Shared characters bound the ratio too (difflib's quick_ratio), from counts made once per name:
    # far cheaper than building a SequenceMatcher for each of the many pairs in a large municipality.
    if 2 * sum((a.chars & b.chars).values()) / (la + lb) < RATIO_THRESHOLD:
        return None
    matcher = difflib.SequenceMatcher(None, a.compact, b.compact, autojunk=False)
    ratio = matcher.ratio()
    if ratio >= RATIO_THRESHOLD:
        return ratio, f"sehr ähnlicher Name ({round(ratio * 100)} % Übereinstimmung)"
    return None


def likely_duplicates(orgs: Iterable[Any], existing: Iterable[Any] = ()) -> list[DuplicatePair]:
    """Pairs of organisations in the same municipality whose names are (almost) the same.

    Names are compared after folding case, umlauts and punctuation and dropping legal forms
    (``e.V.``, ``gGmbH`` ...), filler words and the city name. A pair counts when the cleaned names are
    equal, share at least 75 % of their words, or reach a difflib ratio of 0.88. Only organisations with
    the same ``ags`` are compared, and within a municipality only names sharing a word or the first or
    last three letters, so large datasets stay fast.

    Parameters
    ----------
    orgs
        New organisations (:class:`graph.model.Organisation` or property dicts with id, name, ags, city).
    existing
        Organisations already in the store; compared with ``orgs`` but not with each other. A record
        with the same id as an existing one is an update, not a duplicate.

    Returns
    -------
    Pairs sorted by municipality, then score (highest first).
    """
    blocks: dict[str, list[_Entry]] = defaultdict(list)
    new_ids: set[str] = set()
    for flag, records in ((False, orgs), (True, existing)):
        for record in records:
            props = _props(record)
            ags, org_id = props.get("ags"), props["id"]
            if not ags or (flag and org_id in new_ids):
                continue
            if not flag:
                new_ids.add(org_id)
            name = props.get("name") or ""
            key = name_key(name, props.get("city"))
            compact = key.replace(" ", "")
            blocks[ags].append(_Entry(org_id, name, props.get("city"), key, compact, frozenset(key.split()), flag,
                                      Counter(compact)))
    pairs: list[DuplicatePair] = []
    for ags in sorted(blocks):
        entries = blocks[ags]
        if sum(not e.existing for e in entries) == 0:
            continue
        index: dict[str, list[int]] = defaultdict(list)
        for i, entry in enumerate(entries):
            for token in entry.tokens:
                index["w:" + token].append(i)
            index["p:" + entry.compact[:3]].append(i)
            index["s:" + entry.compact[-3:]].append(i)
        candidates: set[tuple[int, int]] = set()
        for members in index.values():
            if len(members) > _COMMON_TOKEN_LIMIT or len(members) < 2:
                continue
            for x, i in enumerate(members):
                for j in members[x + 1:]:
                    if i != j and not (entries[i].existing and entries[j].existing):
                        candidates.add((min(i, j), max(i, j)))
        found = []
        for i, j in sorted(candidates):
            a, b = entries[i], entries[j]
            if a.id == b.id:
                continue
            result = _compare(a, b)
            if result is None:
                continue
            score, why = result
            if a.existing:
                a, b = b, a
            where = f" in {a.city}" if a.city else ""
            note = " (bereits im Speicher)" if b.existing else ""
            reason = (f"„{a.name}“ ({a.id}) und „{b.name}“ ({b.id}){note}{where}: {why} – vermutlich dieselbe "
                      "Organisation. Bitte prüfen und ggf. eine Zeile löschen oder dieselbe Id verwenden.")
            found.append(DuplicatePair(a.id, a.name, b.id, b.name, a.city, round(score, 3), reason, b.existing))
        found.sort(key=lambda p: (-p.score, p.first_id, p.second_id))
        pairs.extend(found)
    return pairs
