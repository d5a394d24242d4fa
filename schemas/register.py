"""The channel register (SE-2, SE-13): the municipality's channels and what the archive holds of each.

It is the arkivbeskrivning's list of social-media channels: who owns each one, where it is, when
it was open, under which retention classes its records are kept, and how much was archived when.
A closed channel keeps its entry, with the end date its closure recorded.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from ._base import Model


class AccountClosure(Model):
    """The closure of a channel, kept write-once in the store (`accounts/closures/{account}.json`)."""

    account: str
    closed_at: date = Field(description="The channel's end date, as the register shows it.")
    recorded_at: datetime
    recorded_by: str
    reason: str = ""
    final_run_id: str = Field(description="The final complete harvest made before recording the closure.")
    final_files: list[str] = Field(default_factory=list, description="WARC files the final harvest stored.")
    final_captures: int = 0


class ChannelEntry(Model):
    """One row of the register."""

    account: str
    platform: str
    handle: str = ""
    name: str = ""
    url: str = ""
    department: str = ""
    configured: bool = Field(default=True, description="False: not in the accounts file any more, records kept.")
    start: date | None = Field(
        default=None, description="opened_at from the accounts file, else the earliest publication date archived."
    )
    end: date | None = Field(default=None, description="The recorded closure's date (or closed_at in the file).")
    retention_classes: list[str] = Field(default_factory=list, description="Classes its stored files were kept under.")
    items: int = Field(default=0, ge=0, description="Distinct items (posts, comments …) archived.")
    versions: int = Field(default=0, ge=0, description="Record versions in the index.")
    files: int = Field(default=0, ge=0, description="Stored WARC files (manifests).")
    bytes: int = Field(default=0, ge=0, description="Bytes of stored WARC files.")
    first_capture: datetime | None = None
    last_capture: datetime | None = None
