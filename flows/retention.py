"""Nightly retention flow: plan the disposition list and publish it for the records manager.

Thin by design: the work is `archive.retention.plan`. The flow only plans (as `flow:retention`);
approving and executing stay with two people on the command line, so nothing is ever deleted by
a schedule alone (US-6, US-7). The run publishes a markdown artifact (totals, files, what was kept
and why) and the first rows of the list's CSV as a table artifact; the list itself is stored write-once
(written as it is planned, so a list of a million records is never held in memory).
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from archive import clock
from archive.context import Archive
from archive.logs import install_log_redaction
from archive.retention.actors import FLOW_AGENT
from archive.retention.book import csv_rows
from archive.retention.plan import plan
from archive.retention.report import markdown_report
from archive.retention.schedule import load_schedule


@flow(name="communis-retention", log_prints=True)
def retention_plan(as_of: datetime | None = None) -> str:
    """Plan the disposition list as of `as_of` (default now); returns the list id."""
    install_log_redaction()  # Prefect's handlers (console, its API log table) get redacted records only
    logger = get_run_logger()
    arc = Archive()
    result = plan(
        arc.settings,
        arc.store,
        arc.index,
        load_schedule(arc.settings),
        as_of=as_of or clock.now(),
        planned_by=FLOW_AGENT,
        now=clock.now(),
    )
    create_markdown_artifact(
        markdown_report(result),
        key="retention-disposition-list",
        description=f"Disposition list {result.id}: what may be disposed of, and what stays",
    )
    rows = csv_rows(arc.store, result.id, limit=5000)  # read from the stored CSV: the list is never held whole
    create_table_artifact(rows, key="retention-disposition-csv", description=f"{result.id}.csv (first 5000 records)")
    logger.info("disposition list %s: %s files, %s records", result.id, len(result.groups), result.record_count)
    return result.id
