"""A scheduled harvest fanned out as one run per account: the parts that do not speak to Prefect.

The scheduled run (flows/harvest.py, `fan_out=True`) picks the due accounts and asks Prefect for one
run of the `harvest-account` deployment each, which any worker of the pool may take. Two things
make that safe to repeat and to scale:

- **one run per (tick, account)**: each child is created with `tick_key` as its idempotency key, so
  a retried parent, or a second parent for the same scheduled time, gets the existing run back
  instead of a second one;
- **one harvest of an account at a time**: each child holds the account's global concurrency slot
  (`slot_name`, limit 1) whichever worker runs it, with a lease the run renews while it lives, so a
  dead machine's slot comes free by itself.

The parent then reads each child's report (`ChildRun.report`, published by the child as an
artifact) for the run's harvest report; a child that ended without one becomes a failed row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
"""Prefect state types after which a run changes no more."""


def slot_name(account_id: str) -> str:
    """The account's global concurrency limit: held by whichever run harvests it, in-process or fanned out."""
    return f"harvest-{account_id}"


def tick_key(tick: datetime, account_id: str) -> str:
    """The idempotency key of the account's run for the schedule tick `tick` (the parent's scheduled time):
    the same tick and account give the same key whoever asks, however often."""
    instant = tick.astimezone(UTC).isoformat(timespec="microseconds") if tick.tzinfo else tick.isoformat()
    return f"communis-harvest/{instant}/{account_id}"


@dataclass(frozen=True)
class ChildRun:
    """One account's run as the parent last saw it."""

    account: str
    flow_run_id: str
    state: str
    """The Prefect state type (`COMPLETED`, `RUNNING`, …)."""
    message: str | None = None
    report: dict[str, Any] | None = None
    """The child's HarvestReport as a dict (`HarvestReport.as_dict`), when it published one."""

    @property
    def finished(self) -> bool:
        return self.state in FINAL


def report_rows(children: Iterable[ChildRun]) -> list[dict[str, Any]]:
    """The harvest report's rows: each child's own report, or a failed row saying how it ended.

    A child without a report did not harvest to the end: it could not get the account's slot (another
    run still had it), it crashed, or it is still running when the parent stops waiting (its worker
    died). None of that is counted in the account's state: its next run starts from the last saved
    state, so nothing is lost, and the health check alarms if that keeps happening."""
    rows = []
    for child in children:
        if child.report is not None:
            rows.append(child.report)
            continue
        how = "still running when the harvest stopped waiting" if not child.finished else f"ended {child.state}"
        detail = f": {child.message.splitlines()[0][:300]}" if child.message else ""
        rows.append(
            {
                "account": child.account,
                "run_id": child.flow_run_id,
                "ok": False,
                "error": f"account run {child.flow_run_id} {how}{detail}",
            }
        )
    return rows


def accounts_per_worker(
    seconds_per_account: float, tick_minutes: float, runs_per_worker: int, *, headroom: float = 0.5
) -> int:
    """How many accounts one worker keeps up with: its parallel runs × the tick's seconds × the share of the
    tick it may use (`headroom`: the rest absorbs sweeps, backfills and slow platforms), / one account's run."""
    if seconds_per_account <= 0:
        raise ValueError("seconds_per_account must be positive")
    return math.floor(runs_per_worker * tick_minutes * 60 * headroom / seconds_per_account)
