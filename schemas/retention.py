"""Retention classes: how long a WARC file's records must be kept, enforced by Object Lock.

A class decides which WARC file a record goes to at capture time (one file holds one class
of one account for one month) and the file's retain-until date, so a file expires whole.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from ._base import Model
from .account import SLUG_PATTERN


class RetentionTrigger(StrEnum):
    """The event the retention period is counted from."""

    CAPTURED = "captured"
    END_OF_YEAR = "end_of_year"  # Swedish practice: from the end of the calendar year of capture


class LockMode(StrEnum):
    """S3 Object Lock mode; compliance cannot be shortened by anyone."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class RetentionClass(Model):
    """A named retention period (or permanent keeping) with its Object Lock mode."""

    name: str = Field(pattern=SLUG_PATTERN)
    description: str = ""
    permanent: bool = Field(default=False, description="Bevara: never disposed of.")
    years: int = Field(default=0, ge=0, le=200)
    days: int = Field(default=0, ge=0, le=365 * 200)
    trigger: RetentionTrigger = RetentionTrigger.END_OF_YEAR
    lock_mode: LockMode = Field(
        default=LockMode.GOVERNANCE,
        description=(
            "Object Lock mode of the class's files. Unset: COMPLIANCE for a permanent class (no one, root "
            "included, can shorten or remove its lock), GOVERNANCE otherwise."
        ),
    )
    permanent_lock_years: int = Field(
        default=10, ge=1, le=100, description="Rolling lock horizon for permanent classes; extended later."
    )

    @model_validator(mode="before")
    @classmethod
    def _permanent_is_compliance(cls, data: Any) -> Any:
        """A permanent class is locked in COMPLIANCE mode unless the schedule says otherwise."""
        if isinstance(data, dict) and data.get("permanent") and data.get("lock_mode") is None:
            return {**data, "lock_mode": LockMode.COMPLIANCE}
        return data

    @model_validator(mode="after")
    def _has_period(self) -> RetentionClass:
        if not self.permanent and self.years == 0 and self.days == 0:
            raise ValueError("a non-permanent class needs 'years' or 'days'")
        return self

    def retain_until(self, last_capture: datetime) -> datetime:
        """Earliest lawful disposal time for a file whose newest capture is `last_capture`."""
        start = last_capture.astimezone(UTC)
        if self.permanent:
            return _add_years(start, self.permanent_lock_years)
        if self.trigger is RetentionTrigger.END_OF_YEAR:
            start = datetime(start.year + 1, 1, 1, tzinfo=UTC)
        return _add_years(start, self.years) + timedelta(days=self.days)


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a non-leap year
        return moment.replace(year=moment.year + years, day=28)


__all__ = ["LockMode", "RetentionClass", "RetentionTrigger"]
