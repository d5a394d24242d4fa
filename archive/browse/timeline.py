"""Activity over time: an account's items per day or week, and one item's captures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..index import RecordIndex, SearchQuery
from ..index.client import translate
from ..index.search import build_filters

Interval = Literal["day", "week", "month"]


@dataclass(frozen=True)
class TimelineBucket:
    start: str
    #: kind → number of items published in the bucket
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def account_timeline(index: RecordIndex, account: str, *, interval: Interval = "week",
                     public_only: bool = False) -> list[TimelineBucket]:
    """Items (latest versions) published per `interval`, split by kind, oldest first; empty periods kept."""
    filters = build_filters(SearchQuery(account=account, latest_only=True, public_only=public_only))
    with translate("timeline"):
        resp = index.es.search(
            index=index.alias, size=0, query={"bool": {"filter": filters}},
            aggs={"t": {"date_histogram": {"field": "published_at", "calendar_interval": interval,
                                           "format": "yyyy-MM-dd", "min_doc_count": 0},
                        "aggs": {"kind": {"terms": {"field": "kind", "size": 10}}}}},
        )
    buckets: list[dict[str, Any]] = resp["aggregations"]["t"]["buckets"]
    return [TimelineBucket(b["key_as_string"], {k["key"]: int(k["doc_count"]) for k in b["kind"]["buckets"]})
            for b in buckets]


def item_captures(versions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(time, what) for each capture that recorded a change of the item, and its last sighting."""
    events = [(str(v["captured_at"]), "deleted" if v.get("deleted") else f"version {v.get('version', 1)}")
              for v in versions]
    last_seen = next((v.get("last_seen_at") for v in versions if v.get("deleted") and v.get("last_seen_at")), None)
    if last_seen:
        events.append((str(last_seen), "last seen"))
    return sorted(events)
