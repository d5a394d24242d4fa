"""What one ingest run did, for the CLI, the flow artifact and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas import WarcFileManifest

from .quarantine import QuarantineEntry


@dataclass
class IngestReport:
    """Counts, the files stored, what was quarantined, deferred or put aside."""

    run_id: str
    captures: int = 0
    records: int = 0
    indexed: int = 0
    files: list[WarcFileManifest] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    index_errors: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    """Finalized files kept in the work folder because the store or the index was unavailable."""
    crashed: list[str] = field(default_factory=list)
    """One line per leftover of a crashed run moved to the work folder's `crashed/` (workdir.py)."""
