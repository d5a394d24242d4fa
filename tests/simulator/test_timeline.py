"""Timeline events between harvest runs: edits, deletions, new comments and replies, moderation, clock."""

from __future__ import annotations

import httpx
import pytest

from simulator import Simulator, Timeline, TimelineError


def _own_status(sim: Simulator, role: str = "own") -> dict[str, object]:
    return next(r for r in sim.state()["mastodon"]["items"] if r["role"] == role)


def test_mastodon_edit_sets_edited_at_and_history(http: httpx.Client, sim: Simulator) -> None:
    sid = str(_own_status(sim)["id"])
    before = http.get(f"/m/api/v1/statuses/{sid}").json()
    assert before["edited_at"] is None
    sim.apply(Timeline().advance(hours=3).add("mastodon.edit", id=sid, text="Rättelse: mötet börjar kl. 18 🕕"))
    after = http.get(f"/m/api/v1/statuses/{sid}").json()
    assert after["edited_at"] == "2024-06-01T21:00:00.000Z" and after["created_at"] == before["created_at"]
    assert "Rättelse" in after["content"] and after["content"] != before["content"]
    history = http.get(f"/m/api/v1/statuses/{sid}/history").json()
    assert [h["content"] for h in history] == [before["content"], after["content"]]
    assert history[0]["created_at"] == before["created_at"] and history[1]["created_at"] == after["edited_at"]
    row = next(r for r in sim.state()["mastodon"]["items"] if r["id"] == sid)
    assert row["versions"] == 2


def test_mastodon_delete_gives_record_not_found_and_leaves_listings(http: httpx.Client, sim: Simulator) -> None:
    aid = http.get("/m/api/v1/accounts/lookup", params={"acct": "sundsvik"}).json()["id"]
    newest = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 5}).json()
    victim = newest[2]["id"]
    sim.apply([{"type": "mastodon.delete", "id": victim}])
    resp = http.get(f"/m/api/v1/statuses/{victim}")
    assert resp.status_code == 404 and resp.json() == {"error": "Record not found"}
    again = http.get(f"/m/api/v1/accounts/{aid}/statuses", params={"limit": 5}).json()
    assert victim not in {s["id"] for s in again} and len(again) == 5
    assert http.get(f"/m/api/v1/accounts/{aid}").json()["statuses_count"] == 199
    row = next(r for r in sim.state()["mastodon"]["items"] if r["id"] == victim)
    assert row["deleted"] and not row["visible"]


def test_citizen_reply_on_old_post_and_moderator_removal(http: httpx.Client, sim: Simulator) -> None:
    items = sim.state()["mastodon"]["items"]
    old = next(r for r in items if r["role"] == "own")  # the oldest own status
    created = sim.apply(Timeline().advance(days=1).add("mastodon.reply", in_reply_to_id=old["id"], pii=True))
    reply_id = created[1]["id"]
    ctx = http.get(f"/m/api/v1/statuses/{old['id']}/context").json()
    assert reply_id in {s["id"] for s in ctx["descendants"]}
    parent = http.get(f"/m/api/v1/statuses/{old['id']}").json()
    sim.apply([{"type": "mastodon.delete", "id": reply_id}])
    ctx = http.get(f"/m/api/v1/statuses/{old['id']}/context").json()
    assert reply_id not in {s["id"] for s in ctx["descendants"]}
    assert http.get(f"/m/api/v1/statuses/{old['id']}").json()["replies_count"] == parent["replies_count"] - 1
    assert http.get(f"/m/api/v1/statuses/{reply_id}").status_code == 404


def test_wordpress_edit_bumps_modified_gmt(http: httpx.Client, sim: Simulator) -> None:
    post = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 1, "page": 50}).json()[0]
    sim.apply(Timeline().advance(hours=5).add("wordpress.edit", id=post["id"], title="Ny rubrik – uppdaterad"))
    after = http.get(f"/wp/wp-json/wp/v2/posts/{post['id']}").json()
    assert after["modified_gmt"] == "2024-06-01T23:00:00" and after["modified"] == "2024-06-02T01:00:00"
    assert after["date_gmt"] == post["date_gmt"] and after["title"]["rendered"] == "Ny rubrik – uppdaterad"
    since = http.get(
        "/wp/wp-json/wp/v2/posts",
        params={"modified_after": "2024-06-01T12:00:00Z", "orderby": "modified", "order": "asc"},
    ).json()
    assert [p["id"] for p in since] == [post["id"]]


def test_wordpress_delete_and_trash(http: httpx.Client, sim: Simulator) -> None:
    posts = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 3}).json()
    sim.apply(
        [
            {"type": "wordpress.delete", "id": posts[0]["id"]},
            {"type": "wordpress.delete", "id": posts[1]["id"], "mode": "trash"},
        ]
    )
    gone = http.get(f"/wp/wp-json/wp/v2/posts/{posts[0]['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"code": "rest_post_invalid_id", "message": "Invalid post ID.", "data": {"status": 404}}
    trashed = http.get(f"/wp/wp-json/wp/v2/posts/{posts[1]['id']}")
    assert trashed.status_code == 401 and trashed.json()["code"] == "rest_forbidden"
    listing = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 3})
    assert listing.headers["X-WP-Total"] == "198" and listing.json()[0]["id"] == posts[2]["id"]


def test_wordpress_comment_on_old_post_edit_and_hide(http: httpx.Client, sim: Simulator) -> None:
    old = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 1, "order": "asc"}).json()[0]
    made = sim.apply(
        Timeline()
        .advance(hours=1)
        .add("wordpress.comment", post=old["id"], text="Min adress är Storgatan 1, 852 30 Sundsvik.")
    )
    cid = made[1]["id"]
    found = http.get("/wp/wp-json/wp/v2/comments", params={"post": old["id"], "per_page": 100}).json()
    assert cid in {c["id"] for c in found}
    reply = sim.apply([{"type": "wordpress.comment", "post": old["id"], "parent": cid, "text": "Tack, vi kollar!"}])
    assert http.get(f"/wp/wp-json/wp/v2/comments/{reply[0]['id']}").json()["parent"] == cid
    sim.apply([{"type": "wordpress.edit_comment", "id": cid, "text": "Redigerad kommentar"}])
    assert http.get(f"/wp/wp-json/wp/v2/comments/{cid}").json()["content"]["rendered"] == "<p>Redigerad kommentar</p>\n"
    sim.apply([{"type": "wordpress.moderate_comment", "id": cid, "status": "hold"}])
    hidden = http.get(f"/wp/wp-json/wp/v2/comments/{cid}")
    assert hidden.status_code == 401 and hidden.json()["code"] == "rest_cannot_read"
    found = http.get("/wp/wp-json/wp/v2/comments", params={"post": old["id"], "per_page": 100}).json()
    assert cid not in {c["id"] for c in found}
    row = next(r for r in sim.state()["wordpress"]["items"] if r["type"] == "comment" and r["id"] == cid)
    assert row["hidden"] and not row["visible"] and row["versions"] == 2


def test_wordpress_publish_and_pending_comment_never_served(http: httpx.Client, sim: Simulator) -> None:
    made = sim.apply(Timeline().advance(hours=2).add("wordpress.publish", title="Nytt inlägg", image=True))
    pid = made[1]["id"]
    newest = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 1}).json()[0]
    assert newest["id"] == pid and newest["featured_media"] == pid + 1 and newest["date_gmt"] == "2024-06-01T20:00:00"
    pending = sim.apply([{"type": "wordpress.comment", "post": pid, "status": "hold", "pii": True}])[0]["id"]
    assert http.get("/wp/wp-json/wp/v2/comments", params={"post": pid}).json() == []
    assert http.get(f"/wp/wp-json/wp/v2/comments/{pending}").status_code == 401


def test_bad_events_are_rejected_with_the_event_named(sim: Simulator) -> None:
    with pytest.raises(TimelineError, match="event 1"):
        sim.apply([{"type": "clock.advance", "seconds": 1}, {"type": "mastodon.delete", "id": "42"}])
    with pytest.raises(TimelineError, match="backwards"):
        sim.apply([{"type": "clock.set", "at": "2020-01-01T00:00:00Z"}])
    with pytest.raises(TimelineError, match="unknown event"):
        sim.apply([{"type": "nonsense"}])


def test_control_api_over_http(sim: Simulator) -> None:
    with httpx.Client(base_url=sim.base_url) as c:
        assert c.get("/_sim/state").status_code == 401
        auth = {"Authorization": f"Bearer {sim.control_token}"}
        resp = c.post(
            "/_sim/timeline",
            headers=auth,
            json=[{"type": "clock.advance", "hours": 1}, {"type": "mastodon.publish", "text": "Hej från API:t"}],
        )
        assert resp.status_code == 200 and resp.json()["now"] == "2024-06-01T19:00:00.000Z"
        new_id = resp.json()["results"][1]["id"]
        state = c.get("/_sim/state", headers=auth).json()
        assert new_id in {r["id"] for r in state["mastodon"]["items"]}
        assert c.post("/_sim/timeline", headers=auth, json=[{"type": "bad"}]).status_code == 400
        c.get("/m/api/v1/statuses/" + new_id)
        log = c.get("/_sim/requests", headers=auth).json()
        assert log[-1] == {
            "method": "GET",
            "path": f"/m/api/v1/statuses/{new_id}",
            "status": 200,
            "platform": "mastodon",
        }
        c.delete("/_sim/requests", headers=auth)
        assert sim.requests() == []
