"""`communis request verify PACKAGE`: every hash in the bag, every WARC record against the archive, and the delivery.

The delivery beside a package (production.py) must be its release copy and nothing else: the same
files with the same digests, so what the requester got is exactly what the package records as
released, and no internal file slipped into it.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from ..errors import CommunisError
from ..index import RecordIndex
from ..package.bagit import read_manifest, verify_bag
from ..preservation.readback import fetch_verified
from ..store import BlobStore
from ..warc import iter_records
from .layout import delivery_path

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


def _delivery_problems(directory: Path) -> list[str]:
    """The delivery's problems: its own bag's, and every file that differs from the package's `release/`."""
    delivery = delivery_path(directory)
    if not delivery.is_dir():
        return []
    name = delivery.name
    problems = [f"{name}: {p}" for p in verify_bag(delivery)]
    ours, found = read_manifest(directory / "manifest-sha256.txt")
    theirs, more = read_manifest(delivery / "manifest-sha256.txt")
    released = {p.removeprefix("data/release/"): d for p, d in ours.items() if p.startswith("data/release/")}
    delivered = {p.removeprefix("data/"): d for p, d in theirs.items()}
    problems += [f"{name}: {p}" for p in found + more]
    for path in sorted(set(released) | set(delivered)):
        if path not in delivered:
            problems.append(f"{name}: data/{path} of the release copy is missing")
        elif path not in released:
            problems.append(f"{name}: data/{path} is not part of the release copy")
        elif released[path] != delivered[path]:
            problems.append(f"{name}: data/{path} differs from the release copy (SHA-256)")
    return problems


def verify_package(directory: Path, index: RecordIndex | None = None, store: BlobStore | None = None) -> list[str]:
    """Problems found, each naming the file (empty: the package is intact, matches the archive and its delivery)."""
    problems = verify_bag(directory) + _delivery_problems(directory)
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
