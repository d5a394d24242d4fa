"""What the Facebook and Instagram simulators share: Meta's Graph API conventions.

Faithful points (developers.facebook.com: Graph API "Using the Graph API" / results paging,
error handling, rate limiting):
- Errors are ``{"error":{"message","type":"OAuthException","code","error_subcode","is_transient",
  "fbtrace_id"}}``. A missing token is HTTP 400 code 104, a wrong or expired one HTTP 400 code 190
  (with ``WWW-Authenticate: OAuth "Facebook Platform" "invalid_token" …``), an unknown or deleted
  object HTTP 400 code 100 subcode 33, an unknown field HTTP 400 code 100.
- Throttling is **not** 429: the simulator's own rate limiter answers HTTP 400 with the Business
  Use Case code (80001 Pages, 80002 Instagram) and ``estimated_time_to_regain_access`` (minutes) in
  ``X-Business-Use-Case-Usage``. Every answer carries ``X-App-Usage`` and ``X-Business-Use-Case-Usage``
  (percentages of the budget used).
- Cursor paging: ``data`` + ``paging{cursors{before,after},next,previous}``; ``next`` is absent on the
  last page. Cursors are opaque base64 strings; ``limit`` is capped (100).
- ``fields=`` is parsed as Graph parses it: comma lists, nested ``{…}`` selections and modifiers such as
  ``comments.summary(true).limit(0)``. ``id`` is always returned; null/absent values are left out.
- Bodies are encoded as Graph encodes them: ``\\/`` for slashes and ``\\uXXXX`` for non-ASCII.
- Timestamps ``2024-05-02T08:15:30+0000``.

Decisions where the documentation is silent:
- The injected ``rate_limit`` fault (the harness asks for HTTP 429) keeps status 429 but carries
  Graph's body (code 4, ``is_transient``) and the BUC header with ``estimated_time_to_regain_access``
  = the fault's ``retry_after`` rounded up to whole minutes; Graph itself has no ``Retry-After``.
- ``next`` URLs do not repeat the access token (the caller sends it as ``Authorization: Bearer``).
- Cursors keep working after their item is deleted (the real ones may not; clients must not store them).
- Video poster frames and Instagram's text-card images are generated images served under
  ``{prefix}/media/t{no}.jpg`` (``no`` is the media or post number).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode

from ..clock import to_datetime
from ..httpcore import Request, Response, json_response, wp_json
from ..media import image
from ..rand import mix
from ..social import Comment, Post
from .base import PlatformApp

CT = "application/json; charset=UTF-8"
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
NO_OBJECT = (
    "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing "
    "permissions, or does not support this operation. Please read the Graph API documentation at "
    "https://developers.facebook.com/docs/graph-api"
)


def graph_time(ms: int) -> str:
    """``2024-05-02T08:15:30+0000``."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_json(obj: Any) -> bytes:
    """Graph's encoding: ASCII only (``\\uXXXX``), slashes escaped."""
    return wp_json(obj)


class GraphError(Exception):
    """An error answer raised from inside a route."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        status: int = 400,
        subcode: int | None = None,
        kind: str = "OAuthException",
        transient: bool = False,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.subcode = message, code, status, subcode
        self.kind, self.transient, self.headers = kind, transient, headers or []


def no_object(item_id: str) -> GraphError:
    """400 code 100 subcode 33: unknown, deleted, or not visible to this token."""
    return GraphError(NO_OBJECT.format(id=item_id), 100, subcode=33)


def nonexisting_field(name: str, node: str) -> GraphError:
    return GraphError(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})", 100)


# ---- fields= ----------------------------------------------------------------------------------
@dataclass
class FieldSpec:
    """One requested field: ``name.mod(arg)…{sub,…}``."""

    name: str
    mods: dict[str, str] = field(default_factory=dict)
    sub: list[FieldSpec] | None = None


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MOD = re.compile(r"\.([A-Za-z_]+)\(([^()]*)\)")


def parse_fields(spec: str | None) -> list[FieldSpec] | None:
    """The parsed ``fields=`` value (None when absent or empty: the node's default fields)."""
    if not spec or not spec.strip():
        return None
    text = re.sub(r"\s+", "", spec)
    out, pos = _parse(text, 0)
    if pos != len(text):
        raise GraphError(
            f'Syntax error "Expected end of string instead of "{text[pos]}"." at character {pos}: {text}',
            2500,
            kind="OAuthException",
        )
    return out


def _parse(text: str, pos: int) -> tuple[list[FieldSpec], int]:
    out: list[FieldSpec] = []
    while pos < len(text):
        m = _NAME.match(text, pos)
        if not m:
            raise GraphError(f'Syntax error "Expected name." at character {pos}: {text}', 2500)
        spec = FieldSpec(m.group(0))
        pos = m.end()
        while pos < len(text) and text[pos] == ".":
            mod = _MOD.match(text, pos)
            if not mod:
                raise GraphError(f'Syntax error "Expected modifier." at character {pos}: {text}', 2500)
            spec.mods[mod.group(1)] = mod.group(2)
            pos = mod.end()
        if pos < len(text) and text[pos] == "{":
            spec.sub, pos = _parse(text, pos + 1)
            if pos >= len(text) or text[pos] != "}":
                raise GraphError(f'Syntax error "Expected "}}"." at character {pos}: {text}', 2500)
            pos += 1
        out.append(spec)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return out, pos


def unparse(specs: list[FieldSpec]) -> str:
    """A ``fields=`` value again (for ``next`` URLs of nested edges)."""
    out = []
    for spec in specs:
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.mods.items())
        out.append(text + ("{" + unparse(spec.sub) + "}" if spec.sub else ""))
    return ",".join(out)


def names(specs: list[FieldSpec] | None, default: tuple[str, ...]) -> list[FieldSpec]:
    """The requested fields, or the node's defaults."""
    return specs if specs is not None else [FieldSpec(n) for n in default]


def sub_select(value: Any, sub: list[FieldSpec] | None) -> Any:
    """Apply a nested ``{…}`` selection to a rendered value (objects, lists, ``data`` envelopes)."""
    if sub is None:
        return value
    if isinstance(value, list):
        return [sub_select(v, sub) for v in value]
    if isinstance(value, dict):
        if "data" in value and isinstance(value["data"], list):
            return {**value, "data": [sub_select(v, sub) for v in value["data"]]}
        out = {s.name: sub_select(value[s.name], s.sub) for s in sub if value.get(s.name) is not None}
        if "id" in value:
            out = {"id": value["id"], **out}
        return out
    return value


def pick(
    full: dict[str, Any],
    specs: list[FieldSpec],
    node: str,
    known: frozenset[str],
    edges: dict[str, Callable[[FieldSpec], Any]] | None = None,
) -> dict[str, Any]:
    """A node with the requested fields: ``full`` holds plain values (None: valid but absent),
    ``edges`` render connections such as ``comments`` from their spec; ``id`` always comes first."""
    out: dict[str, Any] = {}
    for spec in specs:
        if edges and spec.name in edges:
            value = edges[spec.name](spec)
        elif spec.name in full or spec.name in known:
            value = sub_select(full.get(spec.name), spec.sub)
        else:
            raise nonexisting_field(spec.name, node)
        if value is not None:
            out[spec.name] = value
    return {"id": full["id"], **{k: v for k, v in out.items() if k != "id"}}


# ---- paging -----------------------------------------------------------------------------------
def cursor_of(key: tuple[int, int]) -> str:
    return base64.b64encode(f"QVFI:{key[0]}:{key[1]}".encode()).decode().rstrip("=")


def key_of(cursor: str) -> tuple[int, int]:
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, a, b = text.split(":")
        if tag != "QVFI":
            raise ValueError(tag)
        return int(a), int(b)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphError("(#100) The after/before cursor is not valid", 100) from exc


def limit_of(req: Request, default: int = DEFAULT_LIMIT) -> int:
    raw = req.param("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise GraphError("(#100) Param limit must be a number", 100) from None
    if value < 0:
        raise GraphError("(#100) Param limit must be a non-negative number", 100)
    return min(value, MAX_LIMIT)


def time_param(req: Request, name: str) -> int | None:
    """``since``/``until`` as epoch milliseconds: Unix seconds or a strtotime-style ISO date."""
    raw = req.param(name)
    if not raw:
        return None
    if raw.lstrip("-").isdigit():
        return int(raw) * 1000
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise GraphError(f"(#100) The {name} parameter is not a valid time", 100) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class Paged(Protocol):
    """What a Graph edge pages by: the item's time and number (posts, comments, moderation list entries)."""

    @property
    def no(self) -> int: ...

    @property
    def created_ms(self) -> int: ...


def page_of(
    items: Sequence[Paged],
    req: Request,
    base: str,
    path: str,
    render: Callable[[Any], dict[str, Any]],
    *,
    default_limit: int = DEFAULT_LIMIT,
    descending: bool = True,
) -> dict[str, Any]:
    """One ``data`` + ``paging`` page of ``items`` (posts or comments, already in edge order)."""
    keys = [(it.created_ms, it.no) for it in items]
    limit = limit_of(req, default_limit)
    order = list(zip(keys, items, strict=True))

    def beyond(k: tuple[int, int], c: tuple[int, int]) -> bool:
        return k < c if descending else k > c

    after, before = req.param("after"), req.param("before")
    if after:
        mark = key_of(after)
        order = [(k, it) for k, it in order if beyond(k, mark)]
        window = order[:limit]
        more_after, more_before = len(order) > limit, True
    elif before:
        mark = key_of(before)
        order = [(k, it) for k, it in order if beyond(mark, k)]
        window = order[-limit:] if limit else []
        more_after, more_before = True, len(order) > limit
    else:
        window = order[:limit]
        more_after, more_before = len(order) > limit, False
    body: dict[str, Any] = {"data": [render(it) for _, it in window]}
    if not window:
        return body
    paging: dict[str, Any] = {"cursors": {"before": cursor_of(window[0][0]), "after": cursor_of(window[-1][0])}}
    query = [(k, v) for k, v in req.query if k not in ("after", "before", "access_token")]
    if more_before:
        paging["previous"] = f"{base}{path}?" + urlencode([*query, ("before", cursor_of(window[0][0]))])
    if more_after:
        paging["next"] = f"{base}{path}?" + urlencode([*query, ("after", cursor_of(window[-1][0]))])
    body["paging"] = paging
    return body


def nested_page(
    items: list[Comment],
    spec: FieldSpec,
    default_limit: int,
    render: Callable[[Comment], dict[str, Any]],
    next_url: Callable[[int, str], str],
) -> dict[str, Any]:
    """An edge rendered inside its node (``comments.limit(n){…}``, ``replies{…}``): the first ``limit``
    items with cursors, and a ``next`` (``next_url(limit, after)``) to the edge's own path when there are more."""
    try:
        limit = max(0, min(int(spec.mods.get("limit", default_limit)), MAX_LIMIT))
    except ValueError:
        raise GraphError("(#100) Param limit must be a number", 100) from None
    page = items[:limit]
    out: dict[str, Any] = {"data": [render(c) for c in page]}
    if page:
        after = cursor_of((page[-1].created_ms, page[-1].no))
        out["paging"] = {"cursors": {"before": cursor_of((page[0].created_ms, page[0].no)), "after": after}}
        if len(items) > limit:
            out["paging"]["next"] = next_url(limit, after)
    return out


# ---- the shared app ---------------------------------------------------------------------------
class GraphApp(PlatformApp):
    """A Graph API platform: token errors, BUC throttling and usage headers around ``route``."""

    buc_type: ClassVar[str] = "pages"
    buc_code: ClassVar[int] = 80001
    buc_message: ClassVar[str] = (
        "(#80001) There have been too many calls to this Page account. Wait a bit and try again."
    )

    def owner_id(self) -> str:
        raise NotImplementedError

    def _live_post(self, post: Post | None) -> bool:
        return post is not None and post.deleted_ms is None and post.created_ms <= self.model.clock.now_ms()

    def _request(self, sub: str, req: Request) -> tuple[str, str | None, list[FieldSpec] | None]:
        """``/{node}`` or ``/{node}/{edge}``, and the parsed ``fields=``."""
        parts = [p for p in sub.split("/") if p]
        if not parts or len(parts) > 2:
            raise GraphError(f"Unknown path components: {sub}", 2500)
        return parts[0], (parts[1] if len(parts) == 2 else None), parse_fields(req.param("fields"))

    def _timeline(self, req: Request, base: str, path: str, render: Callable[[Post], dict[str, Any]]) -> dict[str, Any]:
        """The account's visible posts, newest first, within ``since``/``until``."""
        since, until = time_param(req, "since"), time_param(req, "until")
        posts = self.model.visible_posts()
        if since is not None:
            posts = [p for p in posts if p.created_ms >= since]
        if until is not None:
            posts = [p for p in posts if p.created_ms <= until]
        return page_of(posts, req, base, path, render)

    def _number(self, *parts: object, digits: int = 15) -> int:
        """A stable numeric object id part."""
        value = int(hashlib.sha256("|".join(map(str, (self.model.seed, self.name, *parts))).encode()).hexdigest(), 16)
        low: int = 10 ** (digits - 1)  # int ** int is typed Any (a negative power is a float)
        return low + value % (9 * low)

    def _trace(self, *parts: object) -> str:
        digest = hashlib.sha256("|".join(map(str, (self.model.clock.now_ms(), *parts))).encode()).digest()
        return base64.b64encode(digest).decode()[:11].replace("+", "A").replace("/", "B")

    def usage_headers(self, percent: int, regain_minutes: int = 0) -> list[tuple[str, str]]:
        app = {"call_count": percent, "total_cputime": percent // 3, "total_time": percent // 2}
        buc = {
            self.owner_id(): [
                {
                    "type": self.buc_type,
                    "call_count": percent,
                    "total_cputime": percent // 3,
                    "total_time": percent // 2,
                    "estimated_time_to_regain_access": regain_minutes,
                }
            ]
        }
        return [
            ("X-App-Usage", json.dumps(app, separators=(",", ":"))),
            ("X-Business-Use-Case-Usage", json.dumps(buc, separators=(",", ":"))),
        ]

    def graph_error(self, err: GraphError) -> Response:
        body: dict[str, Any] = {"message": err.message, "type": err.kind, "code": err.code}
        if err.subcode is not None:
            body["error_subcode"] = err.subcode
        body["is_transient"] = err.transient
        body["fbtrace_id"] = self._trace(err.code, err.message)
        headers = list(err.headers)
        if err.code in (104, 190):
            headers.append(("WWW-Authenticate", f'OAuth "Facebook Platform" "invalid_token" "{err.message}"'))
        return json_response(err.status, graph_json({"error": body}), content_type=CT, headers=headers)

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        if status == 429:  # an injected throttle: Graph's body and BUC header (status as the harness asks)
            minutes = max(1, math.ceil((retry_after or 60) / 60))
            return self.graph_error(
                GraphError(
                    "(#4) Application request limit reached",
                    4,
                    status=429,
                    transient=True,
                    headers=self.usage_headers(100, minutes),
                )
            )
        if status == 401:
            return self.graph_error(GraphError("Error validating access token: Session has expired.", 190, subcode=463))
        if status >= 500:
            if status == 503:
                err = GraphError("(#2) Service temporarily unavailable", 2, status=status, transient=True)
            else:
                err = GraphError("An unknown error has occurred.", 1, status=status, transient=True)
            return self.graph_error(err)
        return self.graph_error(GraphError(message, 100, status=status))

    def handle(self, sub: str, req: Request, base: str) -> Response:
        if sub.startswith("/media/t"):
            return self._thumb(sub)
        if sub.startswith("/media/"):
            return self._media(sub)
        if self.model.token is not None:
            credential = self._credential(req)
            if credential is None:
                return self.graph_error(GraphError("An access token is required to request this resource.", 104))
            if credential != self.model.token:
                return self.graph_error(GraphError("Invalid OAuth access token - Cannot parse access token", 190))
        allowed, limits = self.rate.hit(self.name)
        remaining = int(dict(limits).get("X-RateLimit-Remaining", "0"))
        percent = min(100, math.ceil(100 * (self.rate.limit - remaining) / max(self.rate.limit, 1)))
        if not allowed:
            window_ms = self.rate.period * 1000
            now = self.rate._clock()
            minutes = max(1, math.ceil((window_ms - now % window_ms) / 60_000))
            return self.graph_error(
                GraphError(self.buc_message, self.buc_code, transient=True, headers=self.usage_headers(100, minutes))
            )
        if req.method != "GET":
            resp = self.graph_error(
                GraphError("(#3) Application does not have the capability to make this API call.", 3)
            )
        else:
            try:
                resp = self.route(sub, req, base)
            except GraphError as err:
                resp = self.graph_error(err)
        resp.headers += self.usage_headers(percent)
        return resp

    def ok(self, body: dict[str, Any]) -> Response:
        return json_response(200, graph_json(body), content_type=CT)

    def thumb_url(self, base: str, no: int) -> str:
        return f"{base}/media/t{no}.jpg"

    def _thumb(self, sub: str) -> Response:
        stem = sub[len("/media/t") :].split(".", 1)[0]
        if not stem.isdigit():
            return Response(404, b"Not Found", [("Content-Type", "text/plain")])
        blob = image("jpeg", 64, 48, mix(self.model.seed, self.name, "thumb", int(stem)))
        return Response(
            200,
            headers=[("Content-Type", blob.content_type), ("Cache-Control", "max-age=31536000")],
            chunks=blob.chunks(),
            length=blob.length,
        )
