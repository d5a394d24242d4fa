"""Server-rendered pages: sign in, search, a record with its thread/versions/provenance, timelines, audit.

Pages call the same functions as the API (api.run_search, api.load_record …), so the audit
trail and the role rules are the same whichever way a record is reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from schemas import AuditAction, Kind, Platform

from ..access.policy import Permission
from ..access.signin import LockedOut, SignIn
from ..browse import account_timeline, item_captures, thread_of, verify_record, versions_of
from ..browse.thread import Thread, ThreadNode
from ..browse.timeline import Interval
from ..errors import AuthenticationFailed
from . import render
from .api import load_record, record_provenance, run_search
from .auth import SESSION_COOKIE, Principal, client_of, is_tls, principal, require
from .params import SearchParams
from .state import AppState, app_state

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _when(value: object) -> str:
    """An ISO time as `YYYY-MM-DD HH:MM UTC` (stored times are UTC)."""
    return f"{str(value)[:16].replace('T', ' ')} UTC" if value else ""


templates.env.filters.update(
    linkify=render.linkify,
    highlighted=render.highlighted,
    safe_url=render.safe_url,
    when=_when,
    urlquote=lambda v: quote(str(v), safe=""),
)
templates.env.globals.update(Permission=Permission, bar_chart=render.bar_chart)

State = Annotated[AppState, Depends(app_state)]
Who = Annotated[Principal, Depends(principal)]

FACET_LABELS = {
    "platform": "Platform",
    "account": "Account",
    "department": "Department",
    "kind": "Kind",
    "retention_class": "Retention class",
    "has_media": "Has media",
    "edited": "Edited",
    "deleted": "Deleted",
    "on_hold": "Under legal hold",
}
#: Facet name → the search parameter it sets.
FACET_PARAMS = {"has_media": "has_media", "edited": "edited", "deleted": "deleted", "on_hold": "on_hold"}


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return page(request, "error.html", status, status=status, message=message, who=None)


# --- signing in (signing out is web/oidc.py's: it ends a provider's session too) ----------------


def _next(target: str | None) -> str:
    """Only a local path may follow a sign-in (no open redirect)."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", next=_next(next), error=None, who=None)


@router.post("/login")
async def login(
    request: Request,
    state: State,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    client = client_of(request)
    sign_in = SignIn(state.users, state.audit, state.access)
    try:
        user = await run_in_threadpool(partial(sign_in, client=client), name, password)
    except AuthenticationFailed as exc:  # audited by SignIn, lockouts included
        status = exc.http_status if isinstance(exc, LockedOut) else 401
        return page(request, "login.html", status, next=_next(next), error=str(exc), who=None)
    secret = await run_in_threadpool(state.users.start_session, user.name)
    response = RedirectResponse(_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict", secure=is_tls(request), path="/")
    return response


# --- search ------------------------------------------------------------------------------------


def _params(request: Request) -> tuple[SearchParams, str | None]:
    """The search form's fields (empty ones dropped) as SearchParams, or the defaults and an error."""
    data = {k: v for k, v in request.query_params.items() if v != ""}
    try:
        return SearchParams.model_validate(data), None
    except ValidationError as exc:
        err = exc.errors()[0]
        return SearchParams(), f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


@router.get("/")
async def search_page(
    request: Request, state: State, who: Annotated[Principal, Depends(require(Permission.SEARCH))]
) -> HTMLResponse:
    params, error = _params(request)
    # facets are counted on the first page only: counting them again for every next page of a long
    # result list costs the shared cluster a third more per page and tells nothing new
    result = None if error else await run_in_threadpool(run_search, state, who, params)
    facets = []
    if result is not None:
        for name, label in FACET_LABELS.items():
            values = result.facets.get(name) or {}
            if values:
                facets.append((name, label, sorted(values.items(), key=lambda kv: -kv[1])))
    return page(
        request,
        "search.html",
        who=who,
        params=params,
        result=result,
        error=error,
        facets=facets,
        platforms=[p.value for p in Platform],
        kinds=[k.value for k in Kind],
    )


# --- a record ----------------------------------------------------------------------------------


def _record_context(state: AppState, who: Principal, record_id: str) -> dict[str, Any]:
    doc = load_record(state, who, record_id)
    index = state.archive.index
    versions = versions_of(index, doc["item_key"]) if who.can(Permission.VIEW_REMOVED) else []
    shown = doc
    tombstone = None
    if doc.get("deleted"):
        tombstone = next((v for v in versions if v.document["record_id"] == doc["record_id"]), None)
        alive = [v.document for v in versions if not v.document.get("deleted")]
        shown = alive[-1] if alive else doc
    latest = next((v.document for v in reversed(versions)), None)
    thread = thread_of(index, doc, public_only=who.public_only)
    others = [v.document["record_id"] for v in versions] + [n.document["record_id"] for n in _nodes(thread)]
    # the page shows every version and the whole thread: each record is named in an audit event
    state.audit_shown(
        AuditAction.VIEW,
        [rid for rid in others if rid != record_id],
        who.user.name,
        who.role,
        who.client,
        note=f"on the record page of {record_id}",
    )
    return {
        "doc": doc,
        "shown": shown,
        "tombstone": tombstone,
        "versions": versions,
        "latest": latest,
        "thread": thread,
        "captures": item_captures([v.document for v in versions]),
        "provenance": record_provenance(state, who, doc),
        "verify": None,
    }


def _nodes(thread: Thread) -> Iterator[ThreadNode]:
    """Every node of a thread: the top post, its replies (depth first) and the orphans."""
    stack = [*([thread.root] if thread.root else []), *thread.orphans]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.replies)


@router.get("/records/{record_id}")
async def record_page(
    request: Request, record_id: str, state: State, who: Annotated[Principal, Depends(require(Permission.VIEW))]
) -> HTMLResponse:
    context = await run_in_threadpool(_record_context, state, who, record_id)
    return page(request, "record.html", who=who, **context)


@router.post("/records/{record_id}/verify")
async def verify_page(
    request: Request, record_id: str, state: State, who: Annotated[Principal, Depends(require(Permission.VERIFY))]
) -> HTMLResponse:
    context = await run_in_threadpool(_record_context, state, who, record_id)
    state.audit_event(AuditAction.VERIFY, who.user.name, who.role, record_id, who.client)
    context["verify"] = await run_in_threadpool(
        verify_record, state.archive.index, state.archive.store, record_id, now=state.now()
    )
    return page(request, "record.html", who=who, **context)


@router.get("/records/{record_id}/verify")
async def verify_again(record_id: str, _: Who) -> Response:
    """A reload or bookmark of a verification result: back to the record (verify is a POST)."""
    return RedirectResponse(f"/records/{quote(record_id, safe='')}", status_code=303)


@router.get("/items/{item_key}")
async def item_page(item_key: str, state: State, who: Who) -> Response:
    """The latest version of an item (what a link to an item means)."""
    from ..index import SearchQuery, search

    found = await run_in_threadpool(
        search,
        state.archive.index,
        SearchQuery(item_key=item_key, latest_only=True, public_only=who.public_only, size=1),
        facets=False,
    )
    if not found.hits:
        raise HTTPException(404, f"no item {item_key}")
    await run_in_threadpool(
        state.audit_event,
        AuditAction.VIEW,
        who.user.name,
        who.role,
        found.hits[0].record_id,
        who.client,
        note=f"item link {item_key}"[:1000],
    )
    return RedirectResponse(f"/records/{found.hits[0].record_id}", status_code=303)


# --- timelines and audit -----------------------------------------------------------------------


@router.get("/accounts/{account}")
async def account_page(
    request: Request,
    account: str,
    state: State,
    who: Annotated[Principal, Depends(require(Permission.SEARCH))],
    interval: Interval = "week",
) -> HTMLResponse:
    buckets = await run_in_threadpool(
        account_timeline, state.archive.index, account, interval=interval, public_only=who.public_only
    )
    await run_in_threadpool(
        state.audit_event,
        AuditAction.SEARCH,
        who.user.name,
        who.role,
        f"timeline of {account} per {interval}",
        who.client,
    )
    return page(
        request,
        "account.html",
        who=who,
        account=account,
        interval=interval,
        buckets=buckets,
        points=[(b.start, b.total) for b in buckets],
    )


@router.get("/audit")
async def audit_page(
    request: Request,
    state: State,
    who: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    user: str = "",
    action: str = "",
) -> HTMLResponse:
    await run_in_threadpool(
        state.audit_event, AuditAction.AUDIT_READ, who.user.name, who.role, f"user={user} action={action}", who.client
    )
    await run_in_threadpool(state.audit.refresh)  # an admin looking right after an action sees it
    events = await run_in_threadpool(state.audit.latest, 200, user=user or None, action=action or None)
    return page(
        request, "audit.html", who=who, events=events, user=user, action=action, actions=[a.value for a in AuditAction]
    )
