"""YouTube (Data API v3): the uploads playlist, videos, comment threads and replies.

The channel (`channels?forHandle=`) names its uploads playlist; `playlistItems` lists it newest
first, 50 a page. Each page's videos are read with one `videos?id=` call (title, description,
thumbnails, `statistics.commentCount`); the walk stops once past both the newest video seen before
and the look-back window, except on a sweep run, which walks the whole playlist to read every
video's comment count. A video's comments (`commentThreads?videoId=&order=time`, 100 a page; the
full reply list from `comments?parentId=` when a thread embeds fewer than `totalReplyCount`) are
read when the video is new to the archive, inside the window, or its comment count changed — the
last is how a new comment on an old video is found.

A post's title is the video title and its text the description; the thumbnail (largest size) is
the media archived, as the API never serves the video file. A comment whose `updatedAt` is later
than its `publishedAt` was edited. A known video or comment missing from the listings is looked
up (`videos?id=`, `comments?id=`): absent from `items` means deleted.

Quota: every call costs 1 unit of the key's daily 10,000. `quotaExceeded` stops the run at once
with RateLimited (the quota resets at midnight Pacific time; sleeping that long helps no one);
`rateLimitExceeded` is waited out like any throttle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from schemas import (
    Account,
    Author,
    CaptureBundle,
    CountOf,
    Covers,
    Direction,
    Kind,
    KnownItem,
    MediaRef,
    Platform,
    PublishedCount,
    Record,
)

from .. import clock
from ..bundles import Rejected
from ..errors import AuthExpired, PayloadInvalid, RateLimited
from .base import BaseConnector, Capabilities, HarvestContext, Publishes
from .counting import dig, per_item, profile, profile_of, published_time, total
from .http import Fetched, without_query
from .listing import PAGE_ERRORS, cause, field_of, listed, page_bundles, reason_at, rejected_page
from .text import hashtags, html_to_text
from .times import iso
from .walk import Walk, iso_or_none, read_threads

PAGE = "50"
THREADS_PAGE = "100"
VIDEO_PARTS = "snippet,contentDetails,statistics,status"
THUMB_ORDER = ("maxres", "standard", "high", "medium", "default")
PACIFIC = timedelta(hours=-8)


def _reasons(response: httpx.Response) -> set[str]:
    """The `reason`s of a Google error envelope (empty when the body is something else)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return set()
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("errors") if isinstance(error, dict) else None
    return {str(d.get("reason")) for d in details or [] if isinstance(d, dict)}


def _quota_reset(now: datetime) -> float:
    """Seconds until the next midnight Pacific time (PST; in summer the reset comes an hour earlier)."""
    local = now.astimezone(UTC) + PACIFIC
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


def _playlist_entry(item: Any) -> tuple[str | None, Any]:
    """A playlist item's video id and publication stamp: `contentDetails.videoId`/`videoPublishedAt`, else
    the snippet's `resourceId.videoId`/`publishedAt` (the time it was added: for uploads, the upload),
    which an answer without the `contentDetails` part still carries."""
    if not isinstance(item, dict):
        return None, None
    details, snippet = item.get("contentDetails"), item.get("snippet")
    details = details if isinstance(details, dict) else {}
    snippet = snippet if isinstance(snippet, dict) else {}
    found = snippet.get("resourceId")
    resource: dict[str, Any] = found if isinstance(found, dict) else {}
    video_id = details.get("videoId") if isinstance(details.get("videoId"), str) else resource.get("videoId")
    stamp = details.get("videoPublishedAt") or snippet.get("publishedAt")
    return (video_id if isinstance(video_id, str) and video_id else None), stamp


class YouTubeConnector(BaseConnector):
    platform = Platform.YOUTUBE.value
    capabilities = Capabilities(
        posts="uploaded videos (uploads playlist): title, description, thumbnails",
        comments="comments and replies (`commentThreads` per video, `comments?parentId=` for long threads)",
        edits="changed titles and descriptions (compared on each read); edited comments (`updatedAt` > `publishedAt`)",
        deletions="videos and comments inside the window: tombstone (absent from `videos` / `comments` lookups); "
        "a comment the channel held for review or removed looks the same",
        media="thumbnails only (the largest size); the Data API never serves the video file",
        old_post_comments="yes: the daily sweep reads every video's `statistics.commentCount` and re-reads the "
        "threads where it changed",
        credentials="an API key (`key=`); daily quota 10,000 units, a run stops when it is used up",
        counts="channel total `statistics.videoCount`; per video `statistics.commentCount` (comments and replies)",
        published=(
            Publishes(CountOf.VIDEOS, "statistics.videoCount", note="public videos of the channel"),
            Publishes(
                CountOf.COMMENTS,
                "statistics.commentCount",
                per_item=True,
                covers=Covers.THREAD,
                note="comments held for review are not counted (unverified)",
            ),
        ),
        moderation="no: a comment held for review or rejected looks deleted with an API key (`moderationStatus` "
        "and the held and likely-spam listings answer only the channel owner's OAuth token, which the connector "
        "does not use); the Data API exposes no blocked-words list and no hidden users",
        archives_media=False,
    )

    def client_auth(self, account: Account, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
        return {}, ({"key": token} if token else {})

    def throttled(self, response: httpx.Response) -> float | None:
        if response.status_code not in (400, 403, 429):
            return None
        reasons = _reasons(response)
        if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
            wait = _quota_reset(clock.now())
            raise RateLimited(
                f"YouTube API quota for this key is used up (quotaExceeded); it resets at midnight "
                f"Pacific time, in {wait / 3600:.1f} h",
                retry_after=wait,
            )
        if response.status_code == 403 and reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
            retry = response.headers.get("retry-after", "")
            return float(retry) if retry.isdigit() else 0.0
        if response.status_code == 400 and ("keyInvalid" in reasons or b"API key not valid" in response.content):
            raise AuthExpired(f"{without_query(str(response.url))} refused the API key (HTTP 400: API key not valid)")
        return None

    def _url(self, ctx: HarvestContext, resource: str) -> str:
        return self.api(ctx, f"/{resource}", "the API URL, e.g. https://www.googleapis.com/youtube/v3")

    def _channel(self, ctx: HarvestContext) -> dict[str, Any]:
        return self._channel_fetched(ctx)[1]

    def _channel_fetched(self, ctx: HarvestContext) -> tuple[Fetched, dict[str, Any]]:
        handle = ctx.account.handle
        params = {"part": "snippet,contentDetails,statistics"}
        if handle.startswith("UC") and len(handle) == 24:
            params["id"] = handle
        else:
            params["forHandle"] = handle if handle.startswith("@") else f"@{handle}"
        fetched = ctx.fetcher.get(self._url(ctx, "channels"), params=params)
        body = fetched.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise PayloadInvalid(f"{fetched.capture.url}: no YouTube channel {handle!r}")
        channel: dict[str, Any] = items[0]
        return fetched, channel

    @staticmethod
    def _totals(body: Any) -> list[PublishedCount]:
        """`statistics.videoCount` of a channel (the channel itself, or a `channels` answer's first item)."""
        items = body.get("items") if isinstance(body, dict) else None
        channel = items[0] if isinstance(items, list) and items else body
        return total(CountOf.VIDEOS, dig(channel, "statistics", "videoCount"))

    def probe(self, ctx: HarvestContext) -> str:
        channel = self._channel(ctx)
        snippet = channel.get("snippet") or {}
        videos = (channel.get("statistics") or {}).get("videoCount", "?")
        return f"{snippet.get('title')} ({snippet.get('customUrl') or channel.get('id')}, {videos} videos)"

    # ---- records ------------------------------------------------------------------------------
    def _video_record(self, ctx: HarvestContext, video: dict[str, Any], channel_id: str, fetched: Fetched) -> Record:
        """A video; `upprättad` when its `channelId` is the account's channel (an upload), else `inkommen`."""
        snippet = video["snippet"]
        title, text = snippet["title"], snippet.get("description", "")
        if not isinstance(title, str) or not isinstance(text, str):
            raise TypeError("snippet.title/description is not a string")
        published = iso(snippet["publishedAt"])
        if published is None:
            raise ValueError("snippet.publishedAt is empty")
        thumbs = snippet.get("thumbnails") or {}
        best = next((thumbs[k] for k in THUMB_ORDER if isinstance(thumbs.get(k), dict) and thumbs[k].get("url")), None)
        media = [MediaRef(url=best["url"], content_type="image/jpeg", description="thumbnail")] if best else []
        owner = str(snippet["channelId"])
        video_id = str(video["id"])
        return Record(
            platform=Platform.YOUTUBE,
            account=ctx.account.id,
            item_id=video_id,
            kind=Kind.POST,
            thread_id=video_id,
            author=Author(id=owner, name=snippet.get("channelTitle"), url=f"https://www.youtube.com/channel/{owner}"),
            direction=Direction.UPPRATTAD if channel_id == owner else Direction.INKOMMEN,
            title=title,
            text=text,
            url=f"https://www.youtube.com/watch?v={video_id}",
            hashtags=hashtags(text),
            media=media,
            published_at=published,
            captured_at=fetched.capture.started_at,
            language=snippet.get("defaultLanguage") or snippet.get("defaultAudioLanguage"),
            source_url=fetched.capture.url,
            raw=video,
        )

    def _comment_record(
        self, ctx: HarvestContext, comment: dict[str, Any], channel_id: str, video_id: str, fetched: Fetched
    ) -> Record:
        """`video_id` is the video of the thread being read: a reply listed by `comments?parentId=` has
        no `videoId` (YouTube's comment resource defines none), so it comes from the thread."""
        snippet = comment["snippet"]
        text = snippet.get("textOriginal")
        if not isinstance(text, str):
            text = html_to_text(str(snippet["textDisplay"]))[0]
        published, updated = iso(snippet["publishedAt"]), iso(snippet.get("updatedAt"))
        if published is None:
            raise ValueError("snippet.publishedAt is empty")
        if isinstance(snippet.get("videoId"), str):
            video_id = snippet["videoId"]
        parent = snippet.get("parentId")
        author_id = (snippet.get("authorChannelId") or {}).get("value")
        name = snippet.get("authorDisplayName")
        comment_id = str(comment["id"])
        return Record(
            platform=Platform.YOUTUBE,
            account=ctx.account.id,
            item_id=comment_id,
            kind=Kind.REPLY if parent else Kind.COMMENT,
            parent_id=str(parent) if parent else video_id,
            thread_id=video_id,
            author=Author(
                id=author_id,
                handle=name if isinstance(name, str) and name.startswith("@") else None,
                name=name,
                url=snippet.get("authorChannelUrl"),
            ),
            direction=Direction.UPPRATTAD if author_id == channel_id else Direction.INKOMMEN,
            text=text,
            url=f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}",
            hashtags=hashtags(text),
            published_at=published,
            edited_at=updated if updated and updated > published else None,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=comment,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        cursor = ctx.state.cursor
        # One profile request per run for `videoCount` (1 quota unit): a first run's channel lookup is it.
        if "channel" in cursor and "uploads" in cursor:
            channel_id, uploads = cursor["channel"], cursor["uploads"]
            yield profile(ctx, self._url(ctx, "channels"), {"part": "statistics", "id": channel_id}, self._totals)
        else:
            found, channel = self._channel_fetched(ctx)
            yield profile_of(found, self._totals(channel))
            try:
                channel_id = str(channel["id"])
                uploads = str(channel["contentDetails"]["relatedPlaylists"]["uploads"])
            except (KeyError, TypeError) as exc:
                raise PayloadInvalid(f"the channel lookup gave no uploads playlist ({cause(exc)})") from exc
        walk: Walk[str] = Walk(ctx, cursor.get("newest") or None)
        threads: dict[str, None] = {}
        params = {"part": "snippet,contentDetails,status", "playlistId": uploads, "maxResults": PAGE}
        while True:
            fetched = ctx.fetcher.get(self._url(ctx, "playlistItems"), params=params, accept=(404,))
            if fetched.response.status_code == 404:  # YouTube's answer for a channel without public videos
                if "playlistNotFound" not in _reasons(fetched.response):
                    yield rejected_page(ctx, fetched, "uploads playlist answered 404")
                else:
                    yield CaptureBundle(capture=fetched.capture, records=[])  # the empty channel, as evidence
                break
            try:
                body, items = listed(fetched, "items")
            except PAGE_ERRORS as exc:
                yield rejected_page(ctx, fetched, f"unreadable playlist page ({exc})")
                break
            yield CaptureBundle(capture=fetched.capture, records=[])  # the listing itself, as evidence
            ids: list[str] = []
            published: dict[str, datetime | None] = {}
            for item in items:
                video_id, stamp = _playlist_entry(item)
                if video_id is None:
                    yield Rejected(
                        json.dumps(item).encode(), reason_at("playlist item without videoId", fetched.capture.url)
                    )
                    continue
                ids.append(video_id)
                moment = published[video_id] = iso_or_none(stamp)
                walk.see(stamp if moment is not None else None, moment)
            if ids:
                yield from self._videos(ctx, channel_id, ids, published, threads)
            token = body.get("nextPageToken")
            if not token or not items or walk.done:
                break
            params = {**params, "pageToken": str(token)}
        yield from read_threads(
            ctx, threads, lambda video_id: self._threads(ctx, channel_id, video_id), "comments of {}"
        )
        ctx.cursor = {"channel": channel_id, "uploads": uploads, **({"newest": walk.newest} if walk.newest else {})}

    def _videos(
        self,
        ctx: HarvestContext,
        channel_id: str,
        ids: list[str],
        published: dict[str, datetime | None],
        threads: dict[str, None],
    ) -> Iterator[CaptureBundle | Rejected]:
        fetched = ctx.fetcher.get(self._url(ctx, "videos"), params={"part": VIDEO_PARTS, "id": ",".join(ids)})
        try:
            _, items = listed(fetched, "items")
        except PAGE_ERRORS as exc:
            yield rejected_page(ctx, fetched, f"unreadable videos ({exc})")
            return
        ctx.prefetch(items)
        for video in items:
            video_id = video.get("id") if isinstance(video, dict) else None
            if not isinstance(video_id, str):
                continue
            stats = video.get("statistics")
            count = stats.get("commentCount") if isinstance(stats, dict) else None
            marker = str(count) if isinstance(count, str | int) else None
            if ctx.wants_thread(video_id, published.get(video_id), marker) and marker != "0":
                threads[video_id] = None
        yield from page_bundles(
            ctx,
            fetched,
            items,
            lambda v, f: [self._video_record(ctx, v, channel_id, f)],
            what="video",
            counts=self._comment_counts(items),
        )

    @staticmethod
    def _comment_counts(videos: list[Any]) -> list[PublishedCount]:
        """`statistics.commentCount` of each video (a digit string): its comments and their replies. A video
        whose comments are disabled, or whose owner hides the count, has none."""
        return per_item(
            (
                (v.get("id"), dig(v, "statistics", "commentCount"), published_time(dig(v, "snippet", "publishedAt")))
                for v in videos
                if isinstance(v, dict)
            ),
            Covers.THREAD,
        )

    def _threads(self, ctx: HarvestContext, channel_id: str, video_id: str) -> Iterator[CaptureBundle | Rejected]:
        params = {
            "part": "snippet,replies",
            "videoId": video_id,
            "maxResults": THREADS_PAGE,
            "order": "time",
            "textFormat": "plainText",
        }
        while True:
            fetched = ctx.fetcher.get(self._url(ctx, "commentThreads"), params=params, accept=(403, 404))
            status = fetched.response.status_code
            if status in (403, 404):
                reasons = _reasons(fetched.response)
                if reasons & {"commentsDisabled", "videoNotFound"}:
                    return  # no comments to read; a gone video is found by check_deleted
                raise AuthExpired(f"{fetched.capture.url} refused our API key (HTTP {status}: {sorted(reasons)})")
            try:
                body, items = listed(fetched, "items")
            except PAGE_ERRORS as exc:
                ctx.keep_marker(video_id)
                yield Rejected(
                    fetched.capture.body, reason_at(f"unreadable comment threads ({exc})", fetched.capture.url)
                )
                return
            long_threads: list[tuple[str, str]] = []
            yield from page_bundles(
                ctx,
                fetched,
                items,
                self._thread_builder(ctx, channel_id, video_id, long_threads),
                what="comment thread",
            )
            for thread_id, thread_video in long_threads:
                yield from self._replies(ctx, channel_id, thread_id, thread_video)
            token = body.get("nextPageToken")
            if not token or not items:
                return
            params = {**params, "pageToken": str(token)}

    def _thread_builder(
        self, ctx: HarvestContext, channel_id: str, video_id: str, long_threads: list[tuple[str, str]]
    ) -> Callable[[Any, Fetched], list[Record]]:
        """Records of a thread's top comment and embedded replies; a thread embedding fewer replies than
        `totalReplyCount` goes to `long_threads` (with its video), whose full lists come from
        `comments?parentId=`. The thread's video is its `snippet.videoId`, else the video asked for."""

        def build(thread: Any, fetched: Fetched) -> list[Record]:
            snippet = thread["snippet"]
            video = snippet["videoId"] if isinstance(snippet.get("videoId"), str) else video_id
            records = [self._comment_record(ctx, snippet["topLevelComment"], channel_id, video, fetched)]
            embedded = (thread.get("replies") or {}).get("comments") or []
            if int(snippet.get("totalReplyCount") or 0) > len(embedded):
                long_threads.append((str(thread["id"]), video))
            else:
                records += [self._comment_record(ctx, c, channel_id, video, fetched) for c in embedded]
            return records

        return build

    def _replies(
        self, ctx: HarvestContext, channel_id: str, thread_id: str, video_id: str
    ) -> Iterator[CaptureBundle | Rejected]:
        params = {"part": "snippet", "parentId": thread_id, "maxResults": THREADS_PAGE, "textFormat": "plainText"}
        while True:
            fetched = ctx.fetcher.get(self._url(ctx, "comments"), params=params, accept=(404,))
            if fetched.response.status_code == 404:
                return  # the thread was deleted meanwhile
            try:
                body, items = listed(fetched, "items")
            except PAGE_ERRORS as exc:
                yield Rejected(fetched.capture.body, reason_at(f"unreadable replies ({exc})", fetched.capture.url))
                return
            yield from page_bundles(
                ctx, fetched, items, lambda c, f: [self._comment_record(ctx, c, channel_id, video_id, f)], what="reply"
            )
            token = body.get("nextPageToken")
            if not token or not items:
                return
            params = {**params, "pageToken": str(token)}

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        resource = "videos" if known.kind == "post" else "comments"
        fetched = ctx.fetcher.get(self._url(ctx, resource), params={"part": "id", "id": item_id})
        items = field_of(fetched, "items")
        if any(isinstance(i, dict) and i.get("id") == item_id for i in items or []):
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)
