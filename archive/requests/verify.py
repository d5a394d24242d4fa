"""`communis request verify PACKAGE`: every hash in the bag, and every WARC record against the archive."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from ..errors import CommunisError
from ..index import RecordIndex
from ..package.bagit import verify_bag
from ..preservation.readback import fetch_verified
from ..store import BlobStore
from ..warc import iter_records

WARC = "data/internal/records.warc.gz"
HASHES = "data/internal/hash-report.csv"


def _members(path: Path) -> set[str]:
    """SHA-256 of each record's gzip member in the produced WARC file."""
    digests = set()
    with path.open("rb") as fh:
        for rec in iter_records(fh):
            fh_pos = fh.tell()
            fh.seek(rec.offset)
            digests.add(hashlib.sha256(fh.read(rec.length)).hexdigest())
            fh.seek(fh_pos)
    return digests


def verify_package(directory: Path, index: RecordIndex | None = None, store: BlobStore | None = None) -> list[str]:
    """Problems found, each naming the file (empty: the package is intact and matches the archive)."""
    problems = verify_bag(directory)
    warc, report = directory / WARC, directory / HASHES
    if not warc.is_file() or not report.is_file():
        return [*problems, f"{WARC} or {HASHES} is missing"]
    try:
        members = _members(warc)
    except (CommunisError, OSError, ValueError) as exc:
        return [*problems, f"{WARC}: not a readable WARC file ({exc})"]
    with report.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        rid = row["record_id"]
        if row["sha256_at_export"] not in members:
            problems.append(f"{WARC}: the WARC record of {rid} is not the one exported (SHA-256 differs)")
        if row["sha256_at_capture"] != row["sha256_at_export"]:
            problems.append(f"{HASHES}: {rid} changed between capture and export")
        if index is not None and store is not None:
            try:
                now = fetch_verified(index, store, rid).record.warc
            except CommunisError as exc:
                problems.append(f"{WARC}: {rid} cannot be checked against the archive: {exc.one_line()}")
                continue
            if now is None or now.sha256 != row["sha256_at_export"]:
                problems.append(f"{WARC}: {rid} no longer matches the archive's stored record")
    return problems
