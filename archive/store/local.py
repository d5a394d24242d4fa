"""Local-directory blob store: the embedded default for a single machine.

A filesystem cannot enforce retention the way S3 Object Lock does, so this backend keeps
the promise it can: keys are never overwritten (hard-link publish fails if the key exists),
files are made read-only, and deleting before retain-until is refused by the code. Sites
that need enforced WORM use the S3 backend with Object Lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

from schemas import LockMode

from .. import clock
from ..durable import fsync_path
from ..errors import DigestMismatch, ObjectExists, ObjectLocked, ObjectMissing, StoreUnavailable
from ..faults import CrashPoint, armed, crash_point
from .base import StoredObject, must_extend, sha256_file

_META = ".meta.json"


def _copy_halfway_then_crash(src: Path, dst: Path) -> None:
    """The copy `put_file` makes, with the crash point after half of it (a test arms it)."""
    half = src.stat().st_size // 2
    with src.open("rb") as fin, dst.open("wb") as fout:
        fout.write(fin.read(half))
        fout.flush()
        crash_point(CrashPoint.STORE_MID_UPLOAD)
        shutil.copyfileobj(fin, fout)


class LocalStore:
    """Objects as files under a root directory, with a JSON sidecar for digest and retention."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or key.endswith(_META):
            raise ValueError(f"invalid key {key!r}")
        return path

    def _publish(
        self, key: str, tmp: Path, sha256: str, retain_until: datetime | None, lock_mode: LockMode | None
    ) -> StoredObject:
        """Sidecar, then object, each hard-linked into place (atomic, and refused if the name exists).

        A refused write touches nothing: the sidecar of an existing object (its retain-until and legal
        hold) is never rewritten, or a locked, held object would become deletable. A sidecar without
        its object (a put that crashed between the two links) is an orphan, and replaced."""
        path = self._path(key)
        side = Path(str(path) + _META)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "sha256": sha256,
            "retain_until": retain_until.isoformat() if retain_until else None,
            "lock_mode": lock_mode.value if lock_mode else None,
            "size": tmp.stat().st_size,
        }
        side_tmp = Path(str(tmp) + _META)
        side_tmp.write_text(json.dumps(meta))
        fsync_path(tmp, side_tmp)  # on disk before they get their names: the caller deletes its copy next
        exists = ObjectExists(f"{key} already exists in the local store; stored files are never replaced")
        try:
            if path.exists():
                raise exists
            try:
                os.link(side_tmp, side)
            except FileExistsError:
                if path.exists():
                    raise exists from None
                os.replace(side_tmp, side)  # the orphan of a crashed put
            try:
                os.link(tmp, path)  # atomic and fails if the key exists: never overwrite
            except FileExistsError as exc:
                raise exists from exc
        finally:
            tmp.unlink(missing_ok=True)
            side_tmp.unlink(missing_ok=True)
        path.chmod(0o444)
        fsync_path(path.parent)
        found = self.head(key)
        assert found is not None
        return found

    def _tmp(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        os.close(fd)
        return Path(name)

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
        if self._path(key).exists():
            raise ObjectExists(f"{key} already exists in the local store; stored files are never replaced")
        tmp = self._tmp()
        if armed(CrashPoint.STORE_MID_UPLOAD):
            _copy_halfway_then_crash(path, tmp)
        else:
            shutil.copyfile(path, tmp)
        if sha256_file(tmp) != sha256:
            tmp.unlink()
            raise DigestMismatch(f"{key}: the copy does not match SHA-256 {sha256}; nothing stored")
        return self._publish(key, tmp, sha256, retain_until, lock_mode)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        lock_mode: LockMode | None = None,
        content_type: str = "application/json",
    ) -> StoredObject:
        tmp = self._tmp()
        tmp.write_bytes(data)
        return self._publish(key, tmp, hashlib.sha256(data).hexdigest(), retain_until, lock_mode)

    def head(self, key: str) -> StoredObject | None:
        path = self._path(key)
        if not path.exists():
            return None
        meta = json.loads(Path(str(path) + _META).read_text())
        until = datetime.fromisoformat(meta["retain_until"]) if meta["retain_until"] else None
        mode = LockMode(meta["lock_mode"]) if meta["lock_mode"] else None
        return StoredObject(
            key,
            path.stat().st_size,
            meta["sha256"],
            until,
            mode,
            legal_hold=bool(meta.get("legal_hold")),
            location=str(path),
        )

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        with self.open(key) as fh:
            fh.seek(offset)
            return fh.read(length)

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(f"{key} is not in the local store") from exc

    def keys(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix
        start = base if base.is_dir() else base.parent
        if not start.exists():
            return
        for path in sorted(start.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if (
                path.is_file()
                and key.startswith(prefix)
                and not key.endswith(_META)
                and not path.name.startswith(".incoming-")
            ):
                yield key

    def delete(self, key: str) -> None:
        found = self.head(key)
        if found is None:
            raise ObjectMissing(f"{key} is not in the local store")
        if found.retain_until and found.retain_until > clock.now():
            raise ObjectLocked(f"{key} is retained until {found.retain_until:%Y-%m-%d}; refusing to delete")
        if found.legal_hold:
            raise ObjectLocked(f"{key} is under legal hold; refusing to delete")
        path = self._path(key)
        path.unlink()
        Path(str(path) + _META).unlink(missing_ok=True)

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Switch the legal-hold flag in the sidecar (the only part of an object that ever changes)."""
        path = self._path(key)
        side = Path(str(path) + _META)
        if not path.exists():
            raise ObjectMissing(f"{key} is not in the local store")
        meta = json.loads(side.read_text())
        meta["legal_hold"] = on
        tmp = Path(str(side) + ".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(side)

    def extend_retention(self, key: str, until: datetime) -> StoredObject:
        """A later retain-until in the sidecar; a shorter one is refused, as S3 Object Lock refuses it."""
        found = self.head(key)
        if found is None:
            raise ObjectMissing(f"{key} is not in the local store")
        if not must_extend(key, found, until):
            return found
        side = Path(str(self._path(key)) + _META)
        meta = json.loads(side.read_text())
        meta["retain_until"] = until.isoformat()
        meta["lock_mode"] = (found.lock_mode or LockMode.GOVERNANCE).value
        tmp = Path(str(side) + ".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(side)
        extended = self.head(key)
        assert extended is not None
        return extended

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self._tmp()
            probe.unlink()
        except OSError as exc:
            raise StoreUnavailable(
                f"local store {self.root} is not writable: {exc.strerror}",
                hint="set COMMUNIS_STORE_PATH to a writable directory",
            ) from exc
