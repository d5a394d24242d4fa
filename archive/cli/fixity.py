"""`communis fixity [--all] [--share N]`: re-hash stored WARC files; exit 1 and one line per problem."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import Archive
from ..errors import CommunisError
from ..preservation.fixity import DEFAULT_SHARE, run_fixity
from ..preservation.premis import open_premis
from .common import console, err, fail

app = typer.Typer()


@app.command("fixity")
def fixity(
    check_all: Annotated[bool, typer.Option("--all", help="Re-read every stored file, not the next share.")] = False,
    share: Annotated[
        int, typer.Option("--share", min=1, help="Re-read the next 1/N of the files (all of them every N runs).")
    ] = DEFAULT_SHARE,
) -> None:
    """Re-read stored WARC files, recompute SHA-256, compare with manifest and storage checksum."""
    arc = Archive()
    try:
        with console.status("checking fixity"):
            report = run_fixity(arc.store, open_premis(arc.settings), share=share, check_all=check_all)
    except CommunisError as exc:
        fail(exc)
    for problem in report.problems:
        err.print(f"[bold red]FIXITY[/] {problem.line()}", highlight=False, markup=True, soft_wrap=True)
    scope = "all" if report.share == 1 else f"1/{report.share}"
    console.print(
        f"fixity: {report.files_checked} of {report.files_total} files checked ({scope}), "
        f"{report.bytes_read:,} bytes re-read, {len(report.problems)} problem(s)",
        highlight=False,
    )
    raise typer.Exit(1 if report.problems else 0)
