"""What every command shares: the consoles, the one-line failure, who acts, and the common options read.

Who acts: a state-changing command acts as the signed-in user (`signed_in`: the API token of
`communis login` or `COMMUNIS_TOKEN`, looked up in the user store), never as a name typed in an
option or taken from `$USER`; the use cases check that user's role as the web API does (listing
holds and request cases too, as the web does). Other read commands audit the OS login (`cli_actor`).

Errors a user can act on are shown as one line (what is wrong — what to do) with exit code
2; the exception chain goes to the log (`-v` shows it). Every command module imports these from
here, never from the package `__init__`, so the package has no import circle.
"""

from __future__ import annotations

import getpass
import logging
from datetime import date
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from schemas import Account, AuditAction, AuditOutcome

from ..access import open_audit
from ..access.login import NotSignedIn, signed_in_user
from ..accounts import load_accounts
from ..config import Settings, get_settings
from ..context import Archive
from ..errors import CommunisError
from ..ingest.pipeline import IngestReport
from ..usecases import Actor

console = Console()
err = Console(stderr=True)
log = logging.getLogger("archive.cli")


def fail(exc: CommunisError) -> NoReturn:
    """Print the error's one line on stderr and exit 2; the traceback goes to the log only."""
    log.debug("command failed", exc_info=exc)
    err.print(f"[bold red]error:[/] {escape(exc.one_line())}", highlight=False, markup=True)
    raise typer.Exit(2)


def cli_actor() -> str:
    """Who acts from the command line: the OS login (`os:<login>`), recorded in audit and PREMIS events."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def signed_in(action: AuditAction, target: str = "") -> Actor:
    """The signed-in user (name and role from their token) for a state-changing step.

    Not signed in, or a token refused (unknown, revoked, expired, user disabled): the attempt is
    audited `denied` under the OS login, and a one-line error (hint `communis login`) is raised.
    """
    settings = get_settings()
    try:
        user = signed_in_user(settings)
    except NotSignedIn as exc:
        open_audit(settings).event(
            action,
            user=cli_actor(),
            role=None,
            target=target[:10_000],
            client="cli",
            outcome=AuditOutcome.DENIED,
            note=str(exc)[:1000],
        )
        raise
    return Actor(user.name, user.role, "cli")


def parse_date(value: str | None, flag: str) -> date | None:
    """A `--from`/`--to`/`--on` value as a date; a typo is a one-line error naming the flag."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommunisError(f"{flag} {value!r} is not a date", hint="write it as YYYY-MM-DD") from None


def accounts_file(settings: Settings, path: Path | None) -> Path:
    """The accounts file: `--accounts`, else COMMUNIS_ACCOUNTS_FILE; neither is a one-line error."""
    chosen = path or settings.accounts_file
    if chosen is None:
        raise CommunisError("no accounts file", hint="pass --accounts or set COMMUNIS_ACCOUNTS_FILE")
    return chosen


def accounts_from(arc: Archive, path: Path | None) -> list[Account]:
    """The validated accounts of `--accounts` (or the configured file)."""
    return list(load_accounts(accounts_file(arc.settings, path), arc.settings))


def print_ingest_report(report: IngestReport) -> None:
    """One line for the run, one per quarantined capture (platform text printed without markup)."""
    console.print(
        f"run {report.run_id}: {report.captures} captures, {report.records} records, "
        f"{len(report.files)} WARC files stored, {report.indexed} documents indexed, "
        f"{len(report.quarantined)} quarantined"
    )
    for q in report.quarantined:
        console.print(f"  [yellow]quarantined[/] {q.url}: {q.reason} ({q.key})", highlight=False)
