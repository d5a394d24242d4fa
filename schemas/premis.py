"""PREMIS-style preservation events: capture, fixity check, deletion, transfer, hold …

Kept in their own append-only log, never disposed of: after a disposal the event (without
content) is the proof of what was there and what happened to it (PR-1, SE-16).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from ._base import Model


class PremisEventType(StrEnum):
    """Library of Congress event types where one exists; local ones for holds, masking and export."""

    CAPTURE = "capture"
    INGESTION = "ingestion"
    FIXITY_CHECK = "fixity check"
    MESSAGE_DIGEST_CALCULATION = "message digest calculation"
    VALIDATION = "validation"
    REPLICATION = "replication"
    DELETION = "deletion"
    TRANSFER = "transfer"
    LEGAL_HOLD = "legal hold"
    HOLD_RELEASE = "hold release"
    EXPORT = "export"


class PremisOutcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"


class PremisEvent(Model):
    """One event: what happened, when, with which outcome, by whom (agents), to what (objects)."""

    id: str = Field(description="Event identifier (UUID URN).")
    type: PremisEventType
    at: AwareDatetime
    detail: str = Field(default="", max_length=5000)
    outcome: PremisOutcome = PremisOutcome.SUCCESS
    outcome_detail: str = Field(default="", max_length=5000)
    agents: list[str] = Field(default_factory=list, description="Person, software+version, organisation.")
    objects: list[str] = Field(default_factory=list, description="Storage keys, record ids, package names.")
    sha256: str | None = Field(default=None, description="A digest the event computed or checked, if any.")
