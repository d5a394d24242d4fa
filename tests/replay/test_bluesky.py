"""The Bluesky connector against real AppView responses (atproto.dart's recorded fixtures).

One harvest per test over loopback HTTP (`tests.driving.drive`, `ToLoopback`), every request answered
from `tests/recordings/bluesky-dart/.../app/bsky/`, the records compared with a plain reading of the
same JSON here (not the connector's code). The connector's chain: `getProfile` (the DID), then
`getAuthorFeed` (newest first, `cursor` paging), then `getPostThread` for the threads it reads (its
own replies' roots, and posts with replies). Composed answers, as each docstring says: the recorded
author feed has one page, so the page after it is an empty one (`{"feed": []}`, as the AppView ends
a feed); a thread never recorded answers what the AppView answers for a post it does not have
(400 `NotFound`), so the account's own replies in it are recorded from the feed, as they are when a
thread's root was deleted; image files on the CDN answer a few bytes of JPEG.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import Account, Record
from tests.driving import Outcome, drive
from tests.replay.loopback import HOST_HEADER, ToLoopback
from tests.replay.server import RECORDINGS, Answer, Asked, serving

BSKY = RECORDINGS / "bluesky-dart" / "packages" / "bluesky" / "test" / "src" / "services" / "suite" / "app" / "bsky"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def replay(
    profile: dict[str, Any], feed: Path | dict[str, Any], threads: dict[str, Path]
) -> tuple[Outcome, list[Asked]]:
    """Harvest the account of `profile`, its author feed answered by `feed`, threads by `threads`."""

    def answer(asked: Asked) -> Answer | None:
        if asked.headers.get(HOST_HEADER, "").endswith("cdn.bsky.social"):
            return Answer(200, JPEG, {"Content-Type": "image/jpeg"})
        method = asked.path.removeprefix("/xrpc/")
        if method == "app.bsky.actor.getProfile":
            return Answer.json(profile)
        if method == "app.bsky.feed.getAuthorFeed":
            if asked.param("cursor"):
                return Answer.json({"feed": []})
            return Answer.file(feed) if isinstance(feed, Path) else Answer.json(feed)
        if method == "app.bsky.feed.getPostThread":
            recorded = threads.get(asked.param("uri") or "")
            if recorded is None:
                return Answer.json({"error": "NotFound", "message": f"Post not found: {asked.param('uri')}"}, 400)
            return Answer.file(recorded)
        return None

    with serving(answer) as server:
        account = Account(
            id="replay-bluesky",
            platform="bluesky",
            handle=profile["handle"],
            display_name="Replay",
            department="Test",
            retention_class="social-10y",
            base_url=server.base_url,
        )
        outcome = drive(account, NOW, ToLoopback(server.base_url))
    assert outcome.kind == "parsed", outcome.crash or outcome.error or outcome.trace
    return outcome, server.asked


# ---- an independent reading of AppView post views ---------------------------------------------------
def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def page_of(uri: str, handle: str) -> str:
    did, _collection, rkey = uri.removeprefix("at://").split("/")
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


def expected(view: dict[str, Any], own_did: str, thread_root: str | None = None) -> dict[str, Any]:
    """What a reader of the post view sees, field by field."""
    rec = view["record"]
    parent = rec["reply"]["parent"]["uri"] if "reply" in rec else None
    root = rec["reply"]["root"]["uri"] if "reply" in rec else (thread_root or view["uri"])
    embed = view.get("embed") or {}
    shown = embed.get("media", embed)  # a quote with media shows its media beside the quote
    media = [(i["fullsize"], "image/*") for i in shown.get("images", [])]
    if "playlist" in shown:
        media.append((shown["playlist"], "video/*"))
    links = [
        f["uri"]
        for facet in rec.get("facets", [])
        for f in facet["features"]
        if f["$type"] == "app.bsky.richtext.facet#link"
    ]
    if "external" in shown and shown["external"]["uri"] not in links:
        links.append(shown["external"]["uri"])
    text_bytes = rec["text"].encode()
    mentions = []
    for facet in rec.get("facets", []):
        for f in facet["features"]:
            if f["$type"] == "app.bsky.richtext.facet#mention":
                written = text_bytes[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
                assert written.startswith("@")
                mentions.append(written[1:])
    quoted = None
    if embed.get("$type") == "app.bsky.embed.record#view":
        quoted = embed["record"]
    elif embed.get("$type") == "app.bsky.embed.recordWithMedia#view":
        quoted = embed["record"]["record"]
    quote_of = None
    if quoted is not None and "/app.bsky.feed.post/" in quoted["uri"]:
        handle = quoted.get("author", {}).get("handle") or quoted["uri"].removeprefix("at://").split("/")[0]
        quote_of = page_of(quoted["uri"], handle)
    return {
        "item_id": view["uri"],
        "text": rec["text"],
        "author": (view["author"]["did"], view["author"]["handle"]),
        "published_at": when(rec["createdAt"]),
        "parent_id": parent,
        "thread_id": root,
        "kind": "post" if parent is None else ("comment" if parent == root else "reply"),
        "direction": "upprattad" if view["author"]["did"] == own_did else "inkommen",
        "url": page_of(view["uri"], view["author"]["handle"]),
        "media": media,
        "links": links,
        "mentions": list(dict.fromkeys(mentions)),
        "quote_of": quote_of,
        "repost_of": None,
    }


def actual(record: Record) -> dict[str, Any]:
    return {
        "item_id": record.item_id,
        "text": record.text,
        "author": (record.author.id, record.author.handle),
        "published_at": record.published_at,
        "parent_id": record.parent_id,
        "thread_id": record.thread_id,
        "kind": record.kind.value,
        "direction": record.direction.value,
        "url": record.url,
        "media": [(m.url, m.content_type) for m in record.media],
        "links": record.links,
        "mentions": record.mentions,
        "quote_of": record.quote_of,
        "repost_of": record.repost_of,
    }


def hashtags_shown(text: str) -> list[str]:
    """#words a reader sees in the text (none of the recordings has tag facets)."""
    out = []
    for word in text.split():
        if word.startswith("#") and len(word) > 1 and word[1].isalnum():
            out.append(word[1:].rstrip(".,!?:;)").lower())
    return list(dict.fromkeys(out))


def check_feed(outcome: Outcome, feed: list[dict[str, Any]], own_did: str, read_threads: dict[str, Path]) -> None:
    """Every item of a recorded author feed is a record (a repost two); the account's own replies in
    threads not recorded are recorded from the feed."""
    records = {r.item_id: r for r in outcome.records}
    wanted: dict[str, dict[str, Any]] = {}
    for item in feed:
        post, reason = item["post"], item.get("reason")
        if reason is not None:
            assert reason["$type"] == "app.bsky.feed.defs#reasonRepost"
            original = expected(post, own_did)
            by = reason["by"]
            wanted[f"{post['uri']}#repost-by-{by['did']}"] = {
                **original,
                "item_id": f"{post['uri']}#repost-by-{by['did']}",
                "author": (by["did"], by["handle"]),
                "direction": "upprattad" if by["did"] == own_did else "inkommen",
                "kind": "post",
                "parent_id": None,
                "thread_id": f"{post['uri']}#repost-by-{by['did']}",
                "url": None,
                "repost_of": original["url"],
                "published_at": when(reason["indexedAt"]),
            }
            wanted[post["uri"]] = original
        elif "reply" in item and item["reply"]["root"]["uri"] in read_threads:
            continue  # recorded from its thread
        else:
            wanted[post["uri"]] = expected(post, own_did)
    assert wanted, "the recording has posts"
    assert set(wanted) <= set(records), sorted(set(wanted) - set(records))[:3]
    for item_id, fields in wanted.items():
        assert actual(records[item_id]) == fields, item_id
        assert records[item_id].hashtags == hashtags_shown(fields["text"]), item_id
    assert not [r for r in outcome.reasons if not r.startswith("media ")]
    assert set(records) == set(wanted), sorted(set(records) - set(wanted))[:3]


# ---- the recordings ---------------------------------------------------------------------------------
def test_author_feed_posts_reposts_link_cards_and_mentions() -> None:
    """`actor/getProfile.json` (shinyakato.dev) and its `feed/getAuthorFeed.json`: posts with images,
    a link card whose URL is also a link facet, mention facets, two reposts of other people's posts
    (one with images and mentions), and the account's own replies (their threads were not recorded)."""
    profile = load(BSKY / "actor" / "getProfile.json")
    feed = load(BSKY / "feed" / "getAuthorFeed.json")["feed"]
    outcome, asked = replay(profile, BSKY / "feed" / "getAuthorFeed.json", {})
    check_feed(outcome, feed, profile["did"], {})
    reposts = [r for r in outcome.records if r.repost_of]
    assert len(reposts) == 2 and all(r.direction == "upprattad" for r in reposts)
    assert any(r.mentions for r in outcome.records)
    assert [a.param("actor") for a in asked if a.path.endswith("getAuthorFeed")][0] == profile["did"]
    # The real AppView's counts: `postsCount` of the profile, `replyCount` of each own post and reply.
    counts = [(b.capture.url, c) for b in outcome.counted for c in b.counts]
    assert [c.value for _, c in counts if c.item_id is None] == [profile["postsCount"]] == [3358]
    per_post = {c.item_id: c.value for url, c in counts if c.item_id is not None and "getAuthorFeed" in url}
    assert per_post == {i["post"]["uri"]: i["post"]["replyCount"] for i in feed if not i.get("reason")}
    assert sum(per_post.values()) > 0


def test_a_feed_with_quotes_with_media_and_a_repost_of_a_reply() -> None:
    """`feed/getTimeline.json` (200 items, all the account's own posts and reposts) served as the
    author feed: quote posts (`record#view`), quotes with images (`recordWithMedia#view`), link
    cards without a link facet in the text, and a repost of someone's reply."""
    profile = load(BSKY / "actor" / "getProfile.json")
    feed = load(BSKY / "feed" / "getTimeline.json")["feed"]
    outcome, _ = replay(profile, BSKY / "feed" / "getTimeline.json", {})
    check_feed(outcome, feed, profile["did"], {})
    records = {r.item_id: r for r in outcome.records}
    with_media = [
        i["post"] for i in feed if i["post"].get("embed", {}).get("$type") == "app.bsky.embed.recordWithMedia#view"
    ]
    assert with_media and all(records[p["uri"]].media and records[p["uri"]].quote_of for p in with_media)
    assert all(m.sha256 for p in with_media for m in records[p["uri"]].media)  # the images were archived
    reposted_reply = next(i["post"] for i in feed if i.get("reason") and "reply" in i["post"]["record"])
    assert records[reposted_reply["uri"]].kind == "comment" and records[reposted_reply["uri"]].direction == "inkommen"


def test_a_thread_with_its_replies() -> None:
    """`feed/getPostThread.json`: a reply by skeet.computer with its replies below it and its parents
    above (among them a deleted post, `notFoundPost`, and blocked ones, `blockedPost`). The
    account is its author (profile composed from the post's author) and its feed lists that post
    (composed: `{"feed": [{"post": <the recorded view>}]}`), which has replies, so its thread is read.
    The connector asks for `parentHeight=0`, so the parents are not its to record."""
    thread = load(BSKY / "feed" / "getPostThread.json")["thread"]
    focus = thread["post"]
    profile = {"did": focus["author"]["did"], "handle": focus["author"]["handle"]}
    outcome, asked = replay(profile, {"feed": [{"post": focus}]}, {focus["uri"]: BSKY / "feed" / "getPostThread.json"})
    assert [a.param("uri") for a in asked if a.path.endswith("getPostThread")] == [focus["uri"]]
    # What the recorded answer holds below the post asked for, breadth first as a reader unfolds it.
    views, pending = [], list(thread.get("replies", []))
    while pending:
        node = pending.pop(0)
        if node["$type"] != "app.bsky.feed.defs#threadViewPost":
            continue  # a deleted or blocked reply: nothing the public can read
        views.append(node["post"])
        pending += node.get("replies", [])
    records = {r.item_id: r for r in outcome.records}
    assert views and set(records) == {focus["uri"]} | {v["uri"] for v in views}
    for view in [focus, *views]:
        assert actual(records[view["uri"]]) == expected(view, profile["did"]), view["uri"]
    assert records[focus["uri"]].kind == "reply" and records[focus["uri"]].direction == "upprattad"
    # The composed profile has no `postsCount`: it is quarantined for want of its total, and nothing else is.
    assert [r.split(" — ")[0] for r in outcome.reasons if not r.startswith("media ")] == [
        "account profile without a readable total"
    ]


def test_post_views_of_get_posts() -> None:
    """`feed/getPosts.json`'s post views listed as the account's feed (composed: `{"feed": [{post}]}`),
    the account the posts' author."""
    posts = load(BSKY / "feed" / "getPosts.json")["posts"]
    profile = {"did": posts[0]["author"]["did"], "handle": posts[0]["author"]["handle"]}
    outcome, _ = replay(profile, {"feed": [{"post": p} for p in posts]}, {})
    records = {r.item_id: r for r in outcome.records}
    assert set(records) == {p["uri"] for p in posts}
    for post in posts:
        assert actual(records[post["uri"]]) == expected(post, profile["did"])


@pytest.mark.parametrize("name", ["getAuthorFeed", "getTimeline"])
def test_no_item_is_silently_dropped(name: str) -> None:
    """Count check: every feed item is accounted for: one record each, two for a repost (the act and
    the reposted post), and no quarantine entry but for media."""
    profile = load(BSKY / "actor" / "getProfile.json")
    feed = load(BSKY / "feed" / f"{name}.json")["feed"]
    outcome, asked = replay(profile, BSKY / "feed" / f"{name}.json", {})
    reposts = sum(1 for i in feed if i.get("reason"))
    assert len(outcome.records) == len(feed) + reposts
    assert len({r.item_id for r in outcome.records}) == len(outcome.records)
    threads = {i["reply"]["root"]["uri"] for i in feed if not i.get("reason") and "reply" in i}
    assert {a.param("uri") for a in asked if a.path.endswith("getPostThread")} >= threads
