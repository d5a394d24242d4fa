"""Flickr REST API (JSON): the account's public photos and videos, their comments, edits, deletions.

Every call is `GET {base}/services/rest/?method=…&api_key=…&format=json&nojsoncallback=1`. Errors
come back as HTTP 200 with `{"stat":"fail","code":…}`: code 105 (service unavailable) is a
transient signal (`throttled`), code 100 a refused key (AuthExpired), code 1 "not found".

The account's NSID is looked up once (`flickr.people.findByUsername`) and kept in the cursor. A
sweep run (and the first) walks `flickr.people.getPublicPhotos` to the last page (`page`/`pages`,
500 a page) to read every photo's `lastupdate`; other runs ask `flickr.photos.search` for photos
uploaded since the last run's newest or inside the look-back window (`min_upload_date`). A photo is
recorded, and its comments read (`flickr.photos.comments.getList`, all at once), when it is new,
inside the window, or its `lastupdate` moved: Flickr moves it on edits and on new comments, which
is how a comment on an old photo is found. Flickr comments are flat: an answer to a comment is an
ordinary comment on the photo, recorded as one. Videos (`media: video`) are fetched as the
`Video Original` of `flickr.photos.getSizes`. A known photo missing from the listings is asked for
with `flickr.photos.getInfo` (code 1: deleted); a known comment by re-reading its photo's comments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from functools import partial
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

from ..bundles import Rejected
from ..errors import AuthExpired, ConnectorError, PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext, Publishes
from .counting import per_item, published_time, total
from .http import Fetched
from .listing import page_bundles, rejected_page, required
from .text import html_to_text
from .times import epoch
from .walk import Walk, read_threads

PER_PAGE = "500"
EXTRAS = (
    "description,license,date_upload,date_taken,last_update,owner_name,path_alias,tags,views,media,url_o,url_l,"
    "count_comments"
)
#: Largest first: the photo file archived is the biggest size the listing offers.
SIZES = ("url_o", "url_k", "url_h", "url_l", "url_c", "url_z", "url_m", "url_n", "url_s")
AUTH_CODES = frozenset({96, 97, 98, 99, 100})


def _body(data: bytes) -> Any:
    """The JSON of a response, unwrapped from `jsonFlickrApi(...)` if the callback was not turned off."""
    text = data.strip()
    if text.startswith(b"jsonFlickrApi(") and text.endswith(b")"):
        text = text[len(b"jsonFlickrApi(") : -1]
    return json.loads(text)


def _width(size: dict[str, Any]) -> int:
    """A size's width for picking the largest; 0 when it is not a number."""
    width = size.get("width")
    try:
        return int(width) if isinstance(width, (str, int)) and not isinstance(width, bool) else 0
    except ValueError:
        return 0


class FlickrConnector(BaseConnector):
    platform = Platform.FLICKR.value
    capabilities = Capabilities(
        posts="public photos and videos: title, description, tags",
        comments="comments on photos (Flickr comments are flat: an answer to a comment is archived as a comment "
        "on the photo)",
        edits="title, description and tag changes (`lastupdate` moves; the content is compared)",
        deletions='photos: tombstone (`flickr.photos.getInfo` code 1 "Photo not found"); comments inside the '
        "window: tombstone (gone from the photo's comment list)",
        media='the largest size of each photo; videos (`getSizes` "Video Original")',
        old_post_comments="yes, on the daily sweep (`lastupdate` moves when a comment is added)",
        credentials="an API key (`api_key` query parameter)",
        counts="account total `photos.total` (public photos and videos); per photo `count_comments`",
        published=(
            Publishes(
                CountOf.MEDIA,
                "photos.total",
                note="public photos and videos of `flickr.people.getPublicPhotos`; read on sweep runs only",
            ),
            Publishes(
                CountOf.COMMENTS,
                "count_comments",
                per_item=True,
                covers=Covers.CHILDREN,
                note="an `extras` value Flickr answers but does not document (unverified); comments are flat",
            ),
        ),
        moderation="no: a hidden comment looks deleted; blocked members are not in the public API",
        finds_replies=False,
    )

    def client_auth(self, account: Account, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
        return {}, ({"api_key": token} if token else {})

    def throttled(self, response: httpx.Response) -> float | None:
        """`stat: fail` code 105 ("Service currently unavailable"), with HTTP 200, is Flickr's transient signal."""
        ctype = response.headers.get("content-type", "")
        if not ctype.startswith(("application/json", "text/javascript", "text/plain")):
            return None
        if b'"stat"' not in response.content[:4096] or b'"fail"' not in response.content[:4096]:
            return None
        try:
            body = _body(response.content)
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("stat") == "fail" and str(body.get("code")) == "105":
            try:
                return max(float(response.headers.get("retry-after", "0")), 0.0)
            except ValueError:
                return 0.0
        return None

    # ---- calls --------------------------------------------------------------------------------
    def _call(self, ctx: HarvestContext, method: str, **params: str) -> tuple[Fetched, dict[str, Any]]:
        """One API call: (the exchange, its body). `stat: fail` bodies are returned (the caller reads
        `code`), except a refused key, which raises AuthExpired."""
        url = self.api(ctx, "/services/rest/", "https://api.flickr.com")
        fetched = ctx.fetcher.get(url, params={"method": method, "format": "json", "nojsoncallback": "1", **params})
        try:
            body = _body(fetched.response.content)
        except ValueError as exc:
            raise PayloadInvalid(f"{method}: response is not JSON ({exc})") from exc
        if not isinstance(body, dict) or body.get("stat") not in ("ok", "fail"):
            raise PayloadInvalid(f"{method}: expected a Flickr response object with `stat`")
        if body["stat"] == "fail" and _code(body) in AUTH_CODES:
            raise AuthExpired(f"Flickr refused the API key ({_code(body)}: {body.get('message')})")
        return fetched, body

    def _nsid(self, ctx: HarvestContext) -> str:
        handle = ctx.account.handle.strip().lstrip("@")
        if ctx.state.cursor.get("nsid"):
            return ctx.state.cursor["nsid"]
        if "@N" in handle:
            return handle
        fetched, body = self._call(ctx, "flickr.people.findByUsername", username=handle)
        if body["stat"] != "ok":
            raise PayloadInvalid(f"Flickr user {handle!r} not found ({body.get('message')})")
        return required(fetched, body, "user", "nsid")

    def probe(self, ctx: HarvestContext) -> str:
        nsid = self._nsid(ctx)
        _, body = self._call(ctx, "flickr.people.getInfo", user_id=nsid)
        person = body.get("person") or {}
        count = (person.get("photos") or {}).get("count", {}).get("_content", "?")
        return f"{(person.get('username') or {}).get('_content', nsid)} ({nsid}, {count} public photos)"

    # ---- records ------------------------------------------------------------------------------
    def _photo_record(
        self, ctx: HarvestContext, photo: dict[str, Any], own: str, videos: dict[str, str], fetched: Fetched
    ) -> Record:
        pid, title, owner = photo["id"], photo["title"], photo["owner"]
        if not isinstance(pid, str) or not isinstance(title, str) or not isinstance(owner, str):
            raise TypeError("id, title and owner must be strings")
        html = photo["description"]["_content"]
        if not isinstance(html, str):
            raise TypeError("description._content is not a string")
        text, links = html_to_text(html)
        published = epoch(photo["dateupload"])
        media: list[MediaRef] = []
        image = next((photo[k] for k in SIZES if isinstance(photo.get(k), str)), None)
        if image:
            media.append(MediaRef(url=image, content_type="image/*", description=title or None))
        if photo.get("media") == "video":
            if pid not in videos:
                raise ValueError("the video's file could not be looked up (flickr.photos.getSizes)")
            media.append(MediaRef(url=videos[pid], content_type="video/*", description=title or None))
        alias = photo.get("pathalias") or owner
        tags = [t for t in str(photo.get("tags") or "").split() if t]
        return Record(
            platform=Platform.FLICKR,
            account=ctx.account.id,
            item_id=pid,
            kind=Kind.POST,
            thread_id=pid,
            author=Author(
                id=owner,
                handle=photo.get("pathalias"),
                name=photo.get("ownername"),
                url=f"https://www.flickr.com/photos/{alias}/",
            ),
            direction=Direction.UPPRATTAD if owner == own else Direction.INKOMMEN,
            title=title or None,
            text=text,
            html=html or None,
            url=f"https://www.flickr.com/photos/{alias}/{pid}/",
            links=links,
            hashtags=tags,
            media=media,
            published_at=published,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=photo,
        )

    def _photo_records(
        self, ctx: HarvestContext, own: str, videos: dict[str, str], photo: Any, fetched: Fetched
    ) -> list[Record]:
        return [self._photo_record(ctx, photo, own, videos, fetched)]

    def _comment_record(
        self, ctx: HarvestContext, comment: dict[str, Any], photo_id: str, own: str, fetched: Fetched
    ) -> Record:
        cid, author, html = comment["id"], comment["author"], comment["_content"]
        if not isinstance(cid, str) or not isinstance(author, str) or not isinstance(html, str):
            raise TypeError("id, author and _content must be strings")
        text, links = html_to_text(html)
        handle = comment.get("path_alias") or comment.get("authorname")
        return Record(
            platform=Platform.FLICKR,
            account=ctx.account.id,
            item_id=cid,
            kind=Kind.COMMENT,
            parent_id=photo_id,
            thread_id=photo_id,
            author=Author(
                id=author,
                handle=comment.get("authorname"),
                name=comment.get("realname") or None,
                url=f"https://www.flickr.com/photos/{handle or author}/",
            ),
            direction=Direction.UPPRATTAD if author == own else Direction.INKOMMEN,
            text=text,
            html=html or None,
            url=comment.get("permalink"),
            links=links,
            published_at=epoch(comment["datecreate"]),
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=comment,
        )

    # ---- harvest ------------------------------------------------------------------------------
    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        own = self._nsid(ctx)
        before = ctx.state.cursor.get("newest")
        walk: Walk[int] = Walk(ctx, int(before) if before and before.isdigit() else None)
        params = {"user_id": own, "extras": EXTRAS, "per_page": PER_PAGE}
        if ctx.sweep or walk.before is None:
            method = "flickr.people.getPublicPhotos"
        else:
            method = "flickr.photos.search"
            since = min(walk.before, int(ctx.window_start.timestamp()))
            params.update({"min_upload_date": str(since), "sort": "date-posted-desc"})
        page = 1
        while True:
            fetched, body = self._call(ctx, method, **params, page=str(page))
            try:
                if body["stat"] != "ok":
                    raise ValueError(f"stat fail {_code(body)}: {body.get('message')}")
                listing = body["photos"]
                photos, pages = listing["photo"], int(listing["pages"])
                if not isinstance(photos, list):
                    raise TypeError("photos.photo is not a list")
            except (KeyError, TypeError, ValueError) as exc:
                yield rejected_page(ctx, fetched, f"unreadable photo listing ({exc})")
                break
            wanted: list[Any] = []
            threads: list[str] = []
            ctx.prefetch(photos)
            for photo in photos:
                pid = photo.get("id") if isinstance(photo, dict) else None
                if not isinstance(pid, str):
                    wanted.append(photo)  # quarantined by page_bundles with the reason
                    continue
                uploaded = _moment(photo.get("dateupload"))
                marker = photo.get("lastupdate")
                if walk.see(
                    int(uploaded.timestamp()) if uploaded is not None else None,
                    uploaded,
                    pid,
                    marker if isinstance(marker, str) else None,
                ):
                    wanted.append(photo)
                    threads.append(pid)
            videos = self._videos(ctx, [p for p in wanted if isinstance(p, dict) and p.get("media") == "video"])
            counts = self._comment_counts(photos)
            if method == "flickr.people.getPublicPhotos" and page == 1:
                # Unfiltered (a sweep or a first run): the account's total, at no extra request. A search by
                # date counts only what it finds, so the runs between sweeps read no total.
                counts += total(CountOf.MEDIA, listing.get("total"))
            yield from page_bundles(
                ctx, fetched, wanted, partial(self._photo_records, ctx, own, videos), what="photo", counts=counts
            )
            yield from read_threads(ctx, threads, lambda pid: self._comments(ctx, own, pid), "comments of photo {}")
            if page >= pages or not photos:
                break
            page += 1
        ctx.cursor = {"nsid": own, **({"newest": str(walk.newest)} if walk.newest is not None else {})}

    @staticmethod
    def _comment_counts(photos: list[Any]) -> list[PublishedCount]:
        """`count_comments` of each photo on a listing page (a digit string; absent when Flickr leaves it out)."""
        return per_item(
            (
                (p.get("id"), p.get("count_comments"), published_time(p.get("dateupload"), epoch))
                for p in photos
                if isinstance(p, dict)
            ),
            Covers.CHILDREN,
        )

    def _videos(self, ctx: HarvestContext, photos: list[dict[str, Any]]) -> dict[str, str]:
        """Photo id → the URL of the video file (`Video Original`, else the largest video size)."""
        out: dict[str, str] = {}
        for photo in photos:
            if isinstance(photo.get("id"), bool) or not isinstance(photo.get("id"), (str, int)):
                continue  # page_bundles quarantines it with the reason
            pid = str(photo["id"])
            try:
                _, body = self._call(ctx, "flickr.photos.getSizes", photo_id=pid)
                sizes = [s for s in body["sizes"]["size"] if isinstance(s, dict) and s.get("media") == "video"]
            except (ConnectorError, KeyError, TypeError):
                ctx.keep_marker(pid)  # the photo is quarantined with the reason; read again next run
                continue
            best = next((s for s in sizes if s.get("label") == "Video Original"), None) or max(
                sizes, key=_width, default=None
            )
            if best and isinstance(best.get("source"), str):
                out[pid] = best["source"]
            else:
                ctx.keep_marker(pid)
        return out

    def _comments(self, ctx: HarvestContext, own: str, photo_id: str) -> Iterator[CaptureBundle | Rejected]:
        fetched, body = self._call(ctx, "flickr.photos.comments.getList", photo_id=photo_id)
        if body["stat"] != "ok":
            if _code(body) == 1:
                return  # the photo went away meanwhile; check_deleted records that
            raise PayloadInvalid(f"comments of {photo_id}: stat fail {_code(body)}: {body.get('message')}")
        try:
            comments = body["comments"].get("comment", [])
            if not isinstance(comments, list):
                raise TypeError("comments.comment is not a list")
        except (AttributeError, KeyError, TypeError) as exc:
            raise PayloadInvalid(f"comments of {photo_id}: unreadable ({exc})") from exc
        yield from page_bundles(
            ctx, fetched, comments, lambda c, f: [self._comment_record(ctx, c, photo_id, own, f)], what="comment"
        )

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        if known.kind == "post":
            fetched, body = self._call(ctx, "flickr.photos.getInfo", photo_id=item_id)
            present = body["stat"] == "ok"
        else:
            photo_id = known.thread_id or known.parent_id or ""
            fetched, body = self._call(ctx, "flickr.photos.comments.getList", photo_id=photo_id)
            comments = (body.get("comments") or {}).get("comment") or [] if body["stat"] == "ok" else []
            present = any(isinstance(c, dict) and c.get("id") == item_id for c in comments)
        if body["stat"] != "ok" and _code(body) != 1:
            raise PayloadInvalid(f"deletion check of {item_id}: stat fail {_code(body)}: {body.get('message')}")
        if present:
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)


def _code(body: dict[str, Any]) -> int | None:
    try:
        return int(body.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _moment(value: Any) -> datetime | None:
    try:
        return epoch(value) if isinstance(value, (str, int)) else None
    except (TypeError, ValueError, OverflowError):
        return None
