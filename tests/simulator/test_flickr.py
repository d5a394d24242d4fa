"""Flickr's REST API in the simulator: envelopes, paging, string numbers, errors, and the connector's
reading of Flickr's HTTP-200 failure signal."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from archive.connectors.flickr import FlickrConnector
from simulator import Simulator

REST = "/flickr/services/rest/"


pytestmark = pytest.mark.sim(posts=40)


def call(http: httpx.Client, method: str, **params: str) -> dict[str, Any]:
    resp = http.get(REST, params={"method": method, "api_key": "k", "format": "json", "nojsoncallback": "1", **params})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def nsid(http: httpx.Client) -> str:
    body = call(http, "flickr.people.findByUsername", username="sundsvikkommun")
    assert body["stat"] == "ok" and body["user"]["username"] == {"_content": "sundsvikkommun"}
    return str(body["user"]["nsid"])


def truth_posts(sim: Simulator) -> list[dict[str, Any]]:
    rows = sim.state()["platforms"]["flickr"]["items"]
    return [r for r in rows if r["kind"] == "post" and r["visible"]]


def test_public_photos_page_to_the_end_with_unix_strings(http: httpx.Client, sim: Simulator) -> None:
    owner = nsid(http)
    assert owner.endswith("@N05")
    seen: list[dict[str, Any]] = []
    page, pages = 1, 1
    while page <= pages:
        body = call(
            http,
            "flickr.people.getPublicPhotos",
            user_id=owner,
            per_page="7",
            page=str(page),
            extras="description,date_upload,last_update,date_taken,tags,url_l,media,owner_name,path_alias",
        )
        listing = body["photos"]
        assert listing["page"] == page and listing["perpage"] == 7
        pages = listing["pages"]
        seen += listing["photo"]
        page += 1
    assert pages == 6 and listing["total"] == 40
    assert [p["id"] for p in seen] == [
        r["id"] for r in sorted(truth_posts(sim), key=lambda r: r["created_at"], reverse=True)
    ]
    photo = seen[0]
    assert photo["dateupload"].isdigit() and photo["lastupdate"].isdigit()
    assert int(photo["lastupdate"]) >= int(photo["dateupload"])
    assert len(photo["datetaken"]) == 19 and photo["datetaken"][10] == " "
    assert photo["media"] in ("photo", "video") and photo["owner"] == owner and photo["pathalias"] == "sundsvikkommun"
    assert isinstance(photo["description"]["_content"], str) and photo["url_l"].startswith(sim.base_url)
    assert "license" not in photo  # only the extras asked for
    beyond = call(http, "flickr.people.getPublicPhotos", user_id=owner, per_page="7", page="9")
    assert beyond["photos"]["photo"] == [] and beyond["photos"]["pages"] == 6
    capped = call(http, "flickr.people.getPublicPhotos", user_id=owner, per_page="900")
    assert capped["photos"]["perpage"] == 500


def test_json_callback_wrapping_and_php_escaping(http: httpx.Client) -> None:
    resp = http.get(
        REST,
        params={
            "method": "flickr.people.findByUsername",
            "username": "sundsvikkommun",
            "api_key": "k",
            "format": "json",
        },
    )
    assert resp.text.startswith("jsonFlickrApi({") and resp.text.endswith("})")
    assert json.loads(resp.text[len("jsonFlickrApi(") : -1])["stat"] == "ok"
    owner = nsid(http)
    raw = http.get(
        REST,
        params={
            "method": "flickr.people.getPublicPhotos",
            "user_id": owner,
            "api_key": "k",
            "format": "json",
            "nojsoncallback": "1",
            "extras": "url_l",
        },
    ).content
    assert b"\\/" in raw  # PHP json_encode escapes slashes
    unknown = call(http, "flickr.photos.nonsense")
    assert unknown == {"stat": "fail", "code": 112, "message": 'Method "flickr.photos.nonsense" not found'}


def test_search_by_upload_date_and_comments(http: httpx.Client, sim: Simulator) -> None:
    owner = nsid(http)
    posts = sorted(truth_posts(sim), key=lambda r: r["created_at"])
    everything = call(http, "flickr.photos.search", user_id=owner, extras="date_upload")["photos"]["photo"]
    cut = int(everything[4]["dateupload"])
    recent = call(http, "flickr.photos.search", user_id=owner, min_upload_date=str(cut), extras="date_upload")
    assert [p["id"] for p in recent["photos"]["photo"]] == [p["id"] for p in everything[:5]]
    rows = sim.state()["platforms"]["flickr"]["items"]
    with_comments = next(p for p in posts if any(r["post"] == p["id"] and r["kind"] != "post" for r in rows))
    body = call(http, "flickr.photos.comments.getList", photo_id=with_comments["id"])
    comments = body["comments"]["comment"]
    expected = [r["id"] for r in rows if r["post"] == with_comments["id"] and r["kind"] != "post" and r["visible"]]
    assert sorted(c["id"] for c in comments) == sorted(expected)  # replies are flat comments too
    assert all(
        c["datecreate"].isdigit() and c["id"].endswith(c["permalink"].rsplit("#comment", 1)[1]) for c in comments
    )
    bare = next(p for p in posts if not any(r["post"] == p["id"] and r["kind"] != "post" for r in rows))
    assert call(http, "flickr.photos.comments.getList", photo_id=bare["id"])["comments"] == {"photo_id": bare["id"]}


def test_lastupdate_moves_with_a_comment_and_a_deleted_photo_is_code_1(http: httpx.Client, sim: Simulator) -> None:
    post = sorted(truth_posts(sim), key=lambda r: r["created_at"])[0]
    before = call(http, "flickr.photos.getInfo", photo_id=post["id"])["photo"]["dates"]["lastupdate"]
    sim.apply(
        [
            {"type": "clock.advance", "hours": 2},
            {"type": "flickr.comment", "post": post["no"], "text": "Gäller det här fortfarande?"},
        ]
    )
    after = call(http, "flickr.photos.getInfo", photo_id=post["id"])["photo"]["dates"]["lastupdate"]
    assert int(after) >= int(before) + 7200
    sim.apply([{"type": "flickr.delete", "no": post["no"]}])
    assert call(http, "flickr.photos.getInfo", photo_id=post["id"]) == {
        "stat": "fail",
        "code": 1,
        "message": "Photo not found",
    }
    assert call(http, "flickr.photos.comments.getList", photo_id=post["id"])["code"] == 1


def test_api_key_is_checked_with_a_200_failure() -> None:
    with Simulator(posts=3, social_token="flickr-key-1") as sim, httpx.Client(base_url=sim.base_url) as http:
        params = {
            "method": "flickr.people.findByUsername",
            "username": "sundsvikkommun",
            "format": "json",
            "nojsoncallback": "1",
        }
        wrong = http.get(REST, params={**params, "api_key": "nope"})
        assert wrong.status_code == 200
        assert wrong.json() == {"stat": "fail", "code": 100, "message": "Invalid API Key (Key has invalid format)"}
        assert http.get(REST, params=params).json()["code"] == 100
        assert http.get(REST, params={**params, "api_key": "flickr-key-1"}).json()["stat"] == "ok"


def test_faults_use_the_flickr_envelope_and_the_connector_reads_code_105(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "retry_after": 4, "match": {"platform": "flickr"}},
            {"type": "fault", "kind": "status", "status": 503, "match": {"platform": "flickr"}},
        ]
    )
    params = {
        "method": "flickr.people.findByUsername",
        "username": "sundsvikkommun",
        "api_key": "k",
        "format": "json",
        "nojsoncallback": "1",
    }
    limited = http.get(REST, params=params)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "4"
    assert limited.json()["stat"] == "fail"
    down = http.get(REST, params=params)
    assert down.status_code == 503
    assert down.json() == {"stat": "fail", "code": 105, "message": "Service currently unavailable"}
    connector = FlickrConnector()
    disguised = httpx.Response(200, json={"stat": "fail", "code": 105, "message": "Service currently unavailable"})
    assert connector.throttled(disguised) == 0.0
    assert connector.throttled(httpx.Response(200, json={"stat": "fail", "code": 1, "message": "x"})) is None
    assert (
        connector.throttled(
            httpx.Response(
                200, content=b'jsonFlickrApi({"stat":"fail","code":105})', headers={"content-type": "text/javascript"}
            )
        )
        == 0.0
    )


def test_a_corrupt_photo_is_malformed_and_the_rest_of_the_page_is_not(http: httpx.Client, sim: Simulator) -> None:
    post = sorted(truth_posts(sim), key=lambda r: r["created_at"])[-3]
    sim.apply([{"type": "flickr.corrupt", "no": post["no"]}])
    photos = call(http, "flickr.people.getPublicPhotos", user_id=nsid(http), extras="description,date_upload")
    by_id = {p["id"]: p for p in photos["photos"]["photo"]}
    bad = by_id.pop(post["id"])
    assert not isinstance(bad["title"], str) and not bad["dateupload"].isdigit()
    assert all(isinstance(p["title"], str) and p["dateupload"].isdigit() for p in by_id.values())


def test_a_video_is_reached_through_get_sizes(http: httpx.Client, sim: Simulator) -> None:
    owner = nsid(http)
    photos = call(http, "flickr.people.getPublicPhotos", user_id=owner, extras="media,url_l")["photos"]["photo"]
    video = next(p for p in photos if p["media"] == "video")
    sizes = call(http, "flickr.photos.getSizes", photo_id=video["id"])["sizes"]["size"]
    original = next(s for s in sizes if s["label"] == "Video Original")
    assert original["media"] == "video"
    with http.stream("GET", original["source"].removeprefix(sim.base_url)) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"] == "video/mp4"
    assert http.get(video["url_l"].removeprefix(sim.base_url)).headers["content-type"] == "image/jpeg"
