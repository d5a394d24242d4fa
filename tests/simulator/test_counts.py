"""Published counts, platform by platform: what each connector hands over on its bundles
(`CaptureBundle.counts`), checked against the simulator's ground truth and against the very
response the count was read from (the evidence the archive keeps)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simhelp import truth

from schemas import Account, CaptureBundle, CountOf, Covers, CredentialRef, HarvestState, PublishedCount
from simulator import Simulator
from tests.driving import Outcome, drive

LONG = timedelta(days=3650)
TOKEN = "sim-social-token-1"
TOKEN_ENV = "COMMUNIS_SIM_COUNTS_TOKEN"

pytestmark = pytest.mark.sim(posts=30, social_token=TOKEN)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def account(sim: Simulator, platform: str, handle: str, *, token: bool = False) -> Account:
    return Account(
        id=f"sv-{platform}",
        platform=platform,
        handle=handle,
        display_name="Sundsvik",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=sim.url(platform),
        credentials=CredentialRef(env=TOKEN_ENV) if token else None,
    )


def harvested(acc: Account, state: HarvestState | None = None, lookback: timedelta = LONG) -> Outcome:
    out = drive(acc, datetime.now(UTC), lookback=lookback, state=state)
    assert out.kind == "parsed", out.error or out.trace
    return out


def totals(out: Outcome) -> list[tuple[CaptureBundle, PublishedCount]]:
    return [(b, c) for b in out.counted for c in b.counts if c.item_id is None]


def items(out: Outcome) -> dict[str, PublishedCount]:
    found: dict[str, PublishedCount] = {}
    for bundle in out.counted:
        for count in bundle.counts:
            if count.item_id is not None:
                assert count.item_id not in found, f"item {count.item_id} counted twice in one run"
                found[count.item_id] = count
    return found


def body(bundle: CaptureBundle) -> Any:
    return json.loads(bundle.capture.body)


# ---- Mastodon ---------------------------------------------------------------------------------------
def test_mastodon_statuses_count_and_replies_count(sim: Simulator) -> None:
    acc = account(sim, "mastodon", "@sundsvik")
    first = harvested(acc)
    state = sim.state()["mastodon"]
    own = next(a for a in state["accounts"] if a["username"] == "sundsvik")

    [(profile, posts)] = totals(first)
    assert posts.what is CountOf.POSTS and posts.value == own["statuses_count"] > 0
    assert "/api/v1/accounts/lookup" in profile.capture.url  # a first run's lookup is the profile
    assert profile.records == [] and body(profile)["statuses_count"] == posts.value

    rows = [r for r in state["items"] if r["account"] == "sundsvik"]
    children = Counter(r["in_reply_to_id"] for r in rows if r["in_reply_to_id"] and not r["deleted"])
    listed = [r for r in rows if r["role"] in ("own",) and r["author"] == "sundsvik" and r["visible"]]
    counted = items(first)
    assert counted and listed, "the listing's statuses carry their replies_count"
    assert {r["id"] for r in listed} <= set(counted)
    for row in listed:
        count = counted[row["id"]]
        assert count.value == children[row["id"]], row["id"]
        assert count.covers is Covers.CHILDREN and count.what is CountOf.COMMENTS
        assert count.item_published_at == datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    assert sum(c.value for c in counted.values()) > 0
    boosts = {r["id"] for r in rows if r["role"] == "boost"}
    assert boosts and not boosts & set(counted), "a boost's wrapper counts nothing"

    # Each count is on the bundle of the page it was read from, with the value that page shows.
    for bundle in first.counted:
        shown = {s["id"]: s for s in body(bundle)} if isinstance(body(bundle), list) else {}
        for count in bundle.counts:
            if count.item_id is not None:
                assert shown[count.item_id]["replies_count"] == count.value

    # A later run knows the account id: its one profile request is GET /accounts/{id}.
    aid = body(profile)["id"]
    newest = str(max(int(r["id"]) for r in rows))
    cursor = {"account_id": aid, "newest_id": newest}
    again = harvested(acc, HarvestState(account=acc.id, cursor=cursor), lookback=timedelta(seconds=1))
    [(profile2, posts2)] = totals(again)
    assert profile2.capture.url.endswith(f"/api/v1/accounts/{aid}") and posts2.value == posts.value


def visible_children(rows: list[dict[str, Any]]) -> Counter[str]:
    """Ground truth of a social platform: the visible direct replies of each item."""
    return Counter(r["parent"] for r in rows if r["parent"] and r["visible"])


# ---- Bluesky ----------------------------------------------------------------------------------------
def test_bluesky_posts_count_and_reply_count(sim: Simulator) -> None:
    acc = account(sim, "bluesky", "sundsvikkommun.bsky.social")
    first = harvested(acc)
    rows = truth(sim, "bluesky")
    posts = [r for r in rows if r["kind"] == "post" and r["visible"]]

    [(profile, total)] = totals(first)
    assert total.what is CountOf.POSTS and total.value == len(posts) > 0
    assert "app.bsky.actor.getProfile" in profile.capture.url and body(profile)["postsCount"] == total.value

    check_items(first, posts, visible_children(rows), Covers.CHILDREN)
    for bundle in first.counted:
        if "getAuthorFeed" in bundle.capture.url:
            shown = {i["post"]["uri"]: i["post"] for i in body(bundle)["feed"]}
            assert all(shown[c.item_id]["replyCount"] == c.value for c in bundle.counts)

    did = body(profile)["did"]
    again = harvested(acc, HarvestState(account=acc.id, cursor={"did": did}), lookback=timedelta(seconds=1))
    [(profile2, total2)] = totals(again)
    assert f"actor={did.replace(':', '%3A')}" in profile2.capture.url and total2.value == total.value


def per_post_truth(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Counter[str], Counter[str]]:
    """The visible posts, and per post its visible top-level comments and all its visible comments."""
    posts = [r for r in rows if r["kind"] == "post" and r["visible"]]
    top = Counter(r["parent"] for r in rows if r["kind"] == "comment" and r["visible"])
    every = Counter(r["post"] for r in rows if r["kind"] != "post" and r["visible"])
    return posts, top, every


def check_items(out: Outcome, posts: list[dict[str, Any]], want: Counter[str], covers: Covers) -> None:
    counted = items(out)
    published = {r.item_id: r.published_at for r in out.records}
    assert posts and {p["id"] for p in posts} <= set(counted)
    for post in posts:
        count = counted[post["id"]]
        assert (count.value, count.covers, count.what) == (want[post["id"]], covers, CountOf.COMMENTS), post["id"]
        assert count.item_published_at == published[post["id"]]  # the month the count belongs to: the post's
    assert sum(c.value for c in counted.values()) > 0


# ---- Facebook ---------------------------------------------------------------------------------------
def test_facebook_comment_summary_total_count(sim: Simulator) -> None:
    first = harvested(account(sim, "facebook", "sundsvikkommun", token=True))
    posts, top, _ = per_post_truth(truth(sim, "facebook"))
    assert totals(first) == [], "a Page publishes no post count"
    check_items(first, posts, top, Covers.CHILDREN)
    for bundle in first.counted:
        shown = {p["id"]: p for p in body(bundle)["data"]}
        assert all(shown[c.item_id]["comments"]["summary"]["total_count"] == c.value for c in bundle.counts)


# ---- Instagram --------------------------------------------------------------------------------------
def test_instagram_media_count_and_comments_count(sim: Simulator) -> None:
    acc = account(sim, "instagram", "sundsvikkommun", token=True)
    first = harvested(acc)
    posts, _, _ = per_post_truth(truth(sim, "instagram"))
    # The owner's token lists hidden comments too, and comments_count counts them: the count is what
    # the run archived under each post, replies included.
    every = Counter(r.thread_id or "" for r in first.records if r.kind != "post")
    [(profile, media)] = totals(first)
    assert media.what is CountOf.MEDIA and media.value == len(posts) == body(profile)["media_count"]
    check_items(first, posts, every, Covers.THREAD)
    for bundle in first.counted:
        if bundle.counts[0].item_id is not None:
            shown = {m["id"]: m for m in body(bundle)["data"]}
            assert all(shown[c.item_id]["comments_count"] == c.value for c in bundle.counts)

    user = body(profile)["id"]
    again = harvested(acc, HarvestState(account=acc.id, cursor={"user": user}), lookback=timedelta(seconds=1))
    [(profile2, media2)] = totals(again)
    assert f"/{user}?" in profile2.capture.url and "media_count" in profile2.capture.url
    assert media2.value == media.value


# ---- X ----------------------------------------------------------------------------------------------
def test_x_tweet_count_and_reply_count(sim: Simulator) -> None:
    acc = account(sim, "x", "sundsvikkommun", token=True)
    first = harvested(acc)
    rows = truth(sim, "x")
    posts, top, _ = per_post_truth(rows)
    [(profile, tweets)] = totals(first)
    assert tweets.what is CountOf.POSTS and tweets.value == body(profile)["data"]["public_metrics"]["tweet_count"]
    assert tweets.value >= len(posts) > 0
    # reply_count counts direct replies whatever their age; search shows only the last 7 days' to archive.
    check_items(first, posts, top, Covers.CHILDREN)
    for bundle in first.counted:
        if "/tweets" in bundle.capture.url:
            shown = {t["edit_history_tweet_ids"][0]: t for t in body(bundle)["data"]}
            assert all(shown[c.item_id]["public_metrics"]["reply_count"] == c.value for c in bundle.counts)

    user = body(profile)["data"]["id"]
    again = harvested(acc, HarvestState(account=acc.id, cursor={"user_id": user}), lookback=timedelta(seconds=1))
    [(profile2, tweets2)] = totals(again)
    assert f"/2/users/{user}?" in profile2.capture.url and tweets2.value == tweets.value


# ---- YouTube ----------------------------------------------------------------------------------------
def test_youtube_video_count_and_comment_count(sim: Simulator) -> None:
    acc = account(sim, "youtube", "@sundsvikkommun", token=True)
    first = harvested(acc)
    posts, _, every = per_post_truth(truth(sim, "youtube"))
    [(profile, videos)] = totals(first)
    assert videos.what is CountOf.VIDEOS and videos.value == len(posts) > 0
    assert str(videos.value) == body(profile)["items"][0]["statistics"]["videoCount"]  # a digit string
    check_items(first, posts, every, Covers.THREAD)
    for bundle in first.counted:
        if "/videos" in bundle.capture.url:
            shown = {v["id"]: v for v in body(bundle)["items"]}
            assert all(shown[c.item_id]["statistics"]["commentCount"] == str(c.value) for c in bundle.counts)
    archived = Counter(r.thread_id or "" for r in first.records if r.kind != "post")
    assert all(archived[p["id"]] == every[p["id"]] for p in posts)  # what the report will compare with

    channel = body(profile)["items"][0]
    cursor = {"channel": channel["id"], "uploads": channel["contentDetails"]["relatedPlaylists"]["uploads"]}
    again = harvested(acc, HarvestState(account=acc.id, cursor=cursor), lookback=timedelta(seconds=1))
    [(profile2, videos2)] = totals(again)
    assert f"id={channel['id']}" in profile2.capture.url and videos2.value == videos.value


# ---- WordPress --------------------------------------------------------------------------------------
def test_wordpress_x_wp_total_of_posts_pages_and_approved_comments(sim: Simulator) -> None:
    acc = account(sim, "wordpress", "blogg")
    first = harvested(acc)
    rows = sim.state()["wordpress"]["items"]
    want = {
        (CountOf.POSTS, None): sum(r["type"] == "post" and r["visible"] for r in rows),
        (CountOf.PAGES, None): sum(r["type"] == "page" and r["visible"] for r in rows),
        (CountOf.COMMENTS, "approved"): sum(r["type"] == "comment" and r["status"] == "approved" for r in rows),
    }
    assert all(want.values())
    got = {(c.what, c.detail): (b, c) for b, c in totals(first)}
    assert {k: c.value for k, (_, c) in got.items()} == want
    for bundle, count in got.values():  # a backfill's totals come from its listings' first pages
        assert bundle.records and bundle.capture.url.endswith("page=1")
        assert bundle.capture.header("X-WP-Total") == str(count.value)  # the response header, kept in the WARC
    assert items(first) == {}, "core WordPress publishes no per-post comment count"

    # An incremental run's listings are filtered by date: on a sweep, one small request per listing gives
    # the totals; between sweeps none is read, so a quiet run asks what it asked before.
    since = HarvestState(account=acc.id, cursor={"modified_after": "2100-01-01T00:00:00+00:00"})
    again = harvested(acc, since, lookback=timedelta(seconds=1))
    got = {(c.what, c.detail): (b, c) for b, c in totals(again)}
    assert {k: c.value for k, (_, c) in got.items()} == want
    assert all("per_page=1" in b.capture.url and "_fields=id" in b.capture.url for b, _ in got.values())
    quiet = drive(acc, datetime.now(UTC), lookback=timedelta(seconds=1), state=since, sweep=False)
    assert quiet.kind == "parsed" and totals(quiet) == []


# ---- Flickr -----------------------------------------------------------------------------------------
def test_flickr_photos_total_and_count_comments(sim: Simulator) -> None:
    acc = account(sim, "flickr", "sundsvikkommun", token=True)
    first = harvested(acc)  # a first run lists with getPublicPhotos: its first page has the total
    posts, _, _ = per_post_truth(truth(sim, "flickr"))
    [(page, photos)] = totals(first)
    assert photos.what is CountOf.MEDIA and photos.value == len(posts) == body(page)["photos"]["total"] > 0
    assert page.records and "getPublicPhotos" in page.capture.url
    # Flickr comments are flat and hidden ones are not listed: count_comments is what the run archived.
    archived = Counter(r.parent_id or "" for r in first.records if r.kind != "post")
    check_items(first, posts, archived, Covers.CHILDREN)
    for bundle in first.counted:
        shown = {p["id"]: p for p in body(bundle)["photos"]["photo"]}
        assert all(shown[c.item_id]["count_comments"] == str(c.value) for c in bundle.counts if c.item_id)

    # A run between sweeps searches by date, whose total counts only what it finds: it reads no total (and
    # asks nothing more); its per-photo counts are on the search pages.
    nsid = body(page)["photos"]["photo"][0]["owner"]
    newest = str(max(int(r.published_at.timestamp()) for r in first.records if r.kind == "post" and r.published_at))
    state = HarvestState(account=acc.id, cursor={"nsid": nsid, "newest": newest})
    again = drive(acc, datetime.now(UTC), lookback=timedelta(seconds=1), state=state, sweep=False)
    assert again.kind == "parsed", again.error
    assert totals(again) == [] and all("flickr.photos.search" in b.capture.url for b in again.counted)


# ---- a count that drifts ----------------------------------------------------------------------------
SOCIAL = {
    "bluesky": ("sundsvikkommun.bsky.social", False),
    "facebook": ("sundsvikkommun", True),
    "instagram": ("sundsvikkommun", True),
    "x": ("sundsvikkommun", True),
    "youtube": ("@sundsvikkommun", True),
    "flickr": ("sundsvikkommun", True),
}


@pytest.mark.parametrize("platform", sorted(SOCIAL))
def test_a_drifting_count_moves_without_a_visible_item(sim: Simulator, platform: str) -> None:
    """The platform's count moves (spam removed, an account gone private) while every listed item stays as
    it was: the connector reports the new value, and the archive's records do not change."""
    handle, token = SOCIAL[platform]
    acc = account(sim, platform, handle, token=token)
    before = harvested(acc)
    post = next(r for r in truth(sim, platform) if r["kind"] == "post" and r["visible"])
    counted = items(before)[post["id"]]
    total_before = next((c for _, c in totals(before)), None)
    sim.apply([{"type": f"{platform}.drift", "no": post["no"], "by": 2}, {"type": f"{platform}.drift", "by": -1}])
    after = harvested(acc)
    assert items(after)[post["id"]].value == counted.value + 2
    assert next(r for r in truth(sim, platform) if r["id"] == post["id"])["count_drift"] == 2
    assert sim.state()["platforms"][platform]["total_drift"] == -1
    if total_before is not None:
        [(_, total_after)] = totals(after)
        assert total_after.value == total_before.value - 1
    assert sorted((r.item_id, r.content_sha256) for r in after.records) == sorted(
        (r.item_id, r.content_sha256) for r in before.records
    )


def test_a_drifting_mastodon_count(sim: Simulator) -> None:
    acc = account(sim, "mastodon", "@sundsvik")
    before = harvested(acc)
    status = next(c for c in items(before).values() if c.value > 0)
    [(_, total_before)] = totals(before)
    sim.apply(
        [
            {"type": "mastodon.drift", "id": status.item_id, "by": -1},
            {"type": "mastodon.drift", "account": "sundsvik", "by": 3},
        ]
    )
    after = harvested(acc)
    assert items(after)[status.item_id or ""].value == status.value - 1
    assert totals(after)[0][1].value == total_before.value + 3
    row = next(r for r in sim.state()["mastodon"]["items"] if r["id"] == status.item_id)
    assert row["count_drift"] == -1
    assert sorted(r.content_sha256 for r in after.records) == sorted(r.content_sha256 for r in before.records)
