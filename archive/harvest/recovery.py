"""The media files a crashed run stored before it could save the harvest state.

A run that stored some WARC files and was then killed saved no state, so the next run does not
know the media files it archived. Its records are recovered (from the work folder or the index),
but a media file is not a record: without this the rerun would fetch and store every such file a
second time. The recovered records name the files they are in, and so the crashed runs; the media
responses in those runs' stored files become known again (URL → SHA-256 and WARC location), so the
rerun neither fetches nor stores them again, and its records point at the copies already kept.

Only done after a crash (when records were recovered), so it costs nothing on a normal run.
"""

from __future__ import annotations

import hashlib

from schemas import Record, WarcLocation

from ..connectors.media import ALLOWED
from ..store import BlobStore
from ..warc.naming import WARC_SUFFIX, is_warc_key
from ..warc.reader import iter_records


def run_of(name: str) -> str | None:
    """The run id in a WARC file name `{account}-{class}-{YYYYMM}-{run}-{seq}.warc.gz`."""
    parts = name.rsplit("/", 1)[-1].removesuffix(WARC_SUFFIX).rsplit("-", 3)
    return parts[2] if len(parts) == 4 else None


def stored_media(store: BlobStore, account: str, recovered: list[Record]) -> dict[str, tuple[str, WarcLocation]]:
    """URL → (SHA-256, location) of every media file stored by the runs the recovered records came from.

    A media file is known by the URL it was fetched from (the response's target URI) and, where a
    recovered record shows it, by the URL the record names (which differs when the platform redirected).
    """
    found = _responses(store, account, {run_of(r.warc.filename) for r in recovered if r.warc is not None})
    by_digest = {sha: (sha, location) for sha, location in found.values()}
    for record in recovered:
        for ref in record.media:
            if ref.sha256 in by_digest:
                found.setdefault(ref.url, by_digest[ref.sha256])
    return found


def _responses(store: BlobStore, account: str, runs: set[str | None]) -> dict[str, tuple[str, WarcLocation]]:
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
            if not ctype.startswith(ALLOWED) or not digest.startswith("sha256:") or not url:
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
