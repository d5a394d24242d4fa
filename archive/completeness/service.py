"""Making a report and keeping it: the one call the CLI, the harvest's sweeps and the benchmark share."""

from __future__ import annotations

from collections.abc import Sequence

from schemas import Account, CompletenessReport

from ..config import Settings
from ..index import RecordIndex
from ..store import BlobStore
from .book import keep
from .report import account_report
from .tolerance import tolerance_for


def report_account(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    account: Account,
    *,
    made_by: str,
    month: str | None = None,
    run_id: str | None = None,
    reread: Sequence[str] = (),
) -> CompletenessReport:
    """The account's completeness now (or of one month), under its platform's tolerance, stored write-once
    with its rows; returns the report as kept (with its key). `reread`: the backfill the run this report
    follows was asked to read again."""
    report = account_report(
        index,
        account.id,
        account.platform,
        tolerance_for(account.platform, settings),
        month=month,
        run_id=run_id,
        made_by=made_by,
        reread=reread,
    )
    return keep(store, index, report)
