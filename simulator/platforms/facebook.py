"""Facebook Pages: the Graph API (``{base}/fb`` stands for ``https://graph.facebook.com/v21.0``).

Faithful points (Graph API reference: Page, Page feed/posts, Post, Object comments, Comment; results
paging; error handling and rate limiting); the shared Graph conventions (errors,
throttling, usage headers, paging, ``fields=``) are in ``graph.py``:
- ``GET /{page-id|username|me}?fields=id,name,…``: the Page node (default fields ``name,id``).
- ``GET /{page-id}/posts`` (also ``/feed`` and ``/published_posts``, which hold the same here: only the
  Page posts on its Page): newest first, ``limit`` (default 25, max 100), ``after``/``before`` cursors,
  ``since``/``until`` (Unix seconds or an ISO date). Default fields ``created_time,message,id``. Fields:
  ``created_time``, ``updated_time``, ``message``, ``permalink_url``, ``from{id,name}``, ``status_type``,
  ``is_hidden``, ``is_published``, ``full_picture``, ``shares{count}`` (absent at zero),
  ``attachments{media_type,type,url,title,media{image{src,height,width},source},target,subattachments}``
  and the edges ``comments`` / ``reactions`` / ``likes`` with ``.summary(true).limit(n)``. The fields
  deprecated in v3.3 (``caption``, ``description``, ``link``, ``name``, ``object_id``, ``source``, ``type``)
  answer error code 12.
- ``updated_time`` is the post's last activity: an edit, a new comment or reply, a deleted comment
  (``SocialModel.activity_ms``), as Facebook moves it on edits and comments.
- ``GET /{post-id}/comments`` and ``GET /{comment-id}/comments``: ``filter=toplevel`` (default: direct
  comments/replies) or ``filter=stream`` (everything below, flattened, each reply with ``parent``);
  ``order=chronological`` (default) or ``reverse_chronological``; ``summary=true`` adds
  ``summary{order,total_count,can_comment}``. Default fields ``created_time,from,message,id``.
- Ids: Page ``{15 digits}``, post ``{pageid}_{postid}``, comment ``{postid}_{commentid}``.
- ``GET /{id}`` of a deleted (or never existing) post or comment: 400 code 100 subcode 33.
- ``GET /{page-id}/blocked``: the people and Pages blocked from the Page, ``data`` of ``{id, name}``
  (newest block first, cursor paging as every edge). Unverified: the reference shows no example answer,
  no recording has one, and the order of a real answer is unknown; the connector does not rely on it.

Decisions where the documentation is silent:
- The Page token can moderate, so comments carry ``from`` and hidden comments are listed with
  ``is_hidden: true`` (and answer ``GET /{id}``); a deleted comment's replies stay listed.
- A video attachment's ``media.image.src`` is a generated poster frame, ``media.source`` the file. A
  post of one video (not the oversized one) comes as real Page feeds show most videos (python-facebook's
  recorded ``feeds_default_fields_p1.json``): ``type: video_autoplay``, ``media_type: video`` and only
  ``media.image``, no ``media.source``; videos in albums and the oversized file keep ``source``
  (``type: video_inline``).
- Photo albums are ``media_type: album`` with one ``subattachments`` entry per photo or video.
- A corrupt post is served with ``created_time`` as a number and ``message``/``attachments`` of the
  wrong type (only the fields asked for), the rest of its page intact.
"""

from __future__ import annotations

from typing import Any

from ..httpcore import Request, Response
from ..social import Comment, Listed, Media, Person, Post
from .graph import (
    DEFAULT_LIMIT,
    FieldSpec,
    GraphApp,
    GraphError,
    graph_time,
    names,
    nested_page,
    no_object,
    nonexisting_field,
    page_of,
    pick,
)

PAGE_FIELDS = frozenset(
    {
        "id",
        "name",
        "username",
        "link",
        "about",
        "category",
        "fan_count",
        "followers_count",
        "verification_status",
        "website",
    }
)
POST_FIELDS = frozenset(
    {
        "id",
        "created_time",
        "updated_time",
        "message",
        "story",
        "permalink_url",
        "from",
        "status_type",
        "is_hidden",
        "is_published",
        "full_picture",
        "shares",
        "attachments",
        "message_tags",
        "place",
        "privacy",
    }
)
DEPRECATED = frozenset({"caption", "description", "link", "name", "object_id", "source", "type"})
COMMENT_FIELDS = frozenset(
    {
        "id",
        "created_time",
        "message",
        "from",
        "parent",
        "comment_count",
        "like_count",
        "permalink_url",
        "is_hidden",
        "can_remove",
        "user_likes",
        "attachment",
        "message_tags",
    }
)


class App(GraphApp):
    name = "facebook"
    moderation_lists = ("blocks",)
    prefix = "/fb"
    buc_type = "pages"
    buc_code = 80001

    # ---- ids ----------------------------------------------------------------------------------
    @property
    def page_id(self) -> str:
        return str(self._number("page"))

    def owner_id(self) -> str:
        return self.page_id

    def _post_obj(self, post: Post) -> str:
        return str(self._number("post", post.no, digits=16))

    def post_id(self, post: Post) -> str:
        return f"{self.page_id}_{self._post_obj(post)}"

    def comment_id(self, comment: Comment) -> str:
        post = self.model.post(comment.post)
        assert post is not None
        return f"{self._post_obj(post)}_{self._number('comment', comment.no)}"

    def listed_id(self, entry: Listed) -> str:
        return self._person(entry.person)["id"]

    def _blocked(self, entry: Listed) -> dict[str, str]:
        """A Profile blocked from the Page: ``id`` and ``name``, what the edge gives without ``fields``."""
        return self._person(entry.person)

    def _person(self, person: Person) -> dict[str, str]:
        if person.no == self.model.owner.no:
            return {"name": self.model.owner.name, "id": self.page_id}
        return {"name": person.name, "id": str(self._number("user", person.no))}

    # ---- visibility ---------------------------------------------------------------------------
    def _shown(self, comment: Comment) -> bool:
        """Listed for the Page's own token: hidden comments too (with ``is_hidden``), deleted ones not."""
        return (
            comment.deleted_ms is None
            and comment.created_ms <= self.model.clock.now_ms()
            and self._live_post(self.model.post(comment.post))
        )

    def _below(self, post: Post, parent: int | None, stream: bool) -> list[Comment]:
        """Comments of a post (``parent`` None) or replies of a comment, oldest first."""
        shown = [self.model.comments[n] for n in post.comments if self._shown(self.model.comments[n])]
        if stream and parent is None:
            out = shown
        elif stream:
            wanted, out = {parent}, []
            for c in sorted(shown, key=lambda c: (c.created_ms, c.no)):
                if c.parent in wanted:
                    wanted.add(c.no)
                    out.append(c)
        else:
            out = [c for c in shown if c.parent == parent]
        return sorted(out, key=lambda c: (c.created_ms, c.no))

    # ---- nodes --------------------------------------------------------------------------------
    def _page(self, specs: list[FieldSpec] | None) -> dict[str, Any]:
        owner = self.model.owner
        full = {
            "id": self.page_id,
            "name": owner.name,
            "username": owner.handle,
            "link": f"https://www.facebook.com/{owner.handle}",
            "category": "Government organization",
            "about": f"Officiell sida för {owner.name}.",
            "fan_count": 12_480,
            "followers_count": 13_102,
            "verification_status": "blue_verified",
            "website": f"https://www.{self.model.domain}",
        }
        return pick(full, names(specs, ("name", "id")), "Page", PAGE_FIELDS)

    def _photo(self, base: str, m: Media, *, alone: bool = False) -> dict[str, Any]:
        fbid = self._number("photo", m.no)
        if m.kind == "video":
            page = f"https://www.facebook.com/{self.page_id}/videos/{fbid}/"
            poster = {"image": {"height": 48, "src": self.thumb_url(base, m.no), "width": 64}}
            if alone and not m.oversize:  # the recorded shape: no file, only the poster
                return {
                    "media": poster,
                    "target": {"id": str(fbid), "url": page},
                    "type": "video_autoplay",
                    "media_type": "video",
                    "title": m.alt,
                    "unshimmed_url": page,
                    "url": page,
                }
            return {
                "media": {**poster, "source": self.media_url(base, m)},
                "target": {"id": str(fbid), "url": page},
                "type": "video_inline",
                "media_type": "video",
                "title": m.alt,
                "url": page,
            }
        return {
            "media": {"image": {"height": 48, "src": self.media_url(base, m), "width": 64}},
            "target": {"id": str(fbid), "url": f"https://www.facebook.com/photo.php?fbid={fbid}"},
            "type": "photo",
            "media_type": "photo",
            "description": m.alt,
            "url": f"https://www.facebook.com/photo.php?fbid={fbid}&set=a.{self.page_id}&type=3",
        }

    def _attachments(self, base: str, post: Post) -> dict[str, Any] | None:
        if not post.media:
            return None
        if len(post.media) == 1:
            return {"data": [self._photo(base, post.media[0], alone=True)]}
        first = self._photo(base, post.media[0])
        album = self._number("album", post.no)
        return {
            "data": [
                {
                    "media": first["media"],
                    "target": {"id": str(album), "url": first["url"]},
                    "title": "Timeline photos",
                    "type": "album",
                    "media_type": "album",
                    "url": f"https://www.facebook.com/media/set/?set=a.{album}&type=3",
                    "subattachments": {"data": [self._photo(base, m) for m in post.media]},
                }
            ]
        }

    def _post(self, base: str, post: Post, specs: list[FieldSpec] | None) -> dict[str, Any]:
        specs = names(specs, ("created_time", "message", "id"))
        for spec in specs:
            if spec.name in DEPRECATED:
                raise GraphError(
                    "(#12) deprecate_post_aggregated_fields_for_attachement is deprecated for versions v3.3 and higher",
                    12,
                )
        pid = self.post_id(post)
        obj = self._post_obj(post)
        if post.corrupt:
            full: dict[str, Any] = {
                "id": pid,
                "created_time": post.created_ms // 1000,
                "message": {"text": 404},
                "updated_time": None,
                "attachments": "unavailable",
            }
        else:
            kinds = {m.kind for m in post.media}
            status = "added_video" if kinds == {"video"} else ("added_photos" if post.media else "mobile_status_update")
            shares = (post.no * 7) % 5
            images = [m for m in post.media if m.kind == "image"]
            full = {
                "id": pid,
                "created_time": graph_time(post.created_ms),
                "updated_time": graph_time(self.model.activity_ms(post)),
                "message": post.text or None,
                "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{obj}",
                "from": self._person(self.model.owner),
                "status_type": status,
                "is_hidden": False,
                "is_published": True,
                "full_picture": self.media_url(base, images[0]) if images else None,
                "shares": {"count": shares} if shares else None,
                "attachments": self._attachments(base, post),
                "privacy": {"value": "EVERYONE", "description": "Public", "friends": "", "allow": "", "deny": ""},
            }
        edges = {
            "comments": lambda spec: self._comments_field(base, post, None, spec, f"/{pid}/comments"),
            "reactions": lambda spec: self._count_field(spec, post.no % 37),
            "likes": lambda spec: self._count_field(spec, post.no % 29),
        }
        return pick(full, specs, "Post", POST_FIELDS, edges)

    def _count_field(self, spec: FieldSpec, total: int) -> dict[str, Any]:
        out: dict[str, Any] = {"data": []}
        if spec.mods.get("summary") == "true":
            out["summary"] = {"total_count": total, "viewer_reaction": "NONE", "can_like": True, "has_liked": False}
        return out

    def _comments_field(self, base: str, post: Post, parent: int | None, spec: FieldSpec, path: str) -> dict[str, Any]:
        """A nested ``comments`` field: ``.limit(n)``, ``.filter(stream)``, ``.summary(true)``, ``{fields}``."""
        stream = spec.mods.get("filter") == "stream"
        items = self._below(post, parent, stream)
        out = nested_page(
            items,
            spec,
            DEFAULT_LIMIT,
            lambda c: self._comment(base, c, spec.sub),
            lambda limit, after: f"{base}{path}?limit={limit}&after={after}" + ("&filter=stream" if stream else ""),
        )
        if spec.mods.get("summary") == "true":
            total = len(items) if parent is not None else self.model.published_comments(post, len(items))
            out["summary"] = {"order": "chronological", "total_count": total, "can_comment": True}
        return out

    def _comment(self, base: str, comment: Comment, specs: list[FieldSpec] | None) -> dict[str, Any]:
        post = self.model.post(comment.post)
        assert post is not None
        cid = self.comment_id(comment)
        cobj = cid.split("_", 1)[1]
        parent = self.model.comments[comment.parent] if comment.parent is not None else None
        full: dict[str, Any] = {
            "id": cid,
            "created_time": graph_time(comment.created_ms),
            "message": comment.text,
            "from": self._person(comment.author),
            "parent": {
                "created_time": graph_time(parent.created_ms),
                "from": self._person(parent.author),
                "message": parent.text,
                "id": self.comment_id(parent),
            }
            if parent
            else None,
            "comment_count": len(self._below(post, comment.no, False)),
            "like_count": comment.no % 4,
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{self._post_obj(post)}?comment_id={cobj}",
            "is_hidden": comment.hidden,
            "can_remove": True,
            "user_likes": False,
        }
        edges = {"comments": lambda spec: self._comments_field(base, post, comment.no, spec, f"/{cid}/comments")}
        return pick(full, names(specs, ("created_time", "from", "message", "id")), "Comment", COMMENT_FIELDS, edges)

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        node, edge, specs = self._request(sub, req)
        if node in (self.page_id, self.model.owner.handle, "me"):
            if edge is None:
                return self.ok(self._page(specs))
            if edge in ("posts", "feed", "published_posts"):
                return self.ok(self._posts(req, base, sub, specs))
            if edge == "blocked":
                return self.ok(page_of(self.model.listed("blocks"), req, base, sub, self._blocked))
            raise nonexisting_field(edge, "Page")
        item = self.lookup(node)
        if isinstance(item, Post) and self._live_post(item):
            if edge is None:
                return self.ok(self._post(base, item, specs))
            if edge == "comments":
                return self.ok(self._comments_edge(req, base, sub, item, None, specs))
            raise nonexisting_field(edge, "Post")
        if isinstance(item, Comment) and self._shown(item):
            if edge is None:
                return self.ok(self._comment(base, item, specs))
            if edge == "comments":
                post = self.model.post(item.post)
                assert post is not None
                return self.ok(self._comments_edge(req, base, sub, post, item.no, specs))
            raise nonexisting_field(edge, "Comment")
        raise no_object(node)

    def _posts(self, req: Request, base: str, path: str, specs: list[FieldSpec] | None) -> dict[str, Any]:
        return self._timeline(req, base, path, lambda p: self._post(base, p, specs))

    def _comments_edge(
        self, req: Request, base: str, path: str, post: Post, parent: int | None, specs: list[FieldSpec] | None
    ) -> dict[str, Any]:
        flt = req.param("filter") or "toplevel"
        if flt not in ("toplevel", "stream"):
            raise GraphError("(#100) filter must be one of the following values: toplevel, stream", 100)
        order = req.param("order") or "chronological"
        if order not in ("chronological", "reverse_chronological", "ranked"):
            raise GraphError(
                "(#100) order must be one of the following values: chronological, reverse_chronological, ranked", 100
            )
        items = self._below(post, parent, flt == "stream")
        descending = order == "reverse_chronological"
        if descending:
            items = list(reversed(items))
        body = page_of(items, req, base, path, lambda c: self._comment(base, c, specs), descending=descending)
        if req.param("summary") == "true":
            total = len(items) if parent is not None else self.model.published_comments(post, len(items))
            body["summary"] = {"order": order, "total_count": total, "can_comment": True}
        return body
