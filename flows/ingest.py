"""Ingest flow: capture bundles of each account → WARC → store → index.

Thin by design: the work is `archive.ingest.pipeline.Pipeline`; this flow only orchestrates one
task per account (a task costs tens of ms in Prefect, so never one per record) and publishes
the run report as an artifact. Platform harvesting (next step) feeds the same pipeline.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.context import Archive
from archive.logs import install_log_redaction
from archive.samples import ACCOUNTS_FILE, sample_file


@task(task_run_name="ingest-{account_id}")
def ingest_account(account_id: str, files: list[str], accounts_file: str, run_id: str | None) -> dict[str, object]:
    arc = Archive()
    account = next(a for a in load_accounts(Path(accounts_file), arc.settings) if a.id == account_id)
    pipeline = arc.pipeline(run_id)
    for file in files:
        pipeline.ingest(account, read_file(Path(file)))
    r = pipeline.report
    return {
        "account": account_id,
        "captures": r.captures,
        "records": r.records,
        "indexed": r.indexed,
        "files": [m.key for m in r.files],
        "quarantined": [q.reason for q in r.quarantined],
    }


@flow(name="communis-ingest", log_prints=True)
def ingest_samples(accounts_file: str = str(ACCOUNTS_FILE)) -> list[dict[str, object]]:
    """Ingest the bundled sample captures of every account in `accounts_file`."""
    install_log_redaction()  # Prefect's handlers (console, its API log table) get redacted records only
    logger = get_run_logger()
    arc = Archive()
    results = []
    for account in load_accounts(Path(accounts_file), arc.settings):
        results.append(ingest_account(account.id, [str(sample_file(account.id))], accounts_file, None))
    create_table_artifact(
        key="ingest-report",
        table=[{k: str(v) for k, v in r.items()} for r in results],
        description="Captures, records and WARC files per account",
    )
    logger.info("ingested %s accounts", len(results))
    return results
