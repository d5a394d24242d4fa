"""Injectable time and id sources, so tests can pin them (as warcio's FixedTestWARCWriter does)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def new_run_id() -> str:
    """Short random id for one harvest/ingest run; part of WARC file names."""
    return uuid.uuid4().hex[:8]


def warc_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"
