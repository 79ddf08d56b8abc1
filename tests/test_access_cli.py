"""``msonet user`` and the audit entries of the command line (it acts as Verwalten)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from msonet.cli import main
from msonet.graph.access import AuditLog, LocalAccounts

GOOD = Path(__file__).parent / "data" / "good"
PASSWORD = "sicheres-passwort-1"


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    for var in ("NEO4J_URI", "FALKORDB_URL", "MSONET_AUTH", "MSONET_USERS_FILE", "MSONET_AUDIT_LOG"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "store"


def run(capsys, monkeypatch, store: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--store", str(store), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_user_add_list_replace_remove(store, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, store, "user", "add", "anna", "--role", "Beraten", "--password-stdin",
                         stdin=PASSWORD + "\n")
    assert code == 0, err
    assert "Benutzer „anna“ angelegt: Rolle Beraten" in out and "MSONET_AUTH=local" in out
    assert LocalAccounts(store / "users.json").verify("anna", PASSWORD).role == "beraten"
    code, out, _ = run(capsys, monkeypatch, store, "user", "list")
    assert code == 0 and "anna" in out and "Beraten" in out and PASSWORD not in out and "argon2" not in out
    code, _, err = run(capsys, monkeypatch, store, "user", "add", "anna", "--role", "Lesen", "--password-stdin",
                       stdin=PASSWORD + "\n")
    assert code == 1 and "gibt es schon" in err
    code, out, _ = run(capsys, monkeypatch, store, "user", "add", "anna", "--role", "verwalten", "--replace",
                       "--password-stdin", stdin="ein-anderes-passwort\n")
    assert code == 0 and "geändert: Rolle Verwalten" in out
    code, out, _ = run(capsys, monkeypatch, store, "user", "remove", "Anna")
    assert code == 0 and "entfernt" in out
    assert LocalAccounts(store / "users.json").accounts() == []
    actions = [e["action"] for e in AuditLog(store / "audit.jsonl").entries()]
    assert actions == ["user_add", "user_update", "user_remove"]
    assert all(e["via"] == "cli" and e["role"] == "verwalten" for e in AuditLog(store / "audit.jsonl").entries())


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["add", "anna", "--role", "Chef"], PASSWORD, "Unbekannte Rolle „Chef“"),
    (["add", "anna", "--role", "Lesen"], "kurz", "mindestens 10 Zeichen"),
    (["remove", "niemand"], "", "gibt es nicht"),
])
def test_user_errors_are_german(store, capsys, monkeypatch, args, stdin, message):
    if args[0] == "add":
        args = [*args, "--password-stdin"]
    code, _, err = run(capsys, monkeypatch, store, "user", *args, stdin=stdin + "\n")
    assert code == 1 and err.startswith("Fehler:") and message in err


def test_user_add_asks_twice_for_the_password(store, capsys, monkeypatch):
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run(capsys, monkeypatch, store, "user", "add", "anna", "--role", "Lesen")
    assert code == 1 and "stimmen nicht überein" in err
    assert not (store / "users.json").exists()


def test_unknown_auth_mode_is_a_german_error(store, capsys, monkeypatch):
    monkeypatch.setenv("MSONET_AUTH", "kerberos")
    code, _, err = run(capsys, monkeypatch, store, "stats")
    assert code == 2 and "MSONET_AUTH „kerberos“ ist unbekannt" in err


def test_cli_writes_and_personal_exports_are_logged_with_counts_only(store, capsys, monkeypatch, tmp_path):
    files = [str(GOOD / n) for n in ("organisationen.csv", "beziehungen.csv")]
    assert run(capsys, monkeypatch, store, "load", *files)[0] == 0
    assert run(capsys, monkeypatch, store, "export", "--format", "json", "--out", str(tmp_path / "a.json"))[0] == 0
    assert run(capsys, monkeypatch, store, "export", "--format", "json", "--out", str(tmp_path / "b.json"),
               "--include-personal")[0] == 0
    graph = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    some_org = graph["organisations"][0]
    assert run(capsys, monkeypatch, store, "forget", some_org["id"], "--yes")[0] == 0
    log = AuditLog(store / "audit.jsonl")
    entries = log.entries()
    assert [e["action"] for e in entries] == ["load", "export_personal", "forget"]  # the plain export is not
    assert entries[0]["counts"]["files"] == 2 and entries[0]["counts"]["organisations"] > 0
    assert entries[2]["counts"]["organisations"] == 1
    assert log.verify() == []
    text = (store / "audit.jsonl").read_text(encoding="utf-8")
    assert some_org["name"] not in text and some_org["id"] not in text
