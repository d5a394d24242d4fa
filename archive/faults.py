"""Named crash points: where a test may kill the process to prove that nothing is lost or duplicated.

`COMMUNIS_CRASH_AT=<point>[:<nth>]` (read once, when this module is first imported) arms one
point. At its nth pass (default 1) the process writes one line to stderr naming the point and
kills itself with SIGKILL: no `finally`, no `atexit`, no flush, as the OOM killer does (a power
cut loses more, what was written but not fsynced, so every step a rerun relies on is fsynced).
The line lets a test assert that the point *was reached*, so a crash test can never pass because
the run finished before it.

Unset, `crash_point()` is one comparison with `None`. Every point lives in `CrashPoint`, so the
tests and docs/reliability.md list them from here.

`COMMUNIS_HOLD_AT=<point>@<folder>` arms a *hold* instead, for tests that kill something else than
the process itself (a whole Prefect worker with its flow runs): every pass at the point appends its
process id to `<folder>/<point>.passes`; the first process to get there (across every process
sharing the folder) writes its id to `<folder>/<point>.held` and then blocks, reading the FIFO
`<folder>/<point>.release`, until a test opens it for writing (`release`) or kills the process. It
never sleeps: the test waits for the `.held` file, the holder for the FIFO. Later passes go on.
"""

from __future__ import annotations

import os
import signal
from contextlib import suppress
from enum import StrEnum
from pathlib import Path

ENV = "COMMUNIS_CRASH_AT"
HOLD_ENV = "COMMUNIS_HOLD_AT"
MARK = "communis: crash point reached: "
"""The stderr line written just before the kill (followed by the point's name and pass)."""


class CrashPoint(StrEnum):
    """Every step where a crash could lose or duplicate something. Values are what `COMMUNIS_CRASH_AT` takes."""

    # Writing WARC files
    WARC_MID_RECORD = "warc.mid-record"
    """Part of one record's gzip member is on disk, the rest is not."""
    WARC_BEFORE_RENAME = "warc.before-rename"
    """The file is complete and fsynced but still named `.open`."""
    WARC_AFTER_RENAME = "warc.after-rename"
    """Renamed to its final name, its manifest sidecar not yet written, nothing uploaded."""
    MANIFEST_MID_WRITE = "manifest.mid-write"
    """The local manifest sidecar is half written (in its temporary file)."""
    # Storing
    STORE_BEFORE_UPLOAD = "store.before-upload"
    """Manifest sidecar on disk, upload of the file not started."""
    STORE_MID_UPLOAD = "store.mid-upload"
    """Part of the file is sent (between multipart parts on S3, half copied on the local store)."""
    STORE_AFTER_UPLOAD = "store.after-upload"
    """The WARC file is stored, its manifest object not yet."""
    STORE_AFTER_MANIFEST = "store.after-manifest"
    """File and manifest stored, no record indexed."""
    # Indexing and the harvest state
    INDEX_MID_BULK = "index.mid-bulk"
    """Some of a file's records are indexed, others not."""
    INDEX_AFTER_BULK = "index.after-bulk"
    """A file is stored and indexed; its local copy not yet removed."""
    HARVEST_BEFORE_STATE = "harvest.before-state-save"
    """Everything of a run stored and indexed, the harvest state not yet saved."""
    STATE_MID_SAVE = "state.mid-save"
    """The new harvest state object is being written."""
    MEDIA_BEFORE_RECORD = "harvest.media-before-record"
    """A media file is written, the record that shows it not yet."""
    # Disposal
    DISPOSE_BETWEEN_VERSIONS = "dispose.between-version-deletes"
    """One object version of a file is deleted, others of the same file not yet."""
    DISPOSE_BEFORE_INDEX = "dispose.before-index-delete"
    """A file is deleted from the store, its records still in the index."""
    DISPOSE_BEFORE_JOURNAL = "dispose.before-journal"
    """A file and its records are gone, the journal entry that says so not yet written."""
    DISPOSE_BEFORE_CERTIFICATE = "dispose.before-certificate"
    """Every file of the list is disposed of, the certificate not yet written."""
    # Legal holds
    HOLD_BEFORE_MARKS = "hold.before-marks"
    """A hold is saved in the store, no record carries its mark yet."""
    HOLD_BETWEEN_MARKS_AND_LOCK = "hold.between-marks-and-lock"
    """Records carry the hold's mark, the files' S3 legal hold not yet set."""
    HOLD_RELEASE_MID = "hold.release-mid"
    """A release is recorded and some files are let go, others still held."""
    # Requests, reindex, fixity
    EXPORT_MID_PACKAGE = "export.mid-package"
    """A request's production package is partly written."""
    REINDEX_MID_FILE = "reindex.mid-file"
    """Some of one stored file's records are reindexed."""
    FIXITY_MID_RUN = "fixity.mid-run"
    """Some files of a fixity run are checked, others not."""


def _armed(value: str | None) -> tuple[CrashPoint, int] | None:
    if not value:
        return None
    name, _, nth = value.partition(":")
    try:
        return CrashPoint(name.strip()), int(nth) if nth else 1
    except ValueError:
        known = ", ".join(p.value for p in CrashPoint)
        raise SystemExit(f"{ENV}={value!r} names no crash point (or a bad pass number); known: {known}") from None


_ARMED = _armed(os.environ.get(ENV))
_passes = 0


def _hold_armed(value: str | None) -> tuple[CrashPoint, Path] | None:
    if not value:
        return None
    name, _, folder = value.partition("@")
    try:
        return CrashPoint(name.strip()), Path(folder)
    except ValueError:
        known = ", ".join(p.value for p in CrashPoint)
        raise SystemExit(f"{HOLD_ENV}={value!r} names no crash point (want <point>@<folder>); known: {known}") from None


_HELD = _hold_armed(os.environ.get(HOLD_ENV))


def hold_files(point: CrashPoint, folder: Path) -> tuple[Path, Path, Path]:
    """The point's `.passes`, `.held` and `.release` (FIFO) files in `folder`."""
    return (folder / f"{point.value}.passes", folder / f"{point.value}.held", folder / f"{point.value}.release")


def _hold(point: CrashPoint, folder: Path) -> None:
    passes, held, release = hold_files(point, folder)
    with passes.open("a") as fh:
        fh.write(f"{os.getpid()}\n")
    try:  # the claim is never removed: exactly one process ever holds
        os.close(os.open(folder / f"{point.value}.claim", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return  # another process holds (or held) the point: this one goes on
    with suppress(FileExistsError):
        os.mkfifo(release, 0o600)
    tmp = folder / f"{point.value}.held.tmp"
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, held)  # whole or absent: the test reads the id as soon as it exists
    with open(release, "rb") as fifo:  # blocks until the test opens it for writing
        fifo.read()


def release(point: CrashPoint, folder: Path) -> None:
    """Let the process held at `point` go on (it must be held: opening the FIFO waits for its reader)."""
    with open(hold_files(point, folder)[2], "wb"):
        pass


def armed(point: CrashPoint) -> bool:
    """Whether `point` is the armed one: lets a hot path split a write in two only when a test asks."""
    return _ARMED is not None and _ARMED[0] is point


def crash_point(point: CrashPoint) -> None:
    """Kill the process here with SIGKILL if this is the armed point's nth pass; otherwise nothing."""
    global _passes
    if _HELD is not None and _HELD[0] is point:
        _hold(point, _HELD[1])
    if _ARMED is None or _ARMED[0] is not point:
        return
    _passes += 1
    if _passes == _ARMED[1]:
        os.write(2, f"{MARK}{point.value} (pass {_passes})\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
