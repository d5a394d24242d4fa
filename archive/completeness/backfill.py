"""Gaps acted on: a run's completeness check, and what it leaves in the account's head for the next run.

After a run has stored and indexed everything (its published counts included), the harvest asks
`after_run`. A sweep (every listing walked, every count read) makes the whole report, kept like any
other; a scheduled run checks only the items whose counts it read and the items still waiting for a
backfill, so its cost follows what it read. The items found short become the head's `backfill`:
the next run sweeps once (archive/harvest/service.py) and reads exactly their threads again
(`HarvestContext.wants_thread`); a gap that is still there after that counts up `gap_runs`, and
`COMMUNIS_COMPLETENESS_ALARM_RUNS` runs in a row alarm (archive/harvest/health.py). A check that
cannot be made (Elasticsearch away) changes nothing: the head keeps what it had, and the line says why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from schemas import Account, HarvestState, Status

from ..config import Settings
from ..errors import CommunisError
from ..index import RecordIndex
from ..store import BlobStore
from .report import BACKFILL_MAX, check_items
from .service import report_account
from .tolerance import tolerance_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AfterRun:
    """What a run's check found, and what the head keeps of it."""

    status: Status | None
    """None: no check could be made."""
    line: str
    backfill: list[str]
    gap_runs: int
    report_key: str | None = None

    def state_update(self) -> dict[str, object]:
        """The head's fields this check sets."""
        return {"backfill": self.backfill, "gap_runs": self.gap_runs, "completeness": self.line}


def _unchecked_first(read: Iterable[str], waiting: list[str]) -> Iterator[str]:
    """The items read this run, then those waiting for a backfill that were not among them (each once)."""
    pending = set(waiting)
    for item_id in read:
        pending.discard(item_id)
        yield item_id
    yield from (i for i in waiting if i in pending)


def after_run(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    account: Account,
    state: HarvestState,
    *,
    read: Iterable[str],
    whole: bool,
    run_id: str,
) -> AfterRun:
    """Check the run's items (`whole`: the whole account, kept as a report) and say what the head keeps."""
    try:
        if whole:
            report = report_account(
                settings,
                store,
                index,
                account,
                made_by=f"harvest run {run_id}",
                run_id=run_id,
                reread=state.backfill,  # the run was handed these threads to read again (wants_thread)
            )
            status, line, gaps, key = report.status, report.summary, report.backfill, report.key
        else:
            tolerance = tolerance_for(account.platform, settings)
            check = check_items(index, account.id, account.platform, _unchecked_first(read, state.backfill), tolerance)
            status, line, gaps, key = check.status, check.line, check.gaps, None
    except CommunisError as exc:  # the harvest itself succeeded: its check waits for the next run
        why = f"not checked: {exc.one_line()}"
        log.warning("account=%s: completeness %s", account.id, why)
        return AfterRun(None, why, state.backfill, state.gap_runs)
    gap = status is Status.GAP
    return AfterRun(status, line, gaps[:BACKFILL_MAX], state.gap_runs + 1 if gap else 0, key)


def sweep_for_backfill(state: HarvestState) -> bool:
    """Whether this run should sweep to re-read the backfill: once, the run after a gap was first found.
    A gap still there after that waits for the regular sweeps and alarms; sweeping every run for a gap
    that does not close (a count that includes what the API never shows) would cost a full walk each time."""
    return bool(state.backfill) and state.gap_runs == 1
