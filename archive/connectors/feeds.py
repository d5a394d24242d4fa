"""RSS and Atom feeds: the items of a news feed, their enclosures, and edits while in the feed.

The account's handle is the feed URL, or its path under `base_url`. The document is read by
`feedxml.parse_feed` as feed readers read feeds (any encoding, HTML entities, RSS 0.9x/1.0/2.0,
Atom 0.3/1.0, CDF) and parsed with defusedxml: entity declarations, external references and
nesting deeper than `MAX_DEPTH` are refused (see that module). A document that is not a feed, or
not well-formed even so, is a rejected page (quarantined) whose reason leads with the cause:
whatever the parser raises becomes that reason (`read`), never an exception out of `harvest`.

A feed shows only its newest items. Older ones are reached by following RFC 5005 links
(`rel="next"`, or `prev-archive` in an archived feed). WordPress feeds (`<generator>`
wordpress.org) announce no older pages but answer `?paged=2`, `?paged=3`… until a 404, so those
are asked for when no link is given. Walking stops once a page holds nothing newer than the last
run's newest item nor inside the look-back window, except on a sweep run, which walks every page,
and always at a page that brings no item this run has not read already: a cache that ignores
`?paged` answers page 1 for every page (60 requests and 1 500 records of 25 items, before). The
first page is fetched conditionally (`If-None-Match`/`If-Modified-Since` from the saved `ETag`
and `Last-Modified`): 304 means nothing changed (sweeps fetch it unconditionally, since an edit to
an old item changes only an older page).

Item ids are the RSS `guid` (else `link`, else RSS 1.0's `rdf:about`) and the Atom `id` (else its
link). RSS makes every element of an item optional: an item with none of these gets
`derived_id`, a hash of what it says. The text is the HTML body (`content:encoded`, XHTML `body`,
Atom `content`; else `description`/`summary`) as plain text; the title goes in `title`. Atom
`updated` is kept as `edited_at`; RSS has no edit marker, so an edit shows as changed content.
Feeds carry no comments, and a deleted item cannot be told from one that rolled off the window,
so neither is claimed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from schemas import Author, CaptureBundle, Direction, Kind, KnownItem, MediaRef, Platform, Record

from ..bundles import Rejected
from ..errors import Gone
from .base import BaseConnector, Capabilities, HarvestContext
from .feedxml import ATOM, MAX_DEPTH, RDF, Feed, FeedError, parse_feed, safe_xml
from .http import Fetched
from .listing import page_bundles, rejected_page
from .text import hashtags, html_to_text
from .times import iso, rfc822, stamp

__all__ = ["ATOM", "CONTENT", "MAX_DEPTH", "FeedConnector", "FeedError", "parse_feed", "safe_xml"]

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
DC_CREATOR = f"{DC}creator"
DCTERMS = "{http://purl.org/dc/terms/}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
ITUNES_AUTHOR = f"{ITUNES}author"
#: Apple's own examples long spelled the namespace so; readers accept both.
ITUNES_AS_APPLE_SPELLED = "{http://www.itunes.com/DTDs/Podcast-1.0.dtd}"
XHTML_BODY = "{http://www.w3.org/1999/xhtml}body"
MAX_PAGES = 1000
OLDER = ("next", "prev-archive")
PAGING_RELS = frozenset({"first", "last", "next", "previous", "prev", "prev-archive", "next-archive", "current"})


# Readable prefixes in the `raw` XML of records and of quarantined items.
for _prefix, _name in (
    ("atom", ATOM),
    ("content", CONTENT),
    ("dc", DC_CREATOR),
    ("rdf", RDF),
    ("itunes", ITUNES_AUTHOR),
):
    ET.register_namespace(_prefix, _name[1:].split("}")[0])


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    value = "".join(element.itertext()).strip()
    return value or None


def _first(element: ET.Element, *paths: str) -> str | None:
    """The text of the first of `paths` that has some."""
    for path in paths:
        value = _text(element.find(path))
        if value:
            return value
    return None


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def person(value: str | None) -> str | None:
    """The name in an RSS author: RSS 2.0 asks for `email (Name)`, feeds also write `Name <email>` and
    `Name (email)`; the address alone when that is all there is."""
    if not value:
        return None
    email = _EMAIL.search(value)
    if email is None:
        return value
    name = (value[: email.start()] + value[email.end() :]).strip().strip("()<>[]").strip()
    return name or email.group(0)


def _href(link: ET.Element) -> str:
    """An Atom link's target: `href`, or (Atom 0.3 feeds in the wild) the element's text."""
    return (link.get("href") or "".join(link.itertext())).strip()


def _markup(element: ET.Element) -> str:
    """The inline markup inside an element (its text and children), as a string."""
    return (element.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in element)


def _atom_text(element: ET.Element | None) -> tuple[str | None, str | None]:
    """(plain text, html) of an Atom text construct: Atom 1.0 `type` text, html or xhtml; Atom 0.3 a MIME
    `type` (text/plain, text/html, application/xhtml+xml) with `mode` escaped, xml or base64."""
    if element is None:
        return None, None
    kind = element.get("type", "text").lower()
    mode = element.get("mode", "xml" if "xhtml" in kind else "escaped").lower()
    binary = "/" in kind and not kind.startswith("text/") and "xml" not in kind  # RFC 4287 §4.1.3.3
    if mode == "base64" or binary:
        try:
            raw = base64.b64decode("".join(element.itertext()), validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raw = "".join(element.itertext())
    elif kind == "xhtml" or kind.endswith("xhtml+xml") or (mode == "xml" and len(element)):
        markup = _markup(element)
        text, _ = html_to_text(markup)
        return text, markup
    else:
        raw = "".join(element.itertext())
    if "html" in kind:
        text, _ = html_to_text(raw)
        return text, raw
    return raw.strip(), None


def derived_id(item: ET.Element, *parts: str | None) -> str:
    """The id of an item that has none (RSS makes every element of an item optional, Atom readers meet
    entries without `id`): `sha256:` and a hash of what it says (`parts`: title, date, body, enclosures),
    so the same item gets the same id on every run; when it says none of these, a hash of its XML. An
    edit gives a new id (the item had no identity of its own to carry over). An item with no text and
    no attribute anywhere in it is empty: nothing to archive (ValueError, quarantined)."""
    if not any(parts):
        if not "".join(item.itertext()).strip() and not any(v.strip() for e in item.iter() for v in e.attrib.values()):
            raise ValueError("the item is empty (no id, link, title, text, date or enclosure)")
        parts = (ET.tostring(item, encoding="unicode"),)
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest[:40]}"


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
    marks = (
        "".join(generator.itertext()) + (generator.get("uri") or generator.get("url") or "")
        if generator is not None
        else ""
    )  # Atom 0.3's generator has `url`
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
        posts="the items of the feed (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, in any encoding); older items through RFC 5005 "
        "`next`/`prev-archive` links, or `?paged=2`… on WordPress feeds",
        comments="no: feeds carry no comments",
        edits="yes while the item is still in the feed: Atom `updated`, RSS changed content",
        deletions="no: a deleted item cannot be told from one that rolled off the feed",
        media='enclosures (RSS `enclosure`, Atom `link rel="enclosure"`)',
        old_post_comments="no (feeds carry no comments)",
        credentials="none (public feed)",
        counts="none: feeds publish no counts",
        moderation="no: feeds carry no moderation",
        finds_comments=False,
        finds_replies=False,
        finds_post_deletions=False,
        finds_comment_deletions=False,
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
            feed = read(fetched)
        except FeedError as exc:
            return f"not a readable feed: {exc}"
        title = _text(feed.container.find("title" if feed.kind == "rss" else f"{ATOM}title"))
        return f"{title or '(untitled)'}: {feed.kind} feed, {len(feed.items)} items on the first page"

    # ---- records ------------------------------------------------------------------------------
    def _rss_record(
        self, ctx: HarvestContext, item: ET.Element, fetched: Fetched, feed_author: str | None, raw: dict[str, str]
    ) -> Record:
        guid_element = item.find("guid")
        guid = _text(guid_element)
        link = _text(item.find("link")) or (item.get("href") or "").strip() or None  # CDF: <ITEM HREF=…>
        link = urljoin(fetched.capture.url, link) if link else None
        about = (item.get(f"{RDF}about") or "").strip() or None  # RSS 1.0: the item's URI
        xhtml = next((e for e in (item.find(XHTML_BODY), item.find("body")) if e is not None and len(e)), None)
        if xhtml is not None:
            html = _markup(xhtml)
        else:
            body = next(
                (
                    e
                    for e in (
                        item.find(CONTENT),
                        item.find("fullitem"),
                        item.find("description"),
                        item.find(f"{DC}description"),
                        item.find(f"{ITUNES}summary"),
                        item.find(f"{ITUNES_AS_APPLE_SPELLED}summary"),
                        item.find("abstract"),
                    )
                    if e is not None and _text(e)
                ),
                None,
            )
            html = "".join(body.itertext()) if body is not None else ""
        text, links = html_to_text(html)
        title = _first(item, "title", f"{DC}title")
        dated = (
            _first(item, "pubDate", f"{DC}date", f"{DCTERMS}issued", f"{DCTERMS}created", f"{DCTERMS}modified", "date")
            or (item.get("lastmod") or "").strip()
            or None
        )  # CDF: <ITEM LASTMOD=…>
        media = [
            MediaRef(url=urljoin(fetched.capture.url, e.get("url", "")), content_type=e.get("type") or None)
            for e in item.findall("enclosure")
            if e.get("url")
        ]
        item_id = guid or link or about or derived_id(item, title, dated, html, *(m.url for m in media))
        author = (
            person(_first(item, DC_CREATOR, "author", f"{DC}author", ITUNES_AUTHOR, f"{ITUNES_AS_APPLE_SPELLED}author"))
            or feed_author
        )
        permalink = guid if guid_element is not None and guid_element.get("isPermaLink", "true") == "true" else None
        return Record(
            platform=Platform.RSS,
            account=ctx.account.id,
            item_id=item_id,
            kind=Kind.POST,
            thread_id=item_id,
            author=Author(name=author),
            direction=Direction.UPPRATTAD,
            title=title,
            text=text,
            html=html or None,
            url=link or permalink or about,
            links=links,
            hashtags=hashtags(text),
            media=media,
            published_at=when(dated),
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=raw,
        )

    def _atom_record(
        self, ctx: HarvestContext, entry: ET.Element, fetched: Fetched, feed_author: str | None, raw: dict[str, str]
    ) -> Record:
        links = entry.findall(f"{ATOM}link")
        alternate = next(
            (
                urljoin(fetched.capture.url, href)
                for x in links
                if x.get("rel", "alternate") == "alternate" and (href := _href(x))
            ),
            None,
        )
        text, html = _atom_text(entry.find(f"{ATOM}content"))
        if not text:
            summary = _atom_text(entry.find(f"{ATOM}summary"))
            if summary[0] or text is None:
                text, html = summary
        title, _ = _atom_text(entry.find(f"{ATOM}title"))
        media = [
            MediaRef(url=urljoin(fetched.capture.url, x.get("href", "")), content_type=x.get("type") or None)
            for x in links
            if x.get("rel") == "enclosure" and x.get("href")
        ]
        published_at = _first(entry, f"{ATOM}published", f"{ATOM}issued", f"{ATOM}created")
        updated_at = _first(entry, f"{ATOM}updated", f"{ATOM}modified")
        item_id = (
            _text(entry.find(f"{ATOM}id"))
            or alternate
            or derived_id(entry, title, published_at or updated_at, html or text, *(m.url for m in media))
        )
        body_links = html_to_text(html)[1] if html else []
        published, updated = when(published_at), when(updated_at)
        author = _first(entry, f"{ATOM}author/{ATOM}name", f"{ATOM}author/{ATOM}email", DC_CREATOR) or feed_author
        return Record(
            platform=Platform.RSS,
            account=ctx.account.id,
            item_id=item_id,
            kind=Kind.POST,
            thread_id=item_id,
            author=Author(name=author),
            direction=Direction.UPPRATTAD,
            title=title,
            text=text or "",
            html=html,
            url=alternate,
            links=body_links,
            hashtags=hashtags(text or ""),
            media=media,
            published_at=published or updated,
            edited_at=updated if published and updated != published else None,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=raw,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        before = dict(ctx.state.cursor)
        ctx.cursor = dict(before)
        url: str | None = self.feed_url(ctx)
        conditional = (
            {}
            if ctx.sweep
            else {
                k: v
                for k, v in (("If-None-Match", before.get("etag")), ("If-Modified-Since", before.get("last_modified")))
                if v
            }
        )
        newest_before = before.get("newest")
        newest = newest_before
        visited: set[str] = set()
        seen: set[str] = set()  # the items of this run (their ids; a quarantined one by its bytes)
        contents: set[tuple[str, str]] = set()  # (id, content hash) of this run's records
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
                feed = read(fetched)
            except FeedError as exc:
                yield rejected_page(ctx, fetched, f"unreadable feed ({exc})")
                return
            records: list[Record] = []
            page: list[str] = []
            parse = self._builder(ctx, feed, records, page, contents)
            # Items go by their XML bytes as the document had them, so a quarantined one is kept so.
            yield from page_bundles(ctx, fetched, feed.raw_items, parse, what="feed item")
            brought_new = any(key not in seen for key in page)
            seen.update(page)
            dates = [r.published_at for r in records if r.published_at is not None]
            if dates:
                newest = max(newest or stamp(max(dates)), stamp(max(dates)))
            if not first and not brought_new:
                break  # a page of items already read (a cache that ignores ?paged= answers page 1 again)
            first = False
            url = older_link(feed.container, fetched.capture.url) or (
                wordpress_next(feed.container, fetched.capture.url, feed.kind) if feed.items else None
            )
            if not ctx.sweep and newest_before and dates and _past(min(dates), newest_before, ctx.window_start):
                break
        if newest:
            ctx.cursor["newest"] = newest

    def _builder(
        self, ctx: HarvestContext, feed: Feed, out: list[Record], page: list[str], contents: set[tuple[str, str]]
    ) -> Callable[[bytes, Fetched], list[Record]]:
        """What page_bundles calls for each item of a page. The records are also collected in `out`, and
        each item's key (its id, or its bytes' hash when it gives no record) in `page`; an item this run
        has already read with the same content (`contents`) gives no second record."""
        build: Callable[[HarvestContext, ET.Element, Fetched, str | None, dict[str, str]], Record]
        if feed.kind == "rss":
            feed_author = None  # RSS has no inheritance: the channel's creator is the publisher, not the author
            build = self._rss_record
        else:
            feed_author = _first(feed.container, f"{ATOM}author/{ATOM}name")
            build = self._atom_record
        elements = dict(zip(feed.raw_items, feed.items, strict=True))

        def parse(item: bytes, fetched: Fetched) -> list[Record]:
            page.append("sha256:" + hashlib.sha256(item).hexdigest())
            # The record's raw: the item's XML as the document had it, and which format that was.
            raw = {"format": feed.format, "xml": item.decode()}
            record = build(ctx, elements[item], fetched, feed_author, raw)
            page[-1] = "id:" + record.item_id
            if (record.item_id, record.content_sha256) in contents:
                return []
            contents.add((record.item_id, record.content_sha256))
            out.append(record)
            return [record]

        return parse

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        """A feed cannot say whether an item is gone: absence is only rolling off the window."""
        return None


def _past(oldest: datetime, newest_before: str, window_start: datetime) -> bool:
    return stamp(oldest) <= newest_before and oldest < window_start


def when(value: str | None) -> datetime | None:
    """A feed's date (RFC 822 as RSS has it, or ISO 8601/W3CDTF as Atom, RSS 1.0 and many RSS feeds
    have it), or None when it is neither: feeds in the wild carry all sorts, and a bad date loses no item."""
    for parse in (rfc822, iso):
        try:
            moment = parse(value)
        except (TypeError, ValueError, IndexError):
            continue
        if moment is not None:
            return moment
    return None


def read(fetched: Fetched) -> Feed:
    """The feed a response holds (decoded by its Content-Type's charset); FeedError, cause first, when
    none. The parser is where hostile bytes meet the code: whatever else it raises is a FeedError too,
    so a document never stops the run."""
    if fetched.problem is not None:  # over the size cap, undecodable or incomplete
        raise FeedError(fetched.problem)
    try:
        return parse_feed(fetched.response.content, fetched.headers.get("content-type"))
    except FeedError:
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise FeedError(" ".join(f"{type(exc).__name__}: {exc}".split())[:300]) from exc
