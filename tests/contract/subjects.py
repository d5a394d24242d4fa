"""The platforms under the contract suite: how to configure an account for each in the simulator,
what the simulator's ground truth says it holds, and how to make things happen on it.

The suite sees every platform through one row format (`Subject.rows`): ``no`` (the number events
name the item by), ``id`` (the connector's item id), ``kind`` (post, page, comment or reply, as the
connector records it), ``post`` and ``parent`` (item ids), ``text`` (what a reader sees), ``created_at``
(ISO 8601), ``visible`` and ``media`` ([{url, oversized}]), and through the generic operations
``publish``, ``edit``, ``delete``, ``comment``, ``delete_comment``, ``hide_comment`` and ``corrupt``, and
for the account's own moderation ``block`` and ``unblock``.

Every platform over the simulator's shared account model (``simulator/platforms``) is driven the
same way, by its ``{platform}.publish`` … events; items are named by the connector's item id
(the platform's native id), which the ground truth gives for each model number. Mastodon and
WordPress predate that model: `MastodonSubject` and `WordPressSubject` map their own ground truth
and timeline events onto the same rows and operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from archive.connectors.base import Capabilities
from archive.connectors.registry import connector_class
from schemas import Account, CredentialRef
from schemas.account import API_DEFAULTS, Platform
from simulator import Simulator
from simulator.platforms import NAMES

#: The credential the simulated platforms require in the contract suite, and where accounts find it.
TOKEN_ENV = "COMMUNIS_CONTRACT_TOKEN"
TOKEN = "sim-token-3f9a1c"

#: How each platform names the account (the `handle` in the accounts file).
HANDLES = {
    "bluesky": "sundsvikkommun.bsky.social",
    "facebook": "sundsvikkommun",
    "instagram": "sundsvikkommun",
    "x": "sundsvikkommun",
    "youtube": "@sundsvikkommun",
    "linkedin": "sundsvikkommun",
    "flickr": "sundsvikkommun",
    "tiktok": "sundsvikkommun",
    "rss": "feed.xml",
    "mastodon": "@sundsvik",
    "wordpress": "blogg",
}


#: Where each platform serves the account's block list (a substring of the path).
BLOCK_PATHS = {
    "facebook": "/blocked",
    "x": "/blocking",
    "bluesky": "app.bsky.graph.getBlocks",
    "mastodon": "/api/v1/blocks",
}


@dataclass(frozen=True)
class Subject:
    """One platform of the simulator, as the contract suite drives it (the generic part)."""

    platform: str
    top_kinds: ClassVar[frozenset[str]] = frozenset({"post"})
    """Kinds of the account's own top-level items, which every complete harvest holds."""

    @property
    def capabilities(self) -> Capabilities:
        return connector_class(self.platform).capabilities

    @property
    def name(self) -> str:
        """The subject's test id: its platform (a real server's subject says which; tests/contract/real_*.py)."""
        return self.platform

    def world(self, posts: int) -> Simulator:
        """What the scenarios run against: the simulator with `posts` items per account (a real server's
        subject returns its own running server instead)."""
        return Simulator(posts=posts, rate_limit=10**9, social_token=TOKEN)

    @property
    def needs_token(self) -> bool:
        return API_DEFAULTS[Platform(self.platform)][1] is not None

    def account(self, sim: Simulator) -> Account:
        """The account entry as a municipality writes it, credential included where the API needs one."""
        return Account(
            id=f"sv-{self.platform}",
            platform=self.platform,
            handle=HANDLES[self.platform],
            display_name=f"Sundsvik on {self.platform}",
            department="Kommunstyrelsen",
            retention_class="social-10y",
            base_url=sim.url(self.platform),
            credentials=CredentialRef(env=TOKEN_ENV) if self.needs_token else None,
        )

    def rows(self, sim: Simulator) -> list[dict[str, Any]]:
        """Every item of the account in the row format of the module docstring."""
        raise NotImplementedError

    def visible(self, sim: Simulator) -> dict[str, dict[str, Any]]:
        """Item id → ground-truth row, for what the public can see now."""
        return {r["id"]: r for r in self.rows(sim) if r["visible"]}

    def expected(self, sim: Simulator) -> set[str]:
        """What a complete harvest holds, given what the platform's API can reveal."""
        caps = self.capabilities
        kinds = (
            self.top_kinds
            | ({"comment"} if caps.finds_comments else set())
            | ({"reply"} if caps.finds_replies else set())
        )
        return {i for i, r in self.visible(sim).items() if r["kind"] in kinds}

    def id_of(self, sim: Simulator, no: int) -> str:
        found: str = next(r["id"] for r in self.rows(sim) if r["no"] == no)
        return found

    def no_of(self, sim: Simulator, item_id: str) -> int:
        return int(next(r["no"] for r in self.rows(sim) if r["id"] == item_id))

    def event(self, sim: Simulator, op: str, **fields: Any) -> dict[str, Any]:
        """Apply a generic operation (items named by ``no``); the result names what it created by ``no``."""
        raise NotImplementedError

    def publish(self, sim: Simulator, **fields: Any) -> str:
        return self.id_of(sim, self.event(sim, "publish", **fields)["no"])

    def comment(self, sim: Simulator, post_id: str, **fields: Any) -> str:
        return self.id_of(sim, self.event(sim, "comment", post=self.no_of(sim, post_id), **fields)["no"])

    # ---- the account's own moderation (connectors that declare `finds_moderation_lists`) ----------
    @property
    def block_path(self) -> str:
        """A substring of the block list's path: a fault there is the list refused to the token."""
        return BLOCK_PATHS.get(self.platform, "")

    def moderation_account(self, sim: Simulator) -> Account:
        """The account with the credential its moderation lists need: the lists are the token's own, so
        also where the public data needs none (Mastodon, Bluesky)."""
        return self.account(sim).model_copy(update={"credentials": CredentialRef(env=TOKEN_ENV)})

    def plc_directory(self, sim: Simulator) -> str | None:
        """Where the subject's DID documents are read (Bluesky: the account's PDS is named in its own)."""
        return sim.url("bluesky") + "/plc" if self.platform == "bluesky" else None

    def block(self, sim: Simulator) -> dict[str, str]:
        """The account blocks someone; their entry's `id` as the connector records it, and what unblocks them."""
        blocked = self.event(sim, "block")
        listed = sim.state()["platforms"][self.platform]["moderation"]["blocks"]
        return {"id": next(e["id"] for e in listed if e["handle"] == blocked["handle"]), "handle": blocked["handle"]}

    def unblock(self, sim: Simulator, blocked: dict[str, str]) -> None:
        self.event(sim, "unblock", handle=blocked["handle"])


@dataclass(frozen=True)
class SocialSubject(Subject):
    """A platform over the simulator's shared account model: its ground truth is already in row format."""

    def rows(self, sim: Simulator) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = sim.state()["platforms"][self.platform]["items"]
        return rows

    def event(self, sim: Simulator, op: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = sim.apply([{"type": f"{self.platform}.{op}", **fields}])[0]
        return result


def _iso(moment: str) -> str:
    """A WordPress ``*_gmt`` value (UTC, no zone) as ISO 8601 with its zone."""
    return moment + "Z"


@dataclass(frozen=True)
class MastodonSubject(Subject):
    """Mastodon (`simulator/mastodon*.py`): items are statuses, named by their id (``no`` is the id as a number).

    The connector records a status without ``in_reply_to_id`` as a post (a boost and the status it
    boosts, and a citizen's question the account answered, too); a status in a conversation as a
    comment when it answers the conversation's root (its topmost live ancestor, as ``/context``
    lists it) and as a reply otherwise.
    """

    platform: str = "mastodon"
    username: ClassVar[str] = "sundsvik"

    def moderation_account(self, sim: Simulator) -> Account:
        sim.apply([{"type": "mastodon.set_token", "account": self.username, "token": TOKEN}])
        return super().moderation_account(sim)

    def block(self, sim: Simulator) -> dict[str, str]:
        blocked = sim.apply([{"type": "mastodon.block", "account": self.username}])[0]
        return {"id": blocked["id"], "handle": blocked["acct"]}

    def unblock(self, sim: Simulator, blocked: dict[str, str]) -> None:
        sim.apply([{"type": "mastodon.unblock", "account": self.username, "target": blocked["handle"]}])

    def rows(self, sim: Simulator) -> list[dict[str, Any]]:
        truth = [r for r in sim.state()["mastodon"]["items"] if r["account"] == self.username]
        by_id = {r["id"]: r for r in truth}
        rows = []
        for r in truth:
            parent = r["in_reply_to_id"]
            root, up = r["id"], parent
            while up is not None and up in by_id:
                if not by_id[up]["deleted"]:
                    root = up
                up = by_id[up]["in_reply_to_id"]
            kind = "post" if parent is None else "comment" if parent == root else "reply"
            rows.append(
                {
                    "no": int(r["id"]),
                    "id": r["id"],
                    "kind": kind,
                    "post": root,
                    "parent": parent,
                    "text": r["text"],
                    "created_at": r["created_at"],
                    "visible": r["visible"],
                    "media": [{"url": m["url"], "oversized": m["oversized"]} for m in r["media"]],
                }
            )
        return rows

    def event(self, sim: Simulator, op: str, **fields: Any) -> dict[str, Any]:
        ev: dict[str, Any]
        if op == "publish":
            ev = {
                "type": "mastodon.publish",
                "account": self.username,
                "text": fields.get("text"),
                "images": fields.get("images", 0),
                "video": fields.get("video", False),
            }
        elif op == "comment":  # a citizen answers (the post, or the comment named by ``parent``)
            target = fields["post"] if fields.get("parent") is None else fields["parent"]
            ev = {
                "type": "mastodon.reply",
                "in_reply_to_id": str(target),
                "text": fields.get("text"),
                "pii": fields.get("pii", False),
            }
        elif op == "edit":
            ev = {"type": "mastodon.edit", "id": str(fields["no"]), "text": fields.get("text")}
        elif op in ("delete", "delete_comment"):
            ev = {"type": "mastodon.delete", "id": str(fields["no"])}
        elif op == "corrupt":
            ev = {"type": "mastodon.corrupt", "id": str(fields["no"])}
        else:
            raise ValueError(f"no Mastodon event for {op!r}")
        result: dict[str, Any] = sim.apply([{k: v for k, v in ev.items() if v is not None}])[0]
        return {**result, "no": int(result["id"])} if "id" in result else result


@dataclass(frozen=True)
class WordPressSubject(Subject):
    """WordPress (`simulator/wordpress*.py`): ``post-N``, ``page-N`` and ``comment-N``, as the connector names them.

    Posts and pages share one id sequence and comments have their own, so a comment's ``no`` is its id
    plus `COMMENT_NO`. A post's ``media`` are the files in its content (the connector archives what
    the content shows: inline images and video; a featured image is outside the content).
    """

    platform: str = "wordpress"
    top_kinds: ClassVar[frozenset[str]] = frozenset({"post", "page"})
    COMMENT_NO: ClassVar[int] = 1_000_000_000

    def rows(self, sim: Simulator) -> list[dict[str, Any]]:
        rows = []
        for r in sim.state()["wordpress"]["items"]:
            if r["type"] == "comment":
                post = f"post-{r['post']}"
                rows.append(
                    {
                        "no": self.COMMENT_NO + r["id"],
                        "id": f"comment-{r['id']}",
                        "kind": "comment" if r["parent"] == 0 else "reply",
                        "post": post,
                        "parent": post if r["parent"] == 0 else f"comment-{r['parent']}",
                        "text": r["text"],
                        "created_at": _iso(r["date_gmt"]),
                        "visible": r["visible"],
                        "media": [],
                    }
                )
            else:
                item_id = f"{r['type']}-{r['id']}"
                rows.append(
                    {
                        "no": r["id"],
                        "id": item_id,
                        "kind": r["type"],
                        "post": item_id,
                        "parent": None,
                        "text": r["text"],
                        "created_at": _iso(r["date_gmt"]),
                        "visible": r["visible"],
                        "media": [
                            {"url": m["url"], "oversized": m["oversized"]} for m in r["media"] if m["in_content"]
                        ],
                    }
                )
        return rows

    def _post(self, no: Any) -> int:
        if int(no) >= self.COMMENT_NO:
            raise ValueError(f"{no} names a comment, not a post")
        return int(no)

    def _comment(self, no: Any) -> int:
        if int(no) < self.COMMENT_NO:
            raise ValueError(f"{no} names a post, not a comment")
        return int(no) - self.COMMENT_NO

    def event(self, sim: Simulator, op: str, **fields: Any) -> dict[str, Any]:
        ev: dict[str, Any]
        if op == "publish":
            ev = {
                "type": "wordpress.publish",
                "kind": "post",
                "title": fields.get("title"),
                "text": fields.get("text"),
                "image": bool(fields.get("images")),
            }
        elif op == "comment":
            parent = fields.get("parent")
            ev = {
                "type": "wordpress.comment",
                "post": self._post(fields["post"]),
                "text": fields.get("text"),
                "parent": 0 if parent is None else self._comment(parent),
                "pii": fields.get("pii", False),
            }
        elif op == "edit":
            ev = {
                "type": "wordpress.edit",
                "id": self._post(fields["no"]),
                "text": fields.get("text"),
                "title": fields.get("title"),
            }
        elif op == "delete":
            ev = {"type": "wordpress.delete", "id": self._post(fields["no"]), "mode": "delete"}
        elif op == "delete_comment":
            ev = {"type": "wordpress.moderate_comment", "id": self._comment(fields["no"]), "status": "delete"}
        elif op == "hide_comment":  # a moderator holds it (unapproves it) again
            ev = {"type": "wordpress.moderate_comment", "id": self._comment(fields["no"]), "status": "hold"}
        elif op == "corrupt":
            ev = {"type": "wordpress.corrupt", "id": self._post(fields["no"])}
        else:
            raise ValueError(f"no WordPress event for {op!r}")
        result: dict[str, Any] = sim.apply([{k: v for k, v in ev.items() if v is not None}])[0]
        if "id" in result:
            return {**result, "no": result["id"] + (self.COMMENT_NO if op == "comment" else 0)}
        return result


SUBJECTS: list[Subject] = [*(SocialSubject(name) for name in NAMES), MastodonSubject(), WordPressSubject()]
