"""Archived media bytes, read from the WARC record they were captured into (never the platform)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas import WarcLocation

from ..errors import RecordNotFound
from ..store import BlobStore
from ..warc import parse_one, verify_bytes
from ..warc.naming import warc_key


@dataclass(frozen=True)
class ArchivedMedia:
    content_type: str
    body: bytes
    sha256: str | None


def archived_media(store: BlobStore, document: dict[str, Any], n: int) -> ArchivedMedia:
    """The `n`th media file of a record as archived; RecordNotFound if it was never captured."""
    media = document.get("media") or []
    if not 0 <= n < len(media) or not media[n].get("warc"):
        raise RecordNotFound(f"record {document['record_id']} has no archived media #{n}")
    loc = WarcLocation.model_validate(media[n]["warc"])
    data = store.get_range(warc_key(document["account"], loc.filename), loc.offset, loc.length)
    verify_bytes(data, loc)
    parsed = parse_one(data)
    if parsed.warc_type != "response":
        raise RecordNotFound(
            f"media #{n} of record {document['record_id']} is a {parsed.warc_type} record without the file's bytes"
        )
    headers = parsed.record.http_headers
    ctype = (headers.get_header("Content-Type") if headers else None) or media[n].get("content_type")
    return ArchivedMedia(str(ctype or "application/octet-stream"), parsed.content, media[n].get("sha256"))
