"""The published counts index: a reading is written when new or moved, never for an unchanged count."""

from __future__ import annotations

from datetime import UTC, datetime

from archive.context import Archive
from archive.index.counts import PublishedCounts
from schemas import CountOf, CountReading, Covers, WarcLocation

T1 = datetime(2026, 3, 1, tzinfo=UTC)
T2 = datetime(2026, 3, 2, tzinfo=UTC)
WARC = WarcLocation(filename="f.warc.gz", offset=0, length=10, sha256="0" * 64, record_id="<urn:uuid:1>")


def reading(value: int, item_id: str | None, at: datetime = T1, what: CountOf = CountOf.COMMENTS) -> CountReading:
    return CountReading(
        platform="mastodon",
        account="kommun",
        what=what,
        value=value,
        item_id=item_id,
        item_published_at=datetime(2026, 2, 10, tzinfo=UTC) if item_id else None,
        covers=Covers.CHILDREN,
        captured_at=at,
        warc=WARC,
    )


def test_only_new_or_moved_counts_are_written(local_archive: Archive) -> None:
    counts = PublishedCounts.beside(local_archive.index)
    first = [reading(40, None, what=CountOf.POSTS)] + [reading(i % 3, f"post-{i:04d}") for i in range(1500)]
    assert counts.record(first) == 1501

    again = [reading(40, None, T2, CountOf.POSTS)] + [reading(i % 3, f"post-{i:04d}", T2) for i in range(1500)]
    again[7] = reading(9, "post-0006", T2)  # one comment count moved
    assert counts.record(again) == 1

    totals = counts.totals("kommun")
    assert [(t.what, t.value, t.captured_at) for t in totals] == [(CountOf.POSTS, 40, T1)]  # the evidence kept
    items = list(counts.items("kommun"))
    assert [r.item_id for r in items] == sorted(f"post-{i:04d}" for i in range(1500))
    moved = counts.for_items("kommun", ["post-0006", "post-0007"])
    assert (moved["post-0006"][0].value, moved["post-0006"][0].captured_at) == (9, T2)
    assert (moved["post-0007"][0].value, moved["post-0007"][0].captured_at) == (1, T1)
    assert moved["post-0006"][0].month == "2026-02"
