"""Activity over time: an account's items per day or week, and one item's captures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..index import RecordIndex, SearchQuery, queries
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


def account_timeline(
    index: RecordIndex, account: str, *, interval: Interval = "week", public_only: bool = False
) -> list[TimelineBucket]:
    """Items (latest versions) published per `interval`, split by kind, oldest first; empty periods kept."""
    filters = build_filters(SearchQuery(account=account, latest_only=True, public_only=public_only))
    return [TimelineBucket(start, counts) for start, counts in queries.published_histogram(index, filters, interval)]


def item_captures(versions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(time, what) for each capture that recorded a change of the item, and its last sighting."""
    events = [
        (str(v["captured_at"]), "deleted" if v.get("deleted") else f"version {v.get('version', 1)}") for v in versions
    ]
    last_seen = next((v.get("last_seen_at") for v in versions if v.get("deleted") and v.get("last_seen_at")), None)
    if last_seen:
        events.append((str(last_seen), "last seen"))
    return sorted(events)
