"""One WARC file for a production package, from stored records copied byte for byte.

Every stored record is already one gzip member (archive/warc/writer.py), so a produced WARC
is a new `warcinfo` record (W-2: every file opens with one) followed by the stored members
unchanged: the bytes a requester receives are the bytes the archive has held since capture,
and each keeps the SHA-256 recorded at capture (US-12). Each member is parsed and its WARC
digests checked before it is copied, and the caller may pass the location it was read from so
the stored-bytes digest is checked too. Records arrive one at a time and only their ids are
remembered (to copy a response shared by several Records once and to spot revisits whose
original is not in the file), so 10 000 records never sit in memory together.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from schemas import WarcLocation

from .. import clock
from ..version import SOFTWARE
from ..warc import parse_one, verify_bytes
from ..warc.compress import Engine, compressor_factory
from ..warc.naming import OPEN_SUFFIX
from ..warc.records import build_warcinfo, warc_date
from ..warc.writer import _MemberSink


@dataclass(frozen=True)
class CopiedRecord:
    """Where one stored record went in the produced file, with what a CDXJ line or load file needs."""

    record_id: str
    warc_type: str
    target_uri: str
    date: str
    offset: int
    length: int
    #: SHA-256 of the record's stored bytes (the gzip member): the same before and after the copy.
    sha256: str
    refers_to: str = ""


@dataclass(frozen=True)
class BuiltWarc:
    """The finished file: its path, size and SHA-256 (for the bag and the hash report)."""

    path: Path
    bytes: int
    sha256: str
    records: int
    #: Revisit records whose original (`WARC-Refers-To`) is not in this file: a replay tool cannot
    #: show them, so the caller should add the original's response or say why not.
    dangling_revisits: tuple[str, ...]


class PackageWarcWriter:
    """Writes `path` (as `path.open` until `close`): a warcinfo record, then each added stored record.

    `info` goes into the warcinfo record after the software and format lines, e.g. operator,
    description ("Production for request 2026-0042") and isPartOf.
    """

    def __init__(
        self,
        path: Path,
        info: dict[str, str],
        *,
        created: datetime | None = None,
        engine: Engine = "isal",
        level: int = 6,
    ) -> None:
        if not path.name.endswith(".warc.gz"):
            raise ValueError(f"{path.name}: a produced WARC file is named *.warc.gz")
        self.path = path
        self._open_path = path.with_name(path.name + OPEN_SUFFIX)
        self._fh = self._open_path.open("xb")
        self._hash = hashlib.sha256()
        self._sink = _MemberSink(self._fh, self._hash, compressor_factory(engine, level))
        fields = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            **info,
        }
        self._sink.write_member(build_warcinfo(path.name, fields, warc_date(created or clock.now())).chunks())
        self._copied: dict[str, CopiedRecord] = {}
        self._revisits: dict[str, str] = {}  # revisit record id → the record id it refers to
        self.built: BuiltWarc | None = None

    def add(self, data: bytes, expected: WarcLocation | None = None) -> CopiedRecord:
        """Copy one stored record (one gzip member) unchanged; the same record added twice is copied once.

        Raises DigestMismatch if `expected` is given and `data` is not exactly those stored bytes,
        and WarcError if the member is not one WARC record whose digests check.
        """
        if expected is not None:
            verify_bytes(data, expected)
        parsed = parse_one(data)
        if parsed.record_id in self._copied:
            return self._copied[parsed.record_id]
        headers = parsed.record.rec_headers
        copied = CopiedRecord(
            record_id=parsed.record_id,
            warc_type=parsed.warc_type,
            target_uri=str(headers.get_header("WARC-Target-URI") or ""),
            date=str(headers.get_header("WARC-Date") or ""),
            offset=self._sink.offset,
            length=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            refers_to=str(headers.get_header("WARC-Refers-To") or ""),
        )
        self._fh.write(data)
        self._hash.update(data)
        self._sink.offset += len(data)
        self._copied[parsed.record_id] = copied
        if parsed.warc_type == "revisit" and copied.refers_to:
            self._revisits[parsed.record_id] = copied.refers_to
        return copied

    def close(self) -> BuiltWarc:
        """fsync and rename to the final name; the file never changes after this."""
        if self.built is not None:
            return self.built
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.rename(self._open_path, self.path)
        dangling = tuple(rid for rid, original in self._revisits.items() if original not in self._copied)
        self.built = BuiltWarc(self.path, self._sink.offset, self._hash.hexdigest(), len(self._copied) + 1, dangling)
        return self.built

    def abandon(self) -> None:
        """Close without finishing: the `.open` file is left for inspection and never produced."""
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> PackageWarcWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Closed (result in `built`) unless the block raised: then abandoned."""
        if exc_type is not None:
            self.abandon()
        else:
            self.close()
