"""Harvest flows: every account (or the selected ones), in this process or fanned out over the workers.

Thin by design: the work is `archive.harvest`. Two ways to run a harvest, one report:

- `harvest()` (in-process, the default): one task per account in this flow run's process;
- `harvest(fan_out=True)` (the scheduled deployment `harvest`): the due accounts dealt into groups of
  `COMMUNIS_HARVEST_FANOUT_GROUP`, one flow run of the deployment `harvest-accounts`
  (`harvest_accounts_flow`) per group, created with an idempotency key per (schedule tick, group), so
  any worker of the pool may take each and a retried parent creates no second run; the parent waits
  for them and reads each account's report (a table artifact). archive/harvest/fanout.py says why.

Either way an account's harvest holds the Prefect global concurrency slot named for the account
(limit 1) under a lease the run renews, so two runs never harvest the same account at once, on one
worker or several, and a dead worker's slot comes free when its lease runs out.
The run publishes a markdown artifact; alarming accounts (repeated failures, overdue) fail the
run and, if configured, are sent to the alert webhook.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.blocks.system import Secret
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import State
from prefect.client.schemas.sorting import ArtifactSort
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError
from prefect.states import Completed, Failed, Scheduled
from prefect.utilities.asyncutils import run_coro_as_sync

from archive import clock
from archive.accounts import load_accounts
from archive.config import Settings
from archive.context import Archive
from archive.harvest.fanout import FINAL, ChildRun, group_key, groups, report_rows, slot_name, tick_text
from archive.harvest.health import check_accounts, raise_alarms
from archive.harvest.report import markdown_report
from archive.harvest.runner import due_accounts, harvest_one
from archive.logs import install_log_redaction
from schemas import Account

GROUP_DEPLOYMENT = "communis-harvest-accounts/harvest-accounts"
"""The deployment (prefect.yaml) a fanned-out harvest creates its runs from, one per group of accounts."""
REPORT_ARTIFACT = "table"
"""The artifact type a group run publishes each account's report as (one row: `HarvestReport.as_dict`)."""
_CREATE_TRIES = 10
"""Tries to create one group's run while the server answers 'busy' (with backoff: about 8 minutes in all)."""
_BATCH = 200
"""Flow runs or artifacts asked for in one API request."""


def _secret(name: str) -> str:
    # Called from sync code, where Prefect's async_dispatch gives the block itself (typed as "or a coroutine").
    block = cast(Secret[str], Secret.load(name))
    return str(block.get())


async def _ensure_limits(names: list[str]) -> None:
    async with get_client() as client:
        for name in names:
            with suppress(ObjectAlreadyExists):
                await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


async def _ensure_limit(name: str) -> None:
    """The one limit, created only if missing: a group run usually finds it made by its parent."""
    async with get_client() as client:
        try:
            await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            await _ensure_limits([name])


def _harvest_holding_slot(account_id: str, accounts_file: str | None) -> dict[str, Any]:
    """One account's harvest inside its concurrency slot: what the task and the per-account flow both run."""
    install_log_redaction()  # also when this runs under a flow of its own, in a worker's process
    arc = Archive()
    path = accounts_file or (str(arc.settings.accounts_file) if arc.settings.accounts_file else None)
    if path is None:
        raise ValueError("no accounts file: set COMMUNIS_ACCOUNTS_FILE or pass accounts_file")
    found = [a for a in load_accounts(Path(path), arc.settings) if a.id == account_id]
    if not found:
        raise ValueError(f"account {account_id!r} is not in {path}")
    with concurrency(
        slot_name(account_id),
        occupy=1,
        strict=True,
        timeout_seconds=arc.settings.harvest_lock_timeout_seconds,
        lease_duration=arc.settings.harvest_lock_lease_seconds,
    ):
        report = harvest_one(arc.settings, arc.store, arc.index, found[0], resolve_secret=_secret)
    return report.as_dict()


@task(task_run_name="harvest-{account_id}")
def harvest_account_task(account_id: str, accounts_file: str) -> dict[str, object]:
    return _harvest_holding_slot(account_id, accounts_file)


def _harvest_or_busy(account_id: str, accounts_file: str | None) -> dict[str, Any]:
    """The account's report, or a failed row when another run kept its slot for the whole wait."""
    try:
        return _harvest_holding_slot(account_id, accounts_file)
    except TimeoutError:  # AcquireConcurrencySlotTimeoutError: nothing harvested, nothing counted
        return {
            "account": account_id,
            "run_id": "-",
            "ok": False,
            "error": f"slot {slot_name(account_id)} still taken by another run after "
            f"{Archive().settings.harvest_lock_timeout_seconds} s; left to the next tick",
        }


@flow(name="communis-harvest-accounts", flow_run_name="harvest-{account_ids[0]}-and-more", log_prints=True)
def harvest_accounts_flow(account_ids: list[str], accounts_file: str | None = None) -> State:
    """A group of accounts harvested one after another, each inside its slot, as a flow run of its own on
    whichever worker takes it: the fanned-out harvest's unit.

    Each account's report is published as a one-row table artifact as soon as it is done, which the
    parent reads through the API (a flow run's return value would live in the worker's own result
    storage, out of the parent's reach), so a run killed halfway still reports what it finished."""
    rows = []
    for account_id in account_ids:
        run_coro_as_sync(_ensure_limit(slot_name(account_id)))  # also when started by hand, without a parent
        row = _harvest_or_busy(account_id, accounts_file)
        create_table_artifact([row], description=f"Harvest report of {account_id} (read by the scheduled harvest)")
        rows.append(row)
    failed = [r for r in rows if not r["ok"]]
    if failed:
        return Failed(message="; ".join(f"{r['account']}: {r['error']}" for r in failed)[:2000], data=rows)
    return Completed(message=f"harvested {len(rows)} account(s)", data=rows)


async def _create_children(
    client: PrefectClient,
    listed: list[Account],
    due: list[Account],
    accounts_file: str | None,
    tick: datetime,
    size: int,
) -> dict[UUID, list[str]]:
    """One run of the `harvest-accounts` deployment per group of due accounts (the existing one for a key
    already used), by id, with the accounts it was created with."""
    deployment = await client.read_deployment_by_name(GROUP_DEPLOYMENT)
    gate = asyncio.Semaphore(2)  # a few requests at a time: the API server is shared with the workers

    async def create(group: int, count: int, members: list[str]) -> tuple[UUID, list[str]]:
        async with gate:
            for attempt in range(_CREATE_TRIES):
                try:
                    run = await client.create_flow_run_from_deployment(
                        deployment.id,
                        parameters={"account_ids": members, "accounts_file": accounts_file},
                        name=f"harvest-{tick_text(tick)[:16]}-{group + 1}-of-{count}",
                        idempotency_key=group_key(tick, group, count),
                        state=Scheduled(),
                    )
                    return run.id, list(run.parameters.get("account_ids") or members)
                except PrefectHTTPStatusError as exc:
                    # A busy server (SQLite under many workers) answers 503 for a while, past the client's
                    # own retries. Asking again is safe: the idempotency key makes it the same run.
                    if exc.response.status_code not in (429, 502, 503) or attempt == _CREATE_TRIES - 1:
                        raise
                    await asyncio.sleep(min(60.0, 2.0**attempt))  # backing off between tries
            raise AssertionError("unreachable")

    made = groups([a.id for a in listed], [a.id for a in due], size)
    return dict(await asyncio.gather(*(create(g, n, m) for g, n, m in made)))


async def _read_runs(client: PrefectClient, ids: list[UUID]) -> dict[UUID, tuple[str, str | None]]:
    """Each run's state type and message."""
    found: dict[UUID, tuple[str, str | None]] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=batch)), limit=len(batch)
        )
        found |= {
            r.id: (r.state.type.value if r.state else "PENDING", r.state.message if r.state else None) for r in runs
        }
    return found


async def _read_reports(client: PrefectClient, ids: list[UUID]) -> dict[UUID, dict[str, dict[str, Any]]]:
    """Each run's published reports by account (the newest of an account's, should it have more than one)."""
    found: dict[UUID, dict[str, dict[str, Any]]] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        offset = 0
        while True:
            page = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=batch), type=ArtifactFilterType(any_=[REPORT_ARTIFACT])
                ),
                sort=ArtifactSort.CREATED_DESC,
                limit=_BATCH,
                offset=offset,
            )
            for artifact in page:
                rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
                if artifact.flow_run_id is None or not isinstance(rows, list) or not rows:
                    continue
                row = rows[0]
                if isinstance(row, dict) and isinstance(row.get("account"), str):
                    found.setdefault(artifact.flow_run_id, {}).setdefault(row["account"], row)
            if len(page) < _BATCH:
                break
            offset += _BATCH
    return found


async def _fan_out(
    listed: list[Account], due: list[Account], accounts_file: str | None, tick: datetime, settings: Settings
) -> list[ChildRun]:
    """Create the tick's group runs, wait for them (at most `harvest_fanout_wait_minutes`), read their reports."""
    async with get_client() as client:
        children = await _create_children(client, listed, due, accounts_file, tick, settings.harvest_fanout_group)
        ids = list(children)
        deadline = time.monotonic() + settings.harvest_fanout_wait_minutes * 60
        while True:
            states = await _read_runs(client, ids)
            if all(states.get(i, ("PENDING", None))[0] in FINAL for i in ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(settings.harvest_fanout_poll_seconds)  # the interval between two looks
        reports = await _read_reports(client, ids)
    return [ChildRun(children[i], str(i), *states.get(i, ("PENDING", None)), reports=reports.get(i, {})) for i in ids]


@flow(name="communis-harvest", log_prints=True)
def harvest(accounts_file: str | None = None, accounts: list[str] | None = None, fan_out: bool = False) -> State:
    """Harvest the accounts in `accounts_file` (default: the configured one).

    `fan_out`: one flow run of the `harvest-accounts` deployment per group of due accounts, for any
    worker of the pool to take, instead of one task each in this process (see the module docstring)."""
    install_log_redaction()  # Prefect's handlers (console, its API log table) get redacted records only
    logger = get_run_logger()
    arc = Archive()
    path = accounts_file or (str(arc.settings.accounts_file) if arc.settings.accounts_file else None)
    if path is None:
        return Failed(message="no accounts file: set COMMUNIS_ACCOUNTS_FILE or pass accounts_file")
    listed = [a for a in load_accounts(Path(path), arc.settings) if a.active and (not accounts or a.id in accounts)]
    selected = due_accounts(arc.store, arc.index, listed, clock.now())  # an account's own interval (quota) is respected
    if len(selected) < len(listed):
        logger.info("not due yet (harvest_every_minutes): %s", ", ".join(a.id for a in listed if a not in selected))
    run_coro_as_sync(_ensure_limits([slot_name(a.id) for a in selected]))
    unfinished: list[str] = []
    if fan_out:
        tick: datetime = runtime.flow_run.scheduled_start_time  # the schedule tick: the same for a retried run
        children = cast(list[ChildRun], run_coro_as_sync(_fan_out(listed, selected, accounts_file, tick, arc.settings)))
        results = report_rows(children)
        unfinished = [a for c in children for a in c.missing]
    else:
        futures = [harvest_account_task.submit(a.id, path) for a in selected]
        results = [f.result() for f in futures]
    health = check_accounts(arc.store, arc.index, listed, arc.settings)
    create_markdown_artifact(
        markdown_report(results, health),
        key="harvest-report",
        description="Per account: new, edited, deleted, comments, media, bytes, problems",
    )
    problems = raise_alarms(health, arc.settings)
    logger.info("harvested %s account(s), %s need attention", len(results), len(problems))
    if unfinished:
        return Failed(
            message=f"{len(unfinished)} account(s) ended without a report (see the harvest report): "
            + ", ".join(unfinished)
        )
    if problems:
        return Failed(
            message=f"{len(problems)} account(s) need attention: "
            + "; ".join(f"{p.account}: {p.alarm}" for p in problems)
        )
    return Completed(message=f"harvested {len(results)} account(s)", data=results)
