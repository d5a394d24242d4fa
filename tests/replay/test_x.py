"""The X connector against real API v2 responses (tweepy's vcrpy cassettes, recorded in 2022).

Each test drives one harvest (`tests.driving.drive`, as the harvest service runs it) over loopback
HTTP, every request answered from `tests/recordings/x-tweepy/cassettes/` (see its README.md), and
checks what came out against a plain reading of the same JSON in this file.

tweepy recorded its suite without `tweet.fields`, `expansions` or `user.fields`: every recorded post
holds only `id`, `text` and `edit_history_tweet_ids`, no `created_at`, no `author_id`, no
`referenced_tweets`. The connector asks for those fields; a post that comes without them cannot be
archived truthfully (no author, no direction, no time X vouches for), so each must be quarantined,
one entry per post, with a reason that starts with the cause, and the run must go on. Among them
are the shapes of issue 13 (191 "RT @…" retweets, 20 texts with `&amp;`/`&lt;`/`&gt;`); the
connector's reading of retweets, quotes, polls and escaped text is checked on the simulator
(tests/simulator/test_x.py, tests/contract), as no recording holds them with the fields it needs.

The request chain is composed from several cassettes, as the tests' docstrings say:

* the user lookup (`/2/users/by/username/Twitter`) is `test_client_get_user.yaml` (id 783214);
* the timeline (`/2/users/783214/tweets`) is, in turn, every recorded v2 listing of posts (the
  user's own timeline, and the home, list, liked, mentions, quote, bookmark and search listings:
  all the same post objects);
* every recorded listing has a `meta.next_token`, but no cassette holds the page after it: that
  request is answered with X's documented end of a listing, `{"meta": {"result_count": 0}}`;
* the conversation searches (`/2/tweets/search/recent?query=conversation_id:…`) are answered
  with `test_client_search_recent_tweets.yaml` (recorded for the query `Tweepy`).

tweepy's `.json` cassettes are API v1.1 (which the connector does not speak) and are not used;
nor are the single-post lookups (`get_tweet(s)`), which the connector only makes for deletions.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from schemas import Account, CredentialRef
from tests.driving import Outcome, drive
from tests.replay.server import RECORDINGS, Answer, Asked, serving

CASSETTES = RECORDINGS / "x-tweepy" / "cassettes"
TOKEN_ENV = "COMMUNIS_REPLAY_X_TOKEN"
NOW = datetime(2022, 10, 8, tzinfo=UTC)
END = {"meta": {"result_count": 0}}
USER = "783214"
#: Every cassette whose GET answers list posts (tweepy's Client and AsyncClient suites recorded each).
LISTINGS = [
    f"test_{client}_{name}.yaml"
    for client in ("client", "asyncclient")
    for name in (
        "get_users_tweets",
        "get_home_timeline",
        "get_list_tweets",
        "get_liked_tweets",
        "get_users_mentions",
        "get_quote_tweets",
        "bookmarks",
        "search_recent_tweets",
        "search_all_tweets",
    )
]


def recorded(cassette: str, path_part: str) -> tuple[bytes, str]:
    """The body (decoded from gzip, as the client received it) and content type of the cassette's GET
    whose URI contains `path_part`."""
    interactions = yaml.safe_load((CASSETTES / cassette).read_text())["interactions"]
    for one in interactions:
        request, response = one["request"], one["response"]
        if request["method"] == "GET" and path_part in request["uri"]:
            body = response["body"]["string"]
            raw = body if isinstance(body, bytes) else body.encode()
            headers = {k.lower(): v[0] for k, v in response["headers"].items()}
            if raw[:2] == b"\x1f\x8b":  # some were saved still gzipped, some decoded (vcrpy's option)
                raw = gzip.decompress(raw)
            return raw, headers.get("content-type", "application/json")
    raise LookupError(f"{cassette} has no GET of {path_part}")


def listing(cassette: str) -> tuple[bytes, str]:
    for part in ("/tweets", "/timelines/", "/liked_tweets", "/mentions", "/quote_tweets", "/bookmarks"):
        try:
            return recorded(cassette, part)
        except LookupError:
            continue
    raise LookupError(cassette)


def posts(body: bytes) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(body)["data"]
    return data


def replay(
    timeline: tuple[bytes, str], search: tuple[bytes, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Outcome, list[Asked]]:
    monkeypatch.setenv(TOKEN_ENV, "replay-bearer-token")
    user = recorded("test_client_get_user.yaml", "/2/users/by/username/Twitter")

    def answer(asked: Asked) -> Answer | None:
        if asked.path == "/2/users/by/username/Twitter":
            return Answer(200, user[0], {"Content-Type": user[1]})
        if asked.path == f"/2/users/{USER}/tweets":
            return (
                Answer.json(END)
                if asked.param("pagination_token")
                else Answer(200, timeline[0], {"Content-Type": timeline[1]})
            )
        if asked.path == "/2/tweets/search/recent":
            return (
                Answer.json(END) if asked.param("next_token") else Answer(200, search[0], {"Content-Type": search[1]})
            )
        return None

    with serving(answer) as server:
        account = Account(
            id="replay-x",
            platform="x",
            handle="@Twitter",
            display_name="Replay",
            department="Test",
            retention_class="social-10y",
            base_url=server.base_url,
            credentials=CredentialRef(env=TOKEN_ENV),
        )
        outcome = drive(account, NOW)
    assert outcome.kind == "parsed", outcome.crash or outcome.error or outcome.trace
    assert not server.unmatched, [a.path for a in server.unmatched]
    return outcome, server.asked


def rejected_ids(outcome: Outcome, what: str) -> Counter[str]:
    """The posts quarantined as `what` ("post", "reply"), by id; each reason must lead with its cause."""
    ids: Counter[str] = Counter()
    for entry in outcome.rejected:
        if entry.reason.startswith(f"unreadable {what} ("):
            assert entry.reason.startswith(
                f"unreadable {what} (ValueError: no created_at (X answered without the tweet.fields asked for))"
            ), entry.reason
            assert "replay-bearer-token" not in entry.reason
            ids[json.loads(entry.raw)["id"]] += 1
    return ids


@pytest.mark.parametrize("cassette", LISTINGS)
def test_every_recorded_post_is_quarantined_with_its_cause(cassette: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cassette's listing as the timeline of @Twitter (783214), behind the recorded user lookup;
    each post's conversation is searched and answered with the recorded recent search. No post has
    `created_at` or `author_id`: every one, on the timeline and in every search, is one quarantine
    entry naming that cause; nothing is archived as anyone's words; the run reports the loss."""
    timeline = listing(cassette)
    search = recorded("test_client_search_recent_tweets.yaml", "/2/tweets/search/recent")
    outcome, asked = replay(timeline, search, monkeypatch)
    listed = posts(timeline[0])
    found = posts(search[0])
    assert listed and all(set(p) == {"id", "text", "edit_history_tweet_ids"} for p in listed + found)
    assert outcome.records == []
    # Nor is any count: the recorded user and posts hold no `public_metrics`, and none is made up; the user
    # lookup, kept as the account's profile, is quarantined for want of its total (one entry).
    assert outcome.counted == []
    [profile] = [r for r in outcome.rejected if r.reason.startswith("account profile without a readable total")]
    assert json.loads(profile.raw)["data"]["id"] == USER
    assert rejected_ids(outcome, "post") == Counter(p["id"] for p in listed)
    searched = [
        a.param("query") or "" for a in asked if a.path == "/2/tweets/search/recent" and not a.param("next_token")
    ]
    # Every post's conversation was read (no reply_count says there is none), each by its own id.
    assert sorted(searched) == sorted(f"conversation_id:{p['edit_history_tweet_ids'][0]}" for p in listed)
    replies = Counter(
        p["id"] for root in listed for p in found if p["edit_history_tweet_ids"][0] != root["edit_history_tweet_ids"][0]
    )
    assert rejected_ids(outcome, "reply") == replies
    assert len(outcome.rejected) == 1 + len(listed) + sum(replies.values())


def test_the_connector_asks_for_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded user timeline (`test_client_get_users_tweets.yaml`): the requests carry the fields
    and expansions whose absence the recordings show (time, author, references, polls), so a real
    answer to them has what a record needs."""
    timeline = listing("test_client_get_users_tweets.yaml")
    search = recorded("test_client_search_recent_tweets.yaml", "/2/tweets/search/recent")
    _, asked = replay(timeline, search, monkeypatch)
    first = next(a for a in asked if a.path == f"/2/users/{USER}/tweets")
    fields = set((first.param("tweet.fields") or "").split(","))
    assert {
        "created_at",
        "author_id",
        "referenced_tweets",
        "conversation_id",
        "entities",
        "attachments",
        "edit_history_tweet_ids",
        "note_tweet",
    } <= fields
    assert {
        "author_id",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
        "attachments.media_keys",
        "attachments.poll_ids",
    } <= set((first.param("expansions") or "").split(","))
    assert {"options", "end_datetime"} <= set((first.param("poll.fields") or "").split(","))
    assert first.headers["authorization"] == "Bearer replay-bearer-token"


def test_recordings_hold_the_shapes_of_issue_13() -> None:
    """What the recordings prove about X's wire format, which the simulator must (and does) produce:
    v2 `text` is HTML-escaped, and a retweet's text is X's "RT @name: " copy."""
    texts = [p["text"] for c in LISTINGS for p in posts(listing(c)[0])]
    assert any("&amp;" in t for t in texts) and any("&lt;" in t for t in texts) and any("&gt;" in t for t in texts)
    assert not any("&" in t.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "") for t in texts)
    assert sum(t.startswith("RT @") for t in texts) > 100
    assert "NYC &lt; London (weather this week)" in texts
