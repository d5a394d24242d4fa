"""Capture: one raw HTTP exchange with a platform, exactly as it happened.

The capture is the evidence; everything else (records, index documents) is derived from
it. Bodies are bytes, never decoded, so invalid UTF-8 or binary media survive untouched. The one
change made to them: a credential of ours that the platform echoed is cut out (`redacted` counts
the occurrences), since secrets never reach an archive.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator

from ._base import Model


def _b64_or_bytes(value: Any) -> Any:
    if isinstance(value, str):
        return base64.b64decode(value, validate=True)
    return value


Body = Annotated[
    bytes,
    BeforeValidator(_b64_or_bytes),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), return_type=str, when_used="json"),
]

Header = tuple[str, str]


class Capture(Model):
    """One HTTP request and its response, with the times the exchange began and ended."""

    method: str = Field(default="GET", pattern=r"^[A-Z]+$")
    url: str = Field(min_length=1)
    request_headers: list[Header] = Field(default_factory=list)
    request_body: Body = b""
    status: int = Field(ge=100, le=599)
    reason: str = ""
    response_headers: list[Header] = Field(default_factory=list)
    body: Body = Field(default=b"", description="Response body bytes (JSON base64-encoded).")
    redacted: int = Field(
        default=0,
        ge=0,
        description="Occurrences of a credential the harvester cut out of the body and headers as received "
        "(each replaced by REDACTED); the WARC response record says so in `Communis-Redacted`.",
    )
    started_at: datetime = Field(description="When the exchange began; the WARC-Date of its records.")
    completed_at: datetime | None = None
    ip_address: str | None = None
    http_version: str = "HTTP/1.1"

    @field_validator("started_at", "completed_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value

    def header(self, name: str) -> str | None:
        """First response header named `name` (case-insensitive)."""
        lowered = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == lowered), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "application/octet-stream").split(";")[0].strip()
