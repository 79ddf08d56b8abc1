"""Access control in the app (AppTest): every page checks its right itself, forget, audit, sign-in form."""

from __future__ import annotations

from pathlib import Path

import pytest
from _uidata import TODAY, small_batch

from msonet.graph.access import ROLES, AuditLog, LocalAccounts, Principal, has_right
from msonet.graph.store import EmbeddedStore
from msonet.ui.auth import PAGE_RIGHTS

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "sicheres-passwort-1"
NAMES = {"lesen": "lea", "beraten": "bert", "bearbeiten": "bea", "verwalten": "vera"}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "store"
    EmbeddedStore(folder).upsert(small_batch())
    accounts = LocalAccounts(folder / "users.json")
    for role, name in NAMES.items():
        accounts.add(name, role, PASSWORD)
    for var in ("NEO4J_URI", "FALKORDB_URL", "MSONET_ALLOW_UNPROTECTED"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MSONET_HOME", str(folder))
    monkeypatch.setenv("MSONET_TODAY", TODAY)
    monkeypatch.setenv("MSONET_AUTH", "local")
    return folder


def _app(path: str = APP):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(path, default_timeout=60)


def _signed_in(path: str, role: str):
    """A page run as a session that is already signed in with ``role``."""
    at = _app(path)
    at.session_state["_msonet_principal"] = Principal(NAMES[role], role, "local")
    at.run()
    return at


DENIED = [(page, role) for page, right in PAGE_RIGHTS.items() for role in ROLES if not has_right(role, right)]


@pytest.mark.parametrize(("page", "role"), DENIED)
def test_each_page_refuses_a_role_without_its_right_even_when_run_directly(home, page, role):
    at = _signed_in(str(ROOT / page), role)
    assert not at.exception
    assert [e.value for e in at.error] and "erlaubt das nicht" in at.error[0].value
    assert not at.title  # nothing of the page was drawn
    assert not at.get("download_button")


def test_every_page_needs_a_right():
    from msonet.app import PAGES

    assert {path for path, *_ in PAGES} == set(PAGE_RIGHTS)


def test_sign_in_form_signs_in_and_the_navigation_offers_only_the_role_s_pages(home):
    at = _app()
    at.run()
    assert at.title[0].value == "msonet – Anmeldung"
    at.text_input(key="signin_name").input("LEA")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert at.title[0].value == "Übersicht"
    assert not at.error
    with pytest.raises(ValueError, match=r"Known pages: \[.*overview.py', .*network.py', .*coverage.py'\]"):
        at.switch_page("ui/data.py")  # not offered to Lesen
    entry = AuditLog(home / "audit.jsonl").entries()[-1]
    assert (entry["user"], entry["role"], entry["action"]) == ("lea", "lesen", "signin")


def test_role_change_and_removal_take_effect_at_the_next_run(home):
    at = _signed_in(APP, "beraten")
    at.switch_page("ui/tandem.py")
    at.run()
    assert at.title[0].value == "Tandem-Suche"
    LocalAccounts(home / "users.json").add("bert", "lesen", PASSWORD, replace=True)
    at.run()
    assert at.title[0].value == "Übersicht"  # Tandem-Suche is no longer offered
    LocalAccounts(home / "users.json").remove("bert")
    at.run()
    assert at.title[0].value == "msonet – Anmeldung"


def test_no_accounts_yet_explains_how_to_add_one(home):
    (home / "users.json").unlink()
    at = _app()
    at.run()
    assert "msonet user add NAME --role Verwalten" in at.error[0].value


def test_forget_in_the_app_deletes_and_logs_only_counts(home):
    at = _signed_in(APP, "verwalten")
    at.switch_page("ui/admin.py")
    at.run()
    assert at.title[0].value == "Verwaltung"
    at.selectbox(key="forget_org").select("org-coach")
    at.run()
    at.checkbox(key="forget_confirm").check()
    at.run()
    at.button(key="forget_run").click()
    at.run()
    assert not at.exception and "gelöscht" in at.success[0].value
    assert EmbeddedStore(home).get_node("org-coach") is None
    entry = AuditLog(home / "audit.jsonl").entries()[-1]
    assert (entry["user"], entry["action"], entry["counts"]["organisations"]) == ("vera", "forget", 1)
    text = (home / "audit.jsonl").read_text(encoding="utf-8")
    assert "Coach" not in text and "org-coach" not in text and "erika" not in text


def test_contact_widgets_follow_the_rights(home):
    at = _signed_in(APP, "bearbeiten")
    at.switch_page("ui/data.py")
    at.run()
    assert not any("Personenbezogene Daten einschließen" in c.label for c in at.checkbox)
    at = _signed_in(APP, "verwalten")
    at.switch_page("ui/data.py")
    at.run()
    assert any("Personenbezogene Daten einschließen" in c.label for c in at.checkbox)


def test_unprotected_default_says_so_on_the_overview(home, monkeypatch):
    monkeypatch.setenv("MSONET_AUTH", "none")
    at = _app()
    at.run()
    assert at.title[0].value == "Übersicht"
    assert any("Ohne Anmeldung" in m.value for m in at.markdown)
    assert not at.sidebar.button  # nobody to sign out


@pytest.fixture
def public_address():
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def test_public_address_without_sign_in_is_refused(home, monkeypatch, public_address):
    monkeypatch.setenv("MSONET_AUTH", "none")
    at = _app()
    at.run()
    assert at.title[0].value == "msonet ist nicht freigegeben"
    assert "MSONET_ALLOW_UNPROTECTED=1" in at.error[0].value
    monkeypatch.setenv("MSONET_ALLOW_UNPROTECTED", "1")
    at = _app()
    at.run()
    assert at.title[0].value == "Übersicht" and "im Netz erreichbar" in at.warning[0].value


def test_sign_in_needs_a_writable_audit_log(home, monkeypatch):
    blocker = home / "keine-ordner"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("MSONET_AUDIT_LOG", str(blocker / "audit.jsonl"))
    at = _app()
    at.run()
    at.text_input(key="signin_name").input("vera")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "msonet – Protokoll nicht beschreibbar" in [t.value for t in at.title]
    assert "MSONET_AUDIT_LOG" in at.error[0].value
    assert "_msonet_principal" not in at.session_state
