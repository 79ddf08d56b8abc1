"""Precision and recall of the likely-duplicate detector on the labelled pairs in tests/data/duplicates.

Run: ``python -m bench.dedupe_quality`` (prints the figures and every wrong decision). Each labelled row
is two organisation names in one town and whether they are the same organisation (ja/nein); the detector
sees the two as one load into an empty store, as when a file lists both.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from msonet.graph.model import Organisation
from msonet.loaders.dedupe import likely_duplicates
from msonet.loaders.gazetteer import default_gazetteer

__all__ = ["PAIRS", "Quality", "measure", "main"]

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "duplicates" / "labelled_pairs.csv"


@dataclass
class Quality:
    """Counts of the detector's decisions against the labels, and the wrong ones."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        same = self.true_positives + self.false_negatives
        return self.true_positives / same if same else 1.0


def measure(path: Path = PAIRS) -> Quality:
    """Run :func:`msonet.loaders.dedupe.likely_duplicates` on every labelled pair of ``path``."""
    gazetteer = default_gazetteer()
    quality = Quality()
    with open(path, encoding="utf-8", newline="") as fh:
        for number, row in enumerate(csv.DictReader(fh, delimiter=";"), start=2):
            place = gazetteer.resolve(row["city"])
            a, b = (Organisation(id=f"p{number}-{side}", name=row[f"name_{side}"], org_type="mso", city=place.name,
                                 ags=place.ags) for side in ("a", "b"))
            flagged = bool(likely_duplicates([a, b]))
            same = row["same"].strip() == "ja"
            if flagged and same:
                quality.true_positives += 1
            elif flagged:
                quality.false_positives += 1
                quality.wrong.append(f"Zeile {number}: fälschlich gemeldet: {a.name} / {b.name} ({row['note']})")
            elif same:
                quality.false_negatives += 1
                quality.wrong.append(f"Zeile {number}: übersehen: {a.name} / {b.name} ({row['note']})")
            else:
                quality.true_negatives += 1
    return quality


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0]) if argv else PAIRS
    q = measure(path)
    total = q.true_positives + q.false_positives + q.false_negatives + q.true_negatives
    print(f"{total} Paare ({q.true_positives + q.false_negatives} dieselbe Organisation, "
          f"{q.false_positives + q.true_negatives} verschiedene)")
    print(f"richtig gemeldet {q.true_positives}, fälschlich gemeldet {q.false_positives}, "
          f"übersehen {q.false_negatives}, richtig nicht gemeldet {q.true_negatives}")
    print(f"Präzision {q.precision:.2f}, Trefferquote (Recall) {q.recall:.2f}")
    for line in q.wrong:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
