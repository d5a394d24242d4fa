"""The completeness comparison on the real Elasticsearch: holdings indexed as the pipeline indexes them,
published counts written as the harvest writes them, and the report's verdict per account, month and item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from archive.completeness.report import account_report, check_items
from archive.completeness.tolerance import DEFAULTS
from archive.context import Archive
from schemas import CountOf, Covers, Kind, Platform, Status, Tolerance
from tests.completeness_data import comment, deleted, index_records, reading, record, write_readings

M = Platform.MASTODON
OCT = datetime(2026, 10, 5, tzinfo=UTC)
NOV = datetime(2026, 11, 5, tzinfo=UTC)
EXACT = Tolerance(source="test")


def _mastodon_account(arc: Archive) -> None:
    """October: p1 with two comments, c1 with a reply, and the account's own reply r1 to c2: all counted
    right. November: p2 short of one comment (a gap), p3 exact once its deleted comment c6 is left out, p4
    with one comment more than the platform counts now (a surplus), p5 deleted since its count was read.
    The posts total says 6; p1-p4 and r1 are live."""
    recs = [
        record(M, "k", "p1", published=OCT),
        comment(M, "k", "c1", "p1", published=OCT),
        comment(M, "k", "c2", "p1", published=OCT),
        comment(M, "k", "c3", "p1", parent="c1", published=OCT),  # a reply to c1: p1 counts 2 direct replies
        record(M, "k", "p2", published=NOV),
        comment(M, "k", "c4", "p2", published=NOV),
        record(M, "k", "p3", published=NOV),
        comment(M, "k", "c5", "p3", published=NOV),
        record(M, "k", "p4", published=NOV),
        comment(M, "k", "c7", "p4", published=NOV),
        comment(M, "k", "c8", "p4", published=NOV),
        record(M, "k", "p5", published=NOV),
        record(M, "k", "r1", kind=Kind.REPLY, parent="c2", thread="p1", published=OCT),
    ]
    gone = comment(M, "k", "c6", "p3", published=NOV)
    index_records(arc.index, [*recs, gone, deleted(gone), deleted(recs[11])])
    write_readings(
        arc.index,
        [
            reading(M, "k", 2, item_id="p1", published=OCT),
            reading(M, "k", 1, item_id="c1", published=OCT),
            reading(M, "k", 0, item_id="r1", published=OCT),
            reading(M, "k", 2, item_id="p2", published=NOV),  # 1 archived: a gap
            reading(M, "k", 1, item_id="p3", published=NOV),  # c6 deleted since: 1 = 1
            reading(M, "k", 1, item_id="p4", published=NOV),  # 2 archived: a surplus
            reading(M, "k", 4, item_id="p5", published=NOV),  # p5 deleted since: left out
            reading(M, "k", 6, what=CountOf.POSTS),  # p1-p4 and r1 live, p5 deleted: 5 of 6
        ],
    )


def test_a_month_short_of_a_comment_is_a_gap_naming_the_post_and_the_evidence(local_archive: Archive) -> None:
    _mastodon_account(local_archive)
    report = account_report(local_archive.index, "k", M, EXACT, made_by="test")
    by_month = {m.month: m for m in report.months}
    assert set(by_month) == {"2026-10", "2026-11"}
    october, november = by_month["2026-10"], by_month["2026-11"]
    assert (october.status, october.published, october.archived, october.posts, october.unread) == (
        Status.COMPLETE,
        3,
        3,
        1,
        0,
    )
    assert november.status is Status.GAP
    assert (november.missing, november.gap_items, november.surplus, november.surplus_items) == (1, 1, 1, 1)
    assert november.posts == 3 and november.unread == 0  # p2, p3, p4 live; p5 is a tombstone
    listed = {i.item_id: i for i in november.items}
    assert set(listed) == {"p2", "p4"}
    assert (listed["p2"].status, listed["p2"].published, listed["p2"].archived) == (Status.GAP, 2, 1)
    assert listed["p2"].evidence.source_url == "https://example.test/k/p2"
    assert listed["p4"].status is Status.SURPLUS and "removed or hidden since" in listed["p4"].note
    assert report.deleted_since == 1
    assert report.backfill == ["p2"]
    assert report.status is Status.GAP
    assert "1 comment(s) missing under 1 item(s) in 1 month(s) (2026-11)" in report.summary
    (total,) = report.totals
    assert (total.what, total.status, total.published, total.archived) == (CountOf.POSTS, Status.GAP, 6, 5)
    assert report.tolerance == EXACT


def test_the_tolerance_absorbs_drift_and_is_written_into_the_report(local_archive: Archive) -> None:
    _mastodon_account(local_archive)
    allowance = Tolerance(absolute=1, source="setting COMMUNIS_COMPLETENESS_TOLERANCE")
    report = account_report(local_archive.index, "k", M, allowance, made_by="test")
    november = next(m for m in report.months if m.month == "2026-11")
    assert november.status is Status.SURPLUS  # p2's one missing is within the allowance; p4 still says surplus
    p2 = next(i for i in november.items if i.item_id == "p2")
    assert p2.status is Status.COMPLETE and "within the tolerance" in p2.note
    assert report.tolerance.source == "setting COMMUNIS_COMPLETENESS_TOLERANCE"
    assert report.backfill == []
    assert report.status is Status.SURPLUS


def test_one_month_alone(local_archive: Archive) -> None:
    _mastodon_account(local_archive)
    report = account_report(local_archive.index, "k", M, EXACT, month="2026-10", made_by="test")
    assert [m.month for m in report.months] == ["2026-10"]
    assert report.totals == [] and report.scope == "month 2026-10"
    assert report.status is Status.COMPLETE


def test_own_posts_without_a_count_read_are_not_called_complete(local_archive: Archive) -> None:
    index_records(local_archive.index, [record(M, "k", "p1", published=OCT), record(M, "k", "p2", published=OCT)])
    write_readings(local_archive.index, [reading(M, "k", 0, item_id="p1", published=OCT)])
    (october,) = account_report(local_archive.index, "k", M, EXACT, made_by="test").months
    assert (october.status, october.posts, october.counted, october.unread) == (Status.UNKNOWABLE, 2, 1, 1)
    assert "no count read yet" in october.note


def test_a_thread_count_counts_every_comment_under_the_item(local_archive: Archive) -> None:
    """YouTube's commentCount covers the whole thread: replies to comments count too."""
    y = Platform.YOUTUBE
    index_records(
        local_archive.index,
        [
            record(y, "yt", "v1", published=OCT),
            comment(y, "yt", "t1", "v1", published=OCT),
            comment(y, "yt", "t2", "v1", parent="t1", published=OCT),
        ],
    )
    write_readings(local_archive.index, [reading(y, "yt", 2, item_id="v1", covers=Covers.THREAD, published=OCT)])
    (october,) = account_report(local_archive.index, "yt", y, EXACT, made_by="test").months
    assert (october.status, october.published, october.archived) == (Status.COMPLETE, 2, 2)


def test_a_platform_that_publishes_no_count_is_unknowable_never_complete(local_archive: Archive) -> None:
    li = Platform.LINKEDIN
    index_records(
        local_archive.index, [record(li, "li", "u1", published=OCT), comment(li, "li", "u2", "u1", published=OCT)]
    )
    report = account_report(local_archive.index, "li", li, DEFAULTS.get(li, EXACT), made_by="test")
    assert report.status is Status.UNKNOWABLE
    assert [(m.month, m.status, m.posts) for m in report.months] == [("2026-10", Status.UNKNOWABLE, 1)]
    assert any(u.startswith("comments per post: not published") for u in report.unknowable)
    assert any(u.startswith("account totals: not published") for u in report.unknowable)
    assert report.totals == []


def test_wordpress_totals_compare_and_its_months_are_unknowable(local_archive: Archive) -> None:
    wp = Platform.WORDPRESS
    index_records(
        local_archive.index,
        [
            record(wp, "wp", "post-1", published=OCT),
            record(wp, "wp", "page-2", kind=Kind.PAGE, published=OCT),
            comment(wp, "wp", "comment-3", "post-1", published=OCT),
            comment(wp, "wp", "comment-4", "post-1", published=OCT),
        ],
    )
    write_readings(
        local_archive.index,
        [
            reading(wp, "wp", 1, what=CountOf.POSTS),
            reading(wp, "wp", 1, what=CountOf.PAGES),
            reading(wp, "wp", 3, what=CountOf.COMMENTS, detail="approved"),
        ],
    )
    report = account_report(local_archive.index, "wp", wp, EXACT, made_by="test")
    totals = {(t.what, t.detail): t for t in report.totals}
    assert totals[(CountOf.POSTS, None)].status is Status.COMPLETE
    assert totals[(CountOf.PAGES, None)].status is Status.COMPLETE
    comments = totals[(CountOf.COMMENTS, "approved")]
    assert (comments.status, comments.published, comments.archived) == (Status.GAP, 3, 2)
    assert [m.status for m in report.months] == [Status.UNKNOWABLE]
    assert report.status is Status.GAP


def test_a_runs_own_check_looks_at_the_given_items_only(local_archive: Archive) -> None:
    _mastodon_account(local_archive)
    check = check_items(local_archive.index, "k", M, ["p1", "p3"], EXACT)
    assert check.checked == 2 and check.gaps == []
    assert check.status is Status.GAP  # the posts total is short whatever items were checked
    check = check_items(local_archive.index, "k", M, ["p2", "p4"], EXACT)
    assert check.gaps == ["p2"] and "1 comment(s) missing under 1 item(s)" in check.line


def test_more_counted_items_than_one_batch(local_archive: Archive) -> None:
    """2 500 counted posts over three months: three holdings batches, one missing comment found."""
    posts = [record(M, "big", f"p{i:05d}", published=OCT + timedelta(days=i % 80)) for i in range(2500)]
    comments = [
        comment(M, "big", f"c{i:05d}", f"p{i:05d}", published=p.published_at) for i, p in enumerate(posts) if i != 1234
    ]
    index_records(local_archive.index, [*posts, *comments])
    write_readings(
        local_archive.index, [reading(M, "big", 1, item_id=p.item_id, published=p.published_at) for p in posts]
    )
    report = account_report(local_archive.index, "big", M, EXACT, made_by="test")
    assert sum(m.counted for m in report.months) == 2500
    assert sum(m.posts for m in report.months) == 2500
    assert report.backfill == ["p01234"]
    short = posts[1234].published_at
    assert short is not None
    assert [m.month for m in report.months if m.status is Status.GAP] == [short.strftime("%Y-%m")]


def test_an_x_post_first_archived_past_its_readable_replies_is_unknowable_not_a_gap(local_archive: Archive) -> None:
    """X's recent search reads replies of the last 7 days: a post archived 19 days after it was published
    has replies no harvest can read, so its count is not matched; one watched from its first day is."""
    x = Platform.X
    late = OCT + timedelta(days=19)
    index_records(
        local_archive.index,
        [
            record(x, "xk", "old", published=OCT, first_seen=late, captured=late),
            record(x, "xk", "new", published=OCT, first_seen=OCT + timedelta(hours=2), captured=late),
            comment(x, "xk", "r1", "new", published=OCT + timedelta(hours=3), captured=late),
        ],
    )
    write_readings(
        local_archive.index,
        [
            reading(x, "xk", 4, item_id="old", published=OCT),  # none of its 4 replies could be read
            reading(x, "xk", 2, item_id="new", published=OCT),  # 1 of 2 archived: a real gap
        ],
    )
    (october,) = account_report(local_archive.index, "xk", x, EXACT, made_by="test").months
    assert (october.status, october.incomparable, october.counted, october.missing) == (Status.GAP, 1, 1, 1)
    assert [i.item_id for i in october.items] == ["new"]
    assert "cannot be matched" in october.note
    write_readings(local_archive.index, [reading(x, "xk", 1, item_id="new", published=OCT)])
    report = account_report(local_archive.index, "xk", x, EXACT, made_by="test")
    (october,) = report.months
    assert (october.status, october.unread, report.backfill) == (Status.UNKNOWABLE, 0, [])
