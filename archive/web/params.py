"""Search parameters as they arrive in a URL (API and search page alike) → `SearchQuery`."""

from __future__ import annotations

from datetime import date
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from schemas import Kind, Platform

from ..index import SearchQuery

Sort = Literal["auto", "relevance", "newest", "oldest"]


class SearchParams(BaseModel):
    """Full text (`q`: words, "phrases", a | b, -not) and filters; dates are whole days, inclusive."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=2000, description='Words, "a phrase", a | b, -excluded.')
    platform: Platform | None = None
    account: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=200)
    kind: Kind | None = None
    published_from: date | None = None
    published_to: date | None = None
    captured_from: date | None = None
    captured_to: date | None = None
    has_media: bool | None = None
    edited: bool | None = None
    deleted: bool | None = None
    on_hold: bool | None = Field(default=None, description="Under at least one legal hold (true) or none (false).")
    retention_class: str | None = Field(default=None, max_length=100)
    latest: bool = Field(default=False, description="Only the latest version of each item.")
    sort: Sort = "auto"
    size: int = Field(default=20, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=4000, description="`next_cursor` of the previous page.")

    def query(self, *, public_only: bool, holds_visible: bool = True) -> SearchQuery:
        return SearchQuery(
            text=self.q,
            platform=self.platform.value if self.platform else None,
            account=self.account or None,
            department=self.department or None,
            kind=self.kind.value if self.kind else None,
            date_from=self.published_from,
            date_to=self.published_to,
            captured_from=self.captured_from,
            captured_to=self.captured_to,
            has_media=self.has_media,
            edited=self.edited,
            deleted=self.deleted,
            on_hold=self.on_hold,
            retention_class=self.retention_class or None,
            latest_only=self.latest,
            public_only=public_only,
            holds_visible=holds_visible,
            sort=self.sort,
            size=self.size,
        )

    def describe(self) -> str:
        """The query as audited: every parameter that was set, URL-encoded (no cursor)."""
        return self.as_url(cursor=None) or "(all records)"

    def as_url(self, **changes: object) -> str:
        """This search's query string with `changes` applied (None removes a parameter)."""
        data = self.model_dump(exclude_defaults=True, mode="json")
        data.update({k: v for k, v in changes.items()})
        pairs = [
            (k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in data.items() if v is not None and v != ""
        ]
        return urlencode(pairs)


class ExportParams(SearchParams):
    """A search to export whole: CSV (one row per record) or JSON lines (one index document per line)."""

    format: Literal["csv", "jsonl"] = "csv"

    def describe(self) -> str:
        return SearchParams.model_validate(self.model_dump(exclude={"format"})).describe()
