"""Every X answer of the simulator agrees with X's published API v2 schema.

The schema is X's OpenAPI document as X's TypeScript SDK ships it (`tests/simulator/x_openapi`:
installed by its `install` script into ~/.cache/communis, parsed by `x_openapi/schema.py`). Every
200 answer the simulator gives while the X connector harvests it (as the harvest service does), and
the answers to requests the connector makes only for deletions or not at all (lookups, default
fields, an unknown user), is checked: types, required properties, enums, and no property the
schema does not define (but the few X added later, named in `x_openapi.schema.LATER`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from simhelp import first_harvest, recording_answers, truth
from x_openapi.schema import problems

from archive.connectors.x import XConnector
from simulator import Simulator
from simulator.httpcore import Request, Response
from simulator.platforms import x
from tests.replay.test_x import LISTINGS, listing, recorded

TOKEN = "x-bearer-123456"

pytestmark = [pytest.mark.sim(social_token=TOKEN), pytest.mark.client("x", token=TOKEN)]

Seen = list[tuple[str, Any]]


def schema_of(path: str) -> str:
    """The response schema of an API v2 path (as the OpenAPI document's operations name them)."""
    parts = path.strip("/").split("/")
    if parts[:4] == ["2", "users", "by", "username"]:
        return "Get2UsersByUsernameUsernameResponse"
    if parts[:2] == ["2", "users"] and parts[3:] == ["tweets"]:
        return "Get2UsersIdTweetsResponse"
    if parts == ["2", "tweets", "search", "recent"]:
        return "Get2TweetsSearchRecentResponse"
    if parts == ["2", "tweets"]:
        return "Get2TweetsResponse"
    if parts[:2] == ["2", "tweets"] and len(parts) == 3:
        return "Get2TweetsIdResponse"
    raise AssertionError(f"no schema mapped for {path}")


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    """Every 200 JSON answer of the simulator's X API: (path, body)."""
    seen: Seen = []

    def keep(sub: str, req: Request, response: Response) -> None:
        if response.status == 200 and (response.header("Content-Type") or "").startswith("application/json"):
            seen.append((sub, json.loads(response.body)))

    recording_answers(monkeypatch, x.App, keep)
    yield seen


def check(seen: Seen) -> None:
    found = [f"{path}: {p}" for path, body in seen for p in problems(body, schema_of(path))]
    assert not found, "\n".join(found[:20])


def test_every_answer_of_a_harvest_matches_the_published_schema(
    sim: Simulator, answers: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first harvest (timeline with retweets, quotes, polls, media, edits; conversation searches),
    after fresh replies so that the recent search has something to find."""
    post = next(r for r in truth(sim, "x") if r["kind"] == "post" and r["visible"])
    sim.apply(
        [{"type": "clock.advance", "hours": 1}]
        + [{"type": "x.comment", "post": post["no"], "text": f"Fråga {k} om <taxan> & avgiften"} for k in range(3)]
    )
    first_harvest(sim, "x", TOKEN, monkeypatch)
    kinds = {schema_of(path) for path, _ in answers}
    assert {
        "Get2UsersByUsernameUsernameResponse",
        "Get2UsersIdTweetsResponse",
        "Get2TweetsSearchRecentResponse",
    } <= kinds, kinds
    includes = [body.get("includes", {}) for _, body in answers]
    assert all(any(key in inc for inc in includes) for key in ("tweets", "users", "media", "polls"))
    check(answers)


def test_answers_the_connector_does_not_ask_for_match_too(http: httpx.Client, sim: Simulator, answers: Seen) -> None:
    """Lookups (one, several, one deleted), default fields, an unknown user, an empty page."""
    uid = http.get("/2/users/by/username/sundsvikkommun", params={"user.fields": "public_metrics"}).json()["data"]["id"]
    http.get("/2/users/by/username/nobody")
    page = http.get(f"/2/users/{uid}/tweets", params={"max_results": 100}).json()
    newest = page["meta"]["newest_id"]
    http.get(f"/2/users/{uid}/tweets", params={"since_id": newest})
    ids = [t["id"] for t in page["data"][:5]]
    params = XConnector()._params()
    http.get("/2/tweets", params={"ids": ",".join(ids), **params})
    http.get(f"/2/tweets/{ids[0]}", params=params)
    gone = next(r for r in truth(sim, "x") if r["kind"] == "post" and r["visible"])
    sim.apply([{"type": "x.delete", "no": gone["no"]}])
    http.get("/2/tweets", params={"ids": f"{gone['id']},{ids[1]}", "tweet.fields": "created_at,edit_history_tweet_ids"})
    assert len(answers) == 7
    check(answers)


def test_the_schema_accepts_what_x_really_sent_and_flags_what_it_does_not_define() -> None:
    """tweepy's real recorded answers pass the same checks (the reading is no stricter than X); a
    post without its required id list, an unknown reference type or an invented field does not."""
    for cassette in LISTINGS:
        assert problems(json.loads(listing(cassette)[0]), "Get2UsersIdTweetsResponse") == [], cassette
    user = recorded("test_client_get_user.yaml", "/2/users/by/username/Twitter")[0]
    assert problems(json.loads(user), "Get2UsersByUsernameUsernameResponse") == []
    bad = {
        "data": [{"id": "1", "text": "x", "invented": 1, "referenced_tweets": [{"id": "2", "type": "boosted"}]}],
        "meta": {"result_count": "1"},
    }
    found = problems(bad, "Get2UsersIdTweetsResponse")
    assert any("'edit_history_tweet_ids' is missing" in p for p in found)
    assert any("invented: not a property" in p for p in found)
    assert any("'boosted' is not one of" in p for p in found)
    assert any("result_count: expected number" in p for p in found)
