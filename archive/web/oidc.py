"""Single sign-on in the browser: `/login/oidc` (to the provider), its callback, and `/logout` for everyone.

The protocol is archive/access/oidc.py's and the decision who may enter archive/access/oidc_signin.py's;
this module is the HTTP around them, and two browser rules shape it:

- The callback is reached by a cross-site navigation (the provider's page sends the browser here), and
  our session cookie is SameSite=Strict: a browser does not send it on the redirects of a navigation
  another site started. So the callback answers with a short page that moves on by itself (a meta
  refresh, no script: none is ever served) to where the user was going; that step starts here, so the
  cookie goes with it. The started sign-in's own cookie is SameSite=Lax (it must come back on that
  cross-site navigation), HttpOnly, limited to `/login/oidc` and ten minutes.
- Our Content-Security-Policy allows forms to go only to ourselves (`form-action 'self'`), and browsers
  apply that to where a form's answer redirects. The sign-out button is a form, so the sign-out of a
  provider's session answers with a page that moves on to the provider's end-session endpoint (with
  `id_token_hint`), rather than a redirect the browser would block.

The ID token is kept for that hint in an HttpOnly, SameSite=Strict cookie sent only to `/logout`, and
is checked again (signature, issuer, audience; not expiry) before it is believed or passed on.
Pages of this module are in Swedish or English, as the browser asks (`Accept-Language`), with the
`lang` attribute to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from schemas import AuditAction

from ..access.oidc import (
    PENDING_SECONDS,
    Identity,
    NoRole,
    OidcSettings,
    Pending,
    Provider,
    pending_cookie_name,
)
from ..access.oidc_signin import CALLBACK_PATH, OidcSignIn
from ..access.users import SESSION_HOURS
from ..errors import AccessError, CommunisError
from .auth import SESSION_COOKIE, Principal, client_of, is_tls, principal
from .pages import page
from .state import AppState, app_state

router = APIRouter(include_in_schema=False)

START_PATH = "/login/oidc"
HINT_COOKIE = "communis_oidc_hint"
#: Browsers keep cookies of about 4 kB; a larger ID token (hundreds of groups) is not kept, and the
#: provider's sign-out is then asked without a hint (it may ask the user to confirm).
HINT_MAX_BYTES = 3500

State = Annotated[AppState, Depends(app_state)]
Who = Annotated[Principal, Depends(principal)]

MESSAGES: dict[str, dict[str, str]] = {
    "sv": {
        "no_role.title": "Ingen behörighet",
        "no_role.text": "Du är inloggad hos {provider} som {username}, men du har ingen roll i Communis. "
        "Be din administratör om en grupp som ger tillgång till arkivet.",
        "failed.title": "Inloggningen kunde inte slutföras",
        "failed.text": "Svaret från {provider} kunde inte godtas. Försök igen.",
        "continue.title": "Inloggad",
        "continue.text": "Du är inloggad. Du skickas vidare till arkivet.",
        "signed_out.title": "Utloggad",
        "signed_out.text": "Du är utloggad från Communis. Du skickas vidare för att logga ut hos {provider} också.",
        "again": "Logga in igen",
        "onward": "Fortsätt",
        "detail": "Orsak",
    },
    "en": {
        "no_role.title": "No access",
        "no_role.text": "You are signed in at {provider} as {username}, but you have no role in Communis. "
        "Ask your administrator for a group that gives access to the archive.",
        "failed.title": "The sign-in could not be completed",
        "failed.text": "The answer from {provider} could not be accepted. Try again.",
        "continue.title": "Signed in",
        "continue.text": "You are signed in. Taking you to the archive.",
        "signed_out.title": "Signed out",
        "signed_out.text": "You are signed out of Communis. Taking you to sign out at {provider} too.",
        "again": "Sign in again",
        "onward": "Continue",
        "detail": "Reason",
    },
}


@dataclass
class OidcDoor:
    """The configured provider, as the web application holds it (`app.state.oidc`; None without one)."""

    settings: OidcSettings
    provider: Provider

    @property
    def label(self) -> str:
        return self.settings.oidc_label

    def redirect_uri(self, request: Request) -> str:
        """The callback URL registered at the provider: the setting, else this request's own origin."""
        return self.settings.oidc_redirect_uri or f"{_origin(request)}{CALLBACK_PATH}"

    def post_logout_uri(self, request: Request) -> str:
        return self.settings.oidc_post_logout_redirect_uri or f"{_origin(request)}/login"


def open_door(settings: OidcSettings | None = None) -> OidcDoor | None:
    """The provider of the settings (COMMUNIS_OIDC_* when not given), or None when single sign-on is off.
    A missing client secret fails here, at start, not at the first sign-in; the provider is first asked
    at the first sign-in, so a provider that is down does not keep local users out."""
    found = settings or OidcSettings.load()
    return OidcDoor(found, Provider(found)) if found.enabled else None


def _origin(request: Request) -> str:
    scheme = "https" if is_tls(request) else request.url.scheme
    return f"{scheme}://{request.headers.get('host') or request.url.netloc}"


def _door(request: Request) -> OidcDoor:
    door: OidcDoor | None = getattr(request.app.state, "oidc", None)
    if door is None:
        raise HTTPException(404, "single sign-on is not configured")
    return door


def language(request: Request) -> str:
    """`sv` or `en`, whichever the browser's Accept-Language ranks higher; Swedish when it names neither."""
    best, best_q = "sv", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0].strip().lower()
        if primary in MESSAGES and q > best_q:
            best, best_q = primary, q
    return best


def _local(target: str | None) -> str:
    """Only a local path may follow a sign-in (no open redirect); as pages.py's form does."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def _message(
    request: Request, kind: str, status: int, *, onward: str | None = None, detail: str = "", **words: str
) -> Response:
    lang = language(request)
    text = MESSAGES[lang]
    door: OidcDoor | None = getattr(request.app.state, "oidc", None)
    words = {"provider": door.label if door else "", **words}
    return page(
        request,
        "oidc.html",
        status,
        who=None,
        lang=lang,
        kind=kind,
        title=text[f"{kind}.title"],
        text=text[f"{kind}.text"].format(**words),
        detail=detail,
        detail_label=text["detail"],
        onward=onward,
        onward_label=text["onward"],
        again_label=text["again"],
    )


def _cookie(response: Response, request: Request, name: str, value: str, **options: Any) -> None:
    response.set_cookie(name, value, httponly=True, secure=is_tls(request), **options)


@router.get(START_PATH)
async def start(request: Request, next: str = "/") -> Response:
    """To the provider's sign-in page, with a fresh state, nonce and PKCE challenge."""
    door = _door(request)
    try:
        url, pending = await run_in_threadpool(door.provider.start, door.redirect_uri(request), _local(next))
    except CommunisError as exc:
        return _message(request, "failed", exc.http_status, detail=exc.one_line())
    response = RedirectResponse(url, status_code=303)
    value = pending.cookie_value()
    _cookie(response, request, pending.cookie_name, value, samesite="lax", path=START_PATH, max_age=PENDING_SECONDS)
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request, state: State) -> Response:
    """The provider's answer: the code exchanged and the ID token checked, the role mapped, a session made."""
    door = _door(request)
    client = client_of(request)
    params = dict(request.query_params)
    cookie = pending_cookie_name(params.get("state", ""))
    pending = Pending.from_cookie(request.cookies.get(cookie))
    sign_in = OidcSignIn(state.users, state.audit, door.settings.oidc_role_map, door.settings.oidc_roles_claim)
    try:
        identity = await run_in_threadpool(door.provider.finish, pending, params)
    except CommunisError as exc:  # SignOnFailed, or the provider unreachable or misconfigured
        await run_in_threadpool(partial(sign_in.refused, exc.one_line(), client=client))
        response = _message(request, "failed", exc.http_status, detail=exc.one_line())
        response.delete_cookie(cookie, path=START_PATH)
        return response
    try:
        user = await run_in_threadpool(partial(sign_in.admit, identity, client=client))  # audited, either way
        secret = await run_in_threadpool(state.users.start_session, user.name)
    except AccessError as exc:
        status = exc.http_status if isinstance(exc, NoRole) else 403
        response = _message(
            request, "no_role", status, detail=exc.one_line(), username=identity.username or identity.subject
        )
        response.delete_cookie(cookie, path=START_PATH)
        return response
    assert pending is not None  # finish checked it
    response = _message(request, "continue", 200, onward=pending.next)
    _cookie(response, request, SESSION_COOKIE, secret, samesite="strict", path="/")
    if len(identity.id_token) <= HINT_MAX_BYTES:
        hours = SESSION_HOURS * 3600
        _cookie(response, request, HINT_COOKIE, identity.id_token, samesite="strict", path="/logout", max_age=hours)
    response.delete_cookie(cookie, path=START_PATH)
    return response


def _logout_note(identity: Identity | None, onward: str | None) -> str:
    if identity is None:
        return ""
    return f"single sign-on; {f'ended at {urlsplit(onward).netloc} too' if onward else 'the provider was not asked'}"


def _hint_of(door: OidcDoor, token: str, who: Principal) -> Identity | None:
    """The provider identity of the session being ended, if the kept ID token still verifies and is this
    user's (a browser where someone else signed in since keeps an older hint: it is not theirs to use)."""
    try:
        claims = door.provider.validate(token, nonce=None, check_expiry=False)
    except CommunisError:
        return None
    identity = door.provider.identity(claims, token)
    return identity if identity.local_name() == who.user.name else None


@router.post("/logout")
async def logout(request: Request, who: Who, state: State) -> Response:
    """End our session; a provider's session is then ended at the provider too, where it offers that."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(state.users.end_session, cookie)
    door: OidcDoor | None = getattr(request.app.state, "oidc", None)
    hint = request.cookies.get(HINT_COOKIE)
    identity = await run_in_threadpool(_hint_of, door, hint, who) if door and hint else None
    onward = None
    if door is not None and identity is not None:
        try:
            onward = await run_in_threadpool(door.provider.logout_url, identity.id_token, door.post_logout_uri(request))
        except CommunisError:
            onward = None  # the provider cannot be asked now: our session is ended all the same
    await run_in_threadpool(
        state.audit_event,
        AuditAction.LOGOUT,
        who.user.name,
        who.role,
        identity.target if identity else "/logout",
        who.client,
        note=_logout_note(identity, onward),
    )
    response: Response = (
        _message(request, "signed_out", 200, onward=onward) if onward else RedirectResponse("/login", status_code=303)
    )
    response.delete_cookie(SESSION_COOKIE, path="/", secure=is_tls(request), httponly=True, samesite="strict")
    response.delete_cookie(HINT_COOKIE, path="/logout", secure=is_tls(request), httponly=True, samesite="strict")
    return response
