"""WARC writing and reading: the files that are the source of truth."""

from __future__ import annotations

from .reader import RecordAt, iter_records, located_records, parse_one, verify_bytes
from .writer import FinalizedFile, PayloadLookup, WarcWriter, Written, disposal_group

__all__ = [
    "FinalizedFile",
    "PayloadLookup",
    "RecordAt",
    "WarcWriter",
    "Written",
    "disposal_group",
    "iter_records",
    "located_records",
    "parse_one",
    "verify_bytes",
]
