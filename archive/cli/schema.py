"""`communis schema [DIR]`: the JSON Schema of every data model, written to files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import export

from .common import console

app = typer.Typer()


@app.command("schema")
def schema_export(directory: Annotated[Path, typer.Argument()] = Path("docs/schemas")) -> None:
    """Export the JSON Schema of every data model."""
    for path in export(directory):
        console.print(str(path))
