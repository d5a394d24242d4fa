"""Pages for legal staff: legal holds (`/holds`). Forms and refusals as on the request pages
(forms.py); each step through archive/usecases/holds.py, as the API's (api_holds.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from schemas import Platform

from .auth import Principal
from .dependencies import HoldViewer, Placer, Releaser, State, actor
from .forms import Failed, attempt, back, model, notice, read_form, search_of
from .pages import page
from .schemas import HoldIn, HoldOut
from .state import AppState

router = APIRouter(include_in_schema=False)


def _holds_page(
    request: Request,
    state: AppState,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    holds = [HoldOut.of(h) for h in state.holds.holds(actor(who))]
    return page(
        request,
        "holds.html",
        status,
        who=who,
        holds=holds,
        platforms=[p.value for p in Platform],
        error=error,
        notice=notice(request),
        form=form or {},
    )


@router.get("/holds")
async def holds_page(request: Request, who: HoldViewer, state: State) -> HTMLResponse:
    return await run_in_threadpool(_holds_page, request, state, who)


async def _hold_step(
    request: Request,
    state: AppState,
    who: Principal,
    done: str,
    step: Callable[[], object],
    form: dict[str, str] | None = None,
) -> Response:
    try:
        await run_in_threadpool(attempt, step)
    except Failed as failed:
        return await run_in_threadpool(
            partial(_holds_page, request, state, who, status=failed.status, error=failed.message, form=form)
        )
    return back("/holds", done)


@router.post("/holds")
async def place_page(request: Request, who: Placer, state: State) -> Response:
    form = await read_form(request)

    def step() -> object:
        body = model(
            HoldIn, {"matter": form.get("matter", ""), "reason": form.get("reason", ""), "scope": search_of(form)}
        )
        return state.holds.place(actor(who), matter=body.matter, scope=body.scope, reason=body.reason)

    return await _hold_step(request, state, who, "placed", step, form)


@router.post("/holds/{hold_id}/release")
async def release_page(request: Request, hold_id: str, who: Releaser, state: State) -> Response:
    return await _hold_step(request, state, who, "released", lambda: state.holds.release(actor(who), hold_id))
