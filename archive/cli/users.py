"""`communis user add|list|disable` and `communis audit`: local users and the audit log."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schemas import AuditAction

from ..access import open_audit, open_users
from ..access.admin import add_user, disable_user
from ..config import get_settings
from ..errors import CommunisError
from .common import cli_actor, console, fail

app = typer.Typer()
user_app = typer.Typer(help="Local users, their roles and API tokens.")


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="archivist, legal, admin or read-only.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password from stdin.")] = False,
) -> None:
    """Create a user and print its API token (shown this once only)."""
    try:
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommunisError("no password on stdin", hint="pipe one line, or leave out --password-stdin")
        user, token = add_user(get_settings(), name, role, password, actor=cli_actor(), client="cli")
    except CommunisError as exc:
        fail(exc)
    console.print(
        f"user {user.name} ({user.role.value}) created; API token (shown once, send as `Authorization: Bearer TOKEN`):",
        highlight=False,
    )
    sys.stdout.write(token + "\n")


@user_app.command("list")
def user_list() -> None:
    """List the users with their role and whether they are disabled."""
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
    try:
        user = disable_user(get_settings(), name, actor=cli_actor(), client="cli")
    except CommunisError as exc:
        fail(exc)
    console.print(f"user {user.name} disabled", highlight=False)


@app.command()
def audit(
    user: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (search, view, warc, export, login, user.add, user.disable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Show the latest audit events, newest first."""
    try:
        if action is not None and action not in {a.value for a in AuditAction}:
            raise CommunisError(
                f"unknown action {action!r}", hint=f"use one of: {', '.join(a.value for a in AuditAction)}"
            )
        log = open_audit(get_settings())
        # reading the audit log is itself audited, as on the web (`audit.read`), before anything is shown
        log.event(
            AuditAction.AUDIT_READ,
            user=cli_actor(),
            role=None,
            target=f"user={user or ''} action={action or ''}",
            client="cli",
            note=f"limit {limit}",
        )
        events = log.latest(limit, user=user, action=action)
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
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            escape(e.user or "?"),
            e.role.value if e.role else "",
            e.action.value,
            escape(e.target),
            escape(e.client),
            e.outcome.value,
        )
    console.print(table)
