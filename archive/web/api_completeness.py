"""`/api/completeness`: what each platform shows against the archive, as the latest reports found it.

Routes only: the functions are completeness.py's, the pages' too. Every route needs the
`completeness` permission (every role but read-only: archive/access/policy.py says why).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from schemas import CountOf, Evidence

from ..access.policy import Permission
from .auth import Principal, require
from .completeness import (
    MONTH_PATTERN,
    AccountsOut,
    CalendarOut,
    MonthItemsOut,
    account_calendar,
    completeness_accounts,
    item_evidence,
    month_items,
    total_evidence,
)
from .dependencies import State

router = APIRouter(prefix="/api", tags=["completeness"])

Reader = Annotated[Principal, Depends(require(Permission.COMPLETENESS))]
Month = Annotated[str, PathParam(pattern=MONTH_PATTERN, description="YYYY-MM, or `undated`.")]


@router.get("/completeness", response_model=AccountsOut, summary="Every account's latest completeness report")
async def accounts(who: Reader, state: State) -> AccountsOut:
    """Status, when and by whom it was computed, the totals against the archive, and the harvest's last check."""
    return await run_in_threadpool(completeness_accounts, state, who)


@router.get("/completeness/{account}", response_model=CalendarOut, summary="An account's completeness by month")
async def calendar(account: str, who: Reader, state: State) -> CalendarOut:
    """The latest report and every month's figures and status (complete, gap of N, more in the archive,
    not knowable), oldest first."""
    return await run_in_threadpool(account_calendar, state, who, account)


def _warc(evidence: Evidence, data: bytes) -> Response:
    w = evidence.warc
    return Response(
        data,
        media_type="application/warc",
        headers={
            "Content-Disposition": f'attachment; filename="{w.filename}-{w.offset}.warc.gz"',
            "X-Communis-SHA256": w.sha256,
            "X-Communis-Warc-File": w.filename,
            "X-Communis-Warc-Offset": str(w.offset),
            "X-Communis-Captured-At": evidence.captured_at.isoformat(),
        },
    )


@router.get(
    "/completeness/{account}/totals/warc",
    summary="The WARC record that showed an account total",
    response_class=Response,
    responses={200: {"content": {"application/warc": {}}}},
)
async def total_warc(
    account: str,
    who: Reader,
    state: State,
    what: Annotated[CountOf, Query(description="posts, videos, media, pages or comments")],
    detail: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The exact stored bytes of the response the total was read from, checked against its SHA-256."""
    evidence, data = await run_in_threadpool(total_evidence, state, who, account, what.value, detail)
    return _warc(evidence, data)


@router.get("/completeness/{account}/{month}", response_model=MonthItemsOut, summary="A month's disagreeing items")
async def month(account: str, month: Month, who: Reader, state: State) -> MonthItemsOut:
    """Each item whose published count and archived comments disagree: its post (latest version), the
    published count with its capture time and evidence, what is archived, and what was done."""
    return await run_in_threadpool(month_items, state, who, account, month)


@router.get(
    "/completeness/{account}/{month}/warc",
    summary="The WARC record that showed an item's count",
    response_class=Response,
    responses={200: {"content": {"application/warc": {}}}},
)
async def item_warc(
    account: str,
    month: Month,
    who: Reader,
    state: State,
    item: Annotated[str, Query(min_length=1, max_length=2000, description="The item id the count is of.")],
) -> Response:
    """The exact stored bytes of the listing response the count was read from, checked against its SHA-256."""
    evidence, data = await run_in_threadpool(item_evidence, state, who, account, month, item)
    return _warc(evidence, data)
