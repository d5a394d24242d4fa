"""Records pointing at the WARC records that hold their media files."""

from __future__ import annotations

from collections.abc import Callable

from schemas import CaptureBundle, MediaRef, WarcLocation


def with_media_locations(bundle: CaptureBundle, locate: Callable[[str], WarcLocation | None]) -> CaptureBundle:
    """The bundle with each media reference pointing at the WARC record that holds its file.

    Media are fetched and written before the records that show them (connectors/media.py), and a
    reference knows its file's SHA-256, so the location is known by the time the record is
    written, and it goes into the record's JSON in the WARC metadata record: a reindex keeps it.
    The location is outside the content hash, so it never makes a new version.
    """

    def found(m: MediaRef) -> WarcLocation | None:
        return locate(m.sha256) if m.warc is None and m.sha256 else None

    if not any(found(m) for r in bundle.records for m in r.media):
        return bundle
    records = [
        r.model_copy(update={"media": [m.model_copy(update={"warc": found(m)}) if found(m) else m for m in r.media]})
        if r.media
        else r
        for r in bundle.records
    ]
    return bundle.model_copy(update={"records": records})
