"""msonet – network explorer of migrant self-organisations (MSOs) and regular services in NRW.

The parts: :mod:`msonet.graph` (domain model, stores, analytics), :mod:`msonet.loaders` (files, geography,
demo data), :mod:`msonet.ui` (Streamlit pages), :mod:`msonet.cli` (the ``msonet`` command) and
:mod:`msonet.app` (the Streamlit app). The Python API for notebooks and scripts is :mod:`msonet.api`,
re-exported here: ``msonet.open_network(...)`` (see ``docs/api.md``).
"""

from __future__ import annotations

from msonet.api import (
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


def __getattr__(name: str) -> str:
    """``msonet.__version__``, read from the installed package's metadata when first asked for: reading it
    costs about 30 ms (importlib.metadata), which every ``msonet`` command would otherwise pay."""
    if name != "__version__":
        raise AttributeError(f"module 'msonet' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("msonet")
    except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
        found = "0+unbekannt"
    globals()["__version__"] = found
    return found
