"""Manifest entry of a finalized WARC file: what it holds and until when it is locked."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ._base import Model


class WarcFileManifest(Model):
    """Written once when a WARC file is finalized and stored; the file's identity card."""

    name: str = Field(description="Final file name, e.g. kommun-blog-social-10y-202611-r1a2b3-00001.warc.gz")
    key: str = Field(description="Storage key of the file.")
    account: str
    retention_class: str
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    records: int = Field(ge=0)
    first_capture: datetime | None
    last_capture: datetime | None
    retain_until: datetime
    run_id: str
    software: str
    department: str | None = Field(
        default=None,
        description="Owning department of the account when the file was written (also in the "
        "file's warcinfo record); absent in manifests written before it was recorded.",
    )
