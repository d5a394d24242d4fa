"""The YouTube connector against real Data API v3 responses (python-youtube's recorded fixtures).

Each test drives one harvest (`tests.driving.drive`, as the harvest service runs it) over loopback
HTTP, every request answered from `tests/recordings/youtube/testdata/apidata/` (see its README.md),
and compares what came out with an independent, plain reading of the same JSON in this file.

The SDK's suite recorded each endpoint on its own, not one channel's request chain, so the chain
the connector walks (channel → uploads playlist pages → `videos?id=` → `commentThreads?videoId=` →
`comments?parentId=`) is composed from several recordings, as each test's docstring says:

* the channel lookup: `channels/info_multiple.json` with only its Google Developers item (the one
  recording that has the `contentDetails` part, and so the uploads playlist); the recordings
  without it (`channels/info.json`, `channel_info_*.json`) are served as they are and must fail
  the run with the cause;
* `videos?id=` is answered with a recorded videos page, whichever ids were asked: the recorded
  videos are not those of the recorded playlist pages. A comment page is likewise answered for a
  video it was not recorded for. Records must say what each payload says (a thread's
  `snippet.videoId` where it has one, else the video that was asked for);
* the recorded playlist items and videos were fetched without the `contentDetails` and
  `statistics` parts: the connector must read a playlist item's video from `snippet.resourceId`;
* thumbnails (i.ytimg.com) are not in the recordings: `ToLoopback` sends those requests to the
  replay server too, they answer 404 and are quarantined as media, which these tests set aside.

`comments?parentId=` answers have no `videoId` (YouTube's comment resource defines none): their
replies belong to the video of the thread that was read (the defect of issue 13).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import Account, CredentialRef, Record
from tests.driving import Outcome, drive
from tests.replay.loopback import HOST_HEADER, ToLoopback
from tests.replay.server import RECORDINGS, Answer, Asked, serving

API = RECORDINGS / "youtube" / "testdata" / "apidata"
KEY_ENV = "COMMUNIS_REPLAY_YOUTUBE_KEY"
NOW = datetime.fromisoformat("2026-12-01T00:00:00+00:00")
DEVELOPERS = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
THUMB_ORDER = ("maxres", "standard", "high", "medium", "default")


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def developers_channel() -> dict[str, Any]:
    """`channels/info_multiple.json` narrowed to the Google Developers channel (what `forHandle` gives)."""
    body = load(API / "channels" / "info_multiple.json")
    return {**body, "items": [c for c in body["items"] if c["id"] == DEVELOPERS]}


Route = Callable[[Asked], Answer | None]


def harvest(handle: str, route: Route, monkeypatch: pytest.MonkeyPatch) -> tuple[Outcome, list[Asked]]:
    """One harvest of `handle`, every request (the API's and the thumbnails') answered on loopback."""
    monkeypatch.setenv(KEY_ENV, "replay-key")
    with serving(route) as server:
        account = Account(
            id="replay-youtube",
            platform="youtube",
            handle=handle,
            display_name="Replay",
            department="Test",
            retention_class="social-10y",
            base_url=server.base_url,
            credentials=CredentialRef(env=KEY_ENV),
        )
        outcome = drive(account, NOW, ToLoopback(server.base_url))
    return outcome, server.asked


def replay(handle: str, route: Route, monkeypatch: pytest.MonkeyPatch) -> tuple[Outcome, list[Asked]]:
    """A harvest that must end as parsed, with nothing quarantined but unrecorded thumbnails."""
    outcome, asked = harvest(handle, route, monkeypatch)
    assert outcome.kind == "parsed", outcome.crash or outcome.error or outcome.trace
    assert not [r for r in outcome.reasons if not r.startswith("media https://i.ytimg.com/")], outcome.reasons
    return outcome, asked


def pages(files: list[Path]) -> Callable[[Asked], Answer]:
    """Token-paged answers: the first file without `pageToken`, then each recorded `nextPageToken` →
    the next file (the tokens are the recorded ones)."""
    bodies = [load(f) for f in files]

    def answer(asked: Asked) -> Answer:
        token = asked.param("pageToken")
        for body, after in zip(bodies, [None, *[b.get("nextPageToken") for b in bodies]], strict=False):
            if token == after:
                return Answer.json(body)
        raise AssertionError(f"page token {token!r} was never recorded")

    return answer


def in_turn(files: list[Path]) -> Callable[[Asked], Answer]:
    """The files one per call, in order (the last one again after that)."""
    calls: list[int] = []

    def answer(asked: Asked) -> Answer:
        calls.append(1)
        return Answer.file(files[min(len(calls), len(files)) - 1])

    return answer


def router(table: dict[str, Callable[[Asked], Answer | None]]) -> Route:
    """Answers by API resource; a thumbnail (another host) is not recorded."""

    def answer(asked: Asked) -> Answer | None:
        resource = asked.path.strip("/")
        if asked.headers.get(HOST_HEADER, "").endswith("ytimg.com") or resource not in table:
            return None
        return table[resource](asked)

    return answer


def keyed(param: str, table: dict[str, Callable[[Asked], Answer]]) -> Callable[[Asked], Answer | None]:
    """Answers by the value of one request parameter (the video of a thread listing, the parent of replies)."""
    return lambda asked: table[asked.param(param) or ""](asked) if (asked.param(param) or "") in table else None


# ---- an independent reading of the Data API's JSON -------------------------------------------------
def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tags(text: str) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in re.findall(r"(?<![\w&])#(\w[\w-]*)", text)))


def check_video(record: Record, video: dict[str, Any], channel: str) -> None:
    snippet = video["snippet"]
    thumbs = snippet.get("thumbnails") or {}
    best = next((thumbs[k]["url"] for k in THUMB_ORDER if k in thumbs), None)
    assert record.kind == "post" and record.item_id == video["id"]
    assert record.thread_id == video["id"] and record.parent_id is None
    assert record.title == snippet["title"] and record.text == snippet.get("description", "")
    assert record.author.id == snippet["channelId"] and record.author.name == snippet.get("channelTitle")
    assert record.direction == ("upprattad" if snippet["channelId"] == channel else "inkommen")
    assert record.url == f"https://www.youtube.com/watch?v={video['id']}"
    assert record.published_at == when(snippet["publishedAt"]) and record.edited_at is None
    assert [m.url for m in record.media] == ([best] if best else [])
    assert record.hashtags == tags(snippet.get("description", ""))
    assert record.language == (snippet.get("defaultLanguage") or snippet.get("defaultAudioLanguage"))
    assert record.repost_of is None and record.quote_of is None and record.poll is None


def check_comment(record: Record, comment: dict[str, Any], video: str, channel: str) -> None:
    snippet = comment["snippet"]
    author = (snippet.get("authorChannelId") or {}).get("value")
    parent = snippet.get("parentId")
    published, updated = when(snippet["publishedAt"]), when(snippet["updatedAt"])
    assert record.item_id == comment["id"]
    assert record.kind == ("reply" if parent else "comment")
    assert record.parent_id == (parent or video) and record.thread_id == video
    assert record.text == snippet["textOriginal"]
    assert record.author.id == author and record.author.name == snippet["authorDisplayName"]
    assert record.author.url == snippet["authorChannelUrl"]
    assert record.direction == ("upprattad" if author == channel else "inkommen")
    assert record.url == f"https://www.youtube.com/watch?v={video}&lc={comment['id']}"
    assert record.published_at == published
    assert record.edited_at == (updated if updated > published else None)
    assert record.hashtags == tags(snippet["textOriginal"])
    assert record.media == [] and record.links == [] and record.repost_of is None


def thread_comments(thread: dict[str, Any], asked_video: str) -> tuple[str, list[dict[str, Any]]]:
    """A thread's video (its own `videoId`, else the video asked for) and its comments (top and embedded)."""
    snippet = thread["snippet"]
    video = snippet.get("videoId", asked_video)
    return video, [snippet["topLevelComment"], *((thread.get("replies") or {}).get("comments") or [])]


def by_id(outcome: Outcome) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for record in outcome.records:
        out.setdefault(record.item_id, []).append(record)
    return out


# ---- the recordings --------------------------------------------------------------------------------
def test_uploads_videos_threads_and_replies_by_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole chain. Channel: `channels/info_multiple.json` (its Google Developers item). Uploads:
    `playlist_items/playlist_items_paged_1.json` → `_paged_2.json` (10 + 3 items, no contentDetails).
    Videos: `videos/videos_info_multi.json` for the first page's ids, `videos_myrating_paged_2.json`
    for the second's. Threads: D-lhorsDlUQ → `comment_threads_multi.json` (recorded for it);
    ovdbrdCIP7U → `comment_threads_by_video_paged_1.json` → `_paged_2.json` (recorded for F1UP7wRCPH8;
    a thread there has `totalReplyCount` 2 and no embedded replies); 7mIDiKK4eyo →
    `comment_threads_all_to_me.json` (threads of several videos, two without `videoId`, one with a
    reply not embedded). Replies by parent: that by_video thread → `comments/comments_by_parent_paged_1.json`
    → `_paged_2.json`; the all_to_me thread → `comments/comments_multi.json`."""
    by_video = [API / "comment_threads" / f"comment_threads_by_video_paged_{n}.json" for n in (1, 2)]
    by_parent = [API / "comments" / f"comments_by_parent_paged_{n}.json" for n in (1, 2)]
    playlist = [API / "playlist_items" / f"playlist_items_paged_{n}.json" for n in (1, 2)]
    videos = [API / "videos" / "videos_info_multi.json", API / "videos" / "videos_myrating_paged_2.json"]
    threads = {
        "D-lhorsDlUQ": [API / "comment_threads" / "comment_threads_multi.json"],
        "ovdbrdCIP7U": by_video,
        "7mIDiKK4eyo": [API / "comment_threads" / "comment_threads_all_to_me.json"],
    }
    replies = {
        "UgwI_ylXVnzPS8Q-oAV4AaABAg": by_parent,
        "UgwSRpgkjCe6OHHe3IJ4AaABAg": [API / "comments" / "comments_multi.json"],
    }
    outcome, asked = replay(
        "@googledevelopers",
        router(
            {
                "channels": lambda a: (
                    Answer.json(developers_channel()) if a.param("forHandle") == "@googledevelopers" else None
                ),
                "playlistItems": pages(playlist),
                "videos": in_turn(videos),
                "commentThreads": keyed("videoId", {v: pages(f) for v, f in threads.items()}),
                "comments": keyed("parentId", {p: pages(f) for p, f in replies.items()}),
            }
        ),
        monkeypatch,
    )
    # Every playlist item's video was asked for (by `snippet.resourceId`), page by page.
    listed = [[i["snippet"]["resourceId"]["videoId"] for i in load(f)["items"]] for f in playlist]
    assert [a.param("id") for a in asked if a.path == "/videos"] == [",".join(ids) for ids in listed]
    records = by_id(outcome)
    expected: dict[str, tuple[str, dict[str, Any], str | None]] = {}
    for video in [v for f in videos for v in load(f)["items"]]:
        expected[video["id"]] = ("video", video, None)
    thread_video: dict[str, str] = {}
    for asked_video, files in threads.items():
        for thread in [t for f in files for t in load(f)["items"]]:
            video, comments = thread_comments(thread, asked_video)
            thread_video[thread["id"]] = video
            expected.update({c["id"]: ("comment", c, video) for c in comments})
    for parent, files in replies.items():
        expected.update({c["id"]: ("comment", c, thread_video[parent]) for f in files for c in load(f)["items"]})
    assert sorted(records) == sorted(expected)
    for item_id, (what, item, video_id) in expected.items():
        for record in records[item_id]:
            if what == "video":
                check_video(record, item, DEVELOPERS)
            else:
                assert video_id is not None
                check_comment(record, item, video_id, DEVELOPERS)
    reply_ids = [c["id"] for f in by_parent for c in load(f)["items"]]
    assert len(reply_ids) == 3 and all(records[r][0].kind == "reply" for r in reply_ids)
    assert {records[r][0].thread_id for r in reply_ids} == {"F1UP7wRCPH8"}  # the thread's video


@pytest.mark.parametrize(
    "videos_file",
    [
        "videos_info_single.json",
        "videos_info_multi.json",
        "videos_chart_paged_1.json",
        "videos_chart_paged_2.json",
        "videos_myrating_paged_1.json",
        "videos_myrating_paged_2.json",
    ],
)
def test_every_recorded_videos_page(videos_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each recorded `videos` page as the answer to the videos of a one-item uploads page
    (`playlist_items_single.json`); the videos' threads are answered with the single thread recorded
    for D-lhorsDlUQ (`comment_threads/comment_thread_single.json`). Other channels' videos (the chart)
    are `inkommen`: what their `channelId` says."""
    thread_file = API / "comment_threads" / "comment_thread_single.json"
    outcome, _ = replay(
        "@googledevelopers",
        router(
            {
                "channels": lambda a: Answer.json(developers_channel()),
                "playlistItems": pages([API / "playlist_items" / "playlist_items_single.json"]),
                "videos": in_turn([API / "videos" / videos_file]),
                "commentThreads": pages([thread_file]),
            }
        ),
        monkeypatch,
    )
    videos = load(API / "videos" / videos_file)["items"]
    (thread,) = load(thread_file)["items"]
    records = by_id(outcome)
    assert sorted(records) == sorted({v["id"] for v in videos} | {thread["id"]})
    for video in videos:
        check_video(records[video["id"]][0], video, DEVELOPERS)
    # The real counts: each video's `statistics.commentCount` (a digit string) where the page has one (these
    # recordings asked for no `statistics`: none is made up), and the channel's `videoCount` from the
    # channel lookup, the first run's profile.
    counts = [c for b in outcome.counted for c in b.counts]
    with_count = {
        v["id"]: int(v["statistics"]["commentCount"]) for v in videos if "commentCount" in v.get("statistics", {})
    }
    assert {c.item_id: c.value for c in counts if c.item_id} == with_count
    assert [c.value for c in counts if c.item_id is None] == [
        int(developers_channel()["items"][0]["statistics"]["videoCount"])
    ]
    for record in records[thread["id"]]:
        check_comment(record, thread["snippet"]["topLevelComment"], thread["snippet"]["videoId"], DEVELOPERS)


@pytest.mark.parametrize(
    "threads_file",
    [
        "comment_thread_single.json",
        "comment_threads_multi.json",
        "comment_threads_by_channel.json",
        "comment_threads_with_search.json",
    ],
)
def test_every_recorded_thread_page(threads_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each recorded `commentThreads` page as the threads of D-lhorsDlUQ (`videos_info_single.json`
    behind `playlist_items_single.json`). Channel threads (`by_channel`, `with_search`) have no
    `videoId`: they are recorded as comments of the video that was read."""
    outcome, _ = replay(
        "@googledevelopers",
        router(
            {
                "channels": lambda a: Answer.json(developers_channel()),
                "playlistItems": pages([API / "playlist_items" / "playlist_items_single.json"]),
                "videos": in_turn([API / "videos" / "videos_info_single.json"]),
                "commentThreads": keyed("videoId", {"D-lhorsDlUQ": pages([API / "comment_threads" / threads_file])}),
            }
        ),
        monkeypatch,
    )
    records = by_id(outcome)
    threads = load(API / "comment_threads" / threads_file)["items"]
    expected = {c["id"]: (c, video) for t in threads for video, cs in [thread_comments(t, "D-lhorsDlUQ")] for c in cs}
    assert sorted(records) == sorted({"D-lhorsDlUQ", *expected})
    for item_id, (comment, video) in expected.items():
        check_comment(records[item_id][0], comment, video, DEVELOPERS)


@pytest.mark.parametrize(
    "playlist_file", ["playlist_items_single.json", "playlist_items_multi.json", "playlist_items_filter_video.json"]
)
def test_every_recorded_playlist_page_asks_for_its_videos(playlist_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each recorded one-page `playlistItems` answer (no `contentDetails` part): every item's video is
    asked for by its `snippet.resourceId.videoId`, none is quarantined. The videos answer is
    `videos_info_single.json`, and no comments are asked for (its thread page is not routed)."""
    outcome, asked = replay(
        "@googledevelopers",
        router(
            {
                "channels": lambda a: Answer.json(developers_channel()),
                "playlistItems": pages([API / "playlist_items" / playlist_file]),
                "videos": in_turn([API / "videos" / "videos_info_single.json"]),
                "commentThreads": lambda a: Answer.file(API / "comment_threads" / "comment_thread_single.json"),
            }
        ),
        monkeypatch,
    )
    items = load(API / "playlist_items" / playlist_file)["items"]
    assert [a.param("id") for a in asked if a.path == "/videos"] == [
        ",".join(i["snippet"]["resourceId"]["videoId"] for i in items)
    ]
    (video,) = load(API / "videos" / "videos_info_single.json")["items"]
    check_video(by_id(outcome)["D-lhorsDlUQ"][0], video, DEVELOPERS)


@pytest.mark.parametrize("channel_file", ["channels/info.json", "channel_info_single.json", "channel_info_multi.json"])
def test_a_channel_answer_without_content_details_fails_the_run_with_the_cause(
    channel_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Channel answers recorded without the `contentDetails` part name no uploads playlist: the run
    fails with a one-line error that says so (not a crash, not an empty success)."""
    outcome, _ = harvest(
        "@googledevelopers", router({"channels": lambda a: Answer.file(API / channel_file)}), monkeypatch
    )
    assert outcome.kind == "failed", outcome.crash or outcome.trace
    assert outcome.error is not None and "no uploads playlist" in outcome.error
    assert "contentDetails" in outcome.error and "replay-key" not in outcome.error
