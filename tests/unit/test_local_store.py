"""LocalStore keeps its write-once promise when a second write to a key is refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.errors import ObjectExists, ObjectLocked
from archive.store import LocalStore
from schemas import LockMode


def test_refused_second_write_leaves_a_locked_held_object_and_its_sidecar_untouched(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    key = "warc/acct/file.warc.gz"
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3650)
    store.put_bytes(key, b"the record", retain_until=until, lock_mode=LockMode.COMPLIANCE)
    store.set_legal_hold(key, True)

    with pytest.raises(ObjectExists):
        store.put_bytes(key, b"something else")  # no retention, no hold: must change nothing
    source = tmp_path / "other.bin"
    source.write_bytes(b"a third body")
    with pytest.raises(ObjectExists):
        store.put_file(key, source, hashlib.sha256(b"a third body").hexdigest())

    found = store.head(key)
    assert found is not None
    assert found.retain_until == until and found.lock_mode is LockMode.COMPLIANCE and found.legal_hold
    assert found.sha256 == hashlib.sha256(b"the record").hexdigest()
    assert store.open(key).read() == b"the record"
    with pytest.raises(ObjectLocked):
        store.delete(key)
    assert not [p for p in (tmp_path / "store").iterdir() if p.name.startswith(".incoming-")]


def test_an_orphan_sidecar_of_a_crashed_put_does_not_block_the_retry(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    key = "manifest/acct/file.json"
    orphan = tmp_path / "store" / (key + ".meta.json")
    orphan.parent.mkdir(parents=True)
    orphan.write_text('{"sha256": "0", "retain_until": null, "lock_mode": null, "size": 0}')
    assert store.head(key) is None and list(store.keys("manifest/")) == []
    stored = store.put_bytes(key, b"{}")
    assert stored.sha256 == hashlib.sha256(b"{}").hexdigest() and stored.size == 2
