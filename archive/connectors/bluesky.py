"""Bluesky (AT Protocol) through the public AppView: the author feed, threads, embeds.

The account's feed (`app.bsky.feed.getAuthorFeed`, newest first, `cursor` paging) holds its posts
and its own replies. A post's thread (`getPostThread`) is read when the post is new to the
archive, inside the look-back window, or its `cid`/`replyCount` changed since the last run —
the last is how a reply to an old post is found. Walking stops once past both the newest post
seen before and the window, except on a sweep run, which walks the whole feed to read those
markers. A known post missing from the feed is asked for with `getPosts`: absent means deleted.
Item ids are the `at://` URIs. A rewritten record changes its `cid`; the text is compared.

A repost (a feed item whose `reason` is `reasonRepost`) is the account's act and is kept like a
Mastodon boost: a record of the repost (`upprättad`, `repost_of` the original's URL; its id is the
original's URI + `#repost-by-` + the reposter's DID, since older AppViews give the repost record no
URI) and the reposted post itself as an `inkommen` record of its own author. Whether a repost still
stands is asked of `getRepostedBy`. Mentions come from mention facets (the handle as the text
shows it, else the DID), links from link facets and the link card (external embed), media from
image, video and quote-with-media embeds, `quote_of` from a quoted post.

Every request above is anonymous, as the public sees the account. The account's blocks, mutes and
blocked lists are the viewer's own: with a session token configured they are read from the account's
PDS (named by its DID document), and the token goes there and nowhere else. Read as the viewer, the
AppView leaves out the posts of accounts the viewer blocks, which the harvest would take for deletions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from schemas import (
    Account,
    Author,
    CaptureBundle,
    CountOf,
    Covers,
    Direction,
    Kind,
    KnownItem,
    MediaRef,
    ModerationEntry,
    Platform,
    PublishedCount,
    Record,
)

from ..bundles import Rejected
from ..errors import ConnectorError, PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext, Publishes
from .counting import dig, per_item, profile, profile_of, published_time, total
from .http import Fetched
from .listing import ITEM_ERRORS, PAGE_ERRORS, cause, field_of, listed, page_bundles, rejected_page, required
from .moderation import ListSource, Page, read_lists
from .text import hashtags
from .times import iso
from .walk import Walk, iso_or_none, read_threads

PAGE_LIMIT = "100"
REPOST = "app.bsky.feed.defs#reasonRepost"
_REPOST_MARK = "#repost-by-"


def _repost_id(original_uri: str, by_did: str) -> str:
    return f"{original_uri}{_REPOST_MARK}{by_did}"


def _post_url(uri: str, handle: str | None) -> str | None:
    """The bsky.app page of an `at://` post URI (by handle when known, else by DID, which bsky.app
    also answers); None for a record that is not a post (a feed generator, a list)."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post":
        return None
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


def _media_of(view: Any) -> list[MediaRef]:
    """Images (full size) and a video (its playlist) of an embed view; for a quote with media
    (`recordWithMedia#view`) those of its `media`, not of the quoted post."""
    if not isinstance(view, dict):
        return []
    if "media" in view:
        return _media_of(view["media"])
    media = [
        MediaRef(url=image["fullsize"], content_type="image/*", description=image.get("alt") or None)
        for image in view.get("images") or []
    ]
    if view.get("playlist"):
        media.append(MediaRef(url=view["playlist"], content_type="video/*", description=view.get("alt")))
    return media


def _card_of(view: Any) -> str | None:
    """The URL of a link card (external embed), alone or beside a quote."""
    if not isinstance(view, dict):
        return None
    if "media" in view:
        return _card_of(view["media"])
    external = view.get("external")
    return external["uri"] if isinstance(external, dict) and isinstance(external.get("uri"), str) else None


def _quoted(view: Any) -> str | None:
    """The URL of the post an embed quotes (`record#view`, or the record of `recordWithMedia#view`)."""
    if not isinstance(view, dict) or not isinstance(view.get("record"), dict):
        return None
    inner = view["record"]
    if isinstance(inner.get("record"), dict):  # recordWithMedia#view: {record: {record: viewRecord}}
        inner = inner["record"]
    uri = inner.get("uri")
    if not isinstance(uri, str):
        return None
    author = inner.get("author")
    handle = author.get("handle") if isinstance(author, dict) else None
    return _post_url(uri, handle if isinstance(handle, str) else None)


def _mentions(rec: dict[str, Any]) -> list[str]:
    """Who the mention facets name: the handle as the text shows it (`@handle` at the facet's byte
    range), else the facet's DID."""
    data = rec["text"].encode()
    out: list[str] = []
    for facet in rec.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") != "app.bsky.richtext.facet#mention" or not feature.get("did"):
                continue
            index = facet.get("index") or {}
            shown = data[index.get("byteStart", 0) : index.get("byteEnd", 0)].decode(errors="replace")
            name = shown[1:] if shown.startswith("@") and len(shown) > 1 else str(feature["did"])
            if name not in out:
                out.append(name)
    return out


def _tags(rec: dict[str, Any]) -> list[str]:
    """Hashtags the text shows, and those of tag facets."""
    tags = hashtags(rec["text"])
    for facet in rec.get("facets") or []:
        for feature in facet.get("features") or []:
            tag = feature.get("tag") if feature.get("$type") == "app.bsky.richtext.facet#tag" else None
            if isinstance(tag, str) and tag.lower() not in tags:
                tags.append(tag.lower())
    return tags


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class BlueskyConnector(BaseConnector):
    platform = Platform.BLUESKY.value
    capabilities = Capabilities(
        posts="posts, the account's own replies and its reposts (the reposted post kept as `inkommen`)",
        comments="replies and replies to replies (post threads)",
        edits="rewritten records (`cid` changes): each changed text is a version",
        deletions="posts and replies inside the window: tombstone (absent from `getPosts`)",
        media="images (full size) and videos (the playlist URL)",
        old_post_comments="yes for direct replies (`replyCount` changes; seen on the daily sweep)",
        credentials="none (public AppView)",
        counts="account total `postsCount` (`getProfile`); per post `replyCount` (direct replies)",
        published=(
            Publishes(CountOf.POSTS, "postsCount", note="every post record of the account, its replies included"),
            Publishes(
                CountOf.COMMENTS,
                "replyCount",
                per_item=True,
                covers=Covers.CHILDREN,
                note="replies the AppView has indexed; replies by blocked or taken-down accounts may still count",
            ),
        ),
        moderation="with a session token of the account: blocked and muted accounts and blocked moderation "
        "lists, each a versioned record, read from the account's PDS (named by its DID document) with the "
        "token; every other request stays anonymous, since the AppView hides the posts of accounts the viewer "
        "blocks. Without a token, a note. Replies hidden by a threadgate are left out of threads by the AppView",
        finds_moderation_lists=True,
    )
    #: Where did:plc documents are read (the account's PDS is in its DID document).
    plc_directory: ClassVar[str] = "https://plc.directory"

    def __init__(self) -> None:
        self._session: str | None = None

    def client_auth(self, account: Account, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
        """Nothing on the AppView requests: the public view is what is archived. A session token configured
        for the account is kept for its moderation lists alone (`moderation_lists`)."""
        self._session = token
        return {}, {}

    def _xrpc(self, ctx: HarvestContext, method: str) -> str:
        return self.api(ctx, f"/xrpc/{method}", "the AppView URL, e.g. https://public.api.bsky.app")

    def _actor(self, ctx: HarvestContext) -> str:
        return ctx.account.handle.lstrip("@")

    def probe(self, ctx: HarvestContext) -> str:
        profile = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.actor.getProfile"), params={"actor": self._actor(ctx)})
        body = profile.json()
        return f"{body.get('handle')} ({body.get('postsCount', '?')} posts)"

    def _did(self, ctx: HarvestContext) -> tuple[str, CaptureBundle | Rejected]:
        """The account's DID, and its profile with `postsCount`: one `getProfile` per run (by handle on a
        first run, which is how the DID is found; by DID once it is known)."""
        url = self._xrpc(ctx, "app.bsky.actor.getProfile")
        if "did" in ctx.state.cursor:
            did = ctx.state.cursor["did"]
            return did, profile(ctx, url, {"actor": did}, self._totals)
        found = ctx.fetcher.get(url, params={"actor": self._actor(ctx)})
        return required(found, found.json(), "did"), profile_of(found, self._totals(found.json()))

    @staticmethod
    def _totals(body: Any) -> list[PublishedCount]:
        return total(CountOf.POSTS, dig(body, "postsCount"))

    # ---- records ------------------------------------------------------------------------------
    def _record(
        self, ctx: HarvestContext, view: dict[str, Any], own_did: str, root: str | None, fetched: Fetched
    ) -> Record:
        rec = view["record"]
        author = view["author"]
        uri = str(view["uri"])
        reply = rec.get("reply") or {}
        parent = reply.get("parent", {}).get("uri")
        thread = reply.get("root", {}).get("uri") or root or uri
        kind = Kind.POST if not parent else (Kind.COMMENT if parent == thread else Kind.REPLY)
        embed = view.get("embed")
        links = [f["uri"] for facet in rec.get("facets") or [] for f in facet.get("features") or [] if "uri" in f]
        card = _card_of(embed)
        if card and card not in links:
            links.append(card)
        text = rec["text"]
        if not isinstance(text, str):
            raise TypeError("record.text is not a string")
        handle = author.get("handle")
        return Record(
            platform=Platform.BLUESKY,
            account=ctx.account.id,
            item_id=uri,
            kind=kind,
            parent_id=parent,
            thread_id=thread,
            author=Author(
                id=author["did"],
                handle=handle,
                name=author.get("displayName"),
                url=f"https://bsky.app/profile/{handle}" if handle else None,
            ),
            direction=Direction.UPPRATTAD if author["did"] == own_did else Direction.INKOMMEN,
            text=text,
            url=f"https://bsky.app/profile/{handle}/post/{_rkey(uri)}",
            links=links,
            hashtags=_tags(rec),
            mentions=_mentions(rec),
            media=_media_of(embed),
            quote_of=_quoted(embed),
            published_at=iso(rec["createdAt"]),
            captured_at=fetched.capture.started_at,
            language=(rec.get("langs") or [None])[0],
            source_url=fetched.capture.url,
            raw=view,
        )

    def _repost(self, ctx: HarvestContext, item: dict[str, Any], own_did: str, fetched: Fetched) -> list[Record]:
        """A repost of the account: its own record (the act, upprättad) and the reposted post's."""
        original = self._record(ctx, item["post"], own_did, None, fetched)
        by = item["reason"]["by"]
        handle = by.get("handle")
        act = original.model_copy(
            update={
                "item_id": _repost_id(original.item_id, str(by["did"])),
                "kind": Kind.POST,
                "parent_id": None,
                "thread_id": None,
                "url": None,
                "repost_of": original.url,
                "author": Author(
                    id=by["did"],
                    handle=handle,
                    name=by.get("displayName"),
                    url=f"https://bsky.app/profile/{handle}" if handle else None,
                ),
                "direction": Direction.UPPRATTAD if by["did"] == own_did else Direction.INKOMMEN,
                "published_at": iso(item["reason"]["indexedAt"]),
                "raw": item,
            }
        )
        return [act.model_copy(update={"thread_id": act.item_id}), original]

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        own_did, account_profile = self._did(ctx)
        yield account_profile
        walk: Walk[str] = Walk(ctx, ctx.state.cursor.get("newest") or None)
        threads: dict[str, None] = {}
        own_replies: dict[str, list[tuple[Any, Fetched]]] = {}
        params: dict[str, str] = {"actor": own_did, "limit": PAGE_LIMIT, "filter": "posts_with_replies"}
        while True:
            fetched = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.feed.getAuthorFeed"), params=params)
            try:
                body, feed = listed(fetched, "feed")
            except PAGE_ERRORS as exc:
                yield rejected_page(ctx, fetched, f"unreadable author feed ({exc})")
                break
            own_posts = [
                item
                for item in feed
                if not isinstance(item, dict) or _is_repost(item) or (not item.get("reply") and not item.get("reason"))
            ]
            ctx.prefetch([i["post"] for i in feed if isinstance(i, dict) and isinstance(i.get("post"), dict)], "uri")
            for item in feed:
                post = item.get("post") if isinstance(item, dict) else None
                record = post.get("record") if isinstance(post, dict) else None
                created = record.get("createdAt") if isinstance(record, dict) else None
                if _is_repost(item):  # listed at the repost's time; the reposted thread is not ours
                    when = item["reason"].get("indexedAt")
                    if isinstance(when, str):
                        walk.see(when, iso_or_none(when))
                    continue
                if not isinstance(post, dict) or not isinstance(created, str) or item.get("reason"):
                    continue  # malformed (page_bundles quarantines it), or a pinned post, listed in place too
                uri = str(post.get("uri"))
                if item.get("reply"):  # our reply: recorded with its thread, which we read
                    walk.advance(created)
                    root = str(item["reply"]["root"]["uri"])
                    threads[root] = None
                    own_replies.setdefault(root, []).append((post, fetched))
                    ctx.seen.add(uri)
                    continue
                marker = f"{post.get('cid')}|{post.get('replyCount', 0)}"
                if walk.see(created, iso_or_none(created), uri, marker) and post.get("replyCount"):
                    threads[uri] = None
            yield from page_bundles(
                ctx,
                fetched,
                own_posts,
                lambda item, f: self._feed_item(ctx, item, own_did, f),
                what="post",
                counts=self._reply_counts(feed),
            )
            cursor = body.get("cursor")
            if not cursor or not feed or walk.done:
                break
            params = {**params, "cursor": str(cursor)}
        yield from read_threads(
            ctx, threads, lambda uri: self._thread(ctx, own_did, uri, own_replies.get(uri, [])), "thread of {}"
        )
        ctx.cursor = {"did": own_did, **({"newest": walk.newest} if walk.newest else {})}

    @staticmethod
    def _reply_counts(feed: list[Any]) -> list[PublishedCount]:
        """`replyCount` of the account's own posts and replies on an author feed page (a repost's post is
        someone else's, and a pinned post is listed in its place too)."""
        in_place = [i for i in feed if isinstance(i, dict) and not i.get("reason")]
        own = [i["post"] for i in in_place if isinstance(i.get("post"), dict)]
        return per_item(
            ((p.get("uri"), p.get("replyCount"), published_time(dig(p, "record", "createdAt"))) for p in own),
            Covers.CHILDREN,
        )

    def _feed_item(self, ctx: HarvestContext, item: dict[str, Any], own_did: str, fetched: Fetched) -> list[Record]:
        if _is_repost(item):
            return self._repost(ctx, item, own_did, fetched)
        return [self._record(ctx, item["post"], own_did, None, fetched)]

    def _thread(
        self, ctx: HarvestContext, own_did: str, uri: str, own_replies: list[tuple[Any, Fetched]]
    ) -> Iterator[CaptureBundle | Rejected]:
        """The replies of the post at `uri`; `own_replies` are the account's replies in it the author
        feed listed, recorded from the feed when the thread's root is gone (the replies stay)."""
        fetched = ctx.fetcher.get(
            self._xrpc(ctx, "app.bsky.feed.getPostThread"),
            params={"uri": uri, "depth": "1000", "parentHeight": "0"},
            accept=(400,),
        )
        if fetched.response.status_code == 400:  # NotFound: the root is gone (check_deleted records that)
            if own_replies:
                by_view = {id(view): listed for view, listed in own_replies}
                yield from page_bundles(
                    ctx,
                    fetched,
                    [view for view, _ in own_replies],
                    lambda view, _f: [self._record(ctx, view, own_did, uri, by_view[id(view)])],
                    what="reply",
                )
            return
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
        yield from page_bundles(
            ctx, fetched, views, lambda view, f: [self._record(ctx, view, own_did, uri, f)], what="reply"
        )

    def moderation_lists(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """`app.bsky.graph.getBlocks`, `getMutes`, `getListBlocks` (`cursor` paging): the viewer's own, so
        only with the account's session token."""
        if self._session is None:
            ctx.notes.append(
                "bluesky blocks, mutes, list_blocks: not read: no session token configured (they are the "
                "viewer's own lists: app.bsky.graph.getBlocks, getMutes, getListBlocks need its session)"
            )
            return
        try:
            did = ctx.cursor.get("did") or ctx.state.cursor.get("did")
            if not did:  # the harvest before this sets it; without it the account's DID is unknown
                raise PayloadInvalid("the account's DID is not known yet (its profile was not read)")
            pds = self._pds(ctx, did)
        except (ConnectorError, *ITEM_ERRORS) as exc:
            reason = exc.one_line() if isinstance(exc, ConnectorError) else cause(exc)
            ctx.notes.append(f"bluesky blocks, mutes, list_blocks: not read: the account's PDS is not known ({reason})")
            return
        limit, auth = {"limit": PAGE_LIMIT}, {"Authorization": f"Bearer {self._session}"}
        yield from read_lists(
            ctx,
            self.platform,
            [
                ListSource(name, f"{pds}/xrpc/{method}", limit, parse, headers=auth)
                for name, method, parse in (
                    ("blocks", "app.bsky.graph.getBlocks", _profiles("blocks")),
                    ("mutes", "app.bsky.graph.getMutes", _profiles("mutes")),
                    ("list_blocks", "app.bsky.graph.getListBlocks", _lists_page),
                )
            ],
        )

    def _pds(self, ctx: HarvestContext, did: str) -> str:
        """The account's PDS, from its DID document (did:plc in the PLC directory, did:web at its domain).
        The lookup is archived like any capture: it is what sent the session token there."""
        if did.startswith("did:plc:"):
            url = f"{self.plc_directory.rstrip('/')}/{did}"
        elif did.startswith("did:web:"):
            url = f"https://{did.removeprefix('did:web:')}/.well-known/did.json"
        else:
            raise PayloadInvalid(f"{did}: not a did:plc or did:web")
        doc = ctx.fetcher.get(url).json()
        services = doc.get("service") if isinstance(doc, dict) else None
        for service in services if isinstance(services, list) else []:
            if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
                return str(service["serviceEndpoint"]).rstrip("/")
        raise PayloadInvalid(f"{url}: the DID document names no #atproto_pds service")

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        if _REPOST_MARK in item_id:
            return self._repost_gone(ctx, item_id, known)
        fetched = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.feed.getPosts"), params={"uris": item_id})
        posts = field_of(fetched, "posts")
        if any(isinstance(p, dict) and p.get("uri") == item_id for p in posts):
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)

    def _repost_gone(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        """A repost stands while its reposter is among the original's `getRepostedBy`."""
        original, by = item_id.split(_REPOST_MARK, 1)
        params = {"uri": original, "limit": PAGE_LIMIT}
        while True:
            fetched = ctx.fetcher.get(self._xrpc(ctx, "app.bsky.feed.getRepostedBy"), params=params, accept=(400,))
            if fetched.response.status_code == 400:
                return self.gone(ctx, fetched, item_id, known)  # the original itself is gone
            actors = field_of(fetched, "repostedBy")
            if any(isinstance(a, dict) and a.get("did") == by for a in actors or []):
                ctx.seen.add(item_id)
                return None
            cursor = fetched.json().get("cursor")
            if not cursor or not actors:
                return self.gone(ctx, fetched, item_id, known)
            params = {**params, "cursor": str(cursor)}


def _is_repost(item: Any) -> bool:
    reason = item.get("reason") if isinstance(item, dict) else None
    return isinstance(reason, dict) and reason.get("$type") == REPOST


def _next_cursor(fetched: Fetched, body: dict[str, Any], found: list[Any]) -> tuple[str, dict[str, str]] | None:
    """The next page: the same method with `cursor`, while the page brought entries and a cursor."""
    cursor = body.get("cursor")
    if not cursor or not found:
        return None
    url = fetched.capture.url.split("?", 1)[0]
    return url, {"limit": PAGE_LIMIT, "cursor": str(cursor)}


def _profiles(key: str) -> Any:
    """A page of `getBlocks` (`blocks`) or `getMutes` (`mutes`): profile views; a block's own record is
    `viewer.blocking` (its at:// URI)."""

    def parse(fetched: Fetched, body: Any) -> Page:
        profiles = body[key]
        if not isinstance(profiles, list):
            raise TypeError(f"{key} is not a list")
        entries = [
            ModerationEntry(
                id=str(p["did"]),
                handle=p.get("handle"),
                name=p.get("displayName") or None,
                url=f"https://bsky.app/profile/{p['did']}",
            )
            for p in profiles
        ]
        return entries, _next_cursor(fetched, body, profiles)

    return parse


def _lists_page(fetched: Fetched, body: Any) -> Page:
    """A page of `getListBlocks`: list views (a moderation list the account subscribed to block)."""
    lists = body["lists"]
    if not isinstance(lists, list):
        raise TypeError("lists is not a list")
    entries = [
        ModerationEntry(
            id=str(item["uri"]),
            title=item.get("name"),
            handle=(item.get("creator") or {}).get("handle"),
            action=str(item.get("purpose") or "").rsplit("#", 1)[-1] or None,
        )
        for item in lists
    ]
    return entries, _next_cursor(fetched, body, lists)
