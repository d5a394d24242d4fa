"""Harvest one account: connector → new versions → pipeline → state, in that order.

The state (cursor, known items, revisit targets) is saved only after the pipeline has
stored every WARC file of the run, so a crash or kill at any point is followed by a run
that re-reads from the old cursor and, knowing the versions it recovered from files left
in the work folder, writes no version twice. A connector failure ends the run early but
keeps what was captured up to it; the failure is counted in the state for `accounts status`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas import Account, CaptureBundle, HarvestState, WarcFileManifest

from .. import clock
from ..bundles import Rejected
from ..config import Settings
from ..connectors.base import Connector, HarvestContext
from ..connectors.http import Fetcher
from ..context import open_pipeline
from ..errors import ConnectorError, GaveUp, IndexUnavailable, NothingListed, PayloadInvalid
from ..faults import CrashPoint, crash_point
from ..index import RecordIndex
from ..ingest.memory import RunMemory
from ..ingest.quarantine import QuarantineEntry
from ..redact import redact_text
from ..store import BlobStore
from .state import load_state, save_state
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

    def as_dict(self) -> dict[str, Any]:
        """Plain values (files by key, quarantined items by reason): the flow's task result and the
        rows of `markdown_report`, one conversion for both."""
        return self.__dict__ | {
            "counts": self.counts.__dict__,
            "files": [m.key for m in self.files],
            "quarantined": [q.reason for q in self.quarantined],
        }


def _candidates(state: HarvestState, ctx: HarvestContext) -> list[str]:
    """Known, live items inside the look-back window that this run's listings did not show."""
    out = []
    for item_id, known in state.known.items():
        if known.deleted or item_id in ctx.seen:
            continue
        if known.published_at is None or known.published_at >= ctx.window_start:
            out.append(item_id)
    return sorted(out)


def _listings(ctx: HarvestContext, items: Iterator[CaptureBundle | Rejected]) -> Iterator[CaptureBundle | Rejected]:
    """The connector's output, passed on; NothingListed at its end when not one listing page could be read
    (every page quarantined, none yielded a bundle): such a run has failed, and must not say ok."""
    pages, rejected = 0, []
    for item in items:
        if isinstance(item, CaptureBundle):
            pages += not item.is_media
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
    state = load_state(store, account.id)
    memory = RunMemory(payloads=dict(state.payloads), media_locations=dict(state.media_warc))
    pipeline = open_pipeline(
        settings, store, index, run_id=run_id, work_dir=settings.data_dir / "work" / account.id, memory=memory
    )
    report = HarvestReport(account.id, pipeline.run_id)
    versioner = Versioner(state, now)
    recovered = pipeline.recover(account.id, since=state.saved_at)
    for record in recovered.records:
        known = versioner.known.get(record.item_id)
        if known is None or known.version < record.version:
            versioner.remember(record)
    if recovered.media:  # what a crashed run archived is not fetched or stored again
        state = state.model_copy(update={"media": {**state.media, **recovered.media}})
    if sweep is None:  # True: a complete capture asks for one whatever the interval says
        sweep = state.last_sweep is None or now - state.last_sweep >= timedelta(hours=settings.harvest_sweep_hours)
    ctx = HarvestContext(
        account, state, fetcher, now, lookback=lookback, sweep=sweep, media_max_bytes=settings.media_max_bytes
    )
    failure: list[ConnectorError] = []

    def stream() -> Iterator[CaptureBundle | Rejected]:
        try:
            yield from versioner.filter(_listings(ctx, connector.harvest(ctx)))
            for item_id in _candidates(state, ctx):
                try:
                    bundle = connector.check_deleted(ctx, item_id, state.known[item_id])
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
    error = redact_text(error) if error else None  # the state is write-once: no credential in it, ever
    complete = not failure and not ctx.incomplete
    crash_point(CrashPoint.HARVEST_BEFORE_STATE)
    saved = save_state(
        store,
        state.model_copy(
            update={
                "cursor": ctx.cursor if complete else state.cursor,
                "markers": {**state.markers, **ctx.markers} if complete else state.markers,
                "last_sweep": now if complete and sweep else state.last_sweep,
                "known": versioner.known,
                "payloads": memory.next_payloads(),
                "media": {**state.media, **ctx.media},
                "media_warc": memory.media_locations,
                "last_attempt": now,
                "last_success": now if ok else state.last_success,
                "consecutive_failures": 0 if ok else state.consecutive_failures + 1,
                "last_error": error,
                "runs": state.runs + 1,
            }
        ),
    )
    r = pipeline.report
    report.ok, report.error, report.counts = ok, error, versioner.counts
    report.captures, report.files, report.quarantined = r.captures, r.files, r.quarantined
    report.crashed = r.crashed
    report.requests, report.bytes = fetcher.requests, fetcher.bytes
    report.consecutive_failures = saved.consecutive_failures
    return report
