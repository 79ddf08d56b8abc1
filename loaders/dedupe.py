"""Find organisations that are probably the same: same municipality and nearly the same name."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, combinations
from typing import Any

import numpy as np

from msonet.graph.vocabulary import normalise_term

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
_FILLER = {"der", "die", "das", "des", "dem", "den", "und", "fuer", "f", "in", "im", "von", "e", "v", "zu", "zur",
           "zum", "am", "an"}

# Words that tell organisations apart although the rest of the name is the same: the carrier (Träger), the
# administrative level, the part of town, a number. Spellings map to one value per class (normalised).
_CARRIERS = {
    "awo": "awo", "arbeiterwohlfahrt": "awo", "drk": "drk", "caritas": "caritas", "caritasverband": "caritas",
    "caritasverbandes": "caritas", "diakonie": "diakonie", "diakonisches": "diakonie", "diakonischen": "diakonie",
    "paritaetische": "paritaet", "paritaetischer": "paritaet", "paritaetischen": "paritaet", "invia": "invia",
    "skf": "skf", "skm": "skm", "malteser": "malteser", "johanniter": "johanniter", "vhs": "vhs",
    "volkshochschule": "vhs", "ib": "ib", "ev": "evangelisch", "evangelisch": "evangelisch",
    "evangelische": "evangelisch", "evangelischer": "evangelisch", "kath": "katholisch",
    "katholisch": "katholisch", "katholische": "katholisch", "katholischer": "katholisch",
    "jobcenter": "jobcenter", "stadt": "stadt", "kreis": "kreis", "landkreis": "kreis",
    "staedteregion": "staedteregion",
}
# Several words naming one carrier, joined before the name is split into words.
_PHRASES = {"in via": "invia", "deutsches rotes kreuz": "drk", "rotes kreuz": "drk", "internationaler bund": "ib",
            "der paritaetische": "paritaetische", "rhein kreis": "kreis", "rhein erft kreis": "kreis",
            "rhein sieg kreis": "kreis", "ostwestfalen lippe": "owl"}
_PHRASE_PATTERN = re.compile(r" (" + "|".join(sorted(map(re.escape, _PHRASES), key=len, reverse=True)) + r")(?= )")
# Short forms that mean the same as a long word.
_SYNONYMS = {"sv": "sportverein", "mso": "migrantenselbstorganisation", "jmd": "jugendmigrationsdienst"}
# The administrative level only tells apart when both names state one ("Stadt" vs "Kreis"); alone it is
# often just added ("Caritasverband für die Stadt Köln"), so it is left out of the name comparison.
_ADMIN = {"stadt", "kreis", "staedteregion"}
_CARRIER_NAMES = frozenset(_CARRIERS.values()) - _ADMIN
_QUARTERS = {"nord", "sued", "ost", "west", "mitte", "nordost", "nordwest", "suedost", "suedwest", "innenstadt",
             "zentrum"}
_ROMAN = {"ii", "iii", "iv", "vi", "vii", "viii", "ix"}

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
    """Normalised name without legal form (``e.V.``, ``gGmbH`` ...), filler words and the city name.

    Carrier spellings become one word (``Caritasverband`` -> ``caritas``, ``Deutsches Rotes Kreuz`` ->
    ``drk``) and a few short forms their long word (``SV`` -> ``sportverein``).
    """
    text = f" {normalise_term(name)} "
    for form in _LEGAL_FORMS:
        text = text.replace(f" {form} ", " ")
    text = _PHRASE_PATTERN.sub(lambda m: f" {_PHRASES[m.group(1)]} ", text)
    city_tokens = _city_tokens(city) if city else frozenset()
    words = [_SYNONYMS.get(_CARRIERS.get(t, t), _CARRIERS.get(t, t)) for t in text.split() if t not in _FILLER]
    # A name that is only the city name plus a legal form must not become empty.
    return " ".join(t for t in words if t not in city_tokens) or " ".join(words) or normalise_term(name)


@functools.lru_cache(maxsize=1024)
def _city_tokens(city: str) -> frozenset[str]:
    return frozenset(normalise_term(city).split())


def _quarter(name: str, city: str | None) -> str | None:
    """The part of town joined to the city name by a hyphen (``Dortmund-Hörde`` -> ``hoerde``), if any."""
    if not city or "-" not in name:
        return None
    match = re.search(re.escape(unicodedata.normalize("NFC", city).casefold()) + r"-(\w+)",
                      unicodedata.normalize("NFC", name).casefold())
    return normalise_term(match.group(1)) if match else None


def _markers(key: str, quarter: str | None) -> dict[str, frozenset[str]]:
    """The words of a name key that tell organisations apart, by class."""
    tokens = key.split()
    return {
        "carrier": frozenset(t for t in tokens if t in _CARRIER_NAMES),
        "admin": frozenset(t for t in tokens if t in _ADMIN),
        "quarter": frozenset([t for t in tokens if t in _QUARTERS] + ([quarter] if quarter else [])),
        "number": frozenset(t for t in tokens if t.isdigit() or t in _ROMAN),
    }


def _distinguished(a: _Entry, b: _Entry) -> str | None:
    """Why two similar names still mean two organisations (German), or ``None``.

    Two different values of one class (AWO/DRK, Stadt/Kreis, Nord/Süd, 12/14) always tell them apart; a
    part of town or a number in one name only does too (``Kita Sonne`` / ``Kita Sonne Mitte``); a carrier
    or an administrative level in one name only does not (it is often just left out).
    """
    for kind in ("carrier", "admin", "quarter", "number"):
        mine, theirs = a.markers[kind], b.markers[kind]
        if mine == theirs:
            continue
        if mine and theirs:
            return kind
        if kind in ("quarter", "number"):
            return kind
    return None


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
    markers: dict[str, frozenset[str]]
    numbers: list[str]


_NUMBERS = re.compile(r"\d+")


def _entry(org_id: str, name: str, city: str | None, existing: bool) -> _Entry:
    full_key = name_key(name, city)
    # the administrative level is compared as a marker, not as a word of the name
    key = " ".join(t for t in full_key.split() if t not in _ADMIN) or full_key
    compact = key.replace(" ", "")
    return _Entry(org_id, name, city, key, compact, frozenset(key.split()), existing, Counter(compact),
                  _markers(full_key, _quarter(name, city)), _NUMBERS.findall(key))


def _compare(a: _Entry, b: _Entry) -> tuple[float, str] | None:
    if _distinguished(a, b):
        return None
    if a.key == b.key:
        return 1.0, "gleicher Name ohne Rechtsform/Ortsangabe"
    numbers_a, numbers_b = a.numbers, b.numbers
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


#: Candidate pairs of one municipality filtered at once, to bound the memory of the character counts.
_PAIRS_AT_ONCE = 20_000


def _shared_words(first: Any, second: Any, sizes: Any, offsets: Any, flat: Any, owned: Any, span: int) -> Any:
    """For each pair ``(first[i], second[i])`` the number of words both names have (numpy, no loop per pair)."""
    counts = sizes[first]
    pair = np.repeat(np.arange(len(first), dtype=np.int64), counts)
    starts = np.repeat(offsets[first] - (np.cumsum(counts) - counts), counts)
    words = flat[starts + np.arange(len(pair), dtype=np.int64)]
    probe = second[pair] * span + words
    at = np.minimum(np.searchsorted(owned, probe), max(len(owned) - 1, 0))
    found = owned[at] == probe if len(owned) else np.zeros(len(probe), dtype=bool)
    return np.bincount(pair[found], minlength=len(first))


def _possible(entries: list[_Entry], pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ``pairs`` (indexes into ``entries``, in order) that :func:`_compare` may find alike.

    A pair can only be alike when its names share at least 75 % of their words or when it passes both
    cheap bounds of the difflib ratio in :func:`_compare` (length and shared characters); equal names do
    both. These tests are made here for all pairs of a municipality at once (numpy: character counts and
    sorted word numbers, the same integer counts and float divisions as :func:`_compare`), so the many pairs that fail
    them (most candidates in a large municipality) cost no comparison in Python.
    """
    if not pairs:
        return pairs
    n = len(entries)
    lengths = np.array([len(e.compact) for e in entries], dtype=np.int64)
    codes = np.frombuffer("".join(e.compact for e in entries).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    alphabet, columns = np.unique(codes, return_inverse=True)
    width = max(len(alphabet), 1)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    chars = np.bincount(rows * width + columns.reshape(-1), minlength=n * width).reshape(n, width).astype(np.int32)
    vocabulary: dict[str, int] = {}
    word_rows = [[vocabulary.setdefault(t, len(vocabulary)) for t in e.tokens] for e in entries]
    sizes = np.array([len(r) for r in word_rows], dtype=np.int64)
    offsets = np.cumsum(sizes) - sizes  # where each name's words start in ``flat``
    flat = np.fromiter(chain.from_iterable(word_rows), np.int64, count=int(sizes.sum()))
    # every (name, word) as one sorted number: a pair's shared words are its first name's words found there
    # under the second name (a name's words are a set, so each counts once)
    span = max(len(vocabulary), 1)
    owned = np.sort(np.repeat(np.arange(n, dtype=np.int64), sizes) * span + flat)
    index = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    keep = np.empty(len(pairs), dtype=bool)
    for start in range(0, len(pairs), _PAIRS_AT_ONCE):
        first, second = index[start:start + _PAIRS_AT_ONCE, 0], index[start:start + _PAIRS_AT_ONCE, 1]
        la, lb = lengths[first], lengths[second]
        total = np.maximum(la + lb, 1)
        shared = np.minimum(chars[first], chars[second]).sum(axis=1)
        common = _shared_words(first, second, sizes, offsets, flat, owned, span)
        union = sizes[first] + sizes[second] - common
        keep[start:start + _PAIRS_AT_ONCE] = (
            ((union > 0) & (common / np.maximum(union, 1) >= TOKEN_THRESHOLD))
            | ((2 * np.minimum(la, lb) / total >= RATIO_THRESHOLD) & (2 * shared / total >= RATIO_THRESHOLD))
            | (la + lb == 0))
    return [pair for pair, ok in zip(pairs, keep.tolist(), strict=True) if ok]


def likely_duplicates(orgs: Iterable[Any], existing: Iterable[Any] = ()) -> list[DuplicatePair]:
    """Pairs of organisations in the same municipality whose names are (almost) the same.

    Names are compared after folding case, umlauts and punctuation and dropping legal forms
    (``e.V.``, ``gGmbH`` ...), filler words and the city name. A pair counts when the cleaned names are
    equal, share at least 75 % of their words, or reach a difflib ratio of 0.88 -- unless a word tells
    the two apart (:func:`_distinguished`: another carrier, Stadt/Kreis, part of town, number).
    Precision and recall on labelled pairs: ``python -m bench.dedupe_quality`` (docs/analytics.md).
    Only organisations with the same ``ags`` are compared, and within a municipality only names sharing
    a word or the first or last three letters, so large datasets stay fast.

    Parameters
    ----------
    orgs
        New organisations (:class:`msonet.graph.model.Organisation` or property dicts with id, name, ags, city).
    existing
        Organisations already in the store; compared with ``orgs`` but not with each other. A record
        with the same id as an existing one is an update, not a duplicate; one with the same id, name and
        municipality changes nothing, so its pairs (reported when it was first loaded) are not repeated.

    Returns
    -------
    Pairs sorted by municipality, then score (highest first).
    """
    blocks: dict[str, list[_Entry]] = defaultdict(list)
    stored = {props["id"]: props for props in map(_props, existing)}
    new_ids: set[str] = set()
    for record in orgs:
        props = _props(record)
        ags, org_id = props.get("ags"), props["id"]
        old = stored.get(org_id)
        if not ags or org_id in new_ids:
            continue
        if old is not None and (old.get("name"), old.get("ags")) == (props.get("name"), ags):
            continue  # loaded again unchanged: its pairs with stored organisations were reported before
        new_ids.add(org_id)
        blocks[ags].append(_entry(org_id, props.get("name") or "", props.get("city"), False))
    for org_id, props in stored.items():
        # only municipalities with a new organisation are compared: the others need no entries
        if props.get("ags") in blocks and org_id not in new_ids:
            blocks[props["ags"]].append(_entry(org_id, props.get("name") or "", props.get("city"), True))
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
        mixed = any(e.existing for e in entries)
        for members in index.values():
            if len(members) > _COMMON_TOKEN_LIMIT or len(members) < 2:
                continue
            if not mixed:  # only new ones: every pair of members (ascending, each entry once per key)
                candidates.update(combinations(members, 2))
                continue
            for x, i in enumerate(members):
                for j in members[x + 1:]:
                    if i != j and not (entries[i].existing and entries[j].existing):
                        candidates.add((min(i, j), max(i, j)))
        found = []
        for i, j in _possible(entries, sorted(candidates)):
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
