"""A request case from start to delivery: create, run (freeze), review, mask, close.

These functions do the work and return what the audit event should say; archive/usecases/requests.py
calls them for the CLI and the web alike and writes the event (`ok`, or `failed` with the reason).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.cases import CaseStatus, Delivery, RequestCase, SnapshotEntry
from schemas.requests import DetectorKind, Mask, MaskStatus, MediaAction, MediaDecision
from schemas.search import SavedSearch

from ..index import RecordIndex, iter_hits
from ..index.cases import record_sources
from ..index.search import saved_query
from .casebook import CaseBook, CaseError
from .detect import listed_parties

#: Record fields that people write and that detection and masking cover.
MASKED_FIELDS = ("text", "title", "author.name", "author.handle")

Spans = Callable[[str], Iterable[tuple[int, int, DetectorKind]]]


@dataclass
class RunResult:
    snapshot: int
    total: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    suggestions: int = 0
    by_platform: dict[str, int] = field(default_factory=dict)


def field_value(doc: dict[str, Any], path: str) -> str:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def new_case(
    book: CaseBook,
    *,
    searches: list[SavedSearch],
    handler: str,
    now: datetime,
    requester: str | None = None,
    request_text: str = "",
    diary_number: str | None = None,
    profile: str = "se",
) -> RequestCase:
    if not searches or any(s.is_empty() for s in searches):
        raise CaseError(
            "a request case needs at least one search with a query, a filter or record ids",
            hint="e.g. --query 'snöröjning' --from 2026-11-01",
        )
    case = RequestCase(
        id=f"case-{now:%Y%m%d}-{uuid.uuid4().hex[:6]}",
        received_at=now,
        requester=requester or None,
        request_text=request_text,
        diary_number=diary_number,
        handler=handler,
        profile=profile,
        searches=searches,
    )
    book.save(case)
    return case


def suggest_masks(doc: dict[str, Any], spans: Spans) -> list[Mask]:
    """Pending mask suggestions for the personal data found in a record's people-written fields, and
    in a moderation list's text the accounts it names (`detect.listed_parties`)."""
    out = []
    for path in MASKED_FIELDS:
        value = field_value(doc, path)
        found = list(spans(value)) if value else []
        if path == "text":
            found += [
                (s.start, s.end, s.kind)
                for s in listed_parties(doc)
                if all(s.end <= start or s.start >= end for start, end, _ in found)
            ]
        for start, end, kind in found:
            out.append(
                Mask(
                    record_id=doc["record_id"],
                    field=path,
                    start=start,
                    end=end,
                    kind=kind,
                    value_sha256=hashlib.sha256(value[start:end].encode()).hexdigest(),
                )
            )
    return out


def run_case(book: CaseBook, index: RecordIndex, case_id: str, *, spans: Spans) -> RunResult:
    """Run the case's searches now and freeze the result as a new snapshot, compared with the last."""
    case = book.get(case_id)
    if case.status is not CaseStatus.OPEN:
        raise CaseError(f"case {case_id} is closed", hint="a closed case is not run again")
    number = case.snapshots + 1
    previous = {e.record_id for e in book.entries(case_id, case.snapshots)} if case.snapshots else set()
    seen: dict[str, SnapshotEntry] = {}
    suggestions: list[Mask] = []
    for search in case.searches:
        for hit in iter_hits(index, saved_query(search)):
            doc = hit.source
            if doc["record_id"] in seen:
                continue
            seen[doc["record_id"]] = SnapshotEntry(
                case_id=case_id,
                snapshot=number,
                record_id=doc["record_id"],
                item_key=doc["item_key"],
                platform=doc["platform"],
                account=doc["account"],
                kind=doc["kind"],
                warc_sha256=(doc.get("warc") or {}).get("sha256"),
                content_sha256=doc["content_sha256"],
            )
            suggestions += suggest_masks(doc, spans)
    book.add_snapshot(seen.values())
    saved = book.save_masks(case_id, suggestions)
    book.save(case.model_copy(update={"snapshots": number}))
    result = RunResult(number, len(seen), sorted(set(seen) - previous), sorted(previous - set(seen)), saved)
    for entry in seen.values():
        result.by_platform[entry.platform] = result.by_platform.get(entry.platform, 0) + 1
    return result


def review_record(
    book: CaseBook, case_id: str, record_id: str, *, include: bool, reason: str, by: str, now: datetime
) -> SnapshotEntry:
    """Include or exclude one record of the case's latest snapshot, with the reason."""
    case = book.get(case_id)
    entry = next((e for e in book.entries(case_id, case.snapshots) if e.record_id == record_id), None)
    if entry is None:
        raise CaseError(f"record {record_id} is not in the latest snapshot of {case_id}")
    if not reason.strip():
        raise CaseError("a review decision needs a reason")
    updated = entry.model_copy(update={"included": include, "reason": reason, "reviewed_by": by, "reviewed_at": now})
    book.update_entry(updated)
    return updated


def decide_masks(
    book: CaseBook,
    case_id: str,
    *,
    accept: bool,
    ground: str | None,
    by: str,
    now: datetime,
    only: Callable[[Mask], bool] = lambda m: True,
) -> int:
    """Accept (with a legal ground) or reject pending suggestions; returns how many were decided."""
    if accept and not (ground and ground.strip()):
        raise CaseError("an accepted mask needs its legal ground", hint="e.g. --ground 'OSL 21:7'")
    pending = [m for m in book.masks(case_id) if m.status is MaskStatus.PENDING and only(m)]
    decided = [
        m.model_copy(
            update={
                "status": MaskStatus.ACCEPTED if accept else MaskStatus.REJECTED,
                "ground": ground if accept else None,
                "reviewer": by,
                "decided_at": now,
            }
        )
        for m in pending
    ]
    book.save_masks(case_id, decided, keep_decided=False)
    return len(decided)


def add_manual_mask(
    book: CaseBook,
    index: RecordIndex,
    case_id: str,
    *,
    record_id: str,
    field_path: str,
    start: int,
    end: int,
    ground: str,
    by: str,
    now: datetime,
) -> Mask:
    """A reviewer's own mask over a span, accepted at once with its ground."""
    doc = index.get(record_id)
    value = field_value(doc, field_path)
    if not 0 <= start < end <= len(value):
        raise CaseError(f"span {start}-{end} is outside {field_path} of {record_id} ({len(value)} characters)")
    mask = Mask(
        record_id=record_id,
        field=field_path,
        start=start,
        end=end,
        kind=DetectorKind.MANUAL,
        value_sha256=hashlib.sha256(value[start:end].encode()).hexdigest(),
        status=MaskStatus.ACCEPTED,
        ground=ground,
        reviewer=by,
        decided_at=now,
    )
    book.save_masks(case_id, [mask], keep_decided=False)
    return mask


def decide_media(
    book: CaseBook,
    index: RecordIndex,
    case_id: str,
    *,
    media_sha256: str,
    action: MediaAction,
    ground: str,
    by: str,
    now: datetime,
) -> MediaDecision:
    """Release, withhold or release without metadata one media file of the latest snapshot, with its ground."""
    case = book.get(case_id)
    if case.status is not CaseStatus.OPEN:
        raise CaseError(f"case {case_id} is closed", hint="a closed case takes no further decisions")
    if not ground.strip():
        raise CaseError("a media decision needs its legal ground", hint="e.g. --ground 'OSL 21:7'")
    ids = [e.record_id for e in book.entries(case_id, case.snapshots)] if case.snapshots else []
    docs = record_sources(index, ids).values()
    shown = any(m.get("sha256") == media_sha256 for doc in docs for m in doc.get("media") or [])
    if not shown:
        raise CaseError(f"no record in the latest snapshot of {case_id} shows media {media_sha256[:12]}…")
    decision = MediaDecision(media_sha256=media_sha256, action=action, ground=ground, reviewer=by, decided_at=now)
    book.save_media_decision(case_id, decision)
    return decision


def deliver(
    book: CaseBook, case_id: str, *, by: str, now: datetime, records: int, package: str | None = None, note: str = ""
) -> Delivery:
    """Log one installment handed to the requester; numbered in order, kept on the case.

    A request may be answered in parts (RCW 42.56.080 installments; a Swedish authority may
    hand out what is ready while the rest is reviewed), and the clock's overdue flag reads the
    last delivery, so each one is kept with who handed it out, when and which package.
    """
    case = book.get(case_id)
    if case.status is not CaseStatus.OPEN:
        raise CaseError(f"case {case_id} is closed", hint="a closed case takes no further deliveries")
    delivery = Delivery(number=len(case.deliveries) + 1, at=now, by=by, records=records, package=package, note=note)
    book.save(case.model_copy(update={"deliveries": [*case.deliveries, delivery]}))
    return delivery
