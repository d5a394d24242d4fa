"""An account's own interval (`harvest_every_minutes`, for platforms with daily quotas): scheduled runs
skip it until it is due, and its health is judged by that interval, not the schedule's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from archive.config import Settings
from archive.harvest.health import account_health
from archive.harvest.runner import due_accounts
from archive.harvest.state import read_state, save_state
from archive.index import open_index
from archive.index.harvest_table import HarvestTable
from archive.store import open_store
from schemas import Account


def _account(account_id: str, every: int | None) -> Account:
    return Account(
        id=account_id,
        platform="bluesky",
        handle="sundsvik.se",
        display_name="Sundsvik",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        harvest_every_minutes=every,
    )


def test_an_account_with_its_own_interval_waits_until_it_is_due(settings: Settings) -> None:
    store, index = open_store(settings), open_index(settings)
    table = HarvestTable.beside(index)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    every_run, hourly, never_run = _account("every-run", None), _account("hourly", 60), _account("new-hourly", 60)
    for account in (every_run, hourly):
        loaded = read_state(table, account.id)
        save_state(
            table,
            loaded,
            loaded.state.model_copy(
                update={
                    "last_attempt": now - timedelta(minutes=10),
                    "last_success": now - timedelta(minutes=50),
                    "runs": 1,
                }
            ),
        )
    accounts = [every_run, hourly, never_run]
    assert [a.id for a in due_accounts(store, index, accounts, now)] == ["every-run", "new-hourly"]
    assert [a.id for a in due_accounts(store, index, accounts, now + timedelta(minutes=51))] == [
        "every-run",
        "hourly",
        "new-hourly",
    ]
    health = {h.account: h for h in account_health(store, index, accounts, now, interval=timedelta(minutes=15))}
    assert health["every-run"].alarm is not None and "no successful capture since" in health["every-run"].alarm
    assert health["hourly"].alarm is None  # 50 minutes is inside twice its own hour
    index.destroy()
