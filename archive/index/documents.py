"""Records → index documents, serialized once.

A document is the Record's JSON plus what the WARC file itself says about it (its storage
key and retention class) and a few derived filters. Everything in it can be recomputed from
the stored WARC files alone, which is what makes `communis reindex` exact.

The JSON of a record is produced once by pydantic-core when the metadata record is written
and the same bytes become the document (`_source` as bytes passes through the official bulk
helpers untouched), so no record is serialized twice on the way to the index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from schemas import Record

#: Document fields that are not Record fields (from_document drops them).
EXTRA_FIELDS = ("warc_key", "retention_class", "department", "has_media", "edited", "is_latest", "legal_holds")


@dataclass(frozen=True)
class Document:
    """One index document: its id, what decides the latest version, and its JSON source."""

    record_id: str
    item_key: str
    captured_at: datetime
    version: int
    source: bytes

    def as_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.source))


def to_document(
    record: Record,
    *,
    warc_key: str,
    retention_class: str,
    record_json: bytes | None = None,
    department: str | None = None,
) -> Document:
    """The index document of a record; `department` is the owning account's, when known."""
    body = record_json if record_json is not None else record.to_json_bytes()
    edited = not record.deleted and (record.edited_at is not None or record.version > 1)  # a tombstone is no edit
    # is_latest starts true and is corrected by the indexer when a newer version is known.
    extra = b'"has_media":%s,"edited":%s,"is_latest":true,' % (_BOOL[bool(record.media)], _BOOL[edited])
    if department is not None:
        extra += b'"department":%s,' % json.dumps(department, ensure_ascii=False).encode("utf-8")
    return Document(
        record.record_id,
        record.item_key,
        record.captured_at,
        record.version,
        body[:-1] + b"," + extra + _file_fields(warc_key, retention_class) + b"}",
    )


_BOOL = {True: b"true", False: b"false"}


@lru_cache(maxsize=64)
def _file_fields(warc_key: str, retention_class: str) -> bytes:
    return json.dumps({"warc_key": warc_key, "retention_class": retention_class}, ensure_ascii=False).encode("utf-8")[
        1:-1
    ]


def from_document(source: dict[str, Any]) -> Record:
    """The Record back from an index document (derived fields are checked by the model)."""
    return Record.model_validate({k: v for k, v in source.items() if k not in EXTRA_FIELDS})
