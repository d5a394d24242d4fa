"""A scheduled harvest fanned out over the workers: the parts that do not speak to Prefect.

The scheduled run (flows/harvest.py, `fan_out=True`) picks the due accounts, deals them into
groups (`groups`) and asks Prefect for one run of the `harvest-accounts` deployment per group, which
any worker of the pool may take. A group, not a single account, is the unit because a process
worker starts a Python process per flow run (seconds of imports, docs/performance.md): a group of
`COMMUNIS_HARVEST_FANOUT_GROUP` small accounts pays that once. Three things make it safe to repeat
and to scale:

- **an account in one group per tick**: an account's group depends only on the accounts file (its
  place among the listed ids, dealt round-robin), never on which accounts are due, so every parent
  for the same tick puts it in the same group;
- **one run per (tick, group)**: each run is created with `group_key` as its idempotency key, so a
  retried parent, or a second parent for the same scheduled time, gets the existing run back (with
  the accounts it was created with) instead of a second one;
- **one harvest of an account at a time**: the run holds each account's global concurrency slot
  (`slot_name`, limit 1) while it harvests it, whichever worker runs it, under a lease the run
  renews while it lives, so a dead machine's slot comes free by itself.

Each run publishes one report per account as it finishes it (an artifact); the parent reads them
for the tick's harvest report, and an account without one becomes a failed row (`report_rows`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
"""Prefect state types after which a run changes no more."""


def slot_name(account_id: str) -> str:
    """The account's global concurrency limit: held by whichever run harvests it, in-process or fanned out."""
    return f"harvest-{account_id}"


def tick_text(tick: datetime) -> str:
    """The schedule tick (the parent's scheduled time) as written into keys: UTC, to the microsecond."""
    return tick.astimezone(UTC).isoformat(timespec="microseconds") if tick.tzinfo else tick.isoformat()


def group_key(tick: datetime, group: int, groups: int) -> str:
    """The idempotency key of group `group` of `groups` for the tick: the same whoever asks, however often."""
    return f"communis-harvest/{tick_text(tick)}/{groups}/{group}"


def groups(listed: Iterable[str], due: Iterable[str], size: int) -> list[tuple[int, int, list[str]]]:
    """The due accounts dealt into groups of about `size`: (group, number of groups, its due accounts in
    the order given), for the groups with any. The group of an account is its place among the sorted
    listed ids modulo the number of groups, which depends on the listed accounts only: a retried parent
    that finds fewer accounts due (its first attempt harvested some) still puts each in the same group."""
    if size < 1:
        raise ValueError("group size must be at least 1")
    order = sorted(set(listed))
    count = max(1, math.ceil(len(order) / size))
    place = {account: i % count for i, account in enumerate(order)}
    members: dict[int, list[str]] = {}
    for account in due:
        members.setdefault(place[account], []).append(account)
    return [(group, count, members[group]) for group in sorted(members)]


@dataclass(frozen=True)
class ChildRun:
    """One group's run as the parent last saw it."""

    accounts: list[str]
    """The accounts it was created with (a retried parent's group gets the first creation's)."""
    flow_run_id: str
    state: str
    """The Prefect state type (`COMPLETED`, `RUNNING`, …)."""
    message: str | None = None
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Account → its HarvestReport as a dict (`HarvestReport.as_dict`), for each it published one of."""

    @property
    def finished(self) -> bool:
        return self.state in FINAL

    @property
    def missing(self) -> list[str]:
        """Its accounts without a report."""
        return [a for a in self.accounts if a not in self.reports]


def report_rows(children: Iterable[ChildRun]) -> list[dict[str, Any]]:
    """The harvest report's rows: each account's own report, or a failed row saying how its run ended.

    An account without a report was not harvested to the end: its run crashed before reaching it or
    inside it, or is still running when the parent stops waiting (its worker died). None of that is
    counted in the account's state: its next run starts from the last saved state, so nothing is lost,
    and the health check alarms if that keeps happening."""
    rows = []
    for child in children:
        how = "still running when the harvest stopped waiting" if not child.finished else f"ended {child.state}"
        detail = f": {child.message.splitlines()[0][:300]}" if child.message else ""
        for account in child.accounts:
            found = child.reports.get(account)
            rows.append(
                found
                if found is not None
                else {
                    "account": account,
                    "run_id": child.flow_run_id,
                    "ok": False,
                    "error": f"harvest run {child.flow_run_id} {how}{detail}",
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
