"""Closing a channel (SE-5): a final complete capture, then the write-once closure record.

The closure is recorded only if that capture succeeded, so the last state of a channel is in the
archive before it is marked closed; scheduled harvests then skip it (runner.py `due_accounts`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from schemas import Account
from schemas.premis import PremisEventType
from schemas.register import AccountClosure

from .. import clock
from ..accounts.closures import closure_key, load_closure, save_closure
from ..config import Settings
from ..errors import CommunisError
from ..index import RecordIndex
from ..preservation.premis import PremisLog
from ..store import BlobStore
from .runner import harvest_one

log = logging.getLogger(__name__)


def close_account(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    premis: PremisLog,
    account: Account,
    *,
    by: str,
    closed_on: date | None = None,
    reason: str = "",
    now: datetime | None = None,
    **harvest_kwargs: Any,
) -> AccountClosure:
    """Final complete capture, then the write-once closure record and a PREMIS capture event."""
    existing = load_closure(store, account.id)
    if existing is not None:
        raise CommunisError(
            f"{account.id} was closed on {existing.closed_at} (recorded {existing.recorded_at:%Y-%m-%d})",
            hint="a closure is write-once",
        )
    moment = now or clock.now()
    report = harvest_one(settings, store, index, account, now=moment, full=True, **harvest_kwargs)
    if not report.ok:
        raise CommunisError(
            f"the final capture of {account.id} failed: {report.error}; the closure is not recorded",
            hint="fix the account's access and run `communis accounts close` again",
        )
    closure = AccountClosure(
        account=account.id,
        closed_at=closed_on or moment.date(),
        recorded_at=clock.now(),
        recorded_by=by,
        reason=reason,
        final_run_id=report.run_id,
        final_files=[m.key for m in report.files],
        final_captures=report.captures,
    )
    save_closure(store, closure)
    premis.record(
        PremisEventType.CAPTURE,
        objects=[f"account:{account.id}", closure_key(account.id), *closure.final_files],
        agents=[f"person: {by}"],
        detail=f"final complete capture of {account.id} ({account.platform.value}) before closing the "
        f"channel on {closure.closed_at}; run {report.run_id}, {report.captures} captures, "
        f"{len(report.files)} files" + (f"; reason: {reason}" if reason else ""),
    )
    log.info("account=%s closed on %s after final run %s", account.id, closure.closed_at, report.run_id)
    return closure
