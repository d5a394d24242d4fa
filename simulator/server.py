"""``Simulator``: both platforms and a control API on one real HTTP server.

Layout (``base_url`` is ``http://127.0.0.1:<port>``):
- ``{base}/m``  the Mastodon instance root: ``{base}/m/api/v1/accounts/lookup?acct=sundsvik``
- ``{base}/wp`` the WordPress site root: ``{base}/wp/wp-json/wp/v2/posts``, ``{base}/wp/?rest_route=/wp/v2/posts``
- ``{base}/_sim/…`` control API, ``Authorization: Bearer <control_token>``:
  ``POST /_sim/timeline`` (JSON list of events) → ``{"results": [...], "now": "…"}``;
  ``GET /_sim/state[?items=0]`` → ground truth; ``GET /_sim/requests`` → request log;
  ``DELETE /_sim/requests`` clears it; ``GET /_sim/faults`` → active fault rules.

Faults are applied here, around the platform handlers: the first matching rule answers instead of
the platform (or delays it, or corrupts its body). Only platform requests are logged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import secrets
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .faults import FaultInjector, FaultRule, RateLimiter, drop_item
from .httpcore import Request, Response, html_response, json_response, mastodon_json, wp_json
from .mastodon import MastodonApp
from .platforms import NAMES, PlatformApp, app_class
from .poison import poison
from .timeline import Timeline, TimelineError, apply_events
from .wordpress import WordPressApp
from .world import World, WorldConfig

MASTODON_PREFIX, WORDPRESS_PREFIX = "/m", "/wp"
WORDPRESS_ACCOUNT = "blog"  # the ``match.account`` value of WordPress requests
_DISCONNECT = -1


@dataclass(frozen=True)
class LoggedRequest:
    """One platform request as the server saw it."""

    method: str
    path: str  # with the query string
    status: int  # -1 when the connection was dropped
    platform: str


class Simulator:
    """A running (or startable) simulator; use as a context manager in tests."""

    def __init__(
        self,
        config: WorldConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_token: str | None = None,
        rate_clock: Callable[[], int] | None = None,
        posts: int | None = None,
        **overrides: Any,
    ) -> None:
        """``overrides`` are ``WorldConfig`` fields; ``posts`` sizes both platforms (``WorldConfig.sized``)."""
        cfg = dataclasses.replace(config or WorldConfig(), **overrides)
        if posts is not None:
            cfg = cfg.resized(posts)
        self.world = World(cfg)
        self.faults = FaultInjector()
        self.rate = RateLimiter(cfg.rate_limit, cfg.rate_period, rate_clock)
        self.mastodon = MastodonApp(self.world.mastodon, self.rate, extra_tokens=cfg.mastodon_tokens)
        self.wordpress = WordPressApp(
            self.world.wordpress,
            name=f"{cfg.display_name} – Kommunstyrelsens blogg",
            description="Nyheter och tankar från kommunstyrelsens ordförande",
            pretty_permalinks=cfg.wp_pretty_permalinks,
        )
        self.platforms: dict[str, PlatformApp] = {
            name: app_class(name)(self.world.social[name], self.rate) for name in NAMES
        }
        self.control_token = control_token or secrets.token_urlsafe(16)
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log: deque[LoggedRequest] = deque(maxlen=500_000)
        self._log_lock = threading.Lock()
        # Set while stopping: a request held by a `slow` fault is let go at once (and cut), so a
        # test may hold one far longer than any client waits without delaying the stop.
        self._stopping = threading.Event()

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Simulator:
        """Bind and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _handler_for(self))
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"simulator:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the requested one before ``start``)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._host}:{self._port}"

    @property
    def mastodon_url(self) -> str:
        """The Mastodon instance root a connector is configured with."""
        return self.base_url + MASTODON_PREFIX

    @property
    def wordpress_url(self) -> str:
        """The WordPress site root a connector is configured with."""
        return self.base_url + WORDPRESS_PREFIX

    def url(self, platform: str) -> str:
        """The root URL a connector is configured with (``base_url``) for any platform."""
        if platform == "mastodon":
            return self.mastodon_url
        if platform == "wordpress":
            return self.wordpress_url
        return self.base_url + self.platforms[platform].prefix

    # ---- in-process control -------------------------------------------------------------------
    def apply(self, events: list[dict[str, Any]] | Timeline) -> list[dict[str, Any]]:
        """Apply timeline events (same format as ``POST /_sim/timeline``)."""
        return apply_events(self.world, self.faults, events)

    def state(self, *, items: bool = True) -> dict[str, Any]:
        """The ground truth (same as ``GET /_sim/state``)."""
        truth = self.world.ground_truth(self.mastodon_url, self.wordpress_url, items=items)
        with self.world.lock:
            truth["platforms"] = {
                name: app.truth(self.url(name)) if items else {"base_url": self.url(name)}
                for name, app in self.platforms.items()
            }
        return truth

    def requests(self) -> list[LoggedRequest]:
        """Platform requests served so far, oldest first."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._log_lock:
            self._log.clear()

    # ---- dispatch -----------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        """Answer one request (the HTTP handler calls this; tests may too)."""
        if req.path == "/_sim" or req.path.startswith("/_sim/"):
            return self._control(req)
        mounts = [
            (MASTODON_PREFIX, "mastodon"),
            (WORDPRESS_PREFIX, "wordpress"),
            *((app.prefix, name) for name, app in self.platforms.items()),
        ]
        for prefix, platform in mounts:
            if req.path == prefix or req.path.startswith(prefix + "/"):
                resp = self._platform(platform, req.path[len(prefix) :] or "/", req)
                with self._log_lock:
                    query = "?" + req.raw_query if req.raw_query else ""
                    self._log.append(LoggedRequest(req.method, req.path + query, resp.status, platform))
                return resp
        return Response(404, b"Not Found", [("Content-Type", "text/plain; charset=utf-8")])

    def _platform(self, platform: str, sub: str, req: Request) -> Response:
        with self.world.lock:
            account = (
                self.mastodon.account_of(sub, req)
                if platform == "mastodon"
                else (WORDPRESS_ACCOUNT if platform == "wordpress" else platform)
            )
        rule = self.faults.take(platform, req.path, account, req.method, req.raw_query)
        resp = self._answer(platform, sub, req, rule)
        if rule is not None and rule.echo and resp.status != _DISCONNECT:
            resp = _echo(resp, self.base_url + req.path, req.raw_query)
        return resp

    def _answer(self, platform: str, sub: str, req: Request, rule: FaultRule | None) -> Response:
        if rule is not None and rule.kind == "slow":
            if self._stopping.wait(rule.delay):
                return Response(_DISCONNECT)
        elif rule is not None and rule.kind not in ("malformed", "poison", "drop"):
            return self._fault(rule, platform)
        with self.world.lock:
            if platform == "mastodon":
                resp = self.mastodon.handle(sub, req, self.mastodon_url)
            elif platform == "wordpress":
                resp = self.wordpress.handle(sub, req, self.wordpress_url)
            else:
                resp = self.platforms[platform].handle(sub, req, self.url(platform))
        if rule is not None and rule.kind == "malformed":
            resp = _malform(resp, rule.variant, platform)
        if rule is not None and rule.kind == "poison":
            resp = poison(resp, rule.variant, rule.size, rule.count_sent)
        if rule is not None and rule.kind == "drop":
            resp = _drop(resp, rule, platform)
        return resp

    def _fault(self, rule: FaultRule, platform: str) -> Response:
        if rule.kind == "disconnect":
            return Response(_DISCONNECT)
        status = 429 if rule.kind == "rate_limit" else rule.status
        if platform in self.platforms:  # the platform's own envelope and throttle signal
            message = "Too many requests" if status == 429 else "Service temporarily unavailable"
            return self.platforms[platform].error(status, message, retry_after=rule.retry_after)
        extra = [("Retry-After", str(rule.retry_after))] if rule.retry_after is not None else []
        if platform == "mastodon":
            if status == 429:
                resp = json_response(
                    429,
                    mastodon_json({"error": "Too many requests"}),
                    content_type="application/json; charset=utf-8",
                    headers=self.rate.exhausted_headers(),
                )
            elif status == 503:
                resp = json_response(
                    503,
                    mastodon_json({"error": "There was a temporary problem serving your request, please try again"}),
                    content_type="application/json; charset=utf-8",
                )
            else:
                resp = html_response(status, _error_page(status))
        elif status == 500:
            body = {
                "code": "internal_server_error",
                "message": "<p>Det har uppstått ett kritiskt fel på webbplatsen.</p>",
                "data": {"status": 500},
                "additional_errors": [],
            }
            resp = json_response(500, wp_json(body), content_type="application/json; charset=UTF-8")
        else:
            resp = html_response(status, _error_page(status))
        resp.headers += extra
        return resp

    # ---- control API --------------------------------------------------------------------------
    def _control(self, req: Request) -> Response:
        def reply(status: int, obj: Any) -> Response:
            return json_response(
                status, json.dumps(obj, ensure_ascii=False).encode(), content_type="application/json; charset=utf-8"
            )

        if req.bearer() != self.control_token:
            return reply(401, {"error": "control token required (Authorization: Bearer <token>)"})
        route = (req.method, req.path.rstrip("/"))
        if route == ("POST", "/_sim/timeline"):
            try:
                body = json.loads(req.body or b"[]")
                events = body.get("events", []) if isinstance(body, dict) else body
                if not isinstance(events, list):
                    raise TimelineError('the body is a JSON list of events (or {"events": [...]})')
                results = self.apply(events)
            except (TimelineError, json.JSONDecodeError) as exc:
                return reply(400, {"error": str(exc)})
            return reply(200, {"results": results, "now": self.state(items=False)["now"]})
        if route == ("GET", "/_sim/state"):
            return reply(200, self.state(items=req.param("items") not in ("0", "false", "no")))
        if route == ("GET", "/_sim/requests"):
            return reply(200, [dataclasses.asdict(r) for r in self.requests()])
        if route == ("DELETE", "/_sim/requests"):
            self.clear_requests()
            return reply(200, {})
        if route == ("GET", "/_sim/faults"):
            return reply(200, self.faults.describe())
        return reply(404, {"error": "unknown control route"})


def _error_page(status: int) -> str:
    names = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
        429: "Too Many Requests",
    }
    title = f"{status} {names.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def _echo(resp: Response, url: str, query: str) -> Response:
    """The answer with the request's full URL in it: first in a JSON object, else a line before the body."""
    full = f"{url}?{query}" if query else url
    data = b"".join(resp.iter_body()) if resp.content_length() <= 16 * 1024 * 1024 else b""
    headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        body = json.dumps({"request_url": full, **doc}, ensure_ascii=False).encode()
    else:
        body = f"request: {full}\n".encode() + data
    return Response(resp.status, body, headers)


def _drop(resp: Response, rule: FaultRule, platform: str) -> Response:
    """The platform's answer with one listed item left out (``rule.item``, or the last one), re-rendered
    the way the platform renders JSON; an answer that lists nothing of the kind passes unchanged."""
    if resp.status != 200 or resp.chunks is not None:
        return resp
    try:
        parsed = json.loads(resp.body)
    except ValueError:
        return resp
    kept, dropped = drop_item(parsed, rule.item)
    if dropped is None:
        return resp
    rule.dropped.append(dropped)
    render = mastodon_json if platform == "mastodon" else wp_json if platform == "wordpress" else _compact_json
    headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
    return Response(resp.status, render(kept), headers)


def _compact_json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _malform(resp: Response, variant: str, platform: str) -> Response:
    """Corrupt a platform response the way broken proxies and bugs do."""
    if variant == "html":
        return html_response(200, "<!doctype html><html><body><h1>Underhåll pågår</h1></body></html>")
    if variant == "empty":
        return Response(200, b"", [(k, v) for k, v in resp.headers if k.lower() != "content-length"])
    data = b"".join(resp.iter_body()) if resp.content_length() <= 16 * 1024 * 1024 else None
    if variant == "wrong_types" and data is not None:
        try:
            broken = _wrong_types(json.loads(data))
            body = mastodon_json(broken) if platform == "mastodon" else wp_json(broken)
            return Response(resp.status, body, list(resp.headers))
        except ValueError:
            pass
    if data is None:
        half = resp.content_length() // 2
        return Response(resp.status, headers=list(resp.headers), chunks=_cut(resp.iter_body(), half), length=half)
    return Response(resp.status, data[: max(len(data) // 2, 1)], list(resp.headers))


def _cut(chunks: Any, limit: int) -> Any:
    left = limit
    for chunk in chunks:
        if left <= 0:
            return
        yield chunk[:left]
        left -= len(chunk)


def _wrong_types(obj: Any) -> Any:
    """Ids change type, timestamps become numbers, text fields become null or numbers."""
    if isinstance(obj, list):
        return [_wrong_types(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "id":
            out[key] = int(value) if isinstance(value, str) and value.isdigit() else str(value)
        elif key in ("created_at", "date", "date_gmt", "modified", "modified_gmt", "edited_at"):
            out[key] = 1714637730
        elif key in ("content", "title"):
            out[key] = None if isinstance(value, str) else 42
        else:
            out[key] = _wrong_types(value)
    return out


class _Server(ThreadingHTTPServer):
    """Threads per connection; stopping also drops kept-alive connections so nothing is served after ``stop``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """Shut down every open client connection."""
        with self.connections_lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.connections.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up are normal; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""
        timeout = 60  # idle kept-alive connections end after a minute
        server: _Server

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every response on a kept-alive connection.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.server.connections_lock:
                self.server.connections.add(self.connection)

        def finish(self) -> None:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Quiet: the simulator keeps its own request log."""

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = re.sub(r"/{2,}", "/", unquote(parts.path))  # as nginx's merge_slashes
            req = Request(
                self.command,
                path,
                parts.query,
                dict(self.headers.items()),
                parse_qsl(parts.query, keep_blank_values=True),
                body,
            )
            try:
                resp = sim.dispatch(req)
            except Exception as exc:  # a simulator bug must show up as a 500, not a hung client
                resp = Response(500, f"simulator error: {exc!r}".encode(), [("Content-Type", "text/plain")])
            if resp.status == _DISCONNECT:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(resp.status)
            for key, value in resp.headers:
                self.send_header(key, value)
            if resp.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(resp.content_length()))
            self.end_headers()
            if self.command != "HEAD":
                try:
                    for chunk in resp.iter_body():
                        if resp.chunked and chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        elif not resp.chunked:
                            self.wfile.write(chunk)
                        if resp.meter is not None:
                            resp.meter(len(chunk))
                    if resp.chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
            if resp.close:  # a lying Content-Length: nothing after it on this connection can be trusted
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler
