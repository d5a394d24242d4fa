"""Fixity checks: what a run re-read, what it found wrong, and where the rotation stands.

A fixity run re-reads stored WARC files, recomputes their SHA-256 and compares it with the two
digests recorded when the file was stored (its manifest and the storage checksum), so silent
corruption, a replaced object or a lost file is found by a scheduled job, not by a reader years
later (NDSA level 3: fixity checked at fixed intervals, logs kept).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from ._base import Model


class FixityProblemKind(StrEnum):
    """What can be wrong with a stored file or its manifest."""

    MANIFEST_MISMATCH = "sha256 differs from the manifest"
    STORAGE_MISMATCH = "sha256 differs from the storage checksum"
    SIZE_MISMATCH = "size differs from the manifest"
    NO_STORAGE_CHECKSUM = "no storage checksum"
    UNREADABLE = "unreadable"
    MISSING_FILE = "missing file"
    MISSING_MANIFEST = "missing manifest"
    BAD_MANIFEST = "unreadable manifest"


class FixityProblem(Model):
    """One problem, as one line of the CLI output and one row of the flow's artifact."""

    kind: FixityProblemKind
    key: str = Field(description="The storage key of the file (or manifest) concerned.")
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind.value}: {self.key}" + (f" ({self.detail})" if self.detail else "")


class FileFixity(Model):
    """The check of one stored file."""

    key: str
    manifest_key: str
    bytes_read: int = 0
    manifest_sha256: str | None = None
    storage_sha256: str | None = None
    computed_sha256: str | None = None
    problems: list[FixityProblem] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class FixityReport(Model):
    """One fixity run."""

    started_at: datetime
    finished_at: datetime
    share: int = Field(ge=1, description="1: every file; N: a rotating 1/N of the files (all every N runs).")
    files_total: int = Field(ge=0, description="Stored WARC files and manifests paired up (the whole archive).")
    files_checked: int = Field(ge=0, description="Files re-read and hashed by this run.")
    bytes_read: int = Field(ge=0)
    disposed: int = Field(default=0, ge=0, description="Manifests whose file's deletion is a recorded event.")
    cycle_complete: bool = Field(default=False, description="This run reached the end of the rotation.")
    files: list[FileFixity] = Field(default_factory=list)
    problems: list[FixityProblem] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class FixityState(Model):
    """Where the rotation stands; a new object per run (`fixity/state/{seq}.json`), never overwritten."""

    seq: int = 0
    saved_at: datetime | None = None
    cursor: str | None = Field(default=None, description="The last file key checked; the next run starts after it.")
    runs: int = 0
    cycle_started_at: datetime | None = None
    last_cycle_completed_at: datetime | None = None
    last_ok: bool | None = None
    last_problems: int = 0
