"""Records ↔ index documents.

A document is the Record's JSON plus what the WARC file itself says about it (its storage
key and retention class) and a few derived filters. Everything in it can be recomputed from
the stored WARC files alone, which is what makes `communis reindex` exact.
"""

from __future__ import annotations

from typing import Any

from schemas import Record

EXTRA_FIELDS = ("warc_key", "retention_class", "has_media", "edited", "is_latest")


def to_document(record: Record, *, warc_key: str, retention_class: str) -> dict[str, Any]:
    doc = record.model_dump(mode="json")
    doc.update(
        warc_key=warc_key,
        retention_class=retention_class,
        has_media=bool(record.media),
        edited=record.edited_at is not None or record.version > 1,
    )
    return doc


def from_document(source: dict[str, Any]) -> Record:
    """The Record back from an index document (derived fields are checked by the model)."""
    return Record.model_validate({k: v for k, v in source.items() if k not in EXTRA_FIELDS})
