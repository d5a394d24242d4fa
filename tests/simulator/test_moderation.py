"""The simulator's moderation endpoints in their platforms' wire formats, and the timeline events behind them.

Mastodon (blocks, mutes, domain blocks, v2 filters: the token's own, paged by `Link`), Facebook
(`/{page-id}/blocked`), X (`/2/users/{id}/blocking`, `/muting`, checked against X's published OpenAPI
schema), Bluesky (`app.bsky.graph.getBlocks`, `getMutes`, `getListBlocks`, checked with Bluesky's own
lexicon validator, and the PLC directory's DID document naming the PDS). The events (`block`,
`unblock`, `mute`, `filter` …) change what those answer and what the ground truth says.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_bluesky import Lexicons, lexicons  # noqa: F401 - the module-scoped validator fixture
from x_openapi.schema import problems

from simulator import Simulator, TimelineError
from tests.waiting import HANG_GUARD_S

TOKEN = "sim-moderation-token"

pytestmark = pytest.mark.sim(posts=5, social_token=TOKEN, rate_limit=10**9)


def client(sim: Simulator, platform: str, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=sim.url(platform), headers=headers, timeout=HANG_GUARD_S)


def listed(sim: Simulator, platform: str, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.state()["platforms"][platform]["moderation"][name]
    return found


# ---- Mastodon ----------------------------------------------------------------------------------------
def test_mastodon_lists_are_the_tokens_own(sim: Simulator) -> None:
    sim.apply([{"type": "mastodon.set_token", "account": "sundsvik", "token": TOKEN}])
    with client(sim, "mastodon", None) as anonymous, client(sim, "mastodon", "someone-else") as wrong:
        nobody = anonymous.get("/api/v1/blocks")
        assert nobody.status_code == 401 and nobody.json() == {"error": "The access token is invalid"}
        assert wrong.get("/api/v1/mutes").status_code == 401
    with client(sim, "mastodon") as http:
        for path in ("/api/v1/blocks", "/api/v1/mutes", "/api/v1/domain_blocks", "/api/v2/filters"):
            answer = http.get(path)
            assert answer.status_code == 200 and answer.json() == [] and "link" not in answer.headers, path


def test_mastodon_blocks_page_by_link_newest_first_and_unblock_removes(sim: Simulator) -> None:
    sim.apply([{"type": "mastodon.set_token", "account": "sundsvik", "token": TOKEN}])
    blocked = [sim.apply([{"type": "clock.advance", "minutes": 1}, {"type": "mastodon.block"}])[1] for _ in range(5)]
    blocked = list({b["id"]: b for b in blocked}.values())  # a random citizen may come twice: one block
    with client(sim, "mastodon") as http:
        seen: list[str] = []
        url: str | None = "/api/v1/blocks?limit=2"
        while url:
            page = http.get(url)
            assert page.status_code == 200
            seen += [a["id"] for a in page.json()]
            assert all({"id", "acct", "username", "display_name", "url"} <= a.keys() for a in page.json())
            url = page.links.get("next", {}).get("url")
        assert seen == [b["id"] for b in reversed(blocked)]  # newest block first, each once
        sim.apply([{"type": "mastodon.unblock", "target": blocked[0]["acct"]}])
        assert [a["id"] for a in http.get("/api/v1/blocks").json()] == [b["id"] for b in reversed(blocked[1:])]
    truth = sim.state()["mastodon"]["accounts"][0]["moderation"]["blocks"]
    assert {e["id"] for e in truth} == {b["id"] for b in blocked[1:]}
    with pytest.raises(TimelineError, match="is not blocked"):
        sim.apply([{"type": "mastodon.unblock", "target": blocked[0]["acct"]}])


def test_mastodon_mutes_domains_and_filters(sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "mastodon.set_token", "account": "sundsvik", "token": TOKEN},
            {"type": "mastodon.mute", "duration": 3600},
            {"type": "mastodon.domain_block", "domain": "Spam.Example"},
            {"type": "mastodon.filter", "title": "Reklam", "keywords": ["köp nu", "gratis"], "action": "hide"},
        ]
    )
    with client(sim, "mastodon") as http:
        (muted,) = http.get("/api/v1/mutes").json()
        assert muted["mute_expires_at"].endswith("Z")
        assert http.get("/api/v1/domain_blocks").json() == ["spam.example"]
        (made,) = http.get("/api/v2/filters").json()
        assert list(made) == ["id", "title", "context", "expires_at", "filter_action", "keywords", "statuses"]
        assert made["filter_action"] == "hide" and [k["keyword"] for k in made["keywords"]] == ["köp nu", "gratis"]
        sim.apply([{"type": "mastodon.filter", "title": "Reklam", "keywords": ["gratis", "rea"]}])
        (changed,) = http.get("/api/v2/filters").json()
        kept = {k["keyword"]: k["id"] for k in made["keywords"]}
        assert changed["id"] == made["id"] and [k["keyword"] for k in changed["keywords"]] == ["gratis", "rea"]
        assert changed["keywords"][0]["id"] == kept["gratis"]  # a keyword kept keeps its id
        sim.apply(
            [
                {"type": "mastodon.filter_delete", "title": "Reklam"},
                {"type": "mastodon.domain_unblock", "domain": "spam.example"},
            ]
        )
        assert http.get("/api/v2/filters").json() == [] and http.get("/api/v1/domain_blocks").json() == []


# ---- Facebook ----------------------------------------------------------------------------------------
def test_facebook_blocked_edge_pages_like_every_edge(sim: Simulator) -> None:
    for k in range(3):
        sim.apply([{"type": "clock.advance", "minutes": 1}, {"type": "facebook.block", "handle": f"troll{k}"}])
    page_id = next(r for r in sim.state()["platforms"]["facebook"]["items"] if r["kind"] == "post")["id"].split("_")[0]
    with client(sim, "facebook") as http:
        first = http.get(f"/{page_id}/blocked", params={"limit": 2}).json()
        assert [set(b) for b in first["data"]] == [{"id", "name"}] * 2 and "next" in first["paging"]
        rest = httpx.get(first["paging"]["next"], headers=http.headers, timeout=HANG_GUARD_S).json()
        ids = [b["id"] for b in first["data"] + rest["data"]]
    assert ids == [e["id"] for e in listed(sim, "facebook", "blocks")] and len(ids) == 3
    sim.apply([{"type": "facebook.unblock", "handle": "troll1"}])
    assert [e["handle"] for e in listed(sim, "facebook", "blocks")] == ["troll2", "troll0"]


# ---- X -----------------------------------------------------------------------------------------------
def test_x_blocking_and_muting_match_the_published_schema(sim: Simulator) -> None:
    with client(sim, "x") as http:
        uid = http.get("/2/users/by/username/sundsvikkommun").json()["data"]["id"]
        empty = http.get(f"/2/users/{uid}/blocking").json()
        assert empty == {"meta": {"result_count": 0}} and problems(empty, "Get2UsersIdBlockingResponse") == []
        for _ in range(3):
            sim.apply([{"type": "clock.advance", "minutes": 1}, {"type": "x.block"}, {"type": "x.mute"}])
        first = http.get(f"/2/users/{uid}/blocking", params={"max_results": 2, "user.fields": "username,name"}).json()
        rest = http.get(f"/2/users/{uid}/blocking", params={"pagination_token": first["meta"]["next_token"]}).json()
        muting = http.get(f"/2/users/{uid}/muting").json()
        for body, schema in ((first, "Blocking"), (rest, "Blocking"), (muting, "Muting")):
            assert problems(body, f"Get2UsersId{schema}Response") == [], body
        assert [u["id"] for u in first["data"] + rest["data"]] == [e["id"] for e in listed(sim, "x", "blocks")]
        assert "next_token" not in rest["meta"] and len(muting["data"]) == 3
        other = http.get("/2/users/12345/blocking")
        assert other.status_code == 403 and other.headers["content-type"].startswith("application/problem+json")
        bad = http.get(f"/2/users/{uid}/muting", params={"max_results": 0})
        assert bad.status_code == 400


# ---- Bluesky -----------------------------------------------------------------------------------------
def test_bluesky_graph_answers_are_valid_by_the_lexicons(sim: Simulator, lexicons: Lexicons) -> None:  # noqa: F811
    sim.apply(
        [
            {"type": "bluesky.block"},
            {"type": "clock.advance", "minutes": 1},
            {"type": "bluesky.block"},
            {"type": "bluesky.mute"},
            {"type": "bluesky.block_list", "list": "Trollfabriken"},
        ]
    )
    with client(sim, "bluesky", None) as anonymous:
        refused = anonymous.get("/xrpc/app.bsky.graph.getBlocks")
        assert refused.status_code == 401 and refused.json()["error"] == "AuthMissing"
    with client(sim, "bluesky") as http:
        first = http.get("/xrpc/app.bsky.graph.getBlocks", params={"limit": 1}).json()
        rest = http.get("/xrpc/app.bsky.graph.getBlocks", params={"limit": 1, "cursor": first["cursor"]}).json()
        mutes = http.get("/xrpc/app.bsky.graph.getMutes").json()
        lists = http.get("/xrpc/app.bsky.graph.getListBlocks").json()
    for method, body in (("getBlocks", first), ("getBlocks", rest), ("getMutes", mutes), ("getListBlocks", lists)):
        assert lexicons.check(method=f"app.bsky.graph.{method}", body=body) is None, (method, body)
    assert [p["did"] for p in first["blocks"] + rest["blocks"]] == [e["id"] for e in listed(sim, "bluesky", "blocks")]
    assert "cursor" not in rest and all(p["viewer"]["blocking"].startswith("at://") for p in first["blocks"])
    assert [x["name"] for x in lists["lists"]] == ["Trollfabriken"] and mutes["mutes"][0]["viewer"]["muted"] is True


def test_bluesky_did_document_names_the_pds(sim: Simulator) -> None:
    with client(sim, "bluesky", None) as http:
        did = http.get("/xrpc/app.bsky.actor.getProfile", params={"actor": "sundsvikkommun.bsky.social"}).json()["did"]
        doc = http.get(f"/plc/{did}").json()
        assert http.get("/plc/did:plc:nobody").status_code == 404
    (pds,) = [s for s in doc["service"] if s["id"] == "#atproto_pds"]
    assert doc["id"] == did and pds["serviceEndpoint"] == sim.url("bluesky")


def test_moderation_events_name_what_they_change(sim: Simulator) -> None:
    blocked = sim.apply([{"type": "x.block", "handle": "troll"}])[0]
    assert blocked["handle"] == "troll" and [e["handle"] for e in listed(sim, "x", "blocks")] == ["troll"]
    with pytest.raises(TimelineError, match="not on the x blocks list"):
        sim.apply([{"type": "x.unblock", "handle": "nobody"}])
    with pytest.raises(TimelineError, match="no citizen"):
        sim.apply([{"type": "mastodon.block", "target": "nobody@nowhere.example"}])
