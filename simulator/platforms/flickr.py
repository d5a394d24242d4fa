"""Flickr: the REST API in its JSON form (``{base}/flickr`` stands for ``https://api.flickr.com``).

``GET /flickr/services/rest/?method=…&api_key=…&format=json&nojsoncallback=1``; without
``nojsoncallback=1`` the body is wrapped in ``jsonFlickrApi(…)`` (or the ``jsoncallback`` name).

Faithful points (flickr.com/services/api method pages; the getMethodInfo fixtures of flickrex):
- ``flickr.people.findByUsername`` → ``{"user":{"id","nsid","username":{"_content"}}}``;
  ``flickr.people.getInfo``; unknown user: code 1 "User not found".
- ``flickr.people.getPublicPhotos`` and ``flickr.photos.search`` (``user_id``, ``min_upload_date``/
  ``max_upload_date`` as Unix seconds or MySQL datetimes, ``sort=date-posted-desc|asc``): newest first,
  ``page``/``pages``/``perpage``/``total``, ``per_page`` default 100 and capped at 500, a page past the
  last is an empty ``photo`` list. Basic fields ``id``, ``owner``, ``secret``, ``server``, ``farm``,
  ``title``, ``ispublic``/``isfriend``/``isfamily``; ``extras`` add ``description{_content}``,
  ``license``, ``dateupload``, ``lastupdate``, ``datetaken`` (+ granularity, unknown), ``ownername``,
  ``pathalias``, ``tags`` (space-separated), ``views``, ``media`` + ``media_status``, ``url_*`` with
  ``height_*``/``width_*``; ``count_faves`` and ``count_comments`` (extras Flickr answers but does not
  document; unverified: seen in public client code, not in a recording), the comments being those
  ``comments.getList`` lists. Unix times and most counters are strings.
- ``lastupdate`` is ``SocialModel.activity_ms``: it moves on edits and on new or deleted comments.
- ``flickr.photos.comments.getList``: all comments at once, oldest first, no paging; ``min_comment_date``
  / ``max_comment_date`` filter; the ``comment`` key is absent when there are none. Comment ids look
  like ``{owner-number}-{photo_id}-{72157…}``; ``datecreate`` is Unix seconds as a string.
- ``flickr.photos.getInfo`` and ``flickr.photos.getSizes``: code 1 "Photo not found" once deleted.
- Errors are HTTP 200 ``{"stat":"fail","code":…,"message":"…"}``: 1 not found, 100 invalid API key
  (also a missing or wrong key when the world has a token), 111 format not found, 112 method not found.
- Bodies are encoded as PHP's ``json_encode`` does (``\\/`` and ``\\uXXXX``), as Flickr's are.

Decisions where the documentation is silent or Flickr differs from the shared model:
- A Flickr photo holds one image or video. A model post is one photo: its first media file. A post
  without media gets a generated still (``/flickr/media/still-{no}.jpg``), as does a video (its
  poster frame, ``url_*``); the video file itself is the ``Video Original`` of ``getSizes``. Further
  images of a multi-image model post do not exist on Flickr, so the ground truth (``truth``) lists
  only the photo's own file.
- The title is the post's title; the description is the post's text with ``&``, ``<`` and ``>``
  written as entities (descriptions are HTML on Flickr); comments likewise.
- Flickr comments are flat: the model's replies are rendered as ordinary comments on the photo, in
  time order. Hidden comments are left out.
- An injected 5xx is answered with that HTTP status and a ``stat: fail`` code 105 "Service currently
  unavailable" body (an overloaded Flickr sends code 105 with HTTP 200 too; the connector treats both
  as transient). An injected 429 is HTTP 429 with ``Retry-After`` and the same code-105 body
  (Flickr documents no throttle error; its 3,600 queries/hour cap is not enforced here).
- Only ``format=json`` is spoken: another format is code 111, with a JSON body.
- A ``corrupt`` post keeps its ``id`` but has a numeric ``title``, a string ``description`` and a
  ``dateupload`` that is not a number; the rest of the page is fine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..clock import stockholm_offset_ms, to_datetime
from ..httpcore import Request, Response, json_response, wp_json
from ..media import image
from ..rand import mix
from ..social import Comment, Media, Person, Post
from .base import PlatformApp

CT = "application/json; charset=utf-8"
PER_PAGE, MAX_PER_PAGE = 100, 500
SIZE_KEYS = ("sq", "t", "s", "q", "m", "n", "z", "c", "l", "o")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _secs(ms: int) -> str:
    return str(ms // 1000)


class App(PlatformApp):
    name = "flickr"
    prefix = "/flickr"
    token_params = ("api_key",)

    # ---- identities ---------------------------------------------------------------------------
    def nsid(self, person: Person) -> str:
        if person.no == 0:
            return f"{140_000_000 + mix(self.model.seed, 'flickr-owner') % 9_000_000}@N05"
        return f"{person.no}@N02"

    def post_id(self, post: Post) -> str:
        return str(53_700_000_000 + post.no * 1013)

    def comment_id(self, comment: Comment) -> str:
        post = self.model.post(comment.post)
        assert post is not None
        owner = self.nsid(self.model.owner).split("@", 1)[0]
        return f"{owner}-{self.post_id(post)}-{72_157_700_000_000_000 + comment.no}"

    def _secret(self, post: Post) -> str:
        return f"{mix(self.model.seed, 'flickr-secret', post.no):016x}"[:10]

    def _page_url(self, post: Post) -> str:
        return f"https://www.flickr.com/photos/{self.model.owner.handle}/{self.post_id(post)}/"

    # ---- media --------------------------------------------------------------------------------
    def _shown(self, post: Post) -> Media | None:
        """The photo's own file: the post's first media, if any."""
        return post.media[0] if post.media else None

    def _image_url(self, base: str, post: Post) -> str:
        shown = self._shown(post)
        if shown is not None and shown.kind == "image":
            return self.media_url(base, shown)
        return f"{base}/media/still-{post.no}.jpg"

    def _media(self, sub: str) -> Response:
        stem = sub[len("/media/") :].split(".", 1)[0]
        if stem.startswith("still-") and stem[6:].isdigit():
            post = self.model.post(int(stem[6:]))
            if post is None:
                return Response(404, b"Not Found", [("Content-Type", "text/plain")])
            blob = image("jpeg", 64, 48, mix(self.model.seed, "flickr-still", post.no))
            return Response(
                200, blob.data(), [("Content-Type", blob.content_type), ("Cache-Control", "max-age=31536000")]
            )
        return super()._media(sub)

    def truth(self, base: str) -> dict[str, Any]:
        out = super().truth(base)
        for row in out["items"]:
            if row["kind"] != "post":
                continue
            post = self.model.post(row["no"])
            assert post is not None
            shown = self._shown(post)
            if shown is None:
                row["media"] = [{"url": self._image_url(base, post), "kind": "image", "oversized": False}]
            else:
                row["media"] = [
                    {"url": self.media_url(base, shown), "kind": shown.kind, "oversized": shown.oversize > 0}
                ]
        return out

    # ---- views --------------------------------------------------------------------------------
    def _photo(self, base: str, post: Post, extras: set[str]) -> dict[str, Any]:
        owner = self.model.owner
        if post.corrupt:
            return {
                "id": self.post_id(post),
                "owner": self.nsid(owner),
                "title": 404,
                "description": "trasig",
                "dateupload": "igår",
                "lastupdate": None,
                "ispublic": 1,
            }
        photo: dict[str, Any] = {
            "id": self.post_id(post),
            "owner": self.nsid(owner),
            "secret": self._secret(post),
            "server": "65535",
            "farm": 66,
            "title": post.title or "",
            "ispublic": 1,
            "isfriend": 0,
            "isfamily": 0,
        }
        if "description" in extras:
            photo["description"] = {"_content": _escape(post.text)}
        if "license" in extras:
            photo["license"] = "0"
        if "date_upload" in extras:
            photo["dateupload"] = _secs(post.created_ms)
        if "last_update" in extras:
            photo["lastupdate"] = _secs(self.model.activity_ms(post))
        if "date_taken" in extras:
            photo.update({"datetaken": self._taken(post), "datetakengranularity": 0, "datetakenunknown": "0"})
        if "owner_name" in extras:
            photo["ownername"] = owner.name
        if "path_alias" in extras:
            photo["pathalias"] = owner.handle
        if "tags" in extras:
            photo["tags"] = " ".join(self._tags(post))
        if "views" in extras:
            photo["views"] = str(post.no * 37 % 900)
        if "count_faves" in extras:
            photo["count_faves"] = str(post.no % 23)
        if "count_comments" in extras:
            photo["count_comments"] = str(self.model.published_comments(post, len(self.model.thread(post))))
        shown = self._shown(post)
        if "media" in extras:
            photo.update(
                {"media": "video" if shown is not None and shown.kind == "video" else "photo", "media_status": "ready"}
            )
        for size in SIZE_KEYS:
            if f"url_{size}" in extras:
                photo.update({f"url_{size}": self._image_url(base, post), f"height_{size}": 48, f"width_{size}": 64})
        return photo

    def _taken(self, post: Post) -> str:
        taken = post.created_ms - (post.no % 7) * 600_000
        return to_datetime(taken + stockholm_offset_ms(taken)).strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def _tags(post: Post) -> list[str]:
        words = [w[1:].lower().rstrip(".,!?:;") for w in post.text.split() if w.startswith("#") and len(w) > 1]
        return list(dict.fromkeys(w for w in words if w))

    def _comment(self, comment: Comment, post: Post) -> dict[str, Any]:
        cid = self.comment_id(comment)
        permalink = f"{self._page_url(post)}#comment{cid.rsplit('-', 1)[-1]}"
        return {
            "id": cid,
            "author": self.nsid(comment.author),
            "author_is_deleted": 0,
            "authorname": comment.author.handle,
            "iconserver": "65535",
            "iconfarm": 66,
            "datecreate": _secs(comment.created_ms),
            "permalink": permalink,
            "path_alias": comment.author.handle,
            "realname": comment.author.name,
            "_content": _escape(comment.text),
        }

    # ---- routes -------------------------------------------------------------------------------
    def handle(self, sub: str, req: Request, base: str) -> Response:
        resp = super().handle(sub, req, base)
        if sub.startswith("/media/") or req.param("nojsoncallback") == "1":
            return resp
        name = req.param("jsoncallback") or "jsonFlickrApi"
        resp.body = f"{name}(".encode() + resp.body + b")"
        return resp

    def route(self, sub: str, req: Request, base: str) -> Response:
        if sub.rstrip("/") != "/services/rest":
            return Response(404, b"Not Found", [("Content-Type", "text/plain")])
        if not req.param("api_key"):
            return self._fail(100, "Invalid API Key (Key not found)")
        if (req.param("format") or "rest") != "json":
            return self._fail(111, f'Format "{req.param("format") or "rest"}" not found')
        method = req.param("method") or ""
        handlers = {
            "flickr.people.findByUsername": self._find_user,
            "flickr.people.getInfo": self._person,
            "flickr.people.getPublicPhotos": self._photos,
            "flickr.photos.search": self._photos,
            "flickr.photos.comments.getList": self._comments,
            "flickr.photos.getInfo": self._info,
            "flickr.photos.getSizes": self._sizes,
        }
        if method not in handlers:
            return self._fail(112, f'Method "{method}" not found')
        return handlers[method](req, base)

    def _ok(self, body: dict[str, Any]) -> Response:
        return json_response(200, wp_json({**body, "stat": "ok"}), content_type=CT)

    def _fail(
        self, code: int, message: str, status: int = 200, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        return json_response(
            status, wp_json({"stat": "fail", "code": code, "message": message}), content_type=CT, headers=headers
        )

    def _owner_ok(self, user_id: str | None) -> bool:
        return user_id in (self.nsid(self.model.owner), self.model.owner.handle)

    def _find_user(self, req: Request, base: str) -> Response:
        owner = self.model.owner
        if (req.param("username") or "").lower() != owner.handle.lower():
            return self._fail(1, "User not found")
        nsid = self.nsid(owner)
        return self._ok({"user": {"id": nsid, "nsid": nsid, "username": {"_content": owner.handle}}})

    def _person(self, req: Request, base: str) -> Response:
        if not self._owner_ok(req.param("user_id")):
            return self._fail(1, "User not found")
        owner = self.model.owner
        nsid = self.nsid(owner)
        return self._ok(
            {
                "person": {
                    "id": nsid,
                    "nsid": nsid,
                    "ispro": 0,
                    "iconserver": "65535",
                    "iconfarm": 66,
                    "path_alias": owner.handle,
                    "username": {"_content": owner.handle},
                    "realname": {"_content": owner.name},
                    "location": {"_content": f"{self.model.town}, Sverige"},
                    "profileurl": {"_content": f"https://www.flickr.com/people/{owner.handle}/"},
                    "photos": {"count": {"_content": len(self.model.visible_posts())}},
                }
            }
        )

    def _photos(self, req: Request, base: str) -> Response:
        if not self._owner_ok(req.param("user_id")):
            return self._fail(2, "Unknown user")
        try:
            per_page = min(max(int(req.param("per_page") or PER_PAGE), 1), MAX_PER_PAGE)
            page = max(int(req.param("page") or 1), 1)
            low = _unix(req.param("min_upload_date"))
            high = _unix(req.param("max_upload_date"))
        except ValueError:
            return self._fail(3, "Invalid parameter")
        posts = self.model.visible_posts()
        if low is not None:
            posts = [p for p in posts if p.created_ms // 1000 >= low]
        if high is not None:
            posts = [p for p in posts if p.created_ms // 1000 <= high]
        if (req.param("sort") or "date-posted-desc") == "date-posted-asc":
            posts = posts[::-1]
        extras = {e.strip() for e in (req.param("extras") or "").split(",") if e.strip()}
        chunk = posts[(page - 1) * per_page : page * per_page]
        pages = -(-len(posts) // per_page)
        return self._ok(
            {
                "photos": {
                    "page": page,
                    "pages": pages,
                    "perpage": per_page,
                    "total": len(posts)
                    if low is not None or high is not None
                    else self.model.published_total(len(posts)),
                    "photo": [self._photo(base, p, extras) for p in chunk],
                }
            }
        )

    def _live(self, req: Request) -> Post | None:
        wanted = req.param("photo_id")
        return next((p for p in self.model.visible_posts() if self.post_id(p) == wanted), None)

    def _comments(self, req: Request, base: str) -> Response:
        post = self._live(req)
        if post is None:
            return self._fail(1, "Photo not found")
        try:
            low, high = _unix(req.param("min_comment_date")), _unix(req.param("max_comment_date"))
        except ValueError:
            return self._fail(3, "Invalid parameter")
        rows = [
            c
            for c in self.model.thread(post)
            if (low is None or c.created_ms // 1000 >= low) and (high is None or c.created_ms // 1000 <= high)
        ]
        body: dict[str, Any] = {"photo_id": self.post_id(post)}
        if rows:
            body["comment"] = [self._comment(c, post) for c in rows]
        return self._ok({"comments": body})

    def _info(self, req: Request, base: str) -> Response:
        post = self._live(req)
        if post is None:
            return self._fail(1, "Photo not found")
        owner = self.model.owner
        shown = self._shown(post)
        return self._ok(
            {
                "photo": {
                    "id": self.post_id(post),
                    "secret": self._secret(post),
                    "server": "65535",
                    "farm": 66,
                    "dateuploaded": _secs(post.created_ms),
                    "isfavorite": 0,
                    "license": "0",
                    "safety_level": "0",
                    "rotation": 0,
                    "owner": {
                        "nsid": self.nsid(owner),
                        "username": owner.handle,
                        "realname": owner.name,
                        "location": "",
                        "iconserver": "65535",
                        "iconfarm": 66,
                        "path_alias": owner.handle,
                    },
                    "title": {"_content": post.title or ""},
                    "description": {"_content": _escape(post.text)},
                    "visibility": {"ispublic": 1, "isfriend": 0, "isfamily": 0},
                    "dates": {
                        "posted": _secs(post.created_ms),
                        "taken": self._taken(post),
                        "takengranularity": 0,
                        "takenunknown": "0",
                        "lastupdate": _secs(self.model.activity_ms(post)),
                    },
                    "views": str(post.no * 37 % 900),
                    "editability": {"cancomment": 0, "canaddmeta": 0},
                    "publiceditability": {"cancomment": 1, "canaddmeta": 0},
                    "usage": {"candownload": 1, "canblog": 0, "canprint": 0, "canshare": 1},
                    "comments": {"_content": str(len(self.model.thread(post)))},
                    "notes": {"note": []},
                    "people": {"haspeople": 0},
                    "tags": {
                        "tag": [
                            {
                                "id": f"{self.post_id(post)}-{t}",
                                "author": self.nsid(owner),
                                "raw": t,
                                "_content": t,
                                "machine_tag": 0,
                            }
                            for t in self._tags(post)
                        ]
                    },
                    "urls": {"url": [{"type": "photopage", "_content": self._page_url(post)}]},
                    "media": "video" if shown is not None and shown.kind == "video" else "photo",
                }
            }
        )

    def _sizes(self, req: Request, base: str) -> Response:
        post = self._live(req)
        if post is None:
            return self._fail(1, "Photo not found")
        still, page = self._image_url(base, post), self._page_url(post)
        sizes: list[dict[str, Any]] = [
            {
                "label": "Square",
                "width": 75,
                "height": 75,
                "source": still,
                "url": page + "sizes/sq/",
                "media": "photo",
            },
            {"label": "Large", "width": 64, "height": 48, "source": still, "url": page + "sizes/l/", "media": "photo"},
        ]
        shown = self._shown(post)
        if shown is not None and shown.kind == "video":
            video = self.media_url(base, shown)
            sizes += [
                {
                    "label": "Site MP4",
                    "width": 640,
                    "height": 360,
                    "source": video,
                    "url": page + "sizes/site/",
                    "media": "video",
                },
                {
                    "label": "Video Original",
                    "width": 1280,
                    "height": 720,
                    "source": video,
                    "url": page + "sizes/orig/",
                    "media": "video",
                },
            ]
        else:
            sizes.append(
                {
                    "label": "Original",
                    "width": "64",
                    "height": "48",
                    "source": still,
                    "url": page + "sizes/o/",
                    "media": "photo",
                }
            )
        return self._ok({"sizes": {"canblog": 0, "canprint": 0, "candownload": 1, "size": sizes}})

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        if status == 401:
            return self._fail(100, "Invalid API Key (Key has invalid format)")
        if status == 429:
            return self._fail(105, message, 429, [("Retry-After", str(retry_after or 1))])
        if status >= 500:
            extra = [("Retry-After", str(retry_after))] if retry_after is not None else []
            return self._fail(105, "Service currently unavailable", status, extra)
        return self._fail(1, message, status)


def _unix(value: str | None) -> int | None:
    """``min_upload_date``: Unix seconds or a MySQL datetime (UTC here)."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S" if " " in value else "%Y-%m-%d")
    return int((moment - datetime(1970, 1, 1)).total_seconds())
