"""`communis hold new|release|list`: legal holds from the command line, through archive/usecases/holds.py
(the same steps, role checks and audit events as the web, a refused step audited as `failed` or
`denied`). Placing and releasing act as the signed-in user (`communis login`) and need the `holds`
permission (legal, admin), as `POST /api/holds` and `/api/holds/{id}/release` do; so does listing them
(a hold says a matter is being litigated), as `GET /api/holds` does."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from schemas import AuditAction
from schemas.search import SavedSearch

from ..context import Archive
from ..errors import CommunisError
from ..usecases.holds import HoldDesk, open_holds
from .common import console, fail, parse_date, signed_in

app = typer.Typer(help="Legal holds: keep a matter's records from any disposal until released.")


def _desk() -> HoldDesk:
    return open_holds(Archive())


@app.command("new")
def hold_new(
    case: Annotated[str, typer.Option("--case", help="The matter or case the hold is for.")],
    query: Annotated[str, typer.Option("--query", help='Text the records contain: words, "phrase", a | b.')] = "",
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")] = None,
    record: Annotated[list[str] | None, typer.Option("--record", help="A record id (repeatable).")] = None,
    reason: Annotated[str, typer.Option(help="Why (litigation reasonably anticipated, …).")] = "",
) -> None:
    """Place a hold: every matching record, also ones captured later, and the files holding them."""
    try:
        scope = SavedSearch.model_validate(
            {
                "q": query,
                "platform": platform,
                "account": account,
                "published_from": parse_date(date_from, "--from"),
                "published_to": parse_date(date_to, "--to"),
                "record_ids": record or [],
            }
        )
        who = signed_in(AuditAction.HOLD_PLACE, f"new hold: {case}")
        outcome = _desk().place(who, matter=case, scope=scope, reason=reason)
    except ValidationError as exc:
        fail(CommunisError(f"invalid hold: {exc}"))
    except CommunisError as exc:
        fail(exc)
    placed = "was already placed for this matter and scope; completed" if outcome.resumed else "placed"
    console.print(
        f"hold {outcome.hold.id} {placed}: {outcome.records} records newly marked, {len(outcome.files)} "
        "stored files are held (records captured later that match are held too)",
        highlight=False,
    )
    typer.echo(outcome.hold.id)


@app.command("release")
def hold_release(hold_id: str) -> None:
    """Release a hold; files stay locked while another hold covers any record in them."""
    try:
        outcome = _desk().release(signed_in(AuditAction.HOLD_RELEASE, hold_id), hold_id)
    except CommunisError as exc:
        fail(exc)
    done = "release completed (it was interrupted)" if outcome.resumed else "released"
    console.print(
        f"hold {hold_id} {done}: {outcome.records} records unmarked, legal hold lifted on "
        f"{len(outcome.files)} files no other hold needs",
        highlight=False,
    )


@app.command("list")
def hold_list(all_holds: Annotated[bool, typer.Option("--all", help="Also released holds.")] = False) -> None:
    """The holds: matter, scope, owner, when placed and released, and how many records they mark now."""
    try:
        holds = _desk().holds(signed_in(AuditAction.VIEW, "legal holds"), released=all_holds)
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"{len(holds)} holds")
    for col in ("id", "matter", "scope", "owner", "placed", "released", "records"):
        table.add_column(col, overflow="fold")
    for held in holds:
        h = held.hold
        released = f"{h.released_at:%Y-%m-%d %H:%M}" if h.released_at else ""
        table.add_row(
            h.id,
            escape(h.matter),
            escape(h.scope.describe()),
            escape(h.owner),
            f"{h.created_at:%Y-%m-%d %H:%M}",
            released,
            str(held.records),
        )
    console.print(table)
