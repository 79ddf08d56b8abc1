"""Access control in a real browser: local accounts, single sign-on with a real OpenID Connect provider,
roles, downloads, sign-out, the audit log, and the refusal to serve other interfaces without sign-in."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from _browser import (
    ROOT,
    SCREENSHOTS,
    chromium_missing,
    exception_count,
    free_port,
    streamlit_server,
    wait_for_app,
)
from _uidata import TODAY, small_batch

from msonet.graph.access import AuditLog, LocalAccounts
from msonet.graph.store import EmbeddedStore

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")]

PASSWORD = "sicheres-passwort-1"
USERS = {"lea": "Lesen", "bert": "Beraten", "bea": "Bearbeiten", "vera": "Verwalten", "tom": "Lesen"}
EMAIL = "erika@example.org"  # contact data of Coach e.V. Köln in the test data
CONTACT = "Erika Muster"
NAV = ["Übersicht", "Netzwerk", "Isolierte Organisationen", "Tandem-Suche", "Vernetzungstreffen",
       "Versorgungskarte", "Daten", "Verwaltung"]
VISIBLE = {
    "Lesen": {"Übersicht", "Netzwerk", "Versorgungskarte"},
    "Beraten": {"Übersicht", "Netzwerk", "Versorgungskarte", "Isolierte Organisationen", "Tandem-Suche",
                "Vernetzungstreffen"},
    "Bearbeiten": set(NAV) - {"Verwaltung"},
    "Verwalten": set(NAV),
}


# -- fixtures ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_app(tmp_path_factory):
    """The app with MSONET_AUTH=local and one account per role; yields (url, home)."""
    home = tmp_path_factory.mktemp("access-store")
    EmbeddedStore(home).upsert(small_batch())
    accounts = LocalAccounts(home / "users.json")
    for name, role in USERS.items():
        accounts.add(name, role, PASSWORD)
    log = tmp_path_factory.mktemp("access-log") / "streamlit.log"
    with streamlit_server(home, today=TODAY, log=log, env={"MSONET_AUTH": "local"}) as url:
        yield url, home


def _tab(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, locale="de-DE", accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    outside: list[str] = []
    tab.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))
           else outside.append(r.url))
    return context, tab, outside


@pytest.fixture
def page(browser):
    context, tab, outside = _tab(browser)
    yield tab
    context.close()
    assert not outside, f"requests leaving the machine: {outside[:5]}"


def _entries(home: Path) -> list[dict]:
    return AuditLog(home / "audit.jsonl").entries()


def _sign_in(page, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_label("Benutzername").fill(name)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_role("button", name="Anmelden").click()
    wait_for_app(page)


def _nav(page) -> set[str]:
    links = page.locator('[data-testid="stSidebarNav"] a')
    # each link is "<icon name>\n\n<title>": the Material icon is a ligature of its name
    return {links.nth(i).inner_text().strip().split("\n")[-1] for i in range(links.count())}


def _go(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    wait_for_app(page)


def _download(page, label: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# -- local accounts ------------------------------------------------------------------------------------------
def test_wrong_password_is_refused_and_logged_without_the_password(page, local_app):
    url, home = local_app
    before = len(_entries(home))
    _sign_in(page, url, "bert", "falsches-passwort")
    page.get_by_text("Benutzername oder Passwort stimmt nicht.").wait_for()
    assert page.get_by_role("heading", name="Übersicht", exact=True).count() == 0
    _shot(page, "20-anmeldung-falsch")
    _sign_in(page, url, "falsches-passwort-im-namensfeld", "egal-was-1234")
    page.get_by_text("Benutzername oder Passwort stimmt nicht.").wait_for()
    new = _entries(home)[before:]
    assert [(e["user"], e["action"]) for e in new] == [("bert", "signin_failed"),
                                                      ("(unbekannter Name)", "signin_failed")]
    text = (home / "audit.jsonl").read_text(encoding="utf-8")
    assert "falsches-passwort" not in text and "egal-was" not in text


def test_failed_sign_ins_are_throttled(browser, local_app):
    url, home = local_app
    context, page, _outside = _tab(browser)
    try:
        for _ in range(5):
            _sign_in(page, url, "tom", "falsch-falsch-falsch")
        page.get_by_text("Zu viele Fehlversuche").wait_for()
        # Even the right password is refused while the name is locked.
        _sign_in(page, url, "tom", PASSWORD)
        page.get_by_text("Zu viele Fehlversuche. Bitte in").wait_for()
        assert page.get_by_role("heading", name="Übersicht", exact=True).count() == 0
        _shot(page, "21-anmeldung-gesperrt")
    finally:
        context.close()
    assert [e["action"] for e in _entries(home) if e["user"] == "tom"][-2:] == ["signin_failed", "signin_blocked"]
    # A fresh browser session is locked for this name too (the throttle is kept per name, not per tab).
    context, page, _outside = _tab(browser)
    try:
        _sign_in(page, url, "tom", PASSWORD)
        page.get_by_text("Zu viele Fehlversuche. Bitte in").wait_for()
    finally:
        context.close()


@pytest.mark.parametrize("name", ["lea", "bert", "bea", "vera"])
def test_each_role_sees_only_its_pages(page, local_app, name):
    url, _home = local_app
    role = USERS[name]
    _sign_in(page, url, name)
    page.get_by_role("heading", name="Übersicht", exact=True).wait_for()
    page.get_by_text(f"Rolle {role}").wait_for()
    assert _nav(page) == VISIBLE[role]
    assert exception_count(page) == 0
    for title in sorted(VISIBLE[role] - {"Übersicht"}):
        _go(page, title)
        assert exception_count(page) == 0
        assert CONTACT not in page.content()
    _shot(page, f"22-rolle-{role.lower()}")


def test_lesen_cannot_reach_contact_data_by_url_or_download(page, local_app):
    url, _home = local_app
    for path, title in [("tandem", "Tandem-Suche"), ("treffen", "Vernetzungstreffen"), ("daten", "Daten"),
                        ("verwaltung", "Verwaltung"), ("isoliert", "Isolierte Organisationen")]:
        _sign_in(page, f"{url}/{path}", "lea")
        page.get_by_role("heading", name="Übersicht", exact=True).wait_for()
        assert page.get_by_role("heading", name=title, exact=True).count() == 0, path
        assert EMAIL not in page.content() and CONTACT not in page.content()
    _go(page, "Netzwerk")
    nodes = _download(page, "Knoten als CSV").decode("utf-8-sig")
    assert "Coach e.V. Köln" in nodes and EMAIL not in nodes and CONTACT not in nodes
    html = _download(page, "Ansicht als HTML herunterladen").decode("utf-8")
    assert "Coach e.V. Köln" in html and EMAIL not in html and CONTACT not in html


def test_beraten_gets_emails_in_the_invitation_list_and_it_is_logged(page, local_app):
    url, home = local_app
    _sign_in(page, url, "bert")
    _go(page, "Vernetzungstreffen")
    without = _download(page, "Einladungsliste als CSV herunterladen").decode("utf-8-sig")
    assert EMAIL not in without
    page.get_by_text("E-Mail-Adressen in die Liste aufnehmen").click()
    wait_for_app(page)
    assert page.get_by_text("Teilnahmen erfassen dürfen Personen mit der Rolle").count() == 1 or \
        page.get_by_role("tab", name="Teilnahme erfassen").count() == 1
    data = _download(page, "Einladungsliste als CSV herunterladen").decode("utf-8-sig")
    assert EMAIL in data
    entry = _entries(home)[-1]
    assert entry["user"] == "bert" and entry["action"] == "invitations_email"
    assert entry["counts"]["with_email"] == 1 and EMAIL not in json.dumps(entry)


def test_bearbeiten_uploads_are_logged_and_export_has_no_personal_data(page, local_app, tmp_path):
    url, home = local_app
    _sign_in(page, url, "bea")
    _go(page, "Daten")
    assert page.get_by_text("Personenbezogene Daten einschließen").count() == 0
    data = _download(page, "CSV-Dateien (ZIP, für Excel) herunterladen")
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = " ".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    assert "Coach e.V. Köln" in text and EMAIL not in text and CONTACT not in text
    upload = tmp_path / "neue.csv"
    upload.write_text("Name;Typ;Ort\nVerein Neu e.V.;mso;Köln\n", encoding="utf-8")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    wait_for_app(page)
    page.get_by_role("button", name="Daten laden").click()
    page.get_by_text("Geladen:").wait_for()
    entry = _entries(home)[-1]
    assert (entry["user"], entry["role"], entry["action"]) == ("bea", "bearbeiten", "upload")
    assert entry["counts"]["files"] == 1 and entry["counts"]["organisations"] == 1
    assert "Verein Neu" not in (home / "audit.jsonl").read_text(encoding="utf-8")


def test_verwalten_exports_personal_data_reads_the_log_and_signs_out(page, local_app):
    url, home = local_app
    _sign_in(page, url, "vera")
    _go(page, "Daten")
    page.get_by_text("Personenbezogene Daten einschließen").click()
    wait_for_app(page)
    page.get_by_text("JSON (eine Datei)").click()
    wait_for_app(page)
    exported = _download(page, "JSON (eine Datei) herunterladen").decode("utf-8")
    assert EMAIL in exported
    assert _entries(home)[-1]["action"] == "export_personal" and _entries(home)[-1]["user"] == "vera"
    _go(page, "Verwaltung")
    page.get_by_text("lückenlos verkettet").wait_for()
    log_csv = _download(page, "Protokoll als CSV herunterladen").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(log_csv), delimiter=";"))
    actions = {(r["Benutzer"], r["Aktion"]) for r in rows}
    assert ("vera", "Export mit personenbezogenen Daten") in actions
    assert ("vera", "Anmeldung") in actions
    assert EMAIL not in log_csv and CONTACT not in log_csv
    _shot(page, "23-verwaltung")
    page.get_by_role("button", name="Abmelden").click()
    wait_for_app(page)
    page.get_by_role("button", name="Anmelden").wait_for()
    assert page.get_by_role("heading", name="Übersicht", exact=True).count() == 0
    assert (_entries(home)[-1]["user"], _entries(home)[-1]["action"]) == ("vera", "signout")


def test_removed_account_is_signed_out_at_the_next_click(page, local_app):
    url, home = local_app
    accounts = LocalAccounts(home / "users.json")
    accounts.add("kurz", "Beraten", PASSWORD)
    _sign_in(page, url, "kurz")
    page.get_by_role("heading", name="Übersicht", exact=True).wait_for()
    accounts.remove("kurz")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Netzwerk").first.click()
    page.get_by_text("Ihr Konto gibt es nicht mehr").wait_for()
    assert page.get_by_role("heading", name="Netzwerk", exact=True).count() == 0


# -- single sign-on with a real OpenID Connect provider --------------------------------------------------------
@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory):
    """oidc-provider-mock on 127.0.0.1 and the app signing in through it (st.login); yields (url, provider, home)."""
    import oidc_provider_mock
    import werkzeug.serving

    provider = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=provider.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    issuer = f"http://127.0.0.1:{provider.server_port}"
    home = tmp_path_factory.mktemp("sso-store")
    EmbeddedStore(home).upsert(small_batch())
    folder = tmp_path_factory.mktemp("sso-cwd")
    (folder / ".streamlit").mkdir()
    port = free_port()
    (folder / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "ein-langes-zufaelliges-geheimnis-nur-fuer-tests"\n'
        'client_id = "msonet-test"\n'
        'client_secret = "client-geheimnis"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n', encoding="utf-8")
    env = {"MSONET_AUTH": "oidc", "MSONET_OIDC_ROLES": "msonet-beratung=Beraten; msonet-admin=Verwalten"}
    log = tmp_path_factory.mktemp("sso-log") / "streamlit.log"
    try:
        with streamlit_server(home, today=TODAY, log=log, env=env, port=port, cwd=folder) as url:
            yield url, issuer, home
    finally:
        provider.shutdown()
        thread.join(5)


def _provider_user(issuer: str, sub: str, claims: dict) -> None:
    request = urllib.request.Request(f"{issuer}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def _sso(page, url: str, sub: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Anmelden (Single Sign-on)").click()
    page.locator('input[name="sub"]').fill(sub)  # the provider's own sign-in form
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")
    wait_for_app(page)


@pytest.fixture
def sso_page(browser):
    """A tab for single sign-on: the test provider's own form page asks a CDN for a style sheet; that request
    is blocked (there is no internet here) and is the only one allowed to leave the machine."""
    context, tab, outside = _tab(browser)
    tab.route(PROVIDER_STYLE, lambda route: route.abort())
    yield tab
    context.close()
    assert [u for u in outside if u != PROVIDER_STYLE] == []


PROVIDER_STYLE = "https://cdn.jsdelivr.net/npm/@picocss/pico@2/css/pico.min.css"


def test_single_sign_on_maps_groups_to_roles_and_signs_out(sso_page, oidc_app):
    page = sso_page
    url, issuer, home = oidc_app
    _provider_user(issuer, "carla", {"preferred_username": "carla", "groups": ["msonet-beratung", "andere"]})
    _sso(page, url, "carla")
    page.get_by_text("Rolle Beraten").wait_for()
    assert _nav(page) == VISIBLE["Beraten"]
    _shot(page, "24-sso-beraten")
    # The sign-in lives in a cookie: a URL opens a page of the role directly, not one beyond it.
    page.goto(f"{url}/tandem")
    page.get_by_role("heading", name="Tandem-Suche", exact=True).wait_for()
    page.goto(f"{url}/daten")
    wait_for_app(page)
    page.get_by_role("heading", name="Übersicht", exact=True).wait_for()
    assert page.get_by_role("heading", name="Daten", exact=True).count() == 0
    _shot(page, "24-sso-seite-nicht-erlaubt")
    page.keyboard.press("Escape")  # Streamlit's "page not found" dialog
    page.get_by_role("dialog").wait_for(state="detached")
    wait_for_app(page)
    page.get_by_role("button", name="Abmelden").click()
    # st.logout may end the session at the provider too (RP-initiated logout, the test provider asks
    # first); depending on the Streamlit version it returns straight to the app. Both end signed out.
    end_session = page.get_by_role("button", name="End session")
    sign_in = page.get_by_role("button", name="Anmelden (Single Sign-on)")
    end_session.or_(sign_in).first.wait_for()
    if end_session.count():
        end_session.click()
        page.wait_for_url(f"{url}/**")
    sign_in.wait_for()
    page.goto(f"{url}/tandem")
    wait_for_app(page)
    assert page.get_by_role("heading", name="Tandem-Suche", exact=True).count() == 0
    actions = [(e["user"], e["role"], e["via"], e["action"]) for e in _entries(home)]
    assert ("carla", "beraten", "oidc", "signin") in actions and ("carla", "beraten", "oidc", "signout") in actions


def test_single_sign_on_without_a_mapped_group_gets_no_access(sso_page, oidc_app):
    page = sso_page
    url, issuer, _home = oidc_app
    _provider_user(issuer, "gast", {"preferred_username": "gast", "groups": ["andere"]})
    _sso(page, url, "gast")
    page.get_by_text("hat keine Rolle in msonet").wait_for()
    assert page.get_by_role("heading", name="Übersicht", exact=True).count() == 0
    assert _nav(page) == set()


# -- listening on other interfaces ------------------------------------------------------------------------------
def _in_own_network(script: str, tmp_path: Path, env: dict[str, str]) -> dict:
    """Run ``script`` in a fresh network namespace: there "every interface" is only its own loopback."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare/ip fehlen (util-linux, iproute2)")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("kein eigenes Netzwerk-Namespace möglich: " + probe.stderr.decode(errors="replace"))
    out = tmp_path / "result.json"
    command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, "-c", script,
               str(out)]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


_PUBLIC_PROBE = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, "tests")
from _browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, streamlit_server, wait_for_app
from _uidata import TODAY, small_batch
from msonet.graph.store import EmbeddedStore
from playwright.sync_api import sync_playwright

out = Path(sys.argv[1])
home = out.parent / "store"
EmbeddedStore(home).upsert(small_batch())
with streamlit_server(home, today=TODAY, log=out.parent / "streamlit.log", address="0.0.0.0") as url:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_for_app(page)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / ("25-" + out.parent.name + ".png")), full_page=True)
        text = page.locator('[data-testid="stMain"]').inner_text()
        nav = page.locator('[data-testid="stSidebarNav"] a').count()
        browser.close()
out.write_text(json.dumps({"text": text, "nav": nav}), encoding="utf-8")
"""


def test_app_refuses_other_interfaces_without_sign_in(tmp_path):
    result = _in_own_network(_PUBLIC_PROBE, tmp_path, {"MSONET_AUTH": "none"})
    assert "msonet ist nicht freigegeben" in result["text"]
    assert "MSONET_AUTH=local" in result["text"] and "MSONET_ALLOW_UNPROTECTED=1" in result["text"]
    assert "Coach e.V." not in result["text"] and result["nav"] == 0


def test_other_interfaces_with_sign_in_show_the_sign_in(tmp_path):
    home = tmp_path / "store"
    LocalAccounts(home / "users.json").add("vera", "Verwalten", PASSWORD)
    result = _in_own_network(_PUBLIC_PROBE, tmp_path, {"MSONET_AUTH": "local"})
    assert "msonet – Anmeldung" in result["text"] and "nicht freigegeben" not in result["text"]


def test_explicit_override_serves_other_interfaces_and_warns(tmp_path):
    result = _in_own_network(_PUBLIC_PROBE, tmp_path, {"MSONET_AUTH": "none", "MSONET_ALLOW_UNPROTECTED": "1"})
    assert "ohne Anmeldung" in result["text"] and "im Netz erreichbar" in result["text"]
    assert result["nav"] == 8
