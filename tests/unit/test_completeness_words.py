"""A completeness report in words: every status has its text, and what was done about an item follows from
the report and the harvest head (no services: the rules alone)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.completeness.explain import Step, status_text, what_was_done
from archive.web.completeness import MonthOut
from archive.web.pages_completeness import calendar_years
from schemas import CompletenessReport, Covers, Evidence, HarvestState, ItemCheck, Platform, Status, Tolerance
from schemas.record import WarcLocation

T = datetime(2026, 12, 1, tzinfo=UTC)
EVIDENCE = Evidence(
    captured_at=T,
    warc=WarcLocation(
        filename="a-social-10y-202612-r-00001.warc.gz", offset=0, length=10, sha256="0" * 64, record_id="<x>"
    ),
)


def _item(status: Status, published: int, archived: int, item_id: str = "p1") -> ItemCheck:
    return ItemCheck(
        item_id=item_id,
        month="2026-11",
        covers=Covers.CHILDREN,
        published=published,
        archived=archived,
        status=status,
        evidence=EVIDENCE,
    )


def _report(**fields: object) -> CompletenessReport:
    base: dict[str, object] = dict(
        account="a",
        platform=Platform.MASTODON,
        scope="account",
        run_id="run2",
        made_at=T,
        made_by="harvest run run2",
        status=Status.GAP,
        summary="gap",
        tolerance=Tolerance(),
    )
    return CompletenessReport.model_validate(base | fields)


@pytest.mark.parametrize(
    ("status", "missing", "text"),
    [
        (Status.COMPLETE, 0, "complete"),
        (Status.GAP, 3, "gap of 3"),
        (Status.SURPLUS, 0, "more in the archive"),
        (Status.UNKNOWABLE, 0, "not knowable"),
    ],
)
def test_every_status_has_its_words(status: Status, missing: int, text: str) -> None:
    assert status_text(status, missing) == text


def test_every_status_is_worded() -> None:
    assert all(status_text(s, 1) for s in Status)


def test_a_gap_first_found_is_queued_for_the_next_run() -> None:
    head = HarvestState(account="a", runs=1, backfill=["p1"], gap_runs=1)
    done = what_was_done(_item(Status.GAP, 2, 1), _report(backfill=["p1"]), head, alarm_runs=3)
    assert [d.step for d in done] == [Step.QUEUED, Step.QUEUED]
    assert done[0].text == "backfill queued: the next run reads its thread again"
    assert done[1].text == "a gap 1 run(s) in a row: an alarm after 3 runs"


def test_a_gap_re_read_in_vain_and_lasting_the_alarm_runs_says_so() -> None:
    head = HarvestState(account="a", runs=3, backfill=["p1"], gap_runs=3)
    done = what_was_done(_item(Status.GAP, 2, 1), _report(backfill=["p1"], reread=["p1"]), head, alarm_runs=3)
    assert [d.step for d in done] == [Step.REREAD, Step.QUEUED, Step.ALARMED]
    assert done[0].text == "re-read in run run2: still 1 short"
    assert done[2].text == "alarmed after 3 runs in a row with a gap"


def test_a_gap_the_harvest_no_longer_waits_for_says_what_its_last_check_found() -> None:
    head = HarvestState(account="a", runs=4, backfill=[], gap_runs=0, completeness="complete: 1 item(s) checked")
    (done,) = what_was_done(_item(Status.GAP, 2, 1), _report(backfill=["p1"]), head, alarm_runs=3)
    assert done.step is Step.NOT_WAITING and "complete: 1 item(s) checked" in done.text


def test_more_in_the_archive_and_within_the_tolerance_need_nothing() -> None:
    (surplus,) = what_was_done(_item(Status.SURPLUS, 1, 2), _report(), None, alarm_runs=3)
    assert surplus.step is Step.NOTHING and "expected" in surplus.text
    (within,) = what_was_done(_item(Status.COMPLETE, 50, 49), _report(), None, alarm_runs=3)
    assert within.step is Step.NOTHING and "within the tolerance" in within.text


def test_a_gap_left_out_of_a_full_backfill_is_said_to_wait_for_the_sweep() -> None:
    (done,) = what_was_done(_item(Status.GAP, 2, 0), _report(), HarvestState(account="a", runs=1), alarm_runs=3)
    assert done.step is Step.NOT_QUEUED


def _month(month: str, status: Status = Status.COMPLETE) -> MonthOut:
    return MonthOut(
        month=month,
        status=status,
        text=status_text(status),
        posts=1,
        counted=1,
        unread=0,
        published=0,
        archived=0,
        missing=0,
        surplus=0,
        gap_items=0,
        surplus_items=0,
        incomparable=0,
        note="",
    )


def test_the_calendar_is_every_year_newest_first_twelve_months_each_and_undated_apart() -> None:
    years, undated = calendar_years([_month("2022-08", Status.GAP), _month("2024-01"), _month("undated")])
    assert [y.year for y in years] == [2024, 2023, 2022]  # 2023 had no post: a row all the same
    assert all(len(y.cells) == 12 for y in years)
    assert [c.month for c in years[0].cells][:2] == ["2024-01", "2024-02"] and years[0].cells[0].name == "January"
    assert years[2].cells[7].out is not None and years[2].cells[7].out.status is Status.GAP
    assert all(c.out is None for c in years[1].cells)
    assert undated is not None and undated.month == "undated"
    assert calendar_years([]) == ([], None)
