"""Public-records requests: masking suggestions and decisions, jurisdiction profiles.

Masking is applied to a *derived copy* handed out to a requester; the archived original is
never changed (SE-8). Detected personal data is only ever a *suggestion* that a reviewer
accepts, with a legal ground, or rejects (SE-9: personnummer are not secret by default).

Offsets are Python string offsets (Unicode code points) into one field's text, not bytes
and not UTF-16 units: a web client that selects text must convert before posting a span.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, field_validator, model_validator

from ._base import Model
from .account import SLUG_PATTERN

FIELD_PATTERN = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class DetectorKind(StrEnum):
    """What kind of personal data a span holds; `manual` when a reviewer marked it by hand."""

    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    ACCOUNT = "account"  # a third party's account a moderation list names (handle, name, platform id)
    MANUAL = "manual"


class MaskStatus(StrEnum):
    """Review state of a suggestion; only `accepted` spans are masked in a released copy."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class MaskSuggestion(Model):
    """A span of one record field that may hold personal data, as a detector or reviewer found it.

    The value itself is never stored, only its offsets and the SHA-256 of its UTF-8 bytes:
    a masking list must not itself become a copy of the secret data, yet a reviewer (or the
    masking step) can still prove that the span still covers the same characters it did
    when it was reviewed.
    """

    record_id: str = Field(min_length=1)
    field: str = Field(pattern=FIELD_PATTERN, description='Record field, e.g. "text", "title", "author.name".')
    start: int = Field(ge=0, description="First code point of the span in the field's string.")
    end: int = Field(gt=0, description="One past the last code point of the span.")
    kind: DetectorKind
    value_sha256: str = Field(pattern=SHA256_PATTERN, description="SHA-256 of the span's UTF-8 bytes.")

    @model_validator(mode="after")
    def _span_not_empty(self) -> MaskSuggestion:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class Mask(MaskSuggestion):
    """A suggestion with its review: accepted (needs a legal ground), rejected or still pending.

    Like the suggestion, a mask holds no copy of the masked value (only offsets and its
    SHA-256), so the decision record can be kept and shown without re-disclosing the data.
    A decided mask names its reviewer and time, because a masking decision is appealable
    and must say who decided it and when (SE-8).
    """

    status: MaskStatus = MaskStatus.PENDING
    ground: str | None = Field(default=None, description='Legal ground, e.g. "OSL 21:7"; required when accepted.')
    reviewer: str | None = None
    decided_at: AwareDatetime | None = None

    @classmethod
    def from_suggestion(cls, suggestion: MaskSuggestion, ground: str | None = None) -> Mask:
        """A pending mask for a suggestion, optionally with a proposed ground (e.g. a profile default)."""
        return cls.model_validate({**suggestion.model_dump(), "ground": ground})

    @model_validator(mode="after")
    def _decision_complete(self) -> Mask:
        if self.status is MaskStatus.PENDING:
            if self.reviewer is not None or self.decided_at is not None:
                raise ValueError("a pending mask has no reviewer or decided_at yet")
            return self
        if not self.reviewer or self.decided_at is None:
            raise ValueError(f"a {self.status.value} mask needs 'reviewer' and 'decided_at'")
        if self.status is MaskStatus.ACCEPTED and not (self.ground and self.ground.strip()):
            raise ValueError("an accepted mask needs a legal 'ground'")
        return self


class MaskDecision(Model):
    """One line of the masking decision kept with a released copy: what was masked and why.

    Deliberately has no field for the masked value. `value_hmac` is an HMAC-SHA256 of the value
    under the installation's own key (archive/requests/keys.py), so the authority can show later
    which value was covered, while whoever holds the decision without the key (a requester, a
    court's file) cannot confirm a guess: an unsalted SHA-256 of a personnummer is found by trying
    the few million valid numbers. The copy handed to the requester leaves it out altogether.
    """

    record_id: str
    field: str
    start: int
    end: int
    kind: DetectorKind
    ground: str
    reviewer: str
    decided_at: AwareDatetime
    value_hmac: str | None = Field(default=None, pattern=SHA256_PATTERN)


class FieldDecision(Model):
    """A released field other than the masked text that a decision changed: withheld, or cut where it names someone.

    A record's URL, id and parent id can carry what a mask hides (X, Bluesky and Mastodon put the
    author's handle in the URL; a Bluesky id holds the author's DID), so they follow the decision of
    the mask that caused it, and say so with its ground.
    """

    record_id: str
    field: str
    action: Literal["withheld", "masked"]
    ground: str
    reviewer: str
    decided_at: AwareDatetime
    because: str


class MediaAction(StrEnum):
    """What a released copy does with one archived media file."""

    #: Re-encoded from its pixels alone: no EXIF (GPS position, camera owner and serial), XMP, IPTC,
    #: ICC profile or comment survives. The default for images.
    STRIP = "strip-metadata"
    #: Left out of the released copy (the default for video and audio, whose metadata cannot be removed here).
    WITHHOLD = "withhold"
    #: Copied as archived, metadata and all: only ever by a reviewer's decision.
    RELEASE = "release"


class MediaDecision(Model):
    """A reviewer's decision on one media file of a case (by its SHA-256), with its ground.

    Media are part of the masking decision like spans of text: a photograph can show a face or a
    home, and its metadata can give the position it was taken at and whose camera took it.
    """

    media_sha256: str = Field(pattern=SHA256_PATTERN)
    action: MediaAction
    ground: str = Field(min_length=1, description='Legal ground, e.g. "OSL 21:7"; for `release`, why it may go whole.')
    reviewer: str = Field(min_length=1)
    decided_at: AwareDatetime

    @field_validator("ground")
    @classmethod
    def _ground_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a media decision needs its legal ground")
        return value.strip()


class DayClock(StrEnum):
    """How a response period is counted: every day, or working days only."""

    CALENDAR = "calendar"
    BUSINESS = "business"


class JurisdictionProfile(Model):
    """The response clock and default masking grounds of one jurisdiction.

    Law differs per jurisdiction and each authority applies it by its own decisions, so the
    clock is data a kommun or agency can change in its profiles file, not code.
    """

    id: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1)
    clock: DayClock = DayClock.BUSINESS
    response_days: int = Field(
        ge=0, le=365, description="Days after receipt the answer is due; 0 means the same (working) day."
    )
    extension_days: int = Field(
        default=0, ge=0, le=365, description="Further days an extension allows (FOIA unusual circumstances: 10)."
    )
    overdue_after_days: int = Field(
        default=0,
        ge=0,
        le=365,
        description="Days (of the same clock) past the due date a still-open request is flagged overdue.",
    )
    holiday_calendar: str = Field(pattern=SLUG_PATTERN, description='Holiday calendar id, e.g. "se", "us-wa".')
    timezone: str = Field(description="IANA zone the days are counted in, e.g. Europe/Stockholm.")
    default_grounds: list[str] = Field(default_factory=list)
    notes: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


__all__ = [
    "DayClock",
    "DetectorKind",
    "FieldDecision",
    "JurisdictionProfile",
    "Mask",
    "MaskDecision",
    "MaskStatus",
    "MaskSuggestion",
    "MediaAction",
    "MediaDecision",
]
