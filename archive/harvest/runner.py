"""Harvest many accounts: each on its own, so one failing account never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx

from schemas import Account

from ..accounts.closures import closed_accounts
from ..config import Settings
from ..connectors.base import Connector
from ..connectors.credentials import SecretResolver, token_for
from ..connectors.destinations import DestinationPolicy, GuardedTransport
from ..connectors.http import Fetcher, make_client
from ..connectors.registry import connector_for
from ..errors import CommunisError, IndexUnavailable, StoreUnavailable
from ..index import RecordIndex
from ..index.harvest_table import HarvestTable
from ..redact import redact_text
from ..store import BlobStore
from .service import HarvestReport, harvest_account
from .state import load_state, read_state, save_state

log = logging.getLogger(__name__)

FULL_LOOKBACK = timedelta(days=365 * 100)
"""A complete capture's window: every item the platform still lists is inside it."""


@contextmanager
def open_fetcher(
    settings: Settings,
    account: Account,
    connector: Connector,
    *,
    resolve_secret: SecretResolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[Fetcher]:
    """The account's HTTP client: its credential placed where its platform wants it, and every
    connection to a destination the settings allow (public addresses, `http_allowed_networks`).
    A caller's own `transport` (the tests' routing to recordings) replaces the guarded one."""
    token = token_for(account, resolve_secret)
    headers, params = connector.client_auth(account, token)
    if transport is None:
        transport = GuardedTransport(DestinationPolicy(settings.allowed_networks()))
    with make_client(transport=transport) as client:
        yield Fetcher(
            client,
            max_tries=settings.http_max_tries,
            backoff=settings.http_backoff_seconds,
            throttled=connector.throttled,
            secrets=[token] if token else [],
            api_host=httpx.URL(account.api_base).host,
            auth_headers=headers,
            auth_params=params,
            max_body_bytes=settings.max_body_bytes,
        )


def harvest_one(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    account: Account,
    *,
    resolve_secret: SecretResolver | None = None,
    transport: httpx.BaseTransport | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
    full: bool = False,
) -> HarvestReport:
    """Harvest one account; failures become a failed report (and a counted failure in its state).

    Any exception but StoreUnavailable is caught here, expected (CommunisError) or not (a bug that
    some input provokes): one account's failure must never skip the accounts after it in the same
    run. It is counted in the state like any failure, so health alarms on it as usual.

    `full`: a complete capture (the final one before closing an account): whole listings and every
    thread, whatever the look-back window and the sweep interval say.
    """
    try:
        connector = connector_for(account.platform.value)
        with open_fetcher(settings, account, connector, resolve_secret=resolve_secret, transport=transport) as fetcher:
            lookback = FULL_LOOKBACK if full else timedelta(days=settings.harvest_lookback_days)
            return harvest_account(
                settings,
                store,
                index,
                account,
                connector,
                fetcher,
                now=now,
                lookback=lookback,
                run_id=run_id,
                sweep=True if full else None,
            )
    except StoreUnavailable:
        raise  # nothing can be recorded, and no other account can be stored either
    except CommunisError as exc:
        error = redact_text(exc.one_line())  # saved in the write-once state, reported, alerted: no credential
        log.error("account=%s harvest failed: %s", account.id, error)
        return _failed(store, index, account, error, now=now, run_id=run_id)
    except Exception as exc:  # noqa: BLE001 - see the docstring: the other accounts must still run
        log.exception("account=%s harvest failed unexpectedly", account.id)
        return _failed(store, index, account, unexpected(exc), now=now, run_id=run_id)


def unexpected(exc: BaseException) -> str:
    """An unexpected exception as one line, cause first: `unexpected ValueError: …` (first line, 300 chars)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # The message goes into the write-once state, the flow report and the alert: no credential in it.
    return redact_text(f"unexpected {type(exc).__name__}{': ' + text if text else ''}")[:300]


def _failed(
    store: BlobStore, index: RecordIndex, account: Account, error: str, *, now: datetime | None, run_id: str | None
) -> HarvestReport:
    """A failed run, counted in the account's state (so health alarms on it); when the state itself
    cannot be reached (Elasticsearch down), the failure is only reported."""
    failures = 1
    try:
        table = HarvestTable.beside(index)
        loaded = read_state(table, account.id, store)
        state = loaded.state
        saved = save_state(
            table,
            loaded,
            state.model_copy(
                update={
                    "last_attempt": now,
                    "consecutive_failures": state.consecutive_failures + 1,
                    "last_error": error,
                    "runs": state.runs + 1,
                }
            ),
        )
        failures = saved.consecutive_failures
    except IndexUnavailable as exc:
        log.error("account=%s: the failure could not be counted in its state: %s", account.id, exc.one_line())
    return HarvestReport(account.id, run_id or "-", ok=False, error=error, consecutive_failures=failures)


def due_accounts(store: BlobStore, index: RecordIndex, accounts: Iterable[Account], now: datetime) -> list[Account]:
    """The active accounts a scheduled run should harvest: those without their own interval, and those
    whose `harvest_every_minutes` has passed since their last attempt. Closed accounts (`closed_at` in
    the file or a closure recorded in the store) are not harvested again."""
    due = []
    closed = closed_accounts(store)
    table = HarvestTable.beside(index)
    for account in accounts:
        if not account.active or account.closed_at is not None or account.id in closed:
            continue
        if account.harvest_every_minutes is not None:
            last = load_state(table, account.id, store).last_attempt
            if last is not None and now - last < timedelta(minutes=account.harvest_every_minutes):
                continue
        due.append(account)
    return due


def harvest_all(
    settings: Settings, store: BlobStore, index: RecordIndex, accounts: Iterable[Account], **kwargs: object
) -> list[HarvestReport]:
    return [harvest_one(settings, store, index, a, **kwargs) for a in accounts if a.active]  # type: ignore[arg-type]
