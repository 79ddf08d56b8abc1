"""Settings of msonet: one frozen object, read from the environment in one place."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from msonet.graph.access import AUTH_MODES, AccessError

__all__ = ["Settings", "SETTINGS_HELP", "default_home", "hide_password", "MAX_TABLE_ROWS", "MAX_OPTIONS",
           "MAX_NODES"]

#: Rows the app draws in a large result table (the CSV download always holds every row).
MAX_TABLE_ROWS = 1000
#: Above this many choices a select box of the app becomes a search field plus a short list of hits.
MAX_OPTIONS = 5000
#: Largest network view drawn node by node; larger views are drawn as one node per district.
MAX_NODES = 1000

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
    ("max_table_rows", "MSONET_MAX_TABLE_ROWS",
     f"Höchstzahl Zeilen in großen Ergebnistabellen der App (Standard: {MAX_TABLE_ROWS}; die CSV enthält alle)"),
    ("max_options", "MSONET_MAX_OPTIONS",
     f"Ab so vielen Organisationen wird eine Auswahlliste der App zum Suchfeld (Standard: {MAX_OPTIONS})"),
    ("max_nodes", "MSONET_MAX_NODES",
     f"Größte Netzwerkansicht, die Knoten für Knoten gezeichnet wird (Standard: {MAX_NODES})"),
    ("today", "MSONET_TODAY", "Stichtag der Analysen in der App (JJJJ-MM-TT; Standard: heute)"),
    ("store_format", "MSONET_STORE_FORMAT",
     "json wählt den früheren JSON-Speicher statt SQLite (nur für die Messungen in bench/)"),
    ("debug", "MSONET_DEBUG", "1 zeigt bei einem internen Fehler der Kommandozeile den vollständigen Traceback"),
]

#: Settings that are whole numbers above zero; another value falls back to the default.
_COUNTS = ("max_table_rows", "max_options", "max_nodes")
#: Settings that are switched on by one of these words.
_ON = frozenset({"1", "true", "ja", "yes", "on"})


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
    max_table_rows: int = MAX_TABLE_ROWS
    max_options: int = MAX_OPTIONS
    max_nodes: int = MAX_NODES
    #: the reference date as given (ISO); read it with :meth:`reference_date`
    today: str | None = None
    store_format: str = "sqlite"
    debug: bool = False

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "neo4j_password" and value:
                value = "***"
            elif f.name in ("neo4j_uri", "falkordb_url") and value:
                value = hide_password(value)
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

    def reference_date(self) -> dt.date:
        """The reference date of analyses: :attr:`today` (``MSONET_TODAY``), else the current date.

        Raises ``ValueError`` with a German message when ``MSONET_TODAY`` is not a date like 2024-06-30.
        """
        if not self.today:
            return dt.date.today()
        try:
            return dt.date.fromisoformat(self.today)
        except ValueError:
            raise ValueError(f"MSONET_TODAY „{self.today}“ ist kein Datum im Format JJJJ-MM-TT") from None

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
        for name in ("allow_unprotected", "debug"):
            if name in values:
                values[name] = str(values[name]).strip().casefold() in _ON
        for name in _COUNTS:
            if name in values:
                count = _positive(values[name])
                if count is None:
                    del values[name]  # not a whole number above zero: the default
                else:
                    values[name] = count
        if "today" in values:
            values["today"] = str(values["today"]).strip()
        if "store_format" in values:
            values["store_format"] = str(values["store_format"]).strip().casefold()
        return cls(**values)  # type: ignore[arg-type]


def _positive(value: object) -> int | None:
    """A whole number above zero from a setting (``" 12 "`` -> 12), else ``None``."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


def hide_password(url: str) -> str:
    """``url`` as it may be shown: the password replaced by ``***``; user, host, port and path stay.

    The one rule for every message, description and log line that names a server address.

    Examples
    --------
    >>> hide_password("redis://user:geheim@db:6379/msonet")
    'redis://user:***@db:6379/msonet'
    >>> hide_password("redis://:geheim@db:6379")
    'redis://:***@db:6379'
    >>> hide_password("neo4j://db:7687")
    'neo4j://db:7687'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        if "@" in url and "://" not in url:  # no scheme, so no URL to parse: hide all before the last @
            return "***@" + url.rsplit("@", 1)[1]
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, _password = userinfo.partition(":")
    return parts._replace(netloc=f"{user}:***@{host}" if has_password else f"{user}@{host}").geturl()
