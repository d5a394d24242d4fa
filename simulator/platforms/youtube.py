"""YouTube: the Data API v3 (``{base}/yt`` stands for ``https://www.googleapis.com/youtube/v3``).

Faithful points (developers.google.com/youtube/v3/docs: channels, playlistItems, videos,
commentThreads, comments, errors):
- ``key=`` carries the API key (an OAuth ``Authorization: Bearer`` token also works). Without a
  credential: 403 ``forbidden`` ("The request is missing a valid API key."); with a wrong one: 400
  ``badRequest`` ("API key not valid. Please pass a valid API key.").
- ``part`` is required and picks the resource parts sent (``id`` is always there).
- ``channels?forHandle=@name`` (or ``id=UC…``) → ``contentDetails.relatedPlaylists.uploads``
  (``UU`` + the channel id's tail); an unknown handle is a 200 without ``items``.
- ``playlistItems?playlistId=UU…``: newest upload first, ``maxResults`` 0–50 (default 5),
  ``pageToken`` (position-based, like Google's ``CAUQAA``); the uploads playlist of a channel
  without public videos answers 404 ``playlistNotFound``, as YouTube does.
- ``videos?id=a,b`` (≤ 50): deleted videos are simply absent from ``items``. A video's title is
  ``snippet.title``, its text ``snippet.description``; ``statistics`` counts are strings;
  ``statistics.commentCount`` counts every public comment and reply.
- ``commentThreads?videoId=`` (or ``allThreadsRelatedToChannelId=``, or ``id=``): ``maxResults``
  1–100 (default 20), ``order=time`` (newest thread first; the default) or ``relevance``,
  ``textFormat=html`` (default) or ``plainText``; ``replies.comments`` holds at most 5 replies, the
  rest only through ``comments?parentId=`` (oldest first, ``maxResults`` 1–100, default 20).
  ``comments?id=`` looks comments up; deleted ones are absent.
- Comment ``updatedAt`` later than ``publishedAt`` means edited. Timestamps ``2024-05-02T08:15:30Z``.
- A comment listed by ``comments`` (``parentId=`` or ``id=``) carries no ``videoId`` and no
  ``channelId``, as the real answers recorded by python-youtube show (the discovery document makes
  both optional); a thread's comments (``commentThreads``) carry ``videoId``.
- Errors use Google's envelope ``{"error":{"code","message","errors":[{"message","domain","reason"}],
  "status"}}``: ``quotaExceeded`` (403), ``rateLimitExceeded`` (an injected 429 fault, with
  ``Retry-After`` set to the fault's ``retry_after``), ``backendError`` (5xx), ``videoNotFound``,
  ``playlistNotFound``, ``invalidPageToken``, ``commentsDisabled``.
- Thumbnails are served at ``{base}/vi/{videoId}/{default|mqdefault|hqdefault|sddefault|
  maxresdefault}.jpg`` (i.ytimg.com's layout), without a key.

Decisions where the docs are silent (or the model is richer than YouTube allows):
- Every model post is a video; the model's media files are not exposed (the Data API never
  serves video files, and a video has no image attachments): the thumbnails are generated JPEGs.
- YouTube threads are two levels deep: a reply to a reply belongs to the top comment's thread
  (``parentId`` is the thread id), and its id is ``{threadId}.{suffix}``.
- Comments held for review or hidden by the channel are absent everywhere, like deleted ones.
- Quota: every list call costs 1 unit; ``daily_quota`` (None = unlimited, the default, so big
  benchmark worlds are not cut off) turns on 403 ``quotaExceeded`` per Pacific day (UTC−8).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..clock import to_datetime
from ..httpcore import Request, Response, json_response
from ..media import image
from ..social import Comment, Person, Post
from .base import PlatformApp, plain_json

CT = "application/json; charset=UTF-8"
PACIFIC_MS = 8 * 3_600_000
EMBEDDED_REPLIES = 5
THUMBS = {
    "default": ("default", 120, 90),
    "medium": ("mqdefault", 320, 180),
    "high": ("hqdefault", 480, 360),
    "standard": ("sddefault", 640, 480),
    "maxres": ("maxresdefault", 1280, 720),
}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "UNAVAILABLE",
}


def yt_time(ms: int) -> str:
    """``2024-05-02T08:15:30Z``."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64id(*parts: object, length: int) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def _token(offset: int) -> str:
    """A page token as Google writes them: protobuf ``08 <varint offset> 10 00``, base64url."""
    raw = bytearray(b"\x08")
    value = offset
    while True:
        byte = value & 0x7F
        value >>= 7
        raw.append(byte | (0x80 if value else 0))
        if not value:
            break
    raw += b"\x10\x00"
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def _offset(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    if len(raw) < 4 or raw[0] != 0x08 or raw[-2:] != b"\x10\x00":
        return None
    value, shift = 0, 0
    for byte in raw[1:-2]:
        value |= (byte & 0x7F) << shift
        shift += 7
    return value


class _ApiError(Exception):
    def __init__(
        self, status: int, reason: str, message: str, domain: str = "youtube.parameter", location: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.domain, self.location = status, reason, message, domain, location


class App(PlatformApp):
    name = "youtube"
    prefix = "/yt"
    token_params = ("key",)
    daily_quota: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._units: dict[int, int] = {}

    # ---- ids ----------------------------------------------------------------------------------
    def _channel_id(self, person: Person) -> str:
        return "UC" + _b64id(self.model.seed, "yt-channel", person.no, person.handle, length=22)

    def _uploads(self) -> str:
        return "UU" + self._channel_id(self.model.owner)[2:]

    def post_id(self, post: Post) -> str:
        return _b64id(self.model.seed, "yt-video", post.no, length=11)

    def comment_id(self, comment: Comment) -> str:
        top = self._top(comment)
        own = "Ugz" + _b64id(self.model.seed, "yt-comment", top.no, length=16) + "4AaABAg"
        if top is comment:
            return own
        return f"{own}.{_b64id(self.model.seed, 'yt-reply', comment.no, length=22)}"

    def _top(self, comment: Comment) -> Comment:
        while comment.parent is not None:
            comment = self.model.comments[comment.parent]
        return comment

    def _etag(self, *parts: object) -> str:
        return _b64id(self.model.seed, *parts, length=27)

    # ---- the credential and thumbnails ---------------------------------------------------------
    def handle(self, sub: str, req: Request, base: str) -> Response:
        if sub.startswith("/vi/"):
            return self._thumbnail(sub)
        if sub.startswith("/media/"):
            return super().handle(sub, req, base)
        token = self.model.token
        if token is not None:
            given = self._credential(req)
            if given is None:
                return self._google(403, "forbidden", "The request is missing a valid API key.", "global")
            if given != token:
                return self._google(400, "badRequest", "API key not valid. Please pass a valid API key.", "global")
        if self.daily_quota is not None:
            day = (self.model.clock.now_ms() - PACIFIC_MS) // 86_400_000
            used = self._units.get(day, 0)
            if used >= self.daily_quota:
                return self._google(
                    403,
                    "quotaExceeded",
                    "The request cannot be completed because you have exceeded "
                    'your <a href="/youtube/v3/getting-started#quota">quota</a>.',
                    "youtube.quota",
                )
            self._units[day] = used + 1
        return self.route(sub, req, base)

    def _thumbnail(self, sub: str) -> Response:
        parts = sub.split("/")
        names = {name: (w, h) for name, w, h in THUMBS.values()}
        if len(parts) == 4 and parts[3].endswith(".jpg") and parts[3][:-4] in names:
            post = self._video(parts[2])
            if post is not None:
                w, h = names[parts[3][:-4]]
                # Drawn at most 160×120 whatever size is declared: the pure-Python JPEG encoder
                # takes ~50 ms for a 1280×720 frame, which would make the simulator the benchmark.
                blob = image("jpeg", min(w, 160), min(h, 120), post.no * 8 + list(names).index(parts[3][:-4]))
                return Response(
                    200,
                    headers=[("Content-Type", blob.content_type), ("Cache-Control", "public, max-age=7200")],
                    chunks=blob.chunks(),
                    length=blob.length,
                )
        return Response(404, b"Not Found", [("Content-Type", "text/html; charset=UTF-8")])

    # ---- errors -------------------------------------------------------------------------------
    def _google(
        self,
        status: int,
        reason: str,
        message: str,
        domain: str = "global",
        *,
        location: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        detail: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
        if location:
            detail.update({"locationType": "parameter", "location": location})
        body = {
            "error": {"code": status, "message": message, "errors": [detail], "status": _STATUS.get(status, "UNKNOWN")}
        }
        return json_response(status, plain_json(body), content_type=CT, headers=headers)

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        if status == 429:
            return self._google(
                429,
                "rateLimitExceeded",
                "The request cannot be completed because you have exceeded a rate limit. Retry later.",
                "usageLimits",
                headers=[("Retry-After", str(retry_after if retry_after is not None else 30))],
            )
        if status >= 500:
            return self._google(status, "backendError", "Backend Error", "global")
        if status == 401:
            return self._google(401, "authError", "Invalid Credentials", "global")
        return self._google(status, "badRequest", message, "global")

    # ---- rendering ----------------------------------------------------------------------------
    def _thumbnails(self, base: str, video_id: str) -> dict[str, Any]:
        return {
            key: {"url": f"{base}/vi/{video_id}/{name}.jpg", "width": w, "height": h}
            for key, (name, w, h) in THUMBS.items()
        }

    def _parts(self, req: Request) -> set[str]:
        parts = set(req.params("part"))
        if not parts:
            raise _ApiError(400, "required", "No filter selected. Expected one of: …", "global", "part")
        return parts

    def _pick(self, full: dict[str, Any], parts: set[str]) -> dict[str, Any]:
        return {k: v for k, v in full.items() if k in ("kind", "etag", "id") or k in parts}

    def _list(
        self,
        kind: str,
        items: list[dict[str, Any]],
        total: int,
        per_page: int,
        next_token: str | None = None,
        prev_token: str | None = None,
    ) -> Response:
        body: dict[str, Any] = {"kind": f"youtube#{kind}ListResponse", "etag": self._etag(kind, total, len(items))}
        if next_token:
            body["nextPageToken"] = next_token
        if prev_token:
            body["prevPageToken"] = prev_token
        body["pageInfo"] = {"totalResults": total, "resultsPerPage": per_page}
        if items or kind not in ("channel",):
            body["items"] = items
        return json_response(200, plain_json(body), content_type=CT)

    def _channel(self, parts: set[str], base: str) -> dict[str, Any]:
        owner = self.model.owner
        cid = self._channel_id(owner)
        videos = self.model.visible_posts()
        full = {
            "kind": "youtube#channel",
            "etag": self._etag("channel", len(videos)),
            "id": cid,
            "snippet": {
                "title": owner.name,
                "description": f"Officiell kanal för {owner.name}.",
                "customUrl": f"@{owner.handle}",
                "publishedAt": "2012-03-14T09:00:00Z",
                "thumbnails": {},
                "defaultLanguage": "sv",
                "country": "SE",
                "localized": {"title": owner.name, "description": f"Officiell kanal för {owner.name}."},
            },
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": self._uploads()}},
            "statistics": {
                "viewCount": str(sum(100 + p.no * 13 for p in videos)),
                "subscriberCount": "1200",
                "hiddenSubscriberCount": False,
                "videoCount": str(self.model.published_total(len(videos))),
            },
            "status": {
                "privacyStatus": "public",
                "isLinked": True,
                "longUploadsStatus": "allowed",
                "madeForKids": False,
            },
        }
        return self._pick(full, parts)

    def _snippet(self, post: Post, base: str) -> dict[str, Any]:
        vid = self.post_id(post)
        return {
            "publishedAt": yt_time(post.created_ms),
            "channelId": self._channel_id(self.model.owner),
            "title": post.title or "",
            "description": post.text,
            "thumbnails": self._thumbnails(base, vid),
            "channelTitle": self.model.owner.name,
        }

    def _playlist_item(self, post: Post, position: int, parts: set[str], base: str) -> dict[str, Any]:
        vid = self.post_id(post)
        snippet: dict[str, Any] = {
            **self._snippet(post, base),
            "playlistId": self._uploads(),
            "position": position,
            "resourceId": {"kind": "youtube#video", "videoId": vid},
            "videoOwnerChannelTitle": self.model.owner.name,
            "videoOwnerChannelId": self._channel_id(self.model.owner),
        }
        if post.corrupt:
            snippet = {"publishedAt": 1714637730, "title": None, "resourceId": {"kind": "youtube#video"}}
        full = {
            "kind": "youtube#playlistItem",
            "etag": self._etag("pli", post.no, len(post.versions)),
            "id": _b64id(self.model.seed, "yt-pli", post.no, length=48),
            "snippet": snippet,
            "contentDetails": {"videoId": vid, "videoPublishedAt": yt_time(post.created_ms)},
            "status": {"privacyStatus": "public"},
        }
        return self._pick(full, parts)

    def _video_resource(self, post: Post, parts: set[str], base: str) -> dict[str, Any]:
        vid = self.post_id(post)
        comments = self.model.published_comments(post, len(self.model.thread(post)))  # as published
        snippet: dict[str, Any] = {
            **self._snippet(post, base),
            "tags": [],
            "categoryId": "25",
            "liveBroadcastContent": "none",
            "defaultLanguage": "sv",
            "localized": {"title": post.title or "", "description": post.text},
            "defaultAudioLanguage": "sv",
        }
        if post.corrupt:  # malformed: required fields missing or of the wrong type
            snippet = {"title": 42, "channelId": self._channel_id(self.model.owner), "localized": "broken"}
        full = {
            "kind": "youtube#video",
            "etag": self._etag("video", post.no, len(post.versions), comments),
            "id": vid,
            "snippet": snippet,
            "contentDetails": {
                "duration": f"PT{1 + post.no % 9}M{post.no % 60}S",
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
                "licensedContent": False,
                "contentRating": {},
                "projection": "rectangular",
            },
            "statistics": {
                "viewCount": str(100 + post.no * 13),
                "likeCount": str(post.no % 41),
                "favoriteCount": "0",
                "commentCount": str(comments),
            },
            "status": {
                "uploadStatus": "processed",
                "privacyStatus": "public",
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": False,
            },
        }
        return self._pick(full, parts)

    def _comment(self, c: Comment, html: bool, *, in_thread: bool = True) -> dict[str, Any]:
        """A comment resource; ``in_thread`` False for the ``comments`` endpoint, whose answers name no video."""
        post = self.model.post(c.post)
        assert post is not None
        author = c.author
        text = c.text
        display = text
        if html:
            display = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
        snippet: dict[str, Any] = (
            {
                "channelId": self._channel_id(self.model.owner),
                "videoId": self.post_id(post),
                "textDisplay": display,
                "textOriginal": text,
            }
            if in_thread
            else {"textDisplay": display, "textOriginal": text}
        )
        if c.parent is not None:
            snippet["parentId"] = self.comment_id(self._top(c))
        snippet.update(
            {
                "authorDisplayName": f"@{author.handle}",
                "authorProfileImageUrl": f"https://yt3.ggpht.example/{self._channel_id(author)}=s48",
                "authorChannelUrl": f"http://www.youtube.com/@{author.handle}",
                "authorChannelId": {"value": self._channel_id(author)},
                "canRate": True,
                "viewerRating": "none",
                "likeCount": c.no % 5,
                "publishedAt": yt_time(c.created_ms),
                "updatedAt": yt_time(c.updated_ms),
            }
        )
        return {
            "kind": "youtube#comment",
            "etag": self._etag("comment", c.no, len(c.versions)),
            "id": self.comment_id(c),
            "snippet": snippet,
        }

    def _replies_of(self, top: Comment) -> list[Comment]:
        post = self.model.post(top.post)
        assert post is not None
        return [c for c in self.model.thread(post) if c.parent is not None and self._top(c) is top]

    def _thread(self, top: Comment, parts: set[str], html: bool) -> dict[str, Any]:
        replies = self._replies_of(top)
        post = self.model.post(top.post)
        assert post is not None
        full: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": self._etag("thread", top.no, len(replies)),
            "id": self.comment_id(top),
            "snippet": {
                "channelId": self._channel_id(self.model.owner),
                "videoId": self.post_id(post),
                "topLevelComment": self._comment(top, html),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            },
        }
        if replies:
            full["replies"] = {"comments": [self._comment(c, html) for c in replies[:EMBEDDED_REPLIES]]}
        return self._pick(full, parts)

    # ---- lookups ------------------------------------------------------------------------------
    def _video(self, video_id: str) -> Post | None:
        for post in self.model.visible_posts():
            if self.post_id(post) == video_id:
                return post
        return None

    def _visible_comment(self, comment_id: str) -> Comment | None:
        for post in self.model.visible_posts():
            for c in self.model.thread(post):
                if self.comment_id(c) == comment_id:
                    return c
        return None

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        resource = sub.strip("/")
        try:
            if resource == "channels":
                return self._channels(req, base)
            if resource == "playlistItems":
                return self._playlist_items(req, base)
            if resource == "videos":
                return self._videos(req, base)
            if resource == "commentThreads":
                return self._comment_threads(req)
            if resource == "comments":
                return self._comments(req)
        except _ApiError as exc:
            return self._google(exc.status, exc.reason, exc.message, exc.domain, location=exc.location)
        return json_response(404, b"Not Found", content_type="text/html; charset=UTF-8")

    def _max_results(self, req: Request, low: int, high: int, default: int) -> int:
        raw = req.param("maxResults")
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise _ApiError(
                400,
                "invalidParameter",
                f"Invalid value '{raw}'. Values must be within the range: [{low}, {high}]",
                "youtube.parameter",
                "maxResults",
            )
        return int(raw)

    def _paged(self, rows: list[Any], req: Request, per_page: int) -> tuple[list[Any], str | None, str | None]:
        token = req.param("pageToken")
        start = 0
        if token:
            found = _offset(token)
            if found is None:
                raise _ApiError(
                    400,
                    "invalidPageToken",
                    "The request specifies an invalid page token.",
                    "youtube.parameter",
                    "pageToken",
                )
            start = found
        page = rows[start : start + per_page]
        nxt = _token(start + per_page) if start + per_page < len(rows) else None
        prev = _token(max(start - per_page, 0)) if start > 0 else None
        return page, nxt, prev

    def _channels(self, req: Request, base: str) -> Response:
        parts = self._parts(req)
        handle = (req.param("forHandle") or "").lstrip("@").lower()
        ids = req.params("id")
        owner = self.model.owner
        hit = (handle and handle == owner.handle.lower()) or self._channel_id(owner) in ids
        items = [self._channel(parts, base)] if hit else []
        return self._list("channel", items, len(items), 5)

    def _playlist_items(self, req: Request, base: str) -> Response:
        parts = self._parts(req)
        per_page = self._max_results(req, 0, 50, 5)
        videos = self.model.visible_posts()
        if req.param("playlistId") != self._uploads() or not videos:
            raise _ApiError(
                404,
                "playlistNotFound",
                "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
                "youtube.playlistItem",
                "playlistId",
            )
        page, nxt, prev = self._paged(list(enumerate(videos)), req, per_page)
        items = [self._playlist_item(post, position, parts, base) for position, post in page]
        return self._list("playlistItem", items, len(videos), per_page, nxt, prev)

    def _videos(self, req: Request, base: str) -> Response:
        parts = self._parts(req)
        ids = req.params("id")
        if not ids:
            raise _ApiError(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: id, chart, myRating",
                "youtube.parameter",
                "parameters",
            )
        if len(ids) > 50:
            raise _ApiError(
                400, "invalidParameter", "The request specifies an invalid filter parameter.", "youtube.parameter", "id"
            )
        found = [p for p in (self._video(i) for i in ids) if p is not None]
        items = [self._video_resource(p, parts, base) for p in found]
        return self._list("video", items, len(items), len(items))

    def _comment_threads(self, req: Request) -> Response:
        parts = self._parts(req)
        html = (req.param("textFormat") or "html") != "plainText"
        if req.param("id") is not None:
            wanted = req.params("id")
            tops = [c for c in (self._visible_comment(i) for i in wanted) if c is not None and c.parent is None]
            items = [self._thread(c, parts, html) for c in tops]
            return self._list("commentThread", items, len(items), len(items))
        per_page = self._max_results(req, 1, 100, 20)
        video_id, channel_id = req.param("videoId"), req.param("allThreadsRelatedToChannelId")
        if video_id is not None:
            post = self._video(video_id)
            if post is None:
                raise _ApiError(
                    404,
                    "videoNotFound",
                    'The video identified by the <code><a href="/youtube/v3/docs/'
                    'commentThreads/list#videoId">videoId</a></code> parameter could not be found.',
                    "youtube.commentThread",
                    "videoId",
                )
            posts = [post]
        elif channel_id is not None:
            if channel_id != self._channel_id(self.model.owner):
                raise _ApiError(
                    404,
                    "channelNotFound",
                    "The channel identified by the <code>channelId</code> parameter could not be found.",
                    "youtube.commentThread",
                    "channelId",
                )
            posts = self.model.visible_posts()
        else:
            raise _ApiError(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: allThreadsRelatedToChannelId, id, videoId, channelId",
                "youtube.parameter",
                "parameters",
            )
        tops = [c for p in posts for c in self.model.thread(p, parent=None)]
        if (req.param("order") or "time") == "relevance":
            tops.sort(key=lambda c: (len(self._replies_of(c)), c.no % 5, c.created_ms), reverse=True)
        else:
            tops.sort(key=lambda c: (c.created_ms, c.no), reverse=True)
        page, nxt, _ = self._paged(tops, req, per_page)
        items = [self._thread(c, parts, html) for c in page]
        return self._list("commentThread", items, len(tops), per_page, nxt)

    def _comments(self, req: Request) -> Response:
        self._parts(req)
        html = (req.param("textFormat") or "html") != "plainText"
        if req.param("id") is not None:
            found = [c for c in (self._visible_comment(i) for i in req.params("id")) if c is not None]
            items = [self._comment(c, html, in_thread=False) for c in found]
            return self._list("comment", items, len(items), len(items))
        parent_id = req.param("parentId")
        if parent_id is None:
            raise _ApiError(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: id, parentId",
                "youtube.parameter",
                "parameters",
            )
        per_page = self._max_results(req, 1, 100, 20)
        top = self._visible_comment(parent_id)
        if top is None or top.parent is not None:
            raise _ApiError(
                404,
                "commentNotFound",
                "The comment identified by the <code>parentId</code> parameter could not be found.",
                "youtube.comment",
                "parentId",
            )
        replies = self._replies_of(top)
        page, nxt, _ = self._paged(replies, req, per_page)
        return self._list(
            "comment", [self._comment(c, html, in_thread=False) for c in page], len(replies), per_page, nxt
        )
