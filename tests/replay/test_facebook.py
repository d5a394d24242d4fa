"""The Facebook connector against real Graph API responses (python-facebook's recorded fixtures).

Each test drives one harvest (`tests.driving.drive`, as the harvest service runs it) over loopback
HTTP, every request answered from `tests/recordings/facebook/testdata/` (see its README.md), and
compares what came out with an independent, plain reading of the same JSON in this file. Where the
connector's request chain needs a file the SDK's suite did not record in the same sequence, the
answer is composed from several recordings, as each test's docstring says:

* the Page lookup (`GET /{handle}?fields=id,name,username`) is answered with the Page object the
  recording holds for that id (`pages/multi_pages.json` is keyed by id; `users/user.json` is id 4);
* a post's comments that were never recorded are answered with the recorded Graph error
  `error.json` (code 100, HTTP 400): the connector must quarantine that thread with the Graph
  error, not fail the run;
* media files (fbcdn.net) are not in the recordings: they answer 404 and are quarantined as media.

Recorded `paging.next` URLs name graph.facebook.com; `ToLoopback` sends them to the replay server.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import Record
from tests.driving import Outcome
from tests.replay.graph import graph_path
from tests.replay.graph import replay as graph_replay
from tests.replay.loopback import HOST_HEADER
from tests.replay.server import RECORDINGS, Asked

TESTDATA = RECORDINGS / "facebook" / "testdata"
API = TESTDATA / "facebook" / "apidata"


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def replay(
    handle: str, routes: dict[str, list[Path] | Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Outcome, list[Asked]]:
    """Harvest the Page `handle` with `routes` (tests/replay/graph.py says how they are served)."""
    return graph_replay("facebook", handle, routes, monkeypatch, threads=("/comments",))


# ---- an independent reading of Graph post and comment JSON -----------------------------------------
def when(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def urls(text: str) -> list[str]:
    return [u.rstrip(".,;:!?)") for u in re.findall(r"https?://[^\s<>\"']+", text)]


def unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def expected_media_and_links(post: dict[str, Any]) -> tuple[list[tuple[str | None, str]], list[str]]:
    """(media as (url, type), links) as the attachments say: a photo's image; a video's file
    (`media.source`), or, where Graph gives none (`video_autoplay` with only `media.image`), its
    poster image as media and its page in links; a shared link's URL in links."""
    media: list[tuple[str | None, str]] = []  # None: Graph named no poster (the record would lack it)
    links = urls(post.get("message", ""))
    attachments = list((post.get("attachments") or {}).get("data") or [])
    while attachments:
        att = attachments.pop(0)
        if att.get("type") == "share":
            links.append(att.get("unshimmed_url") or att["url"])
        subs = (att.get("subattachments") or {}).get("data")
        if subs:
            attachments[:0] = subs
            continue
        image = ((att.get("media") or {}).get("image") or {}).get("src")
        source = (att.get("media") or {}).get("source")
        if source:
            media.append((source, "video/*"))
        elif att.get("media_type") == "video":
            media.append((image, "image/*"))
            links.append(att.get("unshimmed_url") or att.get("url") or att["target"]["url"])
        elif att.get("media_type") in ("photo", "album", None) and image:
            media.append((image, "image/*"))
    return media, unique(links)


def check_post(record: Record, post: dict[str, Any], page_id: str) -> None:
    message = post.get("message", "")
    author = (post.get("from") or {}).get("id", page_id)
    media, links = expected_media_and_links(post)
    assert record.kind == "post" and record.thread_id == post["id"] and record.parent_id is None
    assert record.text == message
    assert record.author.id == author
    assert record.direction == ("upprattad" if author == page_id else "inkommen")
    assert record.url == post.get("permalink_url")
    assert record.published_at == when(post["created_time"])
    assert record.edited_at is None  # Graph shows no edit time; updated_time also moves on comments
    assert [(m.url, m.content_type) for m in record.media] == media
    assert record.links == links
    assert record.hashtags == unique([t.lower() for t in re.findall(r"(?<![\w&])#(\w[\w-]*)", message)])
    assert record.mentions == unique([t["name"] for t in post.get("message_tags") or []])


def check_comment(record: Record, comment: dict[str, Any], post_id: str, page_id: str) -> None:
    parent = (comment.get("parent") or {}).get("id")
    author = (comment.get("from") or {}).get("id")
    assert record.kind == ("reply" if parent else "comment")
    assert record.parent_id == (parent or post_id) and record.thread_id == post_id
    assert record.text == comment.get("message", "")
    assert record.author.id == author
    assert record.direction == ("upprattad" if author == page_id else "inkommen")
    assert record.url == comment.get("permalink_url")
    assert record.published_at == when(comment["created_time"])
    assert record.links == unique(urls(comment.get("message", "")))
    assert record.mentions == unique([t["name"] for t in comment.get("message_tags") or []])


def by_id(outcome: Outcome) -> dict[str, Record]:
    return {r.item_id: r for r in outcome.records}


def not_media(outcome: Outcome) -> list[str]:
    return [r for r in outcome.reasons if not r.startswith("media ")]


# ---- the recordings --------------------------------------------------------------------------------
def test_page_feed_with_photos_links_and_videos_without_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Page feed of Facebook for Developers, two pages (`posts/feeds_default_fields_p1.json`, its
    `paging.next` → `_p2.json`), behind the Page lookup (`pages/multi_pages.json`). The posts' comments
    were not recorded: each thread is quarantined with the recorded Graph error."""
    page = load(API / "pages" / "multi_pages.json")["19292868552"]
    pages = [API / "posts" / "feeds_default_fields_p1.json", API / "posts" / "feeds_default_fields_p2.json"]
    outcome, asked = replay(
        "FacebookforDevelopers",
        {
            "/FacebookforDevelopers": page,
            "/19292868552/posts": pages,
            "/19292868552/feed": pages,
        },
        monkeypatch,
    )
    posts = [p for f in pages for p in load(f)["data"]]
    records = by_id(outcome)
    assert sorted(records) == sorted(p["id"] for p in posts)
    for post in posts:
        check_post(records[post["id"]], post, "19292868552")
    videos = [p for p in posts if p["attachments"]["data"][0]["type"] == "video_autoplay"]
    assert len(videos) == 2 and all(records[p["id"]].media for p in videos)  # the defect of issue 13
    commented = [p["id"] for p in posts if p["comments"]["summary"]["total_count"] > 0]
    # Graph's own counts, each on the bundle of the listing page it was read from.
    for bundle in outcome.counted:
        shown = {p["id"]: p["comments"]["summary"]["total_count"] for p in json.loads(bundle.capture.body)["data"]}
        assert {c.item_id: c.value for c in bundle.counts} == shown
    counted = {c.item_id or "": c for b in outcome.counted for c in b.counts}
    assert {i: c.value for i, c in counted.items()} == {p["id"]: p["comments"]["summary"]["total_count"] for p in posts}
    assert all(c.item_published_at == records[i].published_at and c.covers == "children" for i, c in counted.items())
    reasons = not_media(outcome)
    assert len(reasons) == len(commented)
    for post_id, reason in zip(commented, reasons, strict=True):
        assert reason.startswith(f"comments of {post_id}: Graph error 100/-: (#100) Pages Public Content Access")
    media_asked = [a for a in asked if graph_path(a) is None]
    assert {a.headers[HOST_HEADER] for a in media_asked} <= {
        "scontent-ssn1-1.xx.fbcdn.net",
        "external-ssn1-1.xx.fbcdn.net",
    }


def test_posts_with_tags_and_their_recorded_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    """`posts/multi_posts_data.json` (two posts as `GET /?ids=` answers them, keyed by id, each with
    `message_tags` and the first page of its comments embedded) served as one listing page; each
    post's comments are answered with its embedded comments (ids, authors, empty `message_tags`)."""
    posts = list(load(API / "posts" / "multi_posts_data.json").values())
    outcome, _ = replay(
        "19292868552",
        {
            "/19292868552": load(API / "pages" / "multi_pages.json")["19292868552"],
            "/19292868552/posts": {"data": posts},
            **{f"/{p['id']}/comments": {"data": p["comments"]["data"]} for p in posts},
        },
        monkeypatch,
    )
    records = by_id(outcome)
    comments = {c["id"]: (p["id"], c) for p in posts for c in p["comments"]["data"]}
    assert sorted(records) == sorted([p["id"] for p in posts] + list(comments))
    for post in posts:
        check_post(records[post["id"]], post, "19292868552")
        assert records[post["id"]].mentions  # both posts tag Pages
    for comment_id, (post_id, comment) in comments.items():
        check_comment(records[comment_id], comment, post_id, "19292868552")
    assert not not_media(outcome)


def test_comment_pages_without_ids_are_quarantined_with_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    """`comments/comments_p1.json` → `_p2.json` (the SDK's authors removed every comment's id) and
    `comments/comments_info.json` (comments with ids, keyed by id: served as one page). Their posts
    were not recorded: the listing is composed of the two post ids alone (the comments' permalinks
    name them), so each post is quarantined for its missing `created_time` and its comments are read."""
    post_a, post_b = "19292868552_10158407654328553", "19292868552_10158371815748553"
    with_ids = list(load(API / "comments" / "comments_info.json").values())
    outcome, _ = replay(
        "19292868552",
        {
            "/19292868552": load(API / "pages" / "multi_pages.json")["19292868552"],
            "/19292868552/posts": {"data": [{"id": post_a}, {"id": post_b}]},
            f"/{post_a}/comments": [API / "comments" / "comments_p1.json", API / "comments" / "comments_p2.json"],
            f"/{post_b}/comments": {"data": with_ids},
        },
        monkeypatch,
    )
    without_ids = [c for n in (1, 2) for c in load(API / "comments" / f"comments_p{n}.json")["data"]]
    assert len(without_ids) == 15 and not any("id" in c for c in without_ids)
    reasons = not_media(outcome)
    posts_rejected = [r for r in reasons if "unreadable post" in r]
    comments_rejected = [r for r in reasons if "unreadable comment" in r]
    # The cause leads (the request URL, 290 characters here, comes after it).
    assert len(posts_rejected) == 2
    assert all(r.startswith("unreadable post (KeyError: 'created_time')") for r in posts_rejected)
    assert len(comments_rejected) == len(without_ids)
    assert all(r.startswith("unreadable comment (KeyError: 'id')") for r in comments_rejected)
    assert len(reasons) == len(posts_rejected) + len(comments_rejected)
    records = by_id(outcome)
    assert sorted(records) == sorted(c["id"] for c in with_ids)
    for comment in with_ids:
        check_comment(records[comment["id"]], comment, post_b, "19292868552")


def test_group_feed_posts_without_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's feed (`groups/feed_p1.json` → `_p2.json`, one post without `message`); the lookup is
    answered with the group's id alone (the recording has no object for that group)."""
    pages = [API / "groups" / "feed_p1.json", API / "groups" / "feed_p2.json"]
    outcome, _ = replay(
        "2260975870792283",
        {
            "/2260975870792283": {"id": "2260975870792283", "name": "DevC Hong Kong"},
            "/2260975870792283/posts": pages,
            "/2260975870792283/feed": pages,
        },
        monkeypatch,
    )
    posts = [p for f in pages for p in load(f)["data"]]
    records = by_id(outcome)
    assert sorted(records) == sorted(p["id"] for p in posts)
    for post in posts:
        check_post(records[post["id"]], post, "2260975870792283")
    assert any(records[p["id"]].text == "" for p in posts if "message" not in p)
    assert all(re.match(r"comments of \S+: Graph error 100/-: ", r) for r in not_media(outcome))


def test_profile_posts_repeated_on_the_next_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """`posts/feed_fields_p1.json` → `_p2.json` (the fixture repeats page 1's posts), behind the
    recorded profile `users/user.json` (id 4)."""
    pages = [API / "posts" / "feed_fields_p1.json", API / "posts" / "feed_fields_p2.json"]
    outcome, _ = replay("4", {"/4": load(API / "users" / "user.json"), "/4/posts": pages}, monkeypatch)
    posts = load(pages[0])["data"]
    assert load(pages[1])["data"] == posts
    for record in outcome.records:
        check_post(record, next(p for p in posts if p["id"] == record.item_id), "4")
    assert {r.item_id for r in outcome.records} == {p["id"] for p in posts}


def test_single_post_with_reactions_and_no_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    """`posts/single_post_data.json` (a post as `GET /{post-id}` answers it, with its reactions and an
    empty comment summary) served as a one-post listing page; no comments are asked for."""
    post = load(API / "posts" / "single_post_data.json")
    outcome, asked = replay(
        "175154750010052",
        {
            "/175154750010052": {"id": "175154750010052"},
            "/175154750010052/posts": {"data": [post]},
        },
        monkeypatch,
    )
    assert [r.item_id for r in outcome.records] == [post["id"]]
    check_post(outcome.records[0], post, "175154750010052")
    assert not outcome.rejected and not any(a.path.endswith("/comments") for a in asked)
