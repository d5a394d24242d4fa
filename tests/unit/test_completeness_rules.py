"""The completeness rules without a service: one count against the archive, items added into a month,
the tolerance and where it came from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.completeness.compare import MonthTally, judge
from archive.completeness.tolerance import DEFAULTS, tolerance_for
from archive.config import Settings
from archive.errors import ConfigError
from schemas import CountReading, Covers, Platform, Status, Tolerance, WarcLocation
from schemas.completeness import worst

EXACT = Tolerance()
WARC = WarcLocation(filename="f.warc.gz", offset=0, length=1, sha256="0" * 64, record_id="<urn:uuid:1>")


def _reading(item: str, value: int) -> CountReading:
    return CountReading(
        what="comments",
        value=value,
        item_id=item,
        platform="mastodon",
        account="k",
        captured_at=datetime(2026, 1, 1, tzinfo=UTC),
        warc=WARC,
    )


@pytest.mark.parametrize(
    ("published", "archived", "tolerance", "expected"),
    [
        (3, 3, EXACT, Status.COMPLETE),
        (3, 2, EXACT, Status.GAP),
        (3, 4, EXACT, Status.SURPLUS),
        (0, 0, EXACT, Status.COMPLETE),
        (3, 2, Tolerance(absolute=1), Status.COMPLETE),
        (100, 98, Tolerance(relative=0.02), Status.COMPLETE),
        (100, 97, Tolerance(relative=0.02), Status.GAP),
        (40, 39, Tolerance(relative=0.02), Status.GAP),  # 2 % of 40 is 0.8: nothing allowed
    ],
)
def test_one_count(published: int, archived: int, tolerance: Tolerance, expected: Status) -> None:
    assert judge(published, archived, tolerance) is expected


def test_many_items_each_within_the_allowance_are_a_gap_together() -> None:
    allowance = Tolerance(absolute=1)
    tally = MonthTally("2026-01")
    for n in range(5):
        tally.add(_reading(f"p{n}", 3), 2, allowance, own_post=True, archived_item=True, covers=Covers.CHILDREN)
    month = tally.result(allowance, posts=5)
    assert (month.gap_items, month.missing, month.status) == (0, 5, Status.GAP)
    assert tally.short == [f"p{n}" for n in range(5)]


def test_a_month_with_nothing_counted_is_unknowable() -> None:
    month = MonthTally("2026-01").result(EXACT, posts=4)
    assert (month.status, month.unread) == (Status.UNKNOWABLE, 4)


def test_a_report_is_as_bad_as_its_worst_part() -> None:
    assert worst([Status.COMPLETE, Status.SURPLUS]) is Status.SURPLUS
    assert worst([Status.SURPLUS, Status.UNKNOWABLE]) is Status.UNKNOWABLE
    assert worst([Status.UNKNOWABLE, Status.GAP, Status.COMPLETE]) is Status.GAP
    assert worst([]) is Status.UNKNOWABLE


def test_the_default_tolerance_is_documented_and_a_setting_says_so() -> None:
    default = tolerance_for(Platform.MASTODON, Settings())
    assert default == DEFAULTS[Platform.MASTODON] and default.source.startswith("default")
    chosen = tolerance_for(
        Platform.MASTODON, Settings(completeness_tolerance={Platform.MASTODON: Tolerance(absolute=2)})
    )
    assert (chosen.absolute, chosen.source) == (2, "setting COMMUNIS_COMPLETENESS_TOLERANCE")
    assert (
        tolerance_for(Platform.BLUESKY, Settings(completeness_tolerance={"mastodon": {"absolute": 2}}))
        == DEFAULTS[Platform.BLUESKY]
    )


def test_a_mistyped_platform_in_the_setting_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNIS_COMPLETENESS_TOLERANCE", '{"mastodn": {"absolute": 1}}')
    with pytest.raises(ConfigError, match="invalid setting completeness_tolerance"):
        Settings.load()
