"""The preservation event log: `PremisEvent`s appended to the data stream `{prefix}-premis`.

Like the audit log (archive/access/audit.py) it is an `EventStream` (archive/index/events.py): a
data stream, which accepts only `create`, so events cannot be overwritten or deleted through it;
retention jobs never touch it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas import WarcFileManifest
from schemas.premis import PremisEvent, PremisEventType, PremisOutcome

from ..config import Settings
from ..index.client import make_client
from ..index.events import EventStream
from ..index.streams import PREMIS_MAPPINGS as MAPPINGS
from ..version import __version__

SOFTWARE_AGENT = f"software: communis {__version__}"
_ONCE = uuid.UUID("6f1c2a8e-3b7d-5e0a-9c4f-2d8b1e7a6c35")
"""Namespace of the name-based ids of events that happen once per object (`record(once=...)`)."""


class PremisLog(EventStream):
    """PREMIS events in the data stream `name` (never disposed of)."""

    mappings = MAPPINGS
    description = "Communis PREMIS events (append-only data stream, never disposed of)"
    log_name = "the preservation event log"
    an_event = "a preservation event"
    reading = "read preservation events"

    def record(
        self,
        type: PremisEventType,
        *,
        objects: list[str],
        agents: list[str] | None = None,
        detail: str = "",
        outcome: PremisOutcome = PremisOutcome.SUCCESS,
        outcome_detail: str = "",
        sha256: str | None = None,
        at: datetime | None = None,
        refresh: bool = False,
        once: str | None = None,
    ) -> PremisEvent:
        """Append one event (the software agent is always named) and return it.

        `once` names an event that can happen only once (the ingestion of one stored file): its id is
        derived from that name, so a rerun after a crash, which commits the same file again, finds the
        event already there instead of adding a second one (the data stream refuses a repeated id).
        """
        eid = uuid.uuid5(_ONCE, f"{type.value}#{once}") if once is not None else uuid.uuid4()
        event = PremisEvent(
            id=f"urn:uuid:{eid}",
            type=type,
            at=at or datetime.now(UTC),
            detail=detail,
            outcome=outcome,
            outcome_detail=outcome_detail,
            sha256=sha256,
            objects=objects,
            agents=[SOFTWARE_AGENT, *(agents or [])],
        )
        self.append(event.id, event, refresh=refresh, once=once is not None)
        return event

    def events(
        self, *, object_id: str | None = None, type: PremisEventType | None = None, limit: int = 1000
    ) -> list[PremisEvent]:
        """Events, newest first, optionally about one object and/or of one type."""
        found = self.newest(limit, objects=object_id, type=type.value if type else None)
        return [PremisEvent.model_validate(data) for data in found]


class IngestionEvents:
    """Ingest's after-commit step for preservation: the PREMIS event of each stored file's arrival (PR-1).

    Kept when the file is disposed of. Handed to the pipeline by the wiring (archive/context.py), so
    ingest knows nothing of PREMIS. Named once per file and digest, so a rerun that commits the same
    file again after a crash adds no second event.
    """

    def __init__(self, log: PremisLog, operator: str) -> None:
        self.log, self.operator = log, operator

    def __call__(self, manifest: WarcFileManifest, records: int) -> None:
        span = (
            f"{records} records of {manifest.account} captured "
            f"{manifest.first_capture:%Y-%m-%d %H:%M} – {manifest.last_capture:%Y-%m-%d %H:%M} "
            f"UTC, stored with retain-until {manifest.retain_until:%Y-%m-%d}"
            if manifest.first_capture and manifest.last_capture
            else f"{records} records"
        )
        self.log.record(
            PremisEventType.INGESTION,
            objects=[manifest.key],
            sha256=manifest.sha256,
            once=f"{manifest.key}@{manifest.sha256}",
            agents=[f"organisation: {self.operator}"],
            detail=span,
        )


def open_premis(settings: Settings) -> PremisLog:
    return PremisLog(make_client(settings), settings.stream("premis"))
