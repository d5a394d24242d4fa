"""RSS 2.0 and Atom feeds of the municipality's news (``{base}/rss`` stands for the site's root).

The account handle is the feed's path: ``feed.xml`` (RSS 2.0) or ``atom.xml`` (Atom, RFC 4287).

Faithful points (RSS 2.0 specification, rssboard.org; RFC 4287; RFC 5005; RFC 9110):
- ``/rss/feed.xml``: ``<rss version="2.0">`` with the ``content``, ``dc``, ``atom`` and ``sy``
  namespaces, ``<channel>`` with ``title``, ``link``, ``description``, ``lastBuildDate``,
  ``language``, ``ttl`` (60 minutes), ``sy:updatePeriod``/``sy:updateFrequency``,
  ``atom:link rel="self"`` (``/wp-feed.xml`` is the same RSS as stock WordPress serves it: only that
  link, older pages reachable by ``?paged=N`` alone). Items: ``title``, ``link``, ``guid isPermaLink="false"`` (the
  WordPress-style ``https://{domain}/?p={no}``), ``pubDate`` (RFC 822, ``+0000``), ``dc:creator``,
  ``category`` (the hashtags), ``description`` (a plain excerpt), ``content:encoded`` (the full
  HTML body in CDATA) and one ``enclosure`` per media file (``url``, ``length``, ``type``).
- ``/rss/atom.xml``: ``<feed xmlns="http://www.w3.org/2005/Atom">`` with ``id``, ``title``,
  ``updated``, ``link rel="self"``/``"alternate"``; entries with ``id`` (the same IRI as the RSS
  ``guid``), ``title type="text"``, ``published`` and ``updated`` (RFC 3339, ``Z``), ``author/name``,
  ``link rel="alternate"``, one ``link rel="enclosure"`` per media file (``type``, ``length``),
  ``summary`` and ``content type="html"``.
- ``/rss/rdf.xml``: RSS 1.0 (RDF), as WordPress's ``/feed/rdf/`` serves it: ``<rdf:RDF>`` with the
  ``channel`` (``rdf:about``, ``items``/``rdf:Seq`` of the items' URIs) and the ``item`` elements beside
  it (``rdf:about`` = ``link`` = the permalink, no guid), ``dc:date`` (W3CDTF), ``dc:creator``,
  ``dc:subject`` (the hashtags), ``description``, ``content:encoded``; RSS 1.0 has no enclosures.
- ``/rss/atom03.xml``: Atom 0.3 (``http://purl.org/atom/ns#``, ``version="0.3"``), as blogs served it
  before RFC 4287: ``modified``/``issued``/``created`` dates, ``tagline``, ``generator url=``, text
  constructs with a MIME ``type`` and ``mode="escaped"``, entries with the RSS guid as ``id``.
- ``/rss/feed-gb2312.xml``: the RSS 2.0 feed of a sister city's site, encoded in GB2312: declared in
  the XML declaration only (``Content-Type: text/xml`` without a charset), each item title prefixed
  ``新闻：``, characters GB2312 lacks (å, ä, ö) as numeric character references, so no CDATA.
- ``/rss/wp-feed-cached.xml``: the stock WordPress feed behind a cache that ignores the query string:
  ``?paged=N`` answers page 1 again, for ever (a feed reader must notice it reads nothing new).
- Only the newest ``PAGE`` (20) items are in the feed document. Older items are reached through
  WordPress-style ``?paged=2`` pages, announced as RFC 5005 paged-feed links: ``rel="next"`` (older
  items), ``rel="previous"`` and ``rel="first"`` (``atom:link`` in RSS, ``link`` in Atom). A
  ``paged`` beyond the last page is 404, as WordPress answers it.
- Every page carries a strong ``ETag`` (a hash of the body) and ``Last-Modified`` (the newest change
  on the site: publication, edit or deletion). ``If-None-Match`` is answered 304 when it matches the
  ETag; without it, ``If-Modified-Since`` is answered 304 when nothing changed since (RFC 9110 §13.2.2:
  If-None-Match takes precedence). A 304 has no body.
- Errors are what a web server sends: a small HTML page; an injected 429 (and a 503 with a
  ``retry_after``) carry ``Retry-After`` in seconds.

Decisions where the specifications leave room:
- RSS 2.0 allows one ``enclosure`` per item in practice (the RSS Advisory Board's profile says an
  item should have at most one), but multi-image posts exist: each media file gets its own
  ``enclosure``, as podcast generators and WordPress plugins do; readers take all of them.
- The HTML body is the model's text HTML-escaped inside one ``<p>``, newlines kept, so that an
  HTML-to-text pass gives back exactly the model's text.
- Feeds carry no comments (WordPress's per-post ``wfw:commentRss`` is not offered): comments,
  replies and deletions are invisible here, as on most municipal feeds. A deleted post simply
  leaves the feed, which a reader cannot tell from rolling off the window.
- A ``corrupt`` post is an ``<item>`` (or ``<entry>``) whose guid/id, link, title and date are all
  empty: nothing a reader can keep (an item with anything in it but no guid or link is a valid RSS
  item, which readers keep); the rest of the feed is well-formed.
"""

from __future__ import annotations

import hashlib
import html
import re
from email.utils import format_datetime, parsedate_to_datetime

from ..clock import to_datetime
from ..httpcore import Request, Response, html_response
from ..social import Comment, Media, Post
from .base import PlatformApp

PAGE = 20
TTL_MINUTES = 60
RSS_CT = "application/rss+xml; charset=UTF-8"
ATOM_CT = "application/atom+xml; charset=UTF-8"
RDF_CT = "application/rdf+xml; charset=UTF-8"
GB_TITLE = "新闻："
NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "atom": "http://www.w3.org/2005/Atom",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
}
_HASHTAG = re.compile(r"(?<![\w&])#(\w[\w-]*)")
_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "mp4": "video/mp4"}


def rfc822(ms: int) -> str:
    """``Thu, 02 May 2024 08:15:30 +0000``."""
    return format_datetime(to_datetime(ms // 1000 * 1000))


def rfc3339(ms: int) -> str:
    """``2024-05-02T08:15:30Z``."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def _x(text: str) -> str:
    return html.escape(text, quote=True)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def body_html(text: str) -> str:
    """The post body as HTML: the text escaped, newlines kept (html_to_text gives the text back)."""
    return "<p>" + html.escape(text, quote=False) + "</p>"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[: flat.rfind(" ", 0, 200)] + " […]"


class App(PlatformApp):
    name = "rss"
    prefix = "/rss"

    @property
    def site(self) -> str:
        return f"https://www.{self.model.domain}"

    def post_id(self, post: Post) -> str:
        return f"{self.site}/?p={post.no}"

    def comment_id(self, comment: Comment) -> str:
        return f"{self.site}/?p={comment.post}#comment-{comment.no}"

    def _link(self, post: Post) -> str:
        day = to_datetime(post.created_ms)
        return f"{self.site}/{day:%Y/%m}/nyhet-{post.no}/"

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        if sub not in (
            "/feed.xml",
            "/atom.xml",
            "/wp-feed.xml",
            "/rdf.xml",
            "/atom03.xml",
            "/feed-gb2312.xml",
            "/wp-feed-cached.xml",
        ):
            return self.error(404, "Not Found")
        if req.method not in ("GET", "HEAD"):
            return self.error(405, "Method Not Allowed")
        atom = sub == "/atom.xml"
        raw_page = "1" if sub == "/wp-feed-cached.xml" else req.param("paged") or "1"
        if not raw_page.isdigit() or int(raw_page) < 1:
            return self.error(404, "Not Found")
        page = int(raw_page)
        posts = self.model.visible_posts()
        pages = max(1, -(-len(posts) // PAGE))
        if page > pages:
            return self.error(404, "Not Found")
        chunk = posts[(page - 1) * PAGE : page * PAGE]
        changed = self._last_change()
        url = f"{base}{sub}"
        links = {"self": url if page == 1 else f"{url}?paged={page}", "first": url}
        if page < pages:
            links["next"] = f"{url}?paged={page + 1}"
        if page > 1:
            links["previous"] = url if page == 2 else f"{url}?paged={page - 1}"
        if sub in ("/wp-feed.xml", "/wp-feed-cached.xml"):  # as stock WordPress: ?paged= works, no RFC 5005 links
            links = {"self": links["self"]}
        content_type = ATOM_CT if atom else RSS_CT
        if atom:
            body = self._atom(base, chunk, links, changed).encode()
        elif sub == "/rdf.xml":
            body, content_type = self._rdf(chunk, links, changed).encode(), RDF_CT
        elif sub == "/atom03.xml":
            body, content_type = self._atom03(base, chunk, links, changed).encode(), ATOM_CT
        elif sub == "/feed-gb2312.xml":
            body = self._rss(base, chunk, links, changed, gb2312=True).encode("gb2312", "xmlcharrefreplace")
            content_type = "text/xml"
        else:
            body = self._rss(base, chunk, links, changed).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = [
            ("ETag", etag),
            ("Last-Modified", format_datetime(to_datetime(changed // 1000 * 1000), usegmt=True)),
            ("Cache-Control", "max-age=300, must-revalidate"),
        ]
        if self._not_modified(req, etag, changed):
            return Response(304, b"", headers)
        return Response(200, body, [("Content-Type", content_type), *headers])

    def _last_change(self) -> int:
        now = self.model.clock.now_ms()
        times = [0]
        for post in self.model.posts:
            if post.created_ms <= now:
                times += [v.at_ms for v in post.versions if v.at_ms <= now] + [post.deleted_ms or 0]
        return max(times)

    @staticmethod
    def _not_modified(req: Request, etag: str, changed: int) -> bool:
        match = req.headers.get("if-none-match")
        if match is not None:
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = req.headers.get("if-modified-since")
        if since:
            try:
                moment = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return changed // 1000 <= int(moment.timestamp())
        return False

    # ---- RSS 2.0 ------------------------------------------------------------------------------
    def _rss(self, base: str, posts: list[Post], links: dict[str, str], changed: int, *, gb2312: bool = False) -> str:
        m = self.model
        out = [
            f'<?xml version="1.0" encoding="{"gb2312" if gb2312 else "UTF-8"}"?>',
            '<rss version="2.0" ' + " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items()) + ">",
            "<channel>",
            f"<title>{_x(m.owner.name)}</title>",
            f"<link>{self.site}/</link>",
            f"<description>Nyheter från {_x(m.owner.name)}{'（新闻）' if gb2312 else ''}</description>",
            f"<lastBuildDate>{rfc822(changed)}</lastBuildDate>",
            f"<language>{'zh-CN' if gb2312 else 'sv-SE'}</language>",
            f"<ttl>{TTL_MINUTES}</ttl>",
            "<sy:updatePeriod>hourly</sy:updatePeriod>",
            "<sy:updateFrequency>1</sy:updateFrequency>",
            "<generator>https://wordpress.org/?v=6.5.3</generator>",
        ]
        for rel, href in links.items():
            kind = ' type="application/rss+xml"' if rel == "self" else ""
            out.append(f'<atom:link rel="{rel}" href="{_x(href)}"{kind}/>')
        for post in posts:
            out.append(self._item(base, post, gb2312=gb2312))
        out += ["</channel>", "</rss>", ""]
        return "\n".join(out)

    def _item(self, base: str, post: Post, *, gb2312: bool = False) -> str:
        if post.corrupt:
            return "<item><title></title><guid></guid><link></link><pubDate> </pubDate></item>"
        text = _x if gb2312 else _cdata  # GB2312 lacks å, ä, ö: character references, which CDATA cannot hold
        title = (GB_TITLE if gb2312 else "") + (post.title or "")
        parts = [
            "<item>",
            f"<title>{_x(title)}</title>",
            f"<link>{_x(self._link(post))}</link>",
            f"<dc:creator>{text(self.model.owner.name)}</dc:creator>",
            f"<pubDate>{rfc822(post.created_ms)}</pubDate>",
        ]
        parts += [f"<category>{text(tag)}</category>" for tag in _tags(post.text)]
        parts += [
            f'<guid isPermaLink="false">{_x(self.post_id(post))}</guid>',
            f"<description>{text(_excerpt(post.text))}</description>",
            f"<content:encoded>{text(body_html(post.text))}</content:encoded>",
        ]
        for media in post.media:
            parts.append(
                f'<enclosure url="{_x(self.media_url(base, media))}" length="{self._length(media)}" '
                f'type="{_TYPES[media.fmt]}"/>'
            )
        parts.append("</item>")
        return "".join(parts)

    def _length(self, media: Media) -> int:
        return self.model.blob(media).length

    # ---- Atom ---------------------------------------------------------------------------------
    def _atom(self, base: str, posts: list[Post], links: dict[str, str], changed: int) -> str:
        m = self.model
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="sv-SE">',
            f'<title type="text">{_x(m.owner.name)}</title>',
            f"<subtitle>Nyheter från {_x(m.owner.name)}</subtitle>",
            f"<updated>{rfc3339(changed)}</updated>",
            f"<id>{self.site}/feed/atom/</id>",
            f'<link rel="alternate" type="text/html" href="{self.site}/"/>',
            '<generator uri="https://wordpress.org/" version="6.5.3">WordPress</generator>',
        ]
        for rel, href in links.items():
            kind = ' type="application/atom+xml"' if rel == "self" else ""
            out.append(f'<link rel="{rel}" href="{_x(href)}"{kind}/>')
        for post in posts:
            out.append(self._entry(base, post))
        out += ["</feed>", ""]
        return "\n".join(out)

    def _entry(self, base: str, post: Post) -> str:
        if post.corrupt:
            return "<entry><title></title><id></id><updated> </updated></entry>"
        parts = [
            "<entry>",
            f"<author><name>{_x(self.model.owner.name)}</name></author>",
            f'<title type="text">{_x(post.title or "")}</title>',
            f'<link rel="alternate" type="text/html" href="{_x(self._link(post))}"/>',
            f"<id>{_x(self.post_id(post))}</id>",
            f"<updated>{rfc3339(post.updated_ms)}</updated>",
            f"<published>{rfc3339(post.created_ms)}</published>",
        ]
        parts += [f'<category scheme="{self.site}" term="{_x(tag)}"/>' for tag in _tags(post.text)]
        parts += [
            f'<summary type="html">{_x(_excerpt(post.text))}</summary>',
            f'<content type="html" xml:base="{self._link(post)}">{_x(body_html(post.text))}</content>',
        ]
        for media in post.media:
            parts.append(
                f'<link rel="enclosure" type="{_TYPES[media.fmt]}" length="{self._length(media)}" '
                f'href="{_x(self.media_url(base, media))}"/>'
            )
        parts.append("</entry>")
        return "".join(parts)

    # ---- RSS 1.0 (RDF) ------------------------------------------------------------------------
    def _rdf(self, posts: list[Post], links: dict[str, str], changed: int) -> str:
        m = self.model
        live = [p for p in posts if not p.corrupt]
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
            + " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
            + ">",
            f'<channel rdf:about="{_x(links["self"])}">',
            f"<title>{_x(m.owner.name)}</title>",
            f"<link>{self.site}/</link>",
            f"<description>Nyheter från {_x(m.owner.name)}</description>",
            f"<dc:date>{rfc3339(changed)}</dc:date>",
            "<dc:language>sv-SE</dc:language>",
            "<sy:updatePeriod>hourly</sy:updatePeriod>",
            "<sy:updateFrequency>1</sy:updateFrequency>",
            '<admin:generatorAgent xmlns:admin="http://webns.net/mvcb/" '
            'rdf:resource="https://wordpress.org/?v=6.5.3"/>',
            "<items><rdf:Seq>",
        ]
        out += [f'<rdf:li rdf:resource="{_x(self._link(p))}"/>' for p in live]
        out.append("</rdf:Seq></items>")
        out += [f'<atom:link rel="{rel}" href="{_x(href)}"/>' for rel, href in links.items()]
        out.append("</channel>")
        for post in posts:
            if post.corrupt:
                out.append("<item><title></title><link></link><dc:date> </dc:date></item>")
                continue
            link = _x(self._link(post))
            out.append(
                "".join(
                    [
                        f'<item rdf:about="{link}">',
                        f"<title>{_x(post.title or '')}</title>",
                        f"<link>{link}</link>",
                        f"<dc:creator>{_x(m.owner.name)}</dc:creator>",
                        f"<dc:date>{rfc3339(post.created_ms)}</dc:date>",
                        *(f"<dc:subject>{_x(tag)}</dc:subject>" for tag in _tags(post.text)),
                        f"<description>{_x(_excerpt(post.text))}</description>",
                        f"<content:encoded>{_cdata(body_html(post.text))}</content:encoded>",
                        "</item>",
                    ]
                )
            )
        out += ["</rdf:RDF>", ""]
        return "\n".join(out)

    # ---- Atom 0.3 -----------------------------------------------------------------------------
    def _atom03(self, base: str, posts: list[Post], links: dict[str, str], changed: int) -> str:
        m = self.model
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<feed version="0.3" xmlns="http://purl.org/atom/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xml:lang="sv-SE">',
            f'<title type="text/plain" mode="escaped">{_x(m.owner.name)}</title>',
            f'<tagline type="text/plain" mode="escaped">Nyheter från {_x(m.owner.name)}</tagline>',
            f'<link rel="alternate" type="text/html" href="{self.site}/"/>',
            f"<id>{self.site}/feed/atom03/</id>",
            f"<modified>{rfc3339(changed)}</modified>",
            '<generator url="https://wordpress.org/" version="6.5.3">WordPress</generator>',
        ]
        out += [f'<link rel="{rel}" type="application/atom+xml" href="{_x(href)}"/>' for rel, href in links.items()]
        for post in posts:
            if post.corrupt:
                out.append("<entry><title></title><id></id><issued> </issued></entry>")
                continue
            parts = [
                "<entry>",
                f"<author><name>{_x(m.owner.name)}</name></author>",
                f'<title type="text/plain" mode="escaped">{_x(post.title or "")}</title>',
                f'<link rel="alternate" type="text/html" href="{_x(self._link(post))}"/>',
                f"<id>{_x(self.post_id(post))}</id>",
                f"<modified>{rfc3339(post.updated_ms)}</modified>",
                f"<issued>{rfc3339(post.created_ms)}</issued>",
                f"<created>{rfc3339(post.created_ms)}</created>",
                *(f"<dc:subject>{_x(tag)}</dc:subject>" for tag in _tags(post.text)),
                f'<summary type="text/plain" mode="escaped">{_x(_excerpt(post.text))}</summary>',
                f'<content type="text/html" mode="escaped" xml:base="{self._link(post)}">'
                f"{_x(body_html(post.text))}</content>",
            ]
            parts += [
                f'<link rel="enclosure" type="{_TYPES[media.fmt]}" length="{self._length(media)}" '
                f'href="{_x(self.media_url(base, media))}"/>'
                for media in post.media
            ]
            parts.append("</entry>")
            out.append("".join(parts))
        out += ["</feed>", ""]
        return "\n".join(out)

    # ---- errors -------------------------------------------------------------------------------
    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        names = {
            404: "Not Found",
            405: "Method Not Allowed",
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        title = f"{status} {names.get(status, 'Error')}"
        resp = html_response(
            status,
            f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{_x(message)}</p></body></html>\n",
        )
        if retry_after is not None and status in (429, 503):
            resp.headers.append(("Retry-After", str(retry_after)))
        elif status == 429:
            resp.headers.append(("Retry-After", "60"))
        return resp


def _tags(text: str) -> list[str]:
    return list(dict.fromkeys(_HASHTAG.findall(text)))
