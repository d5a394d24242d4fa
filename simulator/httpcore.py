"""Small request/response types shared by the platform handlers and the server.

Handlers are plain functions of a ``Request`` returning a ``Response``; the server does the socket
work. Each platform has its own JSON encoder because the wire bytes differ: Mastodon (Rails) keeps
UTF-8 but escapes ``<``, ``>`` and ``&`` as ``\\u003c``…; WordPress (PHP ``json_encode``) escapes
``/`` as ``\\/`` and every non-ASCII character as ``\\uXXXX``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Request:
    """One incoming request; ``path`` is the full path without the query string, header names lower case."""

    method: str
    path: str
    raw_query: str
    headers: Mapping[str, str]
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def __post_init__(self) -> None:
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        if not self.query and self.raw_query:
            self.query = parse_qsl(self.raw_query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        """First value of a query parameter (also ``name[]``), or None."""
        for key, value in self.query:
            if key == name or key == name + "[]":
                return value
        return None

    def params(self, name: str) -> list[str]:
        """All values of a parameter, also split on commas (``post=1,2`` and ``post[]=1``)."""
        out: list[str] = []
        for key, value in self.query:
            if key in (name, name + "[]"):
                out += [v for v in value.split(",") if v]
        return out

    def bearer(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, if any."""
        value = self.headers.get("authorization") or ""
        return value[7:].strip() if value[:7].lower() == "bearer " else None


@dataclass
class Response:
    """A response; ``chunks`` streams large bodies, otherwise ``body`` is sent."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: Iterable[bytes] | None = None
    length: int | None = None
    chunked: bool = False  # sent with Transfer-Encoding: chunked, no Content-Length
    close: bool = False  # the connection is closed after the body (a lying Content-Length needs it)
    meter: Callable[[int], None] | None = None  # told how many body bytes each write sent

    def content_length(self) -> int:
        """The exact length to announce."""
        return self.length if self.length is not None else len(self.body)

    def iter_body(self) -> Iterator[bytes]:
        """The body in pieces."""
        if self.chunks is not None:
            yield from self.chunks
        else:
            yield self.body

    def header(self, name: str) -> str | None:
        """First value of a response header."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        """Replace or add a header."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()] + [(name, value)]


def mastodon_json(obj: Any) -> bytes:
    """Bytes as Rails renders JSON: UTF-8, HTML-significant characters escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text.encode()


def wp_json(obj: Any) -> bytes:
    """Bytes as PHP ``json_encode`` without flags: ``\\/`` and ``\\uXXXX``."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def json_response(
    status: int, body: bytes, *, content_type: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A JSON response with its content type."""
    return Response(status, body, [("Content-Type", content_type), *(headers or [])])


def html_response(status: int, text: str) -> Response:
    """A small HTML page, as a proxy or CDN error would be."""
    return Response(status, text.encode(), [("Content-Type", "text/html; charset=utf-8")])
