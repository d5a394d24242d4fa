"""Determinism, personal data in comments, media bytes, scale, and the standalone command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from simulator import MastodonAccountSpec, Simulator, Timeline, WorldConfig, luhn_valid
from simulator.textgen import luhn_digit
from simulator.world import World
from tests.waiting import HANG_GUARD_S

REPO = Path(__file__).resolve().parents[2]
PNR = re.compile(r"\b(?:19|20)?\d{6}[-+]?\d{4}\b")
PHONE = re.compile(r"(?:\+46 7\d|07\d)[- ]\d{3} \d{2} \d{2}")


def _fetch_all(base: str) -> list[bytes]:
    with httpx.Client(base_url=base) as c:
        aid = c.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
        urls = [
            f"/m/api/v1/accounts/{aid}/statuses?limit=40",
            "/wp/wp-json/wp/v2/posts?per_page=100",
            "/wp/wp-json/wp/v2/comments?per_page=100",
            "/wp/wp-json/wp/v2/pages",
        ]
        bodies = [c.get(u).content for u in urls]
        first = c.get(urls[0]).json()
        bodies += [c.get(f"/m/api/v1/statuses/{s['id']}/context").content for s in first[:10]]
        return bodies


def test_same_seed_same_bytes() -> None:
    with Simulator(seed=7) as a:
        port = a.port
        one = _fetch_all(a.base_url)
        a.apply(Timeline().advance(hours=1).add("mastodon.publish").add("wordpress.comment", post=1000))
        one_after = _fetch_all(a.base_url)
    with Simulator(seed=7, port=port) as b:  # same base URL, so even absolute links match
        assert _fetch_all(b.base_url) == one
        b.apply(Timeline().advance(hours=1).add("mastodon.publish").add("wordpress.comment", post=1000))
        assert _fetch_all(b.base_url) == one_after
    with Simulator(seed=8) as c:
        assert _fetch_all(c.base_url)[1:3] != one[1:3]


def test_personal_data_in_comments_has_valid_checksums(sim: Simulator, http: httpx.Client) -> None:
    assert luhn_digit("811218987") == 6 and luhn_valid("19811218-9876") and not luhn_valid("19811218-9875")
    comments = http.get("/wp/wp-json/wp/v2/comments", params={"per_page": 100}).json()
    aid = http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
    statuses = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 40}).json()
    texts = [c["content"]["rendered"] for c in comments]
    for s in statuses[:40]:
        ctx = http.get(f"/m/api/v1/statuses/{s['id']}/context").json()
        texts += [d["content"] for d in ctx["descendants"] + ctx["ancestors"]]
    numbers = [n for t in texts for n in PNR.findall(t)]
    assert len(numbers) >= 5 and all(luhn_valid(n) for n in numbers)
    assert any(len(n) == 11 for n in numbers) and any(len(n) == 13 for n in numbers)  # 811218-9876, 19811218-9876
    assert any(int(re.sub(r"\D", "", n)[-6:-4]) > 60 for n in numbers)  # samordningsnummer: day + 60
    joined = "\n".join(texts)
    assert PHONE.search(joined) and re.search(r"[\w.]+@[\w.]+\.(?:se|example|com)", joined)
    assert re.search(r"\b\d{3} \d{2} [A-ZÅÄÖ]\w+", joined)  # postcode and town of a street address
    truth = sim.state()
    assert truth["wordpress"]["counts"]["pii_comments"] > 10 and truth["mastodon"]["counts"]["pii"] > 10


def test_swedish_text_emoji_links_hashtags(http: httpx.Client) -> None:
    aid = http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
    statuses = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 40}).json()
    html = "".join(s["content"] for s in statuses)
    assert re.search("[åäöÅÄÖ]", html) and re.search("[\U0001f300-\U0001faff]", html)
    assert 'class="mention hashtag"' in html and 'rel="nofollow noopener noreferrer"' in html
    assert {s["language"] for s in statuses if not s["reblog"]} == {"sv", "en"}


def test_media_files_are_real(sim: Simulator, http: httpx.Client) -> None:
    media = [m for r in sim.state()["mastodon"]["items"] for m in r["media"]]
    proxied = next(m for m in media if "/media_proxy/" in m["url"])
    hop = http.get(proxied["url"])
    assert hop.status_code == 302 and "/system/media_attachments/files/" in hop.headers["Location"]
    kinds = {}
    for m in media:
        if m["oversized"]:
            continue
        resp = http.get(m["url"], follow_redirects=True)
        assert resp.status_code == 200 and int(resp.headers["Content-Length"]) == len(resp.content)
        kinds[resp.headers["Content-Type"]] = resp.content
    assert kinds["image/png"].startswith(b"\x89PNG\r\n\x1a\n") and kinds["image/png"].endswith(b"IEND\xaeB`\x82")
    assert kinds["image/jpeg"].startswith(b"\xff\xd8\xff\xe0") and kinds["image/jpeg"].endswith(b"\xff\xd9")
    assert kinds["video/mp4"][4:8] == b"ftyp"
    assert http.get(sim.mastodon_url + "/system/media_attachments/files/000/000/001/original/x.png").status_code == 404


def test_hundred_thousand_statuses_are_cheap() -> None:
    config = WorldConfig(mastodon_accounts=(MastodonAccountSpec(statuses=100_000),), wp_posts=20)
    with Simulator(config) as sim, httpx.Client(base_url=sim.base_url) as c:
        assert sim.state(items=False)["mastodon"]["accounts"][0]["statuses_count"] == 100_000
        aid = c.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
        first = c.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 40})
        assert len(first.json()) == 40
        deep_id = sim.world.mastodon.own_id(0, 1_234)
        deep = c.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 40, "max_id": deep_id})
        assert [int(s["id"]) for s in deep.json()] == [sim.world.mastodon.own_id(0, i) for i in range(1_233, 1_193, -1)]
        oldest = c.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 40, "min_id": 0}).json()
        assert int(oldest[-1]["id"]) == sim.world.mastodon.own_id(0, 0) and "next" not in first.links["prev"]["url"]
        assert c.get(f"/m/api/v1/statuses/{deep_id}").json()["id"] == str(deep_id)


def test_standalone_command_prints_urls() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", "0", "--posts", "20", "--control-token", "t0k"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        base = lines[0].split()[1]
        assert lines[1].split()[1] == base + "/m" and lines[2].split()[1] == base + "/wp"
        state = httpx.get(base + "/_sim/state?items=0", headers={"Authorization": "Bearer t0k"}).json()
        assert state["wordpress"]["counts"]["posts"] == 20
    finally:
        proc.terminate()
        proc.wait(timeout=HANG_GUARD_S)  # SIGTERM ends it; the limit only guards against a hang


def test_a_single_platform_world_holds_the_posts() -> None:
    """`only` sizes one platform and empties the rest (a benchmark's million-item account builds no
    other platform's history up front)."""
    fb = World(WorldConfig().only("facebook", 7))
    assert len(fb.social["facebook"].posts) == 7
    assert {name: len(m.posts) for name, m in fb.social.items() if name != "facebook" and m.posts} == {}
    assert fb.wordpress.count("post") == 0
    wp = World(WorldConfig().only("wordpress", 5))
    assert wp.wordpress.count("post") == 5 and not any(m.posts for m in wp.social.values())
