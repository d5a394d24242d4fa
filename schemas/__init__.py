"""Communis data model: pydantic v2 models shared by every part of the system.

This package imports nothing from `archive/` or any client library, so it can be used
(and its JSON Schema exported) anywhere.
"""

from __future__ import annotations

from .access import AuditAction, AuditEvent, AuditOutcome, Role, User
from .account import Account, AccountsFile, CredentialRef, Platform
from .bundle import CaptureBundle
from .capture import Capture
from .completeness import (
    CompletenessReport,
    CountOf,
    CountReading,
    Covers,
    Evidence,
    ItemCheck,
    MonthCheck,
    PublishedCount,
    Status,
    Tolerance,
    TotalCheck,
)
from .harvest import HarvestState, KnownItem, RunSummary, SeenPayload
from .record import (
    Author,
    Direction,
    Kind,
    MediaRef,
    ModerationEntry,
    ModerationList,
    Poll,
    PollOption,
    Record,
    Removal,
    WarcLocation,
)
from .requests import (
    DayClock,
    DetectorKind,
    FieldDecision,
    JurisdictionProfile,
    Mask,
    MaskDecision,
    MaskStatus,
    MaskSuggestion,
    MediaAction,
    MediaDecision,
)
from .retention import LockMode, RetentionClass, RetentionTrigger
from .warcfile import WarcFileManifest

__all__ = [
    "Account",
    "AccountsFile",
    "AuditAction",
    "AuditEvent",
    "AuditOutcome",
    "Author",
    "Capture",
    "CaptureBundle",
    "CompletenessReport",
    "CountOf",
    "CountReading",
    "Covers",
    "CredentialRef",
    "DayClock",
    "DetectorKind",
    "Direction",
    "Evidence",
    "FieldDecision",
    "HarvestState",
    "ItemCheck",
    "JurisdictionProfile",
    "Kind",
    "KnownItem",
    "LockMode",
    "Mask",
    "MaskDecision",
    "MaskStatus",
    "MaskSuggestion",
    "MediaAction",
    "MediaDecision",
    "MediaRef",
    "ModerationEntry",
    "ModerationList",
    "MonthCheck",
    "Platform",
    "Poll",
    "PollOption",
    "PublishedCount",
    "Record",
    "Removal",
    "RetentionClass",
    "RetentionTrigger",
    "Role",
    "RunSummary",
    "SeenPayload",
    "Status",
    "Tolerance",
    "TotalCheck",
    "User",
    "WarcFileManifest",
    "WarcLocation",
]
