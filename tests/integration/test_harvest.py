"""Harvesting end to end: simulator → connectors → WARC → store → index, over several runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from archive.config import Settings
from archive.context import Archive
from archive.harvest.health import account_health
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from schemas import Account
from simulator import Simulator, Timeline, WorldConfig
from tests.harvesting import archived_versions, sim_now


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(WorldConfig().resized(120)) as running:
        yield running


def accounts(sim: Simulator) -> list[Account]:
    return [
        Account(
            id="sv-masto",
            platform="mastodon",
            handle="@sundsvik",
            display_name="Sundsvik på Mastodon",
            department="Kommunstyrelsen",
            retention_class="social-10y",
            base_url=sim.mastodon_url,
        ),
        Account(
            id="sv-blogg",
            platform="wordpress",
            handle="blogg",
            display_name="Ordförandens blogg",
            department="Kommunstyrelsen",
            retention_class="social-10y",
            base_url=sim.wordpress_url,
        ),
    ]


def run(arc: Archive, sim: Simulator) -> dict[str, HarvestReport]:
    now = sim_now(sim)
    return {a.id: harvest_one(arc.settings, arc.store, arc.index, a, now=now) for a in accounts(sim)}


def versions(arc: Archive, account: str) -> dict[str, list[dict[str, Any]]]:
    return archived_versions(arc, account)


def truth_ids(sim: Simulator) -> tuple[set[str], set[str]]:
    state = sim.state()
    masto = {i["id"] for i in state["mastodon"]["items"] if i["visible"] and not i["deleted"]}
    blog = {f"{i['type']}-{i['id']}" for i in state["wordpress"]["items"] if i["visible"] and not i["deleted"]}
    return masto, blog


@pytest.fixture
def arc(settings: Settings) -> Iterator[Archive]:
    archive = Archive(settings)
    yield archive
    archive.index.destroy()


def test_backfill_then_edits_deletions_and_comments_exactly_once(arc: Archive, sim: Simulator) -> None:
    first = run(arc, sim)
    assert all(r.ok for r in first.values()), {k: r.error for k, r in first.items()}
    masto_truth, blog_truth = truth_ids(sim)
    masto, blog = versions(arc, "sv-masto"), versions(arc, "sv-blogg")
    assert masto_truth <= set(masto), sorted(masto_truth - set(masto))[:5]
    assert blog_truth <= set(blog), sorted(blog_truth - set(blog))[:5]
    assert all(len(v) == 1 for v in [*masto.values(), *blog.values()])
    assert any(d["media"] and d["media"][0]["sha256"] for v in masto.values() for d in v)
    assert {d["direction"] for v in blog.values() for d in v} == {"upprattad", "inkommen"}

    # The timeline: new, edited and deleted posts, a comment on an old post, a moderated comment.
    state = sim.state()
    own = sorted(
        (i for i in state["mastodon"]["items"] if i["role"] == "own" and not i["deleted"]),
        key=lambda i: i["created_at"],
    )
    posts = sorted(
        (i for i in state["wordpress"]["items"] if i["type"] == "post" and not i["deleted"]),
        key=lambda i: i["date_gmt"],
    )
    comments = sorted(
        (i for i in state["wordpress"]["items"] if i["type"] == "comment" and i["visible"]), key=lambda i: i["date_gmt"]
    )
    edited_m, deleted_m = own[-1]["id"], own[-2]["id"]
    window = (sim_now(sim) - timedelta(days=30)).isoformat()
    assert own[-2]["created_at"] >= window.replace("+00:00", "Z"), "the deleted status must be in the look-back window"
    edited_w, deleted_w, old_w = posts[-1]["id"], posts[-2]["id"], posts[0]["id"]
    hidden_c = comments[-1]["id"]  # inside the look-back window, where moderation is watched
    results = sim.apply(
        Timeline()
        .advance(hours=2)
        .add("mastodon.publish", account="sundsvik", text="Ny badplats öppnar i Ålsta 🏖️ #sommar")
        .add("mastodon.edit", id=edited_m, text="Rättelse: mötet börjar 18:30.")
        .add("mastodon.delete", id=deleted_m)
        .add("mastodon.reply", in_reply_to_id=edited_m, text="Tack för infon!")
        .add("wordpress.edit", id=edited_w, text="Uppdaterad text om budgeten.")
        .add("wordpress.delete", id=deleted_w, mode="trash")
        .add("wordpress.comment", post=old_w, parent=0, text="En sen fråga om ett gammalt inlägg", author_name="Eva")
        .add("wordpress.moderate_comment", id=hidden_c, status="spam")
    )
    new_status = results[1]["id"]
    second = run(arc, sim)
    assert all(r.ok for r in second.values())
    masto, blog = versions(arc, "sv-masto"), versions(arc, "sv-blogg")
    assert [d["version"] for d in masto[new_status]] == [1]
    assert [d["text"] for d in masto[edited_m]][-1] == "Rättelse: mötet börjar 18:30."
    assert len(masto[edited_m]) == 2 and masto[edited_m][-1]["is_latest"] and not masto[edited_m][0]["is_latest"]
    assert masto[deleted_m][-1]["deleted"] is True and masto[deleted_m][0]["text"]  # content kept
    assert any(d["text"] == "Tack för infon!" for v in masto.values() for d in v)
    assert len(blog[f"post-{edited_w}"]) == 2 and blog[f"post-{deleted_w}"][-1]["deleted"] is True
    assert any(d["text"] == "En sen fråga om ett gammalt inlägg" for v in blog.values() for d in v)
    assert blog[f"comment-{hidden_c}"][-1]["hidden_on_platform"] is True

    before = arc.index.count()
    third = run(arc, sim)
    changed = {k: r.counts for k, r in third.items() if r.counts.new or r.counts.edited or r.counts.deleted}
    assert changed == {}
    assert arc.index.count() == before


def test_a_failing_account_does_not_stop_the_others_and_is_reported(arc: Archive, sim: Simulator) -> None:
    sim.apply(Timeline().fault("status", count=None, status=500, match={"platform": "mastodon"}))
    for _ in range(3):
        reports = run(arc, sim)
        assert not reports["sv-masto"].ok and reports["sv-blogg"].ok
        assert "500" in (reports["sv-masto"].error or "")
    health = {h.account: h for h in account_health(arc.store, arc.index, accounts(sim), sim_now(sim), max_failures=3)}
    assert health["sv-masto"].alarm and "3 runs in a row" in health["sv-masto"].alarm
    assert health["sv-blogg"].ok and health["sv-blogg"].items > 0


def test_rate_limits_and_transient_errors_are_waited_out(arc: Archive, sim: Simulator) -> None:
    sim.apply(
        Timeline()
        .fault("rate_limit", count=2, retry_after=1, match={"platform": "mastodon"})
        .fault("status", count=2, status=503, match={"platform": "wordpress"})
    )
    reports = run(arc, sim)
    assert all(r.ok for r in reports.values()), {k: r.error for k, r in reports.items()}
    statuses = [r.status for r in sim.requests()]
    assert statuses.count(429) == 2 and statuses.count(503) == 2
    masto_truth, blog_truth = truth_ids(sim)
    assert masto_truth <= set(versions(arc, "sv-masto")) and blog_truth <= set(versions(arc, "sv-blogg"))


def test_malformed_pages_are_quarantined_and_the_run_goes_on(arc: Archive, sim: Simulator) -> None:
    sim.apply(
        Timeline().fault(
            "malformed",
            count=1,
            variant="truncated",
            match={"platform": "wordpress", "path_prefix": "/wp/wp-json/wp/v2/comments"},
        )
    )
    reports = run(arc, sim)
    blog = reports["sv-blogg"]
    assert blog.quarantined and any("comments" in q.url or "comments" in q.reason for q in blog.quarantined)
    assert versions(arc, "sv-blogg")  # posts were archived all the same
    kept = arc.store.open(blog.quarantined[0].key).read()
    assert b"reason" in kept
    again = run(arc, sim)["sv-blogg"]  # the cursor did not move past the bad page: it is read now
    assert again.ok and not again.quarantined
    assert blog_truth_ids(sim) <= set(versions(arc, "sv-blogg"))


def blog_truth_ids(sim: Simulator) -> set[str]:
    return truth_ids(sim)[1]


def test_oversized_media_is_quarantined_and_the_rest_archived(arc: Archive, sim: Simulator) -> None:
    capped = Archive(arc.settings.model_copy(update={"media_max_bytes": 1024 * 1024}))
    oversized = [m["url"] for i in sim.state()["mastodon"]["items"] for m in i["media"] if m["oversized"]]
    assert oversized, "the simulator serves one oversized media file"
    report = harvest_one(capped.settings, capped.store, capped.index, accounts(sim)[0], now=sim_now(sim))
    assert report.ok
    reasons = [q.reason for q in report.quarantined]
    assert any("size cap" in r and any(u.split("/")[-1] in r for u in oversized) for r in reasons), reasons
    assert report.counts.media > 0  # the other media files were archived


def test_a_version_returning_to_earlier_content_keeps_every_version(arc: Archive, sim: Simulator) -> None:
    """Live → hidden → live again, and an edit reverted: the third version has the first one's content,
    and must not take its id (that overwrote version 1 in the index). Reindex gives the same ids."""
    from archive.preservation.reindex import reindex

    assert all(r.ok for r in run(arc, sim).values())
    state = sim.state()
    own = sorted(
        (i for i in state["mastodon"]["items"] if i["role"] == "own" and not i["deleted"]),
        key=lambda i: i["created_at"],
    )
    comments = sorted(
        (i for i in state["wordpress"]["items"] if i["type"] == "comment" and i["visible"]), key=lambda i: i["date_gmt"]
    )
    status, comment = own[-1]["id"], comments[-1]["id"]
    original = versions(arc, "sv-masto")[status][0]["text"]
    sim.apply(
        Timeline()
        .advance(hours=1)
        .add("mastodon.edit", id=status, text="Fel tid i förra inlägget.")
        .add("wordpress.moderate_comment", id=comment, status="spam")
    )
    assert all(r.ok for r in run(arc, sim).values())
    sim.apply(
        Timeline()
        .advance(hours=1)
        .add("mastodon.edit", id=status, text=original)
        .add("wordpress.moderate_comment", id=comment, status="approved")
    )
    assert all(r.ok for r in run(arc, sim).values())

    masto, blog = versions(arc, "sv-masto")[status], versions(arc, "sv-blogg")[f"comment-{comment}"]
    for docs in (masto, blog):
        assert [d["version"] for d in docs] == [1, 2, 3]
        assert docs[0]["content_sha256"] != docs[1]["content_sha256"]
        assert len({d["record_id"] for d in docs}) == 3
        assert [d["is_latest"] for d in docs] == [False, False, True]
    assert [d["text"] for d in masto] == [original, "Fel tid i förra inlägget.", original]
    assert [d["hidden_on_platform"] for d in blog] == [False, True, False]
    assert blog[0]["content_sha256"] == blog[2]["content_sha256"]  # back to exactly the first content

    before = sorted(d["_id"] for d in arc.index.all_documents())
    reindex(arc.store, arc.index)
    assert sorted(d["_id"] for d in arc.index.all_documents()) == before
