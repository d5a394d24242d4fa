"""`/api/requests`: public-records request cases, for legal staff (archivists may read them).

Routes only: each one calls archive/usecases/requests.py, which checks and audits the step, as it
does for `communis request …`. Errors are the classes of archive/errors.py, answered with their
`http_status` by the one handler in app.py (an unknown case 404, a closed one 409, a refused
step 400).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from schemas import MaskStatus, MediaDecision
from schemas.cases import Delivery, RequestCase, SnapshotEntry

from .auth import Principal
from .dependencies import CaseId, Closer, Creator, Deliverer, Exporter, Reviewer, Runner, State, Viewer, actor
from .schemas import (
    CaseCreate,
    CaseDetail,
    CaseSummary,
    DecideIn,
    DecideOut,
    DeliveryIn,
    ExportIn,
    ExportOut,
    ManualMaskIn,
    MaskOut,
    MediaDecisionIn,
    ReviewIn,
    RunOut,
)
from .state import AppState
from .zipstream import zip_stream

router = APIRouter(prefix="/api", tags=["requests"])


def case_detail(state: AppState, case_id: str, who: Principal) -> CaseDetail:
    desk = state.requests
    view = desk.read(actor(who), case_id)
    return CaseDetail.of_view(view, desk.clock_of(view.case), desk.packages(case_id))


@router.get("/requests", response_model=list[CaseSummary], summary="Request cases with their clock")
async def cases(who: Viewer, state: State) -> list[CaseSummary]:
    """Newest first, each with its due date and overdue flag from its jurisdiction profile."""
    clocks = await run_in_threadpool(state.requests.cases, actor(who))
    return [CaseSummary.of(c) for c in clocks]


@router.post("/requests", response_model=CaseSummary, status_code=201, summary="Open a request case")
async def create(body: CaseCreate, who: Creator, state: State) -> CaseSummary:
    desk = state.requests
    case = await run_in_threadpool(
        lambda: desk.create(
            actor(who),
            searches=body.searches,
            requester=body.requester,
            request_text=body.request_text,
            diary_number=body.diary_number,
            profile=body.profile,
            received_at=body.received_at,
        )
    )
    return CaseSummary.of(desk.clock_of(case))


@router.get("/requests/{case_id}", response_model=CaseDetail, summary="A case with its snapshot and masks")
async def case(case_id: CaseId, who: Viewer, state: State) -> CaseDetail:
    return await run_in_threadpool(case_detail, state, case_id, who)


@router.get(
    "/requests/{case_id}/records",
    response_model=list[SnapshotEntry],
    summary="The latest snapshot's records with review decisions",
)
async def case_records(case_id: CaseId, who: Viewer, state: State) -> list[SnapshotEntry]:
    return await run_in_threadpool(state.requests.records, actor(who), case_id)


@router.get(
    "/requests/{case_id}/masks",
    response_model=list[MaskOut],
    summary="Masking suggestions and decisions (offsets and hashes, never the values)",
)
async def case_masks(case_id: CaseId, who: Viewer, state: State, status: MaskStatus | None = None) -> list[MaskOut]:
    found = await run_in_threadpool(state.requests.masks, actor(who), case_id, status)
    return [MaskOut.of(m) for m in found]


@router.post("/requests/{case_id}/run", response_model=RunOut, summary="Run the searches and freeze a snapshot")
async def run_route(case_id: CaseId, who: Runner, state: State) -> RunOut:
    return RunOut.of(await run_in_threadpool(state.requests.run, actor(who), case_id))


@router.post(
    "/requests/{case_id}/records/{record_id}/review",
    response_model=SnapshotEntry,
    summary="Include or exclude a record, with the reason",
)
async def review_route(case_id: CaseId, record_id: str, body: ReviewIn, who: Reviewer, state: State) -> SnapshotEntry:
    return await run_in_threadpool(
        lambda: state.requests.review(actor(who), case_id, record_id, include=body.include, reason=body.reason)
    )


@router.post("/requests/{case_id}/masks/decide", response_model=DecideOut, summary="Accept or reject suggestions")
async def decide_route(case_id: CaseId, body: DecideIn, who: Reviewer, state: State) -> DecideOut:
    decided = await run_in_threadpool(
        lambda: state.requests.decide(
            actor(who), case_id, accept=body.accept, ground=body.ground, ids=None if body.all else body.ids
        )
    )
    return DecideOut(decided=decided)


@router.post("/requests/{case_id}/masks", response_model=MaskOut, status_code=201, summary="Mask a span by hand")
async def mask_route(case_id: CaseId, body: ManualMaskIn, who: Reviewer, state: State) -> MaskOut:
    return MaskOut.of(
        await run_in_threadpool(
            lambda: state.requests.add_mask(
                actor(who),
                case_id,
                record_id=body.record_id,
                field_path=body.field,
                start=body.start,
                end=body.end,
                ground=body.ground,
            )
        )
    )


@router.post(
    "/requests/{case_id}/export",
    response_model=ExportOut,
    status_code=201,
    summary="Produce the package (refused while suggestions are pending)",
)
async def export_route(case_id: CaseId, who: Exporter, state: State, body: ExportIn | None = None) -> ExportOut:
    wanted = body or ExportIn()
    produced = await run_in_threadpool(
        lambda: state.requests.export(actor(who), case_id, bates_prefix=wanted.bates_prefix if wanted.bates else None)
    )
    return ExportOut.of(case_id, produced)


@router.get(
    "/requests/{case_id}/packages/{number}.zip",
    summary="A produced package's delivery (the release copy alone, as a bag) as a zip",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
async def package_zip(case_id: CaseId, number: int, who: Exporter, state: State) -> StreamingResponse:
    """What the requester is given: never the package's internal part (originals, keyed digests)."""
    path = await run_in_threadpool(state.requests.package, actor(who), case_id, number)
    name = f"{case_id}-{number}"
    return StreamingResponse(
        zip_stream(path, name),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )


@router.post(
    "/requests/{case_id}/media/decide",
    response_model=MediaDecision,
    status_code=201,
    summary="Release, withhold or release without metadata one media file, with its ground",
)
async def media_route(case_id: CaseId, body: MediaDecisionIn, who: Reviewer, state: State) -> MediaDecision:
    return await run_in_threadpool(
        lambda: state.requests.decide_media(
            actor(who), case_id, media_sha256=body.media_sha256, action=body.action, ground=body.ground
        )
    )


@router.post(
    "/requests/{case_id}/deliveries",
    response_model=Delivery,
    status_code=201,
    summary="Log an installment handed to the requester",
)
async def delivery_route(case_id: CaseId, body: DeliveryIn, who: Deliverer, state: State) -> Delivery:
    return await run_in_threadpool(
        lambda: state.requests.deliver(actor(who), case_id, package=body.package, records=body.records, note=body.note)
    )


@router.post("/requests/{case_id}/close", response_model=RequestCase, summary="Close the case")
async def close_route(case_id: CaseId, who: Closer, state: State) -> RequestCase:
    return await run_in_threadpool(state.requests.close, actor(who), case_id)
