"""`communis transfer --class CLASS -o DIR [--record ID …]`: an E-ARK SIP for the municipal e-archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..context import Archive
from ..errors import CommunisError
from ..preservation.premis import open_premis
from ..transfer import build_transfer
from .common import cli_actor, console, fail

app = typer.Typer()


@app.command("transfer")
def transfer(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory the package folder is written into.")],
    retention_class: Annotated[
        str | None, typer.Option("--class", help="Every record of this retention class.")
    ] = None,
    record: Annotated[list[str] | None, typer.Option("--record", help="A record id (repeatable).")] = None,
) -> None:
    """Export records as an E-ARK CSIP/SIP package (METS + PREMIS + WARC) and record the transfer event."""
    arc = Archive()
    try:
        if retention_class is not None:
            arc.settings.retention_class(retention_class)  # an unknown class is a typo, not an empty transfer
        with console.status("building the transfer package"):
            result = build_transfer(
                arc.settings,
                arc.store,
                arc.index,
                open_premis(arc.settings),
                out,
                retention_class=retention_class,
                record_ids=record or [],
                by=cli_actor(),
            )
    except FileExistsError as exc:
        fail(CommunisError(f"{exc.filename} exists", hint="choose another -o directory"))
    except CommunisError as exc:
        fail(exc)
    console.print(
        f"{result.records} records from {len(result.source_files)} stored files → {result.directory} "
        f"(transfer event {result.event_id})",
        highlight=False,
    )
    typer.echo(str(result.directory))
