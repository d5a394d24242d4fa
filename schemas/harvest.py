"""Harvest state: what Communis knows about each account between runs.

Kept in the archive store (not on one machine's disk) and written only after the WARC files
holding a run's captures are stored and indexed, so a crash at any moment is followed by a
run that neither skips nor duplicates.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ._base import Model
from .record import WarcLocation


class KnownItem(Model):
    """The latest archived version of one item."""

    content_sha256: str
    record_id: str
    version: int = Field(ge=1)
    kind: str
    direction: str
    parent_id: str | None = None
    url: str | None = None
    first_seen: datetime
    last_seen: datetime
    published_at: datetime | None = None
    deleted: bool = False
    thread_id: str | None = None


class SeenPayload(Model):
    """The last stored response for one URL, so an unchanged re-read is written as a revisit."""

    digest: str
    record_id: str
    uri: str
    date: str
    group: str


class HarvestState(Model):
    """Per-account cursor, known items and health."""

    account: str
    cursor: dict[str, str] = Field(default_factory=dict, description="Connector watermarks (opaque).")
    known: dict[str, KnownItem] = Field(default_factory=dict, description="By item id.")
    payloads: dict[str, SeenPayload] = Field(
        default_factory=dict, description="Last run's stored responses, by group|digest."
    )
    media: dict[str, str] = Field(default_factory=dict, description="Media URL → SHA-256 of the archived file.")
    media_warc: dict[str, WarcLocation] = Field(
        default_factory=dict, description="SHA-256 of an archived media file → the WARC response record holding it."
    )
    markers: dict[str, str] = Field(
        default_factory=dict,
        description="Item id → the platform's activity marker when last read (comment count, updated_time, cid).",
    )
    last_sweep: datetime | None = Field(default=None, description="When whole listings were last walked.")
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    runs: int = 0
    saved_at: datetime | None = Field(default=None, description="When this state was saved.")
    seq: int = Field(default=0, description="Increments with every saved state; part of its storage key.")
