"""Every YouTube answer of the simulator agrees with the schema Google publishes for it.

The discovery document (`google-api-python-client`'s copy of youtube.v3.json) names each method's
response schema; `tests/simulator/discovery.py` checks a body against it: types, `$ref`s, arrays,
enums, formats, and no property the schema does not define. Every answer the simulator gives while
the YouTube connector harvests it (as the harvest service does), and the answers to the requests the
connector does not make (lookups by id, html text, the channel-wide thread list), are checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from discovery import problems, response_schema
from simhelp import first_harvest, recording_answers, truth

from simulator import Simulator
from simulator.httpcore import Request, Response
from simulator.platforms import youtube
from tests.replay.server import RECORDINGS

KEY = "yt-api-key-123456"
RESOURCES = {
    "channels": "channels",
    "playlistItems": "playlistItems",
    "videos": "videos",
    "commentThreads": "commentThreads",
    "comments": "comments",
}

pytestmark = [pytest.mark.sim(social_token=KEY), pytest.mark.client("youtube", params={"key": KEY})]

Seen = list[tuple[str, dict[str, list[str]], Any]]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    """Every 200 JSON answer of the simulator's YouTube API: (resource, query, body)."""
    seen: Seen = []

    def keep(sub: str, req: Request, response: Response) -> None:
        if response.status == 200 and (response.header("Content-Type") or "").startswith("application/json"):
            seen.append(
                (
                    sub.strip("/"),
                    {k: req.params(k) for k in ("part", "id", "parentId", "videoId")},
                    json.loads(response.body),
                )
            )

    recording_answers(monkeypatch, youtube.App, keep)
    yield seen


def check(seen: Seen) -> None:
    found = [
        f"{resource} {query}: {p}"
        for resource, query, body in seen
        for p in problems(body, response_schema(RESOURCES[resource]))
    ]
    assert not found, "\n".join(found[:20])


def test_every_answer_of_a_harvest_matches_the_published_schema(
    sim: Simulator, answers: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first harvest of the whole channel, with a thread long enough to be read by `comments?parentId=`."""
    video = next(r for r in truth(sim, "youtube") if r["kind"] == "post" and r["visible"])
    sim.apply(
        [
            {"type": "clock.advance", "hours": 1},
            {"type": "youtube.comment", "post": video["no"], "text": "Fråga om #budget & <taxa>"},
        ]
    )
    top = next(r for r in truth(sim, "youtube") if r["text"] == "Fråga om #budget & <taxa>")
    sim.apply(
        [{"type": "clock.advance", "minutes": 1}]
        + [{"type": "youtube.comment", "post": video["no"], "parent": top["no"], "text": f"Svar {k}"} for k in range(7)]
    )
    outcome = first_harvest(sim, "youtube", KEY, monkeypatch)
    asked = {resource for resource, _, _ in answers}
    assert asked == set(RESOURCES), asked
    replies = [body for resource, query, body in answers if resource == "comments" and query["parentId"]]
    assert replies and all("videoId" not in c["snippet"] for body in replies for c in body["items"])
    check(answers)
    # The replies read by parent still belong to their video (issue 13: they were quarantined).
    reply_records = [r for r in outcome.records if r.parent_id == top["id"]]
    assert len(reply_records) == 7 and {r.thread_id for r in reply_records} == {video["id"]}


def test_answers_the_connector_does_not_ask_for_match_too(http: httpx.Client, sim: Simulator, answers: Seen) -> None:
    """Every part, html text, lookups by id, the channel-wide thread list."""
    body = http.get(
        "/channels", params={"part": "snippet,contentDetails,statistics,status", "forHandle": "@sundsvikkommun"}
    ).json()
    channel = body["items"][0]["id"]
    uploads = body["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    http.get("/channels", params={"part": "id", "forHandle": "@nobody"})
    items = http.get(
        "/playlistItems", params={"part": "snippet,contentDetails,status", "playlistId": uploads, "maxResults": 50}
    ).json()["items"]
    ids = ",".join(i["contentDetails"]["videoId"] for i in items[:10])
    http.get("/videos", params={"part": "snippet,contentDetails,statistics,status", "id": ids})
    threads = http.get(
        "/commentThreads",
        params={"part": "snippet,replies", "allThreadsRelatedToChannelId": channel, "maxResults": 100},
    ).json()["items"]
    assert threads
    http.get("/commentThreads", params={"part": "snippet,replies", "id": threads[0]["id"]})
    http.get("/comments", params={"part": "snippet", "id": threads[0]["id"], "textFormat": "html"})
    assert {resource for resource, _, _ in answers} == set(RESOURCES)
    check(answers)


def test_the_validator_flags_what_the_schema_does_not_say() -> None:
    """The checks can fail: an invented property, a count sent as a number, a wrong type, a bad time."""
    bad = {
        "kind": "youtube#videoListResponse",
        "items": [
            {
                "id": "x",
                "invented": 1,
                "statistics": {"commentCount": 3},
                "snippet": {"title": 5, "publishedAt": "yesterday"},
            }
        ],
    }
    found = problems(bad, response_schema("videos"))
    assert any("invented: not a property" in p for p in found)
    assert any("commentCount: uint64 must travel as a string" in p for p in found)
    assert any("title: expected string" in p for p in found)
    assert any("publishedAt: 'yesterday' is no RFC 3339" in p for p in found)


RECORDED = RECORDINGS / "youtube" / "testdata" / "apidata"


@pytest.mark.parametrize(
    "folder,resource",
    [
        ("channels", "channels"),
        ("playlist_items", "playlistItems"),
        ("videos", "videos"),
        ("comment_threads", "commentThreads"),
        ("comments", "comments"),
    ],
)
def test_the_validator_accepts_what_youtube_really_sent(folder: str, resource: str) -> None:
    """python-youtube's real recorded list answers pass the same checks: the validator is no stricter
    than the platform (insert/update/rating answers are other methods' and are left out)."""
    files = [
        f
        for f in sorted((RECORDED / folder).glob("*.json"))
        if not f.name.startswith(("insert", "update", "get_rating"))
    ]
    assert files
    for path in files:
        assert problems(json.loads(path.read_bytes()), response_schema(resource)) == [], path.name
