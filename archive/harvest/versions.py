"""Record versions: only changed content becomes a new version; unchanged items are dropped.

An item's identity is its id on the platform; its content hash decides whether what the
connector saw is a new version. Versions are numbered per item. What earlier runs archived is
asked of the harvest table (`ItemLookup`); what this run decides is kept *pending* (in the run's
scratch file), and the service writes it to the table only after the WARC files are stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime

from schemas import CaptureBundle, KnownItem, Record

from ..bundles import Rejected
from ..connectors.base import ItemLookup


@dataclass
class VersionCounts:
    new: int = 0
    edited: int = 0
    deleted: int = 0
    unchanged: int = 0
    comments: int = 0
    media: int = 0
    moderation: int = 0
    """New versions of the account's moderation lists (archive/connectors/moderation.py): counted apart from
    new and edited items, which are what the platform published."""


@dataclass
class Versioner:
    """Filters connector output to new versions and keeps the pending known items (`pending`:
    item id → KnownItem JSON, this run's; `earlier`: what the table says of the others)."""

    earlier: ItemLookup
    now: datetime
    pending: MutableMapping[str, str] = field(default_factory=dict)
    counts: VersionCounts = field(default_factory=VersionCounts)

    def current(self, item_id: str) -> KnownItem | None:
        """The item's latest version: this run's if it made or saw one, else the table's."""
        mine = self.pending.get(item_id)
        return KnownItem.model_validate_json(mine) if mine is not None else self.earlier.known(item_id)

    def apply(self, record: Record) -> Record | None:
        """The record as a new version, or None if that content is already archived."""
        previous = self.current(record.item_id)
        if previous is not None and previous.content_sha256 == record.content_sha256:
            self.pending[record.item_id] = previous.model_copy(update={"last_seen": self.now}).model_dump_json()
            self.counts.unchanged += 1
            return None
        version = previous.version + 1 if previous else 1
        first_seen = previous.first_seen if previous else (record.first_seen_at or record.captured_at)
        versioned = record.model_copy(update={"version": version, "first_seen_at": first_seen})
        self.remember(versioned)
        if record.kind.value == "moderation":
            self.counts.moderation += 1
        elif record.deleted:
            self.counts.deleted += 1
        elif previous is None:
            self.counts.new += 1
        else:
            self.counts.edited += 1
        if record.kind.value in ("comment", "reply"):
            self.counts.comments += 1
        return versioned

    def remember(self, record: Record) -> None:
        """The record is the item's latest version (made now, or found stored by a crashed run)."""
        self.pending[record.item_id] = known_of(record, self.now, self.current(record.item_id)).model_dump_json()

    def filter(self, items: Iterable[CaptureBundle | Rejected]) -> Iterator[CaptureBundle | Rejected]:
        """Pass captures on with only their new record versions (the raw capture is always kept)."""
        for item in items:
            if isinstance(item, Rejected):
                yield item
                continue
            if item.is_media:
                self.counts.media += 1
            self.earlier.prefetch(r.item_id for r in item.records if r.item_id not in self.pending)
            kept = [v for v in (self.apply(r) for r in item.records) if v is not None]
            yield item if kept == item.records else item.model_copy(update={"records": kept})


def known_of(record: Record, seen: datetime, previous: KnownItem | None = None) -> KnownItem:
    """What the harvest keeps of an item whose latest version is `record`, last seen at `seen`."""
    return KnownItem(
        content_sha256=record.content_sha256,
        record_id=record.record_id,
        version=record.version,
        kind=record.kind.value,
        direction=record.direction.value,
        parent_id=record.parent_id,
        thread_id=record.thread_id,
        url=record.url,
        first_seen=previous.first_seen if previous else (record.first_seen_at or record.captured_at),
        last_seen=seen,
        published_at=record.published_at,
        deleted=record.deleted,
    )
