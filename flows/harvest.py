"""Harvest flow: every account (or the selected ones), one task per account.

Thin by design: the work is `archive.harvest`. Each account's task holds a Prefect global
concurrency slot named for the account, so two runs never harvest the same account at once.
The run publishes a markdown artifact; alarming accounts (repeated failures, overdue) fail the
run and, if configured, are sent to the alert webhook.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import State
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists
from prefect.states import Completed, Failed
from prefect.utilities.asyncutils import run_coro_as_sync

from archive import clock
from archive.accounts import load_accounts
from archive.context import Archive
from archive.harvest.health import check_accounts, raise_alarms
from archive.harvest.report import markdown_report
from archive.harvest.runner import due_accounts, harvest_one
from archive.logs import install_log_redaction


def _secret(name: str) -> str:
    # Called from sync code, where Prefect's async_dispatch gives the block itself (typed as "or a coroutine").
    block = cast(Secret[str], Secret.load(name))
    return str(block.get())


async def _ensure_limits(names: list[str]) -> None:
    async with get_client() as client:
        for name in names:
            with suppress(ObjectAlreadyExists):
                await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


@task(task_run_name="harvest-{account_id}")
def harvest_account_task(account_id: str, accounts_file: str) -> dict[str, object]:
    install_log_redaction()  # also when the task runs under a flow of its own
    arc = Archive()
    account = next(a for a in load_accounts(Path(accounts_file), arc.settings) if a.id == account_id)
    with concurrency(
        f"harvest-{account_id}", occupy=1, strict=True, timeout_seconds=arc.settings.harvest_lock_timeout_seconds
    ):
        report = harvest_one(arc.settings, arc.store, arc.index, account, resolve_secret=_secret)
    return report.as_dict()


@flow(name="communis-harvest", log_prints=True)
def harvest(accounts_file: str | None = None, accounts: list[str] | None = None) -> State:
    """Harvest the accounts in `accounts_file` (default: the configured one)."""
    install_log_redaction()  # Prefect's handlers (console, its API log table) get redacted records only
    logger = get_run_logger()
    arc = Archive()
    path = accounts_file or (str(arc.settings.accounts_file) if arc.settings.accounts_file else None)
    if path is None:
        return Failed(message="no accounts file: set COMMUNIS_ACCOUNTS_FILE or pass accounts_file")
    listed = [a for a in load_accounts(Path(path), arc.settings) if a.active and (not accounts or a.id in accounts)]
    selected = due_accounts(arc.store, listed, clock.now())  # an account's own interval (quota) is respected
    if len(selected) < len(listed):
        logger.info("not due yet (harvest_every_minutes): %s", ", ".join(a.id for a in listed if a not in selected))
    run_coro_as_sync(_ensure_limits([f"harvest-{a.id}" for a in selected]))
    futures = [harvest_account_task.submit(a.id, path) for a in selected]
    results = [f.result() for f in futures]
    health = check_accounts(arc.store, listed, arc.settings)
    create_markdown_artifact(
        markdown_report(results, health),
        key="harvest-report",
        description="Per account: new, edited, deleted, comments, media, bytes, problems",
    )
    problems = raise_alarms(health, arc.settings)
    logger.info("harvested %s account(s), %s need attention", len(results), len(problems))
    if problems:
        return Failed(
            message=f"{len(problems)} account(s) need attention: "
            + "; ".join(f"{p.account}: {p.alarm}" for p in problems)
        )
    return Completed(message=f"harvested {len(results)} account(s)", data=results)
