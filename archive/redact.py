"""Redaction of secrets before anything is written: WARC headers, target URIs, messages and logs.

Platform tokens travel in Authorization headers, cookies and query parameters such as
`access_token`. They must never reach a WARC file, a log line or the index, because WARC
files are public records that may be handed out.

Two layers. Patterns (`redact_url`, `redact_text`) catch what looks like a credential: a secret
query parameter, an auth scheme. Exact values catch what a pattern cannot: the Fetcher knows the
credentials it adds and hands them to `Secrets` (its own scrubber for bodies, headers and the
messages it raises) and to `remember_secret`, the process-wide list that `redact_text`, `redact_url`
and every log record consult (`install_log_redaction`), so a key a platform echoes in a body, or a
message that quotes it in some other shape, is cut out wherever the text goes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

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

#: Shorter values are not treated as secrets: replacing them would cut common words out of records.
MIN_SECRET_LENGTH = 6

_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r")=([^&\s\"']+)")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers with every secret-bearing value replaced."""
    return [(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers]


def secret_forms(value: str) -> list[str]:
    """The shapes a credential takes in transit and in answers: as is, URL-encoded (`%2F`, `+`) and
    JSON-escaped (`\\/`); longest first, so a longer form is replaced before a part of it."""
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), quote(value), value.replace("/", "\\/")}
    return sorted(forms, key=len, reverse=True)


class Secrets:
    """Exact credential values and how to cut them out of text and bytes (replaced by REDACTED)."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for value in values:
            if value and len(value) >= MIN_SECRET_LENGTH:
                forms.update(secret_forms(value))
        self.forms = sorted(forms, key=len, reverse=True)
        self._bytes = [f.encode("utf-8") for f in self.forms]

    def __bool__(self) -> bool:
        return bool(self.forms)

    def text(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def bytes(self, data: bytes) -> tuple[bytes, int]:
        """`data` without any form of the secrets, and how many occurrences were replaced."""
        count = 0
        for form in self._bytes:
            found = data.count(form)
            if found:
                count += found
                data = data.replace(form, REDACTED.encode())
        return data, count


_known = Secrets()
_known_values: set[str] = set()
_known_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Add a credential to the process-wide list every redaction consults (kept for the life of the
    process, like a logging mask: a message about a run can be written after its client is closed)."""
    global _known
    if not value or len(value) < MIN_SECRET_LENGTH or value in _known_values:
        return
    with _known_lock:
        _known_values.add(value)
        _known = Secrets(_known_values)


def scrub(text: str) -> str:
    """`text` without any credential remembered by `remember_secret`."""
    return _known.text(text) if _known else text


def redact_url(url: str) -> str:
    """The URL with secret query parameters (and any user:password) replaced."""
    url = scrub(url)
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
    """Free text (a log message) with remembered credentials, token-looking parameters and auth
    schemes replaced."""
    text = scrub(text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", _PARAM_RE.sub(rf"\1={REDACTED}", text))


_FORMATTER = logging.Formatter()


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message and its exception text redacted (a traceback quotes the
    exception's message, which the handler's formatter would otherwise print as it is)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - arguments that do not fit the format: logging reports it when it emits
        return record
    cleaned = redact_text(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every message before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True
