"""The two-way network view of the page „Netzwerk“ (a Streamlit component without build step).

index.html in this folder speaks Streamlit's component messages itself and draws with the vis-network build
that pyvis ships (its text comes with the arguments, so nothing is fetched from elsewhere). A click on a node
sends ``{"id": node, "n": count}`` back to the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["FOLDER", "network_view"]

FOLDER = Path(__file__).resolve().parent


def network_view(data: dict[str, Any], *, key: str, on_change: Any = None) -> Any:
    """Draw ``data`` (see ``graph.render.NetworkView.data``); returns the last click (or ``None``).

    Declared on every call from this module: Streamlit names a component after the module that declares it,
    and the pages themselves run as scripts without one.
    """
    import streamlit.components.v1 as components

    from msonet.graph.render import vis_library

    view = components.declare_component("msonet_netzwerk", path=str(FOLDER))
    return view(vis=vis_library(), key=key, on_change=on_change, default=None, **data)
