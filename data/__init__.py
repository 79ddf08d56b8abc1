"""msonet's shipped data as package data (``msonet.data``): NRW geography, demo and example files.

Read through :func:`path`, which works in a clone, an editable install and an installed wheel alike.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["path"]


def path(*parts: str) -> Path:
    """Path of a shipped data file or folder, e.g. ``path("nrw", "districts.csv")``.

    The package is installed as files (never zipped; see pyproject.toml), so the resource is a real path.
    """
    resource = files(__name__).joinpath(*parts)
    return Path(str(resource))
