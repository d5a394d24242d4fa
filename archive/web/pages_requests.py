"""Pages for legal staff: request cases (`/requests`) and legal holds (`/holds`).

Plain HTML forms, no JavaScript: every action is a POST that, when it succeeds, redirects
(303) back to the page it came from, so a reload never repeats it. When it fails the page is
shown again with the reason and the status (400, 409), the form's input kept where it can be.

The pages call the functions of api_requests.py, so each step is checked and audited exactly
as through the API. Notices after a redirect are chosen from a fixed list by a short code in
the URL; nothing typed into a form is ever echoed from a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from schemas import MaskStatus, Platform
from schemas.cases import CaseStatus, SnapshotEntry
from schemas.search import SavedSearch

from ..access.policy import Permission
from ..errors import CommunisError
from ..requests.casebook import mask_id
from ..requests.masking import MARKER
from ..requests.workflow import MASKED_FIELDS
from . import api_requests as steps
from .api_requests import (  # the same role checks as the API, refusals audited as the same step
    Closer,
    Creator,
    Deliverer,
    Exporter,
    Placer,
    Releaser,
    Reviewer,
    Runner,
    State,
    Viewer,
)
from .auth import Principal, require
from .pages import page, templates
from .state import AppState

router = APIRouter(include_in_schema=False)


def _utc(moment: datetime | None) -> str:
    """An aware time as `YYYY-MM-DD HH:MM UTC`, like every time on the pages (a case keeps its sender's offset)."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else ""


templates.env.filters["utc"] = _utc

T = TypeVar("T")
HoldViewer = Annotated[Principal, Depends(require(Permission.HOLDS))]

#: What a page says after a step succeeded (`?done=…`); a fixed list so no URL puts text on a page.
NOTICES = {
    "created": "The request case was opened.",
    "run": "The searches were run and the result frozen as a new snapshot.",
    "reviewed": "The review decision was saved.",
    "decided": "The masking decision was saved.",
    "masked": "The manual mask was added.",
    "exported": "The package was produced; it is listed under Packages.",
    "delivered": "The delivery was logged.",
    "closed": "The case was closed.",
    "placed": "The hold was placed.",
    "released": "The hold was released.",
}


class Failed(Exception):
    """A step refused with a message to show on the page, and the status to show it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _attempt(step: Callable[[], T]) -> T:
    """Run a step; a refusal the user can act on becomes `Failed` (a missing page or right stays an error)."""
    try:
        return step()
    except CommunisError as exc:
        raise Failed(400, exc.one_line()) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise Failed(400, f"{where}: {err['msg']}" if where else str(err["msg"])) from exc
    except HTTPException as exc:
        if exc.status_code in (400, 409, 422):
            raise Failed(exc.status_code, str(exc.detail)) from exc
        raise


async def _form(request: Request) -> dict[str, str]:
    """The submitted fields, trimmed, empty ones dropped (an empty field means "not given")."""
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and v.strip()}


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def _search(form: dict[str, str]) -> SavedSearch:
    """One saved search from the form's search fields (record ids: separated by spaces, commas or lines)."""
    fields: dict[str, Any] = {k: form.get(k) for k in ("platform", "account", "published_from", "published_to")}
    fields.update(q=form.get("q", ""), record_ids=form.get("record_ids", "").replace(",", " ").split())
    return SavedSearch.model_validate(fields)


def _ground(form: dict[str, str]) -> str | None:
    """The typed ground if any, else the one chosen from the profile's list."""
    return form.get("ground_other") or form.get("ground")


# --- the case list -----------------------------------------------------------------------------

def _list_page(request: Request, state: AppState, who: Principal, *, status: int = 200, error: str | None = None,
               form: dict[str, str] | None = None) -> HTMLResponse:
    summaries = steps.list_cases(state, who)
    return page(request, "requests.html", status, who=who, summaries=summaries, profiles=steps.profiles(),
                platforms=[p.value for p in Platform], error=error, notice=_notice(request), form=form or {})


@router.get("/requests")
async def requests_page(request: Request, who: Viewer, state: State) -> HTMLResponse:
    return await run_in_threadpool(_list_page, request, state, who)


def _received(form: dict[str, str]) -> datetime | None:
    """`received_at` from a datetime-local field, read in the profile's time zone (where the letter arrived)."""
    raw = form.get("received_at")
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Failed(400, f"received_at: not a date and time: {raw[:40]!r}") from exc
    if local.tzinfo is not None:
        return local
    profile = steps.profiles().get(form.get("profile", "se"))
    return local.replace(tzinfo=ZoneInfo(profile.timezone if profile else "UTC"))


@router.post("/requests")
async def create_page(request: Request, who: Creator, state: State) -> Response:
    form = await _form(request)

    def step() -> str:
        body = steps.CaseCreate.model_validate({
            "requester": form.get("requester"), "request_text": form.get("request_text", ""),
            "diary_number": form.get("diary_number"), "profile": form.get("profile", "se"),
            "searches": [_search(form)], "received_at": _received(form)})
        return steps.create_case(state, who, body).id

    try:
        case_id = await run_in_threadpool(_attempt, step)
    except Failed as failed:
        return await run_in_threadpool(partial(_list_page, request, state, who, status=failed.status,
                                               error=failed.message, form=form))
    return _back(f"/requests/{case_id}", "created")


# --- one case ----------------------------------------------------------------------------------

def _case_page(request: Request, state: AppState, who: Principal, case_id: str, *, status: int = 200,
               error: str | None = None) -> HTMLResponse:
    case, entries, masks = steps.read_case(state, who, case_id)
    detail = steps.summarize(state, case, entries, masks)
    groups: dict[tuple[str, str], list[SnapshotEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.platform, e.account, e.record_id)):
        groups.setdefault((entry.platform, entry.account), []).append(entry)
    with_ids = [steps.MaskOut(id=mask_id(case_id, m), mask=m) for m in masks]
    previews = steps.mask_previews(state, case_id, with_ids)
    profile = steps.profiles().get(case.profile)
    return page(request, "request.html", status, who=who, case=case, detail=detail, groups=groups,
                previews=previews, pending=detail.masks.pending,
                grounds=profile.default_grounds if profile else [], profile=profile,
                fields=MASKED_FIELDS, can_act=who.can(Permission.REQUESTS) and case.status is CaseStatus.OPEN,
                can_export=who.can(Permission.REQUESTS), error=error, notice=_notice(request),
                MaskStatus=MaskStatus, marker=MARKER)


@router.get("/requests/{case_id}")
async def case_page(request: Request, case_id: str, who: Viewer, state: State) -> HTMLResponse:
    return await run_in_threadpool(_case_page, request, state, who, case_id)


async def _case_step(request: Request, state: AppState, who: Principal, case_id: str, done: str,
                     step: Callable[[], object]) -> Response:
    """Run a step on a case; back to the case page with a notice, or the page again with the reason."""
    try:
        await run_in_threadpool(_attempt, step)
    except Failed as failed:
        return await run_in_threadpool(partial(_case_page, request, state, who, case_id, status=failed.status,
                                               error=failed.message))
    return _back(f"/requests/{quote(case_id, safe='')}", done)


def _model(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return model.model_validate(data)


@router.post("/requests/{case_id}/run")
async def run_page(request: Request, case_id: str, who: Runner, state: State) -> Response:
    return await _case_step(request, state, who, case_id, "run", lambda: steps.run(state, who, case_id))


@router.post("/requests/{case_id}/records/{record_id}/review")
async def review_page(request: Request, case_id: str, record_id: str, who: Reviewer, state: State) -> Response:
    form = await _form(request)

    def step() -> object:
        body = _model(steps.ReviewIn, {"include": form.get("decision") == "include",
                                       "reason": form.get("reason", "")})
        return steps.review(state, who, case_id, record_id, body)

    return await _case_step(request, state, who, case_id, "reviewed", step)


@router.post("/requests/{case_id}/masks/decide")
async def decide_page(request: Request, case_id: str, who: Reviewer, state: State) -> Response:
    form = await _form(request)

    def step() -> object:
        accept = form.get("decision") != "reject"
        if accept and not _ground(form):
            raise Failed(400, "choose or type the legal ground of the masking")
        one = form.get("mask")
        body = _model(steps.DecideIn, {"accept": accept, "ground": _ground(form) if accept else None,
                                       "ids": [one] if one else [], "all": not one})
        return steps.decide(state, who, case_id, body)

    return await _case_step(request, state, who, case_id, "decided", step)


@router.post("/requests/{case_id}/masks")
async def mask_page(request: Request, case_id: str, who: Reviewer, state: State) -> Response:
    form = await _form(request)

    def step() -> object:
        body = _model(steps.ManualMaskIn, {"record_id": form.get("record_id", ""), "field": form.get("field", "text"),
                                           "start": form.get("start"), "end": form.get("end"),
                                           "ground": _ground(form) or ""})
        return steps.manual_mask(state, who, case_id, body)

    return await _case_step(request, state, who, case_id, "masked", step)


@router.post("/requests/{case_id}/export")
async def export_page(request: Request, case_id: str, who: Exporter, state: State) -> Response:
    form = await _form(request)

    def step() -> object:
        body = _model(steps.ExportIn, {"bates": form.get("bates") == "on",
                                       "bates_prefix": form.get("bates_prefix", "COMM")})
        return steps.export(state, who, case_id, body)

    return await _case_step(request, state, who, case_id, "exported", step)


@router.post("/requests/{case_id}/deliveries")
async def delivery_page(request: Request, case_id: str, who: Deliverer, state: State) -> Response:
    form = await _form(request)

    def step() -> object:
        body = _model(steps.DeliveryIn, {"package": form.get("package"), "records": form.get("records"),
                                         "note": form.get("note", "")})
        return steps.record_delivery(state, who, case_id, body)

    return await _case_step(request, state, who, case_id, "delivered", step)


@router.post("/requests/{case_id}/close")
async def close_page(request: Request, case_id: str, who: Closer, state: State) -> Response:
    return await _case_step(request, state, who, case_id, "closed", lambda: steps.close(state, who, case_id))


# --- holds -------------------------------------------------------------------------------------

def _holds_page(request: Request, state: AppState, who: Principal, *, status: int = 200, error: str | None = None,
                form: dict[str, str] | None = None) -> HTMLResponse:
    holds = steps.list_holds(state, who)
    return page(request, "holds.html", status, who=who, holds=holds, platforms=[p.value for p in Platform],
                error=error, notice=_notice(request), form=form or {})


@router.get("/holds")
async def holds_page(request: Request, who: HoldViewer, state: State) -> HTMLResponse:
    return await run_in_threadpool(_holds_page, request, state, who)


async def _hold_step(request: Request, state: AppState, who: Principal, done: str, step: Callable[[], object],
                     form: dict[str, str] | None = None) -> Response:
    try:
        await run_in_threadpool(_attempt, step)
    except Failed as failed:
        return await run_in_threadpool(partial(_holds_page, request, state, who, status=failed.status,
                                               error=failed.message, form=form))
    return _back("/holds", done)


@router.post("/holds")
async def place_page(request: Request, who: Placer, state: State) -> Response:
    form = await _form(request)

    def step() -> object:
        body = _model(steps.HoldIn, {"matter": form.get("matter", ""), "reason": form.get("reason", ""),
                                     "scope": _search(form)})
        return steps.place(state, who, body)

    return await _hold_step(request, state, who, "placed", step, form)


@router.post("/holds/{hold_id}/release")
async def release_page(request: Request, hold_id: str, who: Releaser, state: State) -> Response:
    return await _hold_step(request, state, who, "released", lambda: steps.release(state, who, hold_id))
