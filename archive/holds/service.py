"""Placing and releasing holds, and keeping them on records captured later or reindexed.

Order matters for safety: a hold is saved before any record is marked (a crash in between
leaves a hold that `reapply_holds` completes), and on release the S3 legal hold is switched
off only for files in which no record is under any other hold any more.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from schemas.holds import LegalHold
from schemas.search import SavedSearch

from ..index import RecordIndex
from ..store import BlobStore
from . import book, marks

log = logging.getLogger(__name__)


@dataclass
class HoldOutcome:
    hold: LegalHold
    #: Records whose hold list changed (newly marked, or unmarked on release).
    records: int = 0
    #: Stored WARC files whose S3 legal hold was switched (on when placing, off when releasing).
    files: set[str] = field(default_factory=set)


def _hold_files(store: BlobStore, keys: set[str], on: bool) -> None:
    for key in sorted(keys):
        store.set_legal_hold(key, on)


def place_hold(store: BlobStore, index: RecordIndex, *, matter: str, scope: SavedSearch, owner: str, now: datetime,
               reason: str = "") -> HoldOutcome:
    """Place a hold: save it, mark every matching record, lock the files holding them."""
    if scope.is_empty():
        raise book.HoldError("a hold needs a scope: a query, a filter or record ids",
                             hint="holding the whole archive is done with retention settings, not a hold")
    hold = LegalHold(id=f"hold-{uuid.uuid4().hex[:12]}", matter=matter, reason=reason, scope=scope, owner=owner,
                     created_at=now)
    book.save_placed(store, hold)
    index.ensure()
    changed, files = marks.mark(index, hold.id, marks.scope_query(index, scope))
    _hold_files(store, files, True)
    log.info("hold %s placed on %d records in %d files", hold.id, changed, len(files))
    return HoldOutcome(hold, changed, files)


def release_hold(store: BlobStore, index: RecordIndex, hold_id: str, *, by: str, now: datetime) -> HoldOutcome:
    """Release a hold: record the release, unmark its records, unlock files no other hold needs."""
    hold = book.get_hold(store, hold_id)
    if not hold.active:
        raise book.HoldError(f"hold {hold_id} was already released on {hold.released_at:%Y-%m-%d}")
    released = hold.model_copy(update={"released_at": now, "released_by": by})
    book.save_released(store, released)
    changed, files = marks.unmark(index, hold_id)
    free = files - marks.held_files(index, files)
    _hold_files(store, free, False)
    return HoldOutcome(released, changed, free)


def apply_holds_to_file(store: BlobStore, index: RecordIndex, holds: list[LegalHold], key: str) -> int:
    """After a new WARC file is indexed: mark its records that active holds cover, lock the files."""
    total = 0
    for hold in holds:
        changed, files = marks.mark(index, hold.id, marks.scope_query(index, hold.scope, within_file=key))
        if files:
            _hold_files(store, files, True)
        total += changed
    return total


def reapply_holds(store: BlobStore, index: RecordIndex) -> int:
    """Put every active hold back on the records (after a reindex, or a crash while placing one)."""
    total = 0
    for hold in book.active_holds(store):
        changed, files = marks.mark(index, hold.id, marks.scope_query(index, hold.scope))
        _hold_files(store, files, True)
        total += changed
    return total
