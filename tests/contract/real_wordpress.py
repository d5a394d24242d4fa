"""The real WordPress (tests/peers/wordpress.py) as a subject of the connector contract suite.

The suite drives its subjects through a world it calls `sim` (`real_world.RealWorld` has the clock,
faults and request log every real server shares). `PeerWorld` is that world for the real site. Its clock is the
real clock plus what the scenario advanced (WordPress's own clock cannot be moved, but a run's
`now` can: the look-back window and the sweep interval follow it). What WordPress cannot be made
to do, it says with `pytest.skip` and the reason, at the first step of the scenario that needs it:
answer 429 or 5xx on demand, or serve a malformed item (WordPress writes its JSON itself).

The ground truth is WordPress's own (`peer.php truth`, through its PHP API): published posts and
pages, and approved comments on them, are what the public sees; held and spam comments are rows
that are not visible. Items are numbered as `WordPressSubject` numbers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from archive.connectors.text import html_to_text
from tests.peers.wordpress import PLAIN, WordPressPeer, fresh, png, publish_op

from .real_world import RealWorld
from .subjects import WordPressSubject

CANNOT = {
    "rate_limit": "a real WordPress cannot be made to answer 429 on demand (no fault injection in a real server)",
    "status": "a real WordPress cannot be made to answer 5xx on demand (no fault injection in a real server)",
    "corrupt": "a real WordPress writes its REST JSON itself: it cannot be made to serve a malformed item",
    "requests": "the real WordPress keeps no request log the suite can read",
}


@dataclass
class PeerWorld(RealWorld):
    """The real WordPress seen through the simulator's interface, as far as the suite uses it."""

    cannot: ClassVar[Mapping[str, str]] = CANNOT
    server: ClassVar[str] = "a real WordPress"
    peer: WordPressPeer

    def url(self, platform: str) -> str:
        return self.peer.url


def seeded(posts: int) -> PeerWorld:
    """The shared peer, reset, with `posts` items like the simulator's: posts (every third with an
    image) and two pages over the last two months, comments and a reply on the newest, one comment
    held and one marked spam."""
    peer = fresh(PLAIN)
    world = PeerWorld(peer)
    if posts == 0:
        return world
    now = datetime.now(UTC)
    ops = []
    for n in range(posts):
        kind = "page" if n in (4, 9) else "post"
        stamp = (now - timedelta(days=5 * (posts - n), hours=n)).strftime("%Y-%m-%d %H:%M:%S")
        ops.append(
            publish_op(
                f"Nyhet {n} från Sundsviks kommun: information till invånarna.",
                title=f"Nyhet {n}",
                kind=kind,
                date_gmt=stamp,
                image=png(3, 3, (n * 20, 80, 120)) if n % 3 == 0 else None,
                image_name=f"bild-{n}.png",
            )
        )
    made = peer.run(ops)
    newest, other = made[-1]["id"], made[-2]["id"]
    comments = peer.run(
        [
            {"op": "comment", "post": newest, "text": "När börjar det?"},
            {"op": "comment", "post": other, "text": "Tack för informationen!"},
            {"op": "comment", "post": other, "text": "En fråga som väntar på granskning.", "approved": 0},
            {"op": "comment", "post": other, "text": "Köp billiga klockor", "approved": "spam"},
        ]
    )
    peer.comment(newest, "I morgon klockan 9.", parent=comments[0]["id"], user=1, author="Sundsviks kommun")
    return world


@dataclass(frozen=True)
class RealWordPressSubject(WordPressSubject):
    """WordPress, the real server: the same connector and numbering, WordPress's own ground truth."""

    @property
    def name(self) -> str:
        return "wordpress-real"

    def world(self, posts: int) -> PeerWorld:  # type: ignore[override]
        return seeded(posts)

    def rows(self, sim: Any) -> list[dict[str, Any]]:
        truth = sim.peer.truth()
        published = {i["id"] for i in truth["items"]}
        rows = []
        for i in truth["items"]:
            item_id = f"{i['type']}-{i['id']}"
            rows.append(
                {
                    "no": i["id"],
                    "id": item_id,
                    "kind": i["type"],
                    "post": item_id,
                    "parent": None,
                    "text": html_to_text(i["rendered"])[0],
                    "created_at": _iso(i["date_gmt"]),
                    "visible": True,
                    "media": [{"url": u, "oversized": False} for u in i["images"]],
                }
            )
        for c in truth["comments"]:
            post = f"post-{c['post']}"
            rows.append(
                {
                    "no": self.COMMENT_NO + c["id"],
                    "id": f"comment-{c['id']}",
                    "kind": "comment" if c["parent"] == 0 else "reply",
                    "post": post,
                    "parent": post if c["parent"] == 0 else f"comment-{c['parent']}",
                    "text": html_to_text(c["rendered"])[0] if c["rendered"] else c["content"],
                    "created_at": _iso(c["date_gmt"]),
                    "visible": c["status"] == "approved" and c["post"] in published,
                    "media": [],
                }
            )
        return rows

    def event(self, sim: Any, op: str, **fields: Any) -> dict[str, Any]:
        peer: WordPressPeer = sim.peer
        if op == "publish":
            image = png(5, 5, (200, 40, 40)) if fields.get("images") else None
            made = peer.publish(
                fields.get("text") or "", title=fields.get("title") or "", image=image, image_name="ny-bild.png"
            )
            return {"id": made["id"], "no": made["id"]}
        if op == "comment":
            parent = fields.get("parent")
            made_id = peer.comment(
                self._post(fields["post"]),
                fields.get("text") or "",
                parent=0 if parent is None else self._comment(parent),
            )
            return {"id": made_id, "no": self.COMMENT_NO + made_id}
        if op == "edit":
            change = {k: fields[k] for k in ("text", "title") if fields.get(k) is not None}
            peer.one("edit", id=self._post(fields["no"]), **change)
            return {"no": fields["no"]}
        if op == "delete":
            peer.one("delete", id=self._post(fields["no"]))
            return {"no": fields["no"]}
        if op == "delete_comment":
            peer.one("moderate", id=self._comment(fields["no"]), status="delete")
            return {"no": fields["no"]}
        if op == "hide_comment":  # the site's moderator unapproves it (held again), as in wp-admin
            peer.one("moderate", id=self._comment(fields["no"]), status="hold")
            return {"no": fields["no"]}
        if op == "corrupt":
            pytest.skip(CANNOT["corrupt"])
        raise ValueError(f"no real WordPress event for {op!r}")


def _iso(moment: str) -> str:
    """A WordPress `*_gmt` value from the database ("2026-12-02 15:45:27", UTC) as ISO 8601."""
    return moment.replace(" ", "T") + "Z"
