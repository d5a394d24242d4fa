"""Fault injection and Mastodon's rate limiter.

A fault rule answers the next ``count`` matching requests (``None``: forever) in place of the
platform: an HTTP error (429 with the platform's headers and ``Retry-After``, 500/502/503), a delay,
a malformed body (truncated JSON, wrong types, an HTML error page, an empty body) or a dropped
connection, a ``drop`` (the platform's own answer with one listed item left out, ``item`` naming it or
the last one: a listing that misses a comment once, as eventually consistent APIs do, for the
completeness tests), or a ``poison`` answer (``simulator/poison.py``: deep JSON, endless bodies, broken
encodings, lying lengths, XML entity bombs). Rules match on platform, path prefix, a path
substring, account, method and a query substring; the first active match wins. With ``echo`` the answer (the fault's
or the platform's own) also repeats the request's full URL, query and credential included, as
debug fields and error pages of some platforms do (``request_url`` first in a JSON object, a line
before any other body).

The rate limiter is Mastodon's rack-attack throttle: fixed windows aligned to the epoch
(``period``), counted per token or, without one, per client IP; ``X-RateLimit-Reset`` is the end of
the window as ISO 8601 with microseconds (``now + (period − now % period)`` in Ruby, so the
fraction of the current second carries over, e.g. ``2020-09-08T13:25:00.019685Z``). Windows use
wall-clock time by default so a harvester that sleeps until the reset is let through; pass
``clock`` to drive them by hand in tests. Mastodon's own 429 carries no ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import iso_micro
from .platform_names import NAMES

KINDS = ("status", "rate_limit", "slow", "malformed", "disconnect", "poison", "drop")
VARIANTS = ("truncated", "wrong_types", "html", "empty")


class FaultError(ValueError):
    """A fault event that does not make sense."""


@dataclass
class FaultRule:
    """One injected fault; see the module docstring for kinds."""

    kind: str
    count: int | None = 1
    status: int = 500
    retry_after: int | None = None
    delay: float = 0.0
    variant: str = "truncated"
    platform: str | None = None
    path_prefix: str | None = None
    account: str | None = None
    method: str | None = None
    query: str | None = None  # a substring of the raw query string (``paged=2``)
    path_contains: str | None = None  # a substring of the path (``/blocking``, whatever the user id before it)
    size: int | None = None  # bytes a streamed poison serves
    echo: bool = False  # the answer repeats the request's URL (query and key included)
    item: str | None = None  # a `drop` leaves out the listed item with this id (None: the last one listed)
    dropped: list[str] = field(default_factory=list)  # the ids a `drop` left out, in order
    hits: int = field(default=0)
    sent: int = field(default=0)  # body bytes the server wrote for this rule's poison answers
    _sent_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_sent(self, n: int) -> None:
        """Add bytes written for this rule (called by the server thread as it writes)."""
        with self._sent_lock:
            self.sent += n

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> FaultRule:
        """Build from a timeline ``fault`` event."""
        kind = event.get("kind", "status")
        if kind not in KINDS:
            raise FaultError(f"fault kind must be one of {', '.join(KINDS)}")
        match = event.get("match") or {}
        rule = cls(
            kind=kind,
            count=event.get("count", 1),
            status=int(event.get("status", 429 if kind == "rate_limit" else 500)),
            retry_after=event.get("retry_after"),
            delay=float(event.get("delay", 0)),
            variant=event.get("variant", "truncated"),
            platform=match.get("platform"),
            path_prefix=match.get("path_prefix"),
            account=match.get("account"),
            method=match.get("method"),
            query=match.get("query"),
            path_contains=match.get("path_contains"),
            size=int(event["size"]) if event.get("size") is not None else None,
            echo=bool(event.get("echo", False)),
            item=str(event["item"]) if event.get("item") is not None else None,
        )
        from .poison import POISONS

        if kind == "poison" and rule.variant not in POISONS:
            raise FaultError(f"poison variant must be one of {', '.join(POISONS)}")
        if kind != "poison" and rule.variant not in VARIANTS:
            raise FaultError(f"malformed variant must be one of {', '.join(VARIANTS)}")
        if rule.platform not in (None, "mastodon", "wordpress", *NAMES):
            raise FaultError(f"match.platform must be one of mastodon, wordpress, {', '.join(NAMES)}")
        if kind == "rate_limit" and rule.retry_after is None:
            rule.retry_after = 1
        return rule

    def matches(self, platform: str, path: str, account: str | None, method: str, query: str = "") -> bool:
        """Whether this rule applies to a request."""
        return (
            (self.count is None or self.count > 0)
            and (self.platform is None or self.platform == platform)
            and (self.path_prefix is None or path.startswith(self.path_prefix))
            and (self.account is None or self.account == account)
            and (self.method is None or self.method.upper() == method)
            and (self.query is None or self.query in query)
            and (self.path_contains is None or self.path_contains in path)
        )

    def describe(self) -> dict[str, Any]:
        """The rule as JSON for the control API."""
        return {
            "kind": self.kind,
            "count": self.count,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "variant": self.variant,
            "hits": self.hits,
            "size": self.size,
            "sent": self.sent,
            "echo": self.echo,
            "item": self.item,
            "dropped": list(self.dropped),
            "match": {
                "platform": self.platform,
                "path_prefix": self.path_prefix,
                "account": self.account,
                "method": self.method,
                "query": self.query,
                "path_contains": self.path_contains,
            },
        }


#: Where a listing keeps its items: a JSON list itself, or one of these members of an object (Mastodon's
#: `/context`, Graph's `data`, YouTube's and the others' `items`, Bluesky's `feed` and `replies`).
_LISTS = ("descendants", "data", "items", "feed", "replies", "comments", "posts", "results")


def drop_item(obj: Any, item: str | None) -> tuple[Any, str | None]:
    """`obj` (a parsed listing) without the item whose `id` is `item` (None: the last listed item), and the
    id left out; (obj, None) when there was nothing to leave out."""
    holders: list[tuple[Any, str | None]] = [(obj, None)] if isinstance(obj, list) else []
    if isinstance(obj, dict):
        holders += [(obj[k], k) for k in _LISTS if isinstance(obj.get(k), list)]
    for listed, key in holders:
        ids = [str(x.get("id")) if isinstance(x, dict) else None for x in listed]
        at = (len(listed) - 1 if listed else None) if item is None else (ids.index(item) if item in ids else None)
        if at is None:
            continue
        kept = listed[:at] + listed[at + 1 :]
        return (kept if key is None else {**obj, key: kept}), ids[at]
    return obj, None


class FaultInjector:
    """The active fault rules, consumed as requests match them."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        """Queue a rule behind the existing ones."""
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, platform: str, path: str, account: str | None, method: str, query: str = "") -> FaultRule | None:
        """The first matching rule, with one use consumed."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(platform, path, account, method, query):
                    if rule.count is not None:
                        rule.count -= 1
                    rule.hits += 1
                    return rule
            return None

    def added(self) -> list[FaultRule]:
        """Every rule added since the last ``clear``, used up or not (tests read ``hits`` and ``sent``)."""
        with self._lock:
            return list(self._rules)

    def describe(self) -> list[dict[str, Any]]:
        """Rules still active."""
        with self._lock:
            return [r.describe() for r in self._rules if r.count is None or r.count > 0]


class RateLimiter:
    """Fixed-window request counting per key, as Mastodon's rack-attack throttle."""

    def __init__(self, limit: int = 300, period: int = 300, clock: Callable[[], int] | None = None) -> None:
        self.limit, self.period = limit, period
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, list[tuple[str, str]]]:
        """Count one request; returns (allowed, the X-RateLimit-* headers to send)."""
        now = self._clock()
        window = now // (self.period * 1000)
        with self._lock:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        reset = (window + 1) * self.period * 1000 + now % 1000  # rack-attack keeps now's fraction of a second
        headers = [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(max(self.limit - count, 0))),
            ("X-RateLimit-Reset", iso_micro(reset)),
        ]
        return count <= self.limit, headers

    def exhausted_headers(self) -> list[tuple[str, str]]:
        """Headers of an injected 429: nothing remaining, reset at the end of this window."""
        now = self._clock()
        reset = (now // (self.period * 1000) + 1) * self.period * 1000 + now % 1000
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", iso_micro(reset)),
        ]
