"""What every platform module on top of ``SocialModel`` shares: ids, media, tokens, ground truth.

A platform module subclasses ``PlatformApp`` and implements ``route`` (its API) and ``error``
(its error envelope: Graph's ``{"error": {...}}``, Google's, XRPC's, Flickr's HTTP-200
``stat: fail`` …). Media files are served under ``{prefix}/media/{no}.{ext}`` as the platforms'
CDNs would serve them; ids are rendered by ``post_id``/``comment_id`` in the platform's style.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ..clock import mastodon_time
from ..faults import RateLimiter
from ..httpcore import Request, Response, json_response
from ..social import Comment, Listed, Media, Post, SocialModel

#: Platforms whose public data needs no credential (Bluesky's public AppView, plain feeds).
PUBLIC_PLATFORMS = frozenset({"bluesky", "rss"})
#: How the municipality names its account in an accounts file, per platform ({h}: the model's handle).
ACCOUNT_HANDLES = {"bluesky": "{h}.bsky.social", "youtube": "@{h}", "rss": "feed.xml"}


def plain_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as most modern APIs send it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class PlatformApp:
    """One platform's HTTP API over a ``SocialModel``."""

    name: ClassVar[str]
    prefix: ClassVar[str]
    token_params: ClassVar[tuple[str, ...]] = ("access_token",)
    """Query parameters that may carry the credential instead of ``Authorization: Bearer``."""
    moderation_lists: ClassVar[tuple[str, ...]] = ()
    """The account's own moderation lists this platform's API serves (``blocks``, ``mutes``, ``list_blocks``)."""

    def __init__(self, model: SocialModel, rate: RateLimiter) -> None:
        self.model = model
        self.rate = rate
        self._index: dict[str, Post | Comment] = {}
        self._indexed_at = (-1, -1)

    def lookup(self, item_id: str) -> Post | Comment | None:
        """The post or comment with this native id, deleted or not (an index rebuilt when items are added)."""
        size = (len(self.model.posts), len(self.model.comments))
        if size != self._indexed_at:
            self._index = {self.post_id(p): p for p in self.model.posts}
            self._index.update({self.comment_id(c): c for c in self.model.comments.values()})
            self._indexed_at = size
        return self._index.get(item_id)

    def live(self, item_id: str) -> Post | Comment | None:
        """The item if the public can see it now (a comment also needs its post)."""
        item = self.lookup(item_id)
        if isinstance(item, Post):
            return item if item.deleted_ms is None and item.created_ms <= self.model.clock.now_ms() else None
        if isinstance(item, Comment):
            post = self.model.post(item.post)
            ok = item.visible and post is not None and post.deleted_ms is None
            return item if ok and item.created_ms <= self.model.clock.now_ms() else None
        return None

    # ---- what a platform module provides ------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        """Answer an API request (``sub`` is the path after the prefix; ``base`` the platform root URL)."""
        raise NotImplementedError

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        """The platform's error response (also used for injected faults: 429, 5xx, 401)."""
        return json_response(status, plain_json({"error": message}), content_type="application/json")

    def post_id(self, post: Post) -> str:
        return str(post.no)

    def comment_id(self, comment: Comment) -> str:
        return str(comment.no)

    def media_url(self, base: str, media: Media) -> str:
        return f"{base}/media/{media.no}.{media.ext}"

    def listed_id(self, entry: Listed) -> str:
        """The platform's id of a moderation list entry (the person's account id, a list's URI)."""
        return str(entry.person.no)

    # ---- shared behaviour ---------------------------------------------------------------------
    def handle(self, sub: str, req: Request, base: str) -> Response:
        """Media, the credential check, then the platform's own routes."""
        if sub.startswith("/media/"):
            return self._media(sub)
        needs = self.model.token is not None and self.name not in PUBLIC_PLATFORMS
        if needs and self._credential(req) != self.model.token:
            return self.error(401, "Invalid or missing access token")
        return self.route(sub, req, base)

    def _credential(self, req: Request) -> str | None:
        for name in self.token_params:
            if req.param(name):
                return req.param(name)
        return req.bearer()

    def _media(self, sub: str) -> Response:
        stem = sub[len("/media/") :].split(".", 1)[0]
        media = self.model.media(int(stem)) if stem.isdigit() else None
        if media is None:
            return Response(404, b"Not Found", [("Content-Type", "text/plain")])
        blob = self.model.blob(media)
        return Response(
            200,
            headers=[("Content-Type", blob.content_type), ("Cache-Control", "max-age=31536000")],
            chunks=blob.chunks(),
            length=blob.length,
        )

    def truth(self, base: str) -> dict[str, Any]:
        """Ground truth: every post, comment and reply with its native id and current state."""
        m = self.model
        now = m.clock.now_ms()
        rows: list[dict[str, Any]] = []
        for post in m.posts:
            if post.created_ms > now:
                continue
            pid = self.post_id(post)
            rows.append(
                {
                    "no": post.no,
                    "id": pid,
                    "kind": "post",
                    "post": pid,
                    "parent": None,
                    "title": post.title,
                    "text": post.text,
                    "versions": len(post.versions),
                    "created_at": mastodon_time(post.created_ms),
                    "deleted": post.deleted_ms is not None,
                    "hidden": False,
                    "corrupt": post.corrupt,
                    "visible": post.deleted_ms is None and not post.corrupt,
                    "count_drift": m.count_drift.get(post.no, 0),
                    "media": [
                        {"url": self.media_url(base, x), "kind": x.kind, "oversized": x.oversize > 0}
                        for x in post.media
                    ],
                }
            )
            for no in post.comments:
                c = m.comments[no]
                if c.created_ms > now:
                    continue
                parent = pid if c.parent is None else self.comment_id(m.comments[c.parent])
                rows.append(
                    {
                        "no": c.no,
                        "id": self.comment_id(c),
                        "kind": "comment" if c.parent is None else "reply",
                        "post": pid,
                        "parent": parent,
                        "title": None,
                        "text": c.text,
                        "versions": len(c.versions),
                        "created_at": mastodon_time(c.created_ms),
                        "deleted": c.deleted_ms is not None,
                        "hidden": c.hidden,
                        "corrupt": False,
                        "visible": c.visible and post.deleted_ms is None,
                        "own": c.own,
                        "pii": c.pii,
                        "media": [],
                    }
                )
        handle = ACCOUNT_HANDLES.get(self.name, "{h}").format(h=m.owner.handle)
        moderation = {
            name: [
                {
                    "id": self.listed_id(e),
                    "handle": e.person.handle,
                    "name": e.person.name,
                    "since": mastodon_time(e.created_ms),
                    **({"list": e.list_name} if e.list_name else {}),
                }
                for e in m.listed(name)
            ]
            for name in self.moderation_lists
        }
        return {
            "base_url": base,
            "handle": handle,
            "needs_token": self.name not in PUBLIC_PLATFORMS,
            "total_drift": m.total_drift,
            "items": rows,
            "moderation": moderation,
        }
