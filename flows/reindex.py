"""Reindex flow: rebuild the Elasticsearch index, then the harvest table, from the stored WARC files alone."""

from __future__ import annotations

from prefect import flow, get_run_logger

from archive.context import Archive
from archive.harvest.rebuild import reindex_all as reindex
from archive.logs import install_log_redaction


@flow(name="communis-reindex", log_prints=True)
def reindex_all(drop: bool = True) -> dict[str, int]:
    install_log_redaction()  # Prefect's handlers (console, its API log table) get redacted records only
    arc = Archive()
    report = reindex(arc.store, arc.index, drop=drop)
    get_run_logger().info("reindexed %s records from %s files", report.documents, report.files)
    return {"files": report.files, "documents": report.documents, "errors": report.errors}
