"""LinkedIn: the Community Management API's Posts and Comments (``{base}/li`` stands for ``https://api.linkedin.com``).

Faithful points (learn.microsoft.com: posts-api, comments-api, little-text-format, versioning):
- Every ``/rest/…`` call needs ``LinkedIn-Version: YYYYMM`` (or ``YYYYMM.RR``) and
  ``X-Restli-Protocol-Version: 2.0.0``. A missing version is ``400 VERSION_MISSING``; a sunset or
  not-yet-released one ``426 NONEXISTENT_VERSION`` ("Requested version 202301 is not active"), as
  LinkedIn answers. Decision: the active versions are fixed (``OLDEST_ACTIVE`` … ``NEWEST_ACTIVE``),
  not derived from the simulated clock, which only drives the account's history; a missing
  protocol header is ``400 ILLEGAL_ARGUMENT`` (the URN-keyed paths are Rest.li 2.0 syntax).
- Errors: ``{"status":…,"serviceErrorCode":…,"code":…,"message":…}``; 401 is LinkedIn's
  ``serviceErrorCode`` 65600 ``INVALID_ACCESS_TOKEN``; 429 ``TOO_MANY_REQUESTS`` (serviceErrorCode 101,
  unverified). LinkedIn sends no per-request quota headers; an injected 429 carries ``Retry-After``
  with the fault's value (decision: the only way a client can learn the wait; without it a
  client backs off).
- Account: the handle is the Page's vanity name; ``GET /rest/organizations?q=vanityName&vanityName=``
  resolves it to ``urn:li:organization:{id}`` (the Organization Lookup API's finder).
- ``GET /rest/posts?author={org URN}&q=author&count=&start=&sortBy=LAST_MODIFIED|CREATED`` (count
  1–100, default 10; the ``q=`` makes it a FINDER, so ``X-RestLi-Method`` is not required here):
  offset paging, ``paging{start,count,links[{type,rel:"next",href}]}``, the ``next`` link only when
  more follow; hrefs are host-relative like LinkedIn's (here they carry the ``/li`` mount).
  ``sortBy=LAST_MODIFIED`` (default) orders by ``lastModifiedAt``, newest first, so an edited old
  post comes back to the top.
- Post ids: ``urn:li:share:{n}`` (``urn:li:ugcPost:{n}`` for video posts), ``n`` a 19-digit activity
  id whose top bits are the creation time in ms (as LinkedIn's). ``GET /rest/posts/{encoded URN}``
  answers one post; a deleted one is 404 ``NOT_FOUND``.
- ``commentary`` is "little text": reserved characters ``\\ | { } @ [ ] ( ) < > # * _ ~`` are
  backslash-escaped and hashtags are ``{hashtag|\\#|tag}`` templates. ``createdAt``, ``publishedAt``,
  ``lastModifiedAt`` are epoch milliseconds; ``lifecycleStateInfo.isEditedByAuthor`` is true after
  an edit. ``content`` is ``media{id,altText}`` (one image or a video, ``urn:li:image:…`` /
  ``urn:li:video:…``) or ``multiImage{images[{id,altText}]}``; ``GET /rest/images/{urn}`` and
  ``/rest/videos/{urn}`` give the ``downloadUrl`` (stable here; LinkedIn's are signed and expire).
- ``GET /rest/socialActions/{encoded post URN}/comments?start=&count=`` lists top-level comments,
  oldest first, with ``paging.total``; the same under a comment URN lists its replies.
  ``GET /rest/socialActions/{target}/comments/{comment id}`` answers one comment (404 when deleted).
  Comment URNs: ``urn:li:comment:(urn:li:activity:{n},{comment id})``; decision: the activity number
  is the post's own number. Comments carry ``actor``, ``created{actor,time}``,
  ``lastModified{actor,time}``, ``message{text,attributes}`` (plain text: comments are not little
  text), ``object`` (the post URN), ``parentComment`` on replies and
  ``commentsSummary{totalFirstLevelComments,aggregatedTotalComments}``. Comments hidden by the Page
  are left out and answer 404, like deleted ones (the API does not show moderation).
- A corrupt post keeps its ``id`` but has a numeric ``commentary``, a non-numeric ``createdAt`` and
  no ``author``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..httpcore import Request, Response, json_response
from ..rand import mix
from ..social import Comment, Media, Post
from .base import PlatformApp, plain_json

CT = "application/json"
OLDEST_ACTIVE, NEWEST_ACTIVE = "202511", "202612"
_VERSION = re.compile(r"^(\d{4})(0[1-9]|1[0-2])(\.\d{2})?$")
_RESERVED = set("\\|{}@[]()<>#*_~")
_HASHTAG = re.compile(r"(?<![\w&])#(\w[\w-]*)", re.UNICODE)
_CODES = {
    400: "ILLEGAL_ARGUMENT",
    401: "INVALID_ACCESS_TOKEN",
    403: "ACCESS_DENIED",
    404: "NOT_FOUND",
    426: "NONEXISTENT_VERSION",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
_SERVICE_CODES = {401: 65600, 403: 100, 429: 101}


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RESERVED else ch for ch in text)


def little_text(text: str) -> str:
    """Plain text → LinkedIn's little text: reserved characters escaped, ``#tag`` as a hashtag template."""
    out, at = [], 0
    for m in _HASHTAG.finditer(text):
        out.append(_escape(text[at : m.start()]))
        out.append("{hashtag|\\#|" + _escape(m.group(1)) + "}")
        at = m.end()
    out.append(_escape(text[at:]))
    return "".join(out)


def _activity(ms: int, no: int) -> int:
    return (ms << 22) | (no & 0x3FFFFF)


class App(PlatformApp):
    name = "linkedin"
    prefix = "/li"
    token_params = ()  # 3-legged OAuth tokens go in `Authorization: Bearer` only

    # ---- identities ---------------------------------------------------------------------------
    @property
    def org_id(self) -> int:
        return 10_000_000 + mix(self.model.seed, "linkedin-org") % 90_000_000

    @property
    def org_urn(self) -> str:
        return f"urn:li:organization:{self.org_id}"

    def _number(self, post: Post) -> int:
        return _activity(post.created_ms, post.no)

    def post_id(self, post: Post) -> str:
        kind = "ugcPost" if any(m.kind == "video" for m in post.media) else "share"
        return f"urn:li:{kind}:{self._number(post)}"

    def _comment_no(self, comment: Comment) -> int:
        return _activity(comment.created_ms, comment.no)

    def comment_id(self, comment: Comment) -> str:
        post = self.model.post(comment.post)
        assert post is not None
        return f"urn:li:comment:(urn:li:activity:{self._number(post)},{self._comment_no(comment)})"

    def _actor(self, comment: Comment) -> str:
        if comment.own:
            return self.org_urn
        return f"urn:li:person:{mix(self.model.seed, 'li-person', comment.author.no) % 10**10:010d}"

    def _media_urn(self, media: Media) -> str:
        kind = "video" if media.kind == "video" else "image"
        code = "D4E05AQ" if kind == "video" else "D4E10AQ"
        return f"urn:li:{kind}:{code}{mix(self.model.seed, 'li-media', media.no) % 36**9:09d}"

    # ---- rendering ----------------------------------------------------------------------------
    def _post(self, post: Post) -> dict[str, Any]:
        if post.corrupt:
            return {
                "id": self.post_id(post),
                "commentary": post.no,
                "createdAt": "i går",
                "lastModifiedAt": "i går",
                "lifecycleState": "PUBLISHED",
            }
        out: dict[str, Any] = {
            "id": self.post_id(post),
            "author": self.org_urn,
            "commentary": little_text(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
        }
        images = [m for m in post.media if m.kind == "image"]
        videos = [m for m in post.media if m.kind == "video"]
        if videos:
            out["content"] = {"media": {"id": self._media_urn(videos[0]), "title": videos[0].alt}}
        elif len(images) == 1:
            out["content"] = {"media": {"id": self._media_urn(images[0]), "altText": images[0].alt}}
        elif images:
            out["content"] = {"multiImage": {"images": [{"id": self._media_urn(m), "altText": m.alt} for m in images]}}
        out.update(
            {
                "lifecycleState": "PUBLISHED",
                "lifecycleStateInfo": {"isEditedByAuthor": len(post.versions) > 1},
                "isReshareDisabledByAuthor": False,
                "createdAt": post.created_ms,
                "publishedAt": post.created_ms,
                "lastModifiedAt": post.updated_ms,
            }
        )
        return out

    def _comment(self, comment: Comment) -> dict[str, Any]:
        post = self.model.post(comment.post)
        assert post is not None
        actor = self._actor(comment)
        replies = self.model.thread(post, parent=comment.no)
        out: dict[str, Any] = {
            "actor": actor,
            "agent": actor if comment.own else None,
            "commentUrn": self.comment_id(comment),
            "id": str(self._comment_no(comment)),
            "object": self.post_id(post),
            "created": {"actor": actor, "time": comment.created_ms},
            "lastModified": {"actor": actor, "time": comment.updated_ms},
            "message": {"text": comment.text, "attributes": []},
            "likesSummary": {"totalLikes": comment.no % 4, "likedByCurrentUser": False},
            "commentsSummary": {"totalFirstLevelComments": len(replies), "aggregatedTotalComments": len(replies)},
        }
        if out["agent"] is None:
            del out["agent"]
        if comment.parent is not None:
            out["parentComment"] = self.comment_id(self.model.comments[comment.parent])
        return out

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        refused = self._check_headers(req)
        if refused is not None:
            return refused
        if req.method != "GET":
            return self.error(405, f"Method {req.method} is not supported by this resource")
        if sub == "/rest/organizations":
            return self._organizations(req)
        if sub == "/rest/posts":
            return self._posts(req, base)
        if sub.startswith("/rest/posts/"):
            post = self._find_post(sub[len("/rest/posts/") :])
            if post is None:
                return self.error(404, f"Not Found: {sub[len('/rest/posts/') :]}")
            return self._ok(self._post(post))
        if sub.startswith(("/rest/images/", "/rest/videos/")):
            return self._media_entity(sub.split("/", 3)[3], base)
        if sub.startswith("/rest/socialActions/"):
            target, _, rest = sub[len("/rest/socialActions/") :].partition("/comments")
            return self._comments(target, rest.strip("/"), req, base)
        return self.error(404, f"No resource found at {sub}")

    def _check_headers(self, req: Request) -> Response | None:
        version = req.headers.get("linkedin-version")
        if not version:
            return self.error(
                400,
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                code="VERSION_MISSING",
            )
        match = _VERSION.match(version.strip())
        if match is None or not OLDEST_ACTIVE <= match.group(1) + match.group(2) <= NEWEST_ACTIVE:
            return self.error(426, f"Requested version {version.strip()} is not active")
        if req.headers.get("x-restli-protocol-version") != "2.0.0":
            return self.error(
                400, "This resource requires Rest.li protocol version 2.0.0 (X-Restli-Protocol-Version: 2.0.0)"
            )
        return None

    def _ok(self, body: dict[str, Any]) -> Response:
        return json_response(
            200,
            plain_json(body),
            content_type=CT,
            headers=[("X-RestLi-Protocol-Version", "2.0.0"), ("x-li-format", "json")],
        )

    def _int(self, req: Request, name: str, default: int) -> int | None:
        value = req.param(name)
        if value is None or value == "":
            return default
        return int(value) if value.isdigit() else None

    def _page(self, req: Request, default: int, cap: int) -> tuple[int, int] | Response:
        start, count = self._int(req, "start", 0), self._int(req, "count", default)
        if start is None or count is None:
            return self.error(400, "start and count must be non-negative integers")
        if not 1 <= count <= cap:
            return self.error(400, f"count must be between 1 and {cap}")
        return start, count

    def _paging(
        self, base: str, path: str, params: dict[str, str], start: int, count: int, total: int, with_total: bool
    ) -> dict[str, Any]:
        paging: dict[str, Any] = {"start": start, "count": count, "links": []}
        if start + count < total:
            query = urlencode({**params, "count": count, "start": start + count}, quote_via=quote)
            paging["links"].append(
                {"type": "application/json", "rel": "next", "href": f"{urlsplit(base).path}{path}?{query}"}
            )
        if with_total:
            paging["total"] = total
        return paging

    def _organizations(self, req: Request) -> Response:
        if req.param("q") != "vanityName":
            return self.error(400, "Invalid finder: only q=vanityName is supported here")
        vanity = (req.param("vanityName") or "").lower()
        elements = []
        if vanity == self.model.owner.handle.lower():
            elements.append(
                {
                    "id": self.org_id,
                    "$URN": self.org_urn,
                    "vanityName": self.model.owner.handle,
                    "localizedName": self.model.owner.name,
                    "name": {
                        "localized": {"sv_SE": self.model.owner.name},
                        "preferredLocale": {"country": "SE", "language": "sv"},
                    },
                    "primaryOrganizationType": "GOVERNMENT",
                    "locations": [],
                }
            )
        return self._ok(
            {"elements": elements, "paging": {"start": 0, "count": 10, "links": [], "total": len(elements)}}
        )

    def _posts(self, req: Request, base: str) -> Response:
        if req.param("q") != "author":
            return self.error(400, "Invalid finder: use q=author")
        if req.param("author") != self.org_urn:
            return self.error(
                403,
                f"Not enough permissions to access: posts.FINDER-author {req.param('author')}",
                code="ACCESS_DENIED",
            )
        sort = req.param("sortBy") or "LAST_MODIFIED"
        if sort not in ("LAST_MODIFIED", "CREATED"):
            return self.error(400, f"Invalid sortBy value: {sort}")
        page = self._page(req, 10, 100)
        if isinstance(page, Response):
            return page
        start, count = page
        posts = self.model.visible_posts()
        if sort == "LAST_MODIFIED":
            posts = sorted(posts, key=lambda p: (p.updated_ms, p.no), reverse=True)
        chosen = posts[start : start + count]
        params = {"author": self.org_urn, "q": "author", "sortBy": sort}
        return self._ok(
            {
                "paging": self._paging(base, "/rest/posts", params, start, count, len(posts), False),
                "elements": [self._post(p) for p in chosen],
            }
        )

    def _find_post(self, urn: str) -> Post | None:
        for post in self.model.visible_posts():
            if self.post_id(post) == urn or f"urn:li:activity:{self._number(post)}" == urn:
                return post
        return None

    def _find_comment(self, urn: str) -> Comment | None:
        for post in self.model.visible_posts():
            for c in self.model.thread(post):
                if self.comment_id(c) == urn:
                    return c
        return None

    def _media_entity(self, urn: str, base: str) -> Response:
        for post in self.model.visible_posts():
            for m in post.media:
                if self._media_urn(m) == urn:
                    body: dict[str, Any] = {
                        "id": urn,
                        "owner": self.org_urn,
                        "status": "AVAILABLE",
                        "downloadUrl": self.media_url(base, m),
                        "downloadUrlExpiresAt": self.model.clock.now_ms() + 3_600_000,
                    }
                    if m.kind == "video":
                        body["duration"] = 31_000
                    return self._ok(body)
        return self.error(404, f"Not Found: {urn}")

    def _comments(self, target: str, one: str, req: Request, base: str) -> Response:
        post = self._find_post(target)
        parent = None if post is not None else self._find_comment(target)
        if post is None and parent is None:
            return self.error(404, f"Not Found: {target}")
        if parent is not None:
            post = self.model.post(parent.post)
        assert post is not None
        if one:
            for c in self.model.thread(post):
                if str(self._comment_no(c)) == one:
                    return self._ok(self._comment(c))
            return self.error(404, f"Not Found: comment {one}")
        page = self._page(req, 10, 100)
        if isinstance(page, Response):
            return page
        start, count = page
        comments = self.model.thread(post, parent=None if parent is None else parent.no)
        return self._ok(
            {
                "paging": self._paging(
                    base,
                    f"/rest/socialActions/{quote(target, safe='')}/comments",
                    {},
                    start,
                    count,
                    len(comments),
                    True,
                ),
                "elements": [self._comment(c) for c in comments[start : start + count]],
            }
        )

    def error(self, status: int, message: str, *, retry_after: int | None = None, code: str | None = None) -> Response:
        body: dict[str, Any] = {"status": status}
        if status in _SERVICE_CODES:
            body["serviceErrorCode"] = _SERVICE_CODES[status]
        body.update({"code": code or _CODES.get(status, "ERROR"), "message": message})
        if status == 401:
            body["message"] = "Invalid access token"
        headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
        return json_response(status, plain_json(body), content_type=CT, headers=headers)
