"""Redaction of secrets before anything is written: WARC headers, target URIs and logs.

Platform tokens travel in Authorization headers, cookies and query parameters such as
`access_token`. They must never reach a WARC file, a log line or the index, because WARC
files are public records that may be handed out.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-restli-token",
    }
)
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "token",
        "api_key",
        "apikey",
        "key",
        "client_secret",
        "client_id_secret",
        "password",
        "sig",
        "signature",
        "oauth_token",
        "oauth_signature",
        "refresh_token",
        "code",
    }
)

_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r")=([^&\s\"']+)")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers with every secret-bearing value replaced."""
    return [(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers]


def redact_url(url: str) -> str:
    """The URL with secret query parameters (and any user:password) replaced."""
    if "@" not in url and not _PARAM_RE.search(url):
        return url  # fast path: nothing secret-looking in it
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL at all (an id from a hostile payload): redact it as text
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k.lower() in SECRET_PARAMS for k, _ in pairs) and netloc == parts.netloc:
        return url
    query = urlencode([(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_text(text: str) -> str:
    """Free text (a log message) with token-looking parameters and auth schemes replaced."""
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", _PARAM_RE.sub(rf"\1={REDACTED}", text))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every message before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
