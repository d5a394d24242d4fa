"""TikTok's Display API as the simulator speaks it: POST listing with a millisecond cursor, epoch
seconds, field selection, the error block, re-checking videos, covers and no comments."""

from __future__ import annotations

import httpx
import pytest

from simulator import Simulator

FIELDS = "id,create_time,video_description,title,cover_image_url,share_url,comment_count"


pytestmark = [pytest.mark.sim(posts=30, social_token="act.tt-token"), pytest.mark.client(token="act.tt-token")]


def test_video_list_pages_to_the_end_newest_first(http: httpx.Client, sim: Simulator) -> None:
    videos, cursor, pages = [], None, 0
    while True:
        body = {"max_count": 7, **({"cursor": cursor} if cursor else {})}
        resp = http.post("/tt/v2/video/list/", params={"fields": FIELDS}, json=body)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["error"]["code"] == "ok" and answer["error"]["log_id"]
        pages += 1
        videos += answer["data"]["videos"]
        if not answer["data"]["has_more"]:
            break
        cursor = answer["data"]["cursor"]
        assert 0 <= cursor - answer["data"]["videos"][-1]["create_time"] * 1000 < 1000  # epoch milliseconds
    truth = {r["id"]: r for r in sim.state()["platforms"]["tiktok"]["items"] if r["visible"] and r["kind"] == "post"}
    assert pages == -(-len(truth) // 7) and sorted(v["id"] for v in videos) == sorted(truth)
    created = [v["create_time"] for v in videos]
    assert created == sorted(created, reverse=True) and all(len(str(t)) == 10 for t in created)
    assert all(v["video_description"] == truth[v["id"]]["text"] for v in videos)
    assert all(int(v["id"]) >> 32 == v["create_time"] for v in videos)
    assert set(videos[0]) == set(FIELDS.split(","))
    cover = http.get(videos[0]["cover_image_url"])
    assert cover.status_code == 200 and cover.headers["Content-Type"] == "image/jpeg"


def test_bad_parameters_are_invalid_params(http: httpx.Client) -> None:
    too_many = http.post("/tt/v2/video/list/", params={"fields": "id"}, json={"max_count": 21})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "invalid_params"
    unknown = http.post("/tt/v2/video/list/", params={"fields": "id,music_id"}, json={"max_count": 5})
    assert unknown.status_code == 400
    assert http.get("/tt/v2/video/list/", params={"fields": "id"}).status_code == 405


def test_query_leaves_deleted_videos_out(http: httpx.Client, sim: Simulator) -> None:
    rows = [r for r in sim.state()["platforms"]["tiktok"]["items"] if r["visible"] and r["kind"] == "post"][:3]
    sim.apply([{"type": "tiktok.delete", "no": rows[0]["no"]}])
    resp = http.post(
        "/tt/v2/video/query/",
        params={"fields": "id,create_time"},
        json={"filters": {"video_ids": [r["id"] for r in rows]}},
    )
    assert resp.status_code == 200
    assert sorted(v["id"] for v in resp.json()["data"]["videos"]) == sorted(r["id"] for r in rows[1:])
    too_many = http.post(
        "/tt/v2/video/query/", params={"fields": "id"}, json={"filters": {"video_ids": [str(n) for n in range(21)]}}
    )
    assert too_many.status_code == 400


def test_token_user_info_and_no_comments(http: httpx.Client, sim: Simulator) -> None:
    with httpx.Client(base_url=sim.base_url) as anonymous:
        refused = anonymous.post("/tt/v2/video/list/", params={"fields": "id"}, json={})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "access_token_invalid"
    user = http.get("/tt/v2/user/info/", params={"fields": "open_id,display_name"}).json()
    assert user["data"]["user"]["display_name"] == "Sundsviks kommun" and set(user["data"]["user"]) == {
        "open_id",
        "display_name",
    }
    assert http.post("/tt/v2/video/comment/list/", params={"fields": "id"}, json={}).status_code == 404


def test_throttle_and_server_error_envelopes(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "retry_after": 4, "match": {"platform": "tiktok"}},
            {"type": "fault", "kind": "status", "status": 500, "match": {"platform": "tiktok"}},
        ]
    )
    throttled = http.post("/tt/v2/video/list/", params={"fields": "id"}, json={"max_count": 5})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "4"
    assert throttled.json()["error"]["code"] == "rate_limit_exceeded"
    failed = http.post("/tt/v2/video/list/", params={"fields": "id"}, json={"max_count": 5})
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal_error"
    assert http.post("/tt/v2/video/list/", params={"fields": "id"}, json={"max_count": 5}).status_code == 200
