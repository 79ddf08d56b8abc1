"""msonet – network explorer of migrant self-organisations (MSOs) and regular services in NRW.

The parts: :mod:`msonet.graph` (domain model, stores, analytics), :mod:`msonet.loaders` (files, geography,
demo data), :mod:`msonet.ui` (Streamlit pages), :mod:`msonet.cli` (the ``msonet`` command) and
:mod:`msonet.app` (the Streamlit app). The Python API for notebooks and scripts is :mod:`msonet.api`,
re-exported here: ``msonet.open_network(...)`` (see ``docs/api.md``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("msonet")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0+unbekannt"

from msonet.api import (  # noqa: E402 - the version first, the API may ask for it
    CoverageReport,
    IsolatedOrganisation,
    MeetingPlan,
    Network,
    NetworkStats,
    PartnerProposal,
    Rows,
    Tandem,
    open_network,
)

__all__ = ["CoverageReport", "IsolatedOrganisation", "MeetingPlan", "Network", "NetworkStats", "PartnerProposal",
           "Rows", "Tandem", "__version__", "open_network"]
