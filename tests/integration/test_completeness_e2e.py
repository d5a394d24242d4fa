"""Completeness end to end on the simulator and the real services (issue 17's tests).

A month with a missed comment (the simulator leaves it out of the conversation once, while the post
still counts it) is reported as a gap, its post is backfilled by the next run, which re-reads exactly
that thread, and the month is then complete; a comment that can never be read keeps the gap open and
alarms after `completeness_alarm_runs` runs; a platform that publishes no count is "unknowable",
never "complete".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive.completeness.book import latest, report_keys
from archive.config import Settings
from archive.context import Archive
from archive.harvest.health import check_accounts
from archive.harvest.report import markdown_report
from archive.harvest.service import HarvestReport
from archive.harvest.state import run_history
from archive.index.completeness import CompletenessRows
from schemas import Status
from simulator import Simulator, Timeline
from tests.contract.subjects import SUBJECTS, Subject
from tests.harvesting import harvest_subject, latest_versions, sim_now, state_of

MASTODON: Subject = next(s for s in SUBJECTS if s.platform == "mastodon")
LINKEDIN: Subject = next(s for s in SUBJECTS if s.platform == "linkedin")


@pytest.fixture
def arc(settings: Settings) -> Iterator[Archive]:
    """Old posts are outside the look-back window, so only a backfill reads their threads again."""
    archive = Archive(settings.model_copy(update={"harvest_lookback_days": 0, "harvest_sweep_hours": 24}))
    yield archive
    archive.index.destroy()


def _a_post_with_a_comment(sim: Simulator) -> tuple[str, str, str]:
    """(post id, the id of a direct reply to it, YYYY-MM of the post) from the simulator's ground truth."""
    rows = MASTODON.rows(sim)
    post = next(r for r in rows if r["kind"] == "post" and any(c["parent"] == r["id"] for c in rows))
    reply = next(c for c in rows if c["parent"] == post["id"])
    return post["id"], reply["id"], post["created_at"][:7]


def _contexts(sim: Simulator) -> list[str]:
    """The status ids whose conversation was asked for since the log was cleared."""
    return [r.path.split("/")[-2] for r in sim.requests() if r.path.endswith("/context")]


def _later(sim: Simulator, arc: Archive) -> HarvestReport:
    sim.apply(Timeline().advance(hours=1))
    sim.clear_requests()
    return harvest_subject(arc, sim, MASTODON)


def test_a_missed_comment_is_a_gap_backfilled_next_run_then_complete(arc: Archive, sim: Simulator) -> None:
    post, reply, month = _a_post_with_a_comment(sim)
    account = MASTODON.account(sim).id
    sim.apply(
        Timeline().fault(
            "drop", item=reply, match={"platform": "mastodon", "path_prefix": f"/m/api/v1/statuses/{post}/context"}
        )
    )

    first = harvest_subject(arc, sim, MASTODON)  # the first run sweeps: the whole report is made
    assert reply not in latest_versions(arc, account)
    assert first.completeness is not None and first.completeness.startswith("gap: 1 comment(s) missing")
    report = latest(arc.store, account)
    assert report is not None and report.status is Status.GAP and report.backfill == [post]
    (gap,) = [m for m in report.months if m.status is Status.GAP]
    assert gap.month == month and [(i.item_id, i.published, i.archived) for i in gap.items] == [(post, 1, 0)]
    assert gap.items[0].evidence.warc.filename.startswith(f"{account}-")  # the listing page that showed the count
    state = state_of(arc, account)
    assert (state.backfill, state.gap_runs) == ([post], 1)
    markdown = markdown_report([first.as_dict()], [])
    assert f"- **{account}**: gap: 1 comment(s) missing" in markdown

    second = _later(sim, arc)  # the run after a gap sweeps once and re-reads exactly that thread
    assert _contexts(sim) == [post]
    assert reply in latest_versions(arc, account)
    assert second.completeness is not None and second.completeness.startswith("complete")
    state = state_of(arc, account)
    assert (state.backfill, state.gap_runs) == ([], 0)
    assert run_history(arc.harvest_table, account, limit=1)[0].sweep
    after = latest(arc.store, account)
    assert after is not None and after.status is Status.COMPLETE and len(report_keys(arc.store, account)) == 2
    assert (report.reread, after.reread) == ([], [post])  # the report keeps what its run was asked to re-read
    assert {m.month: m.status for m in CompletenessRows.beside(arc.index).months(account)}[month] is Status.COMPLETE

    third = _later(sim, arc)  # nothing short any more: a plain scheduled run, no sweep, no thread re-read
    assert _contexts(sim) == [] and not run_history(arc.harvest_table, account, limit=1)[0].sweep
    assert third.completeness is not None and third.completeness.startswith("complete")


def test_a_comment_that_can_never_be_read_alarms_after_the_configured_runs(arc: Archive, sim: Simulator) -> None:
    post, reply, _ = _a_post_with_a_comment(sim)
    account = MASTODON.account(sim)
    forever = Timeline().fault(
        "drop",
        count=None,
        item=reply,
        match={"platform": "mastodon", "path_prefix": f"/m/api/v1/statuses/{post}/context"},
    )
    sim.apply(forever)
    harvest_subject(arc, sim, MASTODON)
    _later(sim, arc)  # the backfill sweep: still short
    assert _contexts(sim) == [post] and run_history(arc.harvest_table, account.id, limit=1)[0].sweep
    health = {h.account: h for h in check_accounts(arc.store, arc.index, [account], arc.settings, sim_now(sim))}
    assert health[account.id].ok  # two runs: not yet
    third = _later(sim, arc)  # a scheduled run: no second sweep, but the waiting thread is read again
    assert _contexts(sim) == [post] and not run_history(arc.harvest_table, account.id, limit=1)[0].sweep
    assert (
        third.completeness is not None
        and "1 comment(s) missing under 1 item(s) (re-read next run)" in third.completeness
    )
    assert state_of(arc, account.id).gap_runs == 3
    (row,) = check_accounts(arc.store, arc.index, [account], arc.settings, sim_now(sim))
    assert row.alarm is not None and row.alarm.startswith("completeness gap for 3 runs in a row: gap: ")
    assert "1 comment(s) missing under 1 item(s)" in row.alarm
    assert "Accounts that need attention" in markdown_report([third.as_dict()], [row])


def test_a_platform_that_publishes_no_count_is_unknowable_never_complete(arc: Archive, sim: Simulator) -> None:
    account = LINKEDIN.account(sim).id
    run = harvest_subject(arc, sim, LINKEDIN)
    assert run.completeness is not None and run.completeness.startswith("unknowable")
    report = latest(arc.store, account)
    assert report is not None and report.status is Status.UNKNOWABLE
    assert report.months and all(m.status is Status.UNKNOWABLE for m in report.months)
    assert any("comments per post: not published" in u for u in report.unknowable)
    assert state_of(arc, account).gap_runs == 0
