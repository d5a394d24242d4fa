"""Recovery, in one place: what an interrupted run left behind, found again before the next run writes.

Three things can be left, and each is found here:

1. **Files in the work folder** (`commit_leftovers`): finalized WARC files that were not yet stored
   or indexed (the store or Elasticsearch was down, or the process was killed) are committed now;
   what cannot be committed (a half-written `.open` file, a file that does not read back whole) is
   put aside in `crashed/` by workdir.py and reported in one line.
2. **Versions stored after the harvest state was last saved** (`archived_since`): a run killed after
   it stored and indexed some files saved no state, so the next run would write those versions
   again. The index knows them; when it cannot be asked, the stored files themselves are read.
3. **Media files those runs stored** (`stored_media`): a media file is not a record, so without this
   a rerun would fetch and store every such file a second time.

`recover` (`Pipeline.recover`) does all three for one account and teaches the run's memory the media it
found;
the harvest learns the versions from the records it returns. On a normal run (nothing left, no
state saved in between) it costs one index query.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from schemas import Record, WarcLocation

from ..bundles import MEDIA_TYPES
from ..errors import SearchIndexError, StoreUnavailable
from ..index import RecordIndex, from_document, queries
from ..store import BlobStore
from ..warc import FinalizedFile, located_records
from ..warc.naming import WARC_SUFFIX, is_warc_key
from ..warc.reader import iter_records
from .commit import Committer
from .memory import RunMemory
from .quarantine import upload_pending
from .workdir import MANIFEST_SUFFIX, account_for_leftovers, read_manifest

log = logging.getLogger(__name__)


def commit_leftovers(committer: Committer, account: str | None = None) -> list[Record]:
    """Store and index finalized files an earlier, interrupted run left behind (of `account`).

    Returns their records, so the harvest state can learn the versions they hold.
    """
    work_dir, store, report = committer.work_dir, committer.store, committer.report
    recovered: list[Record] = []
    if not work_dir.exists():
        return recovered
    try:
        upload_pending(store, work_dir)
    except StoreUnavailable as exc:
        committer.unavailable = exc
        return recovered
    report.crashed.extend(account_for_leftovers(work_dir, committer.class_by_name, account))
    for sidecar in sorted(work_dir.glob("*" + MANIFEST_SUFFIX)):
        manifest = read_manifest(sidecar)
        if manifest is None:  # account_for_leftovers rebuilt or moved every bad one; written since?
            report.crashed.append(f"{sidecar.name}: unreadable manifest; left for the next run")
            continue
        if account is not None and manifest.account != account:
            continue
        path = work_dir / manifest.name
        if not path.exists():
            sidecar.unlink(missing_ok=True)
            continue
        log.warning("committing %s left by run %s", manifest.name, manifest.run_id)
        with path.open("rb") as fh:
            records = list(located_records(fh, manifest.name))
        committer.commit(FinalizedFile(path, manifest), records)
        recovered.extend(records)
    return recovered


def archived_since(index: RecordIndex, store: BlobStore, account: str, since: datetime | None) -> list[Record]:
    """Versions a killed or failed run stored and indexed after the state saved at `since`: known, not new.

    With no state saved yet (`since` None), every version of the account counts: a first run that
    stored some files and then stopped (the store went away, a kill) saved no state, and its files
    are no longer in the work folder, so only the index knows them.
    """
    try:
        return [from_document(doc) for doc in queries.account_versions(index, account, captured_since=since)]
    except SearchIndexError as exc:
        log.warning(
            "account=%s: cannot reconcile with the index (%s); reading the stored files instead",
            account,
            exc.one_line(),
        )
        return stored_since(store, account, since)


def stored_since(store: BlobStore, account: str, since: datetime | None) -> list[Record]:
    """The same versions read from the stored WARC files themselves, for when the index cannot be asked.

    Without this a rerun while Elasticsearch is down would write again what a failed run stored. File
    names carry their capture month, so only files of the state's month and later are opened.
    """
    first_month = f"{since:%Y%m}" if since is not None else ""
    found: list[Record] = []
    for key in store.keys(f"warc/{account}/"):
        if not is_warc_key(key):
            continue
        parts = key.rsplit("/", 1)[-1].removesuffix(WARC_SUFFIX).rsplit("-", 3)
        if len(parts) == 4 and parts[1] < first_month:
            continue
        with store.open(key) as fh:
            found.extend(r for r in located_records(fh, key) if since is None or r.captured_at >= since)
    return found


def run_of(name: str) -> str | None:
    """The run id in a WARC file name `{account}-{class}-{YYYYMM}-{run}-{seq}.warc.gz`."""
    parts = name.rsplit("/", 1)[-1].removesuffix(WARC_SUFFIX).rsplit("-", 3)
    return parts[2] if len(parts) == 4 else None


def stored_media(store: BlobStore, account: str, recovered: list[Record]) -> dict[str, tuple[str, WarcLocation]]:
    """URL → (SHA-256, location) of every media file stored by the runs the recovered records came from.

    The recovered records name the files they are in, and so the crashed runs; the media responses in
    those runs' stored files become known again. A media file is known by the URL it was fetched from
    (the response's target URI) and, where a recovered record shows it, by the URL the record names
    (which differs when the platform redirected).
    """
    found = _media_responses(store, account, {run_of(r.warc.filename) for r in recovered if r.warc is not None})
    by_digest = {sha: (sha, location) for sha, location in found.values()}
    for record in recovered:
        for ref in record.media:
            if ref.sha256 in by_digest:
                found.setdefault(ref.url, by_digest[ref.sha256])
    return found


def _media_responses(store: BlobStore, account: str, runs: set[str | None]) -> dict[str, tuple[str, WarcLocation]]:
    runs = runs - {None}
    found: dict[str, tuple[str, WarcLocation]] = {}
    if not runs:
        return found
    for key in store.keys(f"warc/{account}/"):
        if not is_warc_key(key) or run_of(key) not in runs:
            continue
        name = key.rsplit("/", 1)[-1]
        with store.open(key) as fh:
            responses = [rec for rec in iter_records(fh) if rec.warc_type == "response"]
        for rec in responses:
            http = rec.record.http_headers
            ctype = http.get_header("Content-Type", "") if http is not None else ""
            digest = rec.record.rec_headers.get_header("WARC-Payload-Digest") or ""
            url = rec.record.rec_headers.get_header("WARC-Target-URI")
            if not ctype.startswith(MEDIA_TYPES) or not digest.startswith("sha256:") or not url:
                continue
            member = store.get_range(key, rec.offset, rec.length)
            found[url] = (
                digest.removeprefix("sha256:"),
                WarcLocation(
                    filename=name,
                    offset=rec.offset,
                    length=rec.length,
                    sha256=hashlib.sha256(member).hexdigest(),
                    record_id=rec.record_id,
                ),
            )
    return found


@dataclass
class Recovered:
    """What `recover` found of one account's interrupted runs."""

    records: list[Record] = field(default_factory=list)
    """Versions already archived: the harvest knows them and writes none of them again."""
    media: dict[str, str] = field(default_factory=dict)
    """URL → SHA-256 of media files already archived: not fetched or stored again."""


def recover(committer: Committer, memory: RunMemory, account: str, since: datetime | None) -> Recovered:
    """All three kinds of leftovers of one account, before its run writes anything (state saved at `since`)."""
    records = [*commit_leftovers(committer, account), *archived_since(committer.index, committer.store, account, since)]
    media = stored_media(committer.store, account, records) if records else {}
    for sha, location in media.values():
        memory.learn_media(sha, location)
    return Recovered(records, {url: sha for url, (sha, _) in media.items()})
