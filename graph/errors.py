"""One error tree for msonet; every message tells the user what to check or fix (in German)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GraphError", "Problem", "ValidationError", "StoreError", "StoreUnavailable", "NotFound", "Ambiguous"]


class GraphError(Exception):
    """Base class of all errors msonet raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One invalid cell or row: where it is, what was there, what was expected (German)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"Zeile {self.row}")
        if self.column:
            where.append(f"Spalte „{self.column}“")
        value = "" if self.value is None else f": Wert „{_shorten(self.value)}“"
        return f"{', '.join(where)}{value} – {self.expected}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "row": self.row, "column": self.column, "value": self.value,
                "expected": self.expected}


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class ValidationError(GraphError):
    """Input did not pass validation; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:50]]
        more = len(self.problems) - len(lines)
        if more > 0:
            lines.append(f"… und {more} weitere Probleme")
        super().__init__(f"{len(self.problems)} Problem(e) in den Eingabedaten:\n" + "\n".join(lines))


class StoreError(GraphError):
    """The graph store could not be read or written."""


class StoreUnavailable(StoreError):
    """The graph database server cannot be reached or refused the login."""


class NotFound(GraphError):
    """A named organisation, event or place does not exist; carries suggestions."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        self.suggestions = list(suggestions or [])
        if self.suggestions:
            message += " Meinten Sie: " + ", ".join(self.suggestions) + "?"
        super().__init__(message)


class Ambiguous(NotFound):
    """A name matches more than one record; carries the candidates as suggestions."""
