"""Reading WARC files and single records back, with digest verification.

A record version is addressed by (file, offset, length); the bytes in that range are one
gzip member, so a record can be fetched by an HTTP range request and parsed on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from schemas import Record, WarcLocation

from ..errors import DigestMismatch, WarcError
from .records import METADATA_CONTENT_TYPE, parse_records_json


@dataclass
class RecordAt:
    """A parsed WARC record with its place in the file and the SHA-256 of its stored bytes."""

    record: ArcWarcRecord
    offset: int
    length: int
    content: bytes

    @property
    def warc_type(self) -> str:
        return str(self.record.rec_type)

    @property
    def record_id(self) -> str:
        return str(self.record.rec_headers.get_header("WARC-Record-ID"))


def iter_records(stream: IO[bytes]) -> Iterator[RecordAt]:
    """Every record of a WARC stream with its offset and stored length."""
    it = ArchiveIterator(stream, check_digests=True)
    for record in it:
        content = record.content_stream().read()
        if record.digest_checker.passed is False:
            raise WarcError(
                f"digest check failed at offset {it.get_record_offset()}: {'; '.join(record.digest_checker.problems)}"
            )
        it.read_to_end(record)
        yield RecordAt(record, it.get_record_offset(), it.get_record_length(), content)


def located_records(stream: IO[bytes], filename: str) -> Iterator[Record]:
    """The normalized Records of a WARC file, from its metadata records alone."""
    for rec in iter_records(stream):
        if rec.warc_type == "metadata" and rec.record.rec_headers.get_header("Content-Type") == METADATA_CONTENT_TYPE:
            try:
                yield from parse_records_json(rec.content)
            except ValueError as exc:
                raise WarcError(f"{filename}: bad record set at offset {rec.offset}: {exc}") from exc


def verify_bytes(data: bytes, location: WarcLocation) -> None:
    """Raise DigestMismatch unless `data` is exactly the stored record at `location`."""
    actual = hashlib.sha256(data).hexdigest()
    if len(data) != location.length or actual != location.sha256:
        raise DigestMismatch(
            f"{location.filename}@{location.offset}: stored bytes have SHA-256 {actual[:16]}…, "
            f"expected {location.sha256[:16]}…",
            hint="the stored copy is damaged; restore it from a replica and run fixity",
        )


def parse_one(data: bytes) -> RecordAt:
    """Parse the single record held in `data` (one gzip member), checking its digests."""
    records = list(iter_records(BytesIO(data)))
    if len(records) != 1:
        raise WarcError(f"expected one WARC record, found {len(records)}")
    return records[0]
