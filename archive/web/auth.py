"""Who is asking: an API token (`Authorization: Bearer`) or a browser session cookie.

Every route but `/login`, `/healthz` and the stylesheet depends on `principal`; a route that
needs more than being signed in depends on `require(permission)`. A missing or wrong
credential is a 401 (pages redirect to the sign-in form), a missing right a 403, and both are
written to the audit log with the client's address.

The client's address (audited with every event) is the peer's, or behind a configured trusted
proxy the one it forwards (`client_of`); `X-Forwarded-*` from anyone else is ignored.

Browser sessions are cookies holding a random secret (only its hash is kept server-side),
HttpOnly, SameSite=Strict and, under TLS (`is_tls`), Secure; a state-changing request made with a cookie must also come
from our own origin (Origin/Referer checked), so another site cannot make a signed-in
browser act.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from schemas import AuditAction, AuditOutcome, Role, User

from ..access.policy import Permission, allowed, sees_holds, sees_removed
from ..access.settings import Network
from ..errors import AuthenticationFailed
from .state import AppState, app_state

SESSION_COOKIE = "communis_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """A signed-in user and where the request came from."""

    user: User
    client: str
    via: str  # "token" or "session"

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def public_only(self) -> bool:
        """Whether searches and pages are limited to what is public now."""
        return not sees_removed(self.user.role)

    @property
    def sees_holds(self) -> bool:
        """Whether legal holds are shown to this user (not to read-only users)."""
        return sees_holds(self.user.role)

    def can(self, permission: Permission) -> bool:
        return allowed(self.user.role, permission)


class NotAuthenticated(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(status_code=401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="communis"'})


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_of(request: Request) -> str:
    """The client's address: the peer's, or — when the peer is a trusted proxy — the nearest address in
    `X-Forwarded-For` that is not itself a trusted proxy (read from the right: the hops a client could
    not have written). From anyone else the header is ignored, so no client can choose its address."""
    peer = request.client.host if request.client else ""
    networks = app_state(request).access.proxy_networks
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",") if a.strip()]
    found = peer
    for hop in reversed(hops):
        found = hop
        if not _trusted(hop, networks):
            break
    return found[:200]


def is_tls(request: Request) -> bool:
    """Whether the client reached us over TLS: our own scheme, or a trusted proxy's `X-Forwarded-Proto`."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    if not _trusted(peer, app_state(request).access.proxy_networks):
        return False
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticated("use 'Authorization: Bearer <token>'")
    return value.strip()


def _same_origin(request: Request) -> bool:
    """Whether a cookie-authenticated, state-changing request comes from our own pages.

    Browsers say so in `Sec-Fetch-Site`; older ones are judged by `Origin`, then `Referer`
    (`Origin: null` says nothing: browsers send it for forms under a no-referrer policy).
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        origin = request.headers.get("referer")
    if not origin:
        return False
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


async def principal(request: Request, state: Annotated[AppState, Depends(app_state)]) -> Principal:
    """The authenticated user of this request, or 401 (audited)."""
    client = client_of(request)
    try:
        token = _bearer(request)
        if token is not None:
            user = await run_in_threadpool(state.users.user_for_token, token)
            return Principal(user, client, "token")
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = await run_in_threadpool(state.users.user_for_session, cookie)
            if request.method not in _SAFE_METHODS and not _same_origin(request):
                raise HTTPException(403, "cross-site request refused")
            return Principal(user, client, "session")
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    except (AuthenticationFailed, NotAuthenticated) as exc:
        detail = exc.detail if isinstance(exc, NotAuthenticated) else str(exc)
        await run_in_threadpool(
            state.audit_event, AuditAction.LOGIN, None, None, request.url.path, client, AuditOutcome.DENIED, detail
        )
        raise NotAuthenticated(detail) from None


def require(permission: Permission, action: AuditAction | None = None) -> Callable[..., object]:
    """A dependency: the principal, if their role has `permission`; else 403 (audited).

    `action` names the refused step in the audit log where one permission covers several
    (creating, running and exporting a request case are all `requests`).
    """

    async def check(
        request: Request, who: Annotated[Principal, Depends(principal)], state: Annotated[AppState, Depends(app_state)]
    ) -> Principal:
        if not who.can(permission):
            refused = action or AuditAction(_AUDITED.get(permission, "view"))
            await run_in_threadpool(
                state.audit_event,
                refused,
                who.user.name,
                who.role,
                request.url.path,
                who.client,
                AuditOutcome.DENIED,
                f"role {who.role.value} lacks {permission.value}",
            )
            doing = _DOING.get(permission, permission.value.replace("-", " "))
            raise HTTPException(403, f"the role {who.role.value!r} may not {doing}")
        return who

    return check


#: The audit action a refused permission is logged under.
_AUDITED = {
    Permission.SEARCH: "search",
    Permission.VIEW: "view",
    Permission.VIEW_REMOVED: "view",
    Permission.WARC: "warc",
    Permission.EXPORT: "export",
    Permission.VERIFY: "verify",
    Permission.AUDIT_READ: "audit.read",
    Permission.REQUESTS_VIEW: "view",
    Permission.REQUESTS: "request.review",
    Permission.HOLDS: "hold.place",
    Permission.HOLDS_VIEW: "view",
    Permission.COMPLETENESS: "completeness",
}

#: How a refusal names what was refused, where the permission's name is not a verb.
_DOING = {
    Permission.REQUESTS_VIEW: "see public-records requests",
    Permission.REQUESTS: "handle public-records requests",
    Permission.HOLDS: "place or release legal holds",
    Permission.COMPLETENESS: "see completeness reports",
}
