"""Instagram as the simulator speaks the Instagram Graph API: `/me`, the media edge with IMAGE/VIDEO/
CAROUSEL_ALBUM and children, `comments_count` as the only activity marker, top-level comments with
`replies`, `/{comment-id}/replies` paging, deletions as code 100/33, Graph errors and throttling."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from simhelp import truth

from archive.connectors.instagram import InstagramConnector
from simulator import Simulator

TOKEN = "IGQ-user-token-456"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")
FIELDS = (
    "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,comments_count,"
    "children{id,media_type,media_url}"
)

pytestmark = [pytest.mark.sim(posts=30, social_token=TOKEN), pytest.mark.client("instagram", token=TOKEN)]


def user_id(http: httpx.Client) -> str:
    me = http.get("/me", params={"fields": "id,username"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "sundsvikkommun"
    return str(me.json()["id"])


def test_media_pages_to_the_end_with_types_and_children(http: httpx.Client, sim: Simulator) -> None:
    uid = user_id(http)
    url: str | None = f"/{uid}/media"
    params: dict[str, str] | None = {"fields": FIELDS, "limit": "8"}
    media: list[dict[str, Any]] = []
    while url:
        resp = http.get(url, params=params)
        assert resp.status_code == 200, resp.text
        assert '"type":"instagram"' in resp.headers["X-Business-Use-Case-Usage"]
        body = resp.json()
        media += body["data"]
        url, params = body.get("paging", {}).get("next"), None
        assert url is None or "access_token" not in url
    rows = {r["id"]: r for r in truth(sim, "instagram") if r["kind"] == "post" and not r["deleted"]}
    assert [m["id"] for m in media] == sorted(rows, key=lambda i: rows[i]["created_at"], reverse=True)
    assert all(STAMP.match(m["timestamp"]) and m["media_url"] for m in media)
    assert {m["media_type"] for m in media} <= {"IMAGE", "VIDEO", "CAROUSEL_ALBUM"}
    for m in media:
        files = rows[m["id"]]["media"]
        if m["media_type"] == "CAROUSEL_ALBUM":
            assert [c["media_url"] for c in m["children"]["data"]] == [f["url"] for f in files]
        elif m["media_type"] == "VIDEO":
            assert m["media_product_type"] == "REELS" and m["thumbnail_url"] and m["media_url"] == files[0]["url"]
        else:
            assert "children" not in m and m["media_product_type"] == "FEED"
    assert http.get(f"/{media[0]['id']}").json() == {"id": media[0]["id"]}  # default fields: id


def test_comments_are_top_level_with_replies_and_counts_move(http: httpx.Client, sim: Simulator) -> None:
    post = next(r for r in truth(sim, "instagram") if r["kind"] == "post" and not r["deleted"])
    before = http.get(f"/{post['id']}", params={"fields": "comments_count"}).json()["comments_count"]
    sim.apply([{"type": "clock.advance", "hours": 1}])
    top = sim.apply([{"type": "instagram.comment", "post": post["no"], "text": "Fint!"}])[0]["no"]
    for k in range(27):
        sim.apply(
            [{"type": "instagram.comment", "post": post["no"], "parent": top, "own": k == 0, "text": f"Svar {k}"}]
        )
    assert http.get(f"/{post['id']}", params={"fields": "comments_count"}).json()["comments_count"] == before + 28
    top_id = next(r["id"] for r in truth(sim, "instagram") if r["no"] == top)
    fields = "id,text,timestamp,username,from{id,username},hidden,replies{id,text,parent_id,username}"
    comments = http.get(f"/{post['id']}/comments", params={"fields": fields}).json()["data"]
    assert all("parent_id" not in c for c in comments)
    mine = next(c for c in comments if c["id"] == top_id)
    assert len(mine["replies"]["data"]) == 25 and mine["replies"]["data"][0]["username"] == "sundsvikkommun"
    assert all(r["parent_id"] == top_id for r in mine["replies"]["data"])
    rest = http.get(mine["replies"]["paging"]["next"]).json()
    assert [r["text"] for r in rest["data"]] == ["Svar 25", "Svar 26"] and "next" not in rest.get("paging", {})
    replies = http.get(f"/{top_id}/replies", params={"fields": "id", "limit": "100"}).json()["data"]
    assert len(replies) == 27


def test_deleted_media_and_comments_answer_code_100_subcode_33(http: httpx.Client, sim: Simulator) -> None:
    comment = next(r for r in truth(sim, "instagram") if r["kind"] == "comment" and not r["deleted"])
    post = next(r for r in truth(sim, "instagram") if r["id"] == comment["post"])
    sim.apply([{"type": "instagram.delete_comment", "no": comment["no"]}])
    gone = http.get(f"/{comment['id']}")
    assert gone.status_code == 400
    assert (gone.json()["error"]["code"], gone.json()["error"]["error_subcode"]) == (100, 33)
    sim.apply([{"type": "instagram.delete", "no": post["no"]}])
    assert http.get(f"/{post['id']}").json()["error"]["error_subcode"] == 33
    listed = http.get(f"/{user_id(http)}/media", params={"limit": "100"}).json()["data"]
    assert post["id"] not in {m["id"] for m in listed}


def test_token_faults_and_throttling(sim: Simulator) -> None:
    base = sim.url("instagram")
    assert httpx.get(f"{base}/me").json()["error"]["code"] == 104
    assert httpx.get(f"{base}/me", headers={"Authorization": "Bearer x"}).json()["error"]["code"] == 190
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "count": 1, "retry_after": 30, "match": {"platform": "instagram"}},
            {"type": "fault", "kind": "status", "status": 500, "count": 1, "match": {"platform": "instagram"}},
        ]
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limited = httpx.get(f"{base}/me", headers=headers)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == 4
    assert json.loads(limited.headers["X-Business-Use-Case-Usage"])
    failed = httpx.get(f"{base}/me", headers=headers)
    assert failed.status_code == 500 and failed.json()["error"]["code"] == 1
    assert httpx.get(f"{base}/me", headers=headers).status_code == 200


def test_own_rate_limit_is_code_80002() -> None:
    clock = [1_716_999_900_000]
    with (
        Simulator(posts=3, social_token=TOKEN, rate_limit=1, rate_period=300, rate_clock=lambda: clock[0]) as sim,
        httpx.Client(base_url=sim.url("instagram"), headers={"Authorization": f"Bearer {TOKEN}"}) as http,
    ):
        assert http.get("/me").status_code == 200
        throttled = http.get("/me")
        assert throttled.status_code == 400 and throttled.json()["error"]["code"] == 80002
        assert InstagramConnector().throttled(throttled) == 300.0
