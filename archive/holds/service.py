"""Placing and releasing holds, and keeping them on records captured later or reindexed.

Order matters for safety: a hold is saved before any record is marked (a crash in between
leaves a hold that `reapply_holds` completes; disposal runs it first, and placing the same hold
again completes it instead of adding a second one), and on release the S3 legal hold is switched
off only for files in which no record is under any other hold any more. A release interrupted
after it was recorded is completed by releasing again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from schemas import WarcFileManifest
from schemas.holds import LegalHold
from schemas.search import SavedSearch

from ..errors import ObjectMissing
from ..faults import CrashPoint, crash_point
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
    #: An interrupted placement or release of this hold was completed (nothing new was recorded).
    resumed: bool = False


def _hold_files(store: BlobStore, keys: set[str], on: bool) -> None:
    """Switch the S3 legal hold of each file. A file missing from the store (lost some other way) is
    named in the log and the others are still switched: one lost file must not leave the rest unheld."""
    for key in sorted(keys):
        try:
            store.set_legal_hold(key, on)
        except ObjectMissing:
            log.error("legal hold: %s is missing from the store; its records stay marked in the index", key)


def place_hold(
    store: BlobStore,
    index: RecordIndex,
    *,
    matter: str,
    scope: SavedSearch,
    owner: str,
    now: datetime,
    reason: str = "",
) -> HoldOutcome:
    """Place a hold: save it, mark every matching record, lock the files holding them."""
    if scope.is_empty():
        raise book.HoldError(
            "a hold needs a scope: a query, a filter or record ids",
            hint="holding the whole archive is done with retention settings, not a hold",
        )
    same = next((h for h in book.active_holds(store) if h.matter == matter and h.scope == scope), None)
    hold = same or LegalHold(
        id=f"hold-{uuid.uuid4().hex[:12]}", matter=matter, reason=reason, scope=scope, owner=owner, created_at=now
    )
    if same is None:
        book.save_placed(store, hold)
    crash_point(CrashPoint.HOLD_BEFORE_MARKS)
    index.ensure()
    changed, files = marks.mark(index, hold.id, marks.scope_query(index, scope))
    crash_point(CrashPoint.HOLD_BETWEEN_MARKS_AND_LOCK)
    _hold_files(store, files, True)
    log.info("hold %s placed on %d records in %d files", hold.id, changed, len(files))
    return HoldOutcome(hold, changed, files, resumed=same is not None)


def release_hold(store: BlobStore, index: RecordIndex, hold_id: str, *, by: str, now: datetime) -> HoldOutcome:
    """Release a hold: record the release, unmark its records, unlock files no other hold needs."""
    hold = book.get_hold(store, hold_id)
    resumed = not hold.active
    if hold.active:
        hold = hold.model_copy(update={"released_at": now, "released_by": by})
        book.save_released(store, hold)
    # Files the hold covered: those of records still marked, and those its scope matches (after an
    # interrupted release the marks may be gone while some files are still legally held).
    changed, files = marks.unmark(index, hold_id)
    files |= marks.scope_files(index, marks.scope_query(index, hold.scope))
    free = sorted(files - marks.held_files(index, files))
    still = [k for k in free if _legally_held(store, k)] if resumed else free
    if resumed and not changed and not still:
        raise book.HoldError(f"hold {hold_id} was already released on {hold.released_at:%Y-%m-%d}")
    for n, key in enumerate(still):
        if n:
            crash_point(CrashPoint.HOLD_RELEASE_MID)
        store.set_legal_hold(key, False)
    return HoldOutcome(hold, changed, set(still), resumed=resumed)


def _legally_held(store: BlobStore, key: str) -> bool:
    found = store.head(key)
    return found is not None and found.legal_hold


def apply_holds_to_file(store: BlobStore, index: RecordIndex, holds: list[LegalHold], key: str) -> int:
    """After a new WARC file is indexed: mark its records that active holds cover, lock the files."""
    total = 0
    for hold in holds:
        changed, files = marks.mark(index, hold.id, marks.scope_query(index, hold.scope, within_file=key))
        if files:
            _hold_files(store, files, True)
        total += changed
    return total


class HoldsOnNewFiles:
    """Ingest's after-commit step for holds: a hold covers matching records captured after it was placed.

    Handed to the pipeline by the wiring (archive/context.py), so ingest knows nothing of holds. The
    active holds are read once per pipeline, at its first committed file.
    """

    def __init__(self, store: BlobStore, index: RecordIndex) -> None:
        self.store, self.index = store, index
        self._holds: list[LegalHold] | None = None

    def __call__(self, manifest: WarcFileManifest, records: int) -> None:
        if self._holds is None:
            self._holds = book.active_holds(self.store)
        if self._holds:
            apply_holds_to_file(self.store, self.index, self._holds, manifest.key)


def reapply_holds(store: BlobStore, index: RecordIndex) -> int:
    """Put every active hold back on the records (after a reindex, or a crash while placing one)."""
    total = 0
    for hold in book.active_holds(store):
        changed, files = marks.mark(index, hold.id, marks.scope_query(index, hold.scope))
        _hold_files(store, files, True)
        total += changed
    return total
