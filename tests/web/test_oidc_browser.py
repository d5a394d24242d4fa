"""Single sign-on with a real Keycloak, in headless Chromium: what a member of staff does and sees.

Keycloak's own server distribution (archive/services/keycloak.py) runs once for the session on
loopback with the realm of tests/peers/keycloak/realm.json: the client `communis` (confidential,
PKCE S256 required, a `groups` mapper), the groups /archivists, /legal and /kitchen, and users in
them, one in no group and one disabled. Communis serves a small real archive (the Mastodon sample
in the real Elasticsearch) with single sign-on configured the way an operator would: issuer URL,
client id, the name of the variable that holds the secret, and a role map.

Keycloak is reached as `localhost` and Communis as `127.0.0.1`: two sites, as the provider and the
archive are in production, so the browser applies its cross-site cookie rules for real (a session
cookie set during a navigation that the provider's page started must still work on the next page).

Every wait is for a page or an element (tests/web/browser.py's hang guard), never a pause.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser

from archive.access import open_audit, open_users
from archive.access.oidc import OidcSettings
from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.config import Settings
from archive.context import Archive
from archive.samples import ACCOUNTS_FILE, sample_file
from archive.services.keycloak import LocalKeycloak
from archive.web import create_app
from schemas import AuditEvent, AuditOutcome, Role
from tests.conftest import EVENTS_PREFIX
from tests.waiting import HANG_GUARD_S
from tests.web.browser import TIMEOUT_MS, Tab
from tests.web.conftest import PASSWORD, _free_port, _Server

pytestmark = pytest.mark.integration

REALM_FILE = Path(__file__).resolve().parents[1] / "peers" / "keycloak" / "realm.json"
SECRET_ENV = "SUNDSVIK_SSO_CLIENT_SECRET"
CLIENT_SECRET = "test-only-client-secret-0123456789"  # the realm file's, as an operator would export it
PASSWORDS = {
    "arkivarie.anna": "anna-lösenord-1",
    "jurist.jonas": "jonas-lösenord-1",
    "vikarie.vera": "vera-lösenord-1",
    "kock.karin": "karin-lösenord-1",
    "utan.grupp": "ugo-lösenord-1",
    "slutat.sven": "sven-lösenord-1",
}
ROLE_MAP = {"/legal": "legal", "/archivists": "archivist"}


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKeycloak]:
    """One Keycloak for the session (it takes about 20 s to start once its build is cached)."""
    with LocalKeycloak.start(tmp_path_factory.mktemp("keycloak"), [REALM_FILE]) as kc:
        print(f"\nKeycloak ready in {kc.seconds:.1f} s at {kc.url}")
        yield kc


@dataclass
class SsoWorld:
    url: str
    settings: Settings
    keycloak: LocalKeycloak
    admin_token: str
    admin_name: str

    def events(self, action: str, since: datetime | None = None, **match: object) -> list[AuditEvent]:
        """This Keycloak's `action` events (newest first), since `since`, whose fields equal `match`. The
        stream is shared by every test (and branch): only events of one action are read, by name."""
        audit = open_audit(self.settings)
        audit.refresh()
        found = audit.latest(5000, action=action)
        mine = [e for e in found if (e.at >= since if since else self.keycloak.issuer() in e.target)]
        return [e for e in mine if all(getattr(e, k) == v for k, v in match.items())]

    def sub(self, username: str) -> str:
        """The subject Keycloak gives a user in its ID tokens: the user's id."""
        return self.keycloak.user_id(username)

    def target(self, username: str) -> str:
        return f"oidc sub={self.sub(username)} iss={self.keycloak.issuer()}"


@pytest.fixture(scope="session")
def sso(keycloak: LocalKeycloak, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoWorld]:
    """A small real archive served with single sign-on to the Keycloak realm, and a local admin beside it."""
    mp = pytest.MonkeyPatch()
    mp.setenv(SECRET_ENV, CLIENT_SECRET)
    root = tmp_path_factory.mktemp("sso")
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        data_dir=root / "data",
        store_path=root / "store",
        accounts_file=ACCOUNTS_FILE,
        es_index_prefix=f"test-sso-{run}",
        events_prefix=EVENTS_PREFIX,
    )
    arc = Archive(settings)
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, settings):
        if account.platform.value == "mastodon":
            pipeline.ingest(account, list(read_file(sample_file(account.id))))
    arc.index.refresh()
    admin_name = f"admin-{run}"
    _, admin_token = open_users(settings).add(admin_name, Role.ADMIN, PASSWORD)
    oidc = OidcSettings(
        oidc_issuer=keycloak.issuer(),
        oidc_client_id="communis",
        oidc_client_secret_env=SECRET_ENV,
        oidc_role_map=ROLE_MAP,
        oidc_label="Sundsviks kommun",
    )
    port = _free_port()
    app = create_app(settings, oidc=oidc)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.serve_then_say, daemon=True)
    thread.start()
    server.said.wait(HANG_GUARD_S)
    if not server.started:
        raise RuntimeError("the web application did not start (see uvicorn's error above)")
    try:
        yield SsoWorld(f"http://127.0.0.1:{port}", settings, keycloak, admin_token, admin_name)
    finally:
        server.should_exit = True
        thread.join(10)
        arc.index.destroy()
        mp.undo()


@pytest.fixture
def new_tab(chromium: Browser, sso: SsoWorld) -> Iterator[Callable[..., Tab]]:
    """Pages in fresh browser contexts (their own cookies, Keycloak's too); closed after the test."""
    tabs: list[Tab] = []

    def make(locale: str = "sv-SE") -> Tab:
        context = chromium.new_context(base_url=sso.url, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        tab = Tab(sso.url, context, context.new_page())
        context.on("request", lambda request: tab.requests.append(request.url))
        tab.page.on("dialog", tab._dialog)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.close()


def _at_keycloak(tab: Tab, sso: SsoWorld) -> bool:
    return tab.page.url.startswith(sso.keycloak.issuer())


def sign_in_at_keycloak(tab: Tab, sso: SsoWorld, username: str, *, start: str = "/") -> None:
    """What a user does: open Communis, choose single sign-on, sign in on Keycloak's own page."""
    tab.goto(start)
    assert tab.path.startswith("/login"), tab.path
    tab.submit(tab.page.get_by_role("link", name="Sign in with Sundsviks kommun"))
    assert _at_keycloak(tab, sso), f"not on Keycloak's sign-in page but on {tab.page.url}"
    tab.page.locator("#username").fill(username)
    tab.page.locator("#password").fill(PASSWORDS[username])
    tab.submit(tab.page.locator("#kc-login"))


def _landed(tab: Tab, path: str = "/") -> None:
    """Wait until the browser is on `path` of Communis (the callback's page moves on by itself)."""
    tab.page.wait_for_url(f"{tab.base}{path}")


def _signed_in_as(tab: Tab) -> str:
    return tab.page.locator("header .user").inner_text().strip()


def test_a_member_of_archivists_signs_in_at_keycloak_and_searches_as_archivist(
    new_tab: Callable[..., Tab], sso: SsoWorld
) -> None:
    tab = new_tab()
    sign_in_at_keycloak(tab, sso, "arkivarie.anna")
    _landed(tab)
    assert tab.page.locator("html").get_attribute("lang") == "sv"
    shown = _signed_in_as(tab)
    assert shown.startswith("arkivarie.anna.") and shown.endswith("(archivist)"), shown
    tab.search("snöröjning")
    assert tab.total() > 0, "an archivist finds the sample's posts"
    assert tab.page.get_by_role("link", name="Requests").count() == 1  # archivists may read cases
    assert tab.page.get_by_role("link", name="Holds").count() == 0  # but not place holds
    events = sso.events("login", target=sso.target("arkivarie.anna"))
    assert [(e.outcome.value, e.role) for e in events[:1]] == [("ok", Role.ARCHIVIST)]
    assert "arkivarie.anna" in events[0].note and events[0].user == shown.split(" ")[0]


def test_a_member_of_legal_gets_legal_and_returns_to_the_page_asked_for(
    new_tab: Callable[..., Tab], sso: SsoWorld
) -> None:
    tab = new_tab()
    sign_in_at_keycloak(tab, sso, "jurist.jonas", start="/holds")
    _landed(tab, "/holds")
    assert _signed_in_as(tab).endswith("(legal)")
    assert tab.page.get_by_role("link", name="Holds").count() == 1


def test_a_user_in_no_mapped_group_is_refused_with_a_clear_page(new_tab: Callable[..., Tab], sso: SsoWorld) -> None:
    for username, locale, lang, title in [
        ("utan.grupp", "sv-SE", "sv", "Ingen behörighet"),
        ("kock.karin", "en-GB", "en", "No access"),
    ]:
        tab = new_tab(locale)
        responses: list[int] = []

        def seen(response: Any, into: list[int] = responses) -> None:
            if "/login/oidc/callback" in response.url:
                into.append(response.status)

        tab.page.on("response", seen)
        sign_in_at_keycloak(tab, sso, username)
        assert tab.path.startswith("/login/oidc/callback"), tab.page.url
        assert responses == [403]
        assert tab.page.locator("html").get_attribute("lang") == lang
        assert tab.page.get_by_role("heading", level=1).inner_text() == title
        assert username in tab.page.get_by_role("alert").inner_text()
        assert not tab.session_cookies(), "a refused user gets no session"
        tab.goto("/")
        assert tab.path == "/login?next=/", "and is asked to sign in, not let in"
        refused = sso.events("login", target=sso.target(username))
        assert refused and refused[0].outcome.value == "denied" and refused[0].role is None
        assert "no role is mapped to the groups claim" in refused[0].note
    assert "/kitchen" in sso.events("login", target=sso.target("kock.karin"))[0].note


def test_a_user_disabled_in_keycloak_cannot_start_a_session(new_tab: Callable[..., Tab], sso: SsoWorld) -> None:
    # disabled from the start: Keycloak refuses on its own page and never sends the browser back
    tab = new_tab()
    sign_in_at_keycloak(tab, sso, "slutat.sven")
    assert _at_keycloak(tab, sso), tab.page.url
    assert "disabled" in tab.page.locator("body").inner_text().lower()
    assert not tab.session_cookies()
    # signed in once, then disabled by Keycloak's administrator: the next sign-in is refused, even
    # from a browser that still holds Keycloak's own session cookie
    tab = new_tab()
    sign_in_at_keycloak(tab, sso, "vikarie.vera")
    _landed(tab)
    tab.context.clear_cookies(domain="127.0.0.1")  # our session ends (as after 10 hours); Keycloak's stays
    sso.keycloak.set_enabled("vikarie.vera", False)
    try:
        tab.goto("/")
        tab.submit(tab.page.get_by_role("link", name="Sign in with Sundsviks kommun"))
        if tab.page.url.startswith(sso.url):  # back at Communis: only if Keycloak let the session through
            pytest.fail(f"a disabled user came back from Keycloak to {tab.page.url}")
        if tab.page.locator("#username").count():
            tab.page.locator("#username").fill("vikarie.vera")
            tab.page.locator("#password").fill(PASSWORDS["vikarie.vera"])
            tab.submit(tab.page.locator("#kc-login"))
        assert _at_keycloak(tab, sso) and "disabled" in tab.page.locator("body").inner_text().lower()
        assert not tab.session_cookies()
    finally:
        sso.keycloak.set_enabled("vikarie.vera", True)
    signed_in = sso.events("login", target=sso.target("vikarie.vera"))
    assert [e.outcome.value for e in signed_in] == ["ok"], "one sign-in, before the user was disabled"
    assert not sso.events("login", target=sso.target("slutat.sven"))


def test_signing_out_ends_our_session_and_keycloaks(new_tab: Callable[..., Tab], sso: SsoWorld) -> None:
    tab = new_tab()
    sign_in_at_keycloak(tab, sso, "arkivarie.anna")
    _landed(tab)
    old = tab.session_cookies()
    tab.sign_out()
    _landed(tab, "/login")  # via Keycloak's end-session endpoint, which sends the browser back here
    assert any(u.startswith(f"{sso.keycloak.issuer()}/protocol/openid-connect/logout?") for u in tab.requests)
    ended = next(u for u in tab.requests if "/protocol/openid-connect/logout?" in u)
    assert parse_qs(urlsplit(ended).query)["id_token_hint"], "Keycloak is told whose session to end"
    assert not tab.session_cookies()
    # our session is over on the server, not only forgotten by the browser
    with httpx.Client(base_url=sso.url, cookies={"communis_session": old[0]}) as client:
        assert client.get("/", follow_redirects=False).status_code == 303
    # and Keycloak's too: signing in again asks for the password
    tab.goto("/login")
    tab.submit(tab.page.get_by_role("link", name="Sign in with Sundsviks kommun"))
    assert _at_keycloak(tab, sso) and tab.page.locator("#password").count() == 1
    out = sso.events("logout", target=sso.target("arkivarie.anna"))
    assert out and out[0].role == Role.ARCHIVIST and "ended at localhost" in out[0].note


def test_a_stolen_code_is_worthless_without_its_pkce_verifier(new_tab: Callable[..., Tab], sso: SsoWorld) -> None:
    """The victim's browser is sent back with a code; the attacker, who started a sign-in of their own
    (so has a state and a cookie that match), presents the victim's code: Keycloak refuses it, since the
    attacker's verifier is not the one the victim's code was issued for."""
    since = datetime.now(UTC)
    tab = new_tab()
    stolen: list[str] = []

    def intercept(route: Any) -> None:
        """Keycloak's answer to the password form, held back: its redirect to our callback is the code."""
        answer = route.fetch(max_redirects=0)
        stolen.append(answer.headers["location"])
        route.fulfill(status=200, content_type="text/plain", body="intercepted")

    # a redirect's target cannot be routed, so the form's own request to Keycloak is
    tab.context.route(f"{sso.keycloak.issuer()}/login-actions/authenticate*", intercept)
    tab.goto("/login")
    tab.submit(tab.page.get_by_role("link", name="Sign in with Sundsviks kommun"))
    tab.page.locator("#username").fill("arkivarie.anna")
    tab.page.locator("#password").fill(PASSWORDS["arkivarie.anna"])
    tab.submit(tab.page.locator("#kc-login"))
    assert stolen and stolen[0].startswith(f"{sso.url}/login/oidc/callback?"), stolen
    assert not any("/login/oidc/callback" in url for url in tab.requests), "the victim's browser never came back"
    code = parse_qs(urlsplit(stolen[0]).query)["code"][0]
    with httpx.Client(base_url=sso.url, follow_redirects=False, timeout=300) as attacker:
        started = attacker.get("/login/oidc")
        assert started.status_code == 303
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        answer = attacker.get("/login/oidc/callback", params={"state": state, "code": code})
        assert answer.status_code == 401, answer.text
        assert "refused the code" in answer.text and "communis_session" not in answer.headers.get("set-cookie", "")
    assert any("refused the code" in e.note for e in sso.events("login", since, outcome=AuditOutcome.DENIED))


def test_the_start_is_the_code_flow_with_pkce_and_its_cookie_is_confined(sso: SsoWorld) -> None:
    with httpx.Client(base_url=sso.url, follow_redirects=False, timeout=300) as client:
        started = client.get("/login/oidc", params={"next": "//evil.example/"})
    assert started.status_code == 303
    where = urlsplit(started.headers["location"])
    query = {k: v[0] for k, v in parse_qs(where.query).items()}
    assert f"{where.scheme}://{where.netloc}{where.path}".startswith(sso.keycloak.issuer())
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    assert query["redirect_uri"] == f"{sso.url}/login/oidc/callback" and "openid" in query["scope"].split()
    cookie = started.headers["set-cookie"].lower()
    for flag in ("httponly", "samesite=lax", "path=/login/oidc", "max-age=600"):
        assert flag in cookie, cookie


def test_forged_answers_are_refused_and_audited(sso: SsoWorld) -> None:
    since = datetime.now(UTC)
    with httpx.Client(base_url=sso.url, follow_redirects=False, timeout=300) as client:
        no_start = client.get("/login/oidc/callback", params={"state": "made-up", "code": "made-up"})
        implicit = client.get("/login/oidc/callback", params={"state": "s", "id_token": "x.y.z"})
        refused = client.get("/login/oidc/callback", params={"state": "s", "error": "access_denied"})
    assert no_start.status_code == 401 and "no sign-in was started" in no_start.text
    assert implicit.status_code == 401 and "only the code flow" in implicit.text
    assert refused.status_code == 403 and "access_denied" in refused.text
    notes = [e.note for e in sso.events("login", since, outcome=AuditOutcome.DENIED)]
    for said in ("no sign-in was started", "only the code flow", "access_denied"):
        assert any(said in n for n in notes), said


def test_local_users_and_api_tokens_keep_working_beside_single_sign_on(
    new_tab: Callable[..., Tab], sso: SsoWorld
) -> None:
    tab = new_tab()
    tab.goto("/login")
    tab.sign_in(sso.admin_name)
    assert tab.path == "/" and _signed_in_as(tab) == f"{sso.admin_name} (admin)"
    tab.sign_out()
    assert tab.path == "/login", "a local user's sign-out stays here: there is no provider session to end"
    with httpx.Client(base_url=sso.url, timeout=300) as client:
        answer = client.get(
            "/api/records", params={"q": "snöröjning"}, headers={"Authorization": f"Bearer {sso.admin_token}"}
        )
    assert answer.status_code == 200 and answer.json()["total"] > 0
