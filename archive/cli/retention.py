"""`communis retention plan|approve|dispose|show|certificates|erasure|reevaluate`: disposal under the schedule.

Every step that changes something acts as the signed-in user (`communis login`, or
`COMMUNIS_TOKEN`): there is no option naming who acts, and `$USER` names nobody. Each needs the
records-manager or admin role, and three people: the planner cannot approve, neither planner nor
approver can execute. Every step goes through archive/usecases/retention.py, which checks the role
and audits it (a refused step as `failed` or `denied`, with its reason).

`archive.retention` (and the use cases over it) is imported inside each command: its certificates
are PDFs, and fpdf's fonts take about a second to import, which `communis --help` and every other
command should not pay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schemas import AuditAction
from schemas.schedule import DispositionList, ListSummary

from .. import clock
from ..context import Archive
from ..errors import CommunisError
from .common import console, fail, signed_in

app = typer.Typer(
    help="Retention schedule and disposal: plan, approve (a second person), dispose, "
    "certificates, GDPR erasure answers."
)


def _as_of(value: str | None) -> datetime:
    if value is None:
        return clock.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommunisError(f"--as-of {value!r} is not a date", hint="write it as YYYY-MM-DD") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("plan")
def retention_plan(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Plan as of this date (YYYY-MM-DD; default now): see what the schedule does on a future date.",
        ),
    ] = None,
) -> None:
    """Make a disposition list: the stored files whose records are all due, held by nobody, in no open request."""
    from ..usecases.retention import open_retention

    try:
        result = open_retention(Archive()).plan(
            signed_in(AuditAction.RETENTION_PLAN, "new disposition list"), as_of=_as_of(as_of)
        )
    except CommunisError as exc:
        fail(exc)
    _print_list(result)
    typer.echo(result.id)


def _print_list(result: DispositionList | ListSummary) -> None:
    table = Table(title=f"Disposition list {result.id} as of {result.as_of:%Y-%m-%d} ({result.status.value})")
    for col in ("file", "account", "rule", "decision", "records", "bytes", "captured", "due since"):
        table.add_column(col, overflow="fold")
    for g in result.groups:
        table.add_row(
            escape(g.key.rsplit("/", 1)[-1]),
            escape(g.account),
            ", ".join(c.rule_id for c in g.rules),
            escape("; ".join(c.decision.cite() for c in g.rules)),
            str(g.record_count),
            str(g.bytes),
            f"{g.first_captured:%Y-%m-%d} – {g.last_captured:%Y-%m-%d}",
            f"{g.retention_met:%Y-%m-%d}",
        )
    console.print(table)
    for k in result.kept_files:
        console.print(
            f"{escape(k.key)}: {k.reason} ({k.due_records} due, {k.retained_records} retained)", highlight=False
        )
    e = result.excluded
    console.print(
        f"total: {len(result.groups)} files, {result.record_count} records, {result.byte_count} bytes. "
        f"Kept: {e.held} held, {e.open_case} in open requests, {e.no_rule} under no rule, {e.draft_rule} "
        f"only under draft rules, {e.not_due} not yet due, {e.kept_by_rule} kept by rule, {e.file_kept} "
        "in files that also hold retained records.",
        highlight=False,
    )


@app.command("show")
def retention_show(list_id: str) -> None:
    """Print a disposition list with its status (planned, approved, executed)."""
    from ..retention.book import load_list

    try:
        found = load_list(Archive().store, list_id)
    except CommunisError as exc:
        fail(exc)
    _print_list(found)


@app.command("approve")
def retention_approve(
    list_id: str,
    note: Annotated[str, typer.Option(help="A note kept with the approval.")] = "",
) -> None:
    """Approve a list as the signed-in user (records-manager or admin; not the person who planned it)."""
    from ..usecases.retention import open_retention

    try:
        approved = open_retention(Archive()).approve(
            signed_in(AuditAction.RETENTION_APPROVE, list_id), list_id, note=note
        )
    except CommunisError as exc:
        fail(exc)
    console.print(
        f"list {list_id} approved by {approved.approved_by}: {len(approved.groups)} files, "
        f"{approved.record_count} records; another person executes it with `communis retention dispose "
        f"{list_id}`",
        highlight=False,
    )


@app.command("dispose")
def retention_dispose(list_id: str) -> None:
    """Execute an approved list as the signed-in user (neither its planner nor its approver); rerun to resume."""
    from ..usecases.retention import open_retention

    try:
        result = open_retention(Archive()).dispose(
            signed_in(AuditAction.RETENTION_DISPOSE, list_id),
            list_id,
            progress=lambda o: console.print(f"{o.outcome.value}: {escape(o.key)} {escape(o.reason)}", highlight=False),
        )
    except CommunisError as exc:
        fail(exc)
    cert = result.certificate
    if result.already_done:
        console.print(f"list {list_id} was already executed", highlight=False)
    for s in cert.skipped:
        console.print(f"[yellow]skipped[/] {escape(s.key)}: {escape(s.reason)}", highlight=False)
    console.print(
        f"{cert.record_count} records in {len(cert.files)} files disposed of; certificate {cert.id} "
        f"(retention/certificates/{list_id}.json and .pdf in the store)",
        highlight=False,
    )
    if cert.skipped:
        raise typer.Exit(1)


@app.command("certificates")
def retention_certificates() -> None:
    """List the disposal certificates (kept permanently)."""
    from ..retention.book import certificate_ids, load_certificate

    arc = Archive()
    try:
        certs = [c for c in (load_certificate(arc.store, i) for i in certificate_ids(arc.store)) if c is not None]
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"{len(certs)} disposal certificates")
    for col in ("list", "completed", "planned by", "approved by", "executed by", "files", "records", "skipped"):
        table.add_column(col)
    for c in certs:
        table.add_row(
            c.list_id,
            f"{c.completed_at:%Y-%m-%d %H:%M}",
            escape(c.planned_by),
            escape(c.approved_by),
            escape(c.executed_by),
            str(len(c.files)),
            str(c.record_count),
            str(len(c.skipped)),
        )
    console.print(table)


@app.command("erasure")
def retention_erasure(
    record: Annotated[list[str], typer.Option("--record", help="A record id (repeatable).")],
    note: Annotated[str, typer.Option(help="Who asked and how (no personal data needed).")] = "",
) -> None:
    """Log a GDPR erasure request and answer it with the rule and earliest disposal date; deletes nothing."""
    from ..usecases.retention import open_retention

    try:
        answers = open_retention(Archive()).erasure(
            signed_in(AuditAction.RETENTION_ERASURE, ", ".join(record)), record, note=note
        )
    except CommunisError as exc:
        fail(exc)
    for a in answers:
        when = f"{a.disposal_date:%Y-%m-%d}" if a.disposal_date else "never (kept)"
        console.print(
            f"{a.record_id}: rule {a.rule_id or '-'}, earliest disposal {when}. {escape(a.explanation)}",
            highlight=False,
        )


@app.command("reevaluate")
def retention_reevaluate(
    previous: Annotated[
        Path,
        typer.Option("--previous", help="The schedule file in force before this one.", exists=True, dir_okay=False),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; extend no lock.")] = False,
) -> None:
    """Re-evaluate archived records under the configured schedule against --previous: what changed, and extend
    the Object Lock of files whose periods grew (a lock is never shortened)."""
    from ..usecases.retention import open_retention

    try:
        result = open_retention(Archive()).reevaluate(
            signed_in(AuditAction.RETENTION_REEVALUATE, "schedule change"), previous=previous, dry_run=dry_run
        )
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"Schedule change {result.id}: {result.changed} of {result.scanned} records changed")
    for col in ("rule before", "rule now", "class before", "class now", "disposal date", "records", "files"):
        table.add_column(col, overflow="fold")
    for c in result.changes:
        table.add_row(
            escape(c.old_rule or "(none)"),
            escape(c.new_rule or "(none)"),
            escape(c.old_class or "-"),
            escape(c.new_class or "-"),
            c.disposal,
            str(c.records),
            str(c.files),
        )
    console.print(table)
    for lock in result.locks:
        until = f"{lock.new_period_end:%Y-%m-%d}" if lock.new_period_end else "-"
        console.print(f"{escape(lock.key)}: {escape(lock.outcome)} (period now ends {until})", highlight=False)
    console.print(
        f"report: retention/reevaluations/{result.id}.json in the store"
        + (" (dry run: no lock changed)" if dry_run else ""),
        highlight=False,
    )
