"""Mastodon: the account's statuses, their conversations, media, edits and deletions.

Paging follows the `Link` header (`rel="next"` is older, by `max_id`); ids are numeric
strings compared as integers. Each run walks from the newest status back until it has passed
both the newest status seen before (nothing new is skipped) and the look-back window (edits,
new replies and deletions in recent threads are caught). Conversations come from
`/statuses/{id}/context`; a status missing from the listings is checked with
`GET /statuses/{id}`, and a 404 makes a tombstone. Timestamps look like
`2024-05-02T08:15:30.000Z`.

With the account's token, `moderation_lists` reads its blocks, mutes and domain blocks (paged by
`Link`, like the statuses) and its v2 filters, each list one record (archive/connectors/moderation.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
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
from ..errors import GaveUp, PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext, Publishes
from .counting import dig, per_item, profile, profile_of, published_time, total
from .http import Fetched
from .listing import ITEM_ERRORS, cause, raw_of, reason_at, required, writable
from .media import fetch_media, with_digests
from .moderation import ListSource, Page, read_lists
from .text import html_to_text
from .times import iso

PAGE_LIMIT = "40"
_MEDIA_TYPES = {"image": "image/*", "gifv": "video/*", "video": "video/*", "audio": "audio/*"}


def _next_link(fetched: Fetched) -> str | None:
    """The rel="next" URL of a Link header (httpx parses it)."""
    return fetched.response.links.get("next", {}).get("url")


def _number(status_id: Any) -> int | None:
    """A status id (a numeric string) as the integer the walk compares; None when it is not one."""
    if isinstance(status_id, str) and status_id.isascii() and status_id.isdigit():
        return int(status_id)
    return status_id if isinstance(status_id, int) and not isinstance(status_id, bool) and status_id >= 0 else None


def _attachment_urls(status: dict[str, Any]) -> list[str]:
    """The media URLs a status (or the status it boosts) shows; malformed ones are left to `_record`."""
    boosted = status.get("reblog")
    attachments = (boosted if isinstance(boosted, dict) else status).get("media_attachments")
    if not isinstance(attachments, list):
        return []
    return [m["url"] for m in attachments if isinstance(m, dict) and isinstance(m.get("url"), str) and m["url"]]


def _poll(shown: dict[str, Any]) -> Poll | None:
    """A status's poll: the options' titles, `expires_at` and `multiple` are what was asked (content);
    `votes_count` per option and in all, and `voters_count`, are the reading at capture (Mastodon
    gives null counts while a poll hides its totals)."""
    poll = shown.get("poll")
    if poll is None:
        return None
    if not isinstance(poll, dict) or not isinstance(poll.get("options"), list):
        raise TypeError("poll is not an object with options")
    return Poll(
        options=[PollOption(title=o["title"], votes=o.get("votes_count")) for o in poll["options"]],
        expires_at=iso(poll.get("expires_at")),
        multiple=bool(poll.get("multiple")),
        votes=poll.get("votes_count"),
        voters=poll.get("voters_count"),
    )


def _quoted(shown: dict[str, Any]) -> str | None:
    """The URL of the status a quote post quotes (Mastodon 4.5 and later: `quote.quoted_status`); None when it is
    no quote, or the quote is pending, revoked or the quoted status was deleted (no `quoted_status`)."""
    quote = shown.get("quote")
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    if not isinstance(quoted, dict):
        return None
    url = quoted.get("url") or quoted.get("uri")
    return str(url) if url else None


class MastodonConnector(BaseConnector):
    platform = Platform.MASTODON.value
    capabilities = Capabilities(
        posts="statuses, replies, boosts (the boosted status kept as `inkommen`), quotes (`quote_of`) and polls "
        "(options; vote counts as read at capture)",
        comments="replies in the conversations of statuses inside the window and of every new one",
        edits="each version (`edited_at`); two edits between runs give one version",
        deletions="statuses and replies inside the window: tombstone (404)",
        media="attachments",
        old_post_comments="no: replies are listed only in the conversation",
        credentials="none for public accounts; optional Bearer token",
        counts="account total `statuses_count` (profile); per status `replies_count` (direct replies)",
        published=(
            Publishes(
                CountOf.POSTS,
                "statuses_count",
                note="every status of the account, replies and boosts included, and private ones the public "
                "timeline does not show",
            ),
            Publishes(CountOf.COMMENTS, "replies_count", per_item=True, covers=Covers.CHILDREN),
        ),
        moderation="with the account's own token (read:blocks, read:mutes, read:filters): blocked and muted "
        "accounts, blocked domains and filters with their keywords, each a versioned record; without one, "
        "a note. A reply a moderator removed is a tombstone like any deletion",
        finds_old_post_comments=False,
        finds_moderation_lists=True,
    )

    def _api(self, ctx: HarvestContext, path: str) -> str:
        return self.api(ctx, path, "the instance URL")

    def probe(self, ctx: HarvestContext) -> str:
        found = ctx.fetcher.get(
            self._api(ctx, "/api/v1/accounts/lookup"), params={"acct": ctx.account.handle.lstrip("@").split("@")[0]}
        ).json()
        return f"@{found.get('acct')} ({found.get('statuses_count', '?')} statuses)"

    def _account(self, ctx: HarvestContext) -> tuple[str, CaptureBundle | Rejected]:
        """The account's id, and its profile with `statuses_count`: one request per run, the lookup on a
        first run (which answers the whole account), `GET /accounts/{id}` once the id is known. A profile
        that cannot be read costs this run its total, not the run."""
        known = ctx.state.cursor.get("account_id")
        if known is not None:
            return known, profile(ctx, self._api(ctx, f"/api/v1/accounts/{known}"), None, self._totals)
        acct = ctx.account.handle.lstrip("@").split("@")[0]
        found = ctx.fetcher.get(self._api(ctx, "/api/v1/accounts/lookup"), params={"acct": acct})
        return required(found, found.json(), "id"), profile_of(found, self._totals(found.json()))

    @staticmethod
    def _totals(account: Any) -> list[PublishedCount]:
        return total(CountOf.POSTS, dig(account, "statuses_count"))

    def _record(
        self,
        ctx: HarvestContext,
        status: dict[str, Any],
        own_id: str,
        thread: str | None,
        captured_at: datetime,
        source: str,
    ) -> Record:
        shown = status.get("reblog") or status
        text, links = html_to_text(shown.get("content") or "")
        if shown.get("spoiler_text"):
            text = f"{shown['spoiler_text']}\n\n{text}"
        author = status["account"]
        parent = status.get("in_reply_to_id")
        kind = Kind.POST if parent is None else (Kind.COMMENT if str(parent) == thread else Kind.REPLY)
        media = [
            MediaRef(url=m["url"], content_type=_MEDIA_TYPES.get(m.get("type", "")), description=m.get("description"))
            for m in shown.get("media_attachments") or []
        ]
        return Record(
            platform=Platform.MASTODON,
            account=ctx.account.id,
            item_id=str(status["id"]),
            kind=kind,
            parent_id=str(parent) if parent else None,
            thread_id=thread or str(status["id"]),
            author=Author(
                id=str(author["id"]), handle=author.get("acct"), name=author.get("display_name"), url=author.get("url")
            ),
            direction=Direction.UPPRATTAD if str(author["id"]) == own_id else Direction.INKOMMEN,
            text=text,
            html=shown.get("content"),
            url=status.get("url") or status.get("uri"),
            repost_of=(shown.get("url") or shown.get("uri")) if status.get("reblog") else None,
            quote_of=_quoted(shown),
            poll=_poll(shown),
            links=links,
            hashtags=[t["name"].lower() for t in shown.get("tags") or []],
            mentions=[m["acct"] for m in shown.get("mentions") or []],
            media=with_digests(ctx, media),
            published_at=iso(status["created_at"]),
            edited_at=iso(shown.get("edited_at")),
            captured_at=captured_at,
            language=shown.get("language"),
            source_url=source,
            raw=status,
        )

    def _page(
        self, ctx: HarvestContext, fetched: Fetched, own_id: str, thread: str | None, statuses: list[Any]
    ) -> Iterator[CaptureBundle | Rejected]:
        """Media first (so records can carry their digests), then the page with its records."""
        parsed: list[dict[str, Any]] = []
        bad: list[Rejected] = []
        for status in statuses:
            if isinstance(status, dict) and "id" in status and "account" in status and "created_at" in status:
                parsed.append(status)
            else:
                what = raw_of(status)[:80].decode(errors="replace")
                reason = reason_at(f"malformed status (no id, account or created_at): {what}", fetched.capture.url)
                bad.append(Rejected(raw_of(status), reason))
        refs = [MediaRef(url=url) for s in parsed for url in _attachment_urls(s)]
        yield from fetch_media(ctx, refs)
        counts = [] if thread is not None else self._reply_counts(parsed)
        records = []
        for status in parsed:
            if thread is None and status.get("in_reply_to_id") is not None:
                # A reply's place in its conversation (thread, comment or reply) is only known from
                # /context, so it is recorded there; here it only counts as seen.
                ctx.seen.add(str(status["id"]))
                continue
            # A boost is the municipality's act; the boosted status is someone else's post, kept too.
            boosted = status.get("reblog")
            for one in [status, boosted] if isinstance(boosted, dict) else [status]:
                try:
                    records.append(
                        writable(
                            self._record(
                                ctx,
                                one if one is status else {**one, "reblog": None},
                                own_id,
                                thread,
                                fetched.capture.started_at,
                                fetched.capture.url,
                            )
                        )
                    )
                except ITEM_ERRORS as exc:
                    which = raw_of(one.get("id")).decode()
                    reason = reason_at(f"unreadable status {which} ({cause(exc)})", fetched.capture.url)
                    bad.append(Rejected(raw_of(one), reason))
                    continue
                ctx.seen.add(str(one["id"]))
        yield from bad
        yield CaptureBundle(capture=fetched.capture, records=records, counts=counts)

    @staticmethod
    def _reply_counts(statuses: list[dict[str, Any]]) -> list[PublishedCount]:
        """`replies_count` of each of the account's own statuses on a listing page (its posts and replies;
        a boost's wrapper counts nothing, and the boosted status's replies are not harvested)."""
        return per_item(
            (
                (s.get("id"), s.get("replies_count"), published_time(s.get("created_at")))
                for s in statuses
                if not s.get("reblog")
            ),
            Covers.CHILDREN,
        )

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        own_id, profile = self._account(ctx)
        yield profile
        newest_before = int(ctx.state.cursor.get("newest_id", "0"))
        newest = newest_before
        url: str | None = self._api(ctx, f"/api/v1/accounts/{own_id}/statuses")
        params: dict[str, str] | None = {"limit": PAGE_LIMIT}
        threads: list[dict[str, Any]] = []
        unseen = set(ctx.backfill)  # threads a completeness check found short: walk on until each is met
        while url:
            fetched = ctx.fetcher.get(url, params=params)
            params = None  # the Link URL carries them from here on
            try:
                statuses = fetched.json()
                if not isinstance(statuses, list):
                    raise PayloadInvalid(f"{fetched.capture.url}: expected a list of statuses")
            except PayloadInvalid as exc:
                ctx.incomplete = True
                yield Rejected(fetched.capture.body, reason_at(str(exc), fetched.capture.url))
                break
            if not statuses:
                yield CaptureBundle(capture=fetched.capture, records=[])  # an empty account's answer is kept too
                break
            yield from self._page(ctx, fetched, own_id, None, statuses)
            oldest_here = None
            for s in statuses:
                number = _number(s.get("id")) if isinstance(s, dict) else None
                if number is not None:  # else _page quarantined it
                    newest = max(newest, number)
                    try:  # a malformed status is quarantined by _page; here it only must not stop the walk
                        created = iso(s.get("created_at"))
                    except (AttributeError, TypeError, ValueError):
                        created = None
                    recent = created is not None and created >= ctx.window_start
                    replies = s.get("replies_count")
                    in_thread = (isinstance(replies, int) and replies > 0) or s.get("in_reply_to_id") is not None
                    wanted = str(s.get("id")) in ctx.backfill
                    unseen.discard(str(s.get("id")))
                    if (recent or number > newest_before or wanted) and in_thread:
                        threads.append(s)
                    oldest_here = (number, created)
            past = (
                oldest_here and oldest_here[0] <= newest_before and oldest_here[1] and oldest_here[1] < ctx.window_start
            )
            if past and not unseen:
                break
            url = _next_link(fetched)
        for status in threads:
            try:
                yield from self._context(ctx, own_id, status)
            except (GaveUp, PayloadInvalid) as exc:  # one conversation lost for now, not the run
                yield Rejected(encoded(str(status.get("id"))), f"conversation of {status.get('id')}: {exc}")
        ctx.cursor = {"account_id": own_id, "newest_id": str(newest)}

    def _context(self, ctx: HarvestContext, own_id: str, status: dict[str, Any]) -> Iterator[CaptureBundle | Rejected]:
        status_id = str(status["id"])
        fetched = ctx.fetcher.get(self._api(ctx, f"/api/v1/statuses/{status_id}/context"), accept=(404, 410))
        if fetched.response.status_code != 200:
            return  # the status itself is gone; check_deleted records that
        try:
            body = fetched.json()
            ancestors, descendants = list(body["ancestors"]), list(body["descendants"])
        except (PayloadInvalid, KeyError, TypeError) as exc:
            yield Rejected(fetched.capture.body, reason_at(f"malformed context ({cause(exc)})", fetched.capture.url))
            return
        # The conversation around the status: the posts it answers and the replies it got.
        root = str(ancestors[0]["id"]) if ancestors and isinstance(ancestors[0], dict) else status_id
        # The status itself is in neither list; a reply of ours is recorded here, with its thread.
        middle = [status] if status.get("in_reply_to_id") is not None else []
        yield from self._page(ctx, fetched, own_id, root, ancestors + middle + descendants)

    def moderation_lists(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """Blocks, mutes, domain blocks (paged by `Link`) and v2 filters: the token's own, so only with one."""
        if ctx.account.credentials is None:
            ctx.notes.append(
                "mastodon blocks, mutes, domain_blocks, filters: not read: no token configured (they are the "
                "token's own lists: read:blocks, read:mutes, read:filters)"
            )
            return
        yield from read_lists(
            ctx,
            self.platform,
            [
                ListSource("blocks", self._api(ctx, "/api/v1/blocks"), {"limit": "80"}, _accounts_page),
                ListSource("mutes", self._api(ctx, "/api/v1/mutes"), {"limit": "80"}, _accounts_page),
                ListSource("domain_blocks", self._api(ctx, "/api/v1/domain_blocks"), {"limit": "200"}, _domains_page),
                ListSource("filters", self._api(ctx, "/api/v2/filters"), None, _filters_page),
            ],
        )

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        fetched = ctx.fetcher.get(self._api(ctx, f"/api/v1/statuses/{item_id}"), accept=(404, 410))
        if fetched.response.status_code == 200:
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)


def _following(fetched: Fetched) -> tuple[str, dict[str, str] | None] | None:
    link = _next_link(fetched)
    return (link, None) if link else None


def _list_of(body: Any, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise TypeError(f"expected a list of {what}, got {type(body).__name__}")
    return body


def _accounts_page(fetched: Fetched, body: Any) -> Page:
    """`GET /api/v1/blocks` and `/mutes`: Account objects; a mute may carry `mute_expires_at`."""
    return [
        ModerationEntry(
            id=str(a["id"]),
            handle=a["acct"],
            name=a.get("display_name") or None,
            url=a.get("url"),
            expires_at=iso(a.get("mute_expires_at")),
        )
        for a in _list_of(body, "accounts")
    ], _following(fetched)


def _domains_page(fetched: Fetched, body: Any) -> Page:
    """`GET /api/v1/domain_blocks`: plain domain strings."""
    domains = _list_of(body, "domains")
    if not all(isinstance(d, str) and d for d in domains):
        raise TypeError("a domain block is not a domain name")
    return [ModerationEntry(domain=d) for d in domains], _following(fetched)


def _filters_page(fetched: Fetched, body: Any) -> Page:
    """`GET /api/v2/filters`: Filter objects, each with its keywords (and the single statuses it hides)."""
    entries = []
    for f in _list_of(body, "filters"):
        common = {
            "title": f["title"],
            "context": list(f.get("context") or []),
            "action": f.get("filter_action"),
            "expires_at": iso(f.get("expires_at")),
        }
        for k in f.get("keywords") or []:
            entries.append(
                ModerationEntry(
                    id=f"{f['id']}/{k['id']}", keyword=k["keyword"], whole_word=k.get("whole_word"), **common
                )
            )
        for st in f.get("statuses") or []:
            entries.append(ModerationEntry(id=f"{f['id']}/status/{st['id']}", status_id=str(st["status_id"]), **common))
        if not f.get("keywords") and not f.get("statuses"):
            entries.append(ModerationEntry(id=str(f["id"]), **common))
    return entries, None
