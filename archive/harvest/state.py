"""Harvest state: the account's head (cursor, health) in the harvest table, and its run history.

The head is one small document per account, rewritten by every run over the version it read, so
two runs of one account at once cannot both save (the second is refused: `StateConflict`). What
the harvest knows of each item is beside it, one document per item (archive/index/harvest_table.py),
written only for what a run touched. The history of runs is a ring of `harvest_run_history` small
summaries: bounded however many runs an account has had, and never listed to find the state.

States saved before the table existed are snapshots in the archive store (`state/{account}/…`): the
first load of such an account imports the newest readable one (legacy.py), once.
"""

from __future__ import annotations

import logging

from schemas import HarvestState, RunSummary

from .. import clock
from ..faults import CrashPoint, crash_point
from ..index.harvest_table import HarvestTable, Head
from ..store import BlobStore
from .legacy import import_snapshot

log = logging.getLogger(__name__)


class LoadedState:
    """A head as read: the state, and what saving the next one over it must present."""

    def __init__(self, state: HarvestState, head: Head | None) -> None:
        self.state, self.head = state, head


def read_state(table: HarvestTable, account: str, store: BlobStore | None = None) -> LoadedState:
    """The account's state with its version; from the old store snapshots (imported) if the table has none."""
    head = table.head(account)
    if head is None and store is not None and import_snapshot(store, table, account):
        head = table.head(account)
    if head is None:
        return LoadedState(HarvestState(account=account), None)
    fields = {k: v for k, v in head.source.items() if k in HarvestState.model_fields}
    try:
        return LoadedState(HarvestState.model_validate(fields), head)
    except ValueError as exc:  # a damaged head must not stop harvesting: start it again, numbered on
        log.warning(
            "account=%s: harvest state is unreadable (%s); starting from a fresh cursor",
            account,
            str(exc).splitlines()[0][:200],
        )
        seq = fields.get("seq")
        return LoadedState(HarvestState(account=account, seq=seq if isinstance(seq, int) else 0), head)


def load_state(table: HarvestTable, account: str, store: BlobStore | None = None) -> HarvestState:
    """The account's current state (a fresh one if it was never harvested)."""
    return read_state(table, account, store).state


def save_state(table: HarvestTable, loaded: LoadedState, state: HarvestState) -> HarvestState:
    """Save `state` as the next seq over the head that was read; returns what was saved."""
    saved = state.model_copy(update={"seq": loaded.state.seq + 1, "saved_at": clock.now()})
    crash_point(CrashPoint.STATE_MID_SAVE)
    loaded.head = table.put_head(saved.account, saved.model_dump(mode="json"), loaded.head)
    loaded.state = saved
    return saved


def record_run(table: HarvestTable, summary: RunSummary, history: int) -> None:
    """Keep the run's summary in slot `seq mod history` of the account's ring (overwriting the oldest)."""
    # Nested, so its counts (`deleted`: a number) are kept, not indexed beside the items' fields.
    table.put(
        "run",
        summary.account,
        str(summary.seq % max(history, 1)),
        {"seq": summary.seq, "run": summary.model_dump(mode="json")},
    )


def run_history(table: HarvestTable, account: str, limit: int = 20) -> list[RunSummary]:
    """The account's newest runs, newest first."""
    return [RunSummary.model_validate(d["run"]) for d in table.latest("run", account, limit)]


def accounts_with_state(table: HarvestTable) -> list[str]:
    return table.accounts()
