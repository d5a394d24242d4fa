"""RSS 2.0 and Atom feeds: the items of a news feed, their enclosures, and edits while in the feed.

The account's handle is the feed URL, or its path under `base_url`. Both formats are parsed
with defusedxml over ElementTree, never expat's defaults alone: a document declaring entities
(billion laughs, in any encoding expat reads, UTF-16 too) or referring to external ones is
refused before anything is expanded or fetched, and one nested deeper than `MAX_DEPTH` is refused
before anything walks it recursively. A document that is not well-formed XML, in an encoding
expat cannot read, or neither `<rss>` nor an Atom `<feed>`, is a rejected page (quarantined).

A feed shows only its newest items. Older ones are reached by following RFC 5005 links
(`rel="next"`, or `prev-archive` in an archived feed). WordPress feeds (`<generator>`
wordpress.org) announce no older pages but answer `?paged=2`, `?paged=3`… until a 404, so those
are asked for when no link is given. Walking stops once a page holds nothing newer than the last run's newest
item nor inside the look-back window, except on a sweep run, which walks every page. The first
page is fetched conditionally (`If-None-Match`/`If-Modified-Since` from the saved `ETag` and
`Last-Modified`): 304 means nothing changed (sweeps fetch it unconditionally, since an edit to
an old item changes only an older page).

Item ids are the RSS `guid` (or `link` when there is none) and the Atom `id`. The text is the
HTML body (`content:encoded`, Atom `content`; else `description`/`summary`) as plain text; the
title goes in `title`. Atom `updated` is kept as `edited_at`; RSS has no edit marker, so an edit
shows as changed content. Feeds carry no comments, and a deleted item cannot be told from one
that rolled off the window, so neither is claimed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden

from schemas import Author, CaptureBundle, Direction, Kind, KnownItem, MediaRef, Platform, Record

from ..bundles import Rejected
from ..errors import Gone
from .base import BaseConnector, Capabilities, HarvestContext
from .http import Fetched
from .listing import page_bundles, rejected_page
from .text import hashtags, html_to_text
from .times import iso, rfc822, stamp

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
MAX_PAGES = 1000
#: Deeper element nesting is refused: serializing and `itertext` recurse once per level.
MAX_DEPTH = 100
OLDER = ("next", "prev-archive")
PAGING_RELS = frozenset({"first", "last", "next", "previous", "prev", "prev-archive", "next-archive", "current"})


# Readable prefixes in the `raw` XML of records and of quarantined items.
for _prefix, _name in (("atom", ATOM), ("content", CONTENT), ("dc", DC_CREATOR)):
    ET.register_namespace(_prefix, _name[1:].split("}")[0])


class FeedError(ValueError):
    """The document is not a feed this connector reads."""


def parse_feed(data: bytes) -> tuple[str, ET.Element, list[ET.Element]]:
    """(format "rss" | "atom", the channel/feed element, its items/entries) of a feed document."""
    root = safe_xml(data)
    depth = _depth(root)
    if depth > MAX_DEPTH:
        raise FeedError(f"elements nested {depth} levels deep (more than {MAX_DEPTH}; refused)")
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError("<rss> without <channel>")
        return "rss", channel, channel.findall("item")
    if root.tag == f"{ATOM}feed":
        return "atom", root, root.findall(f"{ATOM}entry")
    raise FeedError(f"neither RSS 2.0 nor Atom (root element {root.tag!r})")


def safe_xml(data: bytes) -> ET.Element:
    """Parse with defusedxml: no entity expansion, no external references; FeedError says why not."""
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        where = f", system id {exc.sysid!r}" if exc.sysid else ""
        raise FeedError(f"the document declares XML entities ({exc.name!r}{where}; refused: no entity "
                        f"expansion)") from exc
    except ExternalReferenceForbidden as exc:
        raise FeedError(f"the document refers to an external resource {exc.sysid!r} (refused)") from exc
    except DefusedXmlException as exc:
        raise FeedError(f"the document uses a forbidden XML construct ({exc})") from exc
    except ET.ParseError as exc:
        raise FeedError(f"not well-formed XML ({exc})") from exc
    except (ValueError, LookupError) as exc:  # expat: multi-byte encodings unsupported, unknown encodings
        raise FeedError(f"unreadable XML encoding ({exc})") from exc
    return root


def _depth(root: ET.Element) -> int:
    """How deep elements nest, counted without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    value = "".join(element.itertext()).strip()
    return value or None


def _atom_text(element: ET.Element | None) -> tuple[str | None, str | None]:
    """(plain text, html) of an Atom text construct (`type` text, html or xhtml)."""
    if element is None:
        return None, None
    kind = element.get("type", "text")
    if kind == "xhtml":
        markup = "".join(ET.tostring(child, encoding="unicode") for child in element)
        text, _ = html_to_text(markup)
        return text, markup
    raw = "".join(element.itertext())
    if kind == "html" or kind.endswith("html"):
        text, _ = html_to_text(raw)
        return text, raw
    return raw.strip(), None


def older_link(container: ET.Element, base: str) -> str | None:
    """The RFC 5005 link to older items (`next` of a paged feed, `prev-archive` of an archived one)."""
    for rel in OLDER:
        for link in container.findall(f"{ATOM}link"):
            if link.get("rel") == rel and link.get("href"):
                return urljoin(base, link.get("href", ""))
    return None


def wordpress_next(container: ET.Element, url: str, kind: str) -> str | None:
    """WordPress feeds announce no older pages, but answer `?paged=N` (404 past the last one). A feed
    that speaks RFC 5005 (any paging or archive link) has said all there is."""
    if any(link.get("rel") in PAGING_RELS for link in container.findall(f"{ATOM}link")):
        return None
    generator = container.find("generator" if kind == "rss" else f"{ATOM}generator")
    marks = "".join(generator.itertext()) + (generator.get("uri") or "") if generator is not None else ""
    if "wordpress.org" not in marks.lower():
        return None
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "paged"]
    current = dict(parse_qsl(parts.query)).get("paged", "1")
    page = int(current) + 1 if current.isdigit() else 2
    return urlunsplit(parts._replace(query=urlencode([*query, ("paged", str(page))])))


class FeedConnector(BaseConnector):
    platform = Platform.RSS.value
    capabilities = Capabilities(
        posts="the items of the feed (RSS 2.0 or Atom); older items through RFC 5005 `next`/`prev-archive` links, "
              "or `?paged=2`… on WordPress feeds",
        comments="no: feeds carry no comments",
        edits="yes while the item is still in the feed: Atom `updated`, RSS changed content",
        deletions="no: a deleted item cannot be told from one that rolled off the feed",
        media="enclosures (RSS `enclosure`, Atom `link rel=\"enclosure\"`)",
        old_post_comments="no (feeds carry no comments)",
        credentials="none (public feed)",
        finds_comments=False, finds_replies=False, finds_post_deletions=False, finds_comment_deletions=False,
        finds_old_post_comments=False,
    )

    def feed_url(self, ctx: HarvestContext) -> str:
        handle = ctx.account.handle.strip()
        if handle.startswith(("http://", "https://")):
            return handle
        return self.api(ctx, "/" + handle.lstrip("/"), "the site URL (the handle is the feed's path)")

    def probe(self, ctx: HarvestContext) -> str:
        fetched = ctx.fetcher.get(self.feed_url(ctx))
        if fetched.problem is not None:
            return f"not a readable feed: {fetched.problem}"
        try:
            kind, container, items = parse_feed(fetched.response.content)
        except FeedError as exc:
            return f"not a readable feed: {exc}"
        title = _text(container.find("title" if kind == "rss" else f"{ATOM}title"))
        return f"{title or '(untitled)'}: {kind} feed, {len(items)} items on the first page"

    # ---- records ------------------------------------------------------------------------------
    def _rss_record(self, ctx: HarvestContext, item: ET.Element, fetched: Fetched, feed_author: str | None
                    ) -> Record:
        guid_element = item.find("guid")
        guid = _text(guid_element)
        link = _text(item.find("link"))
        item_id = guid or link
        if not item_id:
            raise KeyError("the item has neither guid nor link")
        body = item.find(CONTENT)
        if body is None:
            body = item.find("description")
        html = "".join(body.itertext()) if body is not None else ""
        text, links = html_to_text(html)
        title = _text(item.find("title"))
        if not (title or text or link):
            raise ValueError("the item has no title, text or link")
        media = [MediaRef(url=urljoin(fetched.capture.url, e.get("url", "")), content_type=e.get("type") or None)
                 for e in item.findall("enclosure") if e.get("url")]
        author = _text(item.find(DC_CREATOR)) or _text(item.find("author")) or feed_author
        permalink = guid if guid_element is not None and guid_element.get("isPermaLink", "true") == "true" else None
        return Record(
            platform=Platform.RSS, account=ctx.account.id, item_id=item_id, kind=Kind.POST, thread_id=item_id,
            author=Author(name=author), direction=Direction.UPPRATTAD, title=title, text=text, html=html or None,
            url=link or permalink,
            links=links, hashtags=hashtags(text), media=media, published_at=_date(rfc822, _text(item.find("pubDate"))),
            captured_at=fetched.capture.started_at, source_url=fetched.capture.url,
            raw={"format": "rss", "xml": ET.tostring(item, encoding="unicode")},
        )

    def _atom_record(self, ctx: HarvestContext, entry: ET.Element, fetched: Fetched, feed_author: str | None
                     ) -> Record:
        item_id = _text(entry.find(f"{ATOM}id"))
        links = entry.findall(f"{ATOM}link")
        alternate = next((urljoin(fetched.capture.url, x.get("href", "")) for x in links
                          if x.get("rel", "alternate") == "alternate" and x.get("href")), None)
        item_id = item_id or alternate
        if not item_id:
            raise KeyError("the entry has neither id nor link")
        text, html = _atom_text(entry.find(f"{ATOM}content"))
        if text is None:
            text, html = _atom_text(entry.find(f"{ATOM}summary"))
        title, _ = _atom_text(entry.find(f"{ATOM}title"))
        if not (title or text or alternate):
            raise ValueError("the entry has no title, text or link")
        body_links = html_to_text(html)[1] if html else []
        media = [MediaRef(url=urljoin(fetched.capture.url, x.get("href", "")), content_type=x.get("type") or None)
                 for x in links if x.get("rel") == "enclosure" and x.get("href")]
        published = _date(iso, _text(entry.find(f"{ATOM}published")))
        updated = _date(iso, _text(entry.find(f"{ATOM}updated")))
        author = _text(entry.find(f"{ATOM}author/{ATOM}name")) or feed_author
        return Record(
            platform=Platform.RSS, account=ctx.account.id, item_id=item_id, kind=Kind.POST, thread_id=item_id,
            author=Author(name=author), direction=Direction.UPPRATTAD, title=title, text=text or "", html=html,
            url=alternate, links=body_links, hashtags=hashtags(text or ""), media=media,
            published_at=published or updated, edited_at=updated if published and updated != published else None,
            captured_at=fetched.capture.started_at, source_url=fetched.capture.url,
            raw={"format": "atom", "xml": ET.tostring(entry, encoding="unicode")},
        )

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        before = dict(ctx.state.cursor)
        ctx.cursor = dict(before)
        url: str | None = self.feed_url(ctx)
        conditional = {} if ctx.sweep else {k: v for k, v in (("If-None-Match", before.get("etag")),
                                                             ("If-Modified-Since", before.get("last_modified"))) if v}
        newest_before = before.get("newest")
        newest = newest_before
        visited: set[str] = set()
        first = True
        while url and url not in visited and len(visited) < MAX_PAGES:
            visited.add(url)
            try:
                fetched = ctx.fetcher.get(url, accept=(304,), headers=conditional if first else None)
            except Gone:
                if first:
                    raise
                break  # an archive page that is no longer there: the older pages ended
            if fetched.response.status_code == 304:
                return  # nothing changed since the last run; the cursor stays
            if first:
                for key, header in (("etag", "etag"), ("last_modified", "last-modified")):
                    if fetched.headers.get(header):
                        ctx.cursor[key] = fetched.headers[header]
                    else:
                        ctx.cursor.pop(key, None)
            try:
                if fetched.problem is not None:  # over the size cap, undecodable or incomplete
                    raise FeedError(fetched.problem)
                kind, container, items = parse_feed(fetched.response.content)
            except FeedError as exc:
                yield rejected_page(ctx, fetched, f"unreadable feed ({exc})")
                return
            records: list[Record] = []
            parse = self._builder(ctx, kind, container, records)
            # Items go by their XML bytes, so a quarantined one is kept as the feed had it.
            yield from page_bundles(ctx, fetched, [ET.tostring(i, encoding="unicode").encode() for i in items], parse,
                                    what="feed item")
            dates = [r.published_at for r in records if r.published_at is not None]
            if dates:
                newest = max(newest or stamp(max(dates)), stamp(max(dates)))
            first = False
            url = older_link(container, fetched.capture.url) or (wordpress_next(container, fetched.capture.url, kind)
                                                                 if items else None)
            if not ctx.sweep and newest_before and dates and _past(min(dates), newest_before, ctx.window_start):
                break
        if newest:
            ctx.cursor["newest"] = newest

    def _builder(self, ctx: HarvestContext, kind: str, container: ET.Element, out: list[Record]
                 ) -> Callable[[bytes, Fetched], list[Record]]:
        """What page_bundles calls for each item of a page; the records are also collected in `out`."""
        build: Callable[[HarvestContext, ET.Element, Fetched, str | None], Record]
        if kind == "rss":
            feed_author = None
            build = self._rss_record
        else:
            feed_author = _text(container.find(f"{ATOM}author/{ATOM}name"))
            build = self._atom_record

        def parse(item: bytes, fetched: Fetched) -> list[Record]:
            record = build(ctx, safe_xml(item), fetched, feed_author)
            out.append(record)
            return [record]

        return parse

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        """A feed cannot say whether an item is gone: absence is only rolling off the window."""
        return None


def _past(oldest: datetime, newest_before: str, window_start: datetime) -> bool:
    return stamp(oldest) <= newest_before and oldest < window_start


def _date(parse: Any, value: str | None) -> datetime | None:
    """A feed's date, or None when it is not one (feeds in the wild carry all sorts)."""
    try:
        moment: datetime | None = parse(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment
