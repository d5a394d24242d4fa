"""A saved search: what a legal hold or a request case covers, kept as data so it can be rerun."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ._base import Model
from .account import Platform
from .record import Kind


class SavedSearch(Model):
    """Full text and filters (the archivists' search), or an explicit list of record ids, or both.

    Dates are whole days, inclusive. An empty search matches everything; a hold or a case
    refuses one (see `is_empty`) so that nobody holds or hands out the whole archive by mistake.
    """

    q: str = Field(default="", max_length=2000, description='Words, "a phrase", a | b, -excluded.')
    platform: Platform | None = None
    account: str | None = None
    department: str | None = None
    kind: Kind | None = None
    published_from: date | None = None
    published_to: date | None = None
    captured_from: date | None = None
    captured_to: date | None = None
    record_ids: list[str] = Field(default_factory=list, description="Exactly these record versions.")

    def is_empty(self) -> bool:
        return not (
            self.q.strip()
            or self.record_ids
            or any(
                v is not None
                for v in (
                    self.platform,
                    self.account,
                    self.department,
                    self.kind,
                    self.published_from,
                    self.published_to,
                    self.captured_from,
                    self.captured_to,
                )
            )
        )

    def describe(self) -> str:
        parts = [
            f"{k}={v}" for k, v in self.model_dump(mode="json", exclude_defaults=True).items() if k != "record_ids"
        ]
        if self.record_ids:
            parts.append(f"{len(self.record_ids)} record ids")
        return ", ".join(parts) or "everything"
