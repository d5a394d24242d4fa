"""What in the archive each published count counts: the selection of archived items per account total.

A platform's total is not always "the account's posts": Mastodon's `statuses_count`, X's `tweet_count`
and Bluesky's `postsCount` count the account's own replies too (Mastodon and X its boosts and
retweets as well, Bluesky not its reposts); WordPress counts posts and pages apart and comments per
status; Instagram, Flickr and YouTube count the account's media, photos or videos. Each maps to a
`Selector` of archived items here, so the comparison counts like the platform does. And where a
platform lets replies be read only for a while (`READABLE_FOR`), which items can be compared at all.
"""

from __future__ import annotations

from datetime import timedelta

from schemas import CountOf, Platform

from ..connectors.base import Capabilities
from ..connectors.registry import connector_class
from ..index.holdings import Selector

OWN = "upprattad"
#: Statuses, tweets, Bluesky posts: everything the account wrote (its own replies included), not pages.
OWN_STATUSES = Selector(kinds=("post", "comment", "reply"), direction=OWN)
#: The account's own top-level items (media, photos, videos).
OWN_POSTS = Selector(kinds=("post",), direction=OWN)
#: Comments the public sees (WordPress counts approved comments per status).
SHOWN_COMMENTS = Selector(kinds=("comment", "reply"), exclude_hidden=True)


def selector(platform: Platform, what: CountOf, detail: str | None) -> Selector | None:
    """The archived items the platform's total of `what` (under `detail`) counts; None when the archive
    cannot tell them apart (a WordPress comment status other than approved)."""
    if what is CountOf.POSTS:
        if platform is Platform.WORDPRESS:
            return Selector(kinds=("post",))
        if platform is Platform.BLUESKY:  # postsCount counts post records: a repost is a record of its own kind
            return Selector(kinds=OWN_STATUSES.kinds, direction=OWN, exclude_reposts=True)
        return OWN_STATUSES
    if what in (CountOf.VIDEOS, CountOf.MEDIA):
        return OWN_POSTS
    if what is CountOf.PAGES:
        return Selector(kinds=("page",))
    if what is CountOf.COMMENTS and detail in (None, "approved"):
        return SHOWN_COMMENTS
    return None


def capabilities(platform: Platform) -> Capabilities:
    """The connector's declaration of what the platform publishes (archive/connectors/*.py)."""
    return connector_class(platform.value).capabilities


#: Platforms whose API lets a post's replies be read only for a while: X's recent search reaches replies
#: of the last 7 days. A post the archive first saw when older than that has replies no harvest can ever
#: read, so its count cannot be matched: not knowable, never a gap (and nothing to backfill). A post
#: watched since it was younger is compared as on any platform (its replies were read while new).
READABLE_FOR: dict[Platform, timedelta] = {Platform.X: timedelta(days=7)}
