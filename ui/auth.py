"""Sign-in and the guard of every page: who is using the app, which role they have, what they may do.

One small API for the pages: :func:`require` at the top of a page (stops it for a role without the
right), :func:`allowed` around widgets and downloads with contact or personal data, :func:`audit` after
every write and :func:`audited_download` for downloads with personal data. Roles and rights are defined
in ``graph/access.py``; the app enforces them here on the server, on every run of every page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from msonet.graph.access import (
    RIGHTS,
    ROLE_LABELS,
    AccessError,
    AuditLog,
    LocalAccounts,
    Principal,
    SignInThrottle,
    is_loopback,
    parse_role_map,
    role_from_claims,
)
from msonet.ui import common

__all__ = ["gate", "current", "allowed", "require", "audit", "audited_download", "PAGE_RIGHTS", "may_open",
           "unprotected_notice", "listen_address"]

#: Right a page needs (``app.PAGES`` paths); pages not listed need "admin".
PAGE_RIGHTS = {
    "ui/overview.py": "view",
    "ui/network.py": "view",
    "ui/coverage.py": "view",
    "ui/isolation.py": "advise",
    "ui/tandem.py": "advise",
    "ui/meeting.py": "advise",
    "ui/data.py": "edit",
    "ui/admin.py": "admin",
}

_KEY = "_msonet_principal"  # no widget uses this key, so a browser cannot set it
_SINGLE_USER = Principal("lokal", "verwalten", "none")


def listen_address() -> str | None:
    """The address the Streamlit server listens on (``server.address``; None means every interface)."""
    return st.get_option("server.address")


@st.cache_resource(show_spinner=False)
def _throttle() -> SignInThrottle:
    """One throttle for the whole server process, shared by all sessions."""
    return SignInThrottle()


def _accounts(settings) -> LocalAccounts:
    return LocalAccounts(settings.users_path)


def _log(settings) -> AuditLog:
    return AuditLog(settings.audit_path)


def _record(log: AuditLog, principal: Principal, action: str, **counts: int) -> None:
    """Log a sign-in event; without a writable log nobody is let in (accountability comes first)."""
    try:
        log.record(principal, action, **counts)
    except AccessError as exc:
        _stop_with("msonet – Protokoll nicht beschreibbar", str(exc))


def _stop_with(title: str, text: str) -> None:
    st.title(title)
    st.error(text)
    st.stop()


def gate() -> Principal:
    """Make sure the session is signed in with a role; otherwise show the sign-in and stop the run.

    Called by ``app.py`` before the navigation, and by :func:`current` when a page runs on its own.
    """
    try:
        settings = common.settings()
    except AccessError as exc:
        _stop_with("msonet – Einstellungen prüfen", str(exc))
        raise  # pragma: no cover - st.stop() ends the run
    if settings.auth == "none":
        address = listen_address()
        if not is_loopback(address) and not settings.allow_unprotected:
            _stop_with("msonet ist nicht freigegeben",
                       f"Die App ist ohne Anmeldung gestartet, nimmt aber Verbindungen von anderen Rechnern an "
                       f"(server.address = {address or 'alle Netzwerkschnittstellen'}). So könnte jede Person im "
                       "Netz Daten hochladen, löschen und Kontaktdaten herunterladen – deshalb zeigt die App nichts "
                       "an.\n\nFür einen gemeinsamen Betrieb eine Anmeldung einrichten: MSONET_AUTH=local mit "
                       "Konten aus „msonet user add NAME --role ROLLE“ oder MSONET_AUTH=oidc mit Single Sign-on "
                       "(siehe README, Abschnitt „Betrieb für mehrere Personen“). Für die Arbeit allein am eigenen "
                       "Rechner mit „--server.address localhost“ starten. Wer bewusst ohne Anmeldung im Netz "
                       "anbieten will, setzt MSONET_ALLOW_UNPROTECTED=1.")
        st.session_state[_KEY] = _SINGLE_USER
        return _SINGLE_USER
    if settings.auth == "oidc":
        principal = _oidc_principal(settings)
    else:
        principal = _local_principal(settings)
    st.session_state[_KEY] = principal
    return principal


def current() -> Principal:
    """The signed-in principal of this session (signs in first when needed)."""
    principal = st.session_state.get(_KEY)
    return principal if isinstance(principal, Principal) else gate()


def allowed(right: str) -> bool:
    """Whether the current user has ``right`` (see ``graph.access.RIGHTS``)."""
    return current().can(right)


def may_open(page: str) -> bool:
    """Whether the current user may open the page file ``page``."""
    return allowed(PAGE_RIGHTS.get(page, "admin"))


def require(right: str) -> None:
    """Stop the page with a German message unless the current user has ``right``."""
    principal = current()
    if principal.can(right):
        return
    lowest = ROLE_LABELS[RIGHTS[right][0]]
    st.error(f"Ihre Rolle „{principal.role_label}“ erlaubt das nicht. Dafür ist mindestens die Rolle „{lowest}“ "
             f"nötig ({RIGHTS[right][1]}). Bitte wenden Sie sich an eine Person mit der Rolle „Verwalten“.")
    st.stop()


def audit(action: str, **counts: int) -> None:
    """Record ``action`` of the current user with ``counts`` in the audit log (never data content)."""
    _log(common.settings()).record(current(), action, **counts)


def audited_download(action: str, build: Callable[[], bytes], **counts: int) -> Callable[[], bytes]:
    """``build`` for a download button, recording ``action`` in the audit log when the file is fetched.

    The principal and the log are taken now: the file is built later, outside this page run.
    """
    principal, log = current(), _log(common.settings())

    @functools.wraps(build)
    def fetch() -> bytes:
        data = build()
        log.record(principal, action, **counts)
        return data

    return fetch


def unprotected_notice() -> None:
    """On the Übersicht: say when the app runs without sign-in."""
    settings = common.settings()
    if settings.auth != "none":
        return
    if is_loopback(listen_address()):
        st.markdown(":material/lock_open: **Ohne Anmeldung:** Diese App ist nur auf diesem Computer erreichbar "
                    "(localhost) und ungeschützt – wer sie hier öffnet, hat alle Rechte. Für einen gemeinsamen "
                    "Betrieb mit Anmeldung und Rollen siehe README, Abschnitt „Betrieb für mehrere Personen“.")
    else:
        st.warning("Diese App läuft **ohne Anmeldung** und ist im Netz erreichbar (MSONET_ALLOW_UNPROTECTED): "
                   "Jede Person, die sie erreicht, kann Daten ändern und Kontaktdaten herunterladen.", icon="⚠️")


def sidebar(principal: Principal) -> None:
    """Who is signed in, and the sign-out button."""
    if principal.via == "none":
        st.sidebar.caption("Ohne Anmeldung – alle Rechte")
        return
    st.sidebar.caption(f"Angemeldet: **{common.md(principal.name)}** · Rolle **{principal.role_label}**")
    if st.sidebar.button("Abmelden", key="auth_signout", icon=":material/logout:"):
        _sign_out(principal)


def _sign_out(principal: Principal) -> None:
    audit("signout")
    st.session_state.pop(_KEY, None)
    st.session_state.pop("_msonet_oidc_logged", None)
    if principal.via == "oidc":
        st.logout()  # sends the browser to /auth/logout (cookie cleared, provider's end-session page)
        st.stop()  # a rerun here could start before that redirect reached the browser and drop it
    st.rerun()


# -- local accounts ----------------------------------------------------------------------------------------
def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "?"


def _local_principal(settings) -> Principal:
    accounts = _accounts(settings)
    try:
        known = {a.name: a.role for a in accounts.accounts()}
    except AccessError as exc:
        _stop_with("msonet – Anmeldung nicht möglich", str(exc))
        raise  # pragma: no cover
    principal = st.session_state.get(_KEY)
    if isinstance(principal, Principal) and principal.via == "local":
        # Checked on every run: a removed account or a changed role takes effect at once.
        role = known.get(principal.name)
        if role == principal.role:
            return principal
        st.session_state.pop(_KEY, None)
        if role is not None:
            return Principal(principal.name, role, "local")
        st.session_state["_msonet_signin_note"] = "Ihr Konto gibt es nicht mehr; Sie wurden abgemeldet."
    if not known:
        _stop_with("msonet – noch keine Benutzer",
                   "Die Anmeldung mit lokalen Konten ist eingeschaltet (MSONET_AUTH=local), aber es gibt noch kein "
                   f"Konto (Datei {settings.users_path}). Auf dem Server anlegen mit: "
                   "msonet user add NAME --role Verwalten")
    _sign_in_form(settings, accounts, known)
    st.stop()
    raise AssertionError("unreachable")  # pragma: no cover


def _sign_in_form(settings, accounts: LocalAccounts, known: dict[str, str]) -> None:
    st.title("msonet – Anmeldung")
    st.caption("Netzwerk-Explorer für Migrant\\*innenselbstorganisationen und Regeldienste in NRW")
    note = st.session_state.pop("_msonet_signin_note", None)
    if note:
        st.info(note)
    with st.form("signin", clear_on_submit=True):
        name = st.text_input("Benutzername", key="signin_name", autocomplete="username")
        password = st.text_input("Passwort", type="password", key="signin_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Anmelden", type="primary")
    if not submitted:
        return
    name = name.strip()
    throttle, session = _throttle(), "\x00session:" + _session_id()
    wait = max(throttle.wait_seconds(name), throttle.wait_seconds(session))
    stored = next((n for n in known if n.casefold() == name.casefold()), None)
    # An unknown name is never written to the log: it may be a password typed into the wrong field.
    who = Principal(stored or "(unbekannter Name)", known.get(stored or "", ""), "local")
    log = _log(settings)
    if wait > 0:
        _record(log, who, "signin_blocked", seconds=int(wait + 0.999))
        st.error(f"Zu viele Fehlversuche. Bitte in {_duration(wait)} erneut versuchen.")
        return
    principal = accounts.verify(name, password) if name and password else None
    if principal is None:
        locked = max(throttle.failed(name), throttle.failed(session))
        _record(log, who, "signin_failed")
        message = "Benutzername oder Passwort stimmt nicht."
        if locked:
            message += f" Zu viele Fehlversuche: die nächste Anmeldung ist in {_duration(locked)} möglich."
        st.error(message)
        return
    throttle.succeeded(name)
    throttle.succeeded(session)
    _record(log, principal, "signin")
    st.session_state[_KEY] = principal
    st.rerun()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.999)
    if seconds < 90:
        return f"{seconds} Sekunden"
    return f"{(seconds + 59) // 60} Minuten"


# -- single sign-on (OpenID Connect through st.login) ---------------------------------------------------------
def _has_auth_secrets() -> bool:
    if not common.secrets_file_exists():
        return False
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no or unreadable secrets file
        return False


def _oidc_principal(settings) -> Principal:
    if not _has_auth_secrets():
        _stop_with("msonet – Single Sign-on nicht eingerichtet",
                   "MSONET_AUTH=oidc verlangt einen Abschnitt [auth] in .streamlit/secrets.toml (redirect_uri, "
                   "cookie_secret, client_id, client_secret, server_metadata_url). Siehe README, Abschnitt "
                   "„Betrieb für mehrere Personen“.")
    try:
        role_map = parse_role_map(settings.oidc_roles)
    except AccessError as exc:
        _stop_with("msonet – Einstellungen prüfen", str(exc))
        raise  # pragma: no cover
    user = st.user
    if not user.is_logged_in:
        st.title("msonet – Anmeldung")
        st.caption("Netzwerk-Explorer für Migrant\\*innenselbstorganisationen und Regeldienste in NRW")
        st.write("Melden Sie sich mit dem Konto Ihrer Organisation an.")
        provider = settings.oidc_provider
        st.button("Anmelden (Single Sign-on)", type="primary", key="auth_login",
                  on_click=st.login, args=(provider,) if provider else ())
        st.stop()
    claims: dict[str, Any] = user.to_dict()
    name = str(claims.get("preferred_username") or claims.get("email") or claims.get("name") or claims.get("sub"))
    try:
        role = role_from_claims(claims, settings.oidc_claim, role_map, settings.oidc_default_role)
    except AccessError as exc:
        _stop_with("msonet – Einstellungen prüfen", str(exc))
        raise  # pragma: no cover
    if role is None:
        st.title("msonet – keine Rolle")
        st.error(f"Sie sind als „{common.md(name)}“ angemeldet, aber Ihr Konto hat keine Rolle in msonet (kein Wert "
                 f"im Claim „{settings.oidc_claim}“ ist in MSONET_OIDC_ROLES einer Rolle zugeordnet). Bitte wenden "
                 "Sie sich an die Person, die msonet betreut.")
        if st.button("Abmelden", key="auth_norole_signout"):
            st.logout()
        st.stop()
    principal = Principal(name, role, "oidc")
    if st.session_state.get("_msonet_oidc_logged") != (name, role):
        _record(_log(settings), principal, "signin")
        st.session_state["_msonet_oidc_logged"] = (name, role)
    return principal
