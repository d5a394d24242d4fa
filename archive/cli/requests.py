"""`communis request …`: public-records request cases from the command line, every step audited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from schemas import AuditAction
from schemas.search import SavedSearch

from .. import clock
from ..access import AuditLog, open_audit
from ..context import Archive
from ..errors import CommunisError
from ..index.client import make_client
from ..requests.casebook import CaseBook
from ..requests.detect import detect
from ..requests.profiles import due_date, is_overdue, load_profiles
from ..requests.verify import verify_package
from ..requests.workflow import decide_masks, new_case, review_record, run_case
from .common import cli_actor, console, fail, parse_date

app = typer.Typer(help="Public-records requests: cases, frozen results, review, masking, packages.")


def _context() -> tuple[Archive, CaseBook, AuditLog]:
    arc = Archive()
    audit = open_audit(arc.settings)
    audit.ensure()
    return arc, CaseBook(make_client(arc.settings), arc.settings.es_index_prefix), audit


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
        if profile not in load_profiles():
            raise CommunisError(f"unknown profile {profile!r}", hint=f"one of: {', '.join(load_profiles())}")
        arc, book, audit = _context()
        search = SavedSearch.model_validate({"q": query, "platform": platform, "account": account,
                                             "published_from": parse_date(date_from, "--from"),
                                             "published_to": parse_date(date_to, "--to")})
        case = new_case(book, searches=[search], handler=cli_actor(), now=clock.now(),
                        requester=requester, request_text=text, diary_number=diary_number, profile=profile)
        audit.event(AuditAction.REQUEST_CREATE, user=cli_actor(), role=None, target=case.id,
                    client="cli", note=search.describe())
    except (CommunisError, ValueError) as exc:
        fail(exc if isinstance(exc, CommunisError) else CommunisError(f"invalid request: {exc}"))
    console.print(f"request case {case.id} opened (received {case.received_at:%Y-%m-%d %H:%M} UTC)", highlight=False)
    typer.echo(case.id)


@app.command("run")
def request_run(case_id: str) -> None:
    """Run the case's searches now and freeze the result (a new snapshot, compared with the last)."""
    try:
        arc, book, audit = _context()
        result = run_case(book, arc.index, case_id, spans=detect)
        audit.event(AuditAction.REQUEST_RUN, user=cli_actor(), role=None, target=case_id,
                    client="cli", note=f"snapshot {result.snapshot}: {result.total} records")
    except CommunisError as exc:
        fail(exc)
    per = ", ".join(f"{k} {v}" for k, v in sorted(result.by_platform.items())) or "none"
    console.print(f"snapshot {result.snapshot}: {result.total} records ({per}); {len(result.added)} new and "
                  f"{len(result.removed)} gone since the last; {result.suggestions} masking suggestions to review",
                  highlight=False)


@app.command("review")
def request_review(
    case_id: str,
    accept_suggestions: Annotated[bool, typer.Option("--accept-suggestions", help="Accept every pending one.")] = False,
    reject_suggestions: Annotated[bool, typer.Option("--reject-suggestions", help="Reject every pending one.")] = False,
    ground: Annotated[str | None, typer.Option(help="Legal ground of the accepted masks, e.g. 'OSL 21:7'.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="A record id to leave out (repeatable).")
                       ] = None,
    reason: Annotated[str, typer.Option(help="Why records are excluded.")] = "",
) -> None:
    """Decide masking suggestions (all at once, with one ground) and include/exclude records."""
    if accept_suggestions and reject_suggestions:
        fail(CommunisError("--accept-suggestions and --reject-suggestions exclude each other"))
    try:
        arc, book, audit = _context()
        decided = 0
        if accept_suggestions or reject_suggestions:
            decided = decide_masks(book, case_id, accept=accept_suggestions, ground=ground,
                                   by=cli_actor(), now=clock.now())
        for record_id in exclude or []:
            review_record(book, case_id, record_id, include=False, reason=reason, by=cli_actor(),
                          now=clock.now())
        audit.event(AuditAction.REQUEST_REVIEW, user=cli_actor(), role=None, target=case_id,
                    client="cli", note=f"{decided} suggestions {'accepted' if accept_suggestions else 'rejected'}"
                                       f" ({ground or 'no ground'}); {len(exclude or [])} records excluded")
    except CommunisError as exc:
        fail(exc)
    console.print(f"{decided} suggestions decided, {len(exclude or [])} records excluded", highlight=False)


@app.command("export")
def request_export(
    case_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="A new directory for the package.")],
    bates: Annotated[bool, typer.Option("--bates", help="Add Bates-numbered PDFs and a load file.")] = False,
    bates_prefix: Annotated[str, typer.Option(help="Bates number prefix.")] = "COMM",
) -> None:
    """Produce the case's package: a BagIt bag with the released copy, originals, WACZ and custody log."""
    # The package's PDFs need fpdf, whose fonts take about a second to import: only this command pays.
    from ..requests.production import produce

    try:
        arc, book, audit = _context()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("producing", total=None)
            result = produce(arc.settings, book, arc.index, arc.store, audit, case_id, output,
                             by=cli_actor(), now=clock.now(), bates_prefix=bates_prefix if bates else None,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
        audit.event(AuditAction.REQUEST_EXPORT, user=cli_actor(), role=None, target=case_id,
                    client="cli", note=f"{result.records} records, {result.masked_spans} masked spans → {output}")
    except CommunisError as exc:
        fail(exc)
    console.print(f"package {output}: {result.records} records, {result.media_files} media files, "
                  f"{result.masked_spans} masked spans, {result.files} files, {result.bytes} bytes"
                  + (f", Bates {result.bates[0]}–{result.bates[1]}" if result.bates else ""), highlight=False)


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
        _, book, _ = _context()
        cases = book.cases()
        profiles = load_profiles()
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"{len(cases)} request cases")
    for col in ("case", "received", "requester", "profile", "status", "snapshots", "due", "overdue"):
        table.add_column(col, overflow="fold")
    now = clock.now()
    for case in cases:
        profile = profiles.get(case.profile)
        delivered = case.deliveries[-1].at if case.deliveries else None
        late = profile is not None and case.status == "open" and is_overdue(profile, case.received_at, now, delivered)
        table.add_row(case.id, f"{case.received_at:%Y-%m-%d %H:%M}", escape(case.requester or "(anonymous)"),
                      case.profile, case.status.value, str(case.snapshots),
                      str(due_date(profile, case.received_at)) if profile else "?", "[red]yes[/red]" if late else "")
    console.print(table)
