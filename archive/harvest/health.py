"""Coverage is governed, not assumed: per-account health from the saved harvest states (the harvest table).

An account is alarming at its first failed run whose cause opens a completeness gap until someone
acts (token refused, permission lost, rate limit exhausted, account gone: causes.py), when it has
failed `max_failures` runs in a row, has not been captured successfully within twice its expected interval, or has ended
`gap_runs` runs in a row with a completeness gap that re-reading its threads did not close (the
platform shows comments the archive cannot get: archive/completeness/backfill.py). Alarms fail the
Prefect run, appear in its artifact and, if configured, go to a webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import httpx

from schemas import Account

from .. import clock
from ..config import Settings, refuse_plaintext_credential
from ..errors import ConfigError
from ..index import RecordIndex
from ..index.harvest_table import HarvestTable
from ..store import BlobStore
from .causes import gap_alarm
from .state import load_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountHealth:
    account: str
    platform: str
    last_success: datetime | None
    last_attempt: datetime | None
    items: int
    deleted: int
    consecutive_failures: int
    last_error: str | None
    alarm: str | None
    completeness: str | None = None
    """The last run's completeness check, one line."""

    @property
    def ok(self) -> bool:
        return self.alarm is None


def account_health(
    store: BlobStore,
    index: RecordIndex,
    accounts: Iterable[Account],
    now: datetime,
    *,
    interval: timedelta = timedelta(minutes=15),
    max_failures: int = 3,
    gap_runs: int = 3,
) -> list[AccountHealth]:
    rows = []
    table = HarvestTable.beside(index)
    for account in accounts:
        if not account.active:
            continue
        state = load_state(table, account.id, store)
        alarm = None
        if state.gap_cause is not None and state.consecutive_failures > 0:  # at once: the platform goes on
            alarm = gap_alarm(state.gap_cause, state.last_error)
        elif state.consecutive_failures >= max_failures:
            alarm = f"failed {state.consecutive_failures} runs in a row: {state.last_error}"
        elif state.last_success is None:
            alarm = "never captured successfully" if state.runs else "not harvested yet"
        elif now - state.last_success > 2 * max(interval, timedelta(minutes=account.harvest_every_minutes or 0)):
            alarm = f"no successful capture since {state.last_success:%Y-%m-%d %H:%M} UTC"
        elif state.gap_runs >= gap_runs:
            alarm = f"completeness gap for {state.gap_runs} runs in a row: {state.completeness}"
        rows.append(
            AccountHealth(
                account.id,
                account.platform.value,
                state.last_success,
                state.last_attempt,
                table.count("item", account.id),
                table.count("item", account.id, deleted=True),
                state.consecutive_failures,
                state.last_error,
                alarm,
                state.completeness,
            )
        )
    return rows


def notify(webhook_url: str, problems: list[AccountHealth], *, timeout: float = 10.0) -> bool:
    """POST the alarms as JSON; a failing webhook is logged, never fatal (the run is failed anyway)."""
    payload = {
        "text": f"Communis: {len(problems)} account(s) need attention",
        "accounts": [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(p).items()} for p in problems
        ],
    }
    try:
        refuse_plaintext_credential(webhook_url, "alert webhook")  # its URL is a secret: never over plain HTTP
    except ConfigError as exc:
        log.error("%s", exc.one_line())
        return False
    try:
        httpx.post(webhook_url, json=payload, timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        log.error("alert webhook failed: %s", type(exc).__name__)
        return False
    return True


def check_accounts(
    store: BlobStore,
    index: RecordIndex,
    accounts: Iterable[Account],
    settings: Settings,
    now: datetime | None = None,
) -> list[AccountHealth]:
    """Health of `accounts` by the configured interval and failure threshold (CLI and flow alike)."""
    return account_health(
        store,
        index,
        accounts,
        now or clock.now(),
        interval=timedelta(minutes=settings.harvest_interval_minutes),
        max_failures=settings.alert_after_failures,
        gap_runs=settings.completeness_alarm_runs,
    )


def raise_alarms(rows: Iterable[AccountHealth], settings: Settings) -> list[AccountHealth]:
    """The accounts that need attention (a not-yet-harvested account is not one); sent to the webhook."""
    problems = [h for h in rows if not h.ok and h.alarm != "not harvested yet"]
    for p in problems:
        log.warning("account %s: %s", p.account, p.alarm)
    if problems and settings.alert_webhook_url is not None:
        notify(settings.alert_webhook_url.get_secret_value(), problems)
    return problems
