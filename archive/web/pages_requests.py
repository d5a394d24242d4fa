"""Pages for legal staff: request cases (`/requests`).

Plain HTML forms, no JavaScript: every action is a POST that, when it succeeds, redirects
(303) back to the page it came from, so a reload never repeats it. When it fails the page is
shown again with the reason and the status (400, 409), the form's input kept where it can be.

The pages call archive/usecases/requests.py as the API does (api_requests.py), with the same
role dependencies (dependencies.py), so each step is checked and audited exactly as through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from schemas import MaskStatus, MediaAction, Platform
from schemas.cases import CaseStatus, SnapshotEntry

from ..access.policy import Permission
from ..requests.casebook import mask_id
from ..requests.masking import MARKER
from ..requests.workflow import MASKED_FIELDS
from ..usecases.requests import MaskRef
from .auth import Principal
from .dependencies import (  # the same role checks as the API, refusals audited as the same step
    Closer,
    Creator,
    Deliverer,
    Exporter,
    Reviewer,
    Runner,
    State,
    Viewer,
    actor,
)
from .forms import Failed, attempt, back, model, notice, read_form, search_of
from .pages import page, templates
from .schemas import (
    CaseCreate,
    CaseDetail,
    CaseSummary,
    DecideIn,
    DeliveryIn,
    ExportIn,
    ManualMaskIn,
    MediaDecisionIn,
    ReviewIn,
)
from .state import AppState

router = APIRouter(include_in_schema=False)


def _utc(moment: datetime | None) -> str:
    """An aware time as `YYYY-MM-DD HH:MM UTC`, like every time on the pages (a case keeps its sender's offset)."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else ""


templates.env.filters["utc"] = _utc


def _ground(form: dict[str, str]) -> str | None:
    """The typed ground if any, else the one chosen from the profile's list."""
    return form.get("ground_other") or form.get("ground")


# --- the case list -----------------------------------------------------------------------------


def _list_page(
    request: Request,
    state: AppState,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    summaries = [CaseSummary.of(c) for c in state.requests.cases(actor(who))]
    return page(
        request,
        "requests.html",
        status,
        who=who,
        summaries=summaries,
        profiles=state.requests.profiles(),
        platforms=[p.value for p in Platform],
        error=error,
        notice=notice(request),
        form=form or {},
    )


@router.get("/requests")
async def requests_page(request: Request, who: Viewer, state: State) -> HTMLResponse:
    return await run_in_threadpool(_list_page, request, state, who)


def _received(state: AppState, form: dict[str, str]) -> datetime | None:
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
    profile = state.requests.profiles().get(form.get("profile", "se"))
    return local.replace(tzinfo=ZoneInfo(profile.timezone if profile else "UTC"))


@router.post("/requests")
async def create_page(request: Request, who: Creator, state: State) -> Response:
    form = await read_form(request)

    def step() -> str:
        body = model(
            CaseCreate,
            {
                "requester": form.get("requester"),
                "request_text": form.get("request_text", ""),
                "diary_number": form.get("diary_number"),
                "profile": form.get("profile", "se"),
                "searches": [search_of(form)],
                "received_at": _received(state, form),
            },
        )
        return state.requests.create(
            actor(who),
            searches=body.searches,
            requester=body.requester,
            request_text=body.request_text,
            diary_number=body.diary_number,
            profile=body.profile,
            received_at=body.received_at,
        ).id

    try:
        case_id = await run_in_threadpool(attempt, step)
    except Failed as failed:
        return await run_in_threadpool(
            partial(_list_page, request, state, who, status=failed.status, error=failed.message, form=form)
        )
    return back(f"/requests/{case_id}", "created")


# --- one case ----------------------------------------------------------------------------------


def _case_page(
    request: Request, state: AppState, who: Principal, case_id: str, *, status: int = 200, error: str | None = None
) -> HTMLResponse:
    desk = state.requests
    view = desk.read(actor(who), case_id)
    case = view.case
    detail = CaseDetail.of_view(view, desk.clock_of(case), desk.packages(case_id))
    groups: dict[tuple[str, str], list[SnapshotEntry]] = {}
    for entry in sorted(view.entries, key=lambda e: (e.platform, e.account, e.record_id)):
        groups.setdefault((entry.platform, entry.account), []).append(entry)
    previews = desk.previews([MaskRef(mask_id(case_id, m), m) for m in view.masks])
    profile = desk.profiles().get(case.profile)
    return page(
        request,
        "request.html",
        status,
        who=who,
        case=case,
        detail=detail,
        groups=groups,
        previews=previews,
        pending=detail.masks.pending,
        grounds=profile.default_grounds if profile else [],
        profile=profile,
        fields=MASKED_FIELDS,
        media=desk.media(case_id),
        media_actions=list(MediaAction),
        can_act=who.can(Permission.REQUESTS) and case.status is CaseStatus.OPEN,
        can_export=who.can(Permission.REQUESTS),
        error=error,
        notice=notice(request),
        MaskStatus=MaskStatus,
        marker=MARKER,
    )


@router.get("/requests/{case_id}")
async def case_page(request: Request, case_id: str, who: Viewer, state: State) -> HTMLResponse:
    return await run_in_threadpool(_case_page, request, state, who, case_id)


async def _case_step(
    request: Request, state: AppState, who: Principal, case_id: str, done: str, step: Callable[[], object]
) -> Response:
    """Run a step on a case; back to the case page with a notice, or the page again with the reason."""
    try:
        await run_in_threadpool(attempt, step)
    except Failed as failed:
        return await run_in_threadpool(
            partial(_case_page, request, state, who, case_id, status=failed.status, error=failed.message)
        )
    return back(f"/requests/{quote(case_id, safe='')}", done)


@router.post("/requests/{case_id}/run")
async def run_page(request: Request, case_id: str, who: Runner, state: State) -> Response:
    return await _case_step(request, state, who, case_id, "run", lambda: state.requests.run(actor(who), case_id))


@router.post("/requests/{case_id}/records/{record_id}/review")
async def review_page(request: Request, case_id: str, record_id: str, who: Reviewer, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        body = model(ReviewIn, {"include": form.get("decision") == "include", "reason": form.get("reason", "")})
        return state.requests.review(actor(who), case_id, record_id, include=body.include, reason=body.reason)

    return await _case_step(request, state, who, case_id, "reviewed", step)


@router.post("/requests/{case_id}/masks/decide")
async def decide_page(request: Request, case_id: str, who: Reviewer, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        accept = form.get("decision") != "reject"
        if accept and not _ground(form):
            raise Failed(400, "choose or type the legal ground of the masking")
        one = form.get("mask")
        body = model(
            DecideIn,
            {
                "accept": accept,
                "ground": _ground(form) if accept else None,
                "ids": [one] if one else [],
                "all": not one,
            },
        )
        return state.requests.decide(
            actor(who), case_id, accept=body.accept, ground=body.ground, ids=None if body.all else body.ids
        )

    return await _case_step(request, state, who, case_id, "decided", step)


@router.post("/requests/{case_id}/masks")
async def mask_page(request: Request, case_id: str, who: Reviewer, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        body = model(
            ManualMaskIn,
            {
                "record_id": form.get("record_id", ""),
                "field": form.get("field", "text"),
                "start": form.get("start"),
                "end": form.get("end"),
                "ground": _ground(form) or "",
            },
        )
        return state.requests.add_mask(
            actor(who),
            case_id,
            record_id=body.record_id,
            field_path=body.field,
            start=body.start,
            end=body.end,
            ground=body.ground,
        )

    return await _case_step(request, state, who, case_id, "masked", step)


@router.post("/requests/{case_id}/media/decide")
async def media_page(request: Request, case_id: str, who: Reviewer, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        body = model(
            MediaDecisionIn,
            {"media_sha256": form.get("media", ""), "action": form.get("action", ""), "ground": _ground(form) or ""},
        )
        return state.requests.decide_media(
            actor(who), case_id, media_sha256=body.media_sha256, action=body.action, ground=body.ground
        )

    return await _case_step(request, state, who, case_id, "media-decided", step)


@router.post("/requests/{case_id}/export")
async def export_page(request: Request, case_id: str, who: Exporter, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        body = model(ExportIn, {"bates": form.get("bates") == "on", "bates_prefix": form.get("bates_prefix", "COMM")})
        return state.requests.export(actor(who), case_id, bates_prefix=body.bates_prefix if body.bates else None)

    return await _case_step(request, state, who, case_id, "exported", step)


@router.post("/requests/{case_id}/deliveries")
async def delivery_page(request: Request, case_id: str, who: Deliverer, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        body = model(
            DeliveryIn, {"package": form.get("package"), "records": form.get("records"), "note": form.get("note", "")}
        )
        return state.requests.deliver(actor(who), case_id, package=body.package, records=body.records, note=body.note)

    return await _case_step(request, state, who, case_id, "delivered", step)


@router.post("/requests/{case_id}/close")
async def close_page(request: Request, case_id: str, who: Closer, state: State) -> Response:
    return await _case_step(request, state, who, case_id, "closed", lambda: state.requests.close(actor(who), case_id))
