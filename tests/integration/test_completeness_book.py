"""Completeness reports kept write-once in the store (local and MinIO), and the rows the web app reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive.completeness.book import keep, latest, load, report_keys
from archive.completeness.report import account_report
from archive.context import Archive
from archive.errors import ObjectExists
from archive.index.completeness import CompletenessRows
from archive.store.base import put_control
from schemas import CountOf, LockMode, Platform, Status, Tolerance
from tests.completeness_data import comment, deleted, index_records, reading, record, write_readings

M = Platform.MASTODON
OCT = datetime(2026, 10, 5, tzinfo=UTC)
NOV = datetime(2026, 11, 5, tzinfo=UTC)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_report_is_stored_locked_and_its_rows_follow_the_latest(archive: Archive) -> None:
    p1, p2 = record(M, "k", "p1", published=OCT), record(M, "k", "p2", published=NOV)
    index_records(archive.index, [p1, p2, comment(M, "k", "c1", "p1", published=OCT)])
    write_readings(
        archive.index,
        [reading(M, "k", 2, item_id="p1", published=OCT), reading(M, "k", 0, item_id="p2", published=NOV)],
    )
    first = keep(
        archive.store,
        archive.index,
        account_report(archive.index, "k", M, Tolerance(), made_by="test", run_id="r1", now=T0),
    )
    assert first.key == "completeness/k/20261201T080000000000Z-r1.json"
    stored = archive.store.head(first.key)
    assert stored is not None and stored.lock_mode is LockMode.COMPLIANCE and stored.retain_until is not None
    assert load(archive.store, first.key) == first
    with pytest.raises(ObjectExists):  # write-once: the same report cannot be put again, nor replaced
        put_control(archive.store, first.key, b"{}")

    rows = CompletenessRows.beside(archive.index)
    head = rows.account("k")
    assert head is not None and head["status"] == "gap" and head["report_key"] == first.key
    assert [(m.month, m.status) for m in rows.months("k")] == [("2026-10", Status.GAP), ("2026-11", Status.COMPLETE)]

    # November's only post is deleted and October's comment arrives: the next report has one month left.
    index_records(archive.index, [deleted(p2), comment(M, "k", "c2", "p1", published=OCT)])
    write_readings(archive.index, [reading(M, "k", 1, what=CountOf.POSTS)])
    second = keep(
        archive.store,
        archive.index,
        account_report(archive.index, "k", M, Tolerance(), made_by="test", run_id="r2", now=T0 + timedelta(hours=1)),
    )
    assert report_keys(archive.store, "k") == [first.key, second.key]
    assert latest(archive.store, "k") == second
    assert [(m.month, m.status) for m in rows.months("k")] == [("2026-10", Status.COMPLETE)]
    head = rows.account("k")
    assert head is not None and head["status"] == "complete" and head["check"]["summary"] == second.summary


def test_a_months_report_updates_that_months_row_only(local_archive: Archive) -> None:
    index_records(local_archive.index, [record(M, "k", "p1", published=OCT), record(M, "k", "p2", published=NOV)])
    write_readings(
        local_archive.index,
        [reading(M, "k", 1, item_id="p1", published=OCT), reading(M, "k", 0, item_id="p2", published=NOV)],
    )
    whole = keep(
        local_archive.store,
        local_archive.index,
        account_report(local_archive.index, "k", M, Tolerance(), made_by="t", now=T0),
    )
    index_records(local_archive.index, [comment(M, "k", "c1", "p1", published=OCT)])
    month = keep(
        local_archive.store,
        local_archive.index,
        account_report(
            local_archive.index, "k", M, Tolerance(), month="2026-10", made_by="t", now=T0 + timedelta(hours=1)
        ),
    )
    rows = CompletenessRows.beside(local_archive.index)
    assert [(m.month, m.status) for m in rows.months("k")] == [
        ("2026-10", Status.COMPLETE),
        ("2026-11", Status.COMPLETE),
    ]
    head = rows.account("k")
    assert head is not None and head["report_key"] == whole.key != month.key  # the account's row is a whole report's
