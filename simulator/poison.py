"""Poison answers: bodies that have broken harvesters elsewhere, served over real HTTP.

A ``poison`` fault rule replaces (or corrupts) the platform's answer with one of ``POISONS``:

- ``deep_json``: JSON arrays nested 10 000 levels (Python's json gives up with RecursionError).
- ``whitespace_flood``: ``size`` bytes of whitespace (1 GiB by default) before ``[]``, streamed
  chunked, without a Content-Length, as a generator: nothing is held in memory.
- ``not_json``: a Python repr under ``application/json``.
- ``bad_utf8``: the platform's own body with invalid UTF-8 inside its first string.
- ``bad_gzip``: the platform's body gzipped and cut in half, sent with ``Content-Encoding: gzip``
  although the client asked for identity.
- ``lying_length_short`` / ``lying_length_long``: the platform's body under a Content-Length half
  as long / 1000 bytes longer; the connection is closed after it (the long one never completes).
- ``billion_laughs`` / ``billion_laughs_utf16``: an RSS document declaring nine levels of nested
  entities (3·10⁹ bytes if expanded), as UTF-8 or UTF-16 with a byte-order mark.
- ``external_entity``: an RSS document whose title is an external entity (``file:///etc/passwd``).
- ``deep_atom``: an Atom feed whose entry content nests 2 000 ``div`` elements.
- ``huge_stream`` / ``huge_declared``: a ``size``-byte JSON-looking body (2 GiB by default),
  streamed chunked without a length / with its true Content-Length.

Every byte the server writes for a poison answer is counted in the rule's ``sent``, so a test
can show that the client stopped reading early.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Callable, Iterator

from .httpcore import Response

POISONS = (
    "deep_json",
    "whitespace_flood",
    "not_json",
    "bad_utf8",
    "bad_gzip",
    "lying_length_short",
    "lying_length_long",
    "billion_laughs",
    "billion_laughs_utf16",
    "external_entity",
    "deep_atom",
    "huge_stream",
    "huge_declared",
)
GiB = 1024**3
CHUNK = 64 * 1024
JSON_CT = "application/json; charset=utf-8"
RSS_CT = "application/rss+xml; charset=UTF-8"


def _repeat(head: bytes, fill: bytes, size: int, tail: bytes) -> Iterator[bytes]:
    """``head``, then ``fill`` up to ``size`` bytes in all, then ``tail``: generated as it is sent."""
    yield head
    left = max(size - len(head) - len(tail), 0)
    block = (fill * (CHUNK // len(fill) + 1))[:CHUNK]
    full, rest = divmod(left, CHUNK)
    yield from itertools.repeat(block, full)
    if rest:
        yield block[:rest]
    yield tail


def _laughs(encoding: str) -> str:
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE rss [\n' + "\n".join(levels) + "\n]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><link>https://example.org/</link>'
        "<description>&lol9;</description><item><title>&lol9;</title><guid>lol</guid></item>"
        "</channel></rss>\n"
    )


def poison(resp: Response, variant: str, size: int | None, meter: Callable[[int], None]) -> Response:
    """The poison answer ``variant`` in place of (or made from) the platform's response ``resp``."""
    body = b"".join(resp.iter_body()) if resp.content_length() <= 16 * 1024 * 1024 else b"[]"
    keep = [(k, v) for k, v in resp.headers if k.lower() not in ("content-length", "content-encoding")]
    out: Response
    if variant == "deep_json":
        out = Response(200, b"[" * 10_000 + b"]" * 10_000, [("Content-Type", JSON_CT)])
    elif variant == "whitespace_flood":
        out = Response(
            200, headers=[("Content-Type", JSON_CT)], chunked=True, chunks=_repeat(b" ", b" \n\t\r", size or GiB, b"[]")
        )
    elif variant == "not_json":
        out = Response(200, b"{'id': 1, 'content': '<p>Hej</p>', 'created_at': None}", [("Content-Type", JSON_CT)])
    elif variant == "bad_utf8":
        at = body.find(b'":"') + 3 if b'":"' in body else 0
        out = Response(resp.status, body[:at] + b"\xff\xfe\xc3(" + body[at:], keep)
    elif variant == "bad_gzip":
        packed = gzip.compress(body or b"[]")
        out = Response(resp.status, packed[: len(packed) // 2], [*keep, ("Content-Encoding", "gzip")])
    elif variant == "lying_length_short":
        out = Response(resp.status, body, [*keep, ("Connection", "close")], length=len(body) // 2, close=True)
    elif variant == "lying_length_long":
        out = Response(resp.status, body, keep, length=len(body) + 1000, close=True)
    elif variant in ("billion_laughs", "billion_laughs_utf16"):
        utf16 = variant.endswith("utf16")
        text = _laughs("UTF-16" if utf16 else "UTF-8")
        out = Response(
            200,
            text.encode("utf-16") if utf16 else text.encode(),
            [("Content-Type", "application/rss+xml; charset=UTF-16" if utf16 else RSS_CT)],
        )
    elif variant == "external_entity":
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            '<rss version="2.0"><channel><title>&xxe;</title><link>https://example.org/</link><item>'
            "<title>&xxe;</title><guid>xxe</guid></item></channel></rss>\n"
        )
        out = Response(200, text.encode(), [("Content-Type", RSS_CT)])
    elif variant == "deep_atom":
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:deep</id>'
            "<title>Djup</title><updated>2024-05-02T08:15:30Z</updated><entry><id>urn:deep:1</id>"
            '<title>Djupt</title><updated>2024-05-02T08:15:30Z</updated><content type="xhtml">'
            '<div xmlns="http://www.w3.org/1999/xhtml">'
            + "<div>" * 2000
            + "djupt"
            + "</div>" * 2000
            + "</div></content></entry></feed>\n"
        )
        out = Response(200, text.encode(), [("Content-Type", "application/atom+xml; charset=UTF-8")])
    elif variant in ("huge_stream", "huge_declared"):
        total = size or 2 * GiB
        chunks = _repeat(b'{"blob":"', b"x", total, b'"}')
        out = Response(
            200,
            headers=[("Content-Type", JSON_CT)],
            chunks=chunks,
            chunked=variant == "huge_stream",
            length=None if variant == "huge_stream" else total,
        )
    else:
        raise ValueError(f"unknown poison {variant!r}")
    out.meter = meter
    return out
