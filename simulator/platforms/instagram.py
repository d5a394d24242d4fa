"""Instagram: the Instagram Graph API for a professional account (``{base}/ig`` stands for
``https://graph.facebook.com/v21.0``, or ``https://graph.instagram.com/v21.0`` with Instagram Login).

Faithful points (Instagram Platform reference: IG User, IG User Media, IG Media, IG Media Comments,
IG Comment, IG Comment Replies); the shared Graph conventions (errors, throttling as
HTTP 400 code 80002 with ``X-Business-Use-Case-Usage`` type ``instagram``, paging, ``fields=``) are in
``graph.py``:
- ``GET /me`` (the professional account the token belongs to, as with Instagram Login) and
  ``GET /{ig-user-id}``: ``id`` by default; ``username``, ``name``, ``media_count``, ``followers_count``…
- ``GET /{ig-user-id}/media``: newest first, ``limit`` (default 25, max 100), cursors, ``since``/``until``.
  Default field ``id``. Fields ``caption`` (absent when empty), ``media_type`` (``IMAGE`` | ``VIDEO`` |
  ``CAROUSEL_ALBUM``), ``media_product_type`` (``FEED``; ``REELS`` for videos), ``media_url``,
  ``thumbnail_url`` (videos), ``permalink``, ``shortcode``, ``timestamp``, ``username``, ``like_count``,
  ``comments_count``, ``is_comment_enabled``, ``owner{id}`` and the edge ``children{id,media_type,media_url,
  thumbnail_url,timestamp}`` on albums (children have no ``permalink``).
- ``GET /{media-id}/comments``: top-level comments only, each with the ``replies`` edge when asked
  (``replies{…}``, 25 a page with a ``next`` to ``/{comment-id}/replies``); fields ``id``, ``text``,
  ``timestamp``, ``username``, ``from{id,username}``, ``like_count``, ``hidden``, ``parent_id`` (replies),
  ``media{id,media_product_type}``. Default fields ``timestamp,text,id``.
- ``GET /{comment-id}/replies``: the replies of a top-level comment.
- No edit marker: a changed caption is only visible as a changed ``caption``. ``comments_count`` counts
  comments and replies, so a new comment on an old post changes it.
- ``GET /{id}`` of deleted media or a deleted comment: 400 code 100 subcode 33.
- Timestamps ``2024-05-02T08:15:30+0000``; ids are 17-digit numbers.

Decisions where the documentation is silent:
- The account handle resolves through ``GET /me`` (the token's own account); a numeric handle is the
  ig-user-id itself. ``/{username}`` is not a path (the real API has none).
- A post of the shared model without media is an ``IMAGE`` whose ``media_url`` is a generated text card
  (``{prefix}/media/t{post-no}.jpg``), because Instagram media always has a picture.
- Instagram has one level of replies: a reply to a reply is listed under its top-level comment and its
  ``parent_id`` is that comment. Deleting a comment removes its replies.
- Comments are listed oldest first. Hidden comments are listed to the owner with ``hidden: true``.
- A corrupt post is served with ``timestamp`` as a number and ``caption``/``media_type`` of the wrong type.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from ..httpcore import Request, Response
from ..social import Comment, Media, Post
from .graph import (
    FieldSpec,
    GraphApp,
    graph_time,
    names,
    nested_page,
    no_object,
    nonexisting_field,
    page_of,
    pick,
    unparse,
)

USER_FIELDS = frozenset(
    {
        "id",
        "username",
        "name",
        "biography",
        "website",
        "media_count",
        "followers_count",
        "follows_count",
        "profile_picture_url",
        "ig_id",
    }
)
MEDIA_FIELDS = frozenset(
    {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "media_url",
        "thumbnail_url",
        "permalink",
        "shortcode",
        "timestamp",
        "username",
        "like_count",
        "comments_count",
        "is_comment_enabled",
        "owner",
        "alt_text",
    }
)
CHILD_FIELDS = frozenset(
    {"id", "media_type", "media_url", "thumbnail_url", "timestamp", "shortcode", "username", "owner"}
)
COMMENT_FIELDS = frozenset(
    {"id", "text", "timestamp", "username", "from", "like_count", "hidden", "parent_id", "media", "user"}
)
REPLIES_LIMIT = 25


class App(GraphApp):
    name = "instagram"
    prefix = "/ig"
    buc_type = "instagram"
    buc_code = 80002
    buc_message = "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again."

    # ---- ids ----------------------------------------------------------------------------------
    @property
    def user_id(self) -> str:
        return f"1784140{self._number('iguser', digits=10)}"

    def owner_id(self) -> str:
        return self.user_id

    def post_id(self, post: Post) -> str:
        return f"179{self._number('media', post.no, digits=14)}"

    def comment_id(self, comment: Comment) -> str:
        return f"178{self._number('comment', comment.no, digits=14)}"

    def _child_id(self, media: Media) -> str:
        return f"180{self._number('child', media.no, digits=14)}"

    def _shortcode(self, post: Post) -> str:
        raw = self._number("short", post.no, digits=16).to_bytes(8, "big")
        return "C" + base64.urlsafe_b64encode(raw).decode().rstrip("=")[:10]

    # ---- visibility ---------------------------------------------------------------------------
    def _root(self, comment: Comment) -> Comment:
        while comment.parent is not None:
            comment = self.model.comments[comment.parent]
        return comment

    def _shown(self, comment: Comment) -> bool:
        """Listed to the owner: hidden ones too; gone with its post or its top-level comment."""
        now = self.model.clock.now_ms()
        root = self._root(comment)
        return (
            comment.deleted_ms is None
            and root.deleted_ms is None
            and comment.created_ms <= now
            and self._live_post(self.model.post(comment.post))
        )

    def _top(self, post: Post) -> list[Comment]:
        out = [self.model.comments[n] for n in post.comments]
        return sorted([c for c in out if c.parent is None and self._shown(c)], key=lambda c: (c.created_ms, c.no))

    def _replies(self, top: Comment) -> list[Comment]:
        if top.parent is not None:
            return []
        post = self.model.post(top.post)
        assert post is not None
        out = [self.model.comments[n] for n in post.comments]
        out = [c for c in out if c.parent is not None and self._shown(c) and self._root(c).no == top.no]
        return sorted(out, key=lambda c: (c.created_ms, c.no))

    def _count(self, post: Post) -> int:
        return sum(1 for n in post.comments if self._shown(self.model.comments[n]))

    # ---- nodes --------------------------------------------------------------------------------
    def _user(self, specs: list[FieldSpec] | None) -> dict[str, Any]:
        owner = self.model.owner
        full = {
            "id": self.user_id,
            "username": owner.handle,
            "name": owner.name,
            "ig_id": self._number("igid"),
            "biography": f"Officiellt konto för {owner.name}.",
            "website": f"https://www.{self.model.domain}",
            "media_count": self.model.published_total(len(self.model.visible_posts())),
            "followers_count": 8_940,
            "follows_count": 112,
            "profile_picture_url": None,
        }
        return pick(full, names(specs, ("id",)), "User", USER_FIELDS)

    def _child(self, base: str, post: Post, m: Media, specs: list[FieldSpec] | None) -> dict[str, Any]:
        full = {
            "id": self._child_id(m),
            "media_type": "VIDEO" if m.kind == "video" else "IMAGE",
            "media_url": self.media_url(base, m),
            "thumbnail_url": self.thumb_url(base, m.no) if m.kind == "video" else None,
            "timestamp": graph_time(post.created_ms),
            "username": self.model.owner.handle,
            "shortcode": self._shortcode(post),
            "owner": {"id": self.user_id},
        }
        return pick(full, names(specs, ("id",)), "ShadowIGMedia", CHILD_FIELDS)

    def _media_node(self, base: str, post: Post, specs: list[FieldSpec] | None) -> dict[str, Any]:
        mid = self.post_id(post)
        if post.corrupt:
            full: dict[str, Any] = {
                "id": mid,
                "timestamp": post.created_ms // 1000,
                "caption": {"text": 1},
                "media_type": 7,
                "comments_count": "many",
            }
            return pick(
                full, names(specs, ("id",)), "ShadowIGMedia", MEDIA_FIELDS, {"children": lambda spec: "unavailable"}
            )
        shortcode = self._shortcode(post)
        media = post.media
        video = len(media) == 1 and media[0].kind == "video"
        if len(media) > 1:
            kind, url = "CAROUSEL_ALBUM", self.media_url(base, media[0])
        elif media:
            kind, url = ("VIDEO" if video else "IMAGE"), self.media_url(base, media[0])
        else:
            kind, url = "IMAGE", self.thumb_url(base, post.no)
        full = {
            "id": mid,
            "caption": post.text or None,
            "media_type": kind,
            "media_product_type": "REELS" if video else "FEED",
            "media_url": url,
            "thumbnail_url": self.thumb_url(base, media[0].no) if video else None,
            "permalink": f"https://www.instagram.com/{'reel' if video else 'p'}/{shortcode}/",
            "shortcode": shortcode,
            "timestamp": graph_time(post.created_ms),
            "username": self.model.owner.handle,
            "like_count": post.no % 53,
            "comments_count": self.model.published_comments(post, self._count(post)),
            "is_comment_enabled": True,
            "owner": {"id": self.user_id},
            "alt_text": media[0].alt if media and not video else None,
        }

        def children(spec: FieldSpec) -> dict[str, Any] | None:
            if kind != "CAROUSEL_ALBUM":
                return None
            return {"data": [self._child(base, post, m, spec.sub) for m in media]}

        return pick(full, names(specs, ("id",)), "ShadowIGMedia", MEDIA_FIELDS, {"children": children})

    def _comment(self, base: str, comment: Comment, specs: list[FieldSpec] | None) -> dict[str, Any]:
        post = self.model.post(comment.post)
        assert post is not None
        cid = self.comment_id(comment)
        root = self._root(comment)
        full: dict[str, Any] = {
            "id": cid,
            "text": comment.text,
            "timestamp": graph_time(comment.created_ms),
            "username": comment.author.handle,
            "like_count": comment.no % 6,
            "hidden": comment.hidden,
            "from": {"id": self._author_id(comment), "username": comment.author.handle},
            "parent_id": self.comment_id(root) if comment.parent is not None else None,
            "media": {"id": self.post_id(post), "media_product_type": "FEED"},
            "user": {"id": self.user_id} if comment.own else None,
        }

        def replies(spec: FieldSpec) -> dict[str, Any]:
            def next_url(limit: int, after: str) -> str:
                query = urlencode({"fields": unparse(spec.sub or [FieldSpec("id")]), "limit": limit, "after": after})
                return f"{base}/{cid}/replies?{query}"

            return nested_page(
                self._replies(comment), spec, REPLIES_LIMIT, lambda c: self._comment(base, c, spec.sub), next_url
            )

        return pick(full, names(specs, ("timestamp", "text", "id")), "IGComment", COMMENT_FIELDS, {"replies": replies})

    def _author_id(self, comment: Comment) -> str:
        if comment.own:
            return self.user_id
        return f"1784140{self._number('iguser', comment.author.no, digits=10)}"

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        node, edge, specs = self._request(sub, req)
        if node in (self.user_id, "me"):
            if edge is None:
                return self.ok(self._user(specs))
            if edge == "media":
                return self.ok(self._media_edge(req, base, sub, specs))
            raise nonexisting_field(edge, "User")
        item = self.lookup(node)
        if isinstance(item, Post) and self._live_post(item):
            if edge is None:
                return self.ok(self._media_node(base, item, specs))
            if edge == "comments":
                return self.ok(
                    page_of(self._top(item), req, base, sub, lambda c: self._comment(base, c, specs), descending=False)
                )
            if edge == "children":
                media = item.media if len(item.media) > 1 else []
                return self.ok({"data": [self._child(base, item, m, specs) for m in media]})
            raise nonexisting_field(edge, "ShadowIGMedia")
        if isinstance(item, Comment) and self._shown(item):
            if edge is None:
                return self.ok(self._comment(base, item, specs))
            if edge == "replies":
                return self.ok(
                    page_of(
                        self._replies(item), req, base, sub, lambda c: self._comment(base, c, specs), descending=False
                    )
                )
            raise nonexisting_field(edge, "IGComment")
        raise no_object(node)

    def _media_edge(self, req: Request, base: str, path: str, specs: list[FieldSpec] | None) -> dict[str, Any]:
        return self._timeline(req, base, path, lambda p: self._media_node(base, p, specs))
