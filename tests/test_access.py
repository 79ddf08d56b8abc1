"""Roles and rights, local accounts, sign-in throttling, claim mapping and the audit log (graph/access.py)."""

from __future__ import annotations

import datetime as dt
import json
import stat

import pytest

from msonet.graph.access import (
    RIGHTS,
    ROLES,
    AccessError,
    AuditLog,
    LocalAccounts,
    Principal,
    SignInThrottle,
    audit_rows,
    has_right,
    is_loopback,
    parse_role_map,
    rights_of,
    role_from_claims,
    role_key,
)
from msonet.graph.settings import Settings

PASSWORD = "richtig-lang-42"


@pytest.mark.parametrize(("role", "expected"), [
    ("lesen", {"view"}),
    ("beraten", {"view", "advise", "contact"}),
    ("bearbeiten", {"view", "advise", "contact", "edit"}),
    ("verwalten", {"view", "advise", "contact", "edit", "admin"}),
])
def test_each_role_has_exactly_its_rights(role, expected):
    assert {right for right in RIGHTS if has_right(role, right)} == expected
    assert len(rights_of(role)) == len(expected)


def test_unknown_roles_and_rights_have_nothing():
    assert not has_right(None, "view")
    assert not has_right("chef", "view")
    assert not has_right("verwalten", "fly")


@pytest.mark.parametrize("text", ["Lesen", "lesen", " BERATEN ", "Bearbeiten", "verwalten"])
def test_role_names_are_read_in_any_case(text):
    assert role_key(text) in ROLES


def test_unknown_role_names_get_a_german_error_listing_the_roles():
    with pytest.raises(AccessError, match="Unbekannte Rolle „Admin“.*Lesen, Beraten, Bearbeiten, Verwalten"):
        role_key("Admin")


# -- local accounts --------------------------------------------------------------------------------------
def test_accounts_store_only_a_salted_argon2id_hash_in_a_private_file(tmp_path):
    accounts = LocalAccounts(tmp_path / "home" / "users.json")
    accounts.add("anna", "Beraten", PASSWORD)
    accounts.add("ben", "lesen", PASSWORD)
    text = accounts.path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    users = json.loads(text)["users"]
    assert users["anna"]["hash"].startswith("$argon2id$")
    assert users["anna"]["hash"] != users["ben"]["hash"]  # same password, different salt
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600
    assert [(a.name, a.role) for a in accounts.accounts()] == [("anna", "beraten"), ("ben", "lesen")]


def test_verify_accepts_the_right_password_only(tmp_path):
    accounts = LocalAccounts(tmp_path / "users.json")
    accounts.add("Anna", "bearbeiten", PASSWORD)
    assert accounts.verify("anna", PASSWORD) == Principal("Anna", "bearbeiten", "local")
    assert accounts.verify("Anna", PASSWORD + "x") is None
    assert accounts.verify("niemand", PASSWORD) is None
    assert accounts.verify("Anna", "") is None


def test_add_refuses_duplicates_short_passwords_and_bad_names(tmp_path):
    accounts = LocalAccounts(tmp_path / "users.json")
    accounts.add("anna", "lesen", PASSWORD)
    with pytest.raises(AccessError, match="gibt es schon.*--replace"):
        accounts.add("ANNA", "lesen", PASSWORD)
    with pytest.raises(AccessError, match="mindestens 10 Zeichen"):
        accounts.add("carl", "lesen", "kurz")
    with pytest.raises(AccessError, match="Benutzername „ x“ ist ungültig"):
        accounts.add(" x", "lesen", PASSWORD)
    assert accounts.add("anna", "verwalten", "ein-neues-passwort", replace=True) is True
    assert accounts.verify("anna", "ein-neues-passwort").role == "verwalten"
    assert accounts.verify("anna", PASSWORD) is None


def test_remove_and_unknown_names(tmp_path):
    accounts = LocalAccounts(tmp_path / "users.json")
    accounts.add("anna", "lesen", PASSWORD)
    assert accounts.remove("Anna") == "anna"
    assert accounts.accounts() == []
    with pytest.raises(AccessError, match="Einen Benutzer „anna“ gibt es nicht"):
        accounts.remove("anna")


def test_a_damaged_user_file_gets_a_german_error(tmp_path):
    path = tmp_path / "users.json"
    path.write_text("{kaputt", encoding="utf-8")
    with pytest.raises(AccessError, match="beschädigt"):
        LocalAccounts(path).accounts()


# -- throttling ------------------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_locks_a_name_after_five_failures_and_doubles_the_wait():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    assert [throttle.failed("anna") for _ in range(4)] == [0.0] * 4
    assert throttle.wait_seconds("anna") == 0
    assert throttle.failed("Anna") == 60  # names without case
    assert throttle.wait_seconds("anna") == 60
    assert throttle.wait_seconds("ben") == 0  # other names are not affected
    clock.now += 61
    assert throttle.wait_seconds("anna") == 0
    assert throttle.failed("anna") == 120
    clock.now += 121
    assert throttle.failed("anna") == 240


def test_throttle_caps_the_wait_and_forgets_on_success_and_after_the_window():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for _ in range(20):
        wait = throttle.failed("anna")
        clock.now += wait
    assert wait == 15 * 60
    throttle.succeeded("anna")
    assert throttle.wait_seconds("anna") == 0 and throttle.failed("anna") == 0
    for _ in range(3):
        throttle.failed("ben")
    clock.now += 16 * 60  # older failures drop out of the window
    assert [throttle.failed("ben") for _ in range(4)] == [0.0] * 4


# -- single sign-on claims ---------------------------------------------------------------------------------
def test_role_map_is_read_from_text_with_german_errors():
    assert parse_role_map("msonet-admin=Verwalten; foerderer = Lesen\nteam=beraten") == {
        "msonet-admin": "verwalten", "foerderer": "lesen", "team": "beraten"}
    assert parse_role_map("") == {}
    with pytest.raises(AccessError, match="MSONET_OIDC_ROLES: „nurgruppe“"):
        parse_role_map("nurgruppe")
    with pytest.raises(AccessError, match="Unbekannte Rolle „Chef“"):
        parse_role_map("a=Chef")


@pytest.mark.parametrize(("claims", "default", "expected"), [
    ({"groups": ["foerderer", "msonet-admin"]}, None, "verwalten"),  # the highest role wins
    ({"groups": "team"}, None, "beraten"),  # one value instead of a list
    ({"groups": ["andere"]}, None, None),  # no matching group: no access
    ({}, None, None),
    ({"groups": ["andere"]}, "Lesen", "lesen"),
])
def test_role_from_claims(claims, default, expected):
    role_map = {"msonet-admin": "verwalten", "foerderer": "lesen", "team": "beraten"}
    assert role_from_claims(claims, "groups", role_map, default) == expected


@pytest.mark.parametrize(("address", "expected"), [
    (None, False), ("", False), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
    ("localhost", True), ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
    ("unix:///run/msonet.sock", True),
])
def test_loopback_addresses(address, expected):
    assert is_loopback(address) is expected


def test_settings_read_the_access_variables():
    s = Settings.from_env({"MSONET_HOME": "/srv/msonet", "MSONET_AUTH": "Local", "MSONET_ALLOW_UNPROTECTED": "1",
                           "MSONET_OIDC_ROLES": "a=Lesen"})
    assert s.auth == "local" and s.allow_unprotected and s.oidc_roles == "a=Lesen"
    assert str(s.users_path) == "/srv/msonet/users.json" and str(s.audit_path) == "/srv/msonet/audit.jsonl"
    default = Settings.from_env({})
    assert default.auth == "none" and not default.allow_unprotected and default.oidc_claim == "groups"
    with pytest.raises(AccessError, match="MSONET_AUTH „ldap“ ist unbekannt"):
        Settings.from_env({"MSONET_AUTH": "ldap"})


# -- audit log ---------------------------------------------------------------------------------------------
def _log(tmp_path) -> AuditLog:
    times = iter(dt.datetime(2025, 3, 1, 9, minute, tzinfo=dt.UTC) for minute in range(60))
    return AuditLog(tmp_path / "audit.jsonl", clock=lambda: next(times))


def test_audit_log_appends_time_user_action_and_counts(tmp_path):
    log = _log(tmp_path)
    anna = Principal("anna", "bearbeiten", "local")
    log.record(anna, "upload", files=2, organisations=5)
    log.record(Principal("root", "verwalten", "cli"), "forget", organisations=1, relations=3)
    entries = log.entries()
    assert [(e["time"], e["user"], e["action"], e["counts"]) for e in entries] == [
        ("2025-03-01T09:00:00+00:00", "anna", "upload", {"files": 2, "organisations": 5}),
        ("2025-03-01T09:01:00+00:00", "root", "forget", {"organisations": 1, "relations": 3}),
    ]
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert log.verify() == []
    rows = audit_rows(entries)
    assert rows[0]["Aktion"] == "Organisation gelöscht" and rows[0]["Über"] == "Kommandozeile"  # newest first
    assert rows[1]["Anzahl"] == "Dateien: 2, Organisationen: 5"


def test_audit_counts_must_be_numbers_so_no_text_can_slip_in(tmp_path):
    log = _log(tmp_path)
    with pytest.raises(TypeError):
        log.record(Principal("anna", "lesen", "local"), "upload", name="Ronahi e.V.")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        log.record(Principal("anna", "lesen", "local"), "anything")
    assert not log.path.exists()


def test_audit_log_detects_changed_and_removed_lines(tmp_path):
    log = _log(tmp_path)
    user = Principal("anna", "verwalten", "local")
    for action in ("signin", "upload", "forget", "signout"):
        log.record(user, action)
    lines = log.path.read_text(encoding="utf-8").splitlines()
    log.path.write_text("\n".join([lines[0], lines[2], lines[3]]) + "\n", encoding="utf-8")
    assert [p.split(":")[0] for p in log.verify()] == ["Zeile 2"]
    log.path.write_text("\n".join([lines[0], lines[1].replace("upload", "demo"), lines[2], lines[3]]) + "\n",
                        encoding="utf-8")
    assert [p.split(":")[0] for p in log.verify()] == ["Zeile 3"]


def test_an_unwritable_audit_log_gets_a_german_error(tmp_path):
    blocker = tmp_path / "datei"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(AccessError, match="kann nicht geschrieben werden"):
        AuditLog(blocker / "audit.jsonl").record(Principal("a", "lesen", "local"), "signin")
