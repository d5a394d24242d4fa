"""The due records of a planning run, kept on disk until the list is written.

Planning learns a file's fate only when the scan is over (a retained record anywhere in it, or in
its disposal group, keeps it), and the list names every due record of every file that goes. At a
million records those entries do not fit in memory comfortably (the in-memory planner peaked
above 800 MB), so the scan writes them here, a page at a time, into a SQLite database in a
private temporary directory, and the list is written from it one file at a time. The spool is
deleted when planning ends, whatever happens; it holds ids and digests only, nothing secret.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import NamedTuple


class DueEntry(NamedTuple):
    """One due record as the list names it."""

    record_id: str
    rule_id: str
    warc_sha256: str | None
    content_sha256: str | None


class DueSpool:
    """Due records by file, on disk: `add` a page, then read back `entries(key)` of one file at a time."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="communis-plan-")
        self._db = sqlite3.connect(Path(self._dir.name) / "due.sqlite")
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
            "CREATE TABLE due (key TEXT NOT NULL, record_id TEXT NOT NULL, rule_id TEXT NOT NULL,"
            " warc_sha256 TEXT, content_sha256 TEXT);"
        )
        self._indexed = False

    def add(self, rows: Iterable[tuple[str, DueEntry]]) -> None:
        """Spool (file key, entry) pairs: one transaction per call (a page of the scan)."""
        assert not self._indexed, "the spool is read-only once read"
        with self._db:
            self._db.executemany("INSERT INTO due VALUES (?, ?, ?, ?, ?)", ((k, *e) for k, e in rows))

    def entries(self, key: str) -> list[DueEntry]:
        """The due records of one file, ordered by record id (as Python orders strings)."""
        if not self._indexed:
            self._db.execute("CREATE INDEX due_by_file ON due (key)")
            self._indexed = True
        rows = self._db.execute(
            "SELECT record_id, rule_id, warc_sha256, content_sha256 FROM due WHERE key = ?", (key,)
        ).fetchall()
        return sorted((DueEntry(*r) for r in rows), key=lambda e: e.record_id)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> DueSpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
