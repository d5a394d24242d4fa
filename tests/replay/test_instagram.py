"""The Instagram connector against real Instagram Graph API responses (python-facebook's fixtures).

As in test_facebook.py: one harvest per test over loopback HTTP (`tests.driving.drive`), every
request answered from `tests/recordings/facebook/testdata/`, the records compared with a plain
reading of the same JSON here. The connector's chain is `GET /me` (the token's user), then
`/{ig-user-id}/media` (its recorded `paging.next` → the second page), then `/{media-id}/comments`
for media with comments. Composed answers, as each docstring says: the user comes from the
recording that holds the media's owner; comments never recorded are answered with the recorded
Graph error `error.json` (the thread is quarantined with it); media files answer 404.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from schemas import Record
from tests.driving import Outcome
from tests.replay.graph import replay as graph_replay
from tests.replay.server import RECORDINGS, Asked
from tests.replay.test_facebook import load, unique, urls, when

TESTDATA = RECORDINGS / "facebook" / "testdata"
GRAPH = TESTDATA / "instagram" / "apidata"
BASIC = TESTDATA / "instagram_basic" / "apidata"


def replay(
    handle: str, routes: dict[str, list[Path] | Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Outcome, list[Asked]]:
    """Harvest `handle` with `routes` (tests/replay/graph.py says how they are served)."""
    return graph_replay("instagram", handle, routes, monkeypatch, threads=("/comments", "/replies"))


# ---- an independent reading of Instagram media and comment JSON ------------------------------------
def words(text: str, sign: str) -> list[str]:
    return unique([w.rstrip(".-") for w in re.findall(rf"(?<![\w{sign}]){sign}(\w[\w.-]*)", text)])


def check_media(record: Record, item: dict[str, Any], user: dict[str, Any]) -> None:
    caption = item.get("caption", "")
    parts = item["children"]["data"] if item["media_type"] == "CAROUSEL_ALBUM" else [item]
    assert record.kind == "post" and record.thread_id == item["id"] and record.parent_id is None
    assert record.text == caption
    assert record.author.id == user["id"] and record.author.handle == item.get("username", user["username"])
    assert record.direction == "upprattad"
    assert record.url == item["permalink"]
    assert record.published_at == when(item["timestamp"])
    assert [(m.url, m.content_type) for m in record.media] == [
        (p["media_url"], "video/*" if p["media_type"] == "VIDEO" else "image/*") for p in parts
    ]
    assert record.hashtags == [t.lower() for t in words(caption, "#")]
    assert record.mentions == words(caption, "@")
    assert record.links == unique(urls(caption))


def check_comment(
    record: Record, comment: dict[str, Any], media_id: str, parent: str | None, user: dict[str, Any]
) -> None:
    """`parent`: the comment a reply is listed under (`replies`), when the reply does not say it."""
    parent = comment.get("parent_id") or parent
    author = comment.get("from") or comment.get("user") or {}
    own = author.get("id") == user["id"] or comment.get("username") == user["username"]
    assert record.kind == ("reply" if parent else "comment")
    assert record.parent_id == (parent or media_id) and record.thread_id == media_id
    assert record.text == comment["text"]
    assert record.author.handle == comment.get("username")
    assert record.direction == ("upprattad" if own else "inkommen")
    assert record.published_at == when(comment["timestamp"])
    assert record.hidden_on_platform == bool(comment.get("hidden"))
    assert record.mentions == words(comment["text"], "@")


def by_id(outcome: Outcome) -> dict[str, Record]:
    return {r.item_id: r for r in outcome.records}


def not_media(outcome: Outcome) -> list[str]:
    return [r for r in outcome.reasons if not r.startswith("media ")]


# ---- the recordings --------------------------------------------------------------------------------
def test_business_account_media_two_pages_with_a_carousel(monkeypatch: pytest.MonkeyPatch) -> None:
    """`users/user_fields.json` answers `/me`; its media `users/medias_p1.json` → `medias_p2.json`
    (images, a carousel of images and a video). One media has comments, not recorded: quarantined."""
    user = load(GRAPH / "users" / "user_fields.json")
    pages = [GRAPH / "users" / "medias_p1.json", GRAPH / "users" / "medias_p2.json"]
    outcome, _ = replay(
        "facebookfordevelopers",
        {
            "/me": user,
            f"/{user['id']}/media": pages,
            "/17841406338772941/media": pages,
        },
        monkeypatch,
    )
    items = [m for p in pages for m in load(p)["data"]]
    records = by_id(outcome)
    assert sorted(records) == sorted(m["id"] for m in items)
    for item in items:
        check_media(records[item["id"]], item, user)
    commented = [m["id"] for m in items if m["comments_count"]]
    reasons = not_media(outcome)
    assert len(reasons) == len(commented) and commented
    for media_id, reason in zip(commented, reasons, strict=True):
        assert reason.startswith(f"comments of {media_id}: Graph error 100/-: (#100) Pages Public Content Access")
    # The real counts: the user's `media_count` (from `/me`, the first run's profile) and each media's
    # `comments_count` on the listing page it was read from.
    counts = [c for b in outcome.counted for c in b.counts]
    assert [c.value for c in counts if c.item_id is None] == [user["media_count"]]
    assert {c.item_id: c.value for c in counts if c.item_id} == {m["id"]: m["comments_count"] for m in items}
    assert all(c.covers == "thread" for c in counts if c.item_id)


def test_comment_pages_of_a_media(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user of `instagram_basic/apidata/user/user_info.json`, its media `user_medias_p1.json` →
    `_p2.json` (Basic Display: no `comments_count`, so every media's comments are asked for), and the
    comments of media 17846368219941692 `instagram/apidata/medias/comments_p1.json` → `_p2.json`
    (their `paging.next` names that media). The other media's comments were not recorded."""
    user = load(BASIC / "user" / "user_info.json")
    pages = [BASIC / "user" / "user_medias_p1.json", BASIC / "user" / "user_medias_p2.json"]
    comment_pages = [GRAPH / "medias" / "comments_p1.json", GRAPH / "medias" / "comments_p2.json"]
    outcome, _ = replay(
        "ikroskun",
        {
            "/me": user,
            f"/{user['id']}/media": pages,
            "/17846368219941692/comments": comment_pages,
        },
        monkeypatch,
    )
    items = [m for p in pages for m in load(p)["data"]]
    comments = [c for p in comment_pages for c in load(p)["data"]]
    records = by_id(outcome)
    assert sorted(records) == sorted([m["id"] for m in items] + [c["id"] for c in comments])
    for item in items:
        check_media(records[item["id"]], item, user)
    for comment in comments:
        check_comment(records[comment["id"]], comment, "17846368219941692", None, user)
    unrecorded = [m["id"] for m in items if m["id"] != "17846368219941692"]
    assert sorted(r.split(":")[0] for r in not_media(outcome)) == sorted(f"comments of {i}" for i in unrecorded)


def test_comment_with_embedded_replies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A comment with its `replies` embedded (`instagram/models/ig_comment.json`, by the account
    itself) served as the comment page of its media (`media.id`), that media taken from
    `user_medias_p1.json`, behind `user_info.json`. The reply carries no `parent_id`: it is listed
    under its comment, so that comment is its parent."""
    user = load(BASIC / "user" / "user_info.json")
    comment = load(TESTDATA / "instagram" / "models" / "ig_comment.json")
    media = next(m for m in load(BASIC / "user" / "user_medias_p1.json")["data"] if m["id"] == comment["media"]["id"])
    outcome, _ = replay(
        "ikroskun",
        {
            "/me": user,
            f"/{user['id']}/media": {"data": [media]},
            f"/{media['id']}/comments": {"data": [comment]},
        },
        monkeypatch,
    )
    records = by_id(outcome)
    reply = comment["replies"]["data"][0]
    assert sorted(records) == sorted([media["id"], comment["id"], reply["id"]])
    check_media(records[media["id"]], media, user)
    check_comment(records[comment["id"]], comment, media["id"], None, user)
    check_comment(records[reply["id"]], reply, media["id"], comment["id"], user)
    assert not not_media(outcome)
