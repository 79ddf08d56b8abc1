"""msonet – network explorer of migrant self-organisations (MSOs) and regular services in NRW.

The parts: :mod:`msonet.graph` (domain model, stores, analytics), :mod:`msonet.loaders` (files, geography,
demo data), :mod:`msonet.ui` (Streamlit pages), :mod:`msonet.cli` (the ``msonet`` command) and
:mod:`msonet.app` (the Streamlit app).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("msonet")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0+unbekannt"

__all__ = ["__version__"]
