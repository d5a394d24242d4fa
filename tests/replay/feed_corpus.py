"""feedparser's test corpus served to the feed connector over loopback HTTP, beside feedparser's own reading.

tests/recordings/feeds/feedparser/tests/ holds the ~2 100 documents of feedparser's test suite:
well-formed and ill-formed RSS 0.9x/1.0/2.0 and Atom 0.3/1.0, every encoding and entity case. Many
carry the HTTP headers their test needs in the leading comment (``Header: Content-type: text/xml;
charset=...``); `comment_headers` reads them, and the replay server sends them with the document, so
an encoding test is what it is in feedparser's own suite. `read_corpus` drives the rss connector on
every document exactly as the harvest service does (tests/driving.py) and parses the same bytes
with the same headers with feedparser: the oracle the test module compares with.

Also runnable as a script (``python -m tests.replay.feed_corpus``): prints the counts the docs quote.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from schemas import Account
from tests.driving import Outcome, drive
from tests.replay.server import RECORDINGS, Answer, Asked, serving

CORPUS = RECORDINGS / "feeds" / "feedparser" / "tests"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
_HEADER = re.compile(r"^\s*Header:\s*([A-Za-z0-9-]+):[ \t]*(.*?)\s*$", re.MULTILINE)


def documents() -> list[str]:
    """Every document of the corpus, as its path under CORPUS."""
    return sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file())


def _comment_text(data: bytes) -> str:
    """The document's start as text, whatever its encoding (headers are ASCII in any of them)."""
    head = data[:4096]
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "ignore")
    if head[:4] in (b"<\x00\x00\x00", b"\x00\x00\x00<"):
        return head.decode("utf-32-le" if head[0] else "utf-32-be", "ignore")
    if head[:2] in (b"<\x00", b"\x00<"):
        return head.decode("utf-16-le" if head[0] else "utf-16-be", "ignore")
    return head.decode("latin-1")


def comment_headers(data: bytes) -> dict[str, str]:
    """The `Header:` lines of the document's leading comment (feedparser's test convention)."""
    text = _comment_text(data)
    end = text.find("-->")
    return {name: value for name, value in _HEADER.findall(text[:end] if end >= 0 else "")}


@dataclass
class Read:
    """One document: what the connector made of it, and feedparser's reading of the same bytes."""

    path: str
    outcome: Outcome
    oracle: Any  # feedparser.FeedParserDict

    @property
    def expected(self) -> int:
        return len(self.oracle.entries)

    @property
    def page_rejected(self) -> list[str]:
        return [r for r in self.outcome.reasons if "unreadable feed (" in r or "unreadable feed:" in r]

    @property
    def items_rejected(self) -> list[str]:
        return [r for r in self.outcome.reasons if r not in self.page_rejected]


class LoopbackOnly(httpx.BaseTransport):
    """One transport for every harvest (a client's own loads the CA store each time, most of the run),
    which answers 404 for any host but the replay server: the corpus links to example.com and real
    blogs (next pages, enclosures), and nothing leaves this machine."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.refused: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "127.0.0.1":
            self.refused.append(str(request.url))
            return httpx.Response(404, stream=httpx.ByteStream(b"nothing recorded"), request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Kept open across harvests; `shut` closes it."""

    def shut(self) -> None:
        self.inner.close()


def account(path: str, base_url: str) -> Account:
    slug = "fp-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:50]
    return Account.model_validate(
        {
            "id": slug.rstrip("-"),
            "platform": "rss",
            "handle": path,
            "display_name": "feedparser corpus",
            "department": "Test",
            "retention_class": "social-10y",
            "base_url": base_url,
        }
    )


def read_corpus(paths: list[str] | None = None) -> dict[str, Read]:
    """Drive the connector on each document (one loopback server for all) and parse it with feedparser."""
    paths = documents() if paths is None else paths
    bodies = {p: (CORPUS / p).read_bytes() for p in paths}
    headers = {p: comment_headers(b) for p, b in bodies.items()}

    def routes(asked: Asked) -> Answer | None:
        path = asked.path.lstrip("/")
        if path not in bodies or asked.query:  # a static file: ?paged=2 and the like are not there
            return None
        return Answer(200, bodies[path], headers[path])

    out: dict[str, Read] = {}
    transport = LoopbackOnly()
    with serving(routes) as replay:
        for path in paths:
            outcome = drive(account(path, replay.base_url), NOW, transport)
            oracle = feedparser.parse(bodies[path], response_headers={k.lower(): v for k, v in headers[path].items()})
            out[path] = Read(path, outcome, oracle)
    transport.shut()
    return out


def _plain(value: str | None) -> str:
    return " ".join((value or "").split())


def fields_of(entry: Any) -> dict[str, Any]:
    """feedparser's reading of an entry, in the record's terms (plain text, UTC datetimes)."""
    from archive.connectors.text import html_to_text

    def text_of(detail: Any) -> str:
        if not detail:
            return ""
        value = detail.get("value", "")
        return _plain(html_to_text(value)[0] if "html" in detail.get("type", "") else value)

    content = entry.get("content") or []
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    return {
        "title": text_of(entry.get("title_detail")),
        "text": text_of(content[0] if content else entry.get("summary_detail")),
        "link": entry.get("link"),
        "author": next(
            (a["name"] for a in (entry.get("author_detail"), *entry.get("authors", [])) if a and a.get("name")),
            entry.get("author"),
        ),
        "published": datetime(*moment[:6]).replace(tzinfo=UTC) if moment else None,
    }


def record_fields(record: Any) -> dict[str, Any]:
    """A record's fields as `fields_of` gives feedparser's (time to the second: feedparser keeps no less)."""
    moment = record.published_at.astimezone(UTC).replace(microsecond=0) if record.published_at else None
    return {
        "title": _plain(record.title),
        "text": _plain(record.text),
        "link": record.url,
        "author": record.author.name if record.author else None,
        "published": moment,
    }


def summary(reads: dict[str, Read]) -> dict[str, Any]:
    crashed = [r.path for r in reads.values() if r.outcome.kind == "crashed"]
    failed = [r.path for r in reads.values() if r.outcome.kind == "failed"]
    fewer = [r.path for r in reads.values() if len(r.outcome.records) < r.expected]
    more = [r.path for r in reads.values() if len(r.outcome.records) > r.expected]
    return {
        "documents": len(reads),
        "crashed": crashed,
        "failed": failed,
        "fewer": fewer,
        "more": more,
        "records": sum(len(r.outcome.records) for r in reads.values()),
        "feedparser_entries": sum(r.expected for r in reads.values()),
        "crash_kinds": Counter(r.outcome.crash for r in reads.values() if r.outcome.crash),
    }


if __name__ == "__main__":
    import sys

    result = summary(read_corpus())
    for key, value in result.items():
        shown = len(value) if isinstance(value, list) else value
        print(f"{key}: {shown}")
    if "-v" in sys.argv:
        for key in ("crashed", "failed", "fewer", "more"):
            for path in result[key]:
                print(key, path)
