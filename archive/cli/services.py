"""`communis services up|down|status`: the local Elasticsearch and MinIO."""

from __future__ import annotations

from typing import Annotated

import typer

from ..services import launcher

app = typer.Typer(help="Start, stop and inspect the local services (Elasticsearch, MinIO).")


@app.command("up")
def services_up() -> None:
    """Start Elasticsearch and MinIO on loopback (idempotent) and wait until healthy."""
    raise typer.Exit(launcher.main(["up"]))


@app.command("down")
def services_down(purge: Annotated[bool, typer.Option(help="Also delete their data.")] = False) -> None:
    """Stop the local services."""
    raise typer.Exit(launcher.main(["down", *(["--purge"] if purge else [])]))


@app.command("status")
def services_status() -> None:
    """Show whether each local service runs and where it listens."""
    raise typer.Exit(launcher.main(["status"]))
