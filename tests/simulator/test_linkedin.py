"""LinkedIn's Community Management API as the simulator speaks it: headers, finder paging, little
text, epoch milliseconds, comments and replies, errors and deletions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urljoin

import httpx
import pytest

from archive.connectors.linkedin import LINKEDIN_VERSION, from_little_text
from simulator import Simulator

HEADERS = {
    "LinkedIn-Version": LINKEDIN_VERSION,
    "X-Restli-Protocol-Version": "2.0.0",
    "Authorization": "Bearer li-token-123",
}


pytestmark = [pytest.mark.sim(posts=30, social_token="li-token-123"), pytest.mark.client(headers=HEADERS)]


def org(http: httpx.Client) -> str:
    resp = http.get("/li/rest/organizations", params={"q": "vanityName", "vanityName": "sundsvikkommun"})
    assert resp.status_code == 200, resp.text
    element = resp.json()["elements"][0]
    assert element["localizedName"] == "Sundsviks kommun"
    return f"urn:li:organization:{element['id']}"


def all_posts(http: httpx.Client, sim: Simulator, count: int = 7) -> tuple[list[dict[str, Any]], int]:
    url: str | None = "/li/rest/posts"
    params: dict[str, str] | None = {"author": org(http), "q": "author", "count": str(count), "sortBy": "LAST_MODIFIED"}
    items, pages = [], 0
    while url:
        resp = http.get(url, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        pages += 1
        items += body["elements"]
        assert body["paging"]["count"] == count
        nxt = [link["href"] for link in body["paging"]["links"] if link["rel"] == "next"]
        url, params = (urljoin(sim.base_url, nxt[0]), None) if nxt else (None, None)
    return items, pages


def test_finder_pages_to_the_end_newest_modified_first_with_epoch_millis(http: httpx.Client, sim: Simulator) -> None:
    posts, pages = all_posts(http, sim)
    truth = [r for r in sim.state()["platforms"]["linkedin"]["items"] if r["kind"] == "post" and r["visible"]]
    assert pages == -(-len(truth) // 7)
    assert sorted(p["id"] for p in posts) == sorted(r["id"] for r in truth)
    assert all(p["id"].startswith(("urn:li:share:", "urn:li:ugcPost:")) for p in posts)
    modified = [p["lastModifiedAt"] for p in posts]
    assert modified == sorted(modified, reverse=True)
    assert all(isinstance(p["createdAt"], int) and len(str(p["createdAt"])) == 13 for p in posts)
    edited = [p for p in posts if p["lifecycleStateInfo"]["isEditedByAuthor"]]
    assert all(p["lastModifiedAt"] > p["publishedAt"] for p in edited)
    by_id = {r["id"]: r for r in truth}
    assert all(from_little_text(p["commentary"]) == by_id[p["id"]]["text"] for p in posts)


def test_commentary_is_little_text(http: httpx.Client, sim: Simulator) -> None:
    no = sim.apply([{"type": "linkedin.publish", "text": "Möte (nytt) i dag #fullmäktige @alla"}])[0]["no"]
    urn = next(r["id"] for r in sim.state()["platforms"]["linkedin"]["items"] if r["no"] == no)
    post = http.get(f"/li/rest/posts/{quote(urn, safe='')}").json()
    assert post["commentary"] == "Möte \\(nytt\\) i dag {hashtag|\\#|fullmäktige} \\@alla"
    assert from_little_text(post["commentary"]) == "Möte (nytt) i dag #fullmäktige @alla"


def test_version_and_protocol_headers_are_required(http: httpx.Client) -> None:
    missing = http.get(
        "/li/rest/organizations",
        params={"q": "vanityName", "vanityName": "sundsvikkommun"},
        headers={"LinkedIn-Version": ""},
    )
    assert missing.status_code == 400 and missing.json()["code"] == "VERSION_MISSING"
    sunset = http.get(
        "/li/rest/organizations",
        params={"q": "vanityName", "vanityName": "sundsvikkommun"},
        headers={"LinkedIn-Version": "202301"},
    )
    assert sunset.status_code == 426
    assert sunset.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 202301 is not active",
    }
    old_protocol = http.get(
        "/li/rest/organizations",
        params={"q": "vanityName", "vanityName": "x"},
        headers={"X-Restli-Protocol-Version": "1.0.0"},
    )
    assert old_protocol.status_code == 400


def test_token_is_checked(sim: Simulator) -> None:
    with httpx.Client(base_url=sim.base_url, headers={**HEADERS, "Authorization": "Bearer wrong"}) as client:
        resp = client.get("/li/rest/organizations", params={"q": "vanityName", "vanityName": "sundsvikkommun"})
    assert resp.status_code == 401
    assert resp.json() == {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }


def test_throttle_and_server_error_bodies(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "retry_after": 9, "match": {"platform": "linkedin"}},
            {"type": "fault", "kind": "status", "status": 503, "match": {"platform": "linkedin"}},
        ]
    )
    throttled = http.get("/li/rest/organizations", params={"q": "vanityName", "vanityName": "sundsvikkommun"})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "9"
    assert throttled.json()["code"] == "TOO_MANY_REQUESTS" and throttled.json()["status"] == 429
    failed = http.get("/li/rest/organizations", params={"q": "vanityName", "vanityName": "sundsvikkommun"})
    assert failed.status_code == 503 and failed.json()["status"] == 503
    assert (
        http.get("/li/rest/organizations", params={"q": "vanityName", "vanityName": "sundsvikkommun"}).status_code
        == 200
    )


def test_comments_replies_and_deletions(http: httpx.Client, sim: Simulator) -> None:
    no = sim.apply([{"type": "linkedin.publish", "text": "Fråga oss!"}])[0]["no"]
    top = sim.apply([{"type": "linkedin.comment", "post": no, "text": "När öppnar badet?"}])[0]["no"]
    sim.apply([{"type": "linkedin.comment", "post": no, "parent": top, "own": True, "text": "I juni."}])
    rows = {r["no"]: r for r in sim.state()["platforms"]["linkedin"]["items"]}
    post_urn, comment_urn = rows[no]["id"], rows[top]["id"]
    comments = http.get(f"/li/rest/socialActions/{quote(post_urn, safe='')}/comments").json()
    assert comments["paging"]["total"] == 1
    comment = comments["elements"][0]
    assert comment["commentUrn"] == comment_urn and comment["object"] == post_urn
    assert comment["message"]["text"] == "När öppnar badet?" and comment["actor"].startswith("urn:li:person:")
    assert comment["commentsSummary"]["totalFirstLevelComments"] == 1
    assert isinstance(comment["created"]["time"], int)
    replies = http.get(f"/li/rest/socialActions/{quote(comment_urn, safe='')}/comments").json()["elements"]
    assert replies[0]["parentComment"] == comment_urn and replies[0]["actor"] == org(http)
    one = f"/li/rest/socialActions/{quote(post_urn, safe='')}/comments/{comment['id']}"
    assert http.get(one).status_code == 200
    sim.apply([{"type": "linkedin.delete_comment", "no": top}])
    assert http.get(one).status_code == 404
    sim.apply([{"type": "linkedin.delete", "no": no}])
    gone = http.get(f"/li/rest/posts/{quote(post_urn, safe='')}")
    assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"
