"""`communis request …`: public-records request cases from the command line.

Every step goes through archive/usecases/requests.py, as the web's do: the same checks, the same
audit events (a refused step audited as `failed`), and packages numbered in the same place
(`{data_dir}/packages/{case_id}-{n}`) unless `-o` names a directory of one's own. Every step that
changes a case acts as the signed-in user (`communis login`) and needs the `requests` permission
(legal, admin), as the API's routes do; listing the cases needs `requests-view` (not read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from schemas import AuditAction
from schemas.search import SavedSearch

from ..context import Archive
from ..errors import CommunisError
from ..requests.verify import verify_package
from ..usecases.requests import RequestDesk, open_requests
from .common import console, fail, parse_date, signed_in

app = typer.Typer(help="Public-records requests: cases, frozen results, review, masking, packages.")


def _desk() -> RequestDesk:
    return open_requests(Archive())


@app.command("new")
def request_new(
    query: Annotated[str, typer.Option("--query", help='What the request asks for: words, "phrase", a | b.')] = "",
    requester: Annotated[str | None, typer.Option(help="Who asked (optional: requests may be anonymous).")] = None,
    text: Annotated[str, typer.Option("--text", help="The request as received.")] = "",
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")] = None,
    profile: Annotated[str, typer.Option(help="Jurisdiction profile: se, us-foia, us-wa, …")] = "se",
    diary_number: Annotated[str | None, typer.Option("--diary-number", help="The case's diary number.")] = None,
) -> None:
    """Open a request case; prints its id."""
    try:
        search = SavedSearch.model_validate(
            {
                "q": query,
                "platform": platform,
                "account": account,
                "published_from": parse_date(date_from, "--from"),
                "published_to": parse_date(date_to, "--to"),
            }
        )
        case = _desk().create(
            signed_in(AuditAction.REQUEST_CREATE, "new request case"),
            searches=[search],
            requester=requester,
            request_text=text,
            diary_number=diary_number,
            profile=profile,
        )
    except ValidationError as exc:
        fail(CommunisError(f"invalid request: {exc}"))
    except CommunisError as exc:
        fail(exc)
    console.print(f"request case {case.id} opened (received {case.received_at:%Y-%m-%d %H:%M} UTC)", highlight=False)
    typer.echo(case.id)


@app.command("run")
def request_run(case_id: str) -> None:
    """Run the case's searches now and freeze the result (a new snapshot, compared with the last)."""
    try:
        result = _desk().run(signed_in(AuditAction.REQUEST_RUN, case_id), case_id)
    except CommunisError as exc:
        fail(exc)
    per = ", ".join(f"{k} {v}" for k, v in sorted(result.by_platform.items())) or "none"
    console.print(
        f"snapshot {result.snapshot}: {result.total} records ({per}); {len(result.added)} new and "
        f"{len(result.removed)} gone since the last; {result.suggestions} masking suggestions to review",
        highlight=False,
    )


@app.command("review")
def request_review(
    case_id: str,
    accept_suggestions: Annotated[bool, typer.Option("--accept-suggestions", help="Accept every pending one.")] = False,
    reject_suggestions: Annotated[bool, typer.Option("--reject-suggestions", help="Reject every pending one.")] = False,
    ground: Annotated[str | None, typer.Option(help="Legal ground of the accepted masks, e.g. 'OSL 21:7'.")] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="A record id to leave out (repeatable).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why records are excluded.")] = "",
) -> None:
    """Decide masking suggestions (all at once, with one ground) and include/exclude records.

    Each decision is its own step and audit event, as on the web: the suggestions first, then one
    per excluded record."""
    if accept_suggestions and reject_suggestions:
        fail(CommunisError("--accept-suggestions and --reject-suggestions exclude each other"))
    try:
        desk, who = _desk(), signed_in(AuditAction.REQUEST_REVIEW, case_id)
        decided = 0
        if accept_suggestions or reject_suggestions:
            decided = desk.decide(who, case_id, accept=accept_suggestions, ground=ground)
        for record_id in exclude or []:
            desk.review(who, case_id, record_id, include=False, reason=reason)
    except CommunisError as exc:
        fail(exc)
    console.print(f"{decided} suggestions decided, {len(exclude or [])} records excluded", highlight=False)


@app.command("export")
def request_export(
    case_id: str,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="A new directory for the package (default: the case's next numbered package, "
            "{data_dir}/packages/{case_id}-{n}, as the web makes them).",
        ),
    ] = None,
    bates: Annotated[bool, typer.Option("--bates", help="Add Bates-numbered PDFs and a load file.")] = False,
    bates_prefix: Annotated[str, typer.Option(help="Bates number prefix.")] = "COMM",
) -> None:
    """Produce the case's package: a BagIt bag with the released copy, originals, WACZ and custody log."""
    try:
        desk, who = _desk(), signed_in(AuditAction.REQUEST_EXPORT, case_id)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("producing", total=None)
            produced = desk.export(
                who,
                case_id,
                output=output,
                bates_prefix=bates_prefix if bates else None,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except CommunisError as exc:
        fail(exc)
    result = produced.result
    console.print(
        f"package {produced.package.path}: {result.records} records, {result.media_files} media files, "
        f"{result.masked_spans} masked spans, {result.files} files, {result.bytes} bytes"
        + (f", Bates {result.bates[0]}–{result.bates[1]}" if result.bates else ""),
        highlight=False,
    )


@app.command("verify")
def request_verify(package: Path) -> None:
    """Re-check every hash in a package and every WARC record against the archive; name what differs."""
    try:
        arc = Archive()
        problems = verify_package(package, arc.index, arc.store)
    except CommunisError as exc:
        fail(exc)
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/red] {escape(problem)}")
        raise typer.Exit(1)
    console.print(f"{package}: every file and every WARC record checks out", highlight=False)


@app.command("list")
def request_list() -> None:
    """The cases, newest first, with their clock: due date and whether they are overdue."""
    try:
        clocks = _desk().cases(signed_in(AuditAction.VIEW, "request cases"))
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"{len(clocks)} request cases")
    for col in ("case", "received", "requester", "profile", "status", "snapshots", "due", "overdue"):
        table.add_column(col, overflow="fold")
    for c in clocks:
        case = c.case
        table.add_row(
            case.id,
            f"{case.received_at:%Y-%m-%d %H:%M}",
            escape(case.requester or "(anonymous)"),
            case.profile,
            case.status.value,
            str(case.snapshots),
            str(c.due) if c.due else "?",
            "[red]yes[/red]" if c.overdue else "",
        )
    console.print(table)
