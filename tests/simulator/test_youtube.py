"""YouTube Data API v3 wire format: channel → uploads, playlist paging, videos, comment threads,
the API key, Google's error envelope, quota."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from simhelp import token_pages, truth

from archive.connectors.youtube import YouTubeConnector
from archive.errors import RateLimited
from simulator import Simulator

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEY = "yt-api-key-123456"


pytestmark = [pytest.mark.sim(social_token=KEY), pytest.mark.client("youtube", params={"key": KEY})]


def uploads(http: httpx.Client) -> str:
    body = http.get("/channels", params={"part": "contentDetails", "forHandle": "@sundsvikkommun"}).json()
    assert body["kind"] == "youtube#channelListResponse" and len(body["items"]) == 1
    playlist: str = body["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    assert playlist.startswith("UU") and playlist[2:] == body["items"][0]["id"][2:]
    return playlist


def walk(http: httpx.Client, path: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    bodies = token_pages(http, path, params, lambda body: body.get("nextPageToken"), "pageToken")
    return [item for body in bodies for item in body["items"]], len(bodies)


def test_uploads_playlist_pages_to_the_end_newest_first(http: httpx.Client, sim: Simulator) -> None:
    assert http.get("/channels", params={"part": "id", "forHandle": "@nobody"}).json().get("items") is None
    playlist = uploads(http)
    items, pages = walk(
        http, "/playlistItems", {"part": "snippet,contentDetails", "playlistId": playlist, "maxResults": 15}
    )
    videos = [r for r in truth(sim, "youtube") if r["kind"] == "post" and r["visible"]]
    assert pages == -(-len(videos) // 15)
    ids = [i["contentDetails"]["videoId"] for i in items]
    assert set(ids) == {r["id"] for r in videos} and len(ids) == len(set(ids))
    stamps = [i["contentDetails"]["videoPublishedAt"] for i in items]
    assert stamps == sorted(stamps, reverse=True) and all(TS.match(s) for s in stamps)
    assert [i["snippet"]["position"] for i in items] == list(range(len(items)))
    default = http.get("/playlistItems", params={"part": "id", "playlistId": playlist}).json()
    assert len(default["items"]) == 5 and default["pageInfo"]["totalResults"] == len(videos)
    assert set(default["items"][0]) == {"kind", "etag", "id"}
    bad = http.get("/playlistItems", params={"part": "id", "playlistId": playlist, "pageToken": "nonsense!"})
    assert bad.status_code == 400 and bad.json()["error"]["errors"][0]["reason"] == "invalidPageToken"


def test_a_deleted_video_is_absent_from_videos_list(http: httpx.Client, sim: Simulator) -> None:
    video = next(r for r in truth(sim, "youtube") if r["kind"] == "post" and r["visible"])
    other = next(r for r in truth(sim, "youtube") if r["kind"] == "post" and r["visible"] and r["id"] != video["id"])
    both = {"part": "snippet,statistics", "id": f"{video['id']},{other['id']}"}
    body = http.get("/videos", params=both).json()
    assert {v["id"] for v in body["items"]} == {video["id"], other["id"]}
    first = next(v for v in body["items"] if v["id"] == video["id"])
    assert first["snippet"]["title"] == video["title"] and first["snippet"]["description"] == video["text"]
    assert isinstance(first["statistics"]["commentCount"], str)
    sim.apply([{"type": "youtube.delete", "no": video["no"]}])
    after = http.get("/videos", params=both).json()
    assert [v["id"] for v in after["items"]] == [other["id"]]
    threads = http.get("/commentThreads", params={"part": "snippet", "videoId": video["id"]})
    assert threads.status_code == 404 and threads.json()["error"]["errors"][0]["reason"] == "videoNotFound"


def test_api_key_is_required(sim: Simulator) -> None:
    url = sim.url("youtube") + "/channels"
    params = {"part": "id", "forHandle": "@sundsvikkommun"}
    missing = httpx.get(url, params=params)
    assert missing.status_code == 403
    assert missing.json()["error"]["errors"][0]["reason"] == "forbidden"
    wrong = httpx.get(url, params={**params, "key": "wrong"})
    assert wrong.status_code == 400 and "API key not valid" in wrong.json()["error"]["message"]
    assert httpx.get(url, params={**params, "key": KEY}).status_code == 200


def test_faults_use_the_google_error_envelope(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "count": 1, "retry_after": 9, "match": {"platform": "youtube"}},
            {"type": "fault", "kind": "status", "status": 503, "count": 1, "match": {"platform": "youtube"}},
        ]
    )
    limited = http.get("/channels", params={"part": "id", "forHandle": "@sundsvikkommun"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "9"
    error = limited.json()["error"]
    assert error["code"] == 429 and error["errors"][0]["reason"] == "rateLimitExceeded"
    down = http.get("/channels", params={"part": "id", "forHandle": "@sundsvikkommun"})
    assert down.status_code == 503 and down.json()["error"]["errors"][0]["reason"] == "backendError"


def test_quota_exceeded_stops_the_connector(http: httpx.Client, sim: Simulator) -> None:
    sim.platforms["youtube"].daily_quota = 2  # type: ignore[attr-defined]
    for _ in range(2):
        assert http.get("/channels", params={"part": "id", "forHandle": "@sundsvikkommun"}).status_code == 200
    over = http.get("/channels", params={"part": "id", "forHandle": "@sundsvikkommun"})
    assert over.status_code == 403
    detail = over.json()["error"]["errors"][0]
    assert detail["reason"] == "quotaExceeded" and detail["domain"] == "youtube.quota"
    with pytest.raises(RateLimited, match="quotaExceeded"):
        YouTubeConnector().throttled(over)


def test_comment_threads_replies_and_edits(http: httpx.Client, sim: Simulator) -> None:
    video = next(r for r in truth(sim, "youtube") if r["kind"] == "post" and r["visible"])
    sim.apply(
        [
            {"type": "clock.advance", "hours": 1},
            {"type": "youtube.comment", "post": video["no"], "text": "Första <frågan> & svar"},
        ]
    )
    top = next(r for r in truth(sim, "youtube") if r["text"] == "Första <frågan> & svar")
    events = [{"type": "clock.advance", "minutes": 1}]
    for k in range(7):
        events += [{"type": "youtube.comment", "post": video["no"], "parent": top["no"], "text": f"Svar {k}"}]
    events += [
        {"type": "clock.advance", "minutes": 5},
        {"type": "youtube.edit_comment", "no": top["no"], "text": "Första frågan (ändrad)"},
    ]
    sim.apply(events)
    threads, _ = walk(
        http, "/commentThreads", {"part": "snippet,replies", "videoId": video["id"], "order": "time", "maxResults": 100}
    )
    assert threads[0]["id"] == top["id"]
    times = [t["snippet"]["topLevelComment"]["snippet"]["publishedAt"] for t in threads]
    assert times == sorted(times, reverse=True)
    snippet = threads[0]["snippet"]
    assert snippet["totalReplyCount"] == 7 and len(threads[0]["replies"]["comments"]) == 5
    comment = snippet["topLevelComment"]["snippet"]
    assert comment["textOriginal"] == "Första frågan (ändrad)" and comment["updatedAt"] > comment["publishedAt"]
    replies, _ = walk(http, "/comments", {"part": "snippet", "parentId": top["id"], "maxResults": 3})
    assert [r["snippet"]["textOriginal"] for r in replies] == [f"Svar {k}" for k in range(7)]
    assert all(r["id"].startswith(top["id"] + ".") and r["snippet"]["parentId"] == top["id"] for r in replies)
    channel = http.get("/channels", params={"part": "id", "forHandle": "sundsvikkommun"}).json()["items"][0]["id"]
    everything, _ = walk(
        http, "/commentThreads", {"part": "snippet", "allThreadsRelatedToChannelId": channel, "maxResults": 100}
    )
    assert everything[0]["id"] == top["id"]
    assert len(everything) == len([r for r in truth(sim, "youtube") if r["kind"] == "comment" and r["visible"]])
    sim.apply([{"type": "youtube.delete_comment", "no": top["no"] + 1}])
    assert http.get("/comments", params={"part": "id", "id": replies[0]["id"]}).json()["items"] == []


def test_empty_channel_and_thumbnails(sim: Simulator) -> None:
    with (
        Simulator(posts=0, social_token=KEY) as empty,
        httpx.Client(base_url=empty.url("youtube"), params={"key": KEY}) as http,
    ):
        playlist = uploads(http)
        resp = http.get("/playlistItems", params={"part": "snippet", "playlistId": playlist})
        assert resp.status_code == 404 and resp.json()["error"]["errors"][0]["reason"] == "playlistNotFound"
    with httpx.Client(base_url=sim.url("youtube"), params={"key": KEY}) as http:
        video = http.get("/playlistItems", params={"part": "snippet", "playlistId": uploads(http)}).json()["items"][0]
    thumbs = video["snippet"]["thumbnails"]
    assert set(thumbs) == {"default", "medium", "high", "standard", "maxres"}
    image = httpx.get(thumbs["high"]["url"])  # i.ytimg.com needs no key
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
