"""TikTok through the Display API: the videos of the account whose user token we hold.

The Display API lists only the token owner's videos (`POST /v2/video/list/`, newest first, 20 a
page, an epoch-milliseconds `cursor` and `has_more`); the account's `handle` names the account
for people and permalinks, and the token decides whose videos are read. Walking stops once past
both the newest `create_time` seen before and the look-back window, except on a sweep run, which
reads the whole list. The post's text is `video_description`; `title` goes in the record's title.

TikTok exposes no edit marker: a video is built again only when its description or title
differs from the last run's (kept as a marker), so the cover URL, which TikTok signs anew every
few hours, does not make an unchanged video look edited. Deleted (or made private) videos drop
out of the list; a known one missing is asked for with `POST /v2/video/query/`: absent means gone.

What the Display API cannot give: comments (no endpoint; only the Research API, for approved
researchers, has one) and the video file (only `cover_image_url`, the cover image, which is
archived as the video's media).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from schemas import Author, CaptureBundle, Direction, Kind, KnownItem, MediaRef, Platform, Record

from ..bundles import Rejected
from ..errors import PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext
from .http import Fetched
from .listing import page_bundles, rejected_page
from .text import hashtags
from .times import epoch
from .walk import Walk, epoch_or_none

FIELDS = (
    "id,title,video_description,create_time,cover_image_url,share_url,embed_link,duration,height,width,"
    "like_count,comment_count,share_count,view_count"
)
MAX_COUNT = 20


def _marker(video: dict[str, Any]) -> str:
    content = json.dumps([video.get("video_description"), video.get("title")], ensure_ascii=False)
    # surrogatepass: a lone surrogate in a title (the item is quarantined later) must not stop the walk
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class TikTokConnector(BaseConnector):
    platform = Platform.TIKTOK.value
    capabilities = Capabilities(
        posts="the account's videos (Display API `video/list`: only the account that granted the token)",
        comments="no: the Display API has no comments endpoint (TikTok's Research API has one, for approved "
        "researchers only)",
        edits="changed video descriptions and titles (TikTok shows no edit marker; the text is compared)",
        deletions="videos inside the window: tombstone (absent from `video/query`); a video made private looks "
        "the same as a deleted one",
        media="the cover image of each video; the video file itself is not exposed by the Display API",
        old_post_comments="no: comments cannot be read",
        credentials="a user access token with the video.list and user.info.basic scopes, granted by the "
        "municipality's own TikTok login",
        counts="none read: the Display API's `comment_count` counts comments it cannot list",
        moderation="no: the Display API has no comments, filters or blocked accounts",
        finds_comments=False,
        finds_replies=False,
        finds_comment_deletions=False,
        finds_old_post_comments=False,
    )

    def _v2(self, ctx: HarvestContext, path: str) -> str:
        return self.api(ctx, f"/v2/{path}/", "the API root, https://open.tiktokapis.com")

    @staticmethod
    def _data(fetched: Fetched) -> dict[str, Any]:
        """`data` of an answer whose `error.code` is "ok"; PayloadInvalid otherwise."""
        body = fetched.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise PayloadInvalid(f"{fetched.capture.url}: no `data` object")
        error = body.get("error") or {}
        if not isinstance(error, dict) or error.get("code") != "ok":
            raise PayloadInvalid(f"{fetched.capture.url}: error {error!r}")
        data: dict[str, Any] = body["data"]
        return data

    def probe(self, ctx: HarvestContext) -> str:
        fetched = ctx.fetcher.get(self._v2(ctx, "user/info"), params={"fields": "open_id,display_name"})
        user = self._data(fetched)["user"]
        return f"{user.get('display_name')} (open_id {user.get('open_id')}; handle {ctx.account.handle})"

    # ---- records ------------------------------------------------------------------------------
    def _record(self, ctx: HarvestContext, video: dict[str, Any], fetched: Fetched) -> Record:
        vid = str(video["id"])
        text = video["video_description"]
        created = video["create_time"]
        if not isinstance(text, str):
            raise TypeError("video_description is not a string")
        if isinstance(created, bool) or not isinstance(created, int):
            raise TypeError("create_time is not epoch seconds")
        handle = ctx.account.handle.lstrip("@")
        cover = video.get("cover_image_url")
        return Record(
            platform=Platform.TIKTOK,
            account=ctx.account.id,
            item_id=vid,
            kind=Kind.POST,
            thread_id=vid,
            author=Author(handle=handle, name=ctx.account.display_name, url=f"https://www.tiktok.com/@{handle}"),
            direction=Direction.UPPRATTAD,
            title=video.get("title") or None,
            text=text,
            url=video.get("share_url") or f"https://www.tiktok.com/@{handle}/video/{vid}",
            hashtags=hashtags(text),
            media=[MediaRef(url=str(cover), content_type="image/*", description="cover image")] if cover else [],
            published_at=epoch(created),
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=video,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        before = ctx.state.cursor.get("newest", "")
        walk: Walk[int] = Walk(ctx, int(before) if before.isdigit() else None)
        cursor: int | None = None
        while True:
            request: dict[str, Any] = {"max_count": MAX_COUNT, **({"cursor": cursor} if cursor else {})}
            fetched = ctx.fetcher.post(self._v2(ctx, "video/list"), json_body=request, params={"fields": FIELDS})
            try:
                data = self._data(fetched)
                videos = data["videos"]
                if not isinstance(videos, list):
                    raise TypeError("data.videos is not a list")
            except (PayloadInvalid, KeyError, TypeError) as exc:
                yield rejected_page(ctx, fetched, f"unreadable video list ({exc})")
                break
            fresh: list[Any] = []
            ctx.prefetch(videos)
            for video in videos:
                vid = video.get("id") if isinstance(video, dict) else None
                created = video.get("create_time") if isinstance(video, dict) else None
                if not isinstance(vid, str) or isinstance(created, bool) or not isinstance(created, int):
                    fresh.append(video)  # page_bundles quarantines it with the reason
                    continue
                moment = epoch_or_none(created)
                if moment is None:
                    fresh.append(video)  # out of range: page_bundles quarantines it with the reason
                    continue
                walk.see(created, moment)
                if not ctx.unchanged(vid, _marker(video)):
                    fresh.append(video)
            yield from page_bundles(ctx, fetched, fresh, lambda video, f: [self._record(ctx, video, f)], what="video")
            following = data.get("cursor")
            if not data.get("has_more") or not videos or not isinstance(following, int) or walk.done:
                break
            cursor = following
        ctx.cursor = {"newest": str(walk.newest)} if walk.newest is not None else {}

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        fetched = ctx.fetcher.post(
            self._v2(ctx, "video/query"),
            json_body={"filters": {"video_ids": [item_id]}},
            params={"fields": "id,create_time"},
        )
        videos = self._data(fetched).get("videos")
        if not isinstance(videos, list):
            raise PayloadInvalid(f"{fetched.capture.url}: data.videos is not a list")
        if any(isinstance(v, dict) and str(v.get("id")) == item_id for v in videos):
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)
