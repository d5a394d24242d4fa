"""A run's own bookkeeping, on disk: what it listed, the markers and versions it will save.

A sweep lists every item of the account, and a first harvest archives all of them: held in
dictionaries, a million-item account would cost the process gigabytes. These live in a SQLite file
in the account's work folder instead, with a small page cache, and are thrown away when the run
ends: what must outlive the run goes to the harvest table (archive/index/harvest_table.py). Nothing
here needs to survive a crash (the next run starts from the table and recovers what was stored),
so the file is written without a journal or syncs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, MutableMapping, MutableSet, Sequence
from pathlib import Path

from schemas import CountReading

_TABLES = ("seen", "markers", "media", "pending", "counts")


class RunScratch:
    """The SQLite file of one run; `seen`, `markers`, `media` and `pending` are views of its tables."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a crashed run's: nothing in it is wanted
        self.path = path
        self._db = sqlite3.connect(path)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-8000", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        for table in _TABLES:
            self._db.execute(f"CREATE TABLE {table} (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
        self.seen = SeenSet(self._db, "seen")
        """Item ids listed this run."""
        self.markers = Table(self._db, "markers")
        """Item id → activity marker read this run."""
        self.media = Table(self._db, "media")
        """Media URL archived this run → SHA-256."""
        self.pending = Table(self._db, "pending")
        """Item id → KnownItem JSON of the versions this run archived or saw unchanged."""
        self.counts = KeptCounts(Table(self._db, "counts"))
        """The published counts this run read (ingest's `CountSink`), saved after its files are stored."""

    def close(self) -> None:
        self._db.close()
        self.path.unlink(missing_ok=True)


class Table(MutableMapping[str, str]):
    """One key → value table of the scratch file, as a mapping."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db, self._name = db, name

    def __getitem__(self, key: str) -> str:
        row = self._db.execute(f"SELECT v FROM {self._name} WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return str(row[0])

    def __setitem__(self, key: str, value: str) -> None:
        self._db.execute(f"INSERT OR REPLACE INTO {self._name} (k, v) VALUES (?, ?)", (key, value))

    def __delitem__(self, key: str) -> None:
        if self._db.execute(f"DELETE FROM {self._name} WHERE k = ?", (key,)).rowcount == 0:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return self._db.execute(f"SELECT 1 FROM {self._name} WHERE k = ?", (key,)).fetchone() is not None

    def __iter__(self) -> Iterator[str]:
        return (str(k) for (k,) in self._db.execute(f"SELECT k FROM {self._name} ORDER BY k"))

    def __len__(self) -> int:
        return int(self._db.execute(f"SELECT count(*) FROM {self._name}").fetchone()[0])

    def rows(self) -> Iterator[tuple[str, str]]:
        """Every (key, value) in key order, read from a cursor of its own (the table may be written meanwhile)."""
        return ((str(k), str(v)) for k, v in self._db.execute(f"SELECT k, v FROM {self._name} ORDER BY k"))


class KeptCounts:
    """The run's published counts, one per count key (a later reading of a key replaces the earlier)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, readings: Sequence[CountReading]) -> None:
        for reading in readings:
            self._table[reading.key] = reading.model_dump_json()

    def __iter__(self) -> Iterator[CountReading]:
        """The readings in key order, parsed one at a time."""
        return (CountReading.model_validate_json(v) for _, v in self._table.rows())

    def __len__(self) -> int:
        return len(self._table)


class SeenSet(MutableSet[str]):
    """A set of strings kept in a scratch table."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._table = Table(db, name)

    def add(self, value: str) -> None:
        self._table[value] = ""

    def discard(self, value: str) -> None:
        self._table.pop(value, None)

    def __contains__(self, value: object) -> bool:
        return value in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)
