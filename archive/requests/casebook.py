"""Request cases, their frozen snapshots and their masks, kept in Elasticsearch beside the records.

Four indices under the archive's prefix: `-cases` (one document per case), `-case-records`
(one per record per snapshot, with the reviewer's include/exclude decision), `-case-masks`
(suggested and decided masks) and `-case-media` (the decision on each media file: release,
withhold or release without metadata, with its ground). They live in the cluster every host of the installation
shares, so the retention flow on a worker can see which records are in open cases.
Documents carry no masked value (only offsets and hashes), so nothing here re-discloses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.cases import CaseStatus, RequestCase, SnapshotEntry
from schemas.requests import Mask, MediaDecision

from ..errors import CommunisError
from ..index.client import Client
from ..index.keyed import KeyedIndices

_KW = {"type": "keyword"}
_MAPPINGS: dict[str, dict[str, Any]] = {
    "cases": {
        "dynamic": False,
        "properties": {
            "id": _KW,
            "status": _KW,
            "profile": _KW,
            "handler": _KW,
            "received_at": {"type": "date"},
            "diary_number": _KW,
        },
    },
    "case-records": {
        "dynamic": False,
        "properties": {
            "case_id": _KW,
            "snapshot": {"type": "integer"},
            "record_id": _KW,
            "platform": _KW,
            "account": _KW,
            "included": {"type": "boolean"},
        },
    },
    "case-masks": {
        "dynamic": False,
        "properties": {"case_id": _KW, "record_id": _KW, "status": _KW, "start": {"type": "integer"}},
    },
    "case-media": {
        "dynamic": False,
        "properties": {"case_id": _KW, "media_sha256": _KW, "action": _KW},
    },
}


class CaseError(CommunisError):
    """A request case cannot do what was asked (unknown case, closed, unreviewed masks …)."""


def mask_id(case_id: str, mask: Mask) -> str:
    """The same span of the same field of the same record in one case is one mask, however often found."""
    key = f"{case_id}|{mask.record_id}|{mask.field}|{mask.start}|{mask.end}|{mask.kind.value}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class CaseBook:
    """Cases, snapshots and masks in three keyed indices under `prefix` (archive/index/keyed.py)."""

    def __init__(self, es: Client, prefix: str) -> None:
        self._docs = KeyedIndices(es, {name: f"{prefix}-{name}" for name in _MAPPINGS}, _MAPPINGS)
        self.names = self._docs.names

    def ensure(self) -> None:
        self._docs.ensure()

    def destroy(self) -> None:
        self._docs.destroy()

    # --- cases ---------------------------------------------------------------------------------

    def save(self, case: RequestCase) -> None:
        self._docs.put("cases", case.id, case.model_dump(mode="json"), action="save a request case")

    def get(self, case_id: str) -> RequestCase:
        found = self._docs.get("cases", case_id, action="read a request case")
        if found is None:
            raise CaseError(f"no request case {case_id!r}", hint="`communis request list` shows the cases")
        return RequestCase.model_validate(found)

    def cases(self, status: CaseStatus | None = None) -> list[RequestCase]:
        found = self._docs.first(
            "cases",
            newest_by="received_at",
            limit=1000,
            action="list request cases",
            status=status.value if status else None,
        )
        return [RequestCase.model_validate(doc) for doc in found]

    # --- snapshots -----------------------------------------------------------------------------

    def add_snapshot(self, entries: Iterable[SnapshotEntry]) -> int:
        return self._docs.put_many(
            "case-records", ((_entry_id(e), e.model_dump(mode="json")) for e in entries), action="freeze a snapshot"
        )

    def entries(self, case_id: str, snapshot: int) -> Iterator[SnapshotEntry]:
        """The snapshot's entries (in no particular order; callers sort)."""
        for doc in self._docs.every("case-records", action="read a snapshot", case_id=case_id, snapshot=snapshot):
            yield SnapshotEntry.model_validate(doc)

    def update_entry(self, entry: SnapshotEntry) -> None:
        self._docs.put(
            "case-records", _entry_id(entry), entry.model_dump(mode="json"), action="record a review decision"
        )

    def open_record_ids(self) -> set[str]:
        """Record ids in the latest snapshot of every open case: never to be disposed of (US-5)."""
        ids: set[str] = set()
        for case in self.cases(CaseStatus.OPEN):
            if case.snapshots:
                ids |= {e.record_id for e in self.entries(case.id, case.snapshots)}
        return ids

    # --- masks ---------------------------------------------------------------------------------

    def save_masks(self, case_id: str, masks: Iterable[Mask], *, keep_decided: bool = True) -> int:
        """Store masks; with `keep_decided`, a suggestion found again never undoes a decision."""
        decided = {mask_id(case_id, m) for m in self.masks(case_id) if m.status != "pending"} if keep_decided else set()
        docs = [
            (mid, {"case_id": case_id, **m.model_dump(mode="json")})
            for m in masks
            if (mid := mask_id(case_id, m)) not in decided
        ]
        return self._docs.put_many("case-masks", docs, action="save masks")

    def masks(self, case_id: str) -> list[Mask]:
        found = self._docs.every("case-masks", action="read masks", case_id=case_id)
        masks = [Mask.model_validate({k: v for k, v in doc.items() if k != "case_id"}) for doc in found]
        return sorted(masks, key=lambda m: (m.record_id, m.field, m.start))

    # --- media ---------------------------------------------------------------------------------

    def save_media_decision(self, case_id: str, decision: MediaDecision) -> None:
        """One decision per media file per case; deciding again replaces it (the audit log keeps each step)."""
        doc = {"case_id": case_id, **decision.model_dump(mode="json")}
        self._docs.put("case-media", f"{case_id}:{decision.media_sha256}", doc, action="save a media decision")

    def media_decisions(self, case_id: str) -> dict[str, MediaDecision]:
        """The case's media decisions by the file's SHA-256."""
        found = self._docs.every("case-media", action="read media decisions", case_id=case_id)
        decisions = [MediaDecision.model_validate({k: v for k, v in d.items() if k != "case_id"}) for d in found]
        return {d.media_sha256: d for d in decisions}


def _entry_id(entry: SnapshotEntry) -> str:
    return f"{entry.case_id}:{entry.snapshot}:{entry.record_id}"
