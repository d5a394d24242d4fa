"""The blob store interface: write-once objects, range reads, retention.

Storage knows nothing about platforms or WARC: it keeps bytes under keys, never overwrites
a key, and records the SHA-256 and retain-until date it was given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from schemas import LockMode

from ..errors import DigestMismatch, ObjectLocked

CONTROL_LOCK_YEARS = 10
"""How long the write-once control objects (holds, disposition lists, approvals, execution journals,
certificates) are locked; they are small, and the decisions they record are evidence themselves."""


@dataclass(frozen=True)
class StoredObject:
    """What the store knows about one object."""

    key: str
    size: int
    sha256: str | None
    retain_until: datetime | None
    lock_mode: LockMode | None
    legal_hold: bool = False
    version_id: str | None = None
    location: str = ""


@runtime_checkable
class BlobStore(Protocol):
    """A write-once object store."""

    name: str

    def put_file(
        self,
        key: str,
        path: Path,
        sha256: str,
        *,
        retain_until: datetime | None = None,
        lock_mode: LockMode | None = None,
        content_type: str = "application/octet-stream",
    ) -> StoredObject:
        """Store the file under `key`; refuse if the key exists; verify `sha256` on arrival."""
        ...

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        lock_mode: LockMode | None = None,
        content_type: str = "application/json",
    ) -> StoredObject: ...

    def head(self, key: str) -> StoredObject | None: ...

    def get_range(self, key: str, offset: int, length: int) -> bytes: ...

    def open(self, key: str) -> IO[bytes]:
        """A readable stream of the whole object (for reindex and fixity)."""
        ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def delete(self, key: str) -> None:
        """Delete every version of `key`; raises ObjectLocked while retention or a hold applies."""
        ...

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Switch the object's legal hold on or off (S3 Object Lock legal hold; no expiry)."""
        ...

    def extend_retention(self, key: str, until: datetime) -> StoredObject:
        """Move the object's retain-until to `until`, never earlier: a shorter date raises ObjectLocked.

        Keeps the object's lock mode (GOVERNANCE if it had none). The same date is a no-op.
        """
        ...

    def check(self) -> None:
        """Raise a StoreError naming the problem if the store cannot be used."""
        ...


def sha256_file(path: Path, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_digest(key: str, data: bytes, expected: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DigestMismatch(f"{key}: SHA-256 {actual} does not match expected {expected}")


def must_extend(key: str, found: StoredObject, until: datetime) -> bool:
    """Whether moving `found`'s retain-until to `until` changes anything; a shorter date raises ObjectLocked.

    The one place the rule "a retention period is never shortened" is written, for every store:
    S3 Object Lock refuses it in COMPLIANCE mode, and in GOVERNANCE mode only a bypass could, which
    Communis never asks for; the local store keeps the same promise in its sidecar.
    """
    if found.retain_until is None or until > found.retain_until:
        return True
    if until < found.retain_until:
        raise ObjectLocked(
            f"{key} is retained until {found.retain_until:%Y-%m-%d %H:%M} UTC; a retention "
            f"period is never shortened (asked for {until:%Y-%m-%d %H:%M} UTC)"
        )
    return False


def control_lock_until(now: datetime | None = None) -> datetime:
    """The retain-until of a control object stored `now`: CONTROL_LOCK_YEARS ahead."""
    return (now or datetime.now(UTC)).astimezone(UTC) + timedelta(days=365 * CONTROL_LOCK_YEARS)


def put_control(
    store: BlobStore, key: str, data: bytes, *, content_type: str = "application/json", now: datetime | None = None
) -> StoredObject:
    """Store a write-once control object locked in COMPLIANCE mode for CONTROL_LOCK_YEARS: not even the
    S3 root user can delete or replace it before then, so a hold, an approval or a journal entry cannot
    be quietly taken back. ObjectExists if the key is taken (a rerun)."""
    return store.put_bytes(
        key, data, retain_until=control_lock_until(now), lock_mode=LockMode.COMPLIANCE, content_type=content_type
    )


def put_control_file(
    store: BlobStore, key: str, path: Path, *, content_type: str = "application/json", now: datetime | None = None
) -> StoredObject:
    """`put_control` of a file's bytes, for control objects too large to hold in memory (a disposition
    list of a million records): one write-once put (multipart on S3 above its threshold), the same lock."""
    return store.put_file(
        key,
        path,
        sha256_file(path),
        retain_until=control_lock_until(now),
        lock_mode=LockMode.COMPLIANCE,
        content_type=content_type,
    )
