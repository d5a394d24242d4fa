"""Mastodon wire format: lookup, paging with Link max_id/min_id, filters, context, history, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from simhelp import account_id, walk

from schemas import Account
from simulator import Simulator
from tests.driving import drive
from tests.replay.test_mastodon import exchanges

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
STATUS_FIELDS = {
    "id",
    "uri",
    "url",
    "created_at",
    "edited_at",
    "account",
    "content",
    "spoiler_text",
    "language",
    "visibility",
    "sensitive",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog",
    "media_attachments",
    "mentions",
    "tags",
    "emojis",
    "card",
    "poll",
    "replies_count",
    "reblogs_count",
    "favourites_count",
}


def test_lookup_and_account(http: httpx.Client, sim: Simulator) -> None:
    resp = http.get("/m//api/v1/accounts/lookup", params={"acct": "sundsvik"})  # a base URL ending in "/"
    assert resp.status_code == 200
    body = resp.json()
    assert body["username"] == "sundsvik" and body["acct"] == "sundsvik" and body["display_name"] == "Sundsviks kommun"
    assert body["statuses_count"] == sim.state(items=False)["mastodon"]["accounts"][0]["statuses_count"] == 200
    assert http.get("/m/api/v1/accounts/lookup", params={"acct": "nobody"}).json() == {"error": "Record not found"}


def test_newest_first_walk_returns_every_status_once(http: httpx.Client, sim: Simulator) -> None:
    aid = account_id(http)
    first = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 40})
    link = first.headers["Link"]
    assert re.fullmatch(
        rf"<{re.escape(sim.mastodon_url)}/api/v1/accounts/{aid}/statuses\?limit=40&max_id=\d+>; "
        rf'rel="next", <{re.escape(sim.mastodon_url)}/api/v1/accounts/{aid}/statuses\?limit=40&'
        r'min_id=\d+>; rel="prev"',
        link,
    ), link
    items, _ = walk(http, f"/m/api/v1/accounts/{aid}/statuses?limit=40")
    ids = [int(s["id"]) for s in items]
    assert len(ids) == len(set(ids)) == 200
    assert ids == sorted(ids, reverse=True)
    truth = {int(r["id"]) for r in sim.state()["mastodon"]["items"] if r["role"] in ("own", "boost")}
    assert set(ids) == truth
    for status in items:
        assert set(status) >= STATUS_FIELDS and isinstance(status["id"], str) and TS.match(status["created_at"])


def test_default_limit_and_cap(http: httpx.Client) -> None:
    aid = account_id(http)
    assert len(http.get(f"/m/api/v1/accounts/{aid}/statuses").json()) == 20
    assert len(http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 400}).json()) == 40


def test_prev_walk_with_min_id_goes_oldest_to_newest(http: httpx.Client) -> None:
    aid = account_id(http)
    everything, _ = walk(http, f"/m/api/v1/accounts/{aid}/statuses?limit=40")
    oldest = everything[-1]["id"]
    newer, requests = walk(http, f"/m/api/v1/accounts/{aid}/statuses?limit=25&min_id={oldest}", rel="prev")
    ids = [int(s["id"]) for s in newer]
    assert len(ids) == len(set(ids)) == 199 and requests == 9  # 8 pages of 25, then an empty page
    page = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 5, "min_id": oldest}).json()
    assert [int(s["id"]) for s in page] == sorted((int(s["id"]) for s in page), reverse=True)
    assert int(page[-1]["id"]) == int(everything[-2]["id"])  # the five just above min_id, newest first


def test_incremental_min_id_catches_new_posts(http: httpx.Client, sim: Simulator) -> None:
    aid = account_id(http)
    newest = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 1}).json()[0]["id"]
    empty = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"min_id": newest})
    assert empty.json() == [] and "Link" not in empty.headers
    created = sim.apply(
        [
            {"type": "clock.advance", "hours": 2},
            {"type": "mastodon.publish", "text": "Ny badplats vid Norrsjön! #sommar https://x.example/a"},
            {"type": "clock.advance", "minutes": 5},
            {"type": "mastodon.publish", "images": 2},
        ]
    )
    new_ids = {created[1]["id"], created[3]["id"]}
    found, _ = walk(http, f"/m/api/v1/accounts/{aid}/statuses?min_id={newest}", rel="prev")
    assert {s["id"] for s in found} == new_ids
    assert all(int(i) > int(newest) for i in new_ids)
    post = next(s for s in found if s["id"] == created[1]["id"])
    assert 'class="mention hashtag"' in post["content"] and post["tags"][0]["name"] == "sommar"
    assert post["created_at"] == "2024-06-01T20:00:00.000Z"


def test_since_id_returns_newest_and_can_leave_gaps(http: httpx.Client) -> None:
    aid = account_id(http)
    everything, _ = walk(http, f"/m/api/v1/accounts/{aid}/statuses?limit=40")
    since = everything[30]["id"]
    page = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"since_id": since, "limit": 10}).json()
    assert [s["id"] for s in page] == [s["id"] for s in everything[:10]]


def test_filters(http: httpx.Client) -> None:
    aid = account_id(http)
    base = f"/m/api/v1/accounts/{aid}/statuses?limit=40"
    no_replies, _ = walk(http, base + "&exclude_replies=true")
    assert no_replies and all(s["in_reply_to_id"] is None or s["in_reply_to_account_id"] == aid for s in no_replies)
    assert any(s["in_reply_to_account_id"] == aid for s in no_replies)  # self-threads stay
    no_boosts, _ = walk(http, base + "&exclude_reblogs=1")
    assert no_boosts and all(s["reblog"] is None for s in no_boosts)
    resp = http.get(base + "&exclude_reblogs=1")
    assert "exclude_reblogs=1&limit=40&max_id=" in resp.headers["Link"]
    media, _ = walk(http, base + "&only_media=true")
    assert media and all(s["media_attachments"] for s in media)
    pinned = http.get(base + "&pinned=true").json()
    assert len(pinned) == 2


def test_boost_reply_and_media_shapes(http: httpx.Client, sim: Simulator) -> None:
    items, _ = walk(http, f"/m/api/v1/accounts/{account_id(http)}/statuses?limit=40")
    boost = next(s for s in items if s["reblog"])
    assert boost["content"] == "" and boost["uri"].endswith("/activity") and "@" in boost["reblog"]["account"]["acct"]
    reply = next(s for s in items if s["in_reply_to_id"] and s["mentions"])
    assert reply["mentions"][0]["id"] == reply["in_reply_to_account_id"]
    video = [m for s in items for m in s["media_attachments"] if m["type"] == "video"]
    images = [m for s in items for m in s["media_attachments"] if m["type"] == "image"]
    assert len(video) == 2 and images
    small = next(v for v in video if v["url"].endswith(".mp4") and v["url"].startswith(sim.mastodon_url))
    resp = http.get(small["url"])
    assert resp.headers["Content-Type"] == "video/mp4" and int(resp.headers["Content-Length"]) == len(resp.content)


def test_single_status_context_and_history(http: httpx.Client, sim: Simulator) -> None:
    items = sim.state()["mastodon"]["items"]
    reply = next(r for r in items if r["role"] == "citizen_reply")
    root_id = reply["in_reply_to_id"]
    ctx = http.get(f"/m/api/v1/statuses/{root_id}/context").json()
    assert set(ctx) == {"ancestors", "descendants"}
    assert reply["id"] in {s["id"] for s in ctx["descendants"]}
    own_reply = next(
        r
        for r in items
        if r["role"] == "own"
        and r["in_reply_to_id"]
        and next(x for x in items if x["id"] == r["in_reply_to_id"])["role"] == "citizen_root"
    )
    ctx = http.get(f"/m/api/v1/statuses/{own_reply['id']}/context").json()
    assert [s["id"] for s in ctx["ancestors"]] == [own_reply["in_reply_to_id"]]
    one = http.get(f"/m/api/v1/statuses/{root_id}")
    assert one.status_code == 200 and one.json()["id"] == root_id
    history = http.get(f"/m/api/v1/statuses/{root_id}/history").json()
    assert len(history) == 1 and history[0]["content"] == one.json()["content"]


def test_unknown_status_is_404_record_not_found(http: httpx.Client) -> None:
    for path in ("/m/api/v1/statuses/123", "/m/api/v1/statuses/123/context", "/m/api/v1/accounts/1/statuses"):
        resp = http.get(path)
        assert resp.status_code == 404 and resp.json() == {"error": "Record not found"}
        assert resp.headers["X-RateLimit-Limit"] == "300"


def test_json_escapes_html_like_rails(http: httpx.Client) -> None:
    raw = http.get(f"/m/api/v1/accounts/{account_id(http)}/statuses", params={"limit": 5}).text
    assert "\\u003cp\\u003e" in raw and "<p>" not in raw


def test_a_poll_as_the_real_server_shows_it_and_the_connector_reads_it(http: httpx.Client, sim: Simulator) -> None:
    """A poll has the keys the real server's does (Mastodon.py's recorded `test_polls`, less the
    `voted`/`own_votes` that need a token); votes move its counts, not the status; the connector
    keeps the options as content and the counts as the reading of each capture."""
    recorded = next(
        ex.json()["poll"] for ex in exchanges("test_polls") if ex.method == "POST" and ex.path == "/api/v1/statuses"
    )
    asked = {"options": ["Måndag", "Tisdag", "Onsdag"], "expires_in": 86400, "multiple": True}
    sid = sim.apply([{"type": "mastodon.publish", "text": "Vilken dag passar för samrådet?", "poll": asked}])[0]["id"]
    sim.apply(
        [{"type": "mastodon.vote", "id": sid, "choices": [0, 2]}, {"type": "mastodon.vote", "id": sid, "choices": [2]}]
    )
    poll = http.get(f"/m/api/v1/statuses/{sid}").json()["poll"]
    assert set(poll) == set(recorded) - {"voted", "own_votes"}
    assert [(o["title"], o["votes_count"]) for o in poll["options"]] == [("Måndag", 1), ("Tisdag", 0), ("Onsdag", 2)]
    assert poll["votes_count"] == 3 and poll["voters_count"] == 2 and poll["multiple"] and not poll["expired"]
    assert TS.match(poll["expires_at"])

    account = Account(
        id="sv-mastodon",
        platform="mastodon",
        handle="@sundsvik",
        display_name="Sundsvik",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=sim.url("mastodon"),
    )
    now = datetime.now(UTC)
    first = next(r for r in drive(account, now, lookback=timedelta(days=3650)).records if r.item_id == sid)
    assert first.poll is not None and [(o.title, o.votes) for o in first.poll.options] == [
        ("Måndag", 1),
        ("Tisdag", 0),
        ("Onsdag", 2),
    ]
    assert first.poll.multiple and (first.poll.votes, first.poll.voters) == (3, 2)
    sim.apply([{"type": "mastodon.vote", "id": sid, "choices": [1]}])
    again = next(r for r in drive(account, now, lookback=timedelta(days=3650)).records if r.item_id == sid)
    assert again.poll is not None and again.poll.votes == 4 and again.poll.options[1].votes == 1
    assert again.content_sha256 == first.content_sha256  # a vote is no edit
