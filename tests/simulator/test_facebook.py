"""Facebook Pages as the simulator speaks the Graph API: Page lookup, cursor paging without the token
in `next`, `fields=` expansion, `updated_time` as activity, comment filters, Graph errors, and
throttling as HTTP 400 with a Business Use Case code (not 429)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from simhelp import truth

from archive.connectors.facebook import FacebookConnector
from schemas import Account, CredentialRef
from simulator import Simulator
from tests.driving import drive
from tests.replay.server import RECORDINGS

TOKEN = "EAAG-page-token-123"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")
FIELDS = (
    "id,created_time,updated_time,message,attachments{media_type,url,media,subattachments},"
    "comments.summary(true).limit(0)"
)

pytestmark = [pytest.mark.sim(posts=30, social_token=TOKEN), pytest.mark.client("facebook", token=TOKEN)]


def page_id(http: httpx.Client) -> str:
    resp = http.get("/sundsvikkommun", params={"fields": "id,name"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "Sundsviks kommun"
    return str(resp.json()["id"])


def test_posts_page_to_the_end_newest_first_and_next_has_no_token(http: httpx.Client, sim: Simulator) -> None:
    pid = page_id(http)
    url: str | None = f"/{pid}/posts"
    params: dict[str, str] | None = {"fields": FIELDS, "limit": "7", "access_token": TOKEN}
    posts: list[dict[str, Any]] = []
    while url:
        resp = http.get(url, params=params)
        assert resp.status_code == 200, resp.text
        assert "X-Business-Use-Case-Usage" in resp.headers and "X-App-Usage" in resp.headers
        body = resp.json()
        assert len(body["data"]) <= 7
        posts += body["data"]
        url = body.get("paging", {}).get("next")
        assert url is None or ("access_token" not in url and "after=" in url)
        params = None
    live = [r for r in truth(sim, "facebook") if r["kind"] == "post" and not r["deleted"]]
    assert [p["id"] for p in posts] == [r["id"] for r in sorted(live, key=lambda r: r["created_at"], reverse=True)]
    assert all(p["id"].startswith(pid + "_") for p in posts)
    assert all(STAMP.match(p["created_time"]) and STAMP.match(p["updated_time"]) for p in posts)
    assert all("summary" in p["comments"] and p["comments"]["data"] == [] for p in posts)
    assert b"\\/" in http.get(f"/{pid}/posts", params={"fields": "permalink_url"}).content  # Graph escapes "/"


def test_updated_time_moves_on_a_new_comment_and_comment_filters(http: httpx.Client, sim: Simulator) -> None:
    pid = page_id(http)
    post = http.get(f"/{pid}/posts", params={"fields": "id,updated_time", "limit": "1"}).json()["data"][0]
    no = next(r["no"] for r in truth(sim, "facebook") if r["id"] == post["id"])
    sim.apply([{"type": "clock.advance", "hours": 2}])
    top = sim.apply([{"type": "facebook.comment", "post": no, "text": "Gäller det även helger?"}])[0]["no"]
    sim.apply([{"type": "clock.advance", "hours": 1}])
    sim.apply([{"type": "facebook.comment", "post": no, "parent": top, "own": True, "text": "Ja."}])
    after = http.get(f"/{post['id']}", params={"fields": "updated_time"}).json()
    assert after["updated_time"] > post["updated_time"]
    fields = {"fields": "id,message,from{id,name},parent{id}"}
    toplevel = http.get(f"/{post['id']}/comments", params=fields).json()["data"]
    stream = http.get(f"/{post['id']}/comments", params={**fields, "filter": "stream", "summary": "true"}).json()
    replies = [c for c in stream["data"] if "parent" in c]
    assert len(stream["data"]) == len(toplevel) + len(replies) == stream["summary"]["total_count"]
    top_id = next(r["id"] for r in truth(sim, "facebook") if r["no"] == top)
    assert top_id in {c["id"] for c in toplevel}
    mine = next(c for c in stream["data"] if c["message"] == "Ja.")
    assert mine["from"]["id"] == pid and mine["parent"]["id"] == top_id
    assert [c["id"] for c in http.get(f"/{top_id}/comments", params=fields).json()["data"]] == [mine["id"]]


def test_deleted_items_answer_code_100_subcode_33(http: httpx.Client, sim: Simulator) -> None:
    row = next(r for r in truth(sim, "facebook") if r["kind"] == "post" and not r["deleted"])
    assert http.get(f"/{row['id']}").status_code == 200
    sim.apply([{"type": "facebook.delete", "no": row["no"]}])
    gone = http.get(f"/{row['id']}", params={"fields": "id"})
    assert gone.status_code == 400
    error = gone.json()["error"]
    assert error["code"] == 100 and error["error_subcode"] == 33 and error["type"] == "OAuthException"
    assert error["fbtrace_id"] and error["is_transient"] is False
    bad = http.get(f"/{page_id(http)}/posts", params={"fields": "id,nosuchfield"}).json()["error"]
    assert bad["code"] == 100 and "nosuchfield" in bad["message"]


def test_token_errors_are_graph_errors(sim: Simulator) -> None:
    base = sim.url("facebook")
    missing = httpx.get(f"{base}/sundsvikkommun")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 104
    wrong = httpx.get(f"{base}/sundsvikkommun", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 190
    assert wrong.headers["WWW-Authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')
    assert httpx.get(f"{base}/sundsvikkommun", params={"access_token": TOKEN}).status_code == 200


def test_injected_faults_carry_graph_bodies(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "count": 1, "retry_after": 90, "match": {"platform": "facebook"}},
            {"type": "fault", "kind": "status", "status": 503, "count": 1, "match": {"platform": "facebook"}},
        ]
    )
    limited = http.get("/sundsvikkommun")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == 4
    buc = json.loads(limited.headers["X-Business-Use-Case-Usage"])
    assert next(iter(buc.values()))[0]["estimated_time_to_regain_access"] == 2  # minutes, rounded up
    failed = http.get("/sundsvikkommun")
    assert failed.status_code == 503 and failed.json()["error"]["is_transient"] is True
    assert http.get("/sundsvikkommun").status_code == 200


def test_throttling_is_http_400_with_a_buc_code_the_connector_waits_out() -> None:
    clock = [1_716_999_900_000]  # the start of a 300 s window
    with (
        Simulator(posts=3, social_token=TOKEN, rate_limit=2, rate_period=300, rate_clock=lambda: clock[0]) as sim,
        httpx.Client(base_url=sim.url("facebook"), headers={"Authorization": f"Bearer {TOKEN}"}) as http,
    ):
        first = http.get("/sundsvikkommun")
        assert json.loads(first.headers["X-App-Usage"])["call_count"] == 50
        http.get("/sundsvikkommun")
        throttled = http.get("/sundsvikkommun")
        assert throttled.status_code == 400 and throttled.json()["error"]["code"] == 80001
        connector = FacebookConnector()
        assert connector.throttled(throttled) == 300.0  # 5 minutes left in the window
        assert connector.throttled(first) is None
        clock[0] += 300_000
        assert http.get("/sundsvikkommun").status_code == 200


def test_a_video_without_source_as_real_page_feeds_show_it_and_the_connector_keeps_it(
    http: httpx.Client, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post of one video comes as python-facebook's recorded Page feed shows most videos
    (`type: video_autoplay`, only `media.image`, no `media.source`: the keys of the recorded
    attachment); the connector keeps the poster image as media (fetched) and the video's page in links."""
    recorded = json.loads(
        (RECORDINGS / "facebook/testdata/facebook/apidata/posts/feeds_default_fields_p1.json").read_bytes()
    )["data"][4]["attachments"]["data"][0]
    no = sim.apply([{"type": "facebook.publish", "text": "Se filmen från invigningen.", "video": True}])[0]["no"]
    post_id = next(r["id"] for r in truth(sim, "facebook") if r["no"] == no)
    att = http.get(
        f"/{post_id}", params={"fields": "attachments{media_type,type,url,unshimmed_url,title,media,target}"}
    ).json()["attachments"]["data"][0]
    assert (att["type"], att["media_type"]) == ("video_autoplay", "video") == (recorded["type"], recorded["media_type"])
    assert set(att) == set(recorded) and set(att["media"]) == {"image"} == set(recorded["media"])

    monkeypatch.setenv("COMMUNIS_SIM_FB_TOKEN", TOKEN)
    account = Account(
        id="sv-facebook",
        platform="facebook",
        handle="sundsvikkommun",
        display_name="Sundsvik",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=sim.url("facebook"),
        credentials=CredentialRef(env="COMMUNIS_SIM_FB_TOKEN"),
    )
    outcome = drive(account, datetime.now(UTC), lookback=timedelta(days=3650))
    assert outcome.kind == "parsed", outcome.crash or outcome.error
    record = next(r for r in outcome.records if r.item_id == post_id)
    assert [(m.url, m.content_type) for m in record.media] == [(att["media"]["image"]["src"], "image/*")]
    assert record.media[0].sha256 is not None  # the poster was fetched and archived
    assert att["url"] in record.links
