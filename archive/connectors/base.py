"""The connector contract: an Account and its saved state in, capture bundles out.

A connector reads one platform. It yields CaptureBundles (the raw exchange and the records
parsed from it) and Rejected items (what it could not parse, with why), and leaves its new
watermarks in `ctx.cursor`. It never writes WARC, storage or the index: the harvest service
does, and saves the cursor only after everything yielded is stored.

Each connector also declares its `Capabilities`: what its platform's API lets it capture.
docs/platforms.md renders them (a test keeps the two equal), because that table is what a
municipality reads before trusting the archive with a channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, MutableSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

import httpx

from schemas import Account, CaptureBundle, CountOf, Covers, HarvestState, KnownItem, Record

from ..bundles import Rejected
from .http import Fetched, Fetcher


class ItemLookup(Protocol):
    """What earlier runs archived, asked item by item: the harvest answers from its table
    (archive/harvest/items.py), in batches a connector may announce with `prefetch`."""

    def known(self, item_id: str) -> KnownItem | None:
        """The latest archived version of the item, None if it was never archived."""
        ...

    def marker(self, item_id: str) -> str | None:
        """The item's activity marker as an earlier complete run saved it."""
        ...

    def media_sha(self, url: str) -> str | None:
        """The SHA-256 of the archived file fetched from `url`, None if none was."""
        ...

    def prefetch(self, item_ids: Iterable[str]) -> None:
        """These items are about to be asked for: one request for all of them."""
        ...

    def prefetch_media(self, urls: Iterable[str]) -> None:
        """These media URLs are about to be asked for: one request for all of them."""
        ...


@dataclass
class MemoryItems:
    """An ItemLookup over plain dictionaries: a first run (all empty), and the connectors' own tests."""

    items: dict[str, KnownItem] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)

    def known(self, item_id: str) -> KnownItem | None:
        return self.items.get(item_id)

    def marker(self, item_id: str) -> str | None:
        return self.markers.get(item_id)

    def media_sha(self, url: str) -> str | None:
        return self.media.get(url)

    def prefetch(self, item_ids: Iterable[str]) -> None:
        return None

    def prefetch_media(self, urls: Iterable[str]) -> None:
        return None


@dataclass
class HarvestContext:
    """What a connector gets for one run."""

    account: Account
    state: HarvestState
    fetcher: Fetcher
    now: datetime
    lookback: timedelta = timedelta(days=30)
    media_max_bytes: int = 100 * 1024 * 1024
    items: ItemLookup = field(default_factory=MemoryItems)
    """What earlier runs archived (the known items, their markers, media already fetched)."""
    cursor: dict[str, str] = field(default_factory=dict)
    seen: MutableSet[str] = field(default_factory=set)
    """Item ids the platform listed this run (deletion detection compares with the known ones).
    The harvest hands in a set kept on disk (archive/harvest/scratch.py): a sweep lists every item."""
    media: MutableMapping[str, str] = field(default_factory=dict)
    """Media URLs archived this run → SHA-256."""
    markers: MutableMapping[str, str] = field(default_factory=dict)
    """Per-item activity markers seen this run (comment counts, `updated_time`, `cid`…), merged into
    the state: a changed marker on an old post is how a new comment on it is noticed."""
    sweep: bool = True
    """Walk whole listings this run (not only what is new and the window), to read the activity
    markers of old posts; the service asks for it every `harvest_sweep_hours`."""
    incomplete: bool = False
    """A listing page could not be read: the cursor must not move past it."""
    backfill: frozenset[str] = frozenset()
    """Items whose threads a completeness check found short of the platform's count (the head's
    `backfill`): read again this run, whatever their age or marker."""
    notes: list[str] = field(default_factory=list)
    """One line each for the harvest report: what this run could not read and why, when that is no
    failure of the run (a moderation list the token may not read)."""

    @property
    def window_start(self) -> datetime:
        return self.now - self.lookback

    def _note_marker(self, item_id: str, marker: str) -> str | None:
        """Keep `marker` for saving if it differs from the saved one (only moved markers are written);
        returns the saved one."""
        before = self.items.marker(item_id)
        if before == marker:
            self.markers.pop(item_id, None)
        else:
            self.markers[item_id] = marker
        return before

    def marker_changed(self, item_id: str, marker: str) -> bool:
        """Record `marker` for the item; True when it differs from the one saved by an earlier run."""
        before = self._note_marker(item_id, marker)
        if before is None:
            # Known without a marker: archived by a run that did not finish, or the table was rebuilt
            # from the records (which hold no markers). Its thread may be partly archived: read it.
            return self.items.known(item_id) is not None
        return before != marker

    def wants_thread(self, item_id: str, published: datetime | None, marker: str | None = None) -> bool:
        """Whether to read an item's comments this run: it is new to the archive, inside the look-back
        window, its activity marker changed since the last run (a comment on an old post), or a
        completeness check found its thread short (`backfill`)."""
        changed = self.marker_changed(item_id, marker) if marker is not None else False
        recent = published is None or published >= self.window_start
        return recent or changed or item_id in self.backfill or self.items.known(item_id) is None

    def unchanged(self, item_id: str, marker: str) -> bool:
        """Record `marker`; True when the item is known and its marker is the one saved by an earlier run
        (for platforms without an edit time: the item need not be built again, and counts as listed)."""
        same = self._note_marker(item_id, marker) == marker and self.items.known(item_id) is not None
        if same:
            self.seen.add(item_id)
        return same

    def keep_marker(self, item_id: str) -> None:
        """Reading what the new marker announced failed: keep the old one so the next run retries."""
        self.markers.pop(item_id, None)

    def prefetch(self, entries: Iterable[Any], key: str = "id") -> None:
        """A listing page's entries are about to be asked about (known? marker?): one lookup for all."""
        self.items.prefetch(str(e[key]) for e in entries if isinstance(e, dict) and e.get(key))


@dataclass(frozen=True)
class Publishes:
    """One count a connector reads from its platform and puts on its bundles (`CaptureBundle.counts`).

    The completeness report compares the archive only with what a connector declares here: a count
    no connector declares is "not knowable" on that platform, and `Capabilities.counts` says why.
    """

    what: CountOf
    field: str
    """Where the platform publishes it: the wire field or header, as the platform names it."""
    per_item: bool = False
    """False: an account total (one per run, from the profile); True: one count per listed item."""
    covers: Covers = Covers.CHILDREN
    """A per-item count: the item's direct replies, or every comment under it."""
    details: tuple[str, ...] = ()
    """The `PublishedCount.detail` values it comes under (WordPress: one total per comment status)."""
    note: str = ""
    """What the platform counts that the archive cannot hold (private posts, boosts …), and what is
    unverified: why a small difference need not be a gap."""


@dataclass(frozen=True)
class Capabilities:
    """What a connector captures on its platform, as docs/platforms.md states it."""

    posts: str
    comments: str
    edits: str
    deletions: str
    media: str
    old_post_comments: str
    """Whether a new comment on a post older than the look-back window is found, and how."""
    credentials: str
    counts: str
    """The counts the platform publishes and Communis reads, one line (docs/platforms.md)."""
    published: tuple[Publishes, ...] = ()
    """The same, for the completeness report: what it can compare, and so what is not knowable."""
    moderation: str = "no: the API shows none of the account's own moderation"
    """What of the account's own moderation the API shows: hidden or held comments, blocked and muted
    accounts, blocked domains, word filters (archive/connectors/moderation.py)."""
    finds_comments: bool = True
    finds_replies: bool = True
    finds_edits: bool = True
    finds_post_deletions: bool = True
    finds_comment_deletions: bool = True
    finds_old_post_comments: bool = True
    archives_media: bool = True
    finds_hidden_comments: bool = False
    """A comment the account hides stays listed, marked hidden (`hidden_on_platform`), for its own token."""
    finds_moderation_lists: bool = False
    """The account's block list (and whatever other lists `moderation` names) is archived as versioned records."""

    def total(self, what: CountOf) -> Publishes | None:
        """The account total of `what` the connector reads, None if the platform publishes none."""
        return next((p for p in self.published if p.what is what and not p.per_item), None)

    def per_item(self, what: CountOf = CountOf.COMMENTS) -> Publishes | None:
        """The per-item count of `what` (an item's comments), None if the platform publishes none."""
        return next((p for p in self.published if p.what is what and p.per_item), None)


class Connector(Protocol):
    """One platform."""

    platform: str
    capabilities: ClassVar[Capabilities]

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """Yield every capture of this run; set `ctx.cursor` to the new watermarks."""
        ...

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        """Ask the platform for an item missing from this run's listings; a bundle holding the
        404/410 capture and a tombstone record if it is gone, None if it still exists."""
        ...

    def moderation_lists(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        """The account's own moderation lists (blocks, mutes, filters …), each read once this run and
        archived as one record of kind `moderation` (archive/connectors/moderation.py); a list the
        token may not read is a line in `ctx.notes`, not a failure."""
        ...

    def client_auth(self, account: Account, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query parameters) that carry the account's credential and required headers."""
        ...

    def throttled(self, response: httpx.Response) -> float | None:
        """Seconds to wait when a response is the platform's throttle or transient-failure signal in
        disguise (Graph error code 4 in a 400, Flickr `stat: fail` code 105 in a 200); else None."""
        ...

    def probe(self, ctx: HarvestContext) -> str:
        """One cheap authenticated request proving access; a one-line description of the account."""
        ...


class BaseConnector:
    """Defaults: Bearer tokens, no disguised throttling."""

    platform: str
    capabilities: ClassVar[Capabilities]

    def client_auth(self, account: Account, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
        return ({"Authorization": f"Bearer {token}"} if token else {}), {}

    def moderation_lists(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        return iter(())

    def throttled(self, response: httpx.Response) -> float | None:
        return None

    def api(self, ctx: HarvestContext, path: str, what: str = "the API base URL") -> str:
        """The account's API base (`base_url` or the platform's default) + path; `what` names the base
        in docs (the accounts file validation already requires it where there is no default)."""
        return ctx.account.api_base + path

    def gone(
        self, ctx: HarvestContext, fetched: Fetched, item_id: str, known: KnownItem, **changes: Any
    ) -> CaptureBundle:
        """What `check_deleted` returns for a deleted item: the exchange that proves it and the item's
        tombstone (with `changes` to its fields, e.g. hidden rather than deleted)."""
        record = tombstone(
            known,
            platform=self.platform,
            account=ctx.account.id,
            item_id=item_id,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
        )
        return CaptureBundle(
            capture=fetched.capture, records=[record.model_copy(update=changes) if changes else record]
        )


def tombstone(
    record_of: KnownItem,
    *,
    platform: str,
    account: str,
    item_id: str,
    captured_at: datetime,
    source_url: str | None = None,
) -> Record:
    """The deletion version of a known item: what it was, marked gone (earlier versions keep the content).

    `last_seen_at` is when a harvest last saw the item alive, so the archive can say the item
    disappeared between that moment and `captured_at`. It is outside the content hash: the
    same deletion found on a later run is the same tombstone version.
    """
    return Record.model_validate(
        {
            "platform": platform,
            "account": account,
            "item_id": item_id,
            "kind": record_of.kind,
            "direction": record_of.direction,
            "parent_id": record_of.parent_id,
            "thread_id": record_of.thread_id,
            "url": record_of.url,
            "published_at": record_of.published_at,
            "captured_at": captured_at,
            "deleted": True,
            "source_url": source_url,
            "last_seen_at": record_of.last_seen,
        }
    )
