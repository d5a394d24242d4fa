"""The bookkeeping of a newest-first listing walk, the same on every platform that lists that way.

Bluesky, Facebook, Instagram, X, TikTok, LinkedIn, YouTube and Flickr all read a listing newest
first and do the same four things with each item: advance the `newest` watermark (saved in the
cursor for the next run), decide with `ctx.wants_thread` whether to read its comments (new to the
archive, inside the look-back window, or its activity marker changed), and note when the walk has
gone past both the newest item of the last run and the window — where it stops, unless the run is
a sweep, which walks the whole listing to read every old post's marker. Written out eight times,
those conditions drifted apart in small ways; `Walk` keeps them in one place. What a listing is
ordered by (an ISO string, a snowflake id, epoch seconds or milliseconds, a datetime) stays the
connector's choice: `Walk` only compares keys of one kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from schemas import CaptureBundle

from ..bundles import Rejected, encoded
from ..errors import GaveUp, PayloadInvalid
from .base import HarvestContext
from .times import epoch, iso

#: A listing's order key: what the watermark in the cursor is made of.
K = TypeVar("K", str, int, datetime)


@dataclass
class Walk(Generic[K]):
    """One run's walk down a newest-first listing: the watermark, comment decisions, where to stop."""

    ctx: HarvestContext
    before: K | None
    """The newest key the last run saw (from the cursor), None on a first run."""
    newest: K | None = field(init=False)
    """The newest key seen so far (the last run's until something newer is seen): the next cursor."""
    past: bool = field(default=False, init=False)
    """An item at or below `before` and older than the look-back window was seen."""

    def __post_init__(self) -> None:
        self.newest = self.before

    def advance(self, key: K) -> None:
        """Move the watermark up to `key` (and never down)."""
        self.newest = key if self.newest is None else max(self.newest, key)

    def see(
        self, key: K | None, moment: datetime | None, item_id: str | None = None, marker: str | None = None
    ) -> bool:
        """Note an item listed at `key` (None: unreadable, the watermark does not move) from `moment`;
        with `item_id`, whether to read its comments this run (`ctx.wants_thread`, which records `marker`)."""
        if key is not None:
            self.advance(key)
            if self.before is not None and key <= self.before and moment is not None and moment < self.ctx.window_start:
                self.past = True
        return item_id is not None and self.ctx.wants_thread(item_id, moment, marker)

    @property
    def done(self) -> bool:
        """Past both the last run's newest item and the window, and not sweeping: stop after this page."""
        return self.past and not self.ctx.sweep


def iso_or_none(value: Any) -> datetime | None:
    """A listing item's ISO timestamp; None when absent or malformed (page_bundles quarantines such an
    item with the reason, and its comments are still read)."""
    try:
        return iso(value) if isinstance(value, str) else None
    except ValueError:
        return None


def epoch_or_none(value: Any, *, millis: bool = False) -> datetime | None:
    """A listing item's epoch timestamp; None when absent, negative or out of range (as `iso_or_none`)."""
    try:
        return epoch(value, millis=millis) if isinstance(value, (str, int, float)) else None
    except ValueError:
        return None


def read_threads(
    ctx: HarvestContext, item_ids: Iterable[str], read: Callable[[str], Iterator[CaptureBundle | Rejected]], label: str
) -> Iterator[CaptureBundle | Rejected]:
    """The comments of each item by `read(item_id)`; a thread that fails (`GaveUp`, `PayloadInvalid`) is
    quarantined as `label.format(item_id)` and keeps its old marker, so the next run reads it again."""
    for item_id in item_ids:
        try:
            yield from read(item_id)
        except (GaveUp, PayloadInvalid) as exc:
            ctx.keep_marker(item_id)
            yield Rejected(encoded(item_id), f"{label.format(item_id)}: {exc}")
