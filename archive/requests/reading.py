"""Reading a case's records back from storage fast: documents in batches, bytes grouped by file.

One range request per record is what `fetch_verified` does for a single record; for ten
thousand it is the slowest part of an export (an S3 round trip each, plus a HEAD). Here the
documents come by `mget`, and the records of one stored file are read in ascending order with
one ranged request per dense run of up to `SPAN_BYTES`. Every record is still checked exactly
as `fetch_verified` checks it: length, SHA-256 of the stored bytes, and the WARC-Record-ID.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from schemas import WarcLocation
from schemas.cases import SnapshotEntry

from ..errors import RecordNotFound, WarcError
from ..index import RecordIndex, queries
from ..store import BlobStore
from ..warc import parse_one, verify_bytes

BATCH = 500
SPAN_BYTES = 32 * 1024 * 1024
#: Read a run of records with one request when at least this share of the run's bytes is wanted.
DENSITY = 0.25


@dataclass(frozen=True)
class Verified:
    entry: SnapshotEntry
    document: dict[str, Any]
    location: WarcLocation
    data: bytes


def _runs(
    located: list[tuple[SnapshotEntry, dict[str, Any], WarcLocation]],
) -> Iterator[list[tuple[SnapshotEntry, dict[str, Any], WarcLocation]]]:
    """Records of one file (sorted by offset) cut into runs worth one ranged read each."""
    run: list[tuple[SnapshotEntry, dict[str, Any], WarcLocation]] = []
    for item in located:
        if run:
            start = run[0][2].offset
            end = item[2].offset + item[2].length
            wanted = sum(x[2].length for x in run) + item[2].length
            if end - start > SPAN_BYTES or wanted / (end - start) < DENSITY:
                yield run
                run = []
        run.append(item)
    if run:
        yield run


def read_verified(index: RecordIndex, store: BlobStore, entries: Iterable[SnapshotEntry]) -> Iterator[Verified]:
    """Each entry's document and stored WARC record bytes, verified; in file and offset order per batch."""
    batch: list[SnapshotEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH:
            yield from _batch(index, store, batch)
            batch = []
    if batch:
        yield from _batch(index, store, batch)


def _batch(index: RecordIndex, store: BlobStore, batch: list[SnapshotEntry]) -> Iterator[Verified]:
    found = queries.documents(index, [e.record_id for e in batch])
    by_file: dict[str, list[tuple[SnapshotEntry, dict[str, Any], WarcLocation]]] = defaultdict(list)
    for entry, doc in zip(batch, found, strict=True):
        if doc is None:
            raise RecordNotFound(f"record {entry.record_id} of the case is no longer in the index")
        if not doc.get("warc"):
            raise WarcError(f"record {entry.record_id} has no WARC location")
        by_file[doc["warc_key"]].append((entry, doc, WarcLocation.model_validate(doc["warc"])))
    for key in sorted(by_file):
        located = sorted(by_file[key], key=lambda x: x[2].offset)
        for run in _runs(located):
            start = run[0][2].offset
            blob = store.get_range(key, start, run[-1][2].offset + run[-1][2].length - start)
            for entry, doc, loc in run:
                data = blob[loc.offset - start : loc.offset - start + loc.length]
                verify_bytes(data, loc)
                if parse_one(data).record_id != loc.record_id:
                    raise WarcError(f"{key}@{loc.offset} does not hold {loc.record_id}")
                yield Verified(entry, doc, loc, data)
