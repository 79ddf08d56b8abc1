"""Settings of msonet: one frozen object, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from msonet.graph.access import AUTH_MODES, AccessError

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
    ("auth", "MSONET_AUTH", "Anmeldung in der App: none (keine, nur localhost), local (Konten von „msonet user“) "
                            "oder oidc (Single Sign-on über .streamlit/secrets.toml)"),
    ("users_file", "MSONET_USERS_FILE", "Datei der lokalen Konten (Standard: users.json in MSONET_HOME)"),
    ("audit_log", "MSONET_AUDIT_LOG", "Protokolldatei (Standard: audit.jsonl in MSONET_HOME)"),
    ("oidc_provider", "MSONET_OIDC_PROVIDER", "Name des Anbieters unter [auth.NAME] in secrets.toml, wenn dort "
                                              "mehrere stehen"),
    ("oidc_claim", "MSONET_OIDC_CLAIM", "Claim mit den Gruppen oder Rollen der Person (Standard: groups)"),
    ("oidc_roles", "MSONET_OIDC_ROLES", "Zuordnung Claim-Wert=Rolle, mehrere durch ; getrennt, z.B. "
                                        "„msonet-admin=Verwalten; foerderer=Lesen“"),
    ("oidc_default_role", "MSONET_OIDC_DEFAULT_ROLE", "Rolle angemeldeter Personen ohne passenden Claim-Wert "
                                                      "(Standard: keine – sie werden abgewiesen)"),
    ("allow_unprotected", "MSONET_ALLOW_UNPROTECTED",
     "1 erlaubt, die App ohne Anmeldung auf anderen Netzwerkschnittstellen als localhost anzubieten (nicht empfohlen)"),
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
    auth: str = "none"
    users_file: Path | None = None
    audit_log: Path | None = None
    oidc_provider: str | None = None
    oidc_claim: str = "groups"
    oidc_roles: str = ""
    oidc_default_role: str | None = None
    allow_unprotected: bool = False
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

    @property
    def users_path(self) -> Path:
        """The file of local accounts."""
        return self.users_file or self.home / "users.json"

    @property
    def audit_path(self) -> Path:
        """The audit log."""
        return self.audit_log or self.home / "audit.jsonl"

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
        for name in ("users_file", "audit_log"):
            if name in values:
                values[name] = Path(str(values[name])).expanduser()
        if "auth" in values:
            values["auth"] = str(values["auth"]).strip().casefold()
            if values["auth"] not in AUTH_MODES:
                raise AccessError(f"MSONET_AUTH „{values['auth']}“ ist unbekannt. Erlaubt sind: "
                                  + ", ".join(AUTH_MODES) + ".")
        if "allow_unprotected" in values:
            values["allow_unprotected"] = str(values["allow_unprotected"]).strip().casefold() in {
                "1", "true", "ja", "yes", "on"}
        return cls(**values)  # type: ignore[arg-type]
