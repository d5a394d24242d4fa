"""One listing page → records, the same way on every platform.

Every item on a page is parsed on its own: an item the connector cannot read is quarantined
with the reason and the rest of the page is archived. Media the records show are fetched
before the page's bundle, so the records can carry the SHA-256 of the archived files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from schemas import CaptureBundle, PublishedCount, Record

from ..bundles import Rejected
from ..errors import PayloadInvalid
from .base import HarvestContext
from .http import Fetched, without_query
from .media import fetch_media, with_digests

#: What parsing an unexpected item raises; anything else is a bug and should surface.
ITEM_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, ValidationError)
#: What `listed` raises for a page that cannot be read.
PAGE_ERRORS = (PayloadInvalid, KeyError, TypeError)


def raw_of(item: Any) -> bytes:
    """The item's bytes for the quarantine."""
    if isinstance(item, bytes):
        return item
    try:
        return json.dumps(item, ensure_ascii=False).encode()
    except (TypeError, ValueError):
        return repr(item).encode()


def cause(exc: BaseException) -> str:
    """Why an item could not be read, on one line (a pydantic error spans several): its first error."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or exc.title
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{exc.title}.{where}: {err['msg']}{more}"
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


#: The longest quarantine reason: one line a person reads, and what the state and the index keep.
REASON_LIMIT = 400


def reason_at(why: str, url: str, limit: int = REASON_LIMIT) -> str:
    """A quarantine reason that leads with the cause and ends with where: `why` first, then the URL,
    which is what gets shortened (an X or Instagram request URL alone can pass the limit, and a
    reason cut before its cause tells nobody anything). A message that already names the URL (the
    fetcher's `{url}: response is not JSON`) is not made to name it twice."""
    for named in {url, without_query(url)}:
        why = why.replace(f"{named}: ", "")
    why = " ".join(why.split())
    room = limit - len(why) - 3
    if room < 24:
        return why[:limit]
    return f"{why} — {url if len(url) <= room else url[: room - 1] + '…'}"


def writable(record: Record) -> Record:
    """The record, once its content hash and JSON are known to compute. Text a platform sent that
    cannot be written as UTF-8 (a lone surrogate, escaped in its JSON) fails here, per item, as the
    ValueError its page's loop quarantines, not where the pipeline writes it and the run would stop."""
    record.to_json_bytes()
    _ = record.content_sha256
    return record


def page_bundles(
    ctx: HarvestContext,
    fetched: Fetched,
    items: Iterable[Any],
    build: Callable[[Any, Fetched], list[Record]],
    *,
    what: str = "item",
    counts: Sequence[PublishedCount] = (),
) -> Iterator[CaptureBundle | Rejected]:
    """Records built from each item by `build(item, fetched)` (several, or none), media, then the page
    (with the `counts` the platform published on it)."""
    records: list[Record] = []
    bad: list[Rejected] = []
    for item in items:
        try:
            built = [writable(r) for r in build(item, fetched)]
        except ITEM_ERRORS as exc:
            reason = reason_at(f"unreadable {what} ({cause(exc)})", fetched.capture.url)
            bad.append(Rejected(raw_of(item), reason))
            continue
        for record in built:
            records.append(record)
            ctx.seen.add(record.item_id)
    yield from fetch_media(ctx, [m for r in records for m in r.media])
    records = [r.model_copy(update={"media": with_digests(ctx, r.media)}) if r.media else r for r in records]
    yield from bad
    yield CaptureBundle(capture=fetched.capture, records=records, counts=list(counts))


def field_of(fetched: Fetched, key: str) -> Any:
    """One key of a response's JSON object; PayloadInvalid when the body is not what the API documents."""
    body = fetched.json()
    if not isinstance(body, dict) or key not in body:
        raise PayloadInvalid(f"{fetched.capture.url}: expected an object with {key!r}")
    return body[key]


def required(fetched: Fetched, body: Any, *path: str) -> str:
    """The value at `path` in a lookup's body (an account id, a DID) as a string; PayloadInvalid when it
    is absent or not a plain value, so a bad answer ends the run with a one-line error, not a TypeError."""
    value = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise PayloadInvalid(f"{fetched.capture.url}: expected {'.'.join(path)!r} in the answer")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise PayloadInvalid(f"{fetched.capture.url}: {'.'.join(path)} is not an id: {raw_of(value)[:60]!r}")
    return str(value)


def listed(fetched: Fetched, key: str) -> tuple[Any, list[Any]]:
    """A listing page's decoded body and the list of items under `key`; raises one of `PAGE_ERRORS`
    when the page is not what the API documents (not JSON, no `key`, not a list)."""
    items = field_of(fetched, key)
    if not isinstance(items, list):
        raise TypeError(f"{key} is not a list")
    return fetched.json(), items


def rejected_page(ctx: HarvestContext, fetched: Fetched, reason: str) -> Rejected:
    """A listing page that cannot be read at all: quarantined, and the cursor stays put."""
    ctx.incomplete = True
    return Rejected(fetched.capture.body, reason_at(reason, fetched.capture.url))
