"""`communis hold new|release|list`: legal holds from the command line, each an audit event."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from schemas import AuditAction
from schemas.search import SavedSearch

from .. import clock
from ..access import open_audit
from ..context import Archive
from ..errors import CommunisError
from ..holds import load_holds, place_hold, release_hold
from .common import cli_actor, console, fail, parse_date

app = typer.Typer(help="Legal holds: keep a matter's records from any disposal until released.")


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
    arc = Archive()
    try:
        scope = SavedSearch.model_validate({
            "q": query, "platform": platform, "account": account, "published_from": parse_date(date_from, "--from"),
            "published_to": parse_date(date_to, "--to"), "record_ids": record or []})
        audit = open_audit(arc.settings)
        audit.ensure()
        outcome = place_hold(arc.store, arc.index, matter=case, scope=scope, owner=cli_actor(), now=clock.now(),
                             reason=reason)
        audit.event(AuditAction.HOLD_PLACE, user=cli_actor(), role=None, target=outcome.hold.id, client="cli",
                    note=f"{case}: {scope.describe()}; {outcome.records} records, {len(outcome.files)} files")
    except (CommunisError, ValueError) as exc:
        fail(exc if isinstance(exc, CommunisError) else CommunisError(f"invalid hold: {exc}"))
    placed = "was already placed for this matter and scope; completed" if outcome.resumed else "placed"
    console.print(f"hold {outcome.hold.id} {placed}: {outcome.records} records newly marked, {len(outcome.files)} "
                  "stored files are held (records captured later that match are held too)", highlight=False)
    typer.echo(outcome.hold.id)


@app.command("release")
def hold_release(hold_id: str) -> None:
    """Release a hold; files stay locked while another hold covers any record in them."""
    arc = Archive()
    try:
        audit = open_audit(arc.settings)
        audit.ensure()
        outcome = release_hold(arc.store, arc.index, hold_id, by=cli_actor(), now=clock.now())
        audit.event(AuditAction.HOLD_RELEASE, user=cli_actor(), role=None, target=hold_id, client="cli",
                    note=f"{outcome.records} records, {len(outcome.files)} files released")
    except CommunisError as exc:
        fail(exc)
    done = "release completed (it was interrupted)" if outcome.resumed else "released"
    console.print(f"hold {hold_id} {done}: {outcome.records} records unmarked, legal hold lifted on "
                  f"{len(outcome.files)} files no other hold needs", highlight=False)


@app.command("list")
def hold_list(all_holds: Annotated[bool, typer.Option("--all", help="Also released holds.")] = False) -> None:
    """The holds: matter, scope, owner, when placed and released, and how many records they mark now."""
    arc = Archive()
    try:
        holds = [h for h in load_holds(arc.store) if all_holds or h.active]
        counts = {h.id: arc.index.count({"term": {"legal_holds": h.id}}) for h in holds}
    except CommunisError as exc:
        fail(exc)
    table = Table(title=f"{len(holds)} holds")
    for col in ("id", "matter", "scope", "owner", "placed", "released", "records"):
        table.add_column(col, overflow="fold")
    for h in holds:
        released = f"{h.released_at:%Y-%m-%d %H:%M}" if h.released_at else ""
        table.add_row(h.id, escape(h.matter), escape(h.scope.describe()), escape(h.owner),
                      f"{h.created_at:%Y-%m-%d %H:%M}", released, str(counts[h.id]))
    console.print(table)
