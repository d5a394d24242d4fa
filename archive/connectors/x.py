"""X (API v2): the user timeline, recent search for replies, lookups for deletions.

The account's timeline (`/2/users/{id}/tweets`, newest first, `pagination_token` paging) holds its
posts and its own replies, at any age up to X's 3,200-post reach. Citizens' replies are only in
search: `/2/tweets/search/recent?query=conversation_id:{id}` covers the last 7 days, so a reply is
archived only if a run reads its conversation while the reply is under a week old. A post's
conversation is read when the post is new to the archive, inside the look-back window, or its
`public_metrics.reply_count` changed since the last run (read on every sweep, which walks the
whole timeline) — and only when that count is above zero.

Edits: X gives every edit a new post id and lists the chain in `edit_history_tweet_ids` (oldest
first). The item id is the first id of that chain, so an edit becomes version 2 of the same item;
`published_at` is the original's time (read from its snowflake id), `edited_at` the edit's
`created_at`. A reply names the version it answered (`referenced_tweets`), which is mapped back
to the item id through `includes.tweets`. A known item missing from the listings is looked up
with `/2/tweets?ids=`; a `resource-not-found` error means it is deleted.

Retweets: the account's retweet (`referenced_tweets` type `retweeted`) is its act, not its words:
its record is `upprättad` with `repost_of` (the original's URL) and no text of its own (X's "RT @…:"
text is a truncated copy of someone else's words, kept in `raw`). The original, when
`includes.tweets` holds it, is a record of its own author, whole text, `inkommen` (as Mastodon's
boosts). A quote (`quoted`) names the quoted post in `quote_of`. Polls come from
`includes.polls`. X sends `text` HTML-escaped (`&amp;`, `&lt;`, `&gt;`): records hold it unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from schemas import (
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
    Poll,
    PollOption,
    PublishedCount,
    Record,
)

from ..bundles import Rejected, encoded
from ..errors import ConnectorError, GaveUp, PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext, Publishes
from .counting import dig, per_item, profile_of, published_time, total
from .http import Fetched
from .listing import page_bundles, reason_at, rejected_page
from .moderation import ListSource, Page, read_lists
from .text import hashtags
from .times import iso
from .walk import Walk, read_threads

TWEPOCH_MS = 1_288_834_974_657
TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,attachments,entities,"
    "public_metrics,edit_history_tweet_ids,edit_controls,lang,note_tweet"
)
EXPANSIONS = "author_id,attachments.media_keys,attachments.poll_ids,referenced_tweets.id,referenced_tweets.id.author_id"
MEDIA_FIELDS = "type,url,variants,alt_text,preview_image_url"
POLL_FIELDS = "options,end_datetime,duration_minutes,voting_status"
USER_FIELDS = "username,name"
#: A username as X allows them (letters, digits, underscore; at most 15), after an `@` not inside a word.
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})(?!\w)", re.ASCII)
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def snowflake_time(tweet_id: str) -> datetime:
    """The instant a snowflake id was made (to the second, as X's `created_at`); ValueError for an id that
    is no snowflake (one past any representable date included)."""
    try:
        ms = (int(tweet_id) >> 22) + TWEPOCH_MS
        return datetime.fromtimestamp(ms // 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"not a snowflake id: {tweet_id[:40]!r}") from exc


def _list(value: Any) -> list[Any]:
    """A field that should be a list, or nothing: a payload may put anything there."""
    return value if isinstance(value, list) else []


def _first_id(tweet: Any) -> str | None:
    history = tweet.get("edit_history_tweet_ids") if isinstance(tweet, dict) else None
    if isinstance(history, list) and history and isinstance(history[0], str):
        return history[0]
    return None


def _referenced(tweet: dict[str, Any], kind: str) -> str | None:
    """The id of the post this one references as `kind` (`replied_to`, `retweeted`, `quoted`)."""
    for ref in _list(tweet.get("referenced_tweets")):
        if isinstance(ref, dict) and ref.get("type") == kind:
            return str(ref["id"])
    return None


def _replied_to(tweet: dict[str, Any]) -> str | None:
    return _referenced(tweet, "replied_to")


def unescape(text: str) -> str:
    """X's v2 `text` as written: X escapes exactly `&`, `<` and `>` (so `&amp;lt;` is a literal `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def status_url(handle: Any, tweet_id: str) -> str:
    """A post's public URL; `x.com/i/status/{id}` (which X redirects) when the author's name is unknown."""
    return (
        f"https://x.com/{handle}/status/{tweet_id}"
        if isinstance(handle, str) and handle
        else f"https://x.com/i/status/{tweet_id}"
    )


class _Page:
    """What a page's `includes` say about its posts: users, media, and version id → item id."""

    def __init__(self, body: dict[str, Any]) -> None:
        found = body.get("includes")
        includes: dict[str, Any] = found if isinstance(found, dict) else {}
        self.users = {
            u["id"]: u for u in _list(includes.get("users")) if isinstance(u, dict) and isinstance(u.get("id"), str)
        }
        self.media = {
            m["media_key"]: m
            for m in _list(includes.get("media"))
            if isinstance(m, dict) and isinstance(m.get("media_key"), str)
        }
        self.polls = {
            p["id"]: p for p in _list(includes.get("polls")) if isinstance(p, dict) and isinstance(p.get("id"), str)
        }
        self.tweets = {
            t["id"]: t for t in _list(includes.get("tweets")) if isinstance(t, dict) and isinstance(t.get("id"), str)
        }
        self.first: dict[str, str] = {}
        for tweet in [*_list(includes.get("tweets")), *_list(body.get("data"))]:
            history = tweet.get("edit_history_tweet_ids") if isinstance(tweet, dict) else None
            if isinstance(history, list) and history:
                for version in history:
                    self.first[str(version)] = str(history[0])


class XConnector(BaseConnector):
    platform = Platform.X.value
    capabilities = Capabilities(
        posts="posts, the account's own replies, its retweets (the retweeted post kept as `inkommen`), quotes "
        "(`quote_of`) and polls (user timeline; X reaches only the 3,200 newest)",
        comments="citizens' replies and replies to them, only while under 7 days old (recent search by "
        "`conversation_id`); a first harvest misses older ones",
        edits="edited posts (X gives each edit a new id; `edit_history_tweet_ids` ties them to the original): "
        "each edit a new version",
        deletions="posts and replies inside the window: tombstone (lookup answers `Not Found Error`)",
        media="photos, videos and GIFs (the best MP4 variant)",
        old_post_comments="yes while the reply is under 7 days old: the daily sweep sees "
        "`public_metrics.reply_count` change",
        credentials="an app-only Bearer token",
        counts="account total `public_metrics.tweet_count`; per post `public_metrics.reply_count`",
        published=(
            Publishes(
                CountOf.POSTS,
                "public_metrics.tweet_count",
                note="every post of the account, replies and retweets included; the timeline reaches the 3,200 newest",
            ),
            Publishes(
                CountOf.COMMENTS,
                "public_metrics.reply_count",
                per_item=True,
                covers=Covers.CHILDREN,
                note="direct replies (unverified); replies older than 7 days cannot be read, so an old post's "
                "count is not comparable",
            ),
        ),
        moderation="with a user-context token of the account (OAuth 2.0 PKCE, `block.read`, `mute.read`): blocked "
        "and muted accounts, each a versioned record; an app-only token is refused (a note). Hidden replies: "
        "not shown (no field says a reply is hidden; it stays a live record)",
        finds_comments=False,
        finds_replies=False,
        finds_moderation_lists=True,
    )

    def _url(self, ctx: HarvestContext, path: str) -> str:
        return self.api(ctx, path, "the API URL, e.g. https://api.x.com")

    def _username(self, ctx: HarvestContext) -> str:
        return ctx.account.handle.lstrip("@")

    def _lookup_user(self, ctx: HarvestContext) -> dict[str, Any]:
        return self._user_at(ctx, self._url(ctx, f"/2/users/by/username/{self._username(ctx)}"))[1]

    def _user_at(self, ctx: HarvestContext, url: str) -> tuple[Fetched, dict[str, Any]]:
        """The user an X users endpoint answers (by name or by id), with its `public_metrics`."""
        fetched = ctx.fetcher.get(url, params={"user.fields": "username,name,public_metrics"})
        body = fetched.json()
        user = body.get("data") if isinstance(body, dict) else None
        if not isinstance(user, dict) or "id" not in user:
            detail = (body.get("errors") or [{}])[0].get("detail") if isinstance(body, dict) else None
            raise PayloadInvalid(f"{fetched.capture.url}: no such X user ({detail or 'no data'})")
        return fetched, user

    @staticmethod
    def _totals(user: Any) -> list[PublishedCount]:
        return total(CountOf.POSTS, dig(user, "public_metrics", "tweet_count"))

    def _profile(self, ctx: HarvestContext, user_id: str) -> CaptureBundle | Rejected:
        """`GET /2/users/{id}` for `tweet_count`: the one profile request of a run that knows the id."""
        url = self._url(ctx, f"/2/users/{user_id}")
        try:
            fetched, user = self._user_at(ctx, url)
        except (GaveUp, PayloadInvalid) as exc:
            return Rejected(encoded(url), f"account profile (its published totals): {exc}")
        return profile_of(fetched, self._totals(user))

    @staticmethod
    def _reply_counts(data: list[Any]) -> list[PublishedCount]:
        """`public_metrics.reply_count` of the account's own posts and replies on a timeline page, under
        the item id (the first id of an edited post's chain); a retweet counts nothing of its own."""
        own = [t for t in data if isinstance(t, dict) and _referenced(t, "retweeted") is None]
        return per_item(
            (
                (first, dig(t, "public_metrics", "reply_count"), published_time(first, snowflake_time))
                for t in own
                for first in [_first_id(t)]
            ),
            Covers.CHILDREN,
        )

    def probe(self, ctx: HarvestContext) -> str:
        user = self._lookup_user(ctx)
        posts = (user.get("public_metrics") or {}).get("tweet_count", "?")
        return f"@{user.get('username')} ({user.get('name')}, {posts} posts)"

    def _params(self) -> dict[str, str]:
        return {
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "media.fields": MEDIA_FIELDS,
            "poll.fields": POLL_FIELDS,
            "user.fields": USER_FIELDS,
        }

    # ---- records ------------------------------------------------------------------------------
    def _media(self, tweet: dict[str, Any], page: _Page) -> list[MediaRef]:
        out: list[MediaRef] = []
        for key in (tweet.get("attachments") or {}).get("media_keys") or []:
            media = page.media.get(key)
            if media is None:
                continue
            alt = media.get("alt_text") or None
            if media.get("type") == "photo" and media.get("url"):
                out.append(MediaRef(url=media["url"], content_type="image/*", description=alt))
                continue
            mp4 = [v for v in media.get("variants") or [] if v.get("content_type") == "video/mp4" and v.get("url")]
            if mp4:
                best = max(mp4, key=lambda v: int(v.get("bit_rate") or 0))
                out.append(MediaRef(url=best["url"], content_type="video/mp4", description=alt))
        return out

    def _poll(self, tweet: dict[str, Any], page: _Page) -> Poll | None:
        ids = _list((tweet.get("attachments") or {}).get("poll_ids"))
        poll = page.polls.get(ids[0]) if ids and isinstance(ids[0], str) else None
        if poll is None:
            return None
        options = sorted(_list(poll.get("options")), key=lambda o: int(o.get("position") or 0))
        votes = [o.get("votes") for o in options]
        return Poll(
            options=[PollOption(title=str(o["label"]), votes=o.get("votes")) for o in options],
            expires_at=iso(poll.get("end_datetime")),
            multiple=False,
            votes=sum(votes) if all(isinstance(v, int) for v in votes) and votes else None,
        )

    def _record(
        self, ctx: HarvestContext, tweet: dict[str, Any], user: dict[str, Any], page: _Page, fetched: Fetched
    ) -> Record:
        history = tweet["edit_history_tweet_ids"]
        if not isinstance(history, list) or not history:
            raise TypeError("edit_history_tweet_ids is not a list of ids")
        for needed in ("created_at", "author_id"):
            if tweet.get(needed) is None:
                raise ValueError(f"no {needed} (X answered without the tweet.fields asked for)")
        item_id = str(history[0])
        note = tweet.get("note_tweet")
        text = note["text"] if isinstance(note, dict) and "text" in note else tweet["text"]
        if not isinstance(text, str):
            raise TypeError("text is not a string")
        text = unescape(text)
        created = iso(tweet["created_at"])
        if created is None:
            raise ValueError("created_at is empty")
        edited = len(history) > 1
        conversation = str(tweet.get("conversation_id") or item_id)
        replied = _replied_to(tweet)
        parent = page.first.get(replied, replied) if replied else None
        kind = Kind.POST if parent is None else (Kind.COMMENT if parent == conversation else Kind.REPLY)
        author_id = str(tweet["author_id"])
        author = page.users.get(author_id) or {}
        handle = author.get("username")
        retweeted, quoted = _referenced(tweet, "retweeted"), _referenced(tweet, "quoted")
        entities = tweet.get("entities") or {}
        if retweeted:  # the act of retweeting: the words (and links, tags, media) are the original's record
            text, entities = "", {}
        links = [
            u.get("expanded_url") or u.get("url")
            for u in entities.get("urls") or []
            if u.get("expanded_url") or u.get("url")
        ]
        tags = entities.get("hashtags")
        named = entities.get("mentions")
        return Record(
            platform=Platform.X,
            account=ctx.account.id,
            item_id=item_id,
            kind=kind,
            parent_id=parent,
            thread_id=conversation,
            author=Author(
                id=author_id, handle=handle, name=author.get("name"), url=f"https://x.com/{handle}" if handle else None
            ),
            direction=Direction.UPPRATTAD if author_id == str(user["id"]) else Direction.INKOMMEN,
            text=text,
            url=status_url(handle or (user.get("username") if author_id == str(user["id"]) else None), item_id),
            repost_of=self._url_of(retweeted, page) if retweeted else None,
            quote_of=self._url_of(quoted, page) if quoted else None,
            links=links,
            hashtags=list(dict.fromkeys(str(t["tag"]).lower() for t in tags))
            if isinstance(tags, list)
            else hashtags(text),
            mentions=list(dict.fromkeys(str(m["username"]) for m in named))
            if isinstance(named, list)
            else list(dict.fromkeys(_MENTION.findall(text))),
            media=[] if retweeted else self._media(tweet, page),
            poll=None if retweeted else self._poll(tweet, page),
            published_at=snowflake_time(item_id) if edited else created,
            edited_at=created if edited else None,
            captured_at=fetched.capture.started_at,
            language=tweet.get("lang"),
            source_url=fetched.capture.url,
            raw=tweet,
        )

    def _url_of(self, tweet_id: str, page: _Page) -> str:
        """The public URL of a referenced post, with its author's name when `includes` hold it."""
        first = page.first.get(tweet_id, tweet_id)
        found = page.tweets.get(tweet_id) or {}
        return status_url((page.users.get(str(found.get("author_id"))) or {}).get("username"), first)

    def _builder(
        self, ctx: HarvestContext, user: dict[str, Any], page: _Page
    ) -> Callable[[Any, Fetched], list[Record]]:
        return lambda tweet, fetched: [self._record(ctx, tweet, user, page, fetched)]

    def _with_originals(self, data: list[Any], page: _Page) -> list[Any]:
        """The page's posts, each retweet followed by the post it retweets (when `includes.tweets` holds
        it): that post is kept as a record of its own author, and quarantined on its own if unreadable."""
        out: list[Any] = []
        for tweet in data:
            out.append(tweet)
            original = _referenced(tweet, "retweeted") if isinstance(tweet, dict) else None
            if original and original in page.tweets:
                out.append(page.tweets[original])
        return out

    def _read(self, fetched: Fetched) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
        body = fetched.json()
        if not isinstance(body, dict):
            raise TypeError("the answer is not an object")
        data = body.get("data", [])
        meta = body["meta"]
        if not isinstance(data, list) or not isinstance(meta, dict):
            raise TypeError("data is not a list or meta not an object")
        return body, data, meta

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        # One profile request per run for `tweet_count`: the lookup by name of a first run is that request.
        if "user_id" in ctx.state.cursor:
            user = {"id": ctx.state.cursor["user_id"], "username": ctx.state.cursor.get("username")}
            yield self._profile(ctx, str(user["id"]))
        else:
            found, user = self._user_at(ctx, self._url(ctx, f"/2/users/by/username/{self._username(ctx)}"))
            yield profile_of(found, self._totals(user))
        before = ctx.state.cursor.get("newest")
        walk: Walk[int] = Walk(ctx, int(before) if before else None)
        threads: dict[str, None] = {}
        params = {**self._params(), "max_results": "100"}
        while True:
            fetched = ctx.fetcher.get(self._url(ctx, f"/2/users/{user['id']}/tweets"), params=params)
            try:
                body, data, meta = self._read(fetched)
            except (PayloadInvalid, KeyError, TypeError) as exc:
                yield rejected_page(ctx, fetched, f"unreadable timeline ({exc})")
                break
            page = _Page(body)
            ctx.items.prefetch(str(_first_id(t) or t.get("conversation_id")) for t in data if isinstance(t, dict))
            for tweet in data:
                if not isinstance(tweet, dict):
                    continue
                first = _first_id(tweet) or tweet.get("conversation_id")
                if not isinstance(first, str) or not first.isdigit():
                    continue  # malformed: page_bundles quarantines it with the reason
                try:
                    published: datetime | None = snowflake_time(first)
                except ValueError:
                    published = None
                if _replied_to(tweet) is not None or _referenced(tweet, "retweeted") is not None:
                    walk.see(int(first), published)  # our own reply or a retweet: no conversation of its own
                    continue
                metrics = tweet.get("public_metrics")
                replies = metrics.get("reply_count") if isinstance(metrics, dict) else None
                marker = None if replies is None else str(replies)
                if walk.see(int(first), published, first, marker) and replies != 0:
                    threads[first] = None
            yield from page_bundles(
                ctx,
                fetched,
                self._with_originals(data, page),
                self._builder(ctx, user, page),
                what="post",
                counts=self._reply_counts(data),
            )
            token = meta.get("next_token")
            if not token or not data or walk.done:
                break
            params = {**params, "pagination_token": str(token)}
        yield from read_threads(ctx, threads, lambda root: self._conversation(ctx, user, root), "conversation {}")
        ctx.cursor = {
            "user_id": str(user["id"]),
            **({"username": str(user["username"])} if user.get("username") else {}),
            **({"newest": str(walk.newest)} if walk.newest is not None else {}),
        }

    def _conversation(self, ctx: HarvestContext, user: dict[str, Any], root: str) -> Iterator[CaptureBundle | Rejected]:
        params = {**self._params(), "query": f"conversation_id:{root}", "max_results": "100"}
        while True:
            fetched = ctx.fetcher.get(self._url(ctx, "/2/tweets/search/recent"), params=params)
            try:
                body, data, meta = self._read(fetched)
            except (PayloadInvalid, KeyError, TypeError) as exc:
                ctx.keep_marker(root)
                yield Rejected(fetched.capture.body, reason_at(f"unreadable search ({exc})", fetched.capture.url))
                return
            page = _Page(body)
            replies = [t for t in data if not (isinstance(t, dict) and _first_id(t) == root)]
            yield from page_bundles(ctx, fetched, replies, self._builder(ctx, user, page), what="reply")
            token = meta.get("next_token")
            if not token or not data:
                return
            params = {**params, "next_token": str(token)}

    def moderation_lists(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """`GET /2/users/{id}/blocking` and `/muting` (`pagination_token` paging): the user's own lists, which
        X shows only to a user-context token; an app-only token gets 403 (a note in the report)."""
        user_id = ctx.cursor.get("user_id") or ctx.state.cursor.get("user_id")
        if not user_id:
            try:
                user_id = str(self._lookup_user(ctx)["id"])
            except ConnectorError as exc:
                ctx.notes.append(f"x blocks, mutes: not read ({exc.one_line()})")
                return
        params = {"max_results": "1000", "user.fields": "username,name"}
        yield from read_lists(
            ctx,
            self.platform,
            [
                ListSource("blocks", self._url(ctx, f"/2/users/{user_id}/blocking"), params, _users_page(params)),
                ListSource("mutes", self._url(ctx, f"/2/users/{user_id}/muting"), params, _users_page(params)),
            ],
        )

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        fetched = ctx.fetcher.get(
            self._url(ctx, "/2/tweets"), params={"ids": item_id, "tweet.fields": "created_at,edit_history_tweet_ids"}
        )
        body = fetched.json()
        if not isinstance(body, dict):
            raise PayloadInvalid(f"{fetched.capture.url}: the answer is not an object")
        for tweet in _list(body.get("data")):
            if isinstance(tweet, dict) and item_id in (_list(tweet.get("edit_history_tweet_ids")) or [tweet.get("id")]):
                ctx.seen.add(item_id)
                return None
        gone = any(
            isinstance(e, dict) and e.get("resource_id") == item_id and e.get("type") == NOT_FOUND
            for e in _list(body.get("errors"))
        )
        if not gone:  # withheld, suspended or protected: not a deletion we can attest
            return None
        return self.gone(ctx, fetched, item_id, known)


def _users_page(params: dict[str, str]) -> Callable[[Fetched, Any], Page]:
    """A page of blocked or muted users: `data` of users (absent when there are none), `meta.next_token`."""

    def parse(fetched: Fetched, body: Any) -> Page:
        if not isinstance(body, dict) or ("data" not in body and "meta" not in body):
            raise TypeError("neither data nor meta in the answer")
        users = body.get("data") or []
        if not isinstance(users, list):
            raise TypeError("data is not a list")
        entries = [
            ModerationEntry(
                id=str(u["id"]),
                handle=u.get("username"),
                name=u.get("name") or None,
                url=f"https://x.com/{u['username']}" if u.get("username") else None,
            )
            for u in users
        ]
        token = (body.get("meta") or {}).get("next_token")
        url = fetched.capture.url.split("?", 1)[0]
        return entries, ((url, {**params, "pagination_token": str(token)}) if token and users else None)

    return parse
