"""The X shapes issue 13 found in real answers, as the simulator produces them and the connector reads them.

tweepy's real recordings (tests/recordings/x-tweepy) show v2 `text` HTML-escaped and retweets as
"RT @name: …" copies cut to 140 characters; the simulator's timeline carries retweets (with the
original in `includes.tweets`), quotes and polls. The connector must archive the account's retweet
as its act (`repost_of`, no borrowed words), the original as its author's (`inkommen`, whole
text), a quote's `quote_of`, a poll's options, and every text unescaped.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import httpx
import pytest
from simhelp import first_harvest, token_pages

from archive.connectors.x import XConnector
from schemas import Record
from simulator import Simulator
from tests.replay.test_x import LISTINGS, listing, posts

TOKEN = "x-bearer-123456"

pytestmark = [pytest.mark.sim(social_token=TOKEN), pytest.mark.client("x", token=TOKEN)]


def timeline(http: httpx.Client, params: dict[str, str]) -> list[dict[str, Any]]:
    uid = http.get("/2/users/by/username/sundsvikkommun").json()["data"]["id"]
    pages: list[dict[str, Any]] = token_pages(
        http,
        f"/2/users/{uid}/tweets",
        {**params, "max_results": "100"},
        lambda body: body["meta"].get("next_token"),
        "pagination_token",
    )
    return pages


def ref(tweet: dict[str, Any], kind: str) -> str | None:
    return next((r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == kind), None)


def test_retweets_quotes_polls_and_escaped_text_as_x_sends_them(http: httpx.Client) -> None:
    bodies = timeline(http, XConnector()._params())
    data = [t for b in bodies for t in b.get("data", [])]
    included = {t["id"]: t for b in bodies for t in b.get("includes", {}).get("tweets", [])}
    users = {u["id"]: u for b in bodies for u in b.get("includes", {}).get("users", [])}
    polls = {p["id"]: p for b in bodies for p in b.get("includes", {}).get("polls", [])}
    retweets = [t for t in data if ref(t, "retweeted")]
    assert retweets
    for rt in retweets:
        original = included[ref(rt, "retweeted") or ""]
        author = users[original["author_id"]]["username"]
        whole = f"RT @{author}: {html.unescape(original['text'])}"
        shown = html.unescape(rt["text"])
        assert len(shown) <= 140 and (shown == whole or (shown.endswith("…") and whole.startswith(shown[:-1])))
    quotes = [t for t in data if ref(t, "quoted")]
    assert quotes and all(ref(t, "quoted") in included for t in quotes)
    with_polls = [t for t in data if t.get("attachments", {}).get("poll_ids")]
    assert with_polls and all(t["attachments"]["poll_ids"][0] in polls for t in with_polls)
    assert all({"label", "position", "votes"} <= set(o) for p in polls.values() for o in p["options"])
    texts = [t["text"] for t in data] + [t["text"] for t in included.values()]
    assert any("&amp;" in t for t in texts) and any("&lt;" in t for t in texts)
    assert not any("&" in t.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "") for t in texts)
    assert not any("<" in t or ">" in t for t in texts)


def test_without_fields_a_retweet_is_what_tweepy_recorded(http: httpx.Client) -> None:
    """Asked without `tweet.fields`, as tweepy's suite asked, posts have the recorded keys and texts
    look like the recorded ones ("RT @…" copies, escaped)."""
    data = [t for b in timeline(http, {}) for t in b.get("data", [])]
    recorded = [p for c in LISTINGS for p in posts(listing(c)[0])]
    assert (
        {frozenset(t) for t in data}
        == {frozenset(p) for p in recorded}
        == {frozenset({"id", "text", "edit_history_tweet_ids"})}
    )
    assert any(t["text"].startswith("RT @") and t["text"].endswith("…") for t in data)


def harvest(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> list[Record]:
    records: list[Record] = first_harvest(sim, "x", TOKEN, monkeypatch).records
    return records


def test_the_connector_keeps_a_retweet_as_the_accounts_act_and_the_original_as_its_authors(
    sim: Simulator, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = timeline(http, XConnector()._params())
    data = {t["id"]: t for b in bodies for t in b.get("data", [])}
    included = {t["id"]: t for b in bodies for t in b.get("includes", {}).get("tweets", [])}
    users = {u["id"]: u for b in bodies for u in b.get("includes", {}).get("users", [])}
    polls = {p["id"]: p for b in bodies for p in b.get("includes", {}).get("polls", [])}
    records = {r.item_id: r for r in harvest(sim, monkeypatch)}
    own = next(iter(data.values()))["author_id"]
    retweets = [t for t in data.values() if ref(t, "retweeted")]
    for rt in retweets:
        original = included[ref(rt, "retweeted") or ""]
        author = users[original["author_id"]]["username"]
        act, theirs = records[rt["id"]], records[original["id"]]
        assert act.direction == "upprattad" and act.author.id == own and act.kind == "post"
        assert act.repost_of == f"https://x.com/{author}/status/{original['id']}"
        assert act.text == "" and act.mentions == [] and act.hashtags == [] and act.media == []
        assert theirs.direction == "inkommen" and theirs.author.handle == author
        assert theirs.text == html.unescape(original["text"]) and not theirs.text.startswith("RT @")
        assert theirs.url == act.repost_of and theirs.repost_of is None
    for tweet in data.values():
        record = records[tweet["edit_history_tweet_ids"][0]]
        quoted = ref(tweet, "quoted")
        if quoted:
            author = users[included[quoted]["author_id"]]["username"]
            assert record.quote_of == f"https://x.com/{author}/status/{quoted}"
        else:
            assert record.quote_of is None
        poll_ids = tweet.get("attachments", {}).get("poll_ids")
        if poll_ids:
            poll = polls[poll_ids[0]]
            assert record.poll is not None
            assert [(o.title, o.votes) for o in record.poll.options] == [
                (o["label"], o["votes"]) for o in sorted(poll["options"], key=lambda o: o["position"])
            ]
            assert record.poll.expires_at == datetime.fromisoformat(poll["end_datetime"].replace("Z", "+00:00"))
            assert record.poll.votes == sum(o["votes"] for o in poll["options"]) and not record.poll.multiple
        else:
            assert record.poll is None
        if not ref(tweet, "retweeted") and "note_tweet" not in tweet:
            assert record.text == html.unescape(tweet["text"])
    assert any("&" in r.text or "<" in r.text for r in records.values())
    assert not any("&amp;" in r.text or "&lt;" in r.text for r in records.values())
