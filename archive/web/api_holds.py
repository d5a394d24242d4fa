"""`/api/holds`: legal holds, for legal staff. Routes only: each calls archive/usecases/holds.py,
which checks and audits the step as it does for `communis hold …`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from .dependencies import HoldId, HoldViewer, Placer, Releaser, State, actor
from .schemas import HoldChange, HoldIn, HoldOut

router = APIRouter(prefix="/api", tags=["holds"])


@router.get("/holds", response_model=list[HoldOut], summary="Legal holds")
async def holds(state: State, who: HoldViewer, released: bool = True) -> list[HoldOut]:
    """Oldest first, each with how many records it marks now; `released=false` for active ones only."""
    found = await run_in_threadpool(lambda: state.holds.holds(actor(who), released=released))
    return [HoldOut.of(h) for h in found]


@router.post("/holds", response_model=HoldChange, status_code=201, summary="Place a hold")
async def place_route(body: HoldIn, who: Placer, state: State) -> HoldChange:
    """Marks every matching record (and records captured later) and locks the files holding them."""
    outcome = await run_in_threadpool(
        lambda: state.holds.place(actor(who), matter=body.matter, scope=body.scope, reason=body.reason)
    )
    return HoldChange.of_outcome(outcome)


@router.post("/holds/{hold_id}/release", response_model=HoldChange, summary="Release a hold")
async def release_route(hold_id: HoldId, who: Releaser, state: State) -> HoldChange:
    return HoldChange.of_outcome(await run_in_threadpool(state.holds.release, actor(who), hold_id))
