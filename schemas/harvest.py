"""Harvest state: what Communis knows about each account between runs.

Kept in the archive store (not on one machine's disk) and written only after the WARC files
holding a run's captures are stored and indexed, so a crash at any moment is followed by a
run that neither skips nor duplicates.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ._base import Model


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
    """Per-account cursor and health: the small head of the harvest state, rewritten by every run.

    What Communis knows of each item (its latest version, activity marker, media, revisit targets)
    is not in here: it lives one document per item in the harvest table (archive/index/harvest_table.py),
    so a run reads and writes only the items it touches, however long the account's history is."""

    account: str
    cursor: dict[str, str] = Field(default_factory=dict, description="Connector watermarks (opaque).")
    last_sweep: datetime | None = Field(default=None, description="When whole listings were last walked.")
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    gap_cause: str | None = Field(
        default=None,
        description="Why the last run read nothing, when it opens a completeness gap until someone acts "
        "(token refused, permission lost, rate limit exhausted, account gone or renamed).",
    )
    runs: int = 0
    backfill: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Items a completeness check found short: the next run reads their threads again.",
    )
    gap_runs: int = Field(default=0, ge=0, description="Runs in a row that ended with a completeness gap.")
    completeness: str | None = Field(default=None, description="The last run's completeness check, one line.")
    saved_at: datetime | None = Field(default=None, description="When this state was saved.")
    seq: int = Field(default=0, description="Increments with every saved state.")


class RunSummary(Model):
    """One harvest run of one account, as kept in the bounded run history (a ring of the last runs)."""

    account: str
    seq: int = Field(description="The state's seq this run saved.")
    run_id: str
    started_at: datetime = Field(description="The run's `now` (the harvest's clock).")
    finished_at: datetime
    seconds: float = Field(default=0.0, description="How long the run took.")
    ok: bool
    complete: bool = Field(description="Every listing was read: the cursor and the markers moved.")
    sweep: bool
    counts: dict[str, int] = Field(
        default_factory=dict, description="Versions by outcome: new, edited, deleted, unchanged, comments, media."
    )
    requests: int = 0
    bytes: int = 0
    files: int = 0
    quarantined: int = 0
    items_written: int = Field(default=0, description="Item-table documents this run wrote.")
    state_bytes: int = Field(default=0, description="Bytes of harvest state this run wrote (items, head, summary).")
    error: str | None = None
