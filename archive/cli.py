"""The `communis` command line: thin commands that call the library and print.

Errors a user can act on are shown as one line (what is wrong — what to do) with exit code
2; the exception chain goes to the log (`-v` shows it).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .cli_fixity import fixity
from .cli_holds import hold_app
from .cli_register import accounts_close, accounts_register
from .cli_requests import request_app
from .cli_retention import retention_app
from .cli_transfer import transfer
from .errors import CommunisError

app = typer.Typer(help="Communis: a municipality's social media, kept as public records.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
services_app = typer.Typer(help="Start, stop and inspect the local services (Elasticsearch, MinIO).")
accounts_app = typer.Typer(help="The accounts file.")
app.add_typer(services_app, name="services")
app.add_typer(accounts_app, name="accounts")
accounts_app.command("register")(accounts_register)
accounts_app.command("close")(accounts_close)
user_app = typer.Typer(help="Local users, their roles and API tokens.")
app.add_typer(user_app, name="user")
app.add_typer(hold_app, name="hold")
app.add_typer(request_app, name="request")
app.add_typer(retention_app, name="retention")
app.command("fixity")(fixity)
app.command("transfer")(transfer)
console = Console()
err = Console(stderr=True)
log = logging.getLogger("archive.cli")


def fail(exc: CommunisError) -> NoReturn:
    log.debug("command failed", exc_info=exc)
    err.print(f"[bold red]error:[/] {exc.one_line()}", highlight=False, markup=True)
    raise typer.Exit(2)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log details.")] = False) -> None:
    from .config import var_dir
    from .logs import setup_logging

    setup_logging(logging.DEBUG if verbose else logging.INFO, stderr=verbose,
                  file=var_dir() / "log" / "communis.log")


# --- services --------------------------------------------------------------------------------

@services_app.command("up")
def services_up() -> None:
    """Start Elasticsearch and MinIO on loopback (idempotent) and wait until healthy."""
    from .services import launcher

    raise typer.Exit(launcher.main(["up"]))


@services_app.command("down")
def services_down(purge: Annotated[bool, typer.Option(help="Also delete their data.")] = False) -> None:
    """Stop the local services."""
    from .services import launcher

    raise typer.Exit(launcher.main(["down", *(["--purge"] if purge else [])]))


@services_app.command("status")
def services_status() -> None:
    """Show whether each local service runs and where it listens."""
    from .services import launcher

    raise typer.Exit(launcher.main(["status"]))


# --- setup checks ------------------------------------------------------------------------------

@app.command()
def doctor() -> None:
    """Check configuration and every service; one line per problem with how to fix it."""
    from .doctor import run_checks

    problems = 0
    for check in run_checks():
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        console.print(f"{mark} {check.name}: {check.message}", highlight=False)
        problems += 0 if check.ok else 1
    raise typer.Exit(1 if problems else 0)


@accounts_app.command("validate")
def accounts_validate(path: Path) -> None:
    """Validate an accounts file; errors name the file, the entry and the field."""
    from .accounts import load_accounts
    from .config import get_settings

    try:
        accounts = load_accounts(path, get_settings())
    except CommunisError as exc:
        fail(exc)
    console.print(f"{path}: {len(accounts)} accounts OK")


def _accounts_from(arc: object, path: Path | None) -> list[object]:
    from .accounts import load_accounts
    from .context import Archive

    assert isinstance(arc, Archive)
    chosen = path or arc.settings.accounts_file
    if chosen is None:
        raise CommunisError("no accounts file", hint="pass --accounts or set COMMUNIS_ACCOUNTS_FILE")
    return list(load_accounts(chosen, arc.settings))


@accounts_app.command("check")
def accounts_check(accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None) -> None:
    """Validate the accounts file, then test each active account's access with one request."""
    from .accounts import load_accounts
    from .config import get_settings
    from .harvest.probe import check_access

    settings = get_settings()
    chosen = accounts or settings.accounts_file
    try:
        if chosen is None:
            raise CommunisError("no accounts file", hint="pass --accounts or set COMMUNIS_ACCOUNTS_FILE")
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


@accounts_app.command("status")
def accounts_status(accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None) -> None:
    """Per account: last successful capture, items archived, failures; alarms in red."""
    from .context import Archive
    from .harvest.health import check_accounts

    arc = Archive()
    try:
        rows = check_accounts(arc.store, _accounts_from(arc, accounts), arc.settings)  # type: ignore[arg-type]
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


@app.command()
def harvest(
    account: Annotated[list[str] | None, typer.Option("--account", help="Only these account ids.")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
) -> None:
    """Harvest the accounts now (the same work as the Prefect harvest flow's tasks)."""
    from rich.markdown import Markdown

    from .context import Archive
    from .harvest.health import check_accounts
    from .harvest.report import markdown_report
    from .harvest.runner import harvest_one

    arc = Archive()
    try:
        selected = [a for a in _accounts_from(arc, accounts) if not account or a.id in account]  # type: ignore[attr-defined]
        results = []
        for acc in selected:
            with console.status(f"harvesting {acc.id}"):  # type: ignore[attr-defined]
                report = harvest_one(arc.settings, arc.store, arc.index, acc)  # type: ignore[arg-type]
            results.append(report.__dict__ | {"counts": report.counts.__dict__})
        health = check_accounts(arc.store, selected, arc.settings)  # type: ignore[arg-type]
    except CommunisError as exc:
        fail(exc)
    console.print(Markdown(markdown_report(results, health)))
    raise typer.Exit(0 if all(r["ok"] for r in results) else 1)


# --- ingest, demo ---------------------------------------------------------------------------------

def _print_report(report: object) -> None:
    from .pipeline import IngestReport

    assert isinstance(report, IngestReport)
    console.print(f"run {report.run_id}: {report.captures} captures, {report.records} records, "
                  f"{len(report.files)} WARC files stored, {report.indexed} documents indexed, "
                  f"{len(report.quarantined)} quarantined")
    for q in report.quarantined:
        console.print(f"  [yellow]quarantined[/] {q.url}: {q.reason} ({q.key})", highlight=False)


@app.command()
def ingest(
    account_id: Annotated[str, typer.Argument(help="Account id from the accounts file.")],
    files: Annotated[list[Path], typer.Argument(help="JSON-lines files of capture bundles.")],
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
) -> None:
    """Write capture bundles to WARC, store them and index their records."""
    from .accounts import load_accounts
    from .bundles import read_file
    from .context import Archive

    arc = Archive()
    try:
        path = accounts or arc.settings.accounts_file
        if path is None:
            raise CommunisError("no accounts file", hint="pass --accounts or set COMMUNIS_ACCOUNTS_FILE")
        account = next((a for a in load_accounts(path, arc.settings) if a.id == account_id), None)
        if account is None:
            raise CommunisError(f"account {account_id!r} is not in {path}")
        pipeline = arc.pipeline()
        for file in files:
            pipeline.ingest(account, read_file(file))
        _print_report(pipeline.report)
    except CommunisError as exc:
        fail(exc)


@app.command()
def demo(query: Annotated[str, typer.Option(help="What the demo searches for.")] = "snöröjning") -> None:
    """Ingest the bundled sample captures into WARC, storage and index, then search them."""
    from .demo import run_demo

    try:
        run_demo(console, query)
    except CommunisError as exc:
        fail(exc)


# --- reading records -------------------------------------------------------------------------------

@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words or a simple query (\"phrase\", -not, a | b).")] = "",
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
    kind: Annotated[str | None, typer.Option(help="post, comment, reply, media or page.")] = None,
    item: Annotated[str | None, typer.Option(help="One item's id on its platform: all its versions.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")] = None,
    deleted: Annotated[bool | None, typer.Option("--deleted/--not-deleted", help="Only tombstones / none.")
                       ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Search the archived records."""
    from .context import Archive
    from .index import SearchQuery
    from .index import search as run_search

    try:
        query = SearchQuery(text=text, platform=platform, account=account, kind=kind, item=item,
                            date_from=_date(date_from, "--from"), date_to=_date(date_to, "--to"),
                            deleted=deleted, size=limit)
        result = run_search(Archive().index, query)
    except CommunisError as exc:
        fail(exc)
    if as_json:
        for hit in result.hits:
            sys.stdout.write(json.dumps({"record_id": hit.record_id, **hit.source}, ensure_ascii=False) + "\n")
        return
    from .render import results_table

    console.print(results_table(result, text))


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommunisError(f"{flag} {value!r} is not a date", hint="write it as YYYY-MM-DD") from None


@app.command()
def show(record_id: str) -> None:
    """Print a record and verify it against its WARC record fetched from storage."""
    from .context import Archive
    from .records import fetch_verified
    from .render import record_panel

    arc = Archive()
    try:
        verified = fetch_verified(arc.index, arc.store, record_id)
    except CommunisError as exc:
        fail(exc)
    console.print(record_panel(verified))


@app.command()
def warc(record_id: str,
         output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")]) -> None:
    """Write the exact stored WARC record of a record version to a file (verified first)."""
    from .context import Archive
    from .records import fetch_verified

    arc = Archive()
    try:
        verified = fetch_verified(arc.index, arc.store, record_id)
    except CommunisError as exc:
        fail(exc)
    output.write_bytes(verified.warc_bytes)
    console.print(f"wrote {len(verified.warc_bytes)} bytes to {output} "
                  f"(sha256 {verified.record.warc.sha256 if verified.record.warc else '?'})")


@app.command()
def reindex(keep: Annotated[bool, typer.Option(help="Keep the existing index (no drop).")] = False) -> None:
    """Rebuild the index from the stored WARC files alone."""
    from rich.progress import Progress

    from .context import Archive
    from .reindex import reindex as run_reindex

    arc = Archive()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("reindexing", total=None)
            report = run_reindex(arc.store, arc.index, drop=not keep,
                                 progress=lambda key: progress.update(task, description=key))
    except CommunisError as exc:
        fail(exc)
    console.print(f"reindexed {report.documents} records from {report.files} WARC files "
                  f"({report.errors} errors)")
    if report.errors:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Start the web application and HTTP API (every page and call needs a user; see `communis user add`)."""
    import uvicorn

    from .config import get_settings

    try:
        get_settings()
    except CommunisError as exc:
        fail(exc)
    err.print(f"Communis on http://{host}:{port}/  (API: /api, description: /openapi.json)", highlight=False)
    uvicorn.run("archive.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, server_header=False, log_level="warning")


# --- users and audit -----------------------------------------------------------------------------

def _cli_actor() -> str:
    import getpass

    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="archivist, legal, admin or read-only.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password from stdin.")] = False,
) -> None:
    """Create a user and print its API token (shown this once only)."""
    from .access.admin import add_user
    from .config import get_settings

    try:
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommunisError("no password on stdin", hint="pipe one line, or leave out --password-stdin")
        user, token = add_user(get_settings(), name, role, password, actor=_cli_actor(), client="cli")
    except CommunisError as exc:
        fail(exc)
    console.print(f"user {user.name} ({user.role.value}) created; API token (shown once, "
                  "send as `Authorization: Bearer TOKEN`):", highlight=False)
    sys.stdout.write(token + "\n")


@user_app.command("list")
def user_list() -> None:
    """List the users with their role and whether they are disabled."""
    from .access import open_users
    from .config import get_settings

    try:
        users = open_users(get_settings()).list()
    except CommunisError as exc:
        fail(exc)
    table = Table(title="Users")
    for col in ("name", "role", "status", "created (UTC)"):
        table.add_column(col)
    for u in users:
        table.add_row(u.name, u.role.value, "disabled" if u.disabled else "active", f"{u.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable a user: its password and every token are refused from now on."""
    from .access.admin import disable_user
    from .config import get_settings

    try:
        user = disable_user(get_settings(), name, actor=_cli_actor(), client="cli")
    except CommunisError as exc:
        fail(exc)
    console.print(f"user {user.name} disabled", highlight=False)


@app.command()
def audit(
    user: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action (search, view, warc, export, login, "
                                                    "user.add, user.disable).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Show the latest audit events, newest first."""
    from schemas import AuditAction

    from .access import open_audit
    from .config import get_settings

    try:
        if action is not None and action not in {a.value for a in AuditAction}:
            raise CommunisError(f"unknown action {action!r}",
                                hint=f"use one of: {', '.join(a.value for a in AuditAction)}")
        events = open_audit(get_settings()).latest(limit, user=user, action=action)
    except CommunisError as exc:
        fail(exc)
    if as_json:
        for e in events:
            sys.stdout.write(e.model_dump_json() + "\n")
        return
    table = Table(title="Audit log")
    for col in ("when (UTC)", "user", "role", "action", "target", "from", "outcome"):
        table.add_column(col)
    for e in events:
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", escape(e.user or "?"), e.role.value if e.role else "",
                      e.action.value, escape(e.target), escape(e.client), e.outcome.value)
    console.print(table)


@app.command("schema")
def schema_export(directory: Annotated[Path, typer.Argument()] = Path("docs/schemas")) -> None:
    """Export the JSON Schema of every data model."""
    from schemas.export import export

    for path in export(directory):
        console.print(str(path))


def main() -> None:
    app()
