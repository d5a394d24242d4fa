"""`communis harvest`, `ingest` and `demo`: getting captures into the archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..accounts import load_accounts
from ..bundles import read_file
from ..context import Archive
from ..errors import CommunisError
from ..harvest.health import check_accounts
from ..harvest.report import markdown_report
from ..harvest.runner import harvest_one
from .common import accounts_file, accounts_from, console, fail, print_ingest_report
from .demo import run_demo

app = typer.Typer()


@app.command()
def harvest(
    account: Annotated[list[str] | None, typer.Option("--account", help="Only these account ids.")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
) -> None:
    """Harvest the accounts now (the same work as the Prefect harvest flow's tasks)."""
    arc = Archive()
    try:
        selected = [a for a in accounts_from(arc, accounts) if not account or a.id in account]
        results: list[dict[str, Any]] = []
        for acc in selected:
            with console.status(f"harvesting {acc.id}"):
                report = harvest_one(arc.settings, arc.store, arc.index, acc)
            results.append(report.as_dict())
        health = check_accounts(arc.store, arc.index, selected, arc.settings)
    except CommunisError as exc:
        fail(exc)
    # The Markdown renderer (markdown-it, ~0.1 s to import) is for this report only.
    from rich.markdown import Markdown

    console.print(Markdown(markdown_report(results, health)))
    raise typer.Exit(0 if all(r["ok"] for r in results) else 1)


@app.command()
def ingest(
    account_id: Annotated[str, typer.Argument(help="Account id from the accounts file.")],
    files: Annotated[list[Path], typer.Argument(help="JSON-lines files of capture bundles.")],
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
) -> None:
    """Write capture bundles to WARC, store them and index their records."""
    arc = Archive()
    try:
        path = accounts_file(arc.settings, accounts)
        account = next((a for a in load_accounts(path, arc.settings) if a.id == account_id), None)
        if account is None:
            raise CommunisError(f"account {account_id!r} is not in {path}")
        pipeline = arc.pipeline()
        for file in files:
            pipeline.ingest(account, read_file(file))
        print_ingest_report(pipeline.report)
    except CommunisError as exc:
        fail(exc)


@app.command()
def demo(query: Annotated[str, typer.Option(help="What the demo searches for.")] = "snöröjning") -> None:
    """Ingest the bundled sample captures into WARC, storage and index, then search them."""
    try:
        run_demo(console, query)
    except CommunisError as exc:
        fail(exc)
