"""Public-records request cases: who asked for what, what was found, reviewed and handed out.

A case freezes its result set: running it makes a numbered snapshot of record ids with the
SHA-256 of their stored WARC records, so captures made later never change what was answered;
running it again makes a new snapshot, compared with the one before.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from ._base import Model
from .search import SavedSearch

CASE_ID_PATTERN = r"^case-[0-9]{8}-[0-9a-f]{6}$"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Delivery(Model):
    """One installment handed to the requester (a case may be answered in parts)."""

    number: int = Field(ge=1)
    at: AwareDatetime
    by: str
    records: int = Field(ge=0)
    package: str | None = Field(default=None, description="Name of the production package delivered.")
    note: str = ""


class RequestCase(Model):
    """A request for records; the requester and the reason are optional (SE-7: anyone may ask anonymously)."""

    id: str = Field(pattern=CASE_ID_PATTERN)
    received_at: AwareDatetime
    requester: str | None = Field(default=None, max_length=500)
    request_text: str = Field(default="", max_length=20_000)
    diary_number: str | None = Field(default=None, max_length=100, description="The municipality's dnr.")
    handler: str = Field(min_length=1, max_length=200)
    profile: str = Field(default="se", description="Jurisdiction profile id (response clock, masking grounds).")
    searches: list[SavedSearch] = Field(min_length=1)
    status: CaseStatus = CaseStatus.OPEN
    snapshots: int = Field(default=0, ge=0, description="How many times the searches were run (frozen).")
    deliveries: list[Delivery] = Field(default_factory=list)
    closed_at: AwareDatetime | None = None


class SnapshotEntry(Model):
    """One record version in one frozen snapshot of a case, with the reviewer's decision."""

    case_id: str
    snapshot: int = Field(ge=1)
    record_id: str
    item_key: str
    platform: str
    account: str
    kind: str
    warc_sha256: str | None = Field(default=None, description="SHA-256 of the stored WARC record when frozen.")
    content_sha256: str
    included: bool = True
    reason: str | None = Field(default=None, description="Why the reviewer excluded (or re-included) it.")
    reviewed_by: str | None = None
    reviewed_at: AwareDatetime | None = None
