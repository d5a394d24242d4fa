"""The S3 store against real MinIO: checksums, multipart, Object Lock, ranges, no overwrite."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.config import Settings
from archive.errors import DigestMismatch, ObjectExists, ObjectLocked, ObjectMissing
from archive.store import LocalStore, S3Store, open_disposal_store, open_store
from schemas import LockMode


def disposal(settings: Settings) -> S3Store:
    """The store as the disposal role, the one that may delete versions (docs/security.md)."""
    found = open_disposal_store(settings)
    assert isinstance(found, S3Store)
    return found


def _file(tmp_path: Path, size: int) -> tuple[Path, str]:
    path = tmp_path / "blob.bin"
    data = os.urandom(size)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_multipart_upload_is_checked_locked_and_readable_by_range(s3_settings: Settings, tmp_path: Path) -> None:
    store = open_store(s3_settings.model_copy(update={"s3_multipart_threshold": 5 * 1024 * 1024}))
    assert isinstance(store, S3Store)
    path, digest = _file(tmp_path, 12 * 1024 * 1024 + 7)
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    stored = store.put_file("warc/x/big.warc.gz", path, digest, retain_until=until, lock_mode=LockMode.GOVERNANCE)
    assert stored.sha256 == digest and stored.size == path.stat().st_size
    assert stored.retain_until == until and stored.lock_mode is LockMode.GOVERNANCE
    data = path.read_bytes()
    assert store.get_range("warc/x/big.warc.gz", 9 * 1024 * 1024, 100) == data[9 * 1024 * 1024 : 9 * 1024 * 1024 + 100]
    with pytest.raises(ObjectLocked, match="WORM protected"):
        disposal(s3_settings).delete("warc/x/big.warc.gz")


def test_wrong_checksum_is_refused_by_the_server(s3_settings: Settings, tmp_path: Path) -> None:
    store = open_store(s3_settings)
    path, _ = _file(tmp_path, 1000)
    with pytest.raises(DigestMismatch):
        store.put_file("warc/x/bad.warc.gz", path, "0" * 64)
    assert store.head("warc/x/bad.warc.gz") is None


def test_unlocked_object_can_be_deleted_and_legal_hold_blocks_it(s3_settings: Settings, tmp_path: Path) -> None:
    store = open_store(s3_settings)
    assert isinstance(store, S3Store)
    deleter = disposal(s3_settings)
    store.put_bytes("manifest/x/free.json", b"{}")
    with pytest.raises(ObjectLocked, match="AccessDenied"):  # only the disposal role deletes versions
        store.delete("manifest/x/free.json")
    deleter.delete("manifest/x/free.json")
    assert store.head("manifest/x/free.json") is None
    with pytest.raises(ObjectMissing):
        deleter.delete("manifest/x/free.json")
    store.put_bytes("manifest/x/held.json", b"{}")
    store.set_legal_hold("manifest/x/held.json", True)
    assert store.head("manifest/x/held.json").legal_hold  # type: ignore[union-attr]
    with pytest.raises(ObjectLocked, match="WORM protected"):
        deleter.delete("manifest/x/held.json")
    store.set_legal_hold("manifest/x/held.json", False)
    deleter.delete("manifest/x/held.json")


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_keys_are_never_overwritten(
    backend: str, settings: Settings, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    chosen = settings if backend == "local" else request.getfixturevalue("s3_settings")
    store = open_store(chosen)
    store.put_bytes("manifest/x/once.json", b'{"v":1}')
    with pytest.raises(ObjectExists):
        store.put_bytes("manifest/x/once.json", b'{"v":2}')
    with store.open("manifest/x/once.json") as fh:
        assert fh.read() == b'{"v":1}'
    assert list(store.keys("manifest/x/")) == ["manifest/x/once.json"]


def test_local_store_refuses_early_delete(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("warc/a/f.warc.gz", b"x", retain_until=datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(ObjectLocked):
        store.delete("warc/a/f.warc.gz")
    store.put_bytes("warc/a/g.warc.gz", b"x", retain_until=datetime.now(UTC) - timedelta(days=1))
    store.delete("warc/a/g.warc.gz")
