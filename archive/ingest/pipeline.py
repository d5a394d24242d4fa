"""The capture pipeline: bundles → WARC files → write-once store → index.

Order matters (docs/design.md, principles 1 and 2): a WARC file is finalized and stored before
any of its records is indexed, and a finalized file leaves the local work folder only
after it is stored and indexed. If the store or the index fails, the finalized file stays
in the work folder with its manifest beside it and the next run (or `communis ingest`)
commits it first, so nothing captured is lost and nothing is stored twice.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from schemas import Account, CaptureBundle, MediaRef, Record, RetentionClass, WarcFileManifest, WarcLocation
from schemas.holds import LegalHold
from schemas.premis import PremisEventType

from .. import clock
from ..bundles import Rejected
from ..config import Settings
from ..errors import DigestMismatch, DiskFull, IndexUnavailable, ObjectExists, StoreUnavailable
from ..faults import CrashPoint, crash_point
from ..holds import active_holds, apply_holds_to_file
from ..index import RecordIndex, to_document
from ..preservation.premis import PremisLog
from ..store import BlobStore
from ..warc import FinalizedFile, PayloadLookup, WarcWriter, located_records
from ..warc.naming import manifest_key
from .quarantine import QuarantineEntry, quarantine, upload_pending
from .workdir import MANIFEST_SUFFIX, account_for_leftovers, read_manifest, sidecar_path, write_manifest

if TYPE_CHECKING:
    from ..retention.schedule import Schedule

log = logging.getLogger(__name__)

__all__ = ["MANIFEST_SUFFIX", "IngestReport", "Pipeline", "with_media_locations"]


def with_media_locations(bundle: CaptureBundle, locations: dict[str, WarcLocation]) -> CaptureBundle:
    """The bundle with each media reference pointing at the WARC record that holds its file.

    Media are fetched and written before the records that show them (connectors/media.py), and a
    reference knows its file's SHA-256, so the location is known by the time the record is
    written, and it goes into the record's JSON in the WARC metadata record: a reindex keeps it.
    The location is outside the content hash, so it never makes a new version.
    """

    def found(m: MediaRef) -> WarcLocation | None:
        return locations.get(m.sha256) if m.warc is None and m.sha256 else None

    if not locations or not any(found(m) for r in bundle.records for m in r.media):
        return bundle
    records = [
        r.model_copy(update={"media": [m.model_copy(update={"warc": found(m)}) if found(m) else m for m in r.media]})
        if r.media
        else r
        for r in bundle.records
    ]
    return bundle.model_copy(update={"records": records})


def _keeps_longer(a: RetentionClass, b: RetentionClass, moment: datetime) -> bool:
    """Whether class `a` keeps a capture made at `moment` longer than `b` (a permanent class longest)."""
    return (a.permanent, a.retain_until(moment)) > (b.permanent, b.retain_until(moment))


@dataclass
class IngestReport:
    """What one run did, for the CLI, the flow artifact and the tests."""

    run_id: str
    captures: int = 0
    records: int = 0
    indexed: int = 0
    files: list[WarcFileManifest] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    index_errors: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    """Finalized files kept in the work folder because the store or the index was unavailable."""
    crashed: list[str] = field(default_factory=list)
    """One line per leftover of a crashed run moved to the work folder's `crashed/` (workdir.py)."""


class Pipeline:
    """One ingest run for one or more accounts."""

    def __init__(
        self,
        settings: Settings,
        store: BlobStore,
        index: RecordIndex,
        *,
        run_id: str | None = None,
        work_dir: Path | None = None,
        lookup: PayloadLookup | None = None,
        media_locations: dict[str, WarcLocation] | None = None,
    ) -> None:
        self.settings = settings
        #: SHA-256 of an archived media file → its WARC response record (earlier runs' and this run's).
        self.media_locations: dict[str, WarcLocation] = dict(media_locations or {})
        self.store = store
        self.index = index
        self.run_id = run_id or clock.new_run_id()
        self.work_dir = work_dir or settings.data_dir / "work"
        self.report = IngestReport(self.run_id)
        self._writer = WarcWriter(
            self.work_dir,
            self.run_id,
            rollover_bytes=settings.warc_rollover_bytes,
            engine="isal",
            level=settings.gzip_level,
            operator=settings.operator,
            lookup=lookup,
        )
        #: The retention schedule, when one is configured: it decides each bundle's class (and so its file).
        self.schedule: Schedule | None = None
        if settings.retention_file is not None:
            from ..retention.schedule import load_schedule

            self.schedule = load_schedule(settings)
        self._quarantine_seq = 0
        self._active_holds: list[LegalHold] | None = None
        self._premis = PremisLog.beside(index, settings.stream("premis"))
        self._index_ready = False
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self._pending: list[Future[None]] = []
        self._unavailable: StoreUnavailable | IndexUnavailable | None = None

    def ingest(self, account: Account, bundles: Iterable[CaptureBundle | Rejected]) -> IngestReport:
        """Write, store and index every bundle; quarantine the ones that cannot be kept as WARC."""
        fallback = self.settings.retention_class(account.retention_class)
        self.commit_pending(account.id)
        try:
            for bundle in bundles:
                if isinstance(bundle, Rejected):
                    self._quarantine(account.id, bundle.reason, raw=bundle.raw)
                    continue
                reason = self._refusal(account, bundle)
                if reason:
                    self._quarantine(account.id, reason, bundle)
                    continue
                bundle = with_media_locations(bundle, self.media_locations)
                rclass = self.class_for(account, bundle, fallback)
                written = self._writer.write(account.id, rclass, bundle, department=account.department)
                if bundle.is_media and not written.revisit and written.payload_digest:
                    self.media_locations.setdefault(written.payload_digest.removeprefix("sha256:"), written.location)
                if bundle.is_media:
                    crash_point(CrashPoint.MEDIA_BEFORE_RECORD)
                self.report.captures += 1
                self.report.records += len(written.records)
                for done in self._writer.drain():
                    self._submit(done)
            for done in self._writer.close():
                self._submit(done)
            self._wait()
            self._raise_if_deferred()
        except BaseException as exc:
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                # Finalizing would write more and could finish a file around a cut-off record: the `.open`
                # file is never stored (the next run puts it aside) and the state never names its items.
                self._writer.abandon()
                self._wait(raise_errors=False)
                raise DiskFull(
                    f"no space left on device in {self.work_dir}; the run stopped, nothing half-written was stored"
                ) from exc
            # Finalize what was written so far: it stays in the work folder for the next run.
            for done in self._writer.close():
                self._save_manifest(done.manifest)
            self._wait(raise_errors=False)
            raise
        return self.report

    def class_for(self, account: Account, bundle: CaptureBundle, fallback: RetentionClass) -> RetentionClass:
        """The class of the file a bundle goes to: from the schedule's active rules matching its records.

        A bundle is one API response, so it goes to one file: if its records fall under different classes the
        longest-keeping one wins (keeping is the default); a record no active rule covers counts with the
        account's class, which is also the class without a schedule and for bundles without records (media).
        """
        if self.schedule is None or not bundle.records:
            return fallback
        best: RetentionClass | None = None
        for record in bundle.records:
            rule = self.schedule.rule_for(
                {
                    "platform": record.platform,
                    "account": record.account,
                    "department": account.department,
                    "kind": record.kind.value,
                    "direction": record.direction.value,
                    "hashtags": record.hashtags,
                }
            )
            rclass = self.schedule.class_of(rule) if rule is not None else fallback
            if best is None or _keeps_longer(rclass, best, bundle.capture.started_at):
                best = rclass
        return best or fallback

    def _retention_class(self, name: str) -> RetentionClass:
        """A class by name: the schedule's own classes first, then the configured ones."""
        if self.schedule is not None and name in self.schedule.classes:
            return self.schedule.classes[name]
        return self.settings.retention_class(name)

    def _submit(self, done: FinalizedFile) -> None:
        """Commit in the background so the next file is written while this one is stored and indexed.

        One committer thread keeps files in order; Elasticsearch and S3 work in other processes,
        so this overlaps their time with WARC writing here.
        """
        self._save_manifest(done.manifest)
        self._pending.append(self._committer.submit(self._commit, done))

    def _wait(self, raise_errors: bool = True) -> None:
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        first = next((e for e in errors if e is not None), None)
        if first is not None and raise_errors:
            raise first

    def _raise_if_deferred(self) -> None:
        """Capturing goes on while a service is down; the run still ends loudly."""
        if self._unavailable is not None:
            count = len(self.report.deferred)
            raise type(self._unavailable)(
                f"{self._unavailable}; {count} finalized WARC file(s) kept in {self.work_dir} for the next run",
                hint=self._unavailable.hint,
            ) from self._unavailable

    def _refusal(self, account: Account, bundle: CaptureBundle) -> str | None:
        size = len(bundle.capture.body)
        if size > self.settings.max_body_bytes:
            return (
                f"response body of {size} bytes exceeds the limit of {self.settings.max_body_bytes} "
                f"(COMMUNIS_MAX_BODY_BYTES)"
            )
        for record in bundle.records:
            if record.account != account.id or record.platform != account.platform:
                return f"record {record.item_key} does not belong to account {account.id}"
        return None

    def _quarantine(
        self, account: str, reason: str, bundle: CaptureBundle | None = None, raw: bytes | None = None
    ) -> None:
        self._quarantine_seq += 1
        self.report.quarantined.append(
            quarantine(
                self.store,
                account,
                self.run_id,
                self._quarantine_seq,
                reason,
                bundle.capture if bundle else None,
                raw=raw,
                fallback=self.work_dir,
            )
        )

    def _save_manifest(self, manifest: WarcFileManifest) -> Path:
        """The sidecar beside the file, written atomically (workdir.write_manifest)."""
        return write_manifest(self.work_dir, manifest)

    def _commit(self, done: FinalizedFile, records: list[Record] | None = None) -> None:
        """Store and index; if a service is down keep the file for the next run and go on."""
        sidecar = sidecar_path(self.work_dir, done.manifest.name)
        if not sidecar.exists():
            self._save_manifest(done.manifest)
        try:
            self._store_and_index(done, records)
        except (StoreUnavailable, IndexUnavailable) as exc:
            log.error("%s; keeping %s for the next run", exc, done.path)
            self._unavailable = exc
            self.report.deferred.append(done.manifest.name)
            return
        crash_point(CrashPoint.INDEX_AFTER_BULK)
        done.path.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)

    def _store_and_index(self, done: FinalizedFile, records: list[Record] | None) -> None:
        """Store the file and its manifest, then index its records."""
        manifest = done.manifest
        rclass = self._retention_class(manifest.retention_class)
        mode = self.settings.lock_mode or rclass.lock_mode
        crash_point(CrashPoint.STORE_BEFORE_UPLOAD)
        try:
            self.store.put_file(
                manifest.key,
                done.path,
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
        if not self._index_ready:
            self.index.ensure()
            self._index_ready = True
        # The department comes from the manifest (as written into the file's warcinfo), not from
        # the accounts file now, so indexing now and reindexing later give the same documents.
        if records is None:
            docs = [
                to_document(
                    r,
                    warc_key=manifest.key,
                    retention_class=manifest.retention_class,
                    record_json=j,
                    department=manifest.department,
                )
                for r, j in zip(done.records, done.record_json, strict=True)
            ]
        else:
            docs = [
                to_document(
                    r, warc_key=manifest.key, retention_class=manifest.retention_class, department=manifest.department
                )
                for r in records
            ]
        result = self.index.bulk(docs, chunk_size=self.settings.es_bulk_chunk_size)
        if self._active_holds is None:
            self._active_holds = active_holds(self.store)
        if self._active_holds:  # a hold covers matching records captured after it was placed
            apply_holds_to_file(self.store, self.index, self._active_holds, manifest.key)
        self.report.indexed += result.indexed
        self.report.index_errors.extend(result.errors)
        self.report.files.append(manifest)
        # The preservation record of the file's arrival (PR-1): kept when the file is disposed of.
        self._premis.record(
            PremisEventType.INGESTION,
            objects=[manifest.key],
            sha256=manifest.sha256,
            once=f"{manifest.key}@{manifest.sha256}",
            agents=[f"organisation: {self.settings.operator}"],
            detail=f"{len(docs)} records of {manifest.account} captured "
            f"{manifest.first_capture:%Y-%m-%d %H:%M} – {manifest.last_capture:%Y-%m-%d %H:%M} "
            f"UTC, stored with retain-until {manifest.retain_until:%Y-%m-%d}"
            if manifest.first_capture and manifest.last_capture
            else f"{len(docs)} records",
        )

    def commit_pending(self, account: str | None = None) -> list[Record]:
        """Store and index finalized files an earlier, interrupted run left behind (of `account`).

        Returns their records, so the harvest state can learn the versions they hold.
        """
        recovered: list[Record] = []
        if not self.work_dir.exists():
            return recovered
        try:
            upload_pending(self.store, self.work_dir)
        except StoreUnavailable as exc:
            self._unavailable = exc
            return recovered
        self.report.crashed.extend(account_for_leftovers(self.work_dir, self._retention_class, account))
        for sidecar in sorted(self.work_dir.glob("*" + MANIFEST_SUFFIX)):
            manifest = read_manifest(sidecar)
            if manifest is None:  # account_for_leftovers rebuilt or moved every bad one; written since?
                self.report.crashed.append(f"{sidecar.name}: unreadable manifest; left for the next run")
                continue
            if account is not None and manifest.account != account:
                continue
            path = self.work_dir / manifest.name
            if not path.exists():
                sidecar.unlink(missing_ok=True)
                continue
            log.warning("committing %s left by run %s", manifest.name, manifest.run_id)
            with path.open("rb") as fh:
                records = list(located_records(fh, manifest.name))
            self._commit(FinalizedFile(path, manifest), records)
            recovered.extend(records)
        return recovered

    def payloads_written(self) -> dict[tuple[str, str], dict[str, str]]:
        """Responses this run stored in full, by (disposal group, payload digest): revisit targets."""
        return self._writer.originals()
