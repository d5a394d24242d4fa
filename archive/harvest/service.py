"""Harvest one account: connector → new versions → pipeline → state, in that order.

The state (the items the run archived or saw, the markers it read, media, revisit targets, then the
cursor) is saved only after the pipeline has stored and indexed every WARC file of the run, so a crash
or kill at any point is followed by a run that re-reads from the old cursor and, knowing the versions
it recovered from files left in the work folder, writes no version twice. A run reads and writes the
harvest table only for the items it touches (archive/harvest/items.py, scratch.py), so its cost
follows what changed on the platform, not the account's history. A connector failure ends the run early but
keeps what was captured up to it; the failure is counted in the state for `accounts status`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas import Account, CaptureBundle, CountOf, HarvestState, KnownItem, RunSummary, WarcFileManifest

from .. import clock
from ..bundles import Rejected
from ..completeness.backfill import AfterRun, after_run, sweep_for_backfill
from ..config import Settings
from ..connectors.base import Connector, HarvestContext
from ..connectors.http import Fetcher
from ..context import open_pipeline
from ..errors import ConnectorError, GaveUp, IndexUnavailable, NothingListed, PayloadInvalid
from ..faults import CrashPoint, crash_point
from ..index import RecordIndex
from ..index.counts import PublishedCounts
from ..index.harvest_table import HarvestTable
from ..ingest.memory import RunMemory
from ..ingest.quarantine import QuarantineEntry
from ..redact import redact_text
from ..store import BlobStore
from .causes import gap_cause
from .items import TableItems, item_fields, known_item
from .scratch import RunScratch
from .state import read_state, record_run, save_state
from .versions import VersionCounts, Versioner

log = logging.getLogger(__name__)


@dataclass
class HarvestReport:
    """One account's run, as the flow artifact and `communis harvest` show it."""

    account: str
    run_id: str
    ok: bool = True
    counts: VersionCounts = field(default_factory=VersionCounts)
    captures: int = 0
    requests: int = 0
    bytes: int = 0
    files: list[WarcFileManifest] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    error: str | None = None
    consecutive_failures: int = 0
    crashed: list[str] = field(default_factory=list)
    """Leftovers of a crashed earlier run moved to the work folder's `crashed/`, one line each."""
    items_written: int = 0
    """Item documents of the harvest table this run wrote (what it touched, not the account's history)."""
    state_bytes: int = 0
    """Bytes of harvest state this run wrote."""
    counts_written: int = 0
    """Published counts this run wrote to the counts index: the new ones and those whose value moved."""
    completeness: str | None = None
    """The run's completeness check in one line (the whole report's summary after a sweep)."""
    notes: list[str] = field(default_factory=list)
    """What the run could not read without failing, one line each (a moderation list the token may not read)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain values (files by key, quarantined items by reason): the flow's task result and the
        rows of `markdown_report`, one conversion for both."""
        return self.__dict__ | {
            "counts": self.counts.__dict__,
            "files": [m.key for m in self.files],
            "quarantined": [q.reason for q in self.quarantined],
        }


def _candidates(table: HarvestTable, account: str, ctx: HarvestContext) -> Iterator[tuple[str, KnownItem]]:
    """Known, live items inside the look-back window that this run's listings did not show, in item id
    order, streamed from the table and compared with the run's listed ids on disk: a sweep of a
    million items holds neither list."""
    for doc in table.items_in(account, live=True, published_since=ctx.window_start.isoformat()):
        item_id = str(doc["item_id"])
        if item_id not in ctx.seen and doc.get("kind") != "moderation":  # a list unread this run is no deletion
            yield item_id, known_item(doc)


def _listings(ctx: HarvestContext, items: Iterator[CaptureBundle | Rejected]) -> Iterator[CaptureBundle | Rejected]:
    """The connector's output, passed on; NothingListed at its end when not one listing page could be read
    (every page quarantined, none yielded a bundle): such a run has failed, and must not say ok. A profile
    read for the account's totals (no records, only totals) is not a listing page."""
    pages, rejected = 0, []
    for item in items:
        if isinstance(item, CaptureBundle):
            profile = not item.records and bool(item.counts) and all(c.item_id is None for c in item.counts)
            pages += not item.is_media and not profile
        else:
            rejected.append(item.reason)
        yield item
    if pages == 0 and ctx.incomplete:
        raise NothingListed(rejected[0] if rejected else "no reason given", len(rejected))


def harvest_account(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    account: Account,
    connector: Connector,
    fetcher: Fetcher,
    *,
    now: datetime | None = None,
    lookback: timedelta = timedelta(days=30),
    run_id: str | None = None,
    sweep: bool | None = None,
) -> HarvestReport:
    now = now or clock.now()
    began = time.monotonic()
    table = HarvestTable.beside(index)
    loaded = read_state(table, account.id, store)
    state = loaded.state
    earlier = TableItems(table, account.id)
    memory = RunMemory(earlier_payload=earlier.payload, earlier_media=earlier.media_location)
    work_dir = settings.data_dir / "work" / account.id
    scratch = RunScratch(work_dir / "run.sqlite")
    pipeline = open_pipeline(
        settings, store, index, run_id=run_id, work_dir=work_dir, memory=memory, counts=scratch.counts
    )
    report = HarvestReport(account.id, pipeline.run_id)
    try:
        versioner = Versioner(earlier, now, pending=scratch.pending)
        recovered = pipeline.recover(account.id, since=state.saved_at)
        for record in recovered.records:
            known = versioner.current(record.item_id)
            if known is None or known.version < record.version:
                versioner.remember(record)
        scratch.media.update(recovered.media)  # what a crashed run archived is not fetched or stored again
        if sweep is None:  # True: a complete capture asks for one whatever the interval says
            due = state.last_sweep is None or now - state.last_sweep >= timedelta(hours=settings.harvest_sweep_hours)
            sweep = due or sweep_for_backfill(state)  # a gap just found: walk the listings to re-read its threads
        ctx = HarvestContext(
            account,
            state,
            fetcher,
            now,
            lookback=lookback,
            sweep=sweep,
            media_max_bytes=settings.media_max_bytes,
            items=earlier,
            seen=scratch.seen,
            media=scratch.media,
            markers=scratch.markers,
            backfill=frozenset(state.backfill),
        )
        failure: list[ConnectorError] = []

        def stream() -> Iterator[CaptureBundle | Rejected]:
            try:
                yield from versioner.filter(_listings(ctx, connector.harvest(ctx)))
                yield from versioner.filter(connector.moderation_lists(ctx))
                for item_id, known in _candidates(table, account.id, ctx):
                    try:
                        bundle = connector.check_deleted(ctx, item_id, known)
                    except (GaveUp, PayloadInvalid) as exc:  # checked again next run
                        yield Rejected(item_id.encode(), f"deletion check of {item_id}: {exc}")
                        continue
                    if bundle is not None:
                        yield from versioner.filter([bundle])
            except ConnectorError as exc:
                log.error("account=%s: %s", account.id, exc.one_line())
                failure.append(exc)

        index_down: IndexUnavailable | None = None
        try:
            pipeline.ingest(account, stream())
        except IndexUnavailable as exc:  # files are stored; they are indexed by the next run
            index_down = exc
        ok = not failure and index_down is None
        error = failure[0].one_line() if failure else (index_down.one_line() if index_down else None)
        error = redact_text(error) if error else None  # the state is kept: no credential in it, ever
        complete = not failure and not ctx.incomplete
        crash_point(CrashPoint.HARVEST_BEFORE_STATE)
        before = table.bytes_written
        written, counted = save_knowledge(
            table, account.id, scratch, memory, markers=complete, counts=PublishedCounts.beside(index)
        )
        checked = (
            after_run(
                settings,
                store,
                index,
                account,
                state,
                read=_counted_items(scratch),
                whole=complete and sweep,
                run_id=pipeline.run_id,
            )
            if index_down is None
            else AfterRun(None, f"not checked: {index_down.one_line()}", state.backfill, state.gap_runs)
        )
        saved = save_state(
            table,
            loaded,
            state.model_copy(
                update={
                    "cursor": ctx.cursor if complete else state.cursor,
                    "last_sweep": now if complete and sweep else state.last_sweep,
                    "last_attempt": now,
                    "last_success": now if ok else state.last_success,
                    "consecutive_failures": 0 if ok else state.consecutive_failures + 1,
                    "last_error": error,
                    "gap_cause": _gap_cause(failure),
                    "runs": state.runs + 1,
                    **checked.state_update(),
                }
            ),
        )
    finally:
        scratch.close()
    r = pipeline.report
    report.ok, report.error, report.counts = ok, error, versioner.counts
    report.captures, report.files, report.quarantined = r.captures, r.files, r.quarantined
    report.crashed = r.crashed
    report.notes = list(ctx.notes)
    report.requests, report.bytes = fetcher.requests, fetcher.bytes
    report.consecutive_failures = saved.consecutive_failures
    report.items_written = written
    report.counts_written = counted
    report.completeness = checked.line
    report.state_bytes = table.bytes_written - before
    summary = summary_of(report, saved, started=now, seconds=time.monotonic() - began, complete=complete, sweep=sweep)
    record_run(table, summary, settings.harvest_run_history)
    return report


def _gap_cause(failure: list[ConnectorError]) -> str | None:
    cause = gap_cause(failure[0]) if failure else None
    return cause.value if cause is not None else None


def _counted_items(scratch: RunScratch) -> Iterator[str]:
    """The items whose comment counts this run read (from its scratch file, one at a time): what an
    incremental run's completeness check looks at."""
    return (r.item_id for r in scratch.counts if r.item_id is not None and r.what is CountOf.COMMENTS)


def save_knowledge(
    table: HarvestTable,
    account: str,
    scratch: RunScratch,
    memory: RunMemory,
    *,
    markers: bool,
    counts: PublishedCounts,
) -> tuple[int, int]:
    """Write what the run learned into the table, only what changed: the items it archived or saw, the
    markers that moved (a complete run's only), media and revisit targets; then the published counts it
    read, the new and moved ones (an incomplete run's too: each names a response that is stored).
    Returns the item documents and the count documents written. Called after every WARC file of the run
    is stored and indexed, so a count never names a record that is not in the store."""
    moved = scratch.markers.rows() if markers else iter(())  # only markers that moved are kept there
    rows = _merge_by_key(
        ((item_id, item_fields(item_id, KnownItem.model_validate_json(j))) for item_id, j in scratch.pending.rows()),
        ((item_id, {"item_id": item_id, "marker": marker}) for item_id, marker in moved),
    )
    count = table.upsert("item", account, rows)
    table.upsert("media", account, ((url, {"url": url, "sha256": sha}) for url, sha in scratch.media.rows()))
    table.upsert(
        "mloc",
        account,
        ((sha, {"location": loc.model_dump(mode="json")}) for sha, loc in memory.media_locations.items()),
    )
    table.upsert(
        "payload", account, ((key, {"payload": p.model_dump(mode="json")}) for key, p in memory.written.items())
    )
    counted = counts.record(scratch.counts) if len(scratch.counts) else 0
    return count, counted


def _merge_by_key(
    first: Iterator[tuple[str, dict[str, Any]]], second: Iterator[tuple[str, dict[str, Any]]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Two key-ordered streams of (key, fields) as one, the fields of equal keys merged: one write per document."""
    a, b = next(first, None), next(second, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a  # type: ignore[misc]
            a = next(first, None)
        elif a is None or b[0] < a[0]:
            yield b
            b = next(second, None)
        else:
            yield a[0], {**a[1], **b[1]}
            a, b = next(first, None), next(second, None)


def summary_of(
    report: HarvestReport, saved: HarvestState, *, started: datetime, seconds: float, complete: bool, sweep: bool
) -> RunSummary:
    return RunSummary(
        account=report.account,
        seq=saved.seq,
        run_id=report.run_id,
        started_at=started,
        finished_at=clock.now(),
        seconds=seconds,
        ok=report.ok,
        complete=complete,
        sweep=sweep,
        counts=dict(report.counts.__dict__),
        requests=report.requests,
        bytes=report.bytes,
        files=len(report.files),
        quarantined=len(report.quarantined),
        items_written=report.items_written,
        state_bytes=report.state_bytes,
        error=report.error,
    )
