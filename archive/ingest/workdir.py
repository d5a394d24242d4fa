"""The local work folder: manifest sidecars written atomically, and what a crashed run left behind.

A finalized WARC file waits in the work folder with its manifest beside it until it is stored and
indexed (pipeline.py). A crash (SIGKILL, power cut, OOM killer) can leave three kinds of leftovers,
and each is accounted for before the next run writes anything:

- `NAME.warc.gz.open`: a file that was still being written. Nothing of it was stored or indexed
  and the harvest state was not saved, so the next run fetches the same captures again from the
  platform. Storing it would store them twice, deleting it would destroy evidence: it is moved to
  `crashed/` and reported in one line.
- `NAME.warc.gz` without a manifest, or with a half-written / unreadable one: the rename happens
  only after the fsync, so a file with its final name is complete. Its manifest is rebuilt from the
  file alone (warcinfo record, record dates, SHA-256) and the file is committed as usual. A file
  that does not read back whole is moved to `crashed/` with its sidecar and reported.
- a manifest whose WARC file is gone: the file was committed and removed, only the sidecar's
  removal was lost; the sidecar is removed.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from schemas import RetentionClass, WarcFileManifest

from ..durable import fsync_path
from ..errors import CommunisError, WarcError
from ..faults import CrashPoint, armed, crash_point
from ..warc.naming import OPEN_SUFFIX, WARC_SUFFIX, warc_key
from ..warc.reader import iter_records
from ..warc.records import METADATA_CONTENT_TYPE, parse_records_json

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".manifest.json"
CRASHED = "crashed"
"""Sub-folder of the work folder where leftovers that cannot be committed are kept for inspection."""


def sidecar_path(work_dir: Path, name: str) -> Path:
    return work_dir / (name + MANIFEST_SUFFIX)


def write_manifest(work_dir: Path, manifest: WarcFileManifest) -> Path:
    """Write the sidecar through a temporary file, fsync, rename, fsync the folder: whole or absent."""
    path = sidecar_path(work_dir, manifest.name)
    tmp = path.with_name(path.name + ".tmp")
    data = manifest.model_dump_json(indent=2).encode("utf-8")
    half = len(data) // 2 if armed(CrashPoint.MANIFEST_MID_WRITE) else len(data)
    with tmp.open("wb") as fh:
        fh.write(data[:half])
        if half < len(data):  # half of it on disk, then the crash
            fh.flush()
            crash_point(CrashPoint.MANIFEST_MID_WRITE)
            fh.write(data[half:])
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_path(work_dir)
    return path


def read_manifest(sidecar: Path) -> WarcFileManifest | None:
    """The sidecar's manifest, or None when it is half written or not a manifest."""
    try:
        return WarcFileManifest.model_validate_json(sidecar.read_bytes())
    except (ValidationError, ValueError, OSError):
        return None


def _warc_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _last_member_whole(path: Path, offset: int) -> None:
    """The file's last gzip member ends with its trailer: a cut inside the trailer (CRC, length) leaves a
    record that reads back whole, in a file no gzip reader accepts. Earlier members are followed by the
    next one, so a cut in them cannot go unseen."""
    with path.open("rb") as fh:
        fh.seek(offset)
        try:
            gzip.decompress(fh.read())
        except (EOFError, OSError, zlib.error) as exc:
            raise WarcError(f"{path.name}: its last record's gzip member is cut short ({exc})") from None


def manifest_from_file(path: Path, retention_class: Callable[[str], RetentionClass]) -> WarcFileManifest:
    """Rebuild a finalized file's manifest from the file alone; WarcError if it does not read back whole.

    The values are the ones the writer put in the manifest: account, class, department, run and software
    from the warcinfo record, capture times from the other records' WARC-Date (the capture's start, to
    the microsecond), retain-until from the class, size and SHA-256 from the bytes.
    """
    info: dict[str, str] = {}
    count, first, last, end, last_offset = 0, None, None, 0, 0
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for rec in iter_records(fh):
                count += 1
                end, last_offset = rec.offset + rec.length, rec.offset
                # Communis writes a block digest on every record, so one without it is damage too: a file
                # cut inside a record's headers reads back as a record whose headers simply end early.
                if rec.record.digest_checker.passed is not True:
                    raise WarcError(f"{path.name}: record at offset {rec.offset} is incomplete or damaged")
                if (
                    rec.warc_type == "metadata"
                    and rec.record.rec_headers.get_header("Content-Type") == METADATA_CONTENT_TYPE
                ):
                    parse_records_json(rec.content)  # ValueError if its record set does not parse
                if rec.warc_type == "warcinfo":
                    info = dict(
                        line.split(": ", 1) for line in rec.content.decode("utf-8").splitlines() if ": " in line
                    )
                    continue
                moment = _warc_time(str(rec.record.rec_headers.get_header("WARC-Date")))
                first = moment if first is None else min(first, moment)
                last = moment if last is None else max(last, moment)
        with path.open("rb") as fh:
            while block := fh.read(1024 * 1024):
                digest.update(block)
    except WarcError:
        raise
    except Exception as exc:  # warcio and gzip raise many kinds on a damaged file
        raise WarcError(f"{path.name} does not read back as a WARC file: {exc}") from exc
    if end != path.stat().st_size:
        raise WarcError(f"{path.name} ends in the middle of a record (at byte {end} of {path.stat().st_size})")
    _last_member_whole(path, last_offset)
    missing = [k for k in ("account", "retention-class", "run-id", "software") if k not in info]
    if missing or last is None:
        raise WarcError(f"{path.name} has no usable warcinfo record or no captures (missing: {missing})")
    rclass = retention_class(info["retention-class"])
    return WarcFileManifest(
        name=path.name,
        key=warc_key(info["account"], path.name),
        account=info["account"],
        retention_class=rclass.name,
        bytes=path.stat().st_size,
        sha256=digest.hexdigest(),
        records=count,
        first_capture=first,
        last_capture=last,
        retain_until=rclass.retain_until(last),
        run_id=info["run-id"],
        software=info["software"],
        department=info.get("department") or None,
    )


def _move_aside(work_dir: Path, paths: list[Path], why: str) -> str:
    crashed = work_dir / CRASHED
    crashed.mkdir(exist_ok=True)
    for path in paths:
        if path.exists():
            os.replace(path, crashed / path.name)
    fsync_path(work_dir)
    fsync_path(crashed)
    message = f"{paths[0].name}: {why}; moved to {crashed}"
    log.warning("%s", message)
    return message


def account_for_leftovers(
    work_dir: Path, retention_class: Callable[[str], RetentionClass], account: str | None = None
) -> list[str]:
    """Make every leftover of a crashed run committable or put it aside; one line per file put aside.

    After this the work folder holds only complete WARC files each with a valid manifest beside it.
    With `account`, `.open` files of other accounts (by name) are left alone: a harvest has a work
    folder of its own per account, but `communis ingest` runs share one.
    """
    problems: list[str] = []
    if not work_dir.exists():
        return problems
    for tmp in work_dir.glob("*" + MANIFEST_SUFFIX + ".tmp"):  # a sidecar never renamed into place
        tmp.unlink(missing_ok=True)
    for open_file in sorted(work_dir.glob("*" + OPEN_SUFFIX)):
        if account is not None and not open_file.name.startswith(account + "-"):
            continue
        problems.append(
            _move_aside(
                work_dir,
                [open_file],
                "left half-written by a crashed run; nothing of it was stored or indexed and "
                "its captures are fetched again because the harvest state was not saved",
            )
        )
    for sidecar in sorted(work_dir.glob("*" + MANIFEST_SUFFIX)):
        name = sidecar.name.removesuffix(MANIFEST_SUFFIX)
        if not (work_dir / name).exists():  # committed; only the sidecar's removal was lost
            sidecar.unlink(missing_ok=True)
    for path in sorted(work_dir.glob("*" + WARC_SUFFIX)):
        sidecar = sidecar_path(work_dir, path.name)
        if sidecar.exists() and read_manifest(sidecar) is not None:
            continue
        try:
            manifest = manifest_from_file(path, retention_class)
        except (CommunisError, KeyError, ValueError) as exc:
            problems.append(_move_aside(work_dir, [path, sidecar], f"cannot be committed ({exc})"))
            continue
        log.warning(
            "%s: manifest %s; rebuilt from the file", path.name, "unreadable" if sidecar.exists() else "missing"
        )
        write_manifest(work_dir, manifest)
    return problems
