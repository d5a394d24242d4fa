"""Rate limits, injected errors, slowness, malformed bodies, dropped connections, and auth."""

from __future__ import annotations

import json

import httpx
import pytest

from simulator import MastodonAccountSpec, Simulator, Timeline


def test_mastodon_rate_limit_headers_and_429() -> None:
    clock = [1_717_000_000_250]
    with (
        Simulator(seed=1, rate_limit=3, rate_period=300, rate_clock=lambda: clock[0]) as sim,
        httpx.Client(base_url=sim.base_url) as http,
    ):
        seen = [http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}) for _ in range(4)]
        assert [r.headers["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0", "0"]
        assert all(r.headers["X-RateLimit-Limit"] == "3" for r in seen)
        assert seen[0].headers["X-RateLimit-Reset"] == "2024-05-29T16:30:00.250000Z"
        assert seen[3].status_code == 429 and seen[3].json() == {"error": "Too many requests"}
        clock[0] += 300_000  # next window
        assert http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).status_code == 200


def test_injected_429_with_retry_after_then_recovery(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(Timeline().fault("rate_limit", count=2, retry_after=7, match={"platform": "mastodon"}))
    first = http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"})
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert first.headers["X-RateLimit-Remaining"] == "0" and first.json() == {"error": "Too many requests"}
    assert http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).status_code == 429
    assert http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).status_code == 200
    sim.apply([{"type": "fault", "kind": "rate_limit", "retry_after": 3, "match": {"platform": "wordpress"}}])
    wp = http.get("/wp/wp-json/wp/v2/posts")
    assert wp.status_code == 429 and wp.headers["Retry-After"] == "3"
    assert [r.status for r in sim.requests()][-4:] == [429, 429, 200, 429]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_injected_server_errors(http: httpx.Client, sim: Simulator, status: int) -> None:
    sim.apply(
        [
            {
                "type": "fault",
                "kind": "status",
                "status": status,
                "count": 1,
                "retry_after": 5,
                "match": {"path_prefix": "/wp/wp-json/wp/v2/posts"},
            }
        ]
    )
    assert http.get("/wp/wp-json/wp/v2/pages").status_code == 200  # not matching
    failed = http.get("/wp/wp-json/wp/v2/posts")
    assert failed.status_code == status and failed.headers["Retry-After"] == "5"
    if status == 500:
        assert failed.json()["code"] == "internal_server_error"
    assert http.get("/wp/wp-json/wp/v2/posts").status_code == 200


def test_account_that_fails_forever(http: httpx.Client) -> None:
    with (
        Simulator(
            seed=2,
            mastodon_accounts=(
                MastodonAccountSpec(),
                MastodonAccountSpec("sundsvik_bibliotek", "Sundsviks bibliotek", statuses=30),
            ),
        ) as sim,
        httpx.Client(base_url=sim.base_url) as c,
    ):
        sim.apply([{"type": "fault", "status": 500, "count": None, "match": {"account": "sundsvik_bibliotek"}}])
        lib = c.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik_bibliotek"})
        assert lib.status_code == 500
        ids = [a["id"] for a in sim.state(items=False)["mastodon"]["accounts"]]
        for _ in range(3):
            assert c.get(f"/m/api/v1/accounts/{ids[1]}/statuses").status_code == 500
            assert c.get(f"/m/api/v1/accounts/{ids[0]}/statuses").status_code == 200


def test_slow_response(http: httpx.Client, sim: Simulator) -> None:
    """A `slow` fault holds the answer back, then sends it whole. Nothing here measures time: an hour's
    hold against a 1 s read timeout times out on any machine (a slower one only sooner), and the
    hold is let go when the simulator stops, so the test never waits it out."""
    url = "/wp/wp-json/wp/v2/posts"
    expected = http.get(url).json()
    sim.apply([{"type": "fault", "kind": "slow", "delay": 3600, "match": {"platform": "wordpress"}}])
    with pytest.raises(httpx.ReadTimeout):
        http.get(url, timeout=httpx.Timeout(60, read=1))
    assert sim.faults.describe() == [], "the held request took the fault"
    sim.apply([{"type": "fault", "kind": "slow", "delay": 0.05, "match": {"platform": "wordpress"}}])
    late = http.get(url)
    assert late.status_code == 200 and late.json() == expected, "a late answer arrives whole"
    # The log holds answered requests: the first and the late one; the held one has no answer yet.
    assert sim.faults.describe() == [] and [r.status for r in sim.requests()] == [200, 200]


@pytest.mark.parametrize("variant", ["truncated", "wrong_types", "html", "empty"])
def test_malformed_bodies(http: httpx.Client, sim: Simulator, variant: str) -> None:
    aid = http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
    url = f"/m/api/v1/accounts/{aid}/statuses"
    good = http.get(url).json()
    sim.apply([{"type": "fault", "kind": "malformed", "variant": variant}])
    bad = http.get(url)
    assert bad.status_code == 200 and int(bad.headers["Content-Length"]) == len(bad.content)
    if variant == "wrong_types":
        body = bad.json()
        assert isinstance(body[0]["id"], int) and body[0]["created_at"] == 1714637730 and body[0]["content"] is None
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad.content)
    assert http.get(url).json() == good


def test_dropped_connection(http: httpx.Client, sim: Simulator) -> None:
    sim.apply([{"type": "fault", "kind": "disconnect"}])
    with pytest.raises(httpx.TransportError):
        http.get("/wp/wp-json/wp/v2/posts")
    assert http.get("/wp/wp-json/wp/v2/posts").status_code == 200


def test_bearer_token_required_per_account() -> None:
    spec = MastodonAccountSpec(token="s3cret")
    with Simulator(seed=1, mastodon_accounts=(spec,)) as sim, httpx.Client(base_url=sim.base_url) as c:
        missing = c.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"})
        assert missing.status_code == 401 and missing.json() == {"error": "This method requires an authenticated user"}
        wrong = c.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}, headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 401 and wrong.json() == {"error": "The access token is invalid"}
        ok = c.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        sim.apply([{"type": "mastodon.set_token", "account": "sundsvik", "token": "rotated"}])
        expired = c.get(f"/m/api/v1/accounts/{ok.json()['id']}/statuses", headers={"Authorization": "Bearer s3cret"})
        assert expired.status_code == 401 and expired.json() == {"error": "The access token is invalid"}


def test_an_echo_fault_repeats_the_request_url_key_and_all(http: httpx.Client, sim: Simulator) -> None:
    """Some platforms' debug fields and error pages repeat the request's URL, credential included: the
    harvester's redaction is tested against such answers (tests/security/test_key_leaks.py)."""
    sim.apply(
        [
            {"type": "fault", "kind": "status", "status": 400, "echo": True, "match": {"platform": "youtube"}},
            {"type": "fault", "kind": "malformed", "variant": "html", "echo": True, "match": {"platform": "wordpress"}},
        ]
    )
    error = http.get("/yt/videos", params={"key": "echoed-key-1234"})
    assert error.status_code == 400
    assert list(error.json()) == ["request_url", "error"]  # first, then the platform's own envelope
    assert error.json()["request_url"] == f"{sim.base_url}/yt/videos?key=echoed-key-1234"
    page = http.get("/wp/wp-json/wp/v2/posts", params={"api_key": "echoed-key-5678"})
    assert page.text.startswith(f"request: {sim.base_url}/wp/wp-json/wp/v2/posts?api_key=echoed-key-5678\n<!doctype")
    assert http.get("/wp/wp-json/wp/v2/posts").status_code == 200  # each fault used up


def test_a_drop_leaves_one_listed_item_out_once(http: httpx.Client, sim: Simulator) -> None:
    """The completeness tests' fault: a conversation that misses one reply, once, while the status still
    counts it; the next answer is whole again."""
    aid = http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
    statuses = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": "40"}).json()
    status = next(s for s in statuses if s["replies_count"] >= 2)
    url = f"/m/api/v1/statuses/{status['id']}/context"
    whole = http.get(url).json()["descendants"]
    victim = whole[0]["id"]
    sim.apply(Timeline().fault("drop", item=victim, match={"platform": "mastodon", "path_prefix": url}))
    short = http.get(url)
    assert int(short.headers["Content-Length"]) == len(short.content)
    assert [d["id"] for d in short.json()["descendants"]] == [d["id"] for d in whole if d["id"] != victim]
    assert http.get(url).json()["descendants"] == whole
    (rule,) = sim.faults.added()
    assert rule.dropped == [victim] and rule.hits == 1


def test_a_drop_without_an_item_leaves_out_the_last_of_a_plain_list(http: httpx.Client, sim: Simulator) -> None:
    posts = http.get("/wp/wp-json/wp/v2/posts").json()
    sim.apply(Timeline().fault("drop", match={"platform": "wordpress"}))
    assert [p["id"] for p in http.get("/wp/wp-json/wp/v2/posts").json()] == [p["id"] for p in posts[:-1]]
