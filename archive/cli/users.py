"""`communis login|logout|whoami`, `communis user add|list|disable|migrate`, `communis user token new|list|revoke`
and `communis audit`: signing in, local users, their API tokens (each with an expiry, revocable one by one),
the move of an earlier release's user file into the shared store, and the audit log.

Changing users or tokens acts as the signed-in user (archive/access/login.py) and is checked by
archive/access/admin.py: an admin for anyone, a user for their own tokens; only the first admin is
added without signing in, while there is no admin yet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schemas import AuditAction, User

from ..access import open_audit, open_users
from ..access.admin import add_token, add_user, disable_user, revoke_token
from ..access.login import LOGIN_TOKEN_DAYS, login, logout, os_login, signed_in_user, stored_token, token_file
from ..access.migrate import legacy_path, migrate_users, pending
from ..access.settings import access_settings
from ..config import get_settings
from ..errors import CommunisError
from .common import cli_actor, console, err, fail

app = typer.Typer()
user_app = typer.Typer(help="Local users, their roles and API tokens.")
token_app = typer.Typer(help="A user's API tokens: each expires, and each can be revoked on its own.")
user_app.add_typer(token_app, name="token")


def _password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommunisError("no password on stdin", hint="pipe one line, or leave out --password-stdin")
        return password
    return str(typer.prompt(prompt, hide_input=True))


@app.command("login")
def login_command(
    name: Annotated[str | None, typer.Argument(help="Your user name (default: your OS login).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    days: Annotated[int, typer.Option(min=1, max=30, help="Days the sign-in lasts.")] = LOGIN_TOKEN_DAYS,
) -> None:
    """Sign in: state-changing commands act as you until `communis logout` or the token expires."""
    try:
        settings = get_settings()
        left = pending(settings)
        if left is not None:  # its users are unknown until migrated: say why a right password is refused
            err.print(f"warning: {left} is not migrated yet: `communis user migrate`", highlight=False, markup=False)
        user_name = name or cli_actor().removeprefix("os:")
        password = _password(password_stdin, f"password for {user_name}")
        user, path = login(settings, user_name, password, days=days)
    except CommunisError as exc:
        fail(exc)
    console.print(
        f"signed in as {user.name} ({user.role.value}); token kept in {path} for {days} days", highlight=False
    )


@app.command("logout")
def logout_command() -> None:
    """Revoke the token `communis login` kept and remove it."""
    try:
        name = logout(get_settings())
    except CommunisError as exc:
        fail(exc)
    console.print(f"signed out {name}" if name else f"no valid sign-in in {token_file()}; nothing to revoke")


@app.command("whoami")
def whoami() -> None:
    """Who state-changing commands act as (the user the token names)."""
    try:
        user = signed_in_user(get_settings())
    except CommunisError as exc:
        fail(exc)
    console.print(f"{user.name} ({user.role.value})", highlight=False)


def _acting_user() -> User | None:
    """The signed-in user, or None when there is no token at all (only the first admin's bootstrap goes on
    without one); a token that is refused is an error of its own."""
    if stored_token() is None:
        return None
    return signed_in_user(get_settings())


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="archivist, legal, admin or read-only.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password from stdin.")] = False,
    token_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days the token is valid (default COMMUNIS_TOKEN_DAYS, 90).")
    ] = None,
) -> None:
    """Create a user and print its API token (shown this once only). Needs an admin signed in, except for the
    first admin of an installation."""
    try:
        password = _password(True, "") if password_stdin else None
        days = token_days or access_settings().token_days
        user, token = add_user(get_settings(), name, role, password, by=_acting_user(), client="cli", token_days=days)
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
        user = disable_user(get_settings(), name, by=_acting_user(), client="cli")
    except CommunisError as exc:
        fail(exc)
    console.print(f"user {user.name} disabled", highlight=False)


@user_app.command("migrate")
def user_migrate(
    source: Annotated[
        Path | None,
        typer.Option("--from", help="The earlier release's user file (default: {data_dir}/access/users.db)."),
    ] = None,
) -> None:
    """Move the users, API tokens and running sessions of an earlier release's SQLite file into the shared
    store (hashes kept, so passwords and tokens go on working), then rename the file `.migrated`. Safe to
    run again. Needs an admin signed in once the store has an admin."""
    settings = get_settings()
    default = legacy_path(settings)
    if source is None and not default.is_file():
        before = default.with_name(default.name + ".migrated")
        said = f"nothing to migrate: no {default}" + (f" ({before} was migrated already)" if before.exists() else "")
        console.print(escape(said), highlight=False)
        return
    try:
        if source is not None and not source.is_file():
            raise CommunisError(f"no user file at {source}", hint="name the users.db of an earlier release")
        done = migrate_users(settings, source, by=_acting_user(), client=f"cli:{os_login()}")
    except CommunisError as exc:
        fail(exc)
    console.print(escape(f"migrated {done.source}: {done.summary()}"), highlight=False)
    if done.moved_to is not None:
        console.print(escape(f"the file is now {done.moved_to} and is not read again"), highlight=False)
    if done.taken or done.refused:
        raise typer.Exit(1)


@token_app.command("new")
def token_new(
    name: str,
    days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days the token is valid (default COMMUNIS_TOKEN_DAYS, 90).")
    ] = None,
) -> None:
    """Make another API token for a user and print it (shown this once only)."""
    try:
        token = add_token(
            get_settings(), name, days=days or access_settings().token_days, by=_acting_user(), client="cli"
        )
    except CommunisError as exc:
        fail(exc)
    console.print(
        f"new API token for {name} (shown once; `communis user token list {name}` shows its id):", highlight=False
    )
    sys.stdout.write(token + "\n")


@token_app.command("list")
def token_list(name: str) -> None:
    """List a user's API tokens: id, created, expires (the tokens themselves are never kept)."""
    try:
        tokens = open_users(get_settings()).tokens(name)
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"API tokens of {escape(name)}")
    for col in ("id", "created (UTC)", "expires (UTC)", "status"):
        table.add_column(col)
    for t in tokens:
        table.add_row(
            t.id,
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.expires_at:%Y-%m-%d %H:%M}",
            "expired" if t.expired else "valid",
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(name: str, token_id: Annotated[str, typer.Argument(help="The id `user token list` shows.")]) -> None:
    """Revoke one API token of a user; the user's other tokens and password go on working."""
    try:
        gone = revoke_token(get_settings(), name, token_id, by=_acting_user(), client="cli")
    except CommunisError as exc:
        fail(exc)
    console.print(f"token {gone.id} of {name} revoked", highlight=False)


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
