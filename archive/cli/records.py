"""`communis search`, `show`, `warc` and `reindex`: reading the archived records back.

Every record a command shows or writes out is named in an audit event, as on the web: `search` is
a `search` event with the query and one `view` event per hit, `show` a `view`, `warc` a `warc`; a
refused one is audited `failed` with the reason. The event is written before the record is
printed, so a log that cannot be written means nothing is shown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from schemas import AuditAction, AuditOutcome

from ..access import AuditLog, open_audit
from ..context import Archive
from ..errors import CommunisError
from ..harvest.rebuild import reindex_all as run_reindex
from ..index import SearchQuery
from ..index import search as run_search
from ..preservation.readback import VerifiedRecord, fetch_verified
from .common import cli_actor, console, fail, parse_date
from .render import record_panel, results_table

app = typer.Typer()


@app.command()
def search(
    text: Annotated[str, typer.Argument(help='Words or a simple query ("phrase", -not, a | b).')] = "",
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="post, comment, reply, media, page or moderation (the account's own moderation lists)."),
    ] = None,
    item: Annotated[str | None, typer.Option(help="One item's id on its platform: all its versions.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")] = None,
    deleted: Annotated[bool | None, typer.Option("--deleted/--not-deleted", help="Only tombstones / none.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Search the archived records."""
    try:
        query = SearchQuery(
            text=text,
            platform=platform,
            account=account,
            kind=kind,
            item=item,
            date_from=parse_date(date_from, "--from"),
            date_to=parse_date(date_to, "--to"),
            deleted=deleted,
            size=limit,
        )
        arc = Archive()
        audit = open_audit(arc.settings)
        audit.ensure()  # no search if it cannot be audited
        result = run_search(arc.index, query)
        who = cli_actor()
        described = _describe(
            text,
            platform=platform,
            account=account,
            kind=kind,
            item=item,
            **{"from": date_from, "to": date_to, "deleted": deleted, "limit": limit},
        )
        audit.event(
            AuditAction.SEARCH, user=who, role=None, target=described, client="cli", note=f"{result.total} hits"
        )
        audit.shown(
            AuditAction.VIEW,
            [h.record_id for h in result.hits],
            user=who,
            role=None,
            client="cli",
            note=f"search hit: {described}"[:1000],
        )
    except CommunisError as exc:
        fail(exc)
    if as_json:
        for hit in result.hits:
            sys.stdout.write(json.dumps({"record_id": hit.record_id, **hit.source}, ensure_ascii=False) + "\n")
        return
    console.print(results_table(result, text))


@app.command()
def show(record_id: str) -> None:
    """Print a record and verify it against its WARC record fetched from storage."""
    arc = Archive()
    try:
        audit = open_audit(arc.settings)
        verified = _fetch_audited(arc, audit, record_id, AuditAction.VIEW, note="show (verified)")
    except CommunisError as exc:
        fail(exc)
    console.print(record_panel(verified))


@app.command()
def warc(record_id: str, output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")]) -> None:
    """Write the exact stored WARC record of a record version to a file (verified first)."""
    arc = Archive()
    try:
        audit = open_audit(arc.settings)
        verified = _fetch_audited(arc, audit, record_id, AuditAction.WARC, note=f"written to {output}"[:1000])
    except CommunisError as exc:
        fail(exc)
    output.write_bytes(verified.warc_bytes)
    console.print(
        f"wrote {len(verified.warc_bytes)} bytes to {output} "
        f"(sha256 {verified.record.warc.sha256 if verified.record.warc else '?'})"
    )


def _describe(text: str, **filters: str | bool | int | None) -> str:
    """The search as audited: its text, then every filter that was set (`name=value`)."""
    parts = [text] if text else []
    parts += [f"{k}={v}" for k, v in filters.items() if v is not None and k != "limit"]
    return " ".join(parts) or "(all records)"


def _fetch_audited(arc: Archive, audit: AuditLog, record_id: str, action: AuditAction, *, note: str) -> VerifiedRecord:
    """The verified record, named in an `action` event before it is shown; a refusal audited as failed."""
    audit.ensure()
    who = cli_actor()
    try:
        verified = fetch_verified(arc.index, arc.store, record_id)
    except CommunisError as exc:
        audit.event(
            action,
            user=who,
            role=None,
            target=record_id,
            client="cli",
            outcome=AuditOutcome.FAILED,
            note=exc.one_line()[:1000],
        )
        raise
    audit.event(action, user=who, role=None, target=record_id, client="cli", note=note)
    return verified


@app.command()
def reindex(keep: Annotated[bool, typer.Option(help="Keep the existing index (no drop).")] = False) -> None:
    """Rebuild the index (and the harvest table from it) from the stored WARC files alone."""
    arc = Archive()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("reindexing", total=None)
            report = run_reindex(
                arc.store, arc.index, drop=not keep, progress=lambda key: progress.update(task, description=key)
            )
    except CommunisError as exc:
        fail(exc)
    console.print(f"reindexed {report.documents} records from {report.files} WARC files ({report.errors} errors)")
    if report.errors:
        raise typer.Exit(1)
