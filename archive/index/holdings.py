"""What the archive holds of an account, counted the way a platform counts: the completeness questions.

Only the latest version of each item counts, and a tombstone (an item the archive saw deleted) does
not: the platform's counts are of what it shows now. None of them answers for a missing index: the
caller asks `RecordIndex.exists()` once, so a transient answer can never turn into a batch of zeros
(a gap that is not there) halfway through a report. Three questions, each bounded however large
the account is:

- `holdings_of`: for up to `BATCH` items (those the platform published a count for), each item's own
  latest version and the comments archived under it, direct (`parent_id`) and in its whole thread
  (`thread_id`): one request per batch, so a report walks the published counts a batch at a time;
- `own_posts_per_month`: the account's own posts per month of publication (one aggregation);
- `count_selected`: the items an account total counts (one request with a filter per total).

Why not one composite aggregation over every parent: most comment parents carry no published count
(a reply to a reply, a boosted status), so paging through all of them reads far more buckets than the
counts there are to compare; asking for exactly the counted items is one request per thousand counts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import SearchIndexError
from .client import translate
from .indexer import RecordIndex

#: Items per request (a terms query or terms aggregation of at most this many keys).
BATCH = 1000
#: Fields read of a counted item's own version.
_FIELDS = ["item_id", "kind", "direction", "parent_id", "published_at", "first_seen_at", "deleted", "url", "repost_of"]


@dataclass(frozen=True)
class Selector:
    """Which archived items an account total counts (a platform's `statuses_count` counts the account's
    own replies and boosts; WordPress's posts total counts posts only): plain values, made a query here."""

    kinds: tuple[str, ...]
    direction: str | None = None
    exclude_reposts: bool = False
    exclude_hidden: bool = False


@dataclass(frozen=True)
class ItemHolding:
    """One counted item as the archive holds it: its latest version (None if never archived) and its comments."""

    item_id: str
    archived: bool
    kind: str | None = None
    direction: str | None = None
    parent_id: str | None = None
    published_at: datetime | None = None
    first_seen_at: datetime | None = None
    """When the archive first captured the item (every version carries its first's)."""
    deleted: bool = False
    url: str | None = None
    repost: bool = False
    """A boost, retweet or share: the account's act, whose comments are the original's."""
    children: int = 0
    """Live comments whose `parent_id` is the item: its direct replies."""
    thread: int = 0
    """Live comments and replies whose `thread_id` is the item: everything under it."""


_REPOST = {"exists": {"field": "repost_of"}}


def _live(account: str) -> list[dict[str, Any]]:
    return [{"term": {"account": account}}, {"term": {"is_latest": True}}, {"term": {"deleted": False}}]


def holdings_of(
    index: RecordIndex, account: str, item_ids: Sequence[str], *, children: bool = True, thread: bool = True
) -> dict[str, ItemHolding]:
    """Each of `item_ids` (at most `BATCH`) as the archive holds it, with its live comments counted: its
    direct replies if `children`, everything under it if `thread` (what no count in the batch covers is
    not asked for)."""
    ids = list(dict.fromkeys(item_ids))
    if len(ids) > BATCH:
        raise ValueError(f"at most {BATCH} items per request, not {len(ids)}")
    if not ids:
        return {}
    under = {"exists": {"field": "parent_id"}}  # the top post of a thread carries its own id as thread_id
    own_query = {
        "bool": {"filter": [{"term": {"account": account}}, {"term": {"is_latest": True}}, {"terms": {"item_id": ids}}]}
    }
    # One round trip, three searches, each narrowed by its query to the few documents it counts (an
    # aggregation beside the items' own search would run over the whole account instead).
    searches: list[dict[str, Any]] = [
        {"index": index.alias},
        {"query": own_query, "size": len(ids), "_source": _FIELDS, "track_total_hits": False},
    ]
    for wanted, field, extra in ((children, "parent_id", []), (thread, "thread_id", [under])):
        if wanted:
            searches += [
                {"index": index.alias},
                {
                    "query": {"bool": {"filter": [*_live(account), *extra, {"terms": {field: ids}}]}},
                    "size": 0,
                    "track_total_hits": False,
                    "aggs": {"by": {"terms": {"field": field, "size": len(ids)}}},
                },
            ]
    answers = _msearch(index, searches)
    counted = iter(answers[1:])
    direct = _buckets(next(counted)) if children else {}
    under_it = _buckets(next(counted)) if thread else {}
    resp = answers[0]
    own: dict[str, dict[str, Any]] = {str(h["_source"]["item_id"]): h["_source"] for h in resp["hits"]["hits"]}
    out = {}
    for item_id in ids:
        src = own.get(item_id)
        out[item_id] = ItemHolding(
            item_id,
            archived=src is not None,
            kind=src.get("kind") if src else None,
            direction=src.get("direction") if src else None,
            parent_id=src.get("parent_id") if src else None,
            published_at=_date(src.get("published_at")) if src else None,
            first_seen_at=_date(src.get("first_seen_at")) if src else None,
            deleted=bool(src.get("deleted")) if src else False,
            url=src.get("url") if src else None,
            repost=bool(src.get("repost_of")) if src else False,
            children=direct.get(item_id, 0),
            thread=under_it.get(item_id, 0),
        )
    return out


#: Tries of a batch whose searches Elasticsearch turned away as too busy (429 per search in an msearch).
BUSY_TRIES = 5


def _msearch(index: RecordIndex, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers, each whole. A partial answer would undercount (a gap that is not there), so it is an
    error; a search refused because the node was busy is asked again, a few times, with a short pause."""
    for attempt in range(BUSY_TRIES):
        with translate("count the archived comments of counted items"):
            answers: list[dict[str, Any]] = index._es.msearch(searches=searches)["responses"]
        busy = [a for a in answers if a.get("status") == 429]
        if busy and attempt + 1 < BUSY_TRIES:
            time.sleep(0.2 * 2**attempt)
            continue
        for answer in answers:
            _whole(answer, "count the archived comments")
        return answers
    raise AssertionError("unreachable")


def _whole(answer: Mapping[str, Any], what: str) -> None:
    """Refuse a partial answer: an error, a failed shard or a timeout would count too few."""
    failed = answer.get("_shards", {}).get("failed", 0)
    if "error" in answer or failed or answer.get("timed_out"):
        why = answer.get("error") or (f"{failed} shard(s) failed" if failed else "timed out")
        raise SearchIndexError(f"Elasticsearch could not {what}: {str(why)[:300]}")


def _buckets(answer: dict[str, Any]) -> dict[str, int]:
    return {str(b["key"]): int(b["doc_count"]) for b in answer["aggregations"]["by"]["buckets"]}


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def own_posts_per_month(index: RecordIndex, account: str, *, month: str | None = None) -> dict[str, int]:
    """YYYY-MM (UTC) → the account's own live top-level posts published in it (not its boosts, retweets or
    shares: their comments are the original's, and platforms publish no count for them); 'undated' for
    those without a publication time. `month` narrows it to one month."""
    filters = [*_live(account), {"term": {"direction": "upprattad"}}, {"term": {"kind": "post"}}]
    if month is not None:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        filters.append({"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}})
    aggs: dict[str, Any] = {
        "months": {
            "date_histogram": {
                "field": "published_at",
                "calendar_interval": "month",
                "format": "yyyy-MM",
                "time_zone": "UTC",
                "min_doc_count": 1,
            }
        },
        "undated": {"missing": {"field": "published_at"}},
    }
    with translate("count the account's posts per month"):
        resp = index._es.search(
            index=index.alias,
            size=0,
            query={"bool": {"filter": filters, "must_not": [_REPOST]}},
            aggs=aggs,
            allow_partial_search_results=False,
        )
    _whole(resp.body, "count the account's posts per month")
    out = {str(b["key_as_string"]): int(b["doc_count"]) for b in resp["aggregations"]["months"]["buckets"]}
    undated = int(resp["aggregations"]["undated"]["doc_count"])
    if undated:
        out["undated"] = undated
    return out


def _selected(selector: Selector) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"terms": {"kind": list(selector.kinds)}}]
    if selector.direction is not None:
        filters.append({"term": {"direction": selector.direction}})
    if selector.exclude_hidden:
        filters.append({"term": {"hidden_on_platform": False}})
    must_not = [_REPOST] if selector.exclude_reposts else []
    return {"bool": {"filter": filters, "must_not": must_not}}


def count_selected(index: RecordIndex, account: str, selectors: Mapping[str, Selector]) -> dict[str, int]:
    """name → how many live items of the account `selectors[name]` selects (one request for all)."""
    if not selectors:
        return {}
    aggs = {"by": {"filters": {"filters": {name: _selected(s) for name, s in selectors.items()}}}}
    with translate("count the account's archived items"):
        resp = index._es.search(
            index=index.alias,
            size=0,
            query={"bool": {"filter": _live(account)}},
            aggs=aggs,
            allow_partial_search_results=False,
        )
    _whole(resp.body, "count the account's archived items")
    buckets = resp["aggregations"]["by"]["buckets"]
    return {name: int(buckets[name]["doc_count"]) for name in selectors}
