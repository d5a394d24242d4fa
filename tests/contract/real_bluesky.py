"""Bluesky's real AppView (tests/peers/bluesky.py: @atproto/dev-env) as a subject of the contract suite.

The suite drives its subjects through a world it calls `sim` (`real_world.RealWorld` has the clock,
faults and request log every real server shares). `AppViewWorld` is that world for the real network: each world is
a new account (with two citizens) on the session's one running network, so scenarios never see each
other's posts. Its clock is the real clock plus what the scenario advanced (the AppView's cannot be
moved, but a run's `now` can: the look-back window and the sweep interval follow it). What the real
network cannot be made to do, it says with `pytest.skip` and the reason, at the step that needs it:
answer 429 or 5xx on demand, serve a malformed item, or hold a post longer than Bluesky allows.

The ground truth is the PDS's (`com.atproto.repo.listRecords`): the account's posts, and the
citizens' replies in its threads. A post is named by a number the world gives it when first seen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from schemas import Account, CredentialRef
from tests.peers.bluesky import BlueskyPeer, Ref, Session, shared
from tests.peers.wordpress import png

from .real_world import RealWorld
from .subjects import TOKEN_ENV, Subject

#: The post lexicon's limits (app.bsky.feed.post: text maxGraphemes 300, maxLength 3000 bytes).
MAX_GRAPHEMES, MAX_BYTES = 300, 3000

CANNOT = {
    "rate_limit": "the real AppView cannot be made to answer 429 on demand (no fault injection in a real server)",
    "status": "the real AppView cannot be made to answer 5xx on demand (no fault injection in a real server)",
    "corrupt": "the real AppView serves only records it validated against the lexicon: it cannot serve a "
    "malformed item",
    "requests": "the real AppView keeps no request log the suite can read",
    "long": f"a Bluesky post holds at most {MAX_GRAPHEMES} graphemes ({MAX_BYTES} bytes): the real PDS "
    "refuses a longer one",
}


@dataclass
class AppViewWorld(RealWorld):
    """One account (and two citizens) on the real network, seen through the simulator's interface."""

    cannot: ClassVar[Mapping[str, str]] = CANNOT
    server: ClassVar[str] = "the real AppView"

    peer: BlueskyPeer
    kommun: Session
    citizens: list[Session]
    refs: dict[str, Ref] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, Ref] = field(default_factory=dict)
    """The account's block records, by the DID blocked."""

    def url(self, platform: str) -> str:
        return self.peer.appview

    def number(self, uri: str) -> int:
        return self.numbers.setdefault(uri, len(self.numbers) + 1)

    def keep(self, ref: Ref) -> int:
        self.refs[ref.uri] = ref
        return self.number(ref.uri)

    def uri_of(self, no: Any) -> str:
        return next(uri for uri, n in self.numbers.items() if n == int(no))

    def session_of(self, uri: str) -> Session:
        return next(s for s in [self.kommun, *self.citizens] if uri.startswith(f"at://{s.did}/"))


def seeded(posts: int) -> AppViewWorld:
    """A new account with `posts` posts like the simulator's, over the last two months (every third
    with an image), citizens' comments on the two newest and the account's reply to one, a citizen's
    post the account reposts, and the account's quote of it with an image."""
    peer = shared()
    made_accounts = [
        peer.account(name, shown, wait=False)
        for name, shown in (("sundsvik", "Sundsviks kommun"), ("anna", "Anna Medborgare"), ("bo", "Bo Medborgare"))
    ]
    world = AppViewWorld(peer, made_accounts[0], made_accounts[1:])
    if posts == 0:
        peer.wait_profiles(*made_accounts)
        return world
    now = datetime.now(UTC)
    made = []
    for n in range(posts):  # written at once, then waited for together (the AppView indexes in order)
        images = [peer.image(world.kommun, png(3, 3, (n * 20, 80, 120)))] if n % 3 == 0 else None
        made.append(
            peer.post(
                world.kommun,
                f"Nyhet {n} från Sundsviks kommun: information till invånarna.",
                images=images,
                created_at=now - timedelta(days=5 * (posts - n), hours=n),
                wait=False,
            )
        )
        world.keep(made[-1])
    anna, bo = world.citizens
    question = peer.post(anna, "När börjar det?", reply_to=made[-1], wait=False)
    answer = peer.post(world.kommun, "I morgon klockan 9.", reply_to=question, root=made[-1], wait=False)
    thanks = peer.post(bo, "Tack för informationen!", reply_to=made[-2], wait=False)
    theirs = peer.post(bo, "Fin utsikt från Norra berget i dag.", wait=False)
    for ref in (question, answer, thanks):
        world.keep(ref)
    peer.wait_profiles(*made_accounts)
    peer.wait_shown(*[r.uri for r in (*made, question, answer, thanks, theirs)])
    peer.repost(world.kommun, theirs)
    world.keep(
        peer.post(
            world.kommun,
            "Vi delar Bos bild!",
            quote=theirs,
            images=[peer.image(world.kommun, png(4, 4, (10, 120, 10)))],
        )
    )
    return world


@dataclass(frozen=True)
class RealBlueskySubject(Subject):
    """Bluesky, the real AppView: the same connector, the PDS's ground truth."""

    platform: str = "bluesky"

    @property
    def name(self) -> str:
        return "bluesky-real"

    def world(self, posts: int) -> AppViewWorld:  # type: ignore[override]
        return seeded(posts)

    def account(self, sim: Any) -> Account:
        return Account(
            id=f"sv-{self.platform}",
            platform=self.platform,
            handle=sim.kommun.handle,
            display_name="Sundsvik on Bluesky (real AppView)",
            department="Kommunstyrelsen",
            retention_class="social-10y",
            base_url=sim.url(self.platform),
        )

    def moderation_account(self, sim: Any) -> Account:
        """The account with its session token, which the connector sends only to the account's PDS (named by
        its DID document in the network's PLC): the PDS proxies `getBlocks` to the AppView with the viewer's
        identity. The session goes where the contract's credential lives (the suite restores it after the test)."""
        world: AppViewWorld = sim
        os.environ[TOKEN_ENV] = world.kommun.jwt
        return self.account(sim).model_copy(update={"credentials": CredentialRef(env=TOKEN_ENV)})

    def plc_directory(self, sim: Any) -> str | None:
        world: AppViewWorld = sim
        return world.peer.plc

    def block(self, sim: Any) -> dict[str, str]:
        world: AppViewWorld = sim
        target = world.citizens[1]
        world.blocks[target.did] = world.peer.block(world.kommun, target)
        return {"id": target.did, "handle": target.handle}

    def unblock(self, sim: Any, blocked: dict[str, str]) -> None:
        world: AppViewWorld = sim
        target = next(c for c in world.citizens if c.did == blocked["id"])
        world.peer.unblock(world.kommun, world.blocks.pop(target.did), target)

    def rows(self, sim: Any) -> list[dict[str, Any]]:
        world: AppViewWorld = sim
        own = world.peer.records(world.kommun.did)
        own_uris = {r["uri"] for r in own}
        theirs = [
            r
            for c in world.citizens
            for r in world.peer.records(c.did)
            if r["value"].get("reply", {}).get("root", {}).get("uri") in own_uris
        ]
        rows = []
        for r in own + theirs:
            value, reply = r["value"], r["value"].get("reply")
            parent = reply["parent"]["uri"] if reply else None
            root = reply["root"]["uri"] if reply else r["uri"]
            embed = value.get("embed") or {}
            images = (embed.get("media") or embed).get("images") or []
            rows.append(
                {
                    "no": world.number(r["uri"]),
                    "id": r["uri"],
                    "kind": "post" if parent is None else ("comment" if parent == root else "reply"),
                    "post": root,
                    "parent": parent,
                    "text": value["text"],
                    "created_at": value["createdAt"],
                    "visible": True,
                    "media": [{"url": r["uri"], "oversized": False} for _ in images],
                }
            )
        return rows

    def event(self, sim: Any, op: str, **fields: Any) -> dict[str, Any]:
        world: AppViewWorld = sim
        peer = world.peer
        if op == "publish":
            text = fields.get("text") or ""
            if len(text) > MAX_GRAPHEMES or len(text.encode()) > MAX_BYTES:  # code points ≥ graphemes
                pytest.skip(CANNOT["long"])
            images = [peer.image(world.kommun, png(5, 5, (200, 40, 40)))] if fields.get("images") else None
            return {"no": world.keep(peer.post(world.kommun, text, images=images))}
        if op == "comment":
            target = world.refs[world.uri_of(fields["parent"] if fields.get("parent") is not None else fields["post"])]
            root = world.refs[world.uri_of(fields["post"])]
            return {
                "no": world.keep(peer.post(world.citizens[0], fields.get("text") or "", reply_to=target, root=root))
            }
        if op == "edit":
            uri = world.uri_of(fields["no"])
            world.refs[uri] = peer.edit(world.session_of(uri), world.refs[uri], fields.get("text") or "")
            return {"no": fields["no"]}
        if op in ("delete", "delete_comment"):
            uri = world.uri_of(fields["no"])
            peer.delete(world.session_of(uri), world.refs[uri])
            return {"no": fields["no"]}
        if op == "corrupt":
            pytest.skip(CANNOT["corrupt"])
        raise ValueError(f"no real Bluesky event for {op!r}")
