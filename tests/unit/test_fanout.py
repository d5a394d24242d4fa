"""The fanned-out harvest's pure parts (archive/harvest/fanout.py) and the hold point (archive/faults.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.faults import HOLD_ENV, CrashPoint, hold_files, release
from archive.harvest.fanout import ChildRun, accounts_per_worker, group_key, groups, report_rows
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]


def test_a_tick_and_group_give_one_key_however_the_time_is_written() -> None:
    utc = datetime(2026, 12, 3, 12, 15, tzinfo=UTC)
    stockholm = utc.astimezone(timezone(timedelta(hours=1)))
    assert group_key(utc, 0, 3) == group_key(stockholm, 0, 3)
    assert group_key(utc, 0, 3) != group_key(utc + timedelta(minutes=15), 0, 3)
    assert group_key(utc, 0, 3) != group_key(utc, 1, 3)


def test_an_accounts_group_depends_on_the_listed_accounts_not_on_which_are_due() -> None:
    listed = [f"a{i}" for i in range(7)]
    everyone = groups(listed, listed, 3)
    assert [(g, n) for g, n, _ in everyone] == [(0, 3), (1, 3), (2, 3)]
    assert sorted(a for _, _, m in everyone for a in m) == listed  # each account in exactly one group
    group_of = {a: g for g, _, m in everyone for a in m}
    fewer = groups(listed, ["a5", "a1", "a6"], 3)  # a retried parent: the others were harvested meanwhile
    assert all(group_of[a] == g for g, _, m in fewer for a in m)
    assert groups(listed, [], 3) == []
    assert [m for _, _, m in groups(listed, listed, 1)] == [[a] for a in listed]
    with pytest.raises(ValueError):
        groups(listed, listed, 0)


def test_an_account_without_a_report_is_a_failed_row_saying_how_its_run_ended() -> None:
    done = {"account": "a", "run_id": "r", "ok": True, "counts": {"new": 3}}
    rows = report_rows(
        [
            ChildRun(["a", "b"], "1", "CRASHED", message="killed\nmore", reports={"a": done}),
            ChildRun(["c"], "3", "RUNNING"),
        ]
    )
    assert rows[0] is done
    assert rows[1]["account"] == "b" and rows[1]["ok"] is False
    assert "ended CRASHED: killed" in rows[1]["error"] and "more" not in rows[1]["error"]
    assert rows[2]["ok"] is False and "still running" in rows[2]["error"]


def test_accounts_per_worker() -> None:
    assert accounts_per_worker(20, 15, 4) == 90
    assert accounts_per_worker(20, 15, 4, headroom=1.0) == 180
    with pytest.raises(ValueError):
        accounts_per_worker(0, 15, 4)


HOLDER = """
from archive.faults import CrashPoint, crash_point
crash_point(CrashPoint.FIXITY_MID_RUN)
print("went on", flush=True)
"""


def test_the_first_process_at_a_hold_point_waits_for_its_release_and_later_ones_go_on(tmp_path: Path) -> None:
    point = CrashPoint.FIXITY_MID_RUN
    env = {**os.environ, HOLD_ENV: f"{point.value}@{tmp_path}", "PYTHONPATH": str(REPO)}
    first = subprocess.Popen([sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, text=True)
    passes, held, _ = hold_files(point, tmp_path)
    try:
        wait_for(
            held.exists,
            "the first process holding",
            gone=lambda: None if first.poll() is None else "it ended instead of holding",
        )
        assert int(held.read_text()) == first.pid
        second = subprocess.run([sys.executable, "-c", HOLDER], env=env, capture_output=True, text=True, timeout=600)
        assert second.stdout.strip() == "went on"  # the point is held once, by one process
        assert first.poll() is None  # still held
        release(point, tmp_path)
        out, _ = first.communicate(timeout=600)
        assert out.strip() == "went on"
        assert len(passes.read_text().split()) == 2
    finally:
        first.kill()
