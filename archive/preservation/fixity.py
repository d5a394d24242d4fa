"""Fixity: re-read stored WARC files, recompute SHA-256, compare with what was recorded at storage.

Two digests were recorded when a file was stored: the manifest's `sha256` (computed while the
file was written) and the storage checksum (S3 object metadata, verified by the server on upload;
the local store's sidecar). A run streams each chosen file, hashes it and compares with both, so
bit rot, a replaced object and a tampered manifest are each told apart. It also pairs every
manifest with its file and every file with its manifest across the whole archive (cheap: two
listings), because a lost file is the worst finding and must not wait for its turn in the rotation.

Every checked file gets a PREMIS "fixity check" event with its outcome (PR-1, ND-1). A rotating
share (1/N of the files per run, so all of them every N runs) keeps a weekly run's reading
bounded; where the rotation stands is kept in the store as a new object per run, as the harvest
state is, so any worker host can continue it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError

from schemas import WarcFileManifest
from schemas.fixity import FileFixity, FixityProblem, FixityProblemKind, FixityReport, FixityState
from schemas.premis import PremisEventType, PremisOutcome

from .. import clock
from ..errors import StoreError
from ..faults import CrashPoint, crash_point
from ..store import BlobStore
from ..warc.naming import is_warc_key
from .premis import PremisLog

log = logging.getLogger(__name__)

STATE_PREFIX = "fixity/state/"
DEFAULT_SHARE = 4
"""Weekly runs with a quarter each: every file is re-read about once a month."""
CHUNK = 1024 * 1024

Kind = FixityProblemKind


# --- the rotation state ----------------------------------------------------------------------


def load_fixity_state(store: BlobStore) -> FixityState:
    """The newest saved state, or a fresh one (the rotation starts at the first file)."""
    keys = sorted(store.keys(STATE_PREFIX))
    if not keys:
        return FixityState()
    with store.open(keys[-1]) as fh:
        return FixityState.model_validate(json.loads(fh.read()))


def save_fixity_state(store: BlobStore, state: FixityState) -> FixityState:
    """Save as the next sequence number (write-once keys: the states are the rotation's history)."""
    saved = state.model_copy(update={"seq": state.seq + 1, "saved_at": clock.now()})
    store.put_bytes(f"{STATE_PREFIX}{saved.seq:012d}.json", saved.model_dump_json().encode("utf-8"))
    return saved


def select_share(keys: list[str], cursor: str | None, share: int) -> tuple[list[str], bool]:
    """The next 1/`share` of the sorted `keys` after `cursor`, and whether it ends the cycle.

    Keyed by the last key checked, not a position, so files stored or disposed of between runs
    shift nothing: a new file is checked when the rotation reaches its place.
    """
    if not keys:
        return [], True
    size = math.ceil(len(keys) / share)
    start = bisect_right(keys, cursor) if cursor is not None else 0
    if start >= len(keys):
        start = 0
    chosen = keys[start : start + size]
    return chosen, start + size >= len(keys)


# --- pairing files and manifests ---------------------------------------------------------------


def manifest_key_for(file_key: str) -> str:
    """`warc/{account}/{name}` → `manifest/{account}/{name}.json` (archive/warc/naming.py)."""
    return "manifest/" + file_key.removeprefix("warc/") + ".json"


def file_key_for(manifest_key: str) -> str:
    return "warc/" + manifest_key.removeprefix("manifest/").removesuffix(".json")


def pair(store: BlobStore) -> tuple[list[str], set[str], list[str]]:
    """(every stored WARC file key, the manifests' keys, manifests whose file is not stored).

    Files are listed before manifests: a file is stored before its manifest, so a harvest
    committing between the two listings cannot make a manifest look orphaned.
    """
    files = sorted(k for k in store.keys("warc/") if is_warc_key(k))
    manifests = {k for k in store.keys("manifest/") if k.endswith(".json")}
    stored = set(files)
    orphans = sorted(m for m in manifests if file_key_for(m) not in stored)
    return files, manifests, orphans


# --- one file ------------------------------------------------------------------------------


def _read_manifest(store: BlobStore, key: str) -> WarcFileManifest:
    with store.open(key) as fh:
        return WarcFileManifest.model_validate_json(fh.read())


def _hash(store: BlobStore, key: str) -> tuple[str, int]:
    """SHA-256 and length of the whole object, streamed (files are up to the 1 GiB rollover)."""
    digest, size = hashlib.sha256(), 0
    with store.open(key) as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def check_file(store: BlobStore, key: str, *, has_manifest: bool = True) -> FileFixity:
    """Re-read one stored file and compare its SHA-256 and size with the manifest and storage."""
    mkey = manifest_key_for(key)
    problems: list[FixityProblem] = []
    manifest: WarcFileManifest | None = None
    if not has_manifest:
        problems.append(FixityProblem(kind=Kind.MISSING_MANIFEST, key=key, detail=f"no {mkey}"))
    else:
        try:
            manifest = _read_manifest(store, mkey)
        except (StoreError, ValidationError, ValueError) as exc:
            problems.append(FixityProblem(kind=Kind.BAD_MANIFEST, key=mkey, detail=str(exc).splitlines()[0]))
        if manifest is not None and manifest.key != key:
            problems.append(FixityProblem(kind=Kind.BAD_MANIFEST, key=mkey, detail=f"names {manifest.key}"))
    stored = store.head(key)
    if stored is None:
        problems.append(FixityProblem(kind=Kind.MISSING_FILE, key=key, detail="gone while the run was checking"))
        return FileFixity(
            key=key, manifest_key=mkey, problems=problems, manifest_sha256=manifest.sha256 if manifest else None
        )
    if stored.sha256 is None:
        problems.append(FixityProblem(kind=Kind.NO_STORAGE_CHECKSUM, key=key))
    try:
        computed, size = _hash(store, key)
    except (StoreError, OSError) as exc:
        detail = exc.one_line() if isinstance(exc, StoreError) else str(exc)
        problems.append(FixityProblem(kind=Kind.UNREADABLE, key=key, detail=detail))
        return FileFixity(
            key=key,
            manifest_key=mkey,
            manifest_sha256=manifest.sha256 if manifest else None,
            storage_sha256=stored.sha256,
            problems=problems,
        )
    if manifest is not None and computed != manifest.sha256:
        problems.append(
            FixityProblem(kind=Kind.MANIFEST_MISMATCH, key=key, detail=f"read {computed}, manifest {manifest.sha256}")
        )
    if manifest is not None and size != manifest.bytes:
        problems.append(
            FixityProblem(kind=Kind.SIZE_MISMATCH, key=key, detail=f"read {size} bytes, manifest {manifest.bytes}")
        )
    if stored.sha256 is not None and computed != stored.sha256:
        problems.append(
            FixityProblem(kind=Kind.STORAGE_MISMATCH, key=key, detail=f"read {computed}, storage {stored.sha256}")
        )
    return FileFixity(
        key=key,
        manifest_key=mkey,
        bytes_read=size,
        computed_sha256=computed,
        manifest_sha256=manifest.sha256 if manifest else None,
        storage_sha256=stored.sha256,
        problems=problems,
    )


# --- a run ---------------------------------------------------------------------------------


def _disposed(premis: PremisLog | None, file_key: str) -> bool:
    """A file whose deletion is a recorded event was disposed of, not lost."""
    if premis is None:
        return False
    return any(
        e.outcome is PremisOutcome.SUCCESS
        for e in premis.events(object_id=file_key, type=PremisEventType.DELETION, limit=10)
    )


def _record(premis: PremisLog | None, result: FileFixity) -> None:
    if premis is None:
        return
    outcome = PremisOutcome.SUCCESS if result.ok else PremisOutcome.FAILURE
    premis.record(
        PremisEventType.FIXITY_CHECK,
        objects=[result.key, result.manifest_key],
        sha256=result.computed_sha256,
        outcome=outcome,
        detail=f"SHA-256 recomputed from {result.bytes_read} bytes read from storage, compared with "
        f"the manifest ({result.manifest_sha256 or 'none'}) and the storage checksum "
        f"({result.storage_sha256 or 'none'})",
        outcome_detail="; ".join(p.line() for p in result.problems),
    )


def run_fixity(
    store: BlobStore,
    premis: PremisLog | None,
    *,
    share: int = DEFAULT_SHARE,
    check_all: bool = False,
    now: datetime | None = None,
    progress: Callable[[FileFixity], None] | None = None,
) -> FixityReport:
    """Check the next share of files (or all), pair every manifest with its file, record events, save state."""
    if share < 1:
        raise ValueError("share must be at least 1")
    started = now or clock.now()
    state = load_fixity_state(store)
    files, manifests, orphans = pair(store)
    problems: list[FixityProblem] = []
    disposed = 0
    for mkey in orphans:
        fkey = file_key_for(mkey)
        if _disposed(premis, fkey):
            disposed += 1
            continue
        missing = FileFixity(
            key=fkey,
            manifest_key=mkey,
            problems=[
                FixityProblem(kind=Kind.MISSING_FILE, key=fkey, detail=f"{mkey} names it; the store does not have it")
            ],
        )
        _record(premis, missing)
        problems.extend(missing.problems)
    full = check_all or share == 1
    chosen, cycle_complete = (files, True) if full else select_share(files, state.cursor, share)
    results: list[FileFixity] = []
    for key in chosen:
        if results:
            crash_point(CrashPoint.FIXITY_MID_RUN)
        has_manifest = manifest_key_for(key) in manifests
        result = check_file(store, key, has_manifest=has_manifest)
        _record(premis, result)
        results.append(result)
        problems.extend(result.problems)
        if progress:
            progress(result)
    # Files without a manifest outside this run's share are still reported now (a listing finds them).
    checked = set(chosen)
    problems.extend(
        FixityProblem(kind=Kind.MISSING_MANIFEST, key=k, detail=f"no {manifest_key_for(k)}")
        for k in files
        if k not in checked and manifest_key_for(k) not in manifests
    )
    finished = clock.now()
    report = FixityReport(
        started_at=started,
        finished_at=finished,
        share=1 if full else share,
        files_total=len(files),
        files_checked=len(results),
        bytes_read=sum(r.bytes_read for r in results),
        disposed=disposed,
        cycle_complete=cycle_complete,
        files=results,
        problems=problems,
    )
    starting_cycle = not full and bool(chosen) and chosen[0] == files[0]
    save_fixity_state(
        store,
        state.model_copy(
            update={
                "cursor": state.cursor if full else (None if cycle_complete else chosen[-1] if chosen else None),
                "runs": state.runs + 1,
                "cycle_started_at": started if starting_cycle else state.cycle_started_at,
                "last_cycle_completed_at": finished if cycle_complete else state.last_cycle_completed_at,
                "last_ok": report.ok,
                "last_problems": len(problems),
            }
        ),
    )
    level = logging.ERROR if problems else logging.INFO
    log.log(level, "fixity: %s of %s files checked, %s problems", len(results), len(files), len(problems))
    return report


def markdown_report(report: FixityReport) -> str:
    """The flow's artifact: the verdict first, then one row per problem."""
    verdict = "**All checked files match.**" if report.ok else f"**{len(report.problems)} PROBLEM(S) FOUND.**"
    scope = "every file" if report.share == 1 else f"a rotating 1/{report.share} of the files"
    lines = [
        "# Fixity check",
        "",
        verdict,
        "",
        f"- Checked: {report.files_checked} of {report.files_total} stored WARC files ({scope}), "
        f"{report.bytes_read:,} bytes re-read",
        f"- Every manifest paired with its file and every file with its manifest (whole archive); "
        f"{report.disposed} manifest(s) of disposed files",
        f"- Rotation {'completed a cycle' if report.cycle_complete else 'continues next run'}",
        f"- Started {report.started_at:%Y-%m-%d %H:%M:%S %Z}, finished {report.finished_at:%H:%M:%S %Z}",
        "",
    ]
    if report.problems:
        lines += ["| problem | object | detail |", "|---|---|---|"]
        lines += [f"| {p.kind.value} | `{p.key}` | {p.detail.replace('|', '/')} |" for p in report.problems]
    return "\n".join(lines) + "\n"
