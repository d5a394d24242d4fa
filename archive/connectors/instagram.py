"""Instagram (professional account) through the Instagram Graph API: media, comments, replies.

The handle is checked against the token's own account (`GET /me?fields=id,username`, as with
Instagram Login); a numeric handle is taken as the ig-user-id itself. The account's media
(`/{ig-user-id}/media`, newest first, cursor paging by `paging.next`) carries `comments_count`, the
only activity marker Instagram has: comments (`/{media-id}/comments`, top-level only, each with its
`replies{…}`; more replies through `/{comment-id}/replies`) are read when the media is new to the
archive, inside the look-back window, or its `comments_count` changed. The walk stops once past both
the newest media seen before and the window, except on a sweep run. Media has no edit marker: a
changed caption is found by comparing content on every media the walk reads. A known item missing
from the listings is asked for with `GET /{id}`: code 100 subcode 33 means deleted. Throttling is
Graph's (HTTP 400/403 with code 4, 17, 32, 613 or 80002; see `graph.py`). Timestamps look like
`2024-05-02T08:15:30+0000`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemas import Author, CaptureBundle, CountOf, Covers, Direction, Kind, MediaRef, Platform, PublishedCount, Record

from ..bundles import Rejected
from ..errors import ConfigError, PayloadInvalid
from .base import Capabilities, HarvestContext, Publishes
from .counting import dig, per_item, profile, profile_of, published_time, total
from .facebook import links_in
from .graph import PAGE_LIMIT, GraphConnector
from .http import Fetched
from .text import hashtags, mentions
from .times import iso, stamp

MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,shortcode,timestamp,"
    "username,like_count,comments_count,is_comment_enabled,children{id,media_type,media_url,thumbnail_url}"
)
REPLY_FIELDS = "id,text,timestamp,username,from{id,username},like_count,hidden,parent_id"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"


def _media_refs(item: dict[str, Any]) -> list[MediaRef]:
    """The files of a media object: each child of an album, else the media itself (the video for VIDEO)."""
    children = (item.get("children") or {}).get("data")
    parts = children if item.get("media_type") == "CAROUSEL_ALBUM" and children else [item]
    refs = []
    for part in parts:
        if part.get("media_url"):
            video = part.get("media_type") == "VIDEO"
            refs.append(MediaRef(url=str(part["media_url"]), content_type="video/*" if video else "image/*"))
    return refs


def _string(item: dict[str, Any], key: str) -> str:
    text = item.get(key, "")
    if not isinstance(text, str):
        raise TypeError(f"{key} is not a string")
    return text


class InstagramConnector(GraphConnector):
    platform = Platform.INSTAGRAM.value
    time_field = "timestamp"
    capabilities = Capabilities(
        posts="the account's feed posts and reels: images, videos, carousel albums (`/{ig-user-id}/media`)",
        comments="comments and their replies, hidden ones marked (`/{media-id}/comments`, `replies`)",
        edits="changed captions become a new version (Instagram has no edit marker; captions are compared)",
        deletions="media and comments inside the window: tombstone (`GET /{id}` answers code 100/33)",
        media="every image and video, each child of a carousel (`media_url`)",
        old_post_comments="yes (`comments_count` changes; seen on the daily sweep; a deletion and a new comment "
        "between two sweeps cancel out)",
        credentials="an Instagram user access token (Instagram Login, `instagram_business_basic`, "
        "`instagram_business_manage_comments`) as Bearer",
        counts="account total `media_count`; per media `comments_count` (comments and their replies)",
        published=(
            Publishes(CountOf.MEDIA, "media_count", note="feed posts and reels; stories are not counted"),
            Publishes(
                CountOf.COMMENTS,
                "comments_count",
                per_item=True,
                covers=Covers.THREAD,
                note="Meta: replies included, comments on carousel children excluded; hidden comments unverified",
            ),
        ),
        moderation="hidden comments stay records, a version marked hidden (`hidden`, shown to the account's own "
        "token); not shown: who hid it or when, blocked or restricted accounts, the comment filter's words",
        finds_hidden_comments=True,
    )

    def _user(self, ctx: HarvestContext) -> dict[str, Any]:
        return self._user_fetched(ctx)[1]

    def _user_fetched(self, ctx: HarvestContext) -> tuple[Fetched, dict[str, Any]]:
        handle = ctx.account.handle.lstrip("@")
        fetched = self.get(
            ctx, self.url(ctx, f"/{handle if handle.isdigit() else 'me'}"), {"fields": "id,username,name,media_count"}
        )
        body = fetched.json()
        if not isinstance(body, dict) or "id" not in body:
            raise PayloadInvalid(f"{fetched.capture.url}: expected an Instagram user with an id")
        if not handle.isdigit() and str(body.get("username", "")).lower() != handle.lower():
            raise ConfigError(
                f"the Instagram token belongs to @{body.get('username')}, not @{handle}",
                hint="use the account's own token, or its numeric ig-user-id as the handle",
            )
        return fetched, body

    def probe(self, ctx: HarvestContext) -> str:
        user = self._user(ctx)
        return f"@{user.get('username')} ({user.get('media_count', '?')} media)"

    # ---- records ------------------------------------------------------------------------------
    def _media_record(
        self, ctx: HarvestContext, user: dict[str, str], item: dict[str, Any], fetched: Fetched
    ) -> Record:
        text = _string(item, "caption")
        if not isinstance(item.get("media_type"), str):
            raise TypeError("media_type is not a string")
        username = item.get("username") or user["username"]
        return Record(
            platform=Platform.INSTAGRAM,
            account=ctx.account.id,
            item_id=str(item["id"]),
            kind=Kind.POST,
            thread_id=str(item["id"]),
            author=Author(
                id=user["id"],
                handle=username,
                name=ctx.account.display_name,
                url=f"https://www.instagram.com/{username}/",
            ),
            direction=Direction.UPPRATTAD,
            text=text,
            url=item.get("permalink"),
            links=links_in(text),
            hashtags=hashtags(text),
            mentions=mentions(text),
            media=_media_refs(item),
            published_at=iso(item["timestamp"]),
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=item,
        )

    def _comment_record(
        self,
        ctx: HarvestContext,
        user: dict[str, str],
        media_id: str,
        comment: dict[str, Any],
        fetched: Fetched,
        under: str | None = None,
    ) -> Record:
        """A comment, or a reply: `under` is the comment whose `replies` (or `/replies` page) listed it,
        its parent when the reply itself leaves `parent_id` out (the embedded `replies{…}` often do)."""
        text = _string(comment, "text")
        author = comment.get("from") or {}
        username = author.get("username") or comment.get("username")
        own = author.get("id") == user["id"] or (username is not None and username == user["username"])
        parent = comment.get("parent_id") or under
        return Record(
            platform=Platform.INSTAGRAM,
            account=ctx.account.id,
            item_id=str(comment["id"]),
            kind=Kind.REPLY if parent else Kind.COMMENT,
            parent_id=str(parent or media_id),
            thread_id=media_id,
            author=Author(
                id=author.get("id"), handle=username, url=f"https://www.instagram.com/{username}/" if username else None
            ),
            direction=Direction.UPPRATTAD if own else Direction.INKOMMEN,
            text=text,
            links=links_in(text),
            hashtags=hashtags(text),
            mentions=mentions(text),
            published_at=iso(comment["timestamp"]),
            captured_at=fetched.capture.started_at,
            hidden_on_platform=bool(comment.get("hidden")),
            source_url=fetched.capture.url,
            raw=comment,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def activity(self, item: dict[str, Any]) -> tuple[str | None, bool]:
        """`comments_count`, Instagram's only activity marker (comments and replies); no comments when 0."""
        count = item.get("comments_count")
        return (str(count) if isinstance(count, int) else None), count != 0

    def item_counts(self, data: list[Any]) -> list[PublishedCount]:
        """`comments_count` of each media: its comments and their replies."""
        return per_item(
            (
                (m.get("id"), m.get("comments_count"), published_time(m.get("timestamp")))
                for m in data
                if isinstance(m, dict)
            ),
            Covers.THREAD,
        )

    @staticmethod
    def _totals(user: Any) -> list[PublishedCount]:
        return total(CountOf.MEDIA, dig(user, "media_count"))

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        # One profile request per run for `media_count`: the user lookup of a first run is that request.
        if ctx.state.cursor.get("user"):
            user = {"id": ctx.state.cursor["user"], "username": ctx.state.cursor.get("username", "")}
            yield profile(
                ctx,
                self.url(ctx, f"/{user['id']}"),
                {"fields": "id,media_count"},
                self._totals,
                lambda url, params: self.get(ctx, url, params),
            )
        else:
            fetched, found = self._user_fetched(ctx)
            user = {"id": str(found["id"]), "username": str(found.get("username") or "")}
            yield profile_of(fetched, self._totals(found))
        newest = yield from self.listing(
            ctx,
            f"/{user['id']}/media",
            {"fields": MEDIA_FIELDS, "limit": PAGE_LIMIT},
            "media",
            lambda it, f: [self._media_record(ctx, user, it, f)],
            "media",
            lambda media_id: self._comments(ctx, user, media_id),
        )
        ctx.cursor = {"user": user["id"], "username": user["username"], **({"newest": stamp(newest)} if newest else {})}

    def _comments(self, ctx: HarvestContext, user: dict[str, str], media_id: str) -> Iterator[CaptureBundle | Rejected]:
        more: list[tuple[str, str]] = []

        def build(comment: Any, fetched: Fetched) -> list[Record]:
            records = [self._comment_record(ctx, user, media_id, comment, fetched)]
            replies = comment.get("replies") or {}
            for reply in replies.get("data") or []:
                records.append(self._comment_record(ctx, user, media_id, reply, fetched, str(comment["id"])))
            following = (replies.get("paging") or {}).get("next")
            if following:
                more.append((str(following), str(comment["id"])))
            return records

        params = {"fields": COMMENT_FIELDS, "limit": PAGE_LIMIT}
        if not (
            yield from self.thread_pages(
                ctx, media_id, self.url(ctx, f"/{media_id}/comments"), params, "comments", build, "comment"
            )
        ):
            return
        for url, under in more:  # replies beyond the first page of a comment's `replies`

            def reply(item: Any, fetched: Fetched, under: str = under) -> list[Record]:
                return [self._comment_record(ctx, user, media_id, item, fetched, under)]

            if not (yield from self.thread_pages(ctx, media_id, url, None, "replies", reply, "reply")):
                return
