"""Harvest many accounts: each on its own, so one failing account never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx

from schemas import Account

from ..closures import closed_accounts
from ..config import Settings
from ..connectors.base import Connector
from ..connectors.credentials import SecretResolver, token_for
from ..connectors.http import Fetcher, make_client
from ..connectors.registry import connector_for
from ..errors import CommunisError, StoreUnavailable
from ..index import RecordIndex
from ..store import BlobStore
from .service import HarvestReport, harvest_account
from .state import load_state, save_state

log = logging.getLogger(__name__)

FULL_LOOKBACK = timedelta(days=365 * 100)
"""A complete capture's window: every item the platform still lists is inside it."""


@contextmanager
def open_fetcher(settings: Settings, account: Account, connector: Connector, *,
                 resolve_secret: SecretResolver | None = None,
                 transport: httpx.BaseTransport | None = None) -> Iterator[Fetcher]:
    """The account's HTTP client: its credential placed where its platform wants it."""
    token = token_for(account, resolve_secret)
    headers, params = connector.client_auth(account, token)
    with make_client(transport=transport) as client:
        yield Fetcher(client, max_tries=settings.http_max_tries, backoff=settings.http_backoff_seconds,
                      throttled=connector.throttled, secrets=[token] if token else [],
                      api_host=httpx.URL(account.api_base).host, auth_headers=headers, auth_params=params)


def harvest_one(settings: Settings, store: BlobStore, index: RecordIndex, account: Account, *,
                resolve_secret: SecretResolver | None = None, transport: httpx.BaseTransport | None = None,
                now: datetime | None = None, run_id: str | None = None, full: bool = False) -> HarvestReport:
    """Harvest one account; failures become a failed report (and a counted failure in its state).

    `full`: a complete capture (the final one before closing an account): whole listings and every
    thread, whatever the look-back window and the sweep interval say.
    """
    try:
        connector = connector_for(account.platform.value)
        with open_fetcher(settings, account, connector, resolve_secret=resolve_secret,
                          transport=transport) as fetcher:
            lookback = FULL_LOOKBACK if full else timedelta(days=settings.harvest_lookback_days)
            return harvest_account(settings, store, index, account, connector, fetcher, now=now,
                                   lookback=lookback, run_id=run_id, sweep=True if full else None)
    except StoreUnavailable:
        raise  # nothing can be recorded, and no other account can be stored either
    except CommunisError as exc:
        log.error("account=%s harvest failed: %s", account.id, exc.one_line())
        state = load_state(store, account.id)
        saved = save_state(store, state.model_copy(update={
            "last_attempt": now, "consecutive_failures": state.consecutive_failures + 1,
            "last_error": exc.one_line(), "runs": state.runs + 1}))
        return HarvestReport(account.id, run_id or "-", ok=False, error=exc.one_line(),
                             consecutive_failures=saved.consecutive_failures)


def due_accounts(store: BlobStore, accounts: Iterable[Account], now: datetime) -> list[Account]:
    """The active accounts a scheduled run should harvest: those without their own interval, and those
    whose `harvest_every_minutes` has passed since their last attempt. Closed accounts (`closed_at` in
    the file or a closure recorded in the store) are not harvested again."""
    due = []
    closed = closed_accounts(store)
    for account in accounts:
        if not account.active or account.closed_at is not None or account.id in closed:
            continue
        if account.harvest_every_minutes is not None:
            last = load_state(store, account.id).last_attempt
            if last is not None and now - last < timedelta(minutes=account.harvest_every_minutes):
                continue
        due.append(account)
    return due


def harvest_all(settings: Settings, store: BlobStore, index: RecordIndex, accounts: Iterable[Account],
                **kwargs: object) -> list[HarvestReport]:
    return [harvest_one(settings, store, index, a, **kwargs) for a in accounts if a.active]  # type: ignore[arg-type]
