"""Legal holds for whoever acts: `communis hold …` and the web alike, each step audited.

`hold.place` and `hold.release` are audited `ok` with what changed, or `failed` with the reason
(a hold without a scope, an unknown or already released hold); listing the holds is a `view`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schemas import AuditAction
from schemas.holds import LegalHold
from schemas.search import SavedSearch

from .. import clock
from ..access import AuditLog, open_audit
from ..access.policy import Permission
from ..context import Archive
from ..errors import NotFound
from ..holds import HoldOutcome, load_holds, place_hold, release_hold
from ..index.cases import records_held
from .actor import Actor, audited, permit, record


@dataclass(frozen=True)
class HeldRecords:
    hold: LegalHold
    #: Records marked with this hold now.
    records: int


@dataclass
class HoldDesk:
    archive: Archive
    audit: AuditLog
    now: Callable[[], datetime] = field(default=lambda: clock.now())

    def holds(self, who: Actor, *, released: bool = True) -> list[HeldRecords]:
        """Oldest first, each with how many records it marks now; `released=False` for active ones only."""
        permit(self.audit, who, Permission.HOLDS, AuditAction.VIEW, "legal holds")  # legal staff's, as GET /api/holds
        found = [h for h in load_holds(self.archive.store) if released or h.active]
        record(self.audit, who, AuditAction.VIEW, "legal holds", note=f"{len(found)} holds")
        return [HeldRecords(h, records_held(self.archive.index, h.id)) for h in found]

    def place(self, who: Actor, *, matter: str, scope: SavedSearch, reason: str = "") -> HoldOutcome:
        """Mark every matching record (and records captured later) and lock the files holding them."""

        def step() -> HoldOutcome:
            return place_hold(
                self.archive.store,
                self.archive.index,
                matter=matter,
                scope=scope,
                owner=who.name,
                now=self.now(),
                reason=reason,
            )

        return audited(
            self.audit,
            who,
            AuditAction.HOLD_PLACE,
            f"new hold: {matter}",
            step,
            lambda o: f"{o.hold.matter}: {o.hold.scope.describe()}; {o.records} records, {len(o.files)} files",
            made=lambda o: o.hold.id,
            permission=Permission.HOLDS,
        )

    def release(self, who: Actor, hold_id: str) -> HoldOutcome:
        """Release a hold; files stay locked while another hold covers any record in them."""

        def step() -> HoldOutcome:
            if hold_id not in {h.id for h in load_holds(self.archive.store)}:
                raise NotFound(f"no hold {hold_id}")
            return release_hold(self.archive.store, self.archive.index, hold_id, by=who.name, now=self.now())

        return audited(
            self.audit,
            who,
            AuditAction.HOLD_RELEASE,
            hold_id,
            step,
            lambda o: f"{o.records} records, {len(o.files)} files released",
            permission=Permission.HOLDS,
        )


def open_holds(
    archive: Archive, audit: AuditLog | None = None, *, now: Callable[[], datetime] | None = None
) -> HoldDesk:
    return HoldDesk(archive, audit or open_audit(archive.settings), now or (lambda: clock.now()))
