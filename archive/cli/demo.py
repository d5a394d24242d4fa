"""`communis demo`: ingest the bundled samples, then show a search and a verified record."""

from __future__ import annotations

from rich.console import Console

from ..accounts import load_accounts
from ..bundles import read_file
from ..context import Archive
from ..index import SearchQuery, search
from ..preservation.readback import fetch_verified
from ..samples import ACCOUNTS_FILE, sample_file
from .render import record_panel, results_table


def run_demo(console: Console, query: str = "snöröjning", archive: Archive | None = None) -> int:
    """Returns the number of search hits (the demo succeeds only if it finds something)."""
    arc = archive or Archive()
    accounts = load_accounts(ACCOUNTS_FILE, arc.settings)
    console.print(
        f"[bold]Communis demo[/]: {len(accounts)} sample accounts → WARC → "
        f"{arc.settings.store} store → Elasticsearch at {arc.settings.es_url}"
    )
    pipeline = arc.pipeline()
    for account in accounts:
        pipeline.ingest(account, read_file(sample_file(account.id)))
    report = pipeline.report
    console.print(
        f"run {report.run_id}: {report.captures} captures, {report.records} records, "
        f"{report.indexed} indexed, {len(report.quarantined)} quarantined"
    )
    for manifest in report.files:
        console.print(
            f"  stored {manifest.key}  {manifest.bytes} bytes  sha256 {manifest.sha256[:16]}…  "
            f"retain until {manifest.retain_until:%Y-%m-%d}",
            highlight=False,
        )
    result = search(arc.index, SearchQuery(text=query, size=10))
    console.print(results_table(result, query))
    if result.hits:
        console.print(record_panel(fetch_verified(arc.index, arc.store, result.hits[0].record_id)))
        console.print(
            f'Try: communis search "{query}" · communis show {result.hits[0].record_id} · '
            f"communis warc {result.hits[0].record_id} -o record.warc.gz"
        )
    return result.total
