"""CaptureBundle: what a connector yields, one raw exchange and the records parsed from it."""

from __future__ import annotations

from pydantic import Field

from ._base import Model
from .capture import Capture
from .completeness import PublishedCount
from .record import Record


class CaptureBundle(Model):
    """One Capture and the Records derived from its body (possibly none, e.g. an empty page)."""

    capture: Capture
    records: list[Record] = Field(default_factory=list)
    is_media: bool = Field(default=False, description="The capture is a media file referenced by records.")
    counts: list[PublishedCount] = Field(
        default_factory=list, description="Counts the platform published in this response (account totals, comments)."
    )
