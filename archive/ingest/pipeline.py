"""The capture pipeline: bundles → WARC files → write-once store → index.

This module is the write loop: each bundle checked (size, account), its retention class asked of
retention (retention/classes.py), its records pointed at their media files, and written; each
finalized file handed to the committer (commit.py), which stores and indexes it in the background
and then runs the after-commit steps it was given (legal holds, the PREMIS event: wired in
archive/context.py). What a run remembers comes in and goes out as one `RunMemory` (memory.py);
what an interrupted run left behind is found by recovery.py. If the store or the index fails,
capturing goes on: finalized files stay in the work folder and the next run commits them first,
so nothing captured is lost and nothing is stored twice.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from schemas import Account, CaptureBundle, CountReading, Record, WarcLocation

from .. import clock
from ..bundles import Rejected
from ..config import Settings
from ..errors import DiskFull
from ..faults import CrashPoint, crash_point
from ..index import RecordIndex
from ..retention.classes import ClassChooser
from ..store import BlobStore
from ..warc import WarcWriter
from .commit import AfterCommit, Committer
from .media import with_media_locations
from .memory import RunMemory
from .quarantine import quarantine
from .recovery import Recovered, commit_leftovers, recover
from .report import IngestReport
from .workdir import MANIFEST_SUFFIX

log = logging.getLogger(__name__)

__all__ = ["MANIFEST_SUFFIX", "CountSink", "IngestReport", "Pipeline", "RunMemory", "with_media_locations"]


class CountSink(Protocol):
    """Where the counts a bundle published go once their response is written: the harvest keeps them
    for the run and saves them after its files are stored (archive/harvest/service.py). Ingest knows
    only this, so it stays ignorant of the harvest."""

    def add(self, readings: Sequence[CountReading]) -> None:
        """The readings of one written response, each with the WARC record it was read from."""
        ...


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
        memory: RunMemory | None = None,
        classes: ClassChooser | None = None,
        after_commit: Sequence[AfterCommit] = (),
        counts: CountSink | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.run_id = run_id or clock.new_run_id()
        self.work_dir = work_dir or settings.data_dir / "work"
        #: What the run knows from earlier runs and learns in this one; the caller reads it back after `ingest`.
        self.memory = memory if memory is not None else RunMemory()
        #: The retention schedule's answer to which class (and so which file) each bundle goes to.
        self.classes = classes or ClassChooser.from_settings(settings)
        self.report = IngestReport(self.run_id)
        self._writer = WarcWriter(
            self.work_dir,
            self.run_id,
            rollover_bytes=settings.warc_rollover_bytes,
            rollover_records=settings.warc_rollover_records,
            engine="isal",
            level=settings.gzip_level,
            operator=settings.operator,
            lookup=self.memory,
        )
        self._committer = Committer(
            settings, store, index, self.work_dir, self.report, self.classes.by_name, after_commit
        )
        self._quarantine_seq = 0
        #: Where published counts go; None (`communis ingest`, reindex): they stay in the WARC only.
        self._counts = counts

    def ingest(self, account: Account, bundles: Iterable[CaptureBundle | Rejected]) -> IngestReport:
        """Write, store and index every bundle; quarantine the ones that cannot be kept as WARC."""
        self.commit_pending(account.id)
        committer = self._committer
        try:
            for bundle in bundles:
                if isinstance(bundle, Rejected):
                    self._quarantine(account.id, bundle.reason, raw=bundle.raw)
                    continue
                reason = self._refusal(account, bundle)
                if reason:
                    self._quarantine(account.id, reason, bundle)
                    continue
                bundle = with_media_locations(bundle, self.memory.media_location)
                rclass = self.classes.for_bundle(account, bundle)
                written = self._writer.write(account.id, rclass, bundle, department=account.department)
                if bundle.is_media and not written.revisit and written.payload_digest:
                    self.memory.learn_media(written.payload_digest.removeprefix("sha256:"), written.location)
                if bundle.is_media:
                    crash_point(CrashPoint.MEDIA_BEFORE_RECORD)
                if bundle.counts and self._counts is not None:
                    self._counts.add(readings(account, bundle, written.location))
                self.report.captures += 1
                self.report.records += len(written.records)
                for done in self._writer.drain():
                    committer.submit(done)
            for done in self._writer.close():
                committer.submit(done)
            committer.wait()
            committer.raise_if_deferred()
        except BaseException as exc:
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                # Finalizing would write more and could finish a file around a cut-off record: the `.open`
                # file is never stored (the next run puts it aside) and the state never names its items.
                self._writer.abandon()
                committer.wait(raise_errors=False)
                raise DiskFull(
                    f"no space left on device in {self.work_dir}; the run stopped, nothing half-written was stored"
                ) from exc
            # Finalize what was written so far: it stays in the work folder for the next run.
            for done in self._writer.close():
                committer.save_manifest(done.manifest)
            committer.wait(raise_errors=False)
            raise
        finally:
            self.memory.learn_written(self._writer.originals())
        return self.report

    def commit_pending(self, account: str | None = None) -> list[Record]:
        """Commit what an earlier, interrupted run left in the work folder (recovery.py); returns its records."""
        return commit_leftovers(self._committer, account)

    def recover(self, account: str, since: datetime | None) -> Recovered:
        """Everything an interrupted run of `account` left behind (recovery.py), found before this run writes."""
        return recover(self._committer, self.memory, account, since)

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


def readings(account: Account, bundle: CaptureBundle, where: WarcLocation) -> list[CountReading]:
    """The bundle's counts with their evidence: the WARC record its response went to (a revisit's when
    the same payload was stored before: it names that response), its capture time and URL."""
    capture = bundle.capture
    return [
        CountReading(
            **count.model_dump(),
            platform=account.platform,
            account=account.id,
            captured_at=capture.started_at,
            source_url=capture.url,
            warc=where,
        )
        for count in bundle.counts
    ]
