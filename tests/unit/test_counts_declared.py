"""Which counts each connector declares it reads: what the completeness report can compare."""

from __future__ import annotations

import pytest

from archive.connectors.registry import CONNECTORS, connector_class
from schemas import CountOf, Covers

#: platform → (account totals, covers of the per-item comment count or None). Written out by hand from
#: docs/platforms.md, so a change to a declaration is a change to this test too.
EXPECTED: dict[str, tuple[set[CountOf], Covers | None]] = {
    "mastodon": ({CountOf.POSTS}, Covers.CHILDREN),
    "bluesky": ({CountOf.POSTS}, Covers.CHILDREN),
    "facebook": (set(), Covers.CHILDREN),
    "instagram": ({CountOf.MEDIA}, Covers.THREAD),
    "x": ({CountOf.POSTS}, Covers.CHILDREN),
    "youtube": ({CountOf.VIDEOS}, Covers.THREAD),
    "wordpress": ({CountOf.POSTS, CountOf.PAGES, CountOf.COMMENTS}, None),
    "flickr": ({CountOf.MEDIA}, Covers.CHILDREN),
    "linkedin": (set(), None),
    "tiktok": (set(), None),
    "rss": (set(), None),
}


def test_every_platform_is_listed() -> None:
    assert set(EXPECTED) == set(CONNECTORS)


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_declared_counts(platform: str) -> None:
    caps = connector_class(platform).capabilities
    totals, covers = EXPECTED[platform]
    assert {p.what for p in caps.published if not p.per_item} == totals
    assert {w for w in CountOf if caps.total(w)} == totals
    item = caps.per_item(CountOf.COMMENTS)
    assert (item.covers if item else None) == covers
    # Per-item counts are comment counts only; every declaration names its field.
    assert all(p.what is CountOf.COMMENTS for p in caps.published if p.per_item)
    assert all(p.field for p in caps.published)
    assert caps.counts.strip()
    if not caps.published:
        assert caps.counts.startswith("none"), "a platform without counts says so, and why"
