"""Fixity flow (weekly): re-hash a rotating share of the stored WARC files (or all of them).

Thin by design: the work is `archive.fixity`. The run publishes a markdown artifact and ends
FAILED when any file is missing, unreadable or differs from its recorded digests, so the
problem shows where the operators look (the Prefect UI, its notifications).
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed, Failed

from archive.context import Archive
from archive.logs import install_log_redaction
from archive.preservation.fixity import DEFAULT_SHARE, markdown_report, run_fixity
from archive.preservation.premis import open_premis


@flow(name="communis-fixity", log_prints=True)
def fixity(share: int = DEFAULT_SHARE, check_all: bool = False) -> State:
    """Check the next 1/`share` of the stored files (every file with `check_all`)."""
    install_log_redaction()  # Prefect's handlers (console, its API log table) get redacted records only
    arc = Archive()
    report = run_fixity(arc.store, open_premis(arc.settings), share=share, check_all=check_all)
    create_markdown_artifact(
        markdown_report(report),
        key="fixity-report",
        description="Files re-read, SHA-256 compared with manifest and storage; problems",
    )
    logger = get_run_logger()
    summary = {
        "checked": report.files_checked,
        "total": report.files_total,
        "bytes": report.bytes_read,
        "problems": [p.line() for p in report.problems],
    }
    for problem in report.problems:
        logger.error("fixity: %s", problem.line())
    if report.problems:
        return Failed(
            message=f"{len(report.problems)} fixity problem(s): " + "; ".join(p.line() for p in report.problems[:5]),
            data=summary,
        )
    return Completed(message=f"{report.files_checked} of {report.files_total} files match", data=summary)
