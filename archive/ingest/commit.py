"""Committing a finalized WARC file: stored write-once, its manifest beside it, its records indexed.

Order matters (docs/design.md, principles 1 and 2): the file is stored before any of its records is
indexed, and it leaves the work folder only after both. If the store or the index is down the
file stays in the work folder with its manifest beside it, the run goes on capturing, and the
next run commits it first (recovery.py). What else must happen to a committed file (legal holds
on its records, the PREMIS event of its arrival) is handed in as after-commit steps, so this
module knows nothing of holds or preservation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from schemas import Record, RetentionClass, WarcFileManifest

from ..config import Settings
from ..errors import DigestMismatch, IndexUnavailable, ObjectExists, StoreUnavailable
from ..faults import CrashPoint, crash_point
from ..index import RecordIndex, to_document
from ..store import BlobStore
from ..warc import FinalizedFile
from ..warc.naming import manifest_key
from .report import IngestReport
from .workdir import sidecar_path, write_manifest

log = logging.getLogger(__name__)


class AfterCommit(Protocol):
    """A step run for each file once it is stored and its records indexed (the count of its records)."""

    def __call__(self, manifest: WarcFileManifest, records: int) -> None: ...


class Committer:
    """Stores and indexes finalized files in order, on one background thread.

    One committer thread keeps files in order; Elasticsearch and S3 work in other processes, so
    committing file N overlaps their time with writing file N+1 here.
    """

    def __init__(
        self,
        settings: Settings,
        store: BlobStore,
        index: RecordIndex,
        work_dir: Path,
        report: IngestReport,
        class_by_name: Callable[[str], RetentionClass],
        after_commit: Sequence[AfterCommit] = (),
    ) -> None:
        self.settings, self.store, self.index = settings, store, index
        self.work_dir, self.report = work_dir, report
        self.class_by_name = class_by_name
        self.after_commit = list(after_commit)
        self.unavailable: StoreUnavailable | IndexUnavailable | None = None
        """The first outage met: files are kept for the next run, and the run ends with this error."""
        self._index_ready = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self._pending: list[Future[None]] = []

    def save_manifest(self, manifest: WarcFileManifest) -> Path:
        """The sidecar beside the file, written atomically (workdir.write_manifest)."""
        return write_manifest(self.work_dir, manifest)

    def submit(self, done: FinalizedFile) -> None:
        """Commit in the background so the next file is written while this one is stored and indexed."""
        self.save_manifest(done.manifest)
        self._pending.append(self._thread.submit(self.commit, done))

    def wait(self, raise_errors: bool = True) -> None:
        """Until every submitted file is committed; the first failure is raised (unless told not to)."""
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        first = next((e for e in errors if e is not None), None)
        if first is not None and raise_errors:
            raise first

    def raise_if_deferred(self) -> None:
        """Capturing goes on while a service is down; the run still ends loudly."""
        if self.unavailable is not None:
            count = len(self.report.deferred)
            raise type(self.unavailable)(
                f"{self.unavailable}; {count} finalized WARC file(s) kept in {self.work_dir} for the next run",
                hint=self.unavailable.hint,
            ) from self.unavailable

    def commit(self, done: FinalizedFile, records: list[Record] | None = None) -> None:
        """Store and index; if a service is down keep the file for the next run and go on."""
        sidecar = sidecar_path(self.work_dir, done.manifest.name)
        if not sidecar.exists():
            self.save_manifest(done.manifest)
        try:
            self._store_and_index(done, records)
        except (StoreUnavailable, IndexUnavailable) as exc:
            log.error("%s; keeping %s for the next run", exc, done.path)
            self.unavailable = exc
            self.report.deferred.append(done.manifest.name)
            return
        crash_point(CrashPoint.INDEX_AFTER_BULK)
        done.path.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)

    def _store(self, manifest: WarcFileManifest, path: Path) -> None:
        """The file write-once with the lock of its class, then its manifest; a rerun finds them stored."""
        mode = self.settings.lock_mode or self.class_by_name(manifest.retention_class).lock_mode
        crash_point(CrashPoint.STORE_BEFORE_UPLOAD)
        try:
            self.store.put_file(
                manifest.key,
                path,
                manifest.sha256,
                retain_until=manifest.retain_until,
                lock_mode=mode,
                content_type="application/warc",
            )
        except ObjectExists:
            stored = self.store.head(manifest.key)
            if stored is None or stored.sha256 != manifest.sha256:
                raise DigestMismatch(f"{manifest.key} exists in the store with other content") from None
            log.info("%s was already stored; continuing with indexing", manifest.key)
        crash_point(CrashPoint.STORE_AFTER_UPLOAD)
        mkey = manifest_key(manifest.account, manifest.name)
        if self.store.head(mkey) is None:
            self.store.put_bytes(
                mkey, manifest.model_dump_json(indent=2).encode(), retain_until=manifest.retain_until, lock_mode=mode
            )
        crash_point(CrashPoint.STORE_AFTER_MANIFEST)

    def _store_and_index(self, done: FinalizedFile, records: list[Record] | None) -> None:
        """Store the file and its manifest, index its records, then run the after-commit steps."""
        manifest = done.manifest
        self._store(manifest, done.path)
        if not self._index_ready:
            self.index.ensure()
            self._index_ready = True
        # The department comes from the manifest (as written into the file's warcinfo), not from
        # the accounts file now, so indexing now and reindexing later give the same documents.
        # Documents are made as the bulk sends them, not all first: a file's records are held once.
        if records is None:
            count = len(done.records)
            docs = (
                to_document(
                    r,
                    warc_key=manifest.key,
                    retention_class=manifest.retention_class,
                    record_json=j,
                    department=manifest.department,
                )
                for r, j in zip(done.records, done.record_json, strict=True)
            )
        else:
            count = len(records)
            docs = (
                to_document(
                    r, warc_key=manifest.key, retention_class=manifest.retention_class, department=manifest.department
                )
                for r in records
            )
        result = self.index.bulk(docs, chunk_size=self.settings.es_bulk_chunk_size)
        for step in self.after_commit:  # a step that fails leaves the file for the next run, like the index
            step(manifest, count)
        self.report.indexed += result.indexed
        self.report.index_errors.extend(result.errors)
        self.report.files.append(manifest)
