"""The harvest table (issue: years of history at the cost of what changed), on the real Elasticsearch.

A run reads and writes only what it touches: a scheduled run that finds nothing new writes the same
few documents for an account with a long history as for a young one. The run history is a bounded
ring. Two runs of one account cannot both save. And the table is rebuilt from the record index,
itself rebuilt from the WARC files, with nothing archived twice afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from archive.config import Settings
from archive.context import Archive
from archive.harvest.rebuild import reindex_all
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from archive.harvest.state import read_state, run_history, save_state
from archive.index.harvest_table import StateConflict
from simulator import Simulator, Timeline
from tests.contract.subjects import SUBJECTS, TOKEN, TOKEN_ENV, Subject
from tests.harvesting import archived_versions, known_count, sim_now, state_of
from tests.waiting import HANG_GUARD_S

FACEBOOK: Subject = next(s for s in SUBJECTS if s.platform == "facebook")


@pytest.fixture
def arc(settings: Settings) -> Iterator[Archive]:
    archive = Archive(settings.model_copy(update={"harvest_run_history": 3}))
    yield archive
    archive.index.destroy()


def harvest(arc: Archive, sim: Simulator, **kw: object) -> HarvestReport:
    report = harvest_one(arc.settings, arc.store, arc.index, FACEBOOK.account(sim), now=sim_now(sim), **kw)  # type: ignore[arg-type]
    assert report.ok, report.error
    return report


def steady(arc: Archive, posts: int, monkeypatch: pytest.MonkeyPatch) -> tuple[HarvestReport, int]:
    """A Page of `posts` posts harvested whole, then a scheduled run with nothing new (look-back 0, no
    sweep due): that run's report and how many items the table knows."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    arc.settings = arc.settings.model_copy(update={"harvest_lookback_days": 0, "harvest_sweep_hours": 24})
    with Simulator(posts=posts, rate_limit=10**9, social_token=TOKEN) as sim:
        harvest(arc, sim)
        sim.apply(Timeline().advance(hours=0.25))
        quiet = harvest(arc, sim)
        return quiet, known_count(arc, FACEBOOK.account(sim).id)


def test_a_run_with_nothing_new_writes_as_little_for_a_long_history_as_for_a_short_one(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, large = (
        Archive(settings),
        Archive(settings.model_copy(update={"es_index_prefix": settings.es_index_prefix + "l"})),
    )
    try:
        # Both longer than the first listing page (100 posts), which is all a quiet run reads.
        quiet_small, known_small = steady(small, 101, monkeypatch)
        quiet_large, known_large = steady(large, 404, monkeypatch)
    finally:
        small.index.destroy()
        large.index.destroy()
    assert known_large > 3 * known_small  # the long history is in the table …
    assert quiet_large.counts.new == quiet_small.counts.new == 0
    assert quiet_large.requests == quiet_small.requests  # … the platform side is the same one page …
    # … and so is what the run wrote: the items it listed (one page: when each was last seen), the head
    # and its summary, not the account's history.
    assert 0 < quiet_large.items_written <= quiet_small.items_written
    assert quiet_large.state_bytes <= 1.2 * quiet_small.state_bytes
    assert quiet_large.items_written < known_large / 10


def test_the_run_history_is_a_bounded_ring_and_the_state_is_one_document(
    arc: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as sim:
        account = FACEBOOK.account(sim).id
        for _ in range(5):
            harvest(arc, sim)
            sim.apply(Timeline().advance(hours=0.25))
    history = run_history(arc.harvest_table, account, limit=10)
    assert [r.seq for r in history] == [5, 4, 3]  # harvest_run_history = 3: the oldest overwritten
    assert history[-1].counts["new"] == 0 and history[0].ok and history[0].requests >= 1
    assert state_of(arc, account).runs == 5
    assert arc.harvest_table.count("head", account) == 1
    assert arc.harvest_table.count("run", account) == 3
    shown = subprocess.run(  # what an operator reads: `communis accounts history`
        [sys.executable, "-m", "archive", "accounts", "history", account],
        capture_output=True,
        text=True,
        check=False,
        timeout=HANG_GUARD_S,
        env={
            **os.environ,
            "COMMUNIS_DATA_DIR": str(arc.settings.data_dir),
            "COMMUNIS_STORE_PATH": str(arc.settings.store_path),
            "COMMUNIS_ES_INDEX_PREFIX": arc.settings.es_index_prefix,
            "COLUMNS": "200",
        },
    )
    assert shown.returncode == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if line.strip("│ ").split(" ")[0] in {"3", "4", "5"}]
    assert len(rows) == 3 and "Harvest runs of sv-facebook" in shown.stdout


def test_two_runs_of_one_account_cannot_both_save(arc: Archive) -> None:
    table = arc.harvest_table
    first, second = read_state(table, "sv-x"), read_state(table, "sv-x")
    save_state(table, first, first.state.model_copy(update={"runs": 1}))
    with pytest.raises(StateConflict, match="saved by another run while this one ran"):
        save_state(table, second, second.state.model_copy(update={"runs": 1}))
    again = read_state(table, "sv-x")
    assert again.state.runs == 1 and again.state.seq == 1
    save_state(table, again, again.state.model_copy(update={"runs": 2}))  # over the latest: fine
    assert state_of(arc, "sv-x").seq == 2


def test_the_table_is_rebuilt_from_the_warc_files_and_nothing_is_archived_twice(
    arc: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with Simulator(posts=6, rate_limit=10**9, social_token=TOKEN) as sim:
        account = FACEBOOK.account(sim).id
        first = harvest(arc, sim)
        known = known_count(arc, account)
        assert first.counts.new + first.counts.moderation == known > 0  # posts and comments, and the block list
        before = {k: len(v) for k, v in archived_versions(arc, account).items()}

        arc.harvest_table.destroy()  # lost: cursor, markers, every item
        report = reindex_all(arc.store, arc.index)  # the record index from the WARC files, then the table
        assert report.documents >= known
        assert known_count(arc, account) == known
        assert state_of(arc, account).runs == 0  # the cursor is not in the records: a fresh one

        post = FACEBOOK.publish(sim, text="Nytt efter återuppbyggnaden")
        sim.apply(Timeline().advance(hours=1))
        after = harvest(arc, sim)  # a full re-read from a fresh cursor, every thread read again once
    assert after.counts.new >= 1 and after.counts.edited == 0
    versions = archived_versions(arc, account)
    assert post in versions and len(versions[post]) == 1
    assert all(len(versions[k]) == n for k, n in before.items())  # nothing archived twice


def test_deletions_are_found_by_streaming_the_table_against_what_was_listed(
    arc: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post inside the look-back window, deleted on the platform: the table's live items of the window,
    read a page at a time, compared with the ids this run listed (kept on disk), find it."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    arc.settings = arc.settings.model_copy(update={"harvest_sweep_hours": 0})
    with Simulator(posts=8, rate_limit=10**9, social_token=TOKEN) as sim:
        account = FACEBOOK.account(sim).id
        harvest(arc, sim)
        posts = [r for r in FACEBOOK.visible(sim).values() if r["kind"] == "post"]
        newest = max(posts, key=lambda r: r["created_at"])
        FACEBOOK.event(sim, "delete", no=FACEBOOK.no_of(sim, newest["id"]))
        sim.apply(Timeline().advance(hours=1))
        swept = harvest(arc, sim)
    assert swept.counts.deleted == 1
    versions = archived_versions(arc, account)[newest["id"]]
    assert [v["deleted"] for v in versions] == [False, True]
    assert arc.harvest_table.count("item", account, deleted=True) == 1
