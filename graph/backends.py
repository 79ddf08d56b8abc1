"""Open the store the settings point to: embedded by default, Neo4j or FalkorDB when configured."""

from __future__ import annotations

import os

from msonet.graph.settings import Settings
from msonet.graph.store import EmbeddedStore, GraphStore

__all__ = ["open_store", "describe_backend"]


def open_store(settings: Settings) -> GraphStore:
    """Return the store for ``settings``; raises ``StoreUnavailable`` with a German hint if unreachable."""
    if settings.backend == "neo4j":
        from msonet.graph.cypher_store import connect_neo4j

        # backend == "neo4j" means the URI is set (see Settings.backend)
        assert settings.neo4j_uri is not None
        return connect_neo4j(settings.neo4j_uri, settings.neo4j_username, settings.neo4j_password,
                             settings.neo4j_database)
    if settings.backend == "falkordb":
        from msonet.graph.cypher_store import connect_falkordb

        # backend == "falkordb" means the URL is set (see Settings.backend)
        assert settings.falkordb_url is not None
        return connect_falkordb(settings.falkordb_url)
    if os.environ.get("MSONET_STORE_FORMAT") == "json":
        # the former JSON file store, only so that ``python -m bench`` can measure it beside SQLite
        from msonet.graph.json_store import JsonStore

        return JsonStore(settings.home)  # type: ignore[return-value]
    return EmbeddedStore(settings.home)


def describe_backend(settings: Settings) -> str:
    """One German line naming where the graph lives (never the password)."""
    if settings.backend == "neo4j":
        return f"Neo4j-Server {settings.neo4j_uri} (Datenbank {settings.neo4j_database})"
    if settings.backend == "falkordb":
        return f"FalkorDB-Server {_hide_password(settings.falkordb_url or '')}"
    return f"eingebetteter Speicher im Ordner {settings.home}"


def _hide_password(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user + ':***' if ':' in creds else user}@{host}"
    return url
