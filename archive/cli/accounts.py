"""`communis accounts …`: validate and check the accounts file, account health, the channel register, closing.

`archive.accounts.register` writes PDFs with fpdf, whose fonts take about a second to import; it is
imported inside the `register` command so that `communis --help` and every other command do not pay
for it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..accounts import load_accounts
from ..config import get_settings
from ..context import Archive
from ..errors import CommunisError
from ..harvest.closing import close_account
from ..harvest.health import check_accounts
from ..harvest.probe import check_access
from ..harvest.state import run_history
from ..preservation.premis import open_premis
from .common import accounts_file, accounts_from, cli_actor, console, fail, parse_date

app = typer.Typer(help="The accounts file.")

AccountsOption = Annotated[Path | None, typer.Option(help="Accounts file.")]


@app.command("register")
def accounts_register(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory for channel-register.csv and .pdf.")] = Path("."),
    accounts: AccountsOption = None,
) -> None:
    """Export the channel register (owner, platform, address, dates, classes, volume) as CSV and PDF."""
    from ..accounts.register import build_register, write_register  # fpdf: see the module docstring

    arc = Archive()
    try:
        entries = build_register(arc.store, arc.index, accounts_from(arc, accounts))
        csv_path, pdf_path = write_register(entries, out)
    except FileExistsError as exc:
        fail(CommunisError(f"{exc.filename} exists", hint="choose another directory with -o"))
    except CommunisError as exc:
        fail(exc)
    closed = sum(e.end is not None for e in entries)
    console.print(
        f"{len(entries)} channels ({closed} closed), {sum(e.items for e in entries)} items, "
        f"{sum(e.bytes for e in entries):,} bytes: {csv_path}, {pdf_path}",
        highlight=False,
    )


@app.command("close")
def accounts_close(
    account_id: Annotated[str, typer.Argument(help="The account to close.")],
    accounts: AccountsOption = None,
    on: Annotated[str | None, typer.Option("--on", help="The channel's end date (YYYY-MM-DD); default today.")] = None,
    reason: Annotated[str, typer.Option(help="Why the channel closes (decision, case number …).")] = "",
) -> None:
    """Final complete capture of the account, then record its closure (scheduled harvests skip it)."""
    arc = Archive()
    try:
        account = next((a for a in accounts_from(arc, accounts) if a.id == account_id), None)
        if account is None:
            raise CommunisError(f"account {account_id!r} is not in the accounts file")
        closed_on: date | None = parse_date(on, "--on")
        with console.status(f"final complete capture of {account_id}"):
            closure = close_account(
                arc.settings,
                arc.store,
                arc.index,
                open_premis(arc.settings),
                account,
                by=cli_actor(),
                closed_on=closed_on,
                reason=reason,
            )
    except CommunisError as exc:
        fail(exc)
    console.print(
        f"{account_id} closed on {closure.closed_at}: final run {closure.final_run_id} "
        f"({closure.final_captures} captures, {len(closure.final_files)} new files); scheduled harvests "
        f"skip it. Set `closed_at: {closure.closed_at}` in the accounts file to say so there too.",
        highlight=False,
    )


@app.command("validate")
def accounts_validate(path: Path) -> None:
    """Validate an accounts file; errors name the file, the entry and the field."""
    try:
        accounts = load_accounts(path, get_settings())
    except CommunisError as exc:
        fail(exc)
    console.print(f"{path}: {len(accounts)} accounts OK")


@app.command("check")
def accounts_check(accounts: AccountsOption = None) -> None:
    """Validate the accounts file, then test each active account's access with one request."""
    settings = get_settings()
    try:
        chosen = accounts_file(settings, accounts)
        entries = load_accounts(chosen, settings)
    except CommunisError as exc:
        fail(exc)
    results = [check_access(settings, a) for a in entries if a.active]
    for r in results:
        mark = "[green]ok[/]  " if r.ok else "[red]FAIL[/]"
        console.print(f"{mark} {r.account} ({r.platform}): {escape(r.message)}", highlight=False)
    failed = sum(not r.ok for r in results)
    console.print(f"{chosen}: {len(results)} accounts checked, {failed} failed", highlight=False)
    raise typer.Exit(1 if failed else 0)


@app.command("status")
def accounts_status(accounts: AccountsOption = None) -> None:
    """Per account: last successful capture, items archived, failures; alarms in red."""
    arc = Archive()
    try:
        rows = check_accounts(arc.store, arc.index, accounts_from(arc, accounts), arc.settings)
    except CommunisError as exc:
        fail(exc)
    table = Table(title="Accounts")
    for col in ("account", "platform", "last success (UTC)", "items", "deleted", "failures", "status"):
        table.add_column(col)
    for h in rows:
        when = f"{h.last_success:%Y-%m-%d %H:%M}" if h.last_success else "never"
        status = "[green]ok[/]" if h.ok else f"[red]{escape(h.alarm or '')}[/]"
        table.add_row(h.account, h.platform, when, str(h.items), str(h.deleted), str(h.consecutive_failures), status)
    console.print(table)
    raise typer.Exit(0 if all(h.ok for h in rows) else 1)


@app.command("history")
def accounts_history(
    account: Annotated[str, typer.Argument(help="The account id.")],
    last: Annotated[int, typer.Option(help="How many of its newest runs.")] = 20,
) -> None:
    """An account's newest harvest runs: when, outcome, what each found and what it cost (the bounded
    run history the harvest keeps, `COMMUNIS_HARVEST_RUN_HISTORY` runs at most)."""
    arc = Archive()
    try:
        runs = run_history(arc.harvest_table, account, limit=last)
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"Harvest runs of {account}")
    for col in (
        "run",
        "started (UTC)",
        "seconds",
        "ok",
        "new",
        "edited",
        "deleted",
        "requests",
        "state bytes",
        "error",
    ):
        table.add_column(col)
    for r in runs:
        c = r.counts
        table.add_row(
            str(r.seq),
            f"{r.started_at:%Y-%m-%d %H:%M}",
            f"{r.seconds:.1f}",
            "yes" if r.ok else "[red]no[/]",
            *(str(c.get(k, 0)) for k in ("new", "edited", "deleted")),
            str(r.requests),
            str(r.state_bytes),
            escape(r.error or ""),
        )
    console.print(table)
