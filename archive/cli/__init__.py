"""The `communis` command line: thin commands that call the library and print.

Typer's multi-file layout: one module per command group, each with its own `typer.Typer`,
assembled here into `app`; the shared helpers live in `common`. Only the entry points
(`communis = "archive.cli:main"`, `python -m archive`) and tests that need `app` import this
package; command modules never do (tests/unit/test_layout.py enforces it).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from ..config import var_dir
from ..logs import setup_logging
from . import (
    accounts,
    completeness,
    doctor,
    fixity,
    harvest,
    holds,
    index,
    records,
    requests,
    retention,
    schema,
    serve,
    services,
    transfer,
    users,
)

app = typer.Typer(
    help="Communis: a municipality's social media, kept as public records.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Unnamed sub-apps merge their commands into the top level; the order here is the order of
# `communis --help`: top-level commands first, then the command groups.
for commands in (
    fixity.app,
    completeness.app,
    transfer.app,
    doctor.app,
    harvest.app,
    records.app,
    serve.app,
    users.app,
    schema.app,
):
    app.add_typer(commands)
app.add_typer(services.app, name="services")
app.add_typer(accounts.app, name="accounts")
app.add_typer(users.user_app, name="user")
app.add_typer(holds.app, name="hold")
app.add_typer(requests.app, name="request")
app.add_typer(retention.app, name="retention")
app.add_typer(index.app, name="index")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log details.")] = False) -> None:
    setup_logging(logging.DEBUG if verbose else logging.INFO, stderr=verbose, file=var_dir() / "log" / "communis.log")


def main() -> None:
    app()
