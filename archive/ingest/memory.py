"""What a run remembers: asked of earlier runs while it writes, read back once at the end.

Two things carry over from run to run. Revisit targets: a response whose payload was stored in
full earlier (same disposal group, same digest) is written as a `revisit` record pointing at it,
not stored again. Media locations: a media file's SHA-256 → the WARC record holding it, so a record
that shows the file points at the copy already kept. The harvest answers both from its table
(`earlier_payload`, `earlier_media`: one document by id each) and saves what the run learned; a
plain `communis ingest` starts knowing nothing. Nothing else goes into the pipeline or comes out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from schemas import SeenPayload, WarcLocation


def _nothing(_key: str) -> None:
    return None


@dataclass
class RunMemory:
    """Revisit targets and media locations, as earlier runs left them and as learned during this one."""

    earlier_payload: Callable[[str], SeenPayload | None] = _nothing
    """A response stored in full by an earlier run, by `group|digest`."""
    earlier_media: Callable[[str], WarcLocation | None] = _nothing
    """The WARC response record of a media file an earlier run archived, by its SHA-256."""
    media_locations: dict[str, WarcLocation] = field(default_factory=dict)
    """SHA-256 of a media file archived by this run (or a crashed one recovered) → its WARC response record."""
    written: dict[str, SeenPayload] = field(default_factory=dict)
    """Responses this run stored in full."""

    def find(self, group: str, payload_digest: str) -> dict[str, str] | None:
        """The WARC writer's PayloadLookup: an earlier full response with this payload in this group."""
        found = self.earlier_payload(f"{group}|{payload_digest}")
        if found is None:
            return None
        return {"record_id": found.record_id, "uri": found.uri, "date": found.date}

    def media_location(self, sha256: str) -> WarcLocation | None:
        """Where the media file with this SHA-256 is archived, if it is."""
        return self.media_locations.get(sha256) or self.earlier_media(sha256)

    def learn_media(self, sha256: str, location: WarcLocation) -> None:
        """A media file archived (by this run, or by a crashed one whose files were recovered)."""
        self.media_locations.setdefault(sha256, location)

    def learn_written(self, originals: dict[tuple[str, str], dict[str, str]]) -> None:
        """The responses the writer stored in full this run, by (disposal group, payload digest)."""
        for (group, digest), original in originals.items():
            self.written[f"{group}|{digest}"] = SeenPayload(
                digest=digest, record_id=original["record_id"], uri=original["uri"], date=original["date"], group=group
            )
