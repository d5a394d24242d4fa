"""Where a record came from, and proof that the stored bytes are still what was written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from ..errors import CommunisError
from ..index import RecordIndex
from ..preservation.readback import fetch_verified
from ..store import BlobStore


class Provenance(BaseModel):
    """The provenance panel: WARC file and byte range, digests, capture, storage and lock."""

    record_id: str
    warc_key: str | None
    warc_file: str | None
    offset: int | None
    length: int | None
    warc_record_id: str | None
    sha256: str | None
    content_sha256: str | None
    captured_at: str | None
    source_url: str | None
    retention_class: str | None
    location: str | None = None
    retain_until: datetime | None = None
    lock_mode: str | None = None
    legal_hold: bool | None = None


class VerifyResult(BaseModel):
    """The outcome of re-reading a record's WARC bytes from storage and checking the digest."""

    record_id: str
    ok: bool
    message: str
    sha256: str | None = None
    checked_at: datetime


def provenance_of(store: BlobStore, document: dict[str, Any]) -> Provenance:
    """The panel's facts; storage facts come from a HEAD on the WARC file (no bytes are read)."""
    loc = document.get("warc") or {}
    prov = Provenance(
        record_id=document["record_id"],
        warc_key=document.get("warc_key"),
        warc_file=loc.get("filename"),
        offset=loc.get("offset"),
        length=loc.get("length"),
        warc_record_id=loc.get("record_id"),
        sha256=loc.get("sha256"),
        content_sha256=document.get("content_sha256"),
        captured_at=document.get("captured_at"),
        source_url=document.get("source_url"),
        retention_class=document.get("retention_class"),
    )
    key = document.get("warc_key")
    stored = store.head(key) if key else None
    if stored is not None:
        prov.location = stored.location or key
        prov.retain_until = stored.retain_until
        prov.lock_mode = stored.lock_mode.value if stored.lock_mode else None
        prov.legal_hold = stored.legal_hold
    return prov


def verify_record(index: RecordIndex, store: BlobStore, record_id: str, *, now: datetime) -> VerifyResult:
    """Read the record's byte range from storage, hash it and parse it: ok, or why not."""
    try:
        verified = fetch_verified(index, store, record_id)
    except CommunisError as exc:
        return VerifyResult(record_id=record_id, ok=False, message=exc.one_line(), checked_at=now)
    loc = verified.record.warc
    assert loc is not None  # fetch_verified refuses records without a location
    return VerifyResult(
        record_id=record_id,
        ok=True,
        sha256=loc.sha256,
        checked_at=now,
        message=f"{len(verified.warc_bytes)} bytes at {loc.filename}@{loc.offset} match SHA-256 "
        f"{loc.sha256} and hold WARC record {loc.record_id}",
    )
