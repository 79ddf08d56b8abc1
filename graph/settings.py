"""Settings of msonet: one frozen object, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["Settings", "SETTINGS_HELP", "default_home"]

#: (name, environment variable, help) of every setting; a test checks each is in the README.
SETTINGS_HELP = [
    ("home", "MSONET_HOME", "Ordner des eingebetteten Speichers (Standard: ~/.local/share/msonet)"),
    ("neo4j_uri", "NEO4J_URI", "Adresse eines Neo4j-Servers, z.B. neo4j://localhost:7687"),
    ("neo4j_username", "NEO4J_USERNAME", "Benutzername für Neo4j (Standard: neo4j)"),
    ("neo4j_password", "NEO4J_PASSWORD", "Passwort für Neo4j (wird nie angezeigt oder protokolliert)"),
    ("neo4j_database", "NEO4J_DATABASE", "Datenbank in Neo4j (Standard: neo4j)"),
    ("falkordb_url", "FALKORDB_URL", "Adresse eines FalkorDB-Servers, z.B. redis://localhost:6379/msonet"),
    ("max_upload_mb", "MSONET_MAX_UPLOAD_MB", "Größte Datei, die die App annimmt, in MB (Standard: 50)"),
    ("geocoder_domain", "MSONET_GEOCODER_DOMAIN",
     "Server des Geocoders für „msonet geocode“ (Standard: nominatim.openstreetmap.org)"),
    ("geocoder_scheme", "MSONET_GEOCODER_SCHEME", "https oder http für den Geocoder (Standard: https)"),
    ("geocoder_user_agent", "MSONET_GEOCODER_USER_AGENT",
     "User-Agent, mit dem sich msonet beim Geocoder ausweist (Standard: msonet-geocode)"),
]


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "msonet"


@dataclass(frozen=True)
class Settings:
    """Where the graph lives and how to reach a server. The password is never shown in ``repr``."""

    home: Path = default_home()
    neo4j_uri: str | None = None
    neo4j_username: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    falkordb_url: str | None = None
    max_upload_mb: int = 50
    geocoder_domain: str = "nominatim.openstreetmap.org"
    geocoder_scheme: str = "https"
    geocoder_user_agent: str = "msonet-geocode"

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "neo4j_password" and value:
                value = "***"
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    @property
    def backend(self) -> str:
        """``"neo4j"``, ``"falkordb"`` or ``"embedded"``."""
        if self.neo4j_uri:
            return "neo4j"
        if self.falkordb_url:
            return "falkordb"
        return "embedded"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from environment variables; explicit ``overrides`` (not None) win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, var, _help in SETTINGS_HELP:
            if env.get(var):
                values[name] = env[var]
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
        if "home" in values:
            values["home"] = Path(str(values["home"])).expanduser()
        if "max_upload_mb" in values:
            values["max_upload_mb"] = int(str(values["max_upload_mb"]))
        return cls(**values)  # type: ignore[arg-type]
