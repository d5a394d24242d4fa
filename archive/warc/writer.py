"""Writing captures into WARC files: `.open` while written, renamed when complete.

The warcprox lifecycle: a file is written as `NAME.warc.gz.open`, fsynced and renamed when
it is complete or reaches the rollover size, so a crash never leaves a file that looks
finished. Each record is its own gzip member; while it is written we hash the stored bytes
once, which gives the record's location digest and the whole file's SHA-256 (used for the
manifest, the index and the S3 checksum) without ever re-reading the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from pydantic import TypeAdapter

from schemas import CaptureBundle, Record, RetentionClass, RetentionTrigger, WarcFileManifest, WarcLocation

from .. import clock
from ..durable import fsync_path
from ..faults import CrashPoint, armed, crash_point
from ..version import SOFTWARE
from . import records as build
from .compress import Engine, compressor_factory
from .naming import OPEN_SUFFIX, warc_key, warc_name

log = logging.getLogger(__name__)


class PayloadLookup(Protocol):
    """Finds an already *stored* response with the same payload in the same disposal group."""

    def find(self, group: str, payload_digest: str) -> dict[str, str] | None: ...


class _MemberSink:
    """Compresses one record into one gzip member, hashing the stored bytes as they are written."""

    def __init__(self, fh: IO[bytes], file_hash: hashlib._Hash, make: Callable[[], object]) -> None:
        self._fh, self._file_hash, self._make = fh, file_hash, make
        self.offset = 0

    def write_member(self, chunks: list[bytes]) -> tuple[int, int, str]:
        comp = self._make()
        member = hashlib.sha256()
        length = 0
        for piece in [*(comp.compress(c) for c in chunks if c), comp.flush()]:  # type: ignore[attr-defined]
            if piece:
                if armed(CrashPoint.WARC_MID_RECORD):  # half of this member on disk, then the crash
                    self._fh.write(piece[: len(piece) // 2])
                    self._fh.flush()
                    crash_point(CrashPoint.WARC_MID_RECORD)
                    self._fh.write(piece[len(piece) // 2 :])
                else:
                    self._fh.write(piece)
                self._file_hash.update(piece)
                member.update(piece)
                length += len(piece)
        start = self.offset
        self.offset += length
        return start, length, member.hexdigest()


_DATETIME = TypeAdapter(datetime)
_LOCATED_FIELDS = {"warc", "first_seen_at", "source_url"}


@dataclass(frozen=True)
class Written:
    """Where one capture's records went: the response (or revisit) record that holds their data.

    The records are not copied to carry their location (pydantic copies cost more than the
    rest of the write); `json_parts` splices the location into each record's JSON instead,
    and `located()` builds the located Record objects when a caller wants them.
    """

    location: WarcLocation
    records: list[Record]
    captured_at: datetime
    uri: str
    #: `sha256:<hex>` of the response payload, and whether it was written as a revisit (no payload).
    payload_digest: str = ""
    revisit: bool = False

    def json_parts(self) -> list[bytes]:
        loc = self.location.__pydantic_serializer__.to_json(self.location)
        parts = []
        for r in self.records:
            body = r.__pydantic_serializer__.to_json(r, exclude=_LOCATED_FIELDS)
            first_seen = _DATETIME.dump_json(r.first_seen_at or self.captured_at)
            source = json.dumps(r.source_url or self.uri, ensure_ascii=False).encode("utf-8")
            parts.append(
                body[:-1] + b',"first_seen_at":' + first_seen + b',"source_url":' + source + b',"warc":' + loc + b"}"
            )
        return parts

    def located(self) -> list[Record]:
        return [
            r.model_copy(
                update={
                    "warc": self.location,
                    "first_seen_at": r.first_seen_at or self.captured_at,
                    "source_url": r.source_url or self.uri,
                }
            )
            for r in self.records
        ]


@dataclass
class FinalizedFile:
    """A complete WARC file on local disk, ready to be stored, with the records it holds."""

    path: Path
    manifest: WarcFileManifest
    records: list[Record] = field(default_factory=list)
    record_json: list[bytes] = field(default_factory=list)


class WarcFile:
    """One WARC file being written."""

    def __init__(self, directory: Path, name: str, make: Callable[[], object], info: dict[str, str]) -> None:
        self.name = name
        self.final_path = directory / name
        self.open_path = directory / (name + OPEN_SUFFIX)
        self._fh = self.open_path.open("xb")
        self._hash = hashlib.sha256()
        self._sink = _MemberSink(self._fh, self._hash, make)
        self.record_count = 0
        self.records: list[Record] = []
        self.record_json: list[bytes] = []  # each record's JSON, reused as its index document
        self.first_capture: datetime | None = None
        self.last_capture: datetime | None = None
        self.write(build.build_warcinfo(name, info, build.warc_date(clock.now())))

    @property
    def size(self) -> int:
        return self._sink.offset

    def write(self, record: build.WarcRecord) -> WarcLocation:
        offset, length, digest = self._sink.write_member(record.chunks())
        self.record_count += 1
        # Built here from values this writer just produced, so validation is skipped (hot path).
        return WarcLocation.model_construct(
            filename=self.name, offset=offset, length=length, sha256=digest, record_id=record.record_id
        )

    def mark(self) -> tuple[int, int, int]:
        return self.size, self.record_count, len(self.records)

    def rewind(self, mark: tuple[int, int, int]) -> None:
        """Cut the file back to `mark` after a failed bundle; recompute the running file hash."""
        size, count, nrecords = mark
        self._fh.flush()
        self._fh.truncate(size)
        self._fh.seek(size)
        self._sink.offset = size
        self.record_count = count
        del self.records[nrecords:]
        del self.record_json[nrecords:]
        self._hash = hashlib.sha256()
        with self.open_path.open("rb") as fh:
            while block := fh.read(1024 * 1024):
                self._hash.update(block)
        self._sink._file_hash = self._hash

    def note_capture(self, moment: datetime) -> None:
        self.first_capture = moment if self.first_capture is None else min(self.first_capture, moment)
        self.last_capture = moment if self.last_capture is None else max(self.last_capture, moment)

    def finalize(self) -> tuple[int, str]:
        """fsync, rename and fsync the folder; returns (bytes, sha256). After this the file never changes.

        The folder's fsync makes the rename itself survive a power cut: without it the file could
        come back as `.open` (or not at all) although its manifest says it was finalized.
        """
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        crash_point(CrashPoint.WARC_BEFORE_RENAME)
        os.rename(self.open_path, self.final_path)
        fsync_path(self.final_path.parent)
        crash_point(CrashPoint.WARC_AFTER_RENAME)
        return self.size, self._hash.hexdigest()

    def abandon(self) -> None:
        """Close without finalizing; the `.open` file is never stored (the next run moves it aside)."""
        if not self._fh.closed:
            with contextlib.suppress(OSError):  # a full disk refuses the buffered tail; closed all the same
                self._fh.close()


def disposal_group(account: str, rclass: RetentionClass, moment: datetime) -> str:
    """Files in one group expire together, so a revisit may only point within its group."""
    period = f"{moment:%Y}" if rclass.permanent or rclass.trigger is RetentionTrigger.END_OF_YEAR else f"{moment:%Y%m}"
    return f"{account}/{rclass.name}/{period}"


#: Responses a writer remembers as revisit targets within one run (see `WarcWriter._seen`).
SEEN_LIMIT = 20_000


class WarcWriter:
    """Writes bundles of one run into per (account, retention class, month) WARC files."""

    def __init__(
        self,
        directory: Path,
        run_id: str,
        *,
        rollover_bytes: int = 1024**3,
        rollover_records: int = 5_000,
        engine: Engine = "isal",
        level: int = 1,
        operator: str = "",
        lookup: PayloadLookup | None = None,
    ) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.rollover_bytes = rollover_bytes
        self.rollover_records = rollover_records
        """A file is also finalized at this many records: its records are held until it is indexed, so
        this bounds the memory of a harvest however many items it archives (a first one of a million)."""
        self.operator = operator
        self._make = compressor_factory(engine, level)
        self._lookup = lookup
        self._open: dict[tuple[str, str, str], WarcFile] = {}
        self._classes: dict[str, RetentionClass] = {}
        self._departments: dict[str, str | None] = {}
        self._seq: dict[tuple[str, str, str], int] = {}
        self._seen: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        """The responses stored in full this run, the newest SEEN_LIMIT: an identical one later in the
        run is written as a revisit of it. Bounded, so a long run's memory is too; an identical response
        after that many others is stored in full once more, which costs bytes, never correctness."""
        self._finalized: list[FinalizedFile] = []

    def write(
        self, account: str, rclass: RetentionClass, bundle: CaptureBundle, *, department: str | None = None
    ) -> Written:
        """Write one capture (request, response or revisit, metadata); say where it went.

        `department` (the account's owning department) is written into the warcinfo record and
        the manifest of a file when the file is opened, so the index can be rebuilt with it from
        the WARC files alone. It is what the accounts file said at that moment: if the account
        moves to another department later, files written from then on carry the new one and
        older files keep the old one (which was true when they were written).
        """
        capture = bundle.capture
        wfile = self._file_for(account, rclass, capture.started_at, department)
        mark = wfile.mark()
        try:
            return self._write(wfile, account, rclass, bundle)
        except BaseException:
            wfile.rewind(mark)  # a bundle is written whole or not at all
            raise

    def _write(self, wfile: WarcFile, account: str, rclass: RetentionClass, bundle: CaptureBundle) -> Written:
        capture = bundle.capture
        date = build.warc_date(capture.started_at)
        uri = build.target_uri(capture)
        group = disposal_group(account, rclass, capture.started_at)
        payload_digest = "sha256:" + build.sha256_hex(capture.body)
        dedupable = bool(capture.body) and capture.status == 200
        original = self._original(group, payload_digest) if dedupable else None
        if original is None:
            response = build.build_response(capture, uri, date, payload_digest)
        else:
            response = build.build_revisit(capture, uri, date, payload_digest, original)
        location = wfile.write(response)
        wfile.write(build.build_request(capture, uri, date, response.record_id))
        if original is None and dedupable:
            self._seen.setdefault(
                (group, payload_digest),
                {
                    "record_id": response.record_id,
                    "uri": uri,
                    "date": date,
                    "filename": wfile.name,
                },
            )
            if len(self._seen) > SEEN_LIMIT:
                self._seen.popitem(last=False)
        written = Written(location, bundle.records, capture.started_at, uri, payload_digest, original is not None)
        parts = written.json_parts()
        if parts:
            wfile.write(build.build_metadata(build.record_set(parts), uri, date, response.record_id))
        wfile.note_capture(capture.started_at)
        wfile.records.extend(bundle.records)
        wfile.record_json.extend(parts)
        if wfile.size >= self.rollover_bytes or len(wfile.records) >= self.rollover_records:
            self._finalize(self._key(account, rclass, capture.started_at))
        return written

    def _original(self, group: str, digest: str) -> dict[str, str] | None:
        found = self._seen.get((group, digest))
        if found is None and self._lookup is not None:
            found = self._lookup.find(group, digest)
        return found

    @staticmethod
    def _key(account: str, rclass: RetentionClass, moment: datetime) -> tuple[str, str, str]:
        return account, rclass.name, f"{moment:%Y%m}"

    def _file_for(
        self, account: str, rclass: RetentionClass, moment: datetime, department: str | None = None
    ) -> WarcFile:
        key = self._key(account, rclass, moment)
        wfile = self._open.get(key)
        if wfile is None:
            if department:  # one line, as build_warcinfo writes it, so the manifest and the file agree
                department = " ".join(department.splitlines())
            seq = self._seq.get(key, 0) + 1
            self._seq[key] = seq
            name = warc_name(account, rclass.name, moment, self.run_id, seq)
            info = {
                "software": SOFTWARE,
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "operator": self.operator,
                "hostname": socket.gethostname(),
                "isPartOf": f"communis/{account}",
                "account": account,
                "retention-class": rclass.name,
                "department": department or "",  # empty values are left out of the record
                "run-id": self.run_id,
            }
            wfile = WarcFile(self.directory, name, self._make, info)
            self._open[key] = wfile
            self._classes[name] = rclass
            self._departments[name] = department
        return wfile

    def _finalize(self, key: tuple[str, str, str]) -> None:
        wfile = self._open.pop(key)
        size, digest = wfile.finalize()
        rclass = self._classes[wfile.name]
        last = wfile.last_capture
        assert last is not None, "a WARC file is only opened for a capture"
        manifest = WarcFileManifest(
            name=wfile.name,
            key=warc_key(key[0], wfile.name),
            account=key[0],
            retention_class=rclass.name,
            bytes=size,
            sha256=digest,
            records=wfile.record_count,
            first_capture=wfile.first_capture,
            last_capture=last,
            retain_until=rclass.retain_until(last),
            run_id=self.run_id,
            software=SOFTWARE,
            department=self._departments.pop(wfile.name, None),
        )
        log.info("finalized %s (%s bytes, %s records)", wfile.name, size, wfile.record_count)
        self._finalized.append(FinalizedFile(wfile.final_path, manifest, wfile.records, wfile.record_json))

    def originals(self) -> dict[tuple[str, str], dict[str, str]]:
        return dict(self._seen)

    def drain(self) -> list[FinalizedFile]:
        """Files finalized so far (by rollover); the caller stores them."""
        done, self._finalized = self._finalized, []
        return done

    def close(self) -> list[FinalizedFile]:
        """Finalize every open file and return all not yet drained."""
        for key in list(self._open):
            self._finalize(key)
        return self.drain()

    def abandon(self) -> None:
        for wfile in self._open.values():
            wfile.abandon()
        self._open.clear()
