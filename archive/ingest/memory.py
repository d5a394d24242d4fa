"""What a run remembers: handed into the pipeline once at the start, read back once at the end.

Two things carry over from run to run. Revisit targets: a response whose payload was stored in
full earlier (same disposal group, same digest) is written as a `revisit` record pointing at it,
not stored again. Media locations: a media file's SHA-256 → the WARC record holding it, so a record
that shows the file points at the copy already kept. The harvest keeps both in its state; a plain
`communis ingest` starts with an empty memory. Nothing else goes into the pipeline or comes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas import SeenPayload, WarcLocation


@dataclass
class RunMemory:
    """Revisit targets and media locations, as known before the run and as learned during it."""

    payloads: dict[str, SeenPayload] = field(default_factory=dict)
    """Responses stored in full by earlier runs, keyed `group|digest`."""
    media_locations: dict[str, WarcLocation] = field(default_factory=dict)
    """SHA-256 of an archived media file → its WARC response record (earlier runs' and this run's)."""
    revisited: dict[str, SeenPayload] = field(default_factory=dict)
    """The earlier responses this run wrote revisits of (still targets for the next run)."""
    written: dict[str, SeenPayload] = field(default_factory=dict)
    """Responses this run stored in full."""

    def find(self, group: str, payload_digest: str) -> dict[str, str] | None:
        """The WARC writer's PayloadLookup: an earlier full response with this payload in this group."""
        key = f"{group}|{payload_digest}"
        found = self.payloads.get(key)
        if found is None:
            return None
        self.revisited[key] = found
        return {"record_id": found.record_id, "uri": found.uri, "date": found.date}

    def learn_media(self, sha256: str, location: WarcLocation) -> None:
        """A media file archived (by this run, or by a crashed one whose files were recovered)."""
        self.media_locations.setdefault(sha256, location)

    def learn_written(self, originals: dict[tuple[str, str], dict[str, str]]) -> None:
        """The responses the writer stored in full this run, by (disposal group, payload digest)."""
        for (group, digest), original in originals.items():
            self.written[f"{group}|{digest}"] = SeenPayload(
                digest=digest, record_id=original["record_id"], uri=original["uri"], date=original["date"], group=group
            )

    def next_payloads(self) -> dict[str, SeenPayload]:
        """What the next run may revisit: this run's full responses plus the originals it revisited."""
        return {**self.revisited, **self.written}
