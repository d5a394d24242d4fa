"""Record versions: only changed content becomes a new version; unchanged items are dropped.

An item's identity is its id on the platform; its content hash decides whether what the
connector saw is a new version. Versions are numbered per item. Everything here changes a
*pending* copy of the state, which the service saves only after the WARC files are stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from schemas import CaptureBundle, HarvestState, KnownItem, Record

from ..bundles import Rejected


@dataclass
class VersionCounts:
    new: int = 0
    edited: int = 0
    deleted: int = 0
    unchanged: int = 0
    comments: int = 0
    media: int = 0


@dataclass
class Versioner:
    """Filters connector output to new versions and keeps the pending known-items table."""

    state: HarvestState
    now: datetime
    known: dict[str, KnownItem] = field(init=False)
    counts: VersionCounts = field(default_factory=VersionCounts)

    def __post_init__(self) -> None:
        self.known = dict(self.state.known)

    def apply(self, record: Record) -> Record | None:
        """The record as a new version, or None if that content is already archived."""
        previous = self.known.get(record.item_id)
        if previous is not None and previous.content_sha256 == record.content_sha256:
            self.known[record.item_id] = previous.model_copy(update={"last_seen": self.now})
            self.counts.unchanged += 1
            return None
        version = previous.version + 1 if previous else 1
        first_seen = previous.first_seen if previous else (record.first_seen_at or record.captured_at)
        versioned = record.model_copy(update={"version": version, "first_seen_at": first_seen})
        self.remember(versioned)
        if record.deleted:
            self.counts.deleted += 1
        elif previous is None:
            self.counts.new += 1
        else:
            self.counts.edited += 1
        if record.kind.value in ("comment", "reply"):
            self.counts.comments += 1
        return versioned

    def remember(self, record: Record) -> None:
        previous = self.known.get(record.item_id)
        self.known[record.item_id] = KnownItem(
            content_sha256=record.content_sha256,
            record_id=record.record_id,
            version=record.version,
            kind=record.kind.value,
            direction=record.direction.value,
            parent_id=record.parent_id,
            thread_id=record.thread_id,
            url=record.url,
            first_seen=previous.first_seen if previous else (record.first_seen_at or record.captured_at),
            last_seen=self.now,
            published_at=record.published_at,
            deleted=record.deleted,
        )

    def filter(self, items: Iterable[CaptureBundle | Rejected]) -> Iterator[CaptureBundle | Rejected]:
        """Pass captures on with only their new record versions (the raw capture is always kept)."""
        for item in items:
            if isinstance(item, Rejected):
                yield item
                continue
            if item.is_media:
                self.counts.media += 1
            kept = [v for v in (self.apply(r) for r in item.records) if v is not None]
            yield item if kept == item.records else item.model_copy(update={"records": kept})
