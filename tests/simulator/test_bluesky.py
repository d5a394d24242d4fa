"""The simulator's Bluesky answers as the AppView does: every response checked against Bluesky's lexicons.

The check is Bluesky's own: `@atproto/lexicon`'s validator over the lexicon schemas `@atproto/api`
ships, run in Node (tests/peers/bluesky/lexicon.js) from the install the real Bluesky peer uses
(tests/peers/bluesky/install, cached in ~/.cache/communis). Every answer a harvest asks for is
validated (profile, every author-feed page, every thread, getPosts, getRepostedBy), and each post
record inside them as an `app.bsky.feed.post` record. The shapes the real AppView's recorded
answers show (tests/recordings/bluesky-dart) must be among them: a repost (`reasonRepost`), a
quote with media (`recordWithMedia`), a plain quote, a link card, and link, tag and mention facets.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator import Simulator

HERE = Path(__file__).resolve().parent.parent / "peers" / "bluesky"
HANDLE = "sundsvikkommun.bsky.social"


class Lexicons:
    """Bluesky's validator in a Node process: one JSON line in, one verdict out."""

    def __init__(self) -> None:
        done = subprocess.run([str(HERE / "install")], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"the @atproto install failed: {done.stderr[-2000:]}"
        install = done.stdout.strip().splitlines()[-1]
        self.proc = subprocess.Popen(
            ["node", str(HERE / "lexicon.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={"NODE_PATH": f"{install}/node_modules", "PATH": "/usr/local/bin:/usr/bin:/bin"},
        )

    def check(self, **query: Any) -> str | None:
        """None when valid, else the validator's message."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(query) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the lexicon validator exited"
        verdict = json.loads(line)
        return None if verdict["ok"] else str(verdict["error"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


@pytest.fixture(scope="module")
def lexicons() -> Iterator[Lexicons]:
    running = Lexicons()
    yield running
    running.close()


def records_in(obj: Any) -> Iterator[dict[str, Any]]:
    """Every post record in an answer (post views' `record`, quoted posts' `value`)."""
    if isinstance(obj, dict):
        for key in ("record", "value"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner.get("$type") == "app.bsky.feed.post":
                yield inner
        for value in obj.values():
            yield from records_in(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from records_in(value)


def types_in(obj: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(obj, dict):
        if isinstance(obj.get("$type"), str):
            found.add(obj["$type"])
        for value in obj.values():
            found |= types_in(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= types_in(value)
    return found


@pytest.mark.sim(posts=60)
def test_every_answer_a_harvest_reads_is_valid_by_the_lexicons(sim: Simulator, lexicons: Lexicons) -> None:
    sim.apply(
        [
            {"type": "clock.advance", "hours": 2},
            {
                "type": "bluesky.publish",
                "text": "Hej @anna.bsky.social! Läs mer på https://sundsvik.example/nytt #Sundsvik 🎉",
            },
        ]
    )
    base = sim.url("bluesky")
    answers: list[tuple[str, dict[str, Any]]] = []
    with httpx.Client(base_url=base, timeout=30) as http:

        def get(method: str, **params: Any) -> dict[str, Any]:
            response = http.get(f"/xrpc/{method}", params=params)
            assert response.status_code == 200, (method, params, response.text[:300])
            body: dict[str, Any] = response.json()
            answers.append((method, body))
            return body

        profile = get("app.bsky.actor.getProfile", actor=HANDLE)
        params: dict[str, Any] = {"actor": profile["did"], "limit": 100, "filter": "posts_with_replies"}
        feed: list[dict[str, Any]] = []
        while True:
            page = get("app.bsky.feed.getAuthorFeed", **params)
            feed += page["feed"]
            if not page.get("cursor"):
                break
            params["cursor"] = page["cursor"]
        for item in feed:
            post = item["post"]
            if post.get("replyCount"):
                get("app.bsky.feed.getPostThread", uri=post["uri"], depth=1000, parentHeight=0)
        get("app.bsky.feed.getPosts", uris=[i["post"]["uri"] for i in feed[:25]])
        for item in feed:
            if item.get("reason"):
                get("app.bsky.feed.getRepostedBy", uri=item["post"]["uri"])

    problems = [(method, error) for method, body in answers if (error := lexicons.check(method=method, body=body))]
    records = [r for _, body in answers for r in records_in(body)]
    problems += [("record", error) for r in records if (error := lexicons.check(record=r))]
    assert not problems, problems[:5]
    assert len(answers) > 10 and len(records) > 60

    shown = types_in([body for _, body in answers])
    assert {
        "app.bsky.feed.defs#reasonRepost",
        "app.bsky.embed.recordWithMedia#view",
        "app.bsky.embed.record#view",
        "app.bsky.embed.external#view",
        "app.bsky.embed.images#view",
        "app.bsky.richtext.facet#link",
        "app.bsky.richtext.facet#tag",
        "app.bsky.richtext.facet#mention",
    } <= shown, shown


def test_the_validator_rejects_what_the_lexicons_forbid(lexicons: Lexicons) -> None:
    """A check that cannot fail proves nothing: a post view without its author, and a record whose
    text is a number, are refused."""
    cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
    view = {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3k",
        "cid": cid,
        "record": {},
        "indexedAt": "2024-05-02T08:15:29.812Z",
    }
    assert lexicons.check(method="app.bsky.feed.getPosts", body={"posts": [view]})
    assert lexicons.check(record={"$type": "app.bsky.feed.post", "text": 5, "createdAt": "2024-05-02T08:15:29.812Z"})
    assert (
        lexicons.check(
            method="app.bsky.feed.getPosts",
            body={"posts": [{**view, "author": {"did": "did:plc:abc", "handle": "a.bsky.social"}}]},
        )
        is None
    )
