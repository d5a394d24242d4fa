"""`communis completeness [--account A] [--month YYYY-MM]`: what each platform shows against the archive.

Each account's report is made now, kept write-once in the store with its rows for the web app, and
printed: its status and summary, and under a gap the months and items short, with the published count
and what is archived. `--pdf DIR` also renders each as the PDF a records manager signs off, kept beside
the JSON in the store and written into DIR. Exit 1 when any account has a gap, so a scheduler or a
script notices. Reading a report is audited like reading records (one `completeness` event per
account, before it is printed); one that cannot be made is audited `failed` with its reason.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schemas import AuditAction, AuditOutcome, CompletenessReport, Status

from ..access import open_audit
from ..completeness.service import report_account
from ..context import Archive
from ..errors import CommunisError
from .common import accounts_from, cli_actor, console, fail

app = typer.Typer()

_STYLE = {Status.COMPLETE: "green", Status.GAP: "bold red", Status.SURPLUS: "yellow", Status.UNKNOWABLE: "dim"}


def parse_month(value: str | None) -> str | None:
    """A `--month` value as YYYY-MM; anything else is a one-line error naming the flag."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").strftime("%Y-%m")
    except ValueError:
        raise CommunisError(f"--month {value!r} is not a month", hint="write it as YYYY-MM") from None


@app.command("completeness")
def completeness(
    account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
    month: Annotated[str | None, typer.Option(help="Only the items published in this month (YYYY-MM).")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each report as one JSON line.")] = False,
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", help="Also write each report as a PDF to sign off, into this folder (and the store)."),
    ] = None,
) -> None:
    """Compare what each platform says exists with what the archive holds; exit 1 on a gap."""
    arc = Archive()
    try:
        if pdf is not None and not pdf.is_dir():
            raise CommunisError(f"--pdf {pdf} is not a folder", hint="create it, or name an existing one")
        chosen = parse_month(month)
        listed = [a for a in accounts_from(arc, accounts) if a.active]
        if account is not None:
            listed = [a for a in listed if a.id == account]
            if not listed:
                raise CommunisError(
                    f"account {account!r} is not in the accounts file", hint="see `communis accounts status`"
                )
        audit = open_audit(arc.settings)
        audit.ensure()  # no report if it cannot be audited
        who = cli_actor()
        reports: list[CompletenessReport] = []
        for one in listed:
            target = one.id + (f" {chosen}" if chosen else "")
            try:
                report = report_account(arc.settings, arc.store, arc.index, one, made_by=who, month=chosen)
            except CommunisError as exc:
                audit.event(
                    AuditAction.COMPLETENESS,
                    user=who,
                    role=None,
                    target=target,
                    client="cli",
                    outcome=AuditOutcome.FAILED,
                    note=exc.one_line()[:1000],
                )
                raise
            audit.event(
                AuditAction.COMPLETENESS,
                user=who,
                role=None,
                target=target,
                client="cli",
                note=f"{report.status.value}: {report.key}"[:1000],
            )
            reports.append(report)
        written = _pdfs(arc, reports, pdf) if pdf is not None else []
    except CommunisError as exc:
        fail(exc)
    if as_json:
        for report in reports:
            sys.stdout.write(json.dumps(report.model_dump(mode="json"), ensure_ascii=False) + "\n")
    else:
        for report in reports:
            _print(report)
    for path in written:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    raise typer.Exit(1 if any(r.status is Status.GAP for r in reports) else 0)


def _pdfs(arc: Archive, reports: list[CompletenessReport], folder: Path) -> list[Path]:
    """Each report's PDF, kept write-once beside its JSON in the store and written into `folder`."""
    from ..completeness.signoff import keep_pdf  # fpdf: see archive/completeness/signoff.py

    written = []
    for report in reports:
        key, data = keep_pdf(arc.store, report)
        path = folder / f"{report.account}-{key.rsplit('/', 1)[-1]}"
        try:
            with path.open("xb") as fh:
                fh.write(data)
        except FileExistsError:
            raise CommunisError(f"{path} exists", hint="choose another folder with --pdf") from None
        written.append(path)
    return written


def _print(report: CompletenessReport) -> None:
    style = _STYLE[report.status]
    console.print(
        f"[bold]{escape(report.account)}[/] ({report.platform.value}, {report.scope}): "
        f"[{style}]{escape(report.summary)}[/]",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"  kept as {report.key}; tolerance {_tolerance(report)}", highlight=False, soft_wrap=True)
    if not report.months and not report.totals:
        return
    table = Table("month", "status", "posts", "published", "archived", "missing", "note", show_edge=False)
    for t in report.totals:
        table.add_row(
            f"total {t.what.value}" + (f" ({t.detail})" if t.detail else ""),
            f"[{_STYLE[t.status]}]{t.status.value}[/]",
            "",
            "" if t.published is None else str(t.published),
            "" if t.archived is None else str(t.archived),
            "",
            escape(t.note),
        )
    for m in report.months:
        table.add_row(
            m.month,
            f"[{_STYLE[m.status]}]{m.status.value}[/]",
            str(m.posts),
            str(m.published),
            str(m.archived),
            str(m.missing),
            escape(m.note),
        )
        if m.status is Status.GAP:
            for item in m.items:
                if item.published > item.archived:
                    table.add_row(
                        f"  {escape(item.item_id)}",
                        "",
                        "",
                        str(item.published),
                        str(item.archived),
                        "",
                        escape(item.note),
                    )
    console.print(table)


def _tolerance(report: CompletenessReport) -> str:
    t = report.tolerance
    return f"{t.absolute} and {t.relative:.0%} ({t.source})"
