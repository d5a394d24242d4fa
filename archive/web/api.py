"""The HTTP API: `/api/...`, JSON (and WARC, CSV, media bytes), described by `/openapi.json`.

Every route authenticates (auth.principal) and every access to records is audited before the
answer leaves: search, view, WARC, media, verify, export. The search page and other systems
use exactly these functions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from schemas import AuditAction, AuditOutcome

from ..access.policy import Permission
from ..browse import (
    Provenance,
    VerifyResult,
    account_timeline,
    archived_media,
    export_csv,
    export_jsonl,
    provenance_of,
    verify_record,
    versions_of,
)
from ..browse.timeline import Interval
from ..errors import RecordNotFound
from ..index import SearchResult, search
from .auth import Principal, require
from .params import ExportParams, SearchParams
from .state import AppState, app_state

router = APIRouter(prefix="/api", tags=["records"])


class Hit(BaseModel):
    record_id: str
    score: float | None
    highlight: list[str]
    record: dict[str, Any]


class SearchPage(BaseModel):
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    next_cursor: str | None


class RecordView(BaseModel):
    record: dict[str, Any]
    provenance: Provenance


class VersionOut(BaseModel):
    record: dict[str, Any]
    changed: list[str]
    diff: list[dict[str, str]]
    deleted_at: str | None
    last_seen_at: str | None


class TimelineOut(BaseModel):
    start: str
    counts: dict[str, int]


class AuditOut(BaseModel):
    events: list[dict[str, Any]]


# --- shared with the pages ---------------------------------------------------------------------


#: Fields of an index document only users who may see legal holds are shown.
HOLD_FIELDS = ("legal_holds",)


def shown(doc: dict[str, Any], who: Principal) -> dict[str, Any]:
    """The document as `who` may see it: never the raw platform JSON, and holds only for those who see holds."""
    hidden = {"raw"} if who.sees_holds else {"raw", *HOLD_FIELDS}
    return {k: v for k, v in doc.items() if k not in hidden}


def refuse_hold_filter(state: AppState, who: Principal, params: SearchParams, action: AuditAction) -> None:
    """A user who may not see holds may not filter by them either (the count would tell): 403, audited."""
    if params.on_hold is None or who.sees_holds:
        return
    state.audit_event(
        action,
        who.user.name,
        who.role,
        params.describe(),
        who.client,
        AuditOutcome.DENIED,
        f"role {who.role.value} lacks {Permission.HOLDS_VIEW.value}",
    )
    raise HTTPException(403, f"the role {who.role.value!r} may not filter by legal hold")


def run_search(state: AppState, who: Principal, params: SearchParams, *, facets: bool | None = None) -> SearchResult:
    """Search as `who` (read-only users see only what is public now, and no holds), audited with the query.

    Facets describe the whole result set, so by default they are counted on the first page only
    (a next page costs a third less); the search page asks for them on every page it shows.
    """
    refuse_hold_filter(state, who, params, AuditAction.SEARCH)
    result = search(
        state.archive.index,
        params.query(public_only=who.public_only, holds_visible=who.sees_holds),
        after=params.cursor,
        facets=params.cursor is None if facets is None else facets,
    )
    if not who.sees_holds:
        hits = [replace(h, source=shown(h.source, who)) for h in result.hits]
        result = replace(result, hits=hits)
    state.audit_event(
        AuditAction.SEARCH, who.user.name, who.role, params.describe(), who.client, note=f"{result.total} hits"
    )
    state.audit_shown(
        AuditAction.VIEW,
        [h.record_id for h in result.hits],
        who.user.name,
        who.role,
        who.client,
        note=f"search hit: {params.describe()}",
    )
    return result


def is_public(doc: dict[str, Any]) -> bool:
    """What a read-only user may see: the latest version of an item neither deleted nor hidden, and no
    moderation list (a block list is the account's own decision, not something the platform shows)."""
    hidden = doc.get("deleted") or doc.get("hidden_on_platform") or doc.get("kind") == "moderation"
    return not hidden and doc.get("is_latest", True)


def load_record(
    state: AppState, who: Principal, record_id: str, *, action: AuditAction = AuditAction.VIEW, note: str = ""
) -> dict[str, Any]:
    """One index document, if `who` may see it (404 otherwise, so ids of removed items don't leak)."""
    try:
        doc = state.archive.index.get(record_id)
    except RecordNotFound as exc:
        raise HTTPException(404, f"no record {record_id}") from exc
    if who.public_only and not is_public(doc):
        raise HTTPException(404, f"no record {record_id}")
    state.audit_event(action, who.user.name, who.role, record_id, who.client, note=note)
    return shown(doc, who)


def record_provenance(state: AppState, who: Principal, doc: dict[str, Any]) -> Provenance:
    """The provenance panel; the stored file's Object Lock legal hold only for those who see holds."""
    prov = provenance_of(state.archive.store, doc)
    return prov if who.sees_holds else prov.model_copy(update={"legal_hold": None})


def item_versions(state: AppState, who: Principal, item_key: str) -> list[VersionOut]:
    views = versions_of(state.archive.index, item_key)
    if not views:
        raise HTTPException(404, f"no item {item_key}")
    state.audit_event(AuditAction.VIEW, who.user.name, who.role, f"versions of {item_key}", who.client)
    state.audit_shown(
        AuditAction.VIEW,
        [v.document["record_id"] for v in views],
        who.user.name,
        who.role,
        who.client,
        note=f"versions of {item_key}",
    )
    return [
        VersionOut(
            record=shown(view.document, who),
            changed=view.changed,
            diff=[{"op": p.op, "text": p.text} for p in view.diff],
            deleted_at=view.deleted_at,
            last_seen_at=view.last_seen_at,
        )
        for view in views
    ]


# --- routes ------------------------------------------------------------------------------------

Search = Annotated[Principal, Depends(require(Permission.SEARCH))]
View = Annotated[Principal, Depends(require(Permission.VIEW))]
State = Annotated[AppState, Depends(app_state)]


@router.get("/records", response_model=SearchPage, summary="Search records")
async def records(params: Annotated[SearchParams, Query()], who: Search, state: State) -> SearchPage:
    """Full-text search with filters, facets, highlights (`[[match]]`) and cursor paging past 10 000 hits."""
    result = await run_in_threadpool(run_search, state, who, params)
    return SearchPage(
        total=result.total,
        facets=result.facets,
        next_cursor=result.next_cursor,
        hits=[Hit(record_id=h.record_id, score=h.score, highlight=h.highlight, record=h.source) for h in result.hits],
    )


@router.get("/records/export", summary="Export a result list (every hit)")
async def export(
    params: Annotated[ExportParams, Query()],
    state: State,
    who: Annotated[Principal, Depends(require(Permission.EXPORT))],
) -> StreamingResponse:
    """Every record matching the search (no page limit), newest first, as CSV or JSON lines."""
    await run_in_threadpool(refuse_hold_filter, state, who, params, AuditAction.EXPORT)
    q, format = params.query(public_only=who.public_only, holds_visible=who.sees_holds), params.format
    await run_in_threadpool(
        state.audit_event,
        AuditAction.EXPORT,
        who.user.name,
        who.role,
        params.describe(),
        who.client,
        note=f"format {format}",
    )
    described = params.describe()

    def seen(record_ids: list[str]) -> None:  # every record given is named before its chunk is sent
        state.audit_shown(
            AuditAction.EXPORT, record_ids, who.user.name, who.role, who.client, note=f"export: {described}"
        )

    exporter = export_csv if format == "csv" else export_jsonl
    rows = exporter(state.archive.index, q, seen=seen)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"communis-export.{format}"
    return StreamingResponse(rows, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/records/{record_id}", response_model=RecordView, summary="One record version with provenance")
async def record(record_id: str, who: View, state: State) -> RecordView:
    doc = await run_in_threadpool(load_record, state, who, record_id)
    prov = await run_in_threadpool(record_provenance, state, who, doc)
    return RecordView(record=doc, provenance=prov)


@router.get(
    "/records/{record_id}/warc",
    summary="The exact WARC record bytes (one gzip member)",
    response_class=Response,
    responses={200: {"content": {"application/warc": {}}}},
)
async def record_warc(
    record_id: str, state: State, who: Annotated[Principal, Depends(require(Permission.WARC))]
) -> Response:
    """The stored bytes of the record's WARC response record, checked against its SHA-256 before sending."""
    from ..preservation.readback import fetch_verified

    await run_in_threadpool(load_record, state, who, record_id, action=AuditAction.WARC)
    verified = await run_in_threadpool(fetch_verified, state.archive.index, state.archive.store, record_id)
    loc = verified.record.warc
    assert loc is not None
    return Response(
        verified.warc_bytes,
        media_type="application/warc",
        headers={
            "Content-Disposition": f'attachment; filename="{record_id}.warc.gz"',
            "X-Communis-SHA256": loc.sha256,
            "X-Communis-Warc-File": loc.filename,
            "X-Communis-Warc-Offset": str(loc.offset),
        },
    )


@router.post("/records/{record_id}/verify", response_model=VerifyResult, summary="Re-read and check the digest")
async def verify(
    record_id: str, state: State, who: Annotated[Principal, Depends(require(Permission.VERIFY))]
) -> VerifyResult:
    await run_in_threadpool(load_record, state, who, record_id, action=AuditAction.VERIFY)
    return await run_in_threadpool(verify_record, state.archive.index, state.archive.store, record_id, now=state.now())


#: Media types a browser may show inline; anything else (SVG, HTML …) is sent as a download.
INLINE_MEDIA = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/ogg",
)


@router.get("/records/{record_id}/media/{n}", summary="An archived media file of a record", response_class=Response)
async def media(record_id: str, n: int, who: View, state: State) -> Response:
    """The media bytes from the archive's WARC record, never fetched from the platform."""
    doc = await run_in_threadpool(load_record, state, who, record_id, action=AuditAction.MEDIA, note=f"media #{n}")
    found = await run_in_threadpool(archived_media, state.archive.store, doc, n)  # missing: 404 (errors.py)
    ctype = found.content_type.split(";")[0].strip().lower()
    disposition = "inline" if ctype in INLINE_MEDIA else "attachment"
    return Response(
        found.body,
        media_type=ctype if disposition == "inline" else "application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.get("/items/{item_key}/versions", response_model=list[VersionOut], summary="Every version of an item")
async def versions(
    item_key: str, state: State, who: Annotated[Principal, Depends(require(Permission.VIEW_REMOVED))]
) -> list[VersionOut]:
    """Oldest first, each with the word diff of its text against the version before and a tombstone marker."""
    return await run_in_threadpool(item_versions, state, who, item_key)


@router.get("/accounts/{account}/timeline", response_model=list[TimelineOut], summary="Items per day/week/month")
async def timeline(account: str, who: Search, state: State, interval: Interval = "week") -> list[TimelineOut]:
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
    return [TimelineOut(start=b.start, counts=b.counts) for b in buckets]


@router.get("/audit", response_model=AuditOut, tags=["admin"], summary="The newest audit events")
async def audit(
    state: State,
    who: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    user: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditOut:
    await run_in_threadpool(
        state.audit_event,
        AuditAction.AUDIT_READ,
        who.user.name,
        who.role,
        f"user={user or ''} action={action or ''}",
        who.client,
    )
    await run_in_threadpool(state.audit.refresh)
    events = await run_in_threadpool(state.audit.latest, limit, user=user, action=action)
    return AuditOut(events=[e.model_dump(mode="json") for e in events])
