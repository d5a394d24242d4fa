"""X API v2 wire format: user lookup, timeline paging, recent search, lookups, edits, errors."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from simhelp import token_pages, truth

from simulator import Simulator

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$")
TOKEN = "x-bearer-123456"
FIELDS = {
    "tweet.fields": "created_at,author_id,conversation_id,referenced_tweets,public_metrics,attachments,note_tweet",
    "expansions": "author_id,attachments.media_keys,referenced_tweets.id",
    "media.fields": "url,variants,type",
}


pytestmark = [pytest.mark.sim(social_token=TOKEN), pytest.mark.client("x", token=TOKEN)]


def user_id(http: httpx.Client) -> str:
    resp = http.get("/2/users/by/username/SundsvikKommun")
    assert resp.status_code == 200
    return str(resp.json()["data"]["id"])


def walk(http: httpx.Client, path: str, params: dict[str, Any], token: str) -> tuple[list[dict[str, Any]], int]:
    bodies = token_pages(http, path, params, lambda body: body["meta"].get("next_token"), token)
    assert all(body["meta"]["result_count"] == len(body.get("data", [])) for body in bodies)
    return [item for body in bodies for item in body.get("data", [])], len(bodies)


def test_timeline_pages_to_the_end_newest_first(http: httpx.Client, sim: Simulator) -> None:
    uid = user_id(http)
    items, pages = walk(http, f"/2/users/{uid}/tweets", {**FIELDS, "max_results": 7}, "pagination_token")
    rows = [r for r in truth(sim, "x") if r["visible"] and (r["kind"] == "post" or r.get("own"))]
    retweets = [t for t in items if any(ref["type"] == "retweeted" for ref in t.get("referenced_tweets", []))]
    assert retweets and all(t["text"].startswith("RT @") for t in retweets)  # outside the ground truth
    assert {t["edit_history_tweet_ids"][0] for t in items if t not in retweets} == {r["id"] for r in rows}
    assert pages == -(-(len(rows) + len(retweets)) // 7)
    ids = [int(t["edit_history_tweet_ids"][0]) for t in items]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    for tweet in items:
        assert TS.match(tweet["created_at"]) and tweet["author_id"] == uid
        assert isinstance(tweet["public_metrics"]["reply_count"], int)
    replies = [
        t
        for t in items
        if "in_reply_to_user_id" in t or any(ref["type"] == "replied_to" for ref in t.get("referenced_tweets", []))
    ]
    assert replies and all(t["referenced_tweets"][0]["type"] == "replied_to" for t in replies)
    # default fields only, and an empty page has no data at all
    bare = http.get(f"/2/users/{uid}/tweets", params={"max_results": 5}).json()
    assert set(bare["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    newest = bare["meta"]["newest_id"]
    assert http.get(f"/2/users/{uid}/tweets", params={"since_id": newest}).json() == {"meta": {"result_count": 0}}


def test_invalid_max_results_is_an_invalid_request(http: httpx.Client) -> None:
    resp = http.get(f"/2/users/{user_id(http)}/tweets", params={"max_results": 3})
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["title"] == "Invalid Request" and body["errors"][0]["parameters"] == {"max_results": ["3"]}


def test_bearer_token_is_required(sim: Simulator) -> None:
    resp = httpx.get(sim.url("x") + "/2/users/by/username/sundsvikkommun")
    assert resp.status_code == 401
    assert resp.json() == {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}
    wrong = httpx.get(sim.url("x") + "/2/users/by/username/sundsvikkommun", headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 401


def test_rate_limit_headers_and_429_and_5xx(http: httpx.Client, sim: Simulator) -> None:
    ok = http.get("/2/users/by/username/sundsvikkommun")
    now_s = int(datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00")).timestamp())
    limit, remaining = int(ok.headers["x-rate-limit-limit"]), int(ok.headers["x-rate-limit-remaining"])
    assert 0 < remaining < limit and now_s < int(ok.headers["x-rate-limit-reset"]) <= now_s + 900
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "count": 1, "retry_after": 7, "match": {"platform": "x"}},
            {"type": "fault", "kind": "status", "status": 503, "count": 1, "match": {"platform": "x"}},
        ]
    )
    limited = http.get("/2/users/by/username/sundsvikkommun")
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    assert int(limited.headers["x-rate-limit-reset"]) == now_s + 7
    assert limited.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    down = http.get("/2/users/by/username/sundsvikkommun")
    assert down.status_code == 503 and down.json()["status"] == 503 and down.json()["title"] == "Service Unavailable"


def test_deleted_post_is_a_not_found_error(http: httpx.Client, sim: Simulator) -> None:
    post = next(r for r in truth(sim, "x") if r["kind"] == "post" and r["visible"])
    found = http.get(f"/2/tweets/{post['id']}").json()
    assert found["data"]["id"] == post["id"]
    sim.apply([{"type": "x.delete", "no": post["no"]}])
    single = http.get(f"/2/tweets/{post['id']}")
    assert single.status_code == 200
    assert single.json()["errors"][0]["type"] == "https://api.twitter.com/2/problems/resource-not-found"
    many = http.get("/2/tweets", params={"ids": f"{post['id']},1"}).json()
    assert "data" not in many and {e["resource_id"] for e in many["errors"]} == {post["id"], "1"}
    items, _ = walk(http, f"/2/users/{user_id(http)}/tweets", {"max_results": 100}, "pagination_token")
    assert post["id"] not in {t["id"] for t in items}


def test_an_edit_is_a_new_id_with_the_history(http: httpx.Client, sim: Simulator) -> None:
    sim.apply([{"type": "clock.advance", "hours": 1}])
    no = sim.apply([{"type": "x.publish", "text": "Mötet börjar klockan 18."}])[0]["no"]
    original = next(r["id"] for r in truth(sim, "x") if r["no"] == no)
    sim.apply([{"type": "clock.advance", "minutes": 10}, {"type": "x.edit", "no": no, "text": "Klockan 19."}])
    newest = http.get(f"/2/users/{user_id(http)}/tweets", params={"max_results": 5, **FIELDS}).json()["data"][0]
    assert newest["edit_history_tweet_ids"][0] == original and newest["id"] == newest["edit_history_tweet_ids"][1]
    assert int(newest["id"]) > int(original) and newest["text"] == "Klockan 19."
    old = http.get(f"/2/tweets/{original}").json()["data"]
    assert old["text"] == "Mötet börjar klockan 18." and len(old["edit_history_tweet_ids"]) == 2


def test_recent_search_finds_a_conversation_of_the_last_seven_days(http: httpx.Client, sim: Simulator) -> None:
    post = next(r for r in truth(sim, "x") if r["kind"] == "post" and r["visible"])
    no = post["no"]
    sim.apply(
        [{"type": "clock.advance", "hours": 1}]
        + [{"type": "x.comment", "post": no, "text": f"Fråga {k}"} for k in range(12)]
    )
    query = {**FIELDS, "query": f"conversation_id:{post['id']}"}
    items, pages = walk(http, "/2/tweets/search/recent", query, "next_token")
    texts = {t["text"] for t in items}
    assert {f"Fråga {k}" for k in range(12)} <= texts and pages == 2  # default max_results 10
    assert all(t["conversation_id"] == post["id"] for t in items)
    sim.apply([{"type": "clock.advance", "hours": 24 * 8}])
    assert http.get("/2/tweets/search/recent", params=query).json() == {"meta": {"result_count": 0}}
    assert http.get("/2/tweets/search/recent", params={**query, "max_results": 5}).status_code == 400


def test_long_text_is_a_note_tweet_and_a_corrupt_post_is_malformed(http: httpx.Client, sim: Simulator) -> None:
    sim.apply([{"type": "clock.advance", "hours": 1}])
    text = "Lång text om kommunens budget. " * 40
    no = sim.apply([{"type": "x.publish", "text": text}])[0]["no"]
    newest = http.get(f"/2/users/{user_id(http)}/tweets", params={"max_results": 5, **FIELDS}).json()["data"][0]
    assert len(newest["text"]) == 280 and newest["text"].endswith("…") and newest["note_tweet"]["text"] == text
    sim.apply([{"type": "x.corrupt", "no": no}])
    page = http.get(f"/2/users/{user_id(http)}/tweets", params={"max_results": 5, **FIELDS}).json()["data"]
    assert not isinstance(page[0]["text"], str) and "edit_history_tweet_ids" not in page[0]
    assert all(isinstance(t["text"], str) for t in page[1:])
