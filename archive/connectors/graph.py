"""What the Facebook and Instagram connectors share: Meta's Graph API conventions.

- Errors come as `{"error":{"message","type","code","error_subcode","is_transient","fbtrace_id"}}`,
  mostly with HTTP 400. Throttling is one of them, not a 429: codes 4 (app), 17 (user), 32 (Page),
  613 (custom) and the Business Use Case codes 80000–80014 (80001 Pages, 80002 Instagram), with the
  wait in `X-Business-Use-Case-Usage` → `estimated_time_to_regain_access` (minutes). `throttled()`
  turns those into "wait this long" for the fetcher, which retries.
- Code 100 subcode 33 on `GET /{id}` means the object is deleted or cannot be seen any more: a tombstone.
- Codes 102, 104, 190 (token missing, invalid or expired) and 10/200–299 (permission) raise
  AuthExpired; any other error is PayloadInvalid for that request.
- Listings are `data` + `paging{cursors,next}`; `next` is followed until absent (a page may be
  short, or empty, and still have a `next`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from schemas import CaptureBundle, KnownItem, PublishedCount, Record

from ..bundles import Rejected
from ..errors import AuthExpired, PayloadInvalid
from .base import BaseConnector, HarvestContext
from .http import Fetched, without_query
from .listing import listed, page_bundles, rejected_page
from .times import iso
from .walk import Walk, iso_or_none, read_threads

#: Graph error codes that mean "too many calls, wait".
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
#: Token missing, invalid or expired; permission missing.
AUTH_CODES = frozenset({102, 104, 190, 10, *range(200, 300)})
PAGE_LIMIT = "100"


def graph_error(response: httpx.Response) -> dict[str, Any] | None:
    """The `error` object of a Graph error body, or None."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def regain_seconds(headers: Mapping[str, str]) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`, in seconds."""
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    return max(minutes) * 60 if minutes else None


def is_gone(error: dict[str, Any] | None) -> bool:
    """Code 100 subcode 33: the object does not exist (any more) or cannot be loaded."""
    return bool(error) and error.get("code") == 100 and error.get("error_subcode") == 33  # type: ignore[union-attr]


class GraphConnector(BaseConnector):
    """Graph errors, throttling, paging, the listing walk and deletion checks for Facebook and Instagram."""

    time_field: ClassVar[str] = "created_time"
    """The listed items' creation time (`2024-05-02T08:15:30+0000`), the walk's watermark."""

    def throttled(self, response: httpx.Response) -> float | None:
        if response.status_code not in (400, 403):
            return None
        error = graph_error(response)
        if error is None or error.get("code") not in THROTTLE_CODES:
            return None
        wait = regain_seconds(response.headers)
        return wait if wait is not None else 0.0

    def url(self, ctx: HarvestContext, path: str) -> str:
        return self.api(ctx, path, "the Graph API URL, e.g. https://graph.facebook.com/v21.0")

    def get(self, ctx: HarvestContext, url: str, params: Mapping[str, str] | None = None) -> Fetched:
        """GET a Graph URL; a Graph error raises AuthExpired (token) or PayloadInvalid (anything else)."""
        fetched = ctx.fetcher.get(url, params=params, accept=(400, 403))
        if fetched.response.status_code < 400:
            return fetched
        raise self.failure(fetched)

    @staticmethod
    def failure(fetched: Fetched) -> AuthExpired | PayloadInvalid:
        error = graph_error(fetched.response) or {}
        where = without_query(str(fetched.response.url))
        # The cause first, then where: a thread's quarantine reason prefixes this with its item.
        what = f"Graph error {error.get('code')}/{error.get('error_subcode', '-')}: {error.get('message')} — {where}"
        if error.get("code") in AUTH_CODES:
            return AuthExpired(what)
        return PayloadInvalid(what)

    def pages(
        self, ctx: HarvestContext, url: str, params: Mapping[str, str] | None, what: str
    ) -> Iterator[tuple[Fetched, list[Any]] | Rejected]:
        """Each page of a listing as (fetched, data), following `paging.next`; an unreadable page is
        yielded as Rejected (and ends the walk). The caller may stop early."""
        next_url: str | None = url
        query: Mapping[str, str] | None = params
        while next_url:
            fetched = self.get(ctx, next_url, query)
            try:
                body, data = listed(fetched, "data")
                paging = body.get("paging") or {}
                following = paging.get("next") if isinstance(paging, dict) else None
            except (PayloadInvalid, KeyError, TypeError, AttributeError) as exc:
                yield rejected_page(ctx, fetched, f"unreadable {what} ({exc})")
                return
            yield fetched, data
            next_url, query = (str(following), None) if following else (None, None)

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        fetched = ctx.fetcher.get(self.url(ctx, f"/{item_id}"), params={"fields": "id"}, accept=(400, 403))
        if fetched.response.status_code < 400:
            ctx.seen.add(item_id)
            return None
        if not is_gone(graph_error(fetched.response)):
            raise self.failure(fetched)
        return self.gone(ctx, fetched, item_id, known)

    # ---- the listing walk ---------------------------------------------------------------------
    def activity(self, item: dict[str, Any]) -> tuple[str | None, bool]:
        """A listed item's activity marker (None if it has none), and whether it may have comments."""
        raise NotImplementedError

    def item_counts(self, data: list[Any]) -> list[PublishedCount]:
        """The per-item counts the platform published on a listing page (its items' comment counts)."""
        return []

    def listing(
        self,
        ctx: HarvestContext,
        path: str,
        params: Mapping[str, str],
        what: str,
        build: Callable[[Any, Fetched], list[Record]],
        item: str,
        comments: Callable[[str], Iterator[CaptureBundle | Rejected]],
    ) -> Generator[CaptureBundle | Rejected, None, datetime | None]:
        """Walk the account's newest-first listing (`path`): the records of each page (`build`), then
        `comments(item_id)` of every item new to the archive, inside the window or whose `activity`
        marker changed. Stops past both the cursor's `newest` and the window unless sweeping; returns
        the new `newest` (the items' `time_field`)."""
        walk = Walk(ctx, iso(ctx.state.cursor.get("newest")))
        threads: dict[str, None] = {}
        for page in self.pages(ctx, self.url(ctx, path), params, what):
            if isinstance(page, Rejected):
                yield page
                break
            fetched, data = page
            ctx.prefetch(data)
            for entry in data:
                if not isinstance(entry, dict) or not entry.get("id"):
                    continue  # malformed: page_bundles quarantines it with the reason
                item_id, moment = str(entry.get("id")), iso_or_none(entry.get(self.time_field))
                marker, commented = self.activity(entry)
                if walk.see(moment, moment, item_id, marker) and commented:
                    threads[item_id] = None
            yield from page_bundles(ctx, fetched, data, build, what=item, counts=self.item_counts(data))
            if walk.done:
                break
        yield from read_threads(ctx, threads, comments, "comments of {}")
        return walk.newest

    def thread_pages(
        self,
        ctx: HarvestContext,
        thread_id: str,
        url: str,
        params: Mapping[str, str] | None,
        what: str,
        build: Callable[[Any, Fetched], list[Record]],
        item: str,
    ) -> Generator[CaptureBundle | Rejected, None, bool]:
        """Every page of one thread's comments (or replies) as bundles; False when a page could not be
        read: it is quarantined and the thread keeps its old marker, to be read again next run."""
        for page in self.pages(ctx, url, params, what):
            if isinstance(page, Rejected):
                ctx.keep_marker(thread_id)
                yield page
                return False
            fetched, data = page
            yield from page_bundles(ctx, fetched, data, build, what=item)
        return True
