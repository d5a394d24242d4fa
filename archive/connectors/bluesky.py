"""Bluesky (AT Protocol) through the public AppView: the author feed, threads, embeds.

The account's feed (`app.bsky.feed.getAuthorFeed`, newest first, `cursor` paging) holds its posts
and its own replies. A post's thread (`getPostThread`) is read when the post is new to the
archive, inside the look-back window, or its `cid`/`replyCount` changed since the last run —
the last is how a reply to an old post is found. Walking stops once past both the newest post
seen before and the window, except on a sweep run, which walks the whole feed to read those
markers. A known post missing from the feed is asked for with `getPosts`: absent means deleted.
Item ids are the `at://` URIs. A rewritten record changes its `cid`; the text is compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemas import Author, CaptureBundle, Direction, Kind, KnownItem, MediaRef, Platform, Record

from ..bundles import Rejected
from ..errors import PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext
from .http import Fetched
from .listing import PAGE_ERRORS, field_of, listed, page_bundles, rejected_page, required
from .text import hashtags
from .times import iso
from .walk import Walk, iso_or_none, read_threads

PAGE_LIMIT = "100"


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class BlueskyConnector(BaseConnector):
    platform = Platform.BLUESKY.value
    capabilities = Capabilities(
        posts="posts and the account's own replies (author feed)",
        comments="replies and replies to replies (post threads)",
        edits="rewritten records (`cid` changes): each changed text is a version",
        deletions="posts and replies inside the window: tombstone (absent from `getPosts`)",
        media="images (full size) and videos (the playlist URL)",
        old_post_comments="yes for direct replies (`replyCount` changes; seen on the daily sweep)",
        credentials="none (public AppView)",
    )

    def _xrpc(self, ctx: HarvestContext, method: str) -> str:
        return self.api(ctx, f"/xrpc/{method}", "the AppView URL, e.g. https://public.api.bsky.app")

    def _actor(self, ctx: HarvestContext) -> str:
        return ctx.account.handle.lstrip("@")

    def probe(self, ctx: HarvestContext) -> str:
        profile = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.actor.getProfile"), params={"actor": self._actor(ctx)})
        body = profile.json()
        return f"{body.get('handle')} ({body.get('postsCount', '?')} posts)"

    def _did(self, ctx: HarvestContext) -> str:
        if "did" in ctx.state.cursor:
            return ctx.state.cursor["did"]
        profile = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.actor.getProfile"), params={"actor": self._actor(ctx)})
        return required(profile, profile.json(), "did")

    # ---- records ------------------------------------------------------------------------------
    def _record(self, ctx: HarvestContext, view: dict[str, Any], own_did: str, root: str | None,
                fetched: Fetched) -> Record:
        rec = view["record"]
        author = view["author"]
        uri = str(view["uri"])
        reply = rec.get("reply") or {}
        parent = reply.get("parent", {}).get("uri")
        thread = reply.get("root", {}).get("uri") or root or uri
        kind = Kind.POST if not parent else (Kind.COMMENT if parent == thread else Kind.REPLY)
        embed = view.get("embed") or {}
        media: list[MediaRef] = []
        for image in embed.get("images") or []:
            media.append(MediaRef(url=image["fullsize"], content_type="image/*", description=image.get("alt") or None))
        if embed.get("playlist"):
            media.append(MediaRef(url=embed["playlist"], content_type="video/*", description=embed.get("alt")))
        links = [f["uri"] for facet in rec.get("facets") or [] for f in facet.get("features") or [] if "uri" in f]
        text = rec["text"]
        if not isinstance(text, str):
            raise TypeError("record.text is not a string")
        handle = author.get("handle")
        return Record(
            platform=Platform.BLUESKY, account=ctx.account.id, item_id=uri, kind=kind, parent_id=parent,
            thread_id=thread, author=Author(id=author["did"], handle=handle, name=author.get("displayName"),
                                            url=f"https://bsky.app/profile/{handle}" if handle else None),
            direction=Direction.UPPRATTAD if author["did"] == own_did else Direction.INKOMMEN,
            text=text, url=f"https://bsky.app/profile/{handle}/post/{_rkey(uri)}", links=links,
            hashtags=hashtags(text), media=media, published_at=iso(rec["createdAt"]),
            captured_at=fetched.capture.started_at, language=(rec.get("langs") or [None])[0],
            source_url=fetched.capture.url, raw=view,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        own_did = self._did(ctx)
        walk: Walk[str] = Walk(ctx, ctx.state.cursor.get("newest") or None)
        threads: dict[str, None] = {}
        params: dict[str, str] = {"actor": own_did, "limit": PAGE_LIMIT, "filter": "posts_with_replies"}
        while True:
            fetched = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.feed.getAuthorFeed"), params=params)
            try:
                body, feed = listed(fetched, "feed")
            except PAGE_ERRORS as exc:
                yield rejected_page(ctx, fetched, f"unreadable author feed ({exc})")
                break
            own_posts = [item for item in feed if isinstance(item, dict) and not item.get("reply")
                         and not item.get("reason")]
            for item in feed:
                post = item.get("post") if isinstance(item, dict) else None
                record = post.get("record") if isinstance(post, dict) else None
                created = record.get("createdAt") if isinstance(record, dict) else None
                if not isinstance(post, dict) or not isinstance(created, str) or item.get("reason"):
                    continue  # malformed (page_bundles quarantines it) or someone else's post reposted
                uri = str(post.get("uri"))
                if item.get("reply"):  # our reply: recorded with its thread, which we read
                    walk.advance(created)
                    threads[str(item["reply"]["root"]["uri"])] = None
                    ctx.seen.add(uri)
                    continue
                marker = f"{post.get('cid')}|{post.get('replyCount', 0)}"
                if walk.see(created, iso_or_none(created), uri, marker) and post.get("replyCount"):
                    threads[uri] = None
            yield from page_bundles(ctx, fetched, [i.get("post") if isinstance(i, dict) else i for i in own_posts],
                                    lambda view, f: [self._record(ctx, view, own_did, None, f)], what="post")
            cursor = body.get("cursor")
            if not cursor or not feed or walk.done:
                break
            params = {**params, "cursor": str(cursor)}
        yield from read_threads(ctx, threads, lambda uri: self._thread(ctx, own_did, uri), "thread of {}")
        ctx.cursor = {"did": own_did, **({"newest": walk.newest} if walk.newest else {})}

    def _thread(self, ctx: HarvestContext, own_did: str, uri: str) -> Iterator[CaptureBundle | Rejected]:
        fetched = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.feed.getPostThread"),
                                  params={"uri": uri, "depth": "1000", "parentHeight": "0"}, accept=(400,))
        if fetched.response.status_code == 400:
            return  # NotFound: the post is gone, and check_deleted records that
        try:
            root = fetched.json()["thread"]
        except (PayloadInvalid, KeyError, TypeError) as exc:
            ctx.keep_marker(uri)
            yield Rejected(fetched.capture.body, f"{fetched.capture.url}: unreadable thread ({exc})")
            return
        views: list[Any] = []
        replies = root.get("replies") if isinstance(root, dict) else None
        pending = list(replies) if isinstance(replies, list) else []
        while pending:
            node = pending.pop(0)
            if not isinstance(node, dict) or node.get("notFound") or node.get("blocked"):
                continue  # a deleted or blocked reply stands in; nothing to record
            views.append(node.get("post"))
            replies = node.get("replies")
            pending += replies if isinstance(replies, list) else []
        yield from page_bundles(ctx, fetched, views,
                                lambda view, f: [self._record(ctx, view, own_did, uri, f)], what="reply")

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        fetched = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.feed.getPosts"), params={"uris": item_id})
        posts = field_of(fetched, "posts")
        if any(isinstance(p, dict) and p.get("uri") == item_id for p in posts):
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)

