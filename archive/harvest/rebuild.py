"""Rebuilding the harvest table from the record index, which is itself rebuilt from the WARC files.

The WARC files are the source of truth (docs/design.md, principle 1): a reindex rebuilds the record
index from them, and then this rebuilds what the harvest knows of each item (its latest version)
and of each media file (its SHA-256 and WARC record) from the latest record versions. What the
records do not hold is not invented: the connectors' cursors (the next run of an account without one
re-reads its listings, and recognises every version already archived), the activity markers (a
known item without one has its thread read again once: `HarvestContext.marker_changed`) and the
revisit targets (the next identical response is stored in full once more).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..index import RecordIndex, from_document, queries
from ..index.harvest_table import HarvestTable
from ..preservation.reindex import ReindexReport, reindex
from ..store import BlobStore
from .items import item_fields
from .versions import known_of


@dataclass
class RebuildReport:
    items: int = 0
    media: int = 0


def rebuild_table(index: RecordIndex) -> RebuildReport:
    """Write every item's latest version and every archived media file into the table (a merge: the
    documents of a table that survived keep their markers)."""
    table = HarvestTable.beside(index)
    report = RebuildReport()
    media: list[tuple[str, str, dict[str, Any]]] = []
    locations: list[tuple[str, str, dict[str, Any]]] = []

    def items() -> Iterator[tuple[str, str, dict[str, Any]]]:
        for doc in queries.latest_versions(index):
            record = from_document(doc)
            for ref in record.media:
                if ref.sha256:
                    media.append((record.account, ref.url, {"url": ref.url, "sha256": ref.sha256}))
                    if ref.warc is not None:
                        locations.append((record.account, ref.sha256, {"location": ref.warc.model_dump(mode="json")}))
            yield record.account, record.item_id, item_fields(record.item_id, known_of(record, record.captured_at))
            if len(media) >= 1000:
                report.media += table.upsert_across("media", media)
                table.upsert_across("mloc", locations)
                media.clear()
                locations.clear()

    report.items = table.upsert_across("item", items())
    report.media += table.upsert_across("media", media)
    table.upsert_across("mloc", locations)
    table.refresh()
    return report


def reindex_all(store: BlobStore, index: RecordIndex, *, drop: bool = True, **kwargs: Any) -> ReindexReport:
    """Rebuild the record index from the WARC files (preservation/reindex.py), then the harvest table from it."""
    report = reindex(store, index, drop=drop, **kwargs)
    rebuild_table(index)
    return report
