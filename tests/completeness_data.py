"""Building an account's holdings and published counts directly (no harvest), for the completeness tests
and bench/completeness.py: records indexed as the pipeline indexes them, readings written as the harvest
writes them (PublishedCounts.record)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from archive.index import RecordIndex, to_document
from archive.index.counts import PublishedCounts
from schemas import CountOf, CountReading, Covers, Direction, Kind, Platform, Record, WarcLocation

WHEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: A stand-in for the WARC response record a count was read from (the tests here compare, not read back).
WARC = WarcLocation(
    filename="x-social-10y-202611-r1-00000.warc.gz", offset=0, length=100, sha256="0" * 64, record_id="<urn:uuid:1>"
)


def record(
    platform: Platform,
    account: str,
    item_id: str,
    *,
    kind: Kind = Kind.POST,
    parent: str | None = None,
    thread: str | None = None,
    own: bool = True,
    published: datetime = WHEN,
    deleted: bool = False,
    version: int = 1,
    captured: datetime = WHEN,
    text: str = "",
    first_seen: datetime | None = None,
) -> Record:
    return Record(
        platform=platform,
        account=account,
        item_id=item_id,
        kind=kind,
        parent_id=parent,
        thread_id=thread or (item_id if parent is None else parent),
        direction=Direction.UPPRATTAD if own else Direction.INKOMMEN,
        text=text or f"item {item_id}",
        published_at=published,
        captured_at=captured,
        first_seen_at=first_seen or captured,
        deleted=deleted,
        version=version,
    )


def comment(
    platform: Platform, account: str, item_id: str, post: str, *, parent: str | None = None, **kw: object
) -> Record:
    """A citizen's comment under `post` (a reply when `parent` is another comment)."""
    return record(
        platform,
        account,
        item_id,
        kind=Kind.COMMENT if parent is None else Kind.REPLY,
        parent=parent or post,
        thread=post,
        own=False,
        **kw,  # type: ignore[arg-type]
    )


def deleted(rec: Record) -> Record:
    """The item's tombstone: a later version, deleted."""
    return rec.model_copy(
        update={"deleted": True, "version": rec.version + 1, "captured_at": rec.captured_at + timedelta(days=1)}
    )


def index_records(index: RecordIndex, records: Iterable[Record], *, chunk: int = 2000) -> None:
    index.ensure()  # the alias and its template, as the pipeline makes them before the first bulk
    docs = (to_document(r, warc_key=f"warc/{r.account}/x.warc.gz", retention_class="social-10y") for r in records)
    result = index.bulk(docs, chunk_size=chunk)
    assert not result.errors, result.errors[:3]


def reading(
    platform: Platform,
    account: str,
    value: int,
    *,
    item_id: str | None = None,
    what: CountOf = CountOf.COMMENTS,
    covers: Covers = Covers.CHILDREN,
    published: datetime | None = WHEN,
    detail: str | None = None,
    captured: datetime = WHEN,
) -> CountReading:
    return CountReading(
        what=what,
        value=value,
        item_id=item_id,
        item_published_at=published if item_id is not None else None,
        covers=covers,
        detail=detail,
        platform=platform,
        account=account,
        captured_at=captured,
        source_url=f"https://example.test/{account}/{item_id or 'profile'}",
        warc=WARC,
    )


def write_readings(index: RecordIndex, readings: Iterable[CountReading]) -> int:
    counts = PublishedCounts.beside(index)
    written = counts.record(readings)
    counts.refresh()
    return written
