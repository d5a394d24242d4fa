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
