"""TikTok: the Display API v2 (``{base}/tt`` stands for ``https://open.tiktokapis.com``).

Faithful points (developers.tiktok.com: display-api-overview, video list/query, user info, rate
limits):
- ``POST /v2/video/list/?fields=…`` with the JSON body ``{"max_count":1–20,"cursor":…}`` lists the
  token owner's videos newest first; ``cursor`` is an epoch-milliseconds instant (videos created
  before it); the answer is ``{"data":{"videos":[…],"cursor":…,"has_more":…},"error":{…}}``.
- ``POST /v2/video/query/?fields=…`` with ``{"filters":{"video_ids":[…]}}`` (at most 20) returns the
  videos that still exist; deleted ones are simply absent.
- ``GET /v2/user/info/?fields=open_id,union_id,avatar_url,display_name,username,…`` for the probe.
- Every answer has ``error{code,message,log_id}``, ``code`` ``"ok"`` on success; errors
  ``access_token_invalid`` (401), ``invalid_params`` (400), ``rate_limit_exceeded`` (429),
  ``internal_error`` (5xx). An injected 429 also carries ``Retry-After`` with the fault's value
  (decision: TikTok documents no wait header; without it a client backs off).
- Only the fields asked for in ``fields`` are returned (``id`` always); an unknown field is
  ``invalid_params``. ``create_time`` is epoch seconds; ids are 19 digits with the creation second
  in the upper 32 bits, as TikTok's. The post's text is ``video_description``; ``title`` is the
  model's short title.
- Media: the Display API exposes no video file, only ``cover_image_url`` (a signed CDN URL with a
  6-hour life on TikTok; stable here). Every video has exactly one cover, served at
  ``{base}/media/cover/{no}.jpeg``; the ground truth lists that cover as the post's only media,
  because it is all the API lets anyone archive (the model's images and video files are not
  reachable through this API).
- The Display API has no comments endpoint, so none is served (comments are Research API only).
- Token: a user access token (``act.…``) in ``Authorization: Bearer`` only.
- A corrupt video keeps its ``id`` but has a string ``create_time`` and a numeric
  ``video_description``.
"""

from __future__ import annotations

import json
from typing import Any

from ..clock import to_datetime
from ..httpcore import Request, Response, json_response
from ..media import image
from ..rand import mix
from ..social import Post
from .base import PlatformApp, plain_json

CT = "application/json; charset=UTF-8"
FIELDS = (
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
)
USER_FIELDS = (
    "open_id",
    "union_id",
    "avatar_url",
    "avatar_url_100",
    "avatar_large_url",
    "display_name",
    "bio_description",
    "profile_deep_link",
    "is_verified",
    "username",
    "follower_count",
    "following_count",
    "likes_count",
    "video_count",
)
_CODES = {
    400: "invalid_params",
    401: "access_token_invalid",
    403: "scope_not_authorized",
    404: "invalid_params",
    405: "invalid_params",
    429: "rate_limit_exceeded",
}


class App(PlatformApp):
    name = "tiktok"
    prefix = "/tt"
    token_params = ()  # user access tokens go in `Authorization: Bearer` only

    def post_id(self, post: Post) -> str:
        return str(((post.created_ms // 1000) << 32) | (mix(self.model.seed, "tiktok", post.no) & 0xFFFFFFFF))

    def cover_url(self, base: str, post: Post) -> str:
        return f"{base}/media/cover/{post.no}.jpeg"

    @property
    def open_id(self) -> str:
        return f"-000{mix(self.model.seed, 'tiktok-open-id') % 10**12:012d}-{self.model.owner.handle[:4]}"

    # ---- shared behaviour overrides -----------------------------------------------------------
    def handle(self, sub: str, req: Request, base: str) -> Response:
        if sub.startswith("/media/cover/"):
            stem = sub[len("/media/cover/") :].split(".", 1)[0]
            post = self.model.post(int(stem)) if stem.isdigit() else None
            if post is None or post.deleted_ms is not None:
                return Response(404, b"Not Found", [("Content-Type", "text/plain")])
            blob = image("jpeg", 64, 48, mix(self.model.seed, "tiktok-cover", post.no))
            return Response(
                200,
                headers=[("Content-Type", blob.content_type), ("Cache-Control", "max-age=21600")],
                chunks=blob.chunks(),
                length=blob.length,
            )
        return super().handle(sub, req, base)

    def truth(self, base: str) -> dict[str, Any]:
        out = super().truth(base)
        for row in out["items"]:
            if row["kind"] == "post":
                post = self.model.post(row["no"])
                assert post is not None
                row["media"] = [{"url": self.cover_url(base, post), "kind": "image", "oversized": False}]
        return out

    # ---- rendering ----------------------------------------------------------------------------
    def _video(self, base: str, post: Post, fields: list[str]) -> dict[str, Any]:
        vid = self.post_id(post)
        if post.corrupt:
            return {"id": vid, "create_time": "igår", "video_description": post.no}
        share = f"https://www.tiktok.com/@{self.model.owner.handle}/video/{vid}"
        full: dict[str, Any] = {
            "id": vid,
            "create_time": post.created_ms // 1000,
            "cover_image_url": self.cover_url(base, post),
            "share_url": share,
            "video_description": post.text,
            "duration": 15 + post.no % 45,
            "height": 1024,
            "width": 576,
            "title": post.title or "",
            "embed_html": f'<blockquote class="tiktok-embed" cite="{share}" data-video-id="{vid}"></blockquote>',
            "embed_link": f"https://www.tiktok.com/player/v1/{vid}",
            "like_count": post.no * 7 % 900,
            "comment_count": len(self.model.thread(post)),
            "share_count": post.no % 13,
            "view_count": 100 + post.no * 37 % 5000,
        }
        return {k: v for k, v in full.items() if k == "id" or k in fields}

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        path = sub.rstrip("/") + "/"
        fields = req.params("fields")
        if path == "/v2/user/info/":
            if req.method != "GET":
                return self.error(405, "Method not allowed")
            unknown = [f for f in fields if f not in USER_FIELDS]
            if not fields or unknown:
                return self.error(400, f"Invalid fields: {','.join(unknown) or '(none given)'}")
            user = {
                "open_id": self.open_id,
                "union_id": self.open_id.replace("-000", "-001"),
                "avatar_url": "",
                "avatar_url_100": "",
                "avatar_large_url": "",
                "display_name": self.model.owner.name,
                "bio_description": "",
                "profile_deep_link": f"https://vm.tiktok.com/{self.model.owner.handle}/",
                "is_verified": True,
                "username": self.model.owner.handle,
                "follower_count": 1200,
                "following_count": 12,
                "likes_count": 9000,
                "video_count": len(self.model.visible_posts()),
            }
            return self._ok({"user": {k: v for k, v in user.items() if k in fields}})
        if path not in ("/v2/video/list/", "/v2/video/query/"):
            return self.error(404, f"Unsupported path {sub}")
        if req.method != "POST":
            return self.error(405, "Method not allowed: use POST")
        unknown = [f for f in fields if f not in FIELDS]
        if not fields or unknown:
            return self.error(400, f"Invalid fields: {','.join(unknown) or '(none given)'}")
        try:
            body = json.loads(req.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as exc:
            return self.error(400, f"Invalid request body: {exc}")
        if path == "/v2/video/query/":
            ids = (body.get("filters") or {}).get("video_ids") if isinstance(body.get("filters"), dict) else None
            if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
                return self.error(400, "filters.video_ids must hold 1 to 20 video ids")
            wanted = {str(i) for i in ids}
            videos = [self._video(base, p, fields) for p in self.model.visible_posts() if self.post_id(p) in wanted]
            return self._ok({"videos": videos, "cursor": 0, "has_more": False})
        max_count = body.get("max_count", 10)
        cursor = body.get("cursor")
        if isinstance(max_count, bool) or not isinstance(max_count, int) or not 1 <= max_count <= 20:
            return self.error(400, "max_count must be between 1 and 20")
        if cursor is not None and (isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0):
            return self.error(400, "cursor must be an epoch-milliseconds integer")
        posts = self.model.visible_posts()
        if cursor:
            posts = [p for p in posts if p.created_ms < cursor]
        page = posts[:max_count]
        next_cursor = page[-1].created_ms if page else (cursor or 0)
        return self._ok(
            {
                "videos": [self._video(base, p, fields) for p in page],
                "cursor": next_cursor,
                "has_more": len(posts) > max_count,
            }
        )

    def _log_id(self) -> str:
        """``YYYYMMDDHHMMSS`` + 18 hex digits, as TikTok's; the simulator counts its answers."""
        now = self.model.clock.now_ms()
        self._answers = getattr(self, "_answers", 0) + 1
        return to_datetime(now).strftime("%Y%m%d%H%M%S") + f"{mix('tt-log', now, self._answers) % 16**18:018X}"

    def _ok(self, data: dict[str, Any]) -> Response:
        return json_response(
            200,
            plain_json({"data": data, "error": {"code": "ok", "message": "", "log_id": self._log_id()}}),
            content_type=CT,
        )

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        code = _CODES.get(status, "internal_error" if status >= 500 else "invalid_params")
        if status == 401:
            message = "The access token is invalid or not found in the request."
        headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
        body = {"data": {}, "error": {"code": code, "message": message, "log_id": self._log_id()}}
        return json_response(status, plain_json(body), content_type=CT, headers=headers)
