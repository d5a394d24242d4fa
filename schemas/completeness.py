"""Published counts: what a platform says exists, read from a response the archive keeps.

A platform publishes totals (Mastodon `statuses_count`, Bluesky `postsCount`, X
`public_metrics.tweet_count`, Instagram `media_count`, YouTube `statistics.videoCount`,
WordPress `X-WP-Total`) and per-item counts (comment and reply counts on posts and videos).
A connector hands them over with the capture they were read from (`CaptureBundle.counts`); the
pipeline adds where that capture's WARC record is, so each count carries its own evidence: the
exact response, its SHA-256 and its capture time. Completeness compares them with what the
archive holds (archive/completeness/).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from ._base import Model
from .account import Platform
from .record import WarcLocation


class CountOf(StrEnum):
    """What a published count counts."""

    POSTS = "posts"  # the account's posts (statuses, tweets, blog posts, Page posts)
    VIDEOS = "videos"
    MEDIA = "media"  # Instagram media, Flickr photos
    PAGES = "pages"  # WordPress pages
    COMMENTS = "comments"  # an item's comments (or an account's, WordPress per status)


class Covers(StrEnum):
    """Which of an item's replies a per-item count counts."""

    CHILDREN = "children"  # direct replies only (Mastodon replies_count, Bluesky replyCount)
    THREAD = "thread"  # every comment and reply under the item (YouTube commentCount)


class PublishedCount(Model):
    """One count as the platform published it in one response."""

    what: CountOf
    value: int = Field(ge=0)
    item_id: str | None = Field(default=None, description="The item counted under; None for an account total.")
    item_published_at: datetime | None = Field(
        default=None, description="When the item was published: the month its count belongs to."
    )
    covers: Covers = Covers.CHILDREN
    detail: str | None = Field(
        default=None, description="A qualifier of the count, e.g. a WordPress comment status ('approved', 'hold')."
    )


class CountReading(PublishedCount):
    """A published count with its evidence: the WARC response record it was read from, and when."""

    platform: Platform
    account: str
    captured_at: datetime
    source_url: str | None = None
    warc: WarcLocation

    @property
    def key(self) -> str:
        """What the count is of, unique within the account: a newer reading of the same key replaces it."""
        return f"{self.what.value}|{self.detail or ''}|{self.item_id or ''}"

    @property
    def month(self) -> str | None:
        """YYYY-MM of the item's publication (None for account totals or an undated item)."""
        return self.item_published_at.strftime("%Y-%m") if self.item_published_at else None


# --- the comparison: what the platform says exists against what the archive holds ------------------


class Status(StrEnum):
    """How one count compares with the archive."""

    COMPLETE = "complete"  # the archive holds what the platform shows (within the tolerance)
    GAP = "gap"  # the platform shows more than the archive holds, beyond the tolerance
    SURPLUS = "surplus"  # the archive holds more: deleted or hidden since capture (expected, and said so)
    UNKNOWABLE = "unknowable"  # the platform publishes no such count, or none was read yet: never "complete"


#: Worst first: a report's status is the worst of its parts'.
STATUS_ORDER = (Status.GAP, Status.UNKNOWABLE, Status.SURPLUS, Status.COMPLETE)


def worst(statuses: list[Status]) -> Status:
    """The worst of `statuses` (GAP before UNKNOWABLE before SURPLUS before COMPLETE); UNKNOWABLE for none."""
    return next((s for s in STATUS_ORDER if s in statuses), Status.UNKNOWABLE)


class Tolerance(Model):
    """How far a published count may exceed what the archive holds before it is a gap.

    Platforms' counts drift (private replies, spam removal, replies by blocked accounts), so a
    per-platform allowance is documented in docs/platforms.md; one set by the installation is
    written into every report with its source, never applied silently.
    """

    absolute: int = Field(default=0, ge=0, description="Missing items always allowed.")
    relative: float = Field(default=0.0, ge=0, le=1, description="Fraction of the published count allowed missing.")
    source: str = Field(default="default", description="Where it comes from: the platform default or a setting.")

    def allowed(self, published: int) -> int:
        """Items that may be missing from a published count of `published` (the larger of both rules)."""
        return max(self.absolute, int(self.relative * published))


class Evidence(Model):
    """Where a count was read: the archived response that shows it."""

    captured_at: datetime
    source_url: str | None = None
    warc: WarcLocation


class TotalCheck(Model):
    """An account total (posts, videos, media, pages, comments of a status) against the archive."""

    what: CountOf
    detail: str | None = None
    status: Status
    published: int | None = Field(default=None, description="The platform's count; None: not knowable or not read.")
    archived: int | None = None
    note: str = ""
    evidence: Evidence | None = None


class ItemCheck(Model):
    """One item whose published comment count and archived comments disagree."""

    item_id: str
    month: str
    covers: Covers
    published: int
    archived: int
    status: Status
    note: str = ""
    evidence: Evidence


class MonthCheck(Model):
    """The items published in one month: the sum of their counts against the comments archived under them."""

    month: str = Field(description="YYYY-MM of publication (UTC), or 'undated'.")
    status: Status
    posts: int = Field(default=0, description="The account's own posts archived (not deleted) from the month.")
    counted: int = Field(default=0, description="Items of the month whose comment count was read and compared.")
    unread: int = Field(default=0, description="Own posts of the month with no count read (yet).")
    published: int = Field(default=0, description="The sum of the counted items' published counts.")
    archived: int = Field(default=0, description="Comments archived under the counted items.")
    missing: int = Field(default=0, description="Comments the platform shows and the archive lacks, item by item.")
    surplus: int = Field(default=0, description="Comments archived beyond the published counts, item by item.")
    gap_items: int = Field(default=0, description="Items with fewer comments archived than published.")
    surplus_items: int = 0
    incomparable: int = Field(
        default=0, description="Counted items whose replies were past reading when first archived (X: 7 days)."
    )
    items: list[ItemCheck] = Field(
        default_factory=list, description="The disagreeing items (at most a bounded number)."
    )
    note: str = ""


class CompletenessReport(Model):
    """One account's completeness as one moment's comparison, kept write-once in the store."""

    account: str
    platform: Platform
    scope: str = Field(description="'account' (everything), 'month YYYY-MM' or 'items' (a run's own check).")
    run_id: str
    made_at: datetime
    made_by: str = Field(description="The harvest run or the person (os:login) that asked for it.")
    status: Status
    summary: str = Field(description="One line: what the report found.")
    tolerance: Tolerance
    totals: list[TotalCheck] = Field(default_factory=list)
    months: list[MonthCheck] = Field(default_factory=list)
    unknowable: list[str] = Field(default_factory=list, description="What cannot be known on this platform, and why.")
    deleted_since: int = Field(default=0, description="Counted items the archive has since seen deleted (left out).")
    backfill: list[str] = Field(default_factory=list, description="Items whose threads the next run reads again.")
    reread: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Items an earlier check left for a backfill, whose threads the run this report follows was "
        "asked to read again (empty for a report made on demand): an item here and still short was re-read in vain.",
    )
    key: str | None = Field(default=None, description="Where the report is kept in the store.")
