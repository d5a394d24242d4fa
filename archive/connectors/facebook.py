"""Facebook Pages through the Graph API: the Page's posts, their comments and replies, attachments.

The handle (the Page's username or numeric id) is resolved once with `GET /{handle}?fields=id,name`
and kept in the cursor. `GET /{page-id}/posts` (newest first, cursor paging by `paging.next`) gives
each post with `updated_time` and `comments.summary(true).limit(0)`. Facebook moves `updated_time` on
an edit and on every new comment, so it is the activity marker: a post's comments
(`/{post-id}/comments?filter=stream`, every comment and reply flattened, replies with `parent`) are
read when the post is new to the archive, inside the look-back window, or its `updated_time` changed.
The walk stops once past both the newest post seen before and the window, except on a sweep run,
which walks the whole listing to read those markers. A known item missing from the listings is asked
for with `GET /{id}`: code 100 subcode 33 means deleted. Throttling (HTTP 400/403 with code 4, 17, 32,
613 or 800xx) is waited out as `X-Business-Use-Case-Usage` says (see `graph.py`). Timestamps look
like `2024-05-02T08:15:30+0000`. Item ids are Graph ids: `{pageid}_{postid}`, `{postid}_{commentid}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from schemas import (
    Author,
    CaptureBundle,
    CountOf,
    Covers,
    Direction,
    Kind,
    MediaRef,
    ModerationEntry,
    Platform,
    PublishedCount,
    Record,
)

from ..bundles import Rejected
from ..errors import PayloadInvalid
from .base import Capabilities, HarvestContext, Publishes
from .counting import dig, per_item, published_time
from .graph import PAGE_LIMIT, GraphConnector
from .http import Fetched
from .moderation import ListSource, Page, read_lists
from .text import hashtags
from .times import iso, stamp

POST_FIELDS = (
    "id,created_time,updated_time,message,message_tags,permalink_url,from{id,name},status_type,"
    "attachments{media_type,type,url,unshimmed_url,title,description,media,target,subattachments},"
    "shares,comments.summary(true).limit(0)"
)
COMMENT_FIELDS = (
    "id,created_time,message,message_tags,from{id,name},parent{id},comment_count,like_count,"
    "permalink_url,is_hidden,attachment"
)
_URL = re.compile(r"https?://[^\s<>\"']+")


def links_in(text: str) -> list[str]:
    """The URLs written in a plain-text message."""
    return list(dict.fromkeys(u.rstrip(".,;:!?)") for u in _URL.findall(text)))


def attachment_media(att: dict[str, Any]) -> list[MediaRef]:
    """Photos and videos of one attachment (albums through `subattachments`).

    A video whose file Graph does not give (`media_type: video`, `type: video_autoplay` or
    `video_inline`, only `media.image`: Graph leaves out `media.source` for most Page videos) keeps
    its poster image, typed as the image it is; the video itself is a page on facebook.com, not a
    file, so its address goes to the record's links (`video_link`), not to the media fetched."""
    subs = (att.get("subattachments") or {}).get("data")
    if subs:
        return [m for sub in subs for m in attachment_media(sub)]
    media = att.get("media") or {}
    if media.get("source"):
        return [MediaRef(url=str(media["source"]), content_type="video/*", description=att.get("title"))]
    src = (media.get("image") or {}).get("src")
    if src and att.get("media_type") == "video":
        return [MediaRef(url=str(src), content_type="image/*", description=att.get("title"))]
    if src and att.get("media_type") in ("photo", "album", None):
        return [MediaRef(url=str(src), content_type="image/*", description=att.get("description"))]
    return []


def video_link(att: dict[str, Any]) -> str | None:
    """The facebook.com page of a video attachment that carries no file (`media.source`), else None."""
    if att.get("media_type") != "video" or (att.get("media") or {}).get("source"):
        return None
    target = att.get("target")
    url = att.get("unshimmed_url") or att.get("url") or (target.get("url") if isinstance(target, dict) else None)
    return str(url) if url else None


def attachment_links(att: dict[str, Any]) -> list[str]:
    """What an attachment links to: a shared link's URL; the page of a video without a file."""
    found = []
    if att.get("type") == "share" and att.get("unshimmed_url", att.get("url")):
        found.append(str(att.get("unshimmed_url", att.get("url"))))
    subs = (att.get("subattachments") or {}).get("data")
    if subs:
        return found + [u for sub in subs for u in attachment_links(sub)]
    video = video_link(att)
    return found + ([video] if video else [])


def tagged(item: dict[str, Any]) -> list[str]:
    """Who a post or comment mentions: the names of its `message_tags` (Pages, people, groups tagged
    in the text). Graph gives them as a list; very old objects as a dict of lists keyed by offset."""
    tags = item.get("message_tags") or []
    if isinstance(tags, dict):
        tags = [t for group in tags.values() if isinstance(group, list) for t in group]
    if not isinstance(tags, list):
        raise TypeError("message_tags is not a list")
    return list(dict.fromkeys(str(t["name"]) for t in tags if isinstance(t, dict) and t.get("name")))


def _text(item: dict[str, Any]) -> str:
    text = item.get("message", "")
    if not isinstance(text, str):
        raise TypeError("message is not a string")
    return text


class FacebookConnector(GraphConnector):
    platform = Platform.FACEBOOK.value
    capabilities = Capabilities(
        posts="the Page's own posts (`/{page-id}/posts`), with attachments",
        comments="comments and replies, hidden ones marked (`/{post-id}/comments?filter=stream`)",
        edits="changed text becomes a new version (Facebook shows no edit time: `updated_time` also moves on comments)",
        deletions="posts and comments inside the window: tombstone (`GET /{id}` answers code 100/33)",
        media="photos, albums and videos (`attachments`, `subattachments`; video `media.source`; a video "
        "without one: its poster image, and its page in links)",
        old_post_comments="yes (`updated_time` changes; seen on the daily sweep)",
        credentials="a Page access token (`pages_read_engagement`, `pages_read_user_content`) as Bearer",
        counts="per post `comments.summary.total_count` (top-level comments); no account total (a Page "
        "publishes no post count)",
        published=(
            Publishes(
                CountOf.COMMENTS,
                "comments.summary.total_count",
                per_item=True,
                covers=Covers.CHILDREN,
                note="with the default `filter=toplevel`: comments on the post, not replies to comments; "
                "whether hidden comments count is unverified",
            ),
        ),
        moderation="hidden comments stay records, a version marked hidden (`is_hidden`, shown to the Page's token); "
        "the people and Pages blocked from the Page (`/{page-id}/blocked`), a versioned record. Not shown: who "
        "hid a comment or when, the Page's profanity and keyword filters",
        finds_hidden_comments=True,
        finds_moderation_lists=True,
    )

    def _page(self, ctx: HarvestContext) -> dict[str, Any]:
        fetched = self.get(ctx, self.url(ctx, f"/{ctx.account.handle.lstrip('@')}"), {"fields": "id,name,username"})
        body = fetched.json()
        if not isinstance(body, dict) or "id" not in body:
            raise PayloadInvalid(f"{fetched.capture.url}: expected a Page with an id")
        return body

    def probe(self, ctx: HarvestContext) -> str:
        page = self._page(ctx)
        return f"{page.get('name')} (Page {page['id']})"

    # ---- records ------------------------------------------------------------------------------
    def _post_record(self, ctx: HarvestContext, page_id: str, post: dict[str, Any], fetched: Fetched) -> Record:
        text = _text(post)
        media: list[MediaRef] = []
        links = links_in(text)
        for att in (post.get("attachments") or {}).get("data") or []:
            media += attachment_media(att)
            links += attachment_links(att)
        author = post.get("from") or {}
        author_id = str(author.get("id") or page_id)
        own = author_id == page_id
        return Record(
            platform=Platform.FACEBOOK,
            account=ctx.account.id,
            item_id=str(post["id"]),
            kind=Kind.POST,
            thread_id=str(post["id"]),
            author=Author(
                id=author_id,
                name=author.get("name"),
                handle=ctx.account.handle if own else None,
                url=f"https://www.facebook.com/{author_id}",
            ),
            direction=Direction.UPPRATTAD if own else Direction.INKOMMEN,
            text=text,
            url=post.get("permalink_url"),
            links=list(dict.fromkeys(links)),
            hashtags=hashtags(text),
            mentions=tagged(post),
            media=media,
            published_at=iso(post["created_time"]),
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=post,
        )

    def _comment_record(
        self, ctx: HarvestContext, page_id: str, post_id: str, comment: dict[str, Any], fetched: Fetched
    ) -> Record:
        text = _text(comment)
        parent = (comment.get("parent") or {}).get("id")
        author = comment.get("from") or {}
        author_id = author.get("id")
        attachment = comment.get("attachment") or {}
        return Record(
            platform=Platform.FACEBOOK,
            account=ctx.account.id,
            item_id=str(comment["id"]),
            kind=Kind.REPLY if parent else Kind.COMMENT,
            parent_id=str(parent or post_id),
            thread_id=post_id,
            author=Author(
                id=author_id,
                name=author.get("name"),
                url=f"https://www.facebook.com/{author_id}" if author_id == page_id else None,
            ),
            direction=Direction.UPPRATTAD if author_id == page_id else Direction.INKOMMEN,
            text=text,
            url=comment.get("permalink_url"),
            links=links_in(text),
            hashtags=hashtags(text),
            mentions=tagged(comment),
            media=attachment_media(attachment) if attachment else [],
            published_at=iso(comment["created_time"]),
            captured_at=fetched.capture.started_at,
            hidden_on_platform=bool(comment.get("is_hidden")),
            source_url=fetched.capture.url,
            raw=comment,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def activity(self, item: dict[str, Any]) -> tuple[str | None, bool]:
        """`updated_time` (moves on edits and new comments); the comment summary's count, when asked for."""
        comments = item.get("comments")
        summary = comments.get("summary") if isinstance(comments, dict) else None
        total = summary.get("total_count", 1) if isinstance(summary, dict) else 1
        marker = item.get("updated_time")
        return (marker if isinstance(marker, str) else None), bool(total)

    def item_counts(self, data: list[Any]) -> list[PublishedCount]:
        """`comments.summary.total_count` of each post: its top-level comments (the default `filter=toplevel`)."""
        return per_item(
            (
                (p.get("id"), dig(p, "comments", "summary", "total_count"), published_time(p.get("created_time")))
                for p in data
                if isinstance(p, dict)
            ),
            Covers.CHILDREN,
        )

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        page_id = ctx.state.cursor.get("page") or str(self._page(ctx)["id"])
        newest = yield from self.listing(
            ctx,
            f"/{page_id}/posts",
            {"fields": POST_FIELDS, "limit": PAGE_LIMIT},
            "Page posts",
            lambda item, f: [self._post_record(ctx, page_id, item, f)],
            "post",
            lambda post_id: self._comments(ctx, page_id, post_id),
        )
        ctx.cursor = {"page": page_id, **({"newest": stamp(newest)} if newest else {})}

    def moderation_lists(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """`GET /{page-id}/blocked`: the people and Pages blocked from the Page (`paging.next`)."""
        page_id = ctx.cursor.get("page") or ctx.state.cursor.get("page")
        if not page_id:
            ctx.notes.append("facebook blocks: not read: the Page's id is not known yet (its lookup failed)")
            return
        url = self.url(ctx, f"/{page_id}/blocked")
        yield from read_lists(
            ctx,
            self.platform,
            [
                ListSource(
                    "blocks", url, {"fields": "id,name", "limit": PAGE_LIMIT}, _blocked_page, (400, 401, 403, 404)
                )
            ],
        )

    def _comments(self, ctx: HarvestContext, page_id: str, post_id: str) -> Iterator[CaptureBundle | Rejected]:
        params = {"filter": "stream", "order": "chronological", "fields": COMMENT_FIELDS, "limit": PAGE_LIMIT}
        yield from self.thread_pages(
            ctx,
            post_id,
            self.url(ctx, f"/{post_id}/comments"),
            params,
            "comments",
            lambda item, f: [self._comment_record(ctx, page_id, post_id, item, f)],
            "comment",
        )


def _blocked_page(fetched: Fetched, body: Any) -> Page:
    """A page of `/{page-id}/blocked`: `data` of `{id, name}` (people and Pages), `paging.next`."""
    data = body["data"]
    if not isinstance(data, list):
        raise TypeError("data is not a list")
    following = (body.get("paging") or {}).get("next")
    entries = [ModerationEntry(id=str(b["id"]), name=b.get("name") or None) for b in data]
    return entries, ((str(following), None) if following and data else None)
