"""The one HTTP client connectors use: timeouts, retries with backoff and jitter, rate limits,
and a Capture of every exchange worth archiving.

Requests ask for `Accept-Encoding: identity`, so the body archived is the body sent: no
transfer compression sits between the platform's bytes and the WARC record.

Platforms signal throttling differently (429 with `Retry-After`, `X-RateLimit-*` headers with an
ISO or epoch reset); all of it ends up as "wait this long". Transient failures (5xx, timeouts,
connection resets) are retried with exponential backoff and jitter; after `max_tries` the
request raises GaveUp so the caller can quarantine that one item and go on.

Every body is streamed and capped while it is read (`max_body_bytes`, or the caller's `max_bytes`
for media), never buffered whole first: a 2 GB answer costs at most the cap in memory and the
connection is dropped as soon as the cap is passed. A body that cannot be read (over the cap, a
compressed body that does not decompress although we asked for identity, one that ends before
its `Content-Length`) is not an exception for API documents: it comes back as `Fetched.problem`,
`Fetched.json()` raises it as PayloadInvalid, and the connector quarantines the page the way it
quarantines any unreadable page, so the rest of the account is harvested. Callers that give
their own cap (media) get PayloadInvalid at once, since nothing parses those bodies to notice.

No credential leaves the fetcher. It knows the exact values it adds (the account's token, key and
secret) and cuts them, in every shape they travel in, out of each answer's body and headers as soon
as they are read, before a connector parses them: records, quarantine entries and the WARC are built
from those bytes, and the capture counts what was replaced (`Capture.redacted`, which the WARC
record states). Messages it raises or logs name a response by its URL without the query, and are
scrubbed of the exact values too; the values are also given to `remember_secret`, so every log
record of the process is scrubbed of them.
"""

from __future__ import annotations

import json
import logging
import random
import time
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from schemas import Capture

from .. import clock
from ..errors import AuthExpired, CommunisError, GaveUp, Gone, PayloadInvalid, RateLimited
from ..redact import SECRET_HEADERS, SECRET_PARAMS, Secrets, redact_text, redact_url, remember_secret
from ..version import __version__

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504, 520, 522, 524})
DEFAULT_MAX_BODY = 512 * 1024 * 1024
#: How much of an unreadable body is kept (and quarantined) as evidence.
EVIDENCE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    """A successful (or documented-absent) response and its Capture.

    `problem` says why the body cannot be read (over the size cap, undecodable, incomplete); then
    the capture holds only the first `EVIDENCE_BYTES` of it and `json()` raises PayloadInvalid."""

    capture: Capture
    response: httpx.Response
    problem: str | None = None

    def json(self) -> Any:
        if self.problem is not None:
            raise PayloadInvalid(f"{self.capture.url}: {self.problem}")
        try:
            return json.loads(self.response.content)
        except RecursionError as exc:  # not a ValueError: json gives up on deep nesting this way
            raise PayloadInvalid(f"{self.capture.url}: response is not JSON (nested too deeply to parse)") from exc
        except ValueError as exc:
            raise PayloadInvalid(f"{self.capture.url}: response is not JSON ({exc})") from exc

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers


@dataclass
class _Read:
    """A response whose body was read under the cap: the body, or why it could not be read."""

    response: httpx.Response
    body: bytes
    problem: str | None = None
    incomplete: bool = False  # the body ended early: worth another try
    raw_bytes: int = 0
    redacted: int = 0  # occurrences of a credential cut out of the body and headers


def _decoder(encoding: str) -> Any:
    """A zlib decompressor for the body's Content-Encoding, None for identity; ValueError if unsupported.
    We ask for identity, but some servers and proxies compress anyway."""
    names = [e.strip().lower() for e in encoding.split(",") if e.strip()]
    names = [n for n in names if n != "identity"]
    if not names:
        return None
    if len(names) == 1 and names[0] in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, detected
    raise ValueError(f"Content-Encoding {encoding!r} is not supported (we asked for identity)")


def read_capped(response: httpx.Response, cap: int) -> _Read:
    """Read a streamed response's body, decoded, stopping as soon as it passes `cap` bytes (raw or
    decoded: a small compressed body can expand enormously)."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > cap:
        return _Read(
            response, b"", f"body of {declared} bytes (Content-Length) is over the size cap of {cap} bytes; not read"
        )
    try:
        decoder = _decoder(response.headers.get("content-encoding", ""))
    except ValueError as exc:
        return _Read(response, b"", str(exc))
    chunks: list[bytes] = []
    size = raw_size = 0

    def evidence() -> bytes:
        return b"".join(chunks)[:EVIDENCE_BYTES]

    try:
        for raw in response.iter_raw():
            raw_size += len(raw)
            data = raw
            if decoder is not None:
                try:
                    data = decoder.decompress(raw, cap - size + 1)
                    while decoder.unconsumed_tail and size + len(data) <= cap:
                        data += decoder.decompress(decoder.unconsumed_tail, cap - size - len(data) + 1)
                except zlib.error as exc:
                    return _Read(
                        response, evidence(), f"compressed body does not decompress ({exc})", raw_bytes=raw_size
                    )
            size += len(data)
            if size > cap or raw_size > cap:
                return _Read(
                    response,
                    evidence(),
                    f"body is over the size cap of {cap} bytes (stopped reading after {max(size, raw_size)} bytes)",
                    raw_bytes=raw_size,
                )
            chunks.append(data)
    except httpx.TransportError as exc:  # the body ended before its Content-Length, or the connection dropped
        expected = f" of {declared}" if declared else ""
        return _Read(
            response,
            evidence(),
            f"body ended after {raw_size}{expected} bytes ({type(exc).__name__}: {exc})",
            incomplete=True,
            raw_bytes=raw_size,
        )
    if decoder is not None and not decoder.eof:
        return _Read(
            response,
            evidence(),
            f"compressed body is truncated (Content-Encoding "
            f"{response.headers.get('content-encoding')}, {raw_size} bytes)",
            raw_bytes=raw_size,
        )
    return _Read(response, b"".join(chunks), raw_bytes=raw_size)


def _seconds_until(value: str, now: datetime) -> float | None:
    """Seconds from `now` until a reset given as seconds, epoch seconds, ISO 8601 or an HTTP date."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, number - now.timestamp()) if number > 1e9 else max(0.0, number)
    for parse in (lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")), parsedate_to_datetime):
        try:
            moment = parse(value)
        except (ValueError, TypeError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - now).total_seconds())
    return None


def wait_hint(headers: Mapping[str, str], now: datetime) -> float | None:
    """How long the platform asks us to wait, from any of the usual headers."""
    for name in ("retry-after", "x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"):
        if name in headers:
            found = _seconds_until(headers[name], now)
            if found is not None:
                return found
    return None


def make_client(
    *, headers: Mapping[str, str] | None = None, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The httpx client for one account: identity encoding, timeouts, redirects followed. Credentials
    are not set here: the Fetcher adds them to requests for the API host only."""
    base = {"Accept-Encoding": "identity", "User-Agent": f"Communis/{__version__} (public records archiving)"}
    return httpx.Client(
        headers={**base, **(headers or {})},
        timeout=httpx.Timeout(timeout, connect=10.0),
        follow_redirects=True,
        max_redirects=5,
        transport=transport,
    )


def _short(url: str) -> str:
    return repr(url) if len(url) <= 120 else f"{url[:100]!r}… ({len(url):,} characters)"


def _host(url: str) -> str:
    """The URL's host; PayloadInvalid when a URL built from a payload (an id, a next link) is none."""
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise PayloadInvalid(_cannot_request(url, exc)) from exc


def without_query(url: str) -> str:
    """The URL without its query, for messages; a URL httpx cannot even parse is quoted short instead."""
    try:
        return str(httpx.URL(url).copy_with(query=None, fragment=None))
    except (httpx.InvalidURL, UnicodeError):
        return _short(redact_url(url))


def where(response: httpx.Response) -> str:
    """A response named for a message: its URL without the query (where keys travel), redacted."""
    return redact_url(without_query(str(response.url)))


def credential_values(
    secrets: Collection[str], auth_headers: Mapping[str, str], auth_params: Mapping[str, str]
) -> list[str]:
    """Every credential value the fetcher sends: the given secrets, secret query parameters, and
    secret headers (whole, and without their scheme: `Bearer abc` also as `abc`)."""
    values = [s for s in secrets if s]
    values += [v for k, v in auth_params.items() if k.lower() in SECRET_PARAMS and v]
    for name, value in auth_headers.items():
        if name.lower() in SECRET_HEADERS and value:
            values += [value, value.split(" ", 1)[-1]]
    return values


def _cannot_request(url: str, exc: BaseException) -> str:
    """Why a URL taken from a payload cannot be requested, with any credential in it cut out (the
    message reaches quarantine reasons, the harvest state and logs; a next link may carry a token)."""
    return redact_text(f"cannot request {_short(redact_url(url))}: {type(exc).__name__}: {exc}")[:300]


class Fetcher:
    """GET with retries, rate-limit waits and captures, over one httpx client."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_tries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        throttled: Callable[[httpx.Response], float | None] | None = None,
        secrets: Collection[str] = (),
        api_host: str | None = None,
        auth_headers: Mapping[str, str] | None = None,
        auth_params: Mapping[str, str] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.client = client
        self.max_body_bytes = max_body_bytes
        self.throttled = throttled
        self.api_host = api_host
        self.auth_headers = dict(auth_headers or {})
        self.auth_params = dict(auth_params or {})
        values = credential_values(secrets, self.auth_headers, self.auth_params)
        self.secrets = Secrets(values)
        for value in values:
            remember_secret(value)  # log lines of this process are scrubbed of it too
        self.max_tries = max_tries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.requests = 0
        self.bytes = 0

    def _pause(self, seconds: float, why: str) -> None:
        if seconds > self.max_wait:
            raise RateLimited(
                f"{why}: platform asks to wait {seconds:.0f} s (more than {self.max_wait:.0f} s)", retry_after=seconds
            )
        if seconds > 0:
            log.info("waiting %.1f s: %s", seconds, why)
            self.sleep(seconds)

    def scrub(self, text: str) -> str:
        """`text` without this fetcher's credentials or anything that looks like one."""
        return redact_text(self.secrets.text(text))

    def _backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2.0**attempt) * self.rng.uniform(0.5, 1.5))

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """Fetch `url`. Error statuses raise (401/403 AuthExpired, 404/410 Gone, others PayloadInvalid)
        unless listed in `accept`: then the answer is returned, to be archived as evidence. `headers`
        are added to this request only (conditional requests)."""
        return self.request("GET", url, params=params, accept=accept, max_bytes=max_bytes, headers=headers)

    def post(
        self, url: str, *, json_body: Any, params: Mapping[str, str] | None = None, accept: Collection[int] = ()
    ) -> Fetched:
        """POST a JSON body (APIs that list by POST, such as TikTok's); the body is archived with it."""
        return self.request("POST", url, params=params, accept=accept, json_body=json_body)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
        max_bytes: int | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """`get` and `post`: every error it raises carries a message scrubbed of the credentials."""
        try:
            return self._request(method, url, params, accept, max_bytes, json_body, headers)
        except CommunisError as exc:
            exc.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in exc.args)
            exc.hint = self.scrub(exc.hint)
            raise

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        accept: Collection[int],
        max_bytes: int | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> Fetched:
        if self.api_host is not None and _host(url) == self.api_host:
            # The credential goes to the platform's API host only, never to the CDNs that serve media.
            headers = {**self.auth_headers, **(headers or {})}
            params = {**self.auth_params, **(params or {})} if self.auth_params else params
        last_error = ""
        for attempt in range(self.max_tries):
            started = clock.now()
            try:
                read = self._send(method, url, params, max_bytes, json_body, headers)
            except (httpx.InvalidURL, UnicodeError) as exc:  # an id or link from a payload that is no URL
                raise PayloadInvalid(_cannot_request(url, exc)) from exc
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                self.sleep(self._backoff(attempt))
                continue
            response = read.response
            self.requests += 1
            self.bytes += read.raw_bytes
            if read.incomplete and attempt + 1 < self.max_tries:
                last_error = read.problem or "incomplete body"
                self.sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status == 429:
                wait = wait_hint(response.headers, clock.now())
                self._pause(wait if wait is not None else self._backoff(attempt), f"429 from {where(response)}")
                last_error = "429 Too Many Requests"
                continue
            if status in TRANSIENT_STATUSES:
                last_error = f"HTTP {status}"
                wait = wait_hint(response.headers, clock.now()) if status == 503 else None
                self._pause(wait if wait is not None else self._backoff(attempt), f"{status} from {where(response)}")
                continue
            disguised = self._throttled(response)
            if disguised is not None:
                last_error = f"throttled (HTTP {status})"
                self._pause(disguised or self._backoff(attempt), f"platform throttle signal from {where(response)}")
                continue
            capture = self._capture(response, started, read.body, read.redacted)
            if read.problem is not None and (max_bytes is not None or (status >= 400 and status not in accept)):
                # A media file (nothing parses it to notice) or an error answer that cannot be read.
                raise PayloadInvalid(f"{where(response)}: {read.problem}")
            if status in accept:
                return Fetched(capture, response, read.problem)
            if status in (401, 403):
                raise AuthExpired(f"{where(response)} refused our credentials (HTTP {status})")
            if status in (404, 410):
                raise Gone(f"{where(response)} answered {status}")
            if status >= 400:
                raise PayloadInvalid(f"{where(response)} answered HTTP {status}: {response.text[:200]!r}")
            self._remember_limits(response)
            return Fetched(capture, response, read.problem)
        raise GaveUp(f"{method} {without_query(url)} failed {self.max_tries} times; last: {last_error}")

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        max_bytes: int | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> _Read:
        """One exchange, its body streamed under the cap (the caller's `max_bytes`, else `max_body_bytes`)."""
        extra = dict(headers or {})
        content = None
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            extra["Content-Type"] = "application/json"
        request = self.client.build_request(method, url, params=params, content=content, headers=extra)
        response = self.client.send(request, stream=True)
        try:
            read = read_capped(response, max_bytes if max_bytes is not None else self.max_body_bytes)
        finally:
            response.close()  # an unread rest is not drained: the connection is dropped instead
        self._redact(read)
        response._content = read.body if read.problem is None else b""  # what .content would hold
        return read

    def _redact(self, read: _Read) -> None:
        """Cut the credentials out of an answer's body and headers before anything reads them.

        Some APIs echo the caller's key or token (in `next` URLs, debug fields, error pages). WARC
        files are public records, and records, quarantine entries and messages are built from these
        bytes, so the value goes here, once, for all of them."""
        if not self.secrets:
            return
        read.body, found = self.secrets.bytes(read.body)
        response = read.response
        headers = []
        for name, value in response.headers.multi_items():
            cleaned = self.secrets.text(value)
            found += cleaned != value
            headers.append((name, cleaned))
        if found:
            response.headers = httpx.Headers(headers)
            read.redacted = found
            log.warning("an answer from %s echoed the account's credential; redacted", response.url.host)

    def _throttled(self, response: httpx.Response) -> float | None:
        """The connector's throttle check; a check that cannot read the body has found no throttle signal."""
        if self.throttled is None:
            return None
        try:
            return self.throttled(response)
        except (ValueError, RecursionError, TypeError, KeyError, AttributeError):
            return None

    def _remember_limits(self, response: httpx.Response) -> None:
        """Respect an exhausted budget before the next request, not after a 429."""
        headers = response.headers
        remaining = (
            headers.get("x-ratelimit-remaining")
            or headers.get("x-rate-limit-remaining")
            or headers.get("ratelimit-remaining")
        )
        if remaining is not None and remaining.strip() == "0":
            wait = wait_hint(response.headers, clock.now())
            if wait:
                self._pause(wait, f"rate-limit budget exhausted at {response.url.host}")

    def _capture(self, response: httpx.Response, started: datetime, body: bytes, redacted: int = 0) -> Capture:
        """The exchange as archived; `body` and the response headers are already redacted (`_redact`)."""
        request = response.request
        try:
            request_body = request.content
        except httpx.RequestNotRead:  # a request httpx built to follow a redirect carries its body as a stream
            request_body = request.read()
        request_body, in_request = self.secrets.bytes(request_body)  # a POST body naming a credential
        return Capture(
            # Redacted here, not only in the WARC writer: the URL also becomes each record's
            # `source_url` (index, metadata record) and part of quarantine reasons and log lines.
            method=request.method,
            url=redact_url(str(request.url)),
            request_headers=[(k, self.secrets.text(v)) for k, v in request.headers.multi_items()],
            request_body=request_body,
            status=response.status_code,
            reason=response.reason_phrase,
            response_headers=list(response.headers.multi_items()),
            body=body,
            redacted=redacted + in_request,
            started_at=started,
            completed_at=clock.now(),
            http_version=response.http_version,
        )
