"""Who may do what: roles and rights, local accounts, sign-in throttling, claim mapping and the audit log.

Streamlit-free, so the app, the command line and the tests share one definition. The app enforces the
rights through ``ui/auth.py``; the command line acts as *Verwalten* (an operator on the server).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msonet.graph.errors import GraphError

__all__ = [
    "ROLES", "ROLE_LABELS", "RIGHTS", "AUTH_MODES", "AccessError", "Principal", "role_key", "has_right",
    "rights_of", "LocalAccounts", "Account", "SignInThrottle", "role_from_claims", "parse_role_map",
    "is_loopback", "AuditLog", "AUDIT_ACTIONS", "COUNT_LABELS", "audit_rows", "MIN_PASSWORD_LENGTH",
]

#: Roles from least to most; each role has every right of the roles before it.
ROLES = ("lesen", "beraten", "bearbeiten", "verwalten")
ROLE_LABELS = {"lesen": "Lesen", "beraten": "Beraten", "bearbeiten": "Bearbeiten", "verwalten": "Verwalten"}
_RANK = {role: i for i, role in enumerate(ROLES)}

#: right -> (lowest role that has it, what it allows, in German). One table for the app, the CLI and docs.
RIGHTS: dict[str, tuple[str, str]] = {
    "view": ("lesen", "Übersicht, Netzwerk und Versorgungskarte ansehen und herunterladen – Kennzahlen, Karten, "
                      "Organisationen und Verbindungen, ohne Kontaktdaten und Anschrift"),
    "advise": ("beraten", "Isolierte Organisationen, Tandem-Suche und Vernetzungstreffen planen"),
    "contact": ("beraten", "Kontaktdaten von Organisationen sehen (Anschrift im Netzwerk, E-Mail-Adressen in der "
                           "Einladungsliste)"),
    "edit": ("bearbeiten", "Daten ändern: Dateien hochladen (auch Korrekturen), Teilnahme erfassen, Demodaten "
                           "laden; Export ohne personenbezogene Daten"),
    "admin": ("verwalten", "Organisationen löschen („vergessen“), Export mit personenbezogenen Daten, "
                           "Protokoll einsehen und herunterladen, Benutzer einsehen"),
}

AUTH_MODES = ("none", "local", "oidc")

#: Audit actions -> German label.
AUDIT_ACTIONS = {
    "upload": "Dateien geladen",
    "attendance": "Teilnahme erfasst",
    "demo": "Demodaten geladen",
    "forget": "Organisation gelöscht",
    "export_personal": "Export mit personenbezogenen Daten",
    "invitations_email": "Einladungsliste mit E-Mail-Adressen",
    "signin": "Anmeldung",
    "signin_failed": "Anmeldung fehlgeschlagen",
    "signin_blocked": "Anmeldung gesperrt (zu viele Fehlversuche)",
    "signout": "Abmeldung",
    "user_add": "Benutzer angelegt",
    "user_update": "Benutzer geändert",
    "user_remove": "Benutzer entfernt",
    "load": "Dateien geladen (Kommandozeile)",
    "migrate": "Daten kopiert (migrate)",
}

#: Names of the counts in audit entries -> German label.
COUNT_LABELS = {"organisations": "Organisationen", "events": "Veranstaltungen", "relations": "Beziehungen",
                "fundings": "Förderungen", "files": "Dateien", "rows_skipped": "ausgelassene Zeilen",
                "rows": "Zeilen", "with_email": "mit E-Mail", "failures": "Fehlversuche", "seconds": "Sekunden"}

MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AccessError(GraphError):
    """A sign-in, account or audit problem a user or operator can act on (German message)."""


@dataclass(frozen=True)
class Principal:
    """Who is using the app or the command line, with which role, signed in how."""

    name: str
    role: str
    via: str  # "local", "oidc", "none" (unprotected, single user) or "cli"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def can(self, right: str) -> bool:
        return has_right(self.role, right)


def role_key(text: str) -> str:
    """The role key for a German role name in any case (``"Beraten"`` -> ``"beraten"``); German error if unknown."""
    key = (text or "").strip().casefold()
    if key not in _RANK:
        raise AccessError(f"Unbekannte Rolle „{text}“. Erlaubt sind: {', '.join(ROLE_LABELS.values())}.")
    return key


def has_right(role: str | None, right: str) -> bool:
    """Whether ``role`` has ``right`` (unknown roles and rights have nothing)."""
    if role not in _RANK or right not in RIGHTS:
        return False
    return _RANK[role] >= _RANK[RIGHTS[right][0]]


def rights_of(role: str) -> list[str]:
    """The German descriptions of everything ``role`` may do."""
    return [text for right, (_lowest, text) in RIGHTS.items() if has_right(role, right)]


# -- local accounts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created: str
    changed: str


def _hasher():
    from argon2 import PasswordHasher

    # argon2-cffi's defaults follow RFC 9106's second recommendation (argon2id, 64 MiB, 3 passes).
    return PasswordHasher()


class LocalAccounts:
    """Local accounts in a JSON file: name, role and an argon2id hash (salted by the library) per user.

    The file is written atomically with mode 0600; passwords are never stored or logged.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._dummy: str | None = None

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AccessError(f"Die Benutzerdatei {self.path} ist nicht lesbar: {exc.strerror}.") from exc
        try:
            data = json.loads(text)
            users = data["users"]
            assert isinstance(users, dict)
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            raise AccessError(f"Die Benutzerdatei {self.path} ist beschädigt (kein gültiges JSON mit „users“). "
                              "Bitte aus einer Sicherung wiederherstellen oder löschen und Benutzer neu anlegen."
                              ) from exc
        return users

    def _write(self, users: Mapping[str, Mapping[str, str]]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "users": dict(sorted(users.items()))}, out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def accounts(self) -> list[Account]:
        """All accounts, sorted by name (no hashes)."""
        return [Account(name, u.get("role", ""), u.get("created", ""), u.get("changed", ""))
                for name, u in sorted(self._read().items())]

    def __len__(self) -> int:
        return len(self._read())

    def add(self, name: str, role: str, password: str, *, replace: bool = False, today: str | None = None) -> bool:
        """Create an account (or, with ``replace``, give an existing one a new role and password).

        Returns True when an existing account was changed.
        """
        if not _NAME.match(name or ""):
            raise AccessError(f"Benutzername „{name}“ ist ungültig: 1–64 Zeichen, Buchstaben, Ziffern und . _ @ -, "
                              "am Anfang ein Buchstabe oder eine Ziffer.")
        role = role_key(role)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccessError(f"Das Passwort ist zu kurz: mindestens {MIN_PASSWORD_LENGTH} Zeichen.")
        stamp = today or dt.date.today().isoformat()
        users = self._read()
        existing = _find(users, name)
        if existing is not None and not replace:
            raise AccessError(f"Den Benutzer „{existing}“ gibt es schon. Mit --replace bekommt er die neue Rolle und "
                              "das neue Passwort.")
        if existing is not None:
            created = users.pop(existing).get("created", stamp)
        else:
            created = stamp
        users[name] = {"role": role, "hash": _hasher().hash(password), "created": created, "changed": stamp}
        self._write(users)
        return existing is not None

    def remove(self, name: str) -> str:
        """Delete an account; returns its stored name. German error if there is none."""
        users = self._read()
        existing = _find(users, name)
        if existing is None:
            raise AccessError(f"Einen Benutzer „{name}“ gibt es nicht. „msonet user list“ zeigt alle.")
        del users[existing]
        self._write(users)
        return existing

    def verify(self, name: str, password: str) -> Principal | None:
        """The principal if name and password match, else None (same work for unknown names)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        users = self._read()
        existing = _find(users, name)
        hasher = _hasher()
        if existing is None:
            # Hash anyway, so that the answer time does not tell which names exist.
            if self._dummy is None:
                self._dummy = hasher.hash("msonet-kein-benutzer")
            with contextlib.suppress(VerificationError, InvalidHashError):
                hasher.verify(self._dummy, password)
            return None
        user = users[existing]
        try:
            hasher.verify(user.get("hash", ""), password)
        except (VerificationError, InvalidHashError):
            return None
        if user.get("role") not in _RANK:
            return None
        return Principal(existing, user["role"], "local")


def _find(users: Mapping[str, Any], name: str) -> str | None:
    """The stored spelling of ``name`` (names are compared without case)."""
    folded = (name or "").strip().casefold()
    return next((n for n in users if n.casefold() == folded), None)


# -- throttling -----------------------------------------------------------------------------------------
@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass
class SignInThrottle:
    """Slows down password guessing: after ``free`` failed sign-ins for one name, that name is locked for
    ``lockout`` seconds, doubling with every further failure up to ``max_lockout``. The count starts
    afresh after ``window`` seconds without a failure (counted from the end of a lock).

    A successful sign-in clears the count. Kept in memory of the app's process (a restart clears it).
    """

    free: int = 5
    window: float = 15 * 60
    lockout: float = 60
    max_lockout: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_seconds(self, name: str) -> float:
        """Seconds until ``name`` may try again (0 if it may try now)."""
        with self._lock:
            entry = self._failures.get(_fold(name))
            return max(0.0, entry.locked_until - self.clock()) if entry else 0.0

    def failed(self, name: str) -> float:
        """Count a failed sign-in; returns the seconds the name is now locked (0 if not)."""
        now = self.clock()
        with self._lock:
            entry = self._failures.setdefault(_fold(name), _Failures(last=now))
            if now - max(entry.last, entry.locked_until) > self.window:  # quiet for a whole window: start afresh
                entry.count = 0
            entry.count += 1
            entry.last = now
            if entry.count >= self.free:
                wait = min(self.max_lockout, self.lockout * 2 ** (entry.count - self.free))
                entry.locked_until = now + wait
                return wait
            return 0.0

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(_fold(name), None)


def _fold(name: str) -> str:
    return (name or "").strip().casefold()


# -- single sign-on ------------------------------------------------------------------------------------
def parse_role_map(text: str | None) -> dict[str, str]:
    """``"gruppe-a=Verwalten; gruppe-b=Lesen"`` -> {claim value: role key}; German error naming the bad part."""
    mapping: dict[str, str] = {}
    for part in re.split(r"[;\n]", text or ""):
        if not part.strip():
            continue
        value, sep, role = part.rpartition("=")
        if not sep or not value.strip():
            raise AccessError(f"MSONET_OIDC_ROLES: „{part.strip()}“ ist keine Zuordnung der Form Gruppe=Rolle "
                              "(mehrere durch ; getrennt).")
        mapping[value.strip()] = role_key(role)
    return mapping


def role_from_claims(claims: Mapping[str, Any], claim: str, role_map: Mapping[str, str],
                     default_role: str | None = None) -> str | None:
    """The highest role any value of ``claims[claim]`` maps to; else ``default_role`` (None: no access).

    The claim may hold one value or a list (as Entra ID and Keycloak send groups or roles).
    """
    values = claims.get(claim)
    if isinstance(values, str):
        values = [values]
    roles = [role_map[str(v)] for v in values or () if str(v) in role_map]
    if roles:
        return max(roles, key=_RANK.__getitem__)
    return role_key(default_role) if default_role else None


def is_loopback(address: str | None) -> bool:
    """Whether a server address only accepts connections from this machine (None or "" mean all interfaces)."""
    if not address:
        return False
    if address.startswith("unix://"):  # a socket file: reachable only through the file system of this machine
        return True
    host = address.strip().strip("[]")
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- audit log -------------------------------------------------------------------------------------------
_GENESIS = "0" * 64


class AuditLog:
    """Append-only log of writes, exports with personal data and sign-ins: one JSON object per line.

    Each entry holds time (UTC), user, role, action, where it came from and counts -- never names,
    addresses or other content of the data. Each line also carries the SHA-256 of the line before it,
    so :meth:`verify` finds lines that were changed or deleted afterwards. Lines are appended under an
    exclusive file lock, so the app and the command line can write at the same time.
    """

    def __init__(self, path: Path, clock: Callable[[], dt.datetime] | None = None):
        self.path = Path(path)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def record(self, principal: Principal, action: str, **counts: int) -> dict[str, Any]:
        """Append one entry; returns it. ``counts`` are whole numbers only (no text can slip in)."""
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        clean = {}
        for key, value in counts.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"audit count {key!r} must be a whole number")
            clean[key] = value
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AccessError(f"Das Protokoll {self.path} kann nicht geschrieben werden ({exc.strerror}). Bitte "
                              "Ordner und Rechte prüfen (MSONET_AUDIT_LOG).") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            entry = {"time": self._clock().astimezone(dt.UTC).isoformat(timespec="seconds"),
                     "user": principal.name, "role": principal.role, "via": principal.via, "action": action,
                     "counts": clean, "prev": self._last_hash()}
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return entry

    def _last_hash(self) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 65536))
                tail = f.read().rstrip(b"\n")
        except FileNotFoundError:
            return _GENESIS
        if not tail:
            return _GENESIS
        return hashlib.sha256(tail.rsplit(b"\n", 1)[-1]).hexdigest()

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        try:
            with open(self.path, "rb") as f:
                for number, raw in enumerate(f, start=1):
                    yield number, raw.rstrip(b"\n")
        except FileNotFoundError:
            return

    def entries(self) -> list[dict[str, Any]]:
        """All entries, oldest first (unreadable lines are skipped here and reported by :meth:`verify`)."""
        out = []
        for _number, raw in self._lines():
            with contextlib.suppress(ValueError):
                entry = json.loads(raw)
                if isinstance(entry, dict):
                    out.append(entry)
        return out

    def verify(self) -> list[str]:
        """German descriptions of lines that break the chain (empty: the log is as it was written)."""
        problems = []
        previous = _GENESIS
        for number, raw in self._lines():
            try:
                entry = json.loads(raw)
                prev = entry.get("prev")
            except (ValueError, AttributeError):
                problems.append(f"Zeile {number}: kein gültiger Eintrag.")
                previous = hashlib.sha256(raw).hexdigest()
                continue
            if prev != previous:
                problems.append(f"Zeile {number}: passt nicht zur Zeile davor – ein Eintrag davor wurde geändert "
                                "oder entfernt.")
            previous = hashlib.sha256(raw).hexdigest()
        return problems


def audit_rows(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Entries as table rows with German column names, newest first (for the app and the download)."""
    rows = []
    for e in entries:
        counts = e.get("counts") or {}
        rows.append({"Zeit (UTC)": e.get("time", ""), "Benutzer": e.get("user", ""),
                     "Rolle": ROLE_LABELS.get(e.get("role", ""), e.get("role", "")),
                     "Über": {"cli": "Kommandozeile", "local": "App", "oidc": "App (SSO)", "none": "App"}.get(
                         e.get("via", ""), e.get("via", "")),
                     "Aktion": AUDIT_ACTIONS.get(e.get("action", ""), e.get("action", "")),
                     "Anzahl": ", ".join(f"{COUNT_LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items()))})
    rows.reverse()
    return rows
