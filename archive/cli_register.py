"""`communis accounts register` and `communis accounts close`: the channel register and closing a channel."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .errors import CommunisError


def accounts_register(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory for channel-register.csv and .pdf.")
                   ] = Path("."),
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
) -> None:
    """Export the channel register (owner, platform, address, dates, classes, volume) as CSV and PDF."""
    from .cli import _accounts_from, console, fail
    from .context import Archive
    from .register import build_register, write_register

    arc = Archive()
    try:
        entries = build_register(arc.store, arc.index, _accounts_from(arc, accounts))  # type: ignore[arg-type]
        csv_path, pdf_path = write_register(entries, out)
    except FileExistsError as exc:
        fail(CommunisError(f"{exc.filename} exists", hint="choose another directory with -o"))
    except CommunisError as exc:
        fail(exc)
    closed = sum(e.end is not None for e in entries)
    console.print(f"{len(entries)} channels ({closed} closed), {sum(e.items for e in entries)} items, "
                  f"{sum(e.bytes for e in entries):,} bytes: {csv_path}, {pdf_path}", highlight=False)


def accounts_close(
    account_id: Annotated[str, typer.Argument(help="The account to close.")],
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="The channel's end date (YYYY-MM-DD); default today.")
                  ] = None,
    reason: Annotated[str, typer.Option(help="Why the channel closes (decision, case number …).")] = "",
) -> None:
    """Final complete capture of the account, then record its closure (scheduled harvests skip it)."""
    from .cli import _accounts_from, _cli_actor, _date, console, fail
    from .context import Archive
    from .premis import open_premis
    from .register import close_account

    arc = Archive()
    try:
        account = next((a for a in _accounts_from(arc, accounts) if a.id == account_id), None)  # type: ignore[attr-defined]
        if account is None:
            raise CommunisError(f"account {account_id!r} is not in the accounts file")
        closed_on: date | None = _date(on, "--on")
        with console.status(f"final complete capture of {account_id}"):
            closure = close_account(arc.settings, arc.store, arc.index, open_premis(arc.settings),
                                    account,  # type: ignore[arg-type]
                                    by=_cli_actor(), closed_on=closed_on, reason=reason)
    except CommunisError as exc:
        fail(exc)
    console.print(f"{account_id} closed on {closure.closed_at}: final run {closure.final_run_id} "
                  f"({closure.final_captures} captures, {len(closure.final_files)} new files); scheduled harvests "
                  f"skip it. Set `closed_at: {closure.closed_at}` in the accounts file to say so there too.",
                  highlight=False)
