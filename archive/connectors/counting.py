"""Published counts read from a platform's answers, the same way on every platform.

A count is evidence only when the platform wrote it as a count: a non-negative integer, or the
digit string YouTube and Flickr send. Anything else (null, a negative number, a float, text) is
not a count, so none is handed over, and the item itself is parsed and kept as usual: a strange
count must never cost a record. Where a count sits in a response is the connector's business;
what it hands over is a `PublishedCount` on the bundle of that very response (schemas/completeness.py),
which the pipeline later ties to the WARC record the response went to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from schemas import CaptureBundle, CountOf, Covers, PublishedCount

from ..bundles import Rejected, encoded
from ..errors import GaveUp, PayloadInvalid
from .base import HarvestContext
from .http import Fetched
from .listing import reason_at
from .times import iso


def number(value: Any) -> int | None:
    """The value as a count: an int ≥ 0 or a string of ASCII digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def dig(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]…`, None as soon as a step is not an object holding the key."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def total(what: CountOf, value: Any, detail: str | None = None) -> list[PublishedCount]:
    """An account total, as a list of none or one (so a bundle's `counts` can be built by adding)."""
    n = number(value)
    return [] if n is None else [PublishedCount(what=what, value=n, detail=detail)]


def published_time(value: Any, parse: Callable[[Any], datetime | None] = iso) -> datetime | None:
    """When the counted item was published, None when the platform's time cannot be read: the count is
    still kept (the item's own record is quarantined or kept on its own terms)."""
    try:
        return parse(value)
    except (TypeError, ValueError, AttributeError):
        return None


def per_item(
    items: Iterable[tuple[Any, Any, datetime | None]], covers: Covers, what: CountOf = CountOf.COMMENTS
) -> list[PublishedCount]:
    """(item id, count value, published) → the per-item counts of those whose id and value are readable."""
    out = []
    for item_id, value, published in items:
        n = number(value)
        if n is None or item_id is None or isinstance(item_id, (dict, list, bool)) or str(item_id) == "":
            continue
        out.append(PublishedCount(what=what, value=n, item_id=str(item_id), item_published_at=published, covers=covers))
    return out


def profile_of(fetched: Fetched, counts: list[PublishedCount]) -> CaptureBundle | Rejected:
    """The account's profile as a bundle of its own: the response kept, no records, its totals. A profile
    without a readable total is quarantined with that reason (a bundle of nothing would pass for an
    empty listing page)."""
    if not counts:
        return Rejected(
            fetched.capture.body, reason_at("account profile without a readable total", fetched.capture.url)
        )
    return CaptureBundle(capture=fetched.capture, records=[], counts=counts)


def profile(
    ctx: HarvestContext,
    url: str,
    params: dict[str, str] | None,
    counts_of: Callable[[Any], list[PublishedCount]],
    get: Callable[[str, dict[str, str] | None], Fetched] | None = None,
) -> CaptureBundle | Rejected:
    """One profile request for the account's totals (by `get`, the connector's own when its platform
    hides errors in 200s or 400s). A profile that cannot be read costs this run its totals, not the run:
    the failure is quarantined with its reason and the listings go on."""
    try:
        fetched = get(url, params) if get else ctx.fetcher.get(url, params=params)
        body = fetched.json()
    except (GaveUp, PayloadInvalid) as exc:
        return Rejected(encoded(url), f"account profile (its published totals): {exc}")
    return profile_of(fetched, counts_of(body))
