"""`communis doctor`: check configuration and each service; one line per finding."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import typer

from ..access import open_users
from ..access.migrate import pending
from ..accounts import load_accounts
from ..config import Settings, get_settings
from ..errors import CommunisError
from ..index import open_index
from ..store import open_store
from .common import console

app = typer.Typer()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def _run(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, True, fn())
    except CommunisError as exc:
        return Check(name, False, exc.one_line())
    except Exception as exc:  # doctor reports, it never crashes
        return Check(name, False, f"{type(exc).__name__}: {exc}")


def _elasticsearch(settings: Settings) -> str:
    index = open_index(settings)
    server = index.server_version()
    client = version("elasticsearch")
    if server.split(".")[0] != client.split(".")[0]:
        raise CommunisError(
            f"server {server} but Python client {client}",
            hint="install elasticsearch-py with the server's major version",
        )
    index.check()
    return f"{settings.es_url} Elasticsearch {server} (client {client})"


def _store(settings: Settings) -> str:
    open_store(settings).check()
    where = (
        settings.store_path
        if settings.store == "local"
        else f"{settings.s3_endpoint_url or 'AWS'} bucket {settings.s3_bucket} (Object Lock on)"
    )
    return f"{settings.store}: {where}"


def _prefect() -> str:
    try:
        found = version("prefect")
    except PackageNotFoundError:
        raise CommunisError("prefect is not installed", hint="run scripts/setup") from None
    if not found.startswith("3."):
        raise CommunisError(f"prefect {found} installed, 3.x needed", hint="run scripts/setup")
    return f"prefect {found} (ephemeral local API unless PREFECT_API_URL is set)"


def _accounts(settings: Settings) -> str:
    if settings.accounts_file is None:
        return "no accounts file configured (COMMUNIS_ACCOUNTS_FILE); the demo uses its samples"
    return f"{settings.accounts_file}: {len(load_accounts(settings.accounts_file, settings))} accounts"


def _users(settings: Settings) -> str:
    """The shared user store, and an earlier release's user file still waiting to be moved into it."""
    left = pending(settings)
    if left is not None:
        raise CommunisError(
            f"the users of an earlier release are still in {left}, which this release does not read",
            hint="communis user migrate",
        )
    found = open_users(settings).list()
    admins = sum(1 for u in found if u.role.value == "admin" and not u.disabled)
    return f"{len(found)} users ({admins} active admins) in {settings.access_index}"


def run_checks() -> Iterator[Check]:
    try:
        settings = get_settings()
    except CommunisError as exc:
        yield Check("configuration", False, exc.one_line())
        return
    yield Check("configuration", True, f"store={settings.store}, index alias {settings.index_alias}")
    yield _run("accounts", lambda: _accounts(settings))
    yield _run("elasticsearch", lambda: _elasticsearch(settings))
    yield _run("users", lambda: _users(settings))
    yield _run("store", lambda: _store(settings))
    if settings.store == "local" and settings.s3_endpoint_url:
        s3 = settings.model_copy(update={"store": "s3"})
        yield _run("s3 (local MinIO)", lambda: _store(s3))
    yield _run("prefect", _prefect)


@app.command()
def doctor() -> None:
    """Check configuration and every service; one line per problem with how to fix it."""
    problems = 0
    for check in run_checks():
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        console.print(f"{mark} {check.name}: {check.message}", highlight=False)
        problems += 0 if check.ok else 1
    raise typer.Exit(1 if problems else 0)
