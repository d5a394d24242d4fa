"""The connector contract: an Account and its saved state in, capture bundles out.

A connector reads one platform. It yields CaptureBundles (the raw exchange and the records
parsed from it) and Rejected items (what it could not parse, with why), and leaves its new
watermarks in `ctx.cursor`. It never writes WARC, storage or the index: the harvest service
does, and saves the cursor only after everything yielded is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from schemas import Account, CaptureBundle, HarvestState, KnownItem

from ..bundles import Rejected
from .http import Fetcher


@dataclass
class HarvestContext:
    """What a connector gets for one run."""

    account: Account
    state: HarvestState
    fetcher: Fetcher
    now: datetime
    lookback: timedelta = timedelta(days=30)
    media_max_bytes: int = 100 * 1024 * 1024
    cursor: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    """Item ids the platform listed this run (deletion detection compares with the known ones)."""
    media: dict[str, str] = field(default_factory=dict)
    """Media URLs archived this run → SHA-256."""
    incomplete: bool = False
    """A listing page could not be read: the cursor must not move past it."""

    @property
    def window_start(self) -> datetime:
        return self.now - self.lookback


class Connector(Protocol):
    """One platform."""

    platform: str

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """Yield every capture of this run; set `ctx.cursor` to the new watermarks."""
        ...

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        """Ask the platform for an item missing from this run's listings; a bundle holding the
        404/410 capture and a tombstone record if it is gone, None if it still exists."""
        ...
