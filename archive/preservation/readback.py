"""Reading one record version back with proof: index document → stored WARC bytes → digest.

This is what `communis show` and `communis warc` stand on: the index says where the record
is; the bytes are fetched from the store by range and must hash to the recorded SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas import Record, WarcLocation

from ..errors import WarcError
from ..index import RecordIndex, from_document
from ..store import BlobStore, StoredObject
from ..warc import RecordAt, parse_one, verify_bytes
from ..warc.naming import warc_key


@dataclass(frozen=True)
class VerifiedRecord:
    """A record version, its document, and its WARC record bytes checked against the digest."""

    record: Record
    document: dict[str, Any]
    warc_bytes: bytes
    warc_record: RecordAt
    stored: StoredObject | None


def read_location(store: BlobStore, account: str, location: WarcLocation) -> RecordAt:
    """The WARC record at `location` in the account's stored files, read by range and checked against its
    SHA-256 and record id: a published count's evidence (schemas.CountReading.warc), or any record's."""
    key = warc_key(account, location.filename)
    data = store.get_range(key, location.offset, location.length)
    verify_bytes(data, location)
    parsed = parse_one(data)
    if parsed.record_id != location.record_id:
        raise WarcError(f"{key}@{location.offset} holds {parsed.record_id}, expected {location.record_id}")
    return parsed


def fetch_verified(index: RecordIndex, store: BlobStore, record_id: str) -> VerifiedRecord:
    document = index.get(record_id)
    record = from_document(document)
    if record.warc is None:
        raise WarcError(f"record {record_id} has no WARC location")
    key = document["warc_key"]
    data = store.get_range(key, record.warc.offset, record.warc.length)
    verify_bytes(data, record.warc)
    parsed = parse_one(data)
    if parsed.record_id != record.warc.record_id:
        raise WarcError(f"{key}@{record.warc.offset} holds {parsed.record_id}, expected {record.warc.record_id}")
    return VerifiedRecord(record, document, data, parsed, store.head(key))


def fetch_location(store: BlobStore, account: str, location: WarcLocation) -> bytes:
    """The stored bytes of one WARC record of `account` named by its location alone (the evidence of a
    published count is a listing or profile response, not a record version in the index), checked like
    `fetch_verified`: length, SHA-256, and the WARC-Record-ID the location names."""
    key = warc_key(account, location.filename)
    data = store.get_range(key, location.offset, location.length)
    verify_bytes(data, location)
    parsed = parse_one(data)
    if parsed.record_id != location.record_id:
        raise WarcError(f"{key}@{location.offset} holds {parsed.record_id}, expected {location.record_id}")
    return data
