"""WordPress REST API: posts, pages, approved comments, media; edits by `modified_gmt`.

Each run lists (1) posts and pages modified since the saved watermark or the start of the
look-back window, whichever is earlier (`orderby=modified`): the new and edited ones, and every
one published inside the window, since an item is modified no earlier than it is published; and
(2) comments posted inside the window or since the watermark, across all posts, so a new comment
on an old post is caught. Paging follows `X-WP-TotalPages`. Dates carry no zone; the `_gmt`
fields are UTC. Unauthenticated callers see only published posts and approved comments, so an
item missing from the listings is asked for directly: 404/410 is a deletion (tombstone), 401/403
means it is no longer public (hidden by a moderator or unpublished), recorded as such.

The REST API lives at `/wp-json/` only on a site with pretty permalinks. A site on plain permalinks
answers `/wp-json/…` with its home page (or a 404) and serves the API at `/index.php?rest_route=/`,
which it announces on every page in a `Link: <…>; rel="https://api.w.org/"` header. So when the
first listing of a run does not answer JSON, the connector reads the home page's announcement and
uses that root for the rest of the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from schemas import (
    Author,
    CaptureBundle,
    CountOf,
    Direction,
    Kind,
    KnownItem,
    MediaRef,
    Platform,
    PublishedCount,
    Record,
    Removal,
)

from ..bundles import Rejected, encoded
from ..errors import GaveUp, Gone, PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext, Publishes
from .counting import profile_of, total
from .http import Fetched, without_query
from .listing import ITEM_ERRORS, cause, raw_of, reason_at, writable
from .media import fetch_media, with_digests
from .text import hashtags, html_to_text

PER_PAGE = "100"
#: The link relation WordPress announces its REST API root with (https://developer.wordpress.org/rest-api/using-the-rest-api/discovery/).
API_REL = "https://api.w.org/"
_MEDIA_SRC = re.compile(r"""<(?:img|video|source)\b[^>]+src=["']([^"']+)["']""")


def _gmt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _is_json(fetched: Fetched) -> bool:
    try:
        json.loads(fetched.response.content)
    except (ValueError, RecursionError):
        return False
    return fetched.problem is None


def _total(fetched: Fetched, what: CountOf, detail: str | None) -> list[PublishedCount]:
    """The `X-WP-Total` header of a listing answer as the account's total of `what`."""
    return total(what, fetched.headers.get("x-wp-total"), detail)


def _stamp(moment: datetime) -> str:
    """With an explicit zone: WordPress reads `after=` dates without one as the site's local time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class WordPressConnector(BaseConnector):
    platform = Platform.WORDPRESS.value
    capabilities = Capabilities(
        posts="published posts and pages",
        comments="approved comments and replies",
        edits="each version (`modified_gmt`; comment edits by content hash inside the window)",
        deletions="inside the window: tombstone (404/410), or hidden (401: held, spam, trashed)",
        media="images and video in the content",
        old_post_comments="yes: comments are listed across all posts by date",
        credentials="none (public REST API)",
        counts="account totals `X-WP-Total` of posts, pages and approved comments; no per-post count (the "
        "core REST API publishes none)",
        published=(
            Publishes(CountOf.POSTS, "X-WP-Total of /wp/v2/posts", note="published posts; read on sweep runs only"),
            Publishes(CountOf.PAGES, "X-WP-Total of /wp/v2/pages", note="published pages; read on sweep runs only"),
            Publishes(
                CountOf.COMMENTS,
                "X-WP-Total of /wp/v2/comments",
                details=("approved",),
                note="without a logged-in user only approved comments are listed and counted; read on sweep runs only",
            ),
        ),
        moderation="comments a moderator held, marked spam or trashed inside the window: a version marked hidden "
        "(the public API answers 401 for them; which of the three, who and why it does not say). The comment "
        "blocklist and moderation words are site settings the REST API does not serve",
        finds_hidden_comments=True,
    )

    def __init__(self) -> None:
        self._root: str | None = None
        """The REST API root this run found the site announcing, when `/wp-json/` is not it."""
        self._checked = False

    def _where(self, ctx: HarvestContext, route: str) -> tuple[str, dict[str, str]]:
        """URL and query of a `wp/v2` route: under `/wp-json/`, or in `rest_route=` of the announced root."""
        if self._root is None:
            return self.api(ctx, "/wp-json/wp/v2" + route, "the site URL"), {}
        root = httpx.URL(self._root)
        query = dict(root.params)
        if "rest_route" in query:
            return str(root.copy_with(query=None, fragment=None)), {
                **query,
                "rest_route": query["rest_route"].rstrip("/") + "/wp/v2" + route,
            }
        return str(root.copy_with(fragment=None)).rstrip("/") + "/wp/v2" + route, query

    def _get(
        self, ctx: HarvestContext, route: str, params: dict[str, str] | None = None, accept: tuple[int, ...] = ()
    ) -> Fetched:
        """A GET of a route; the run's first one finds the API where the site announces it if `/wp-json/`
        does not answer JSON there (a site on plain permalinks)."""
        url, query = self._where(ctx, route)
        if self._checked:
            return ctx.fetcher.get(url, params={**query, **(params or {})}, accept=accept)
        self._checked = True
        fetched = ctx.fetcher.get(url, params={**query, **(params or {})}, accept=(*accept, 404))
        status = fetched.response.status_code
        if status in accept or (status != 404 and _is_json(fetched)):
            return fetched
        announced = self._announced(ctx)
        if announced is None:
            if status == 404:
                raise Gone(
                    f"{without_query(url)} answered 404 and the site's home page announces no REST API "
                    f'(no Link rel="{API_REL}")'
                )
            return fetched  # not JSON: quarantined with the reason by the caller
        self._root = announced
        url, query = self._where(ctx, route)
        return ctx.fetcher.get(url, params={**query, **(params or {})}, accept=accept)

    def _announced(self, ctx: HarvestContext) -> str | None:
        """The API root in the site's home page `Link` header, if it names one other than the one tried."""
        home = ctx.fetcher.get(self.api(ctx, "/", "the site URL"), accept=(401, 403, 404, 410))
        root = home.response.links.get(API_REL, {}).get("url")
        tried = self.api(ctx, "/wp-json", "the site URL")
        return root if root and root.rstrip("/") != tried else None

    def probe(self, ctx: HarvestContext) -> str:
        fetched = self._get(ctx, "/posts", {"per_page": "1"})
        if not isinstance(fetched.json(), list):  # a home page or an error page is no access
            raise PayloadInvalid(f"{without_query(fetched.capture.url)}: expected the list of posts")
        return f"{fetched.headers.get('x-wp-total', '?')} published posts"

    def _walk(self, ctx: HarvestContext, route: str, params: dict[str, str]) -> Iterator[Fetched | Rejected]:
        """Every page of a listing, by `page` up to `X-WP-TotalPages`."""
        page, total = 1, 1
        while page <= total:
            fetched = self._get(ctx, route, {**params, "per_page": PER_PAGE, "page": str(page)})
            try:
                total = int(fetched.headers.get("x-wp-totalpages", "1"))
            except ValueError:
                total = page
            yield fetched
            page += 1

    def _items(self, fetched: Fetched) -> list[Any] | Rejected:
        try:
            body = fetched.json()
        except PayloadInvalid as exc:
            return Rejected(fetched.capture.body, reason_at(str(exc), fetched.capture.url))
        if not isinstance(body, list):
            return Rejected(fetched.capture.body, reason_at("expected a list", fetched.capture.url))
        return body

    def _post_record(self, ctx: HarvestContext, item: dict[str, Any], kind: Kind, fetched: Fetched) -> Record:
        html = item["content"]["rendered"]
        text, links = html_to_text(html)
        title, _ = html_to_text(item.get("title", {}).get("rendered", ""))
        prefix = "post" if kind is Kind.POST else "page"
        published, modified = _gmt(item.get("date_gmt")), _gmt(item.get("modified_gmt"))
        media = [MediaRef(url=u) for u in _MEDIA_SRC.findall(html)]
        return Record(
            platform=Platform.WORDPRESS,
            account=ctx.account.id,
            item_id=f"{prefix}-{item['id']}",
            kind=kind,
            thread_id=f"{prefix}-{item['id']}",
            author=Author(id=str(item.get("author", "")) or None),
            direction=Direction.UPPRATTAD,
            title=title or None,
            text=text,
            html=html,
            url=item.get("link"),
            links=links,
            hashtags=hashtags(text),
            media=with_digests(ctx, media),
            published_at=published,
            edited_at=modified if modified and published and modified > published else None,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=item,
        )

    def _comment_record(self, ctx: HarvestContext, item: dict[str, Any], fetched: Fetched) -> Record:
        html = item["content"]["rendered"]
        text, links = html_to_text(html)
        parent = int(item.get("parent") or 0)
        # Comments by a registered site user (author id > 0) are the municipality's own replies.
        own = int(item.get("author") or 0) > 0
        return Record(
            platform=Platform.WORDPRESS,
            account=ctx.account.id,
            item_id=f"comment-{item['id']}",
            kind=Kind.COMMENT if parent == 0 else Kind.REPLY,
            parent_id=f"post-{item['post']}" if parent == 0 else f"comment-{parent}",
            thread_id=f"post-{item['post']}",
            author=Author(
                id=str(item.get("author") or "") or None,
                name=item.get("author_name"),
                url=item.get("author_url") or None,
            ),
            direction=Direction.UPPRATTAD if own else Direction.INKOMMEN,
            text=text,
            html=html,
            url=item.get("link"),
            links=links,
            hashtags=hashtags(text),
            published_at=_gmt(item.get("date_gmt")),
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=item,
        )

    def _listing(
        self,
        ctx: HarvestContext,
        route: str,
        params: dict[str, str],
        kind: Kind,
        watermark: list[datetime],
        totals: tuple[CountOf, str | None] | None = None,
    ) -> Iterator[CaptureBundle | Rejected]:
        """Every page of one listing as bundles; when the listing is not filtered, the first page's
        `X-WP-Total` is the account's total of `totals` (what, detail), and goes on that page's bundle."""
        for fetched in self._walk(ctx, route, params):
            assert not isinstance(fetched, Rejected)
            items = self._items(fetched)
            if isinstance(items, Rejected):
                ctx.incomplete = True
                yield items
                return
            records, bad = [], []
            for item in items:
                try:
                    rec = writable(
                        self._comment_record(ctx, item, fetched)
                        if kind is Kind.COMMENT
                        else self._post_record(ctx, item, kind, fetched)
                    )
                    stamp = _gmt(item.get("modified_gmt") or item.get("date_gmt"))
                except ITEM_ERRORS as exc:
                    why = reason_at(f"unreadable item ({cause(exc)})", fetched.capture.url)
                    bad.append(Rejected(raw_of(item), why))
                    continue
                records.append(rec)
                ctx.seen.add(rec.item_id)
                if stamp:
                    watermark.append(stamp)
            yield from fetch_media(ctx, [m for r in records for m in r.media])
            records = [r.model_copy(update={"media": with_digests(ctx, r.media)}) if r.media else r for r in records]
            yield from bad
            counts, totals = (_total(fetched, *totals) if totals else []), None
            yield CaptureBundle(capture=fetched.capture, records=records, counts=counts)

    def _totals(self, ctx: HarvestContext, route: str, what: CountOf, detail: str | None) -> CaptureBundle | Rejected:
        """`X-WP-Total` of an unfiltered listing, read with one `per_page=1` request of ids only: an
        incremental run's listings are filtered by date, so their own totals count only what changed."""
        try:
            fetched = self._get(ctx, route, {"per_page": "1", "_fields": "id"})
        except (GaveUp, PayloadInvalid) as exc:
            return Rejected(encoded(route), f"account totals ({route} X-WP-Total): {exc}")
        return profile_of(fetched, _total(fetched, what, detail))

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        since = ctx.state.cursor.get("modified_after")
        window = _stamp(ctx.window_start)
        marks: list[datetime] = []
        # The account's totals: on a backfill (no filter) from each listing's first page; on an incremental
        # sweep run (every `harvest_sweep_hours`) from one small request per listing after it (posts, pages,
        # approved comments); other incremental runs read none, so a quiet run costs what it did.
        totals = since is not None and ctx.sweep
        for route, kind in (("/posts", Kind.POST), ("/pages", Kind.PAGE)):
            params = {"orderby": "modified", "order": "asc"}
            what = CountOf.POSTS if kind is Kind.POST else CountOf.PAGES
            if since is not None:  # else backfill: everything
                params["modified_after"] = min(window, since)
            yield from self._listing(ctx, route, params, kind, marks, None if since else (what, None))
            if totals:
                yield self._totals(ctx, route, what, None)
        comment_params = {"orderby": "date_gmt", "order": "asc"}
        if since is not None:
            comment_params["after"] = min(window, since)
        approved: tuple[CountOf, str | None] = (CountOf.COMMENTS, "approved")  # what a public listing counts
        yield from self._listing(ctx, "/comments", comment_params, Kind.COMMENT, marks, None if since else approved)
        if totals:
            yield self._totals(ctx, "/comments", *approved)
        newest = max(marks) if marks else (datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None)
        ctx.cursor = {"modified_after": _stamp(newest)} if newest else dict(ctx.state.cursor)

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        prefix, _, number = item_id.partition("-")
        route = {"post": "/posts", "page": "/pages", "comment": "/comments"}.get(prefix)
        if route is None:
            return None
        fetched = self._get(ctx, f"{route}/{number}", accept=(401, 403, 404, 410))
        status = fetched.response.status_code
        if status == 200:
            ctx.seen.add(item_id)
            return None
        if status in (401, 403) and prefix == "comment":
            # Still there but no longer public: held, marked spam or trashed by a moderator.
            return self.gone(
                ctx,
                fetched,
                item_id,
                known,
                deleted=False,
                hidden_on_platform=True,
                removal=Removal(reason=f"comment no longer approved on the site (HTTP {status})"),
            )
        if status in (401, 403):
            # A trashed or unpublished post answers 401 rest_forbidden: gone from public view.
            return self.gone(
                ctx, fetched, item_id, known, removal=Removal(reason=f"trashed or unpublished (HTTP {status})")
            )
        return self.gone(ctx, fetched, item_id, known)
