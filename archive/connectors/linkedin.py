"""LinkedIn Pages through the Community Management API: posts, comments, replies, media.

The account's `handle` is the Page's vanity name (`linkedin.com/company/{vanity}`), resolved once
with `GET /rest/organizations?q=vanityName` to `urn:li:organization:{id}` and kept in the cursor;
a handle that already is an organization URN (or its number) is used as is.

Posts come from `GET /rest/posts?q=author&sortBy=LAST_MODIFIED` (offset paging, the `next` link),
so an edited post comes back to the top. Walking stops once past both the `lastModifiedAt`
watermark and the look-back window, except on a sweep run. A known post whose `lastModifiedAt` is
unchanged is not built again (its media download URLs, which LinkedIn signs and lets expire, would
otherwise look like a change). `commentary` is LinkedIn's "little text": escapes are undone and
`{hashtag|\\#|tag}` becomes `#tag`, `@[Name](urn)` the name, so the record holds the text as shown.

The posts API shows no comment count, so a post's comments (`socialActions/{urn}/comments`, and the
replies under each comment whose `commentsSummary` counts any) are read when the post is new, inside
the window, or on the daily sweep, which re-reads every post's comments. A known item missing
from the listings is asked for by URN: 404 means deleted. Every request carries `LinkedIn-Version`
(`LINKEDIN_VERSION`: LinkedIn refuses versions older than about a year with 426, so this constant
must be moved forward at least yearly) and `X-Restli-Protocol-Version: 2.0.0`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin

from schemas import Account, Author, CaptureBundle, Direction, Kind, KnownItem, MediaRef, Platform, Record

from ..bundles import Rejected, encoded
from ..errors import ConnectorError, GaveUp, Gone, PayloadInvalid
from .base import BaseConnector, Capabilities, HarvestContext
from .http import Fetched
from .listing import cause, field_of, page_bundles, rejected_page
from .text import hashtags
from .times import epoch
from .walk import Walk, epoch_or_none

#: The LinkedIn Marketing API version sent on every request (`YYYYMM`); see the module docstring.
LINKEDIN_VERSION = "202610"
RESTLI_PROTOCOL = "2.0.0"
PAGE_COUNT = 50
COMMENT_COUNT = 100
_ORG = re.compile(r"^urn:li:organization:\d+$")
_COMMENT = re.compile(r"^urn:li:comment:\((urn:li:[A-Za-z]+:\d+),(\d+)\)$")
_MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:[^)]*)\)")


def _quoted(value: str) -> str:
    """An id as one path segment. A payload's id may hold a lone surrogate, which cannot be encoded: it is
    written escaped, so the request is made (and answered, or refused, as evidence) instead of crashing."""
    return quote(value, safe="", errors="backslashreplace")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _split_template(body: str) -> list[str]:
    """A template's parts, split on unescaped `|`."""
    parts, current, i = [], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            current.append(body[i : i + 2])
            i += 2
            continue
        if body[i] == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(body[i])
        i += 1
    parts.append("".join(current))
    return parts


def from_little_text(little: str) -> str:
    """LinkedIn's little text → the text as the public sees it."""
    out: list[str] = []
    i = 0
    while i < len(little):
        ch = little[i]
        if ch == "\\" and i + 1 < len(little):
            out.append(little[i + 1])
            i += 2
            continue
        if ch == "{":
            end, j = -1, i + 1
            while j < len(little):
                if little[j] == "\\":
                    j += 2
                    continue
                if little[j] == "}":
                    end = j
                    break
                j += 1
            if end > 0:
                parts = _split_template(little[i + 1 : end])
                if parts[0] == "hashtag" and len(parts) == 3:
                    out.append(_unescape(parts[1]) + _unescape(parts[2]))
                    i = end + 1
                    continue
        if ch == "@":
            mention = _MENTION.match(little, i)
            if mention:
                out.append(_unescape(mention.group(1)))
                i = mention.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _millis(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not epoch milliseconds: {value!r}")
    return value


class LinkedInConnector(BaseConnector):
    platform = Platform.LINKEDIN.value
    capabilities = Capabilities(
        posts="the Page's posts (`/rest/posts?q=author`, most recently modified first)",
        comments="comments and replies to comments (`/rest/socialActions/{urn}/comments`)",
        edits="edited posts (`lastModifiedAt`, `isEditedByAuthor`) and comments (`lastModified.time`): "
        "each changed text is a version",
        deletions="posts and comments inside the window: tombstone (404 when asked for by URN); a comment the "
        "Page hid looks the same as a deleted one",
        media="images and videos (download URL from the Images/Videos API); documents, articles and polls are "
        "kept only as the raw post JSON",
        old_post_comments="yes, on the daily sweep, which re-reads the comments of every post (the posts API "
        "shows no comment count)",
        credentials="a 3-legged OAuth token with r_organization_social of a Page administrator; Communis sends "
        "the `LinkedIn-Version` header itself",
        counts="none: the posts API publishes no post or comment count",
        moderation="no: a comment the Page hid or deleted looks deleted; the API shows no blocked members",
    )

    def client_auth(self, account: Account, token: str | None) -> tuple[dict[str, str], dict[str, str]]:
        headers = {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": RESTLI_PROTOCOL}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers, {}

    def _rest(self, ctx: HarvestContext, path: str) -> str:
        return self.api(ctx, f"/rest{path}", "the API root, https://api.linkedin.com")

    # ---- the organization ---------------------------------------------------------------------
    def _lookup(self, ctx: HarvestContext) -> dict[str, Any]:
        vanity = ctx.account.handle.strip().lstrip("@")
        fetched = ctx.fetcher.get(self._rest(ctx, "/organizations"), params={"q": "vanityName", "vanityName": vanity})
        elements = field_of(fetched, "elements")
        if not isinstance(elements, list) or not elements or not isinstance(elements[0], dict):
            raise ConnectorError(
                f"LinkedIn knows no Page with the vanity name {vanity!r}",
                hint="the handle is the Page's vanity name (linkedin.com/company/<name>) "
                "or its urn:li:organization:<id>",
            )
        org: dict[str, Any] = elements[0]
        return org

    def _org(self, ctx: HarvestContext) -> tuple[str, str | None]:
        """(organization URN, its name if known)."""
        handle = ctx.account.handle.strip()
        if _ORG.match(handle):
            return handle, None
        if handle.isdigit():
            return f"urn:li:organization:{handle}", None
        if "org" in ctx.state.cursor:
            return ctx.state.cursor["org"], ctx.state.cursor.get("name")
        org = self._lookup(ctx)
        try:
            number = int(org["id"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise PayloadInvalid(f"LinkedIn's Page lookup gave no organization id ({cause(exc)})") from exc
        name = org.get("localizedName")
        return f"urn:li:organization:{number}", name if isinstance(name, str) else None

    def probe(self, ctx: HarvestContext) -> str:
        handle = ctx.account.handle.strip()
        if _ORG.match(handle) or handle.isdigit():
            urn = handle if _ORG.match(handle) else f"urn:li:organization:{handle}"
            fetched = ctx.fetcher.get(self._rest(ctx, "/posts"), params={"author": urn, "q": "author", "count": "1"})
            field_of(fetched, "elements")
            return f"{urn} (posts readable)"
        org = self._lookup(ctx)
        return f"{org.get('localizedName')} (urn:li:organization:{int(org['id'])})"

    # ---- records ------------------------------------------------------------------------------
    def _media(self, ctx: HarvestContext, content: Any) -> list[MediaRef]:
        if not content:
            return []
        if not isinstance(content, dict):
            raise TypeError("content is not an object")
        entries: list[dict[str, Any]] = []
        if isinstance(content.get("media"), dict):
            entries.append(content["media"])
        if isinstance(content.get("multiImage"), dict):
            entries += [e for e in content["multiImage"].get("images") or [] if isinstance(e, dict)]
        refs = []
        for entry in entries:
            urn = str(entry["id"])
            kind = urn.split(":")[2] if urn.count(":") >= 3 else ""
            if kind not in ("image", "video"):
                continue  # documents: kept in the raw JSON
            try:
                fetched = ctx.fetcher.get(self._rest(ctx, f"/{kind}s/{_quoted(urn)}"))
                url = field_of(fetched, "downloadUrl")
            except (GaveUp, Gone, PayloadInvalid) as exc:  # the post is quarantined and tried again next run
                raise ValueError(f"media {urn}: {exc}") from exc
            refs.append(
                MediaRef(
                    url=str(url),
                    content_type=f"{kind}/*",
                    description=entry.get("altText") or entry.get("title") or None,
                )
            )
        return refs

    def _post_record(
        self, ctx: HarvestContext, item: dict[str, Any], org: str, org_name: str | None, fetched: Fetched
    ) -> Record:
        urn = str(item["id"])
        commentary = item.get("commentary", "")
        if not isinstance(commentary, str):
            raise TypeError("commentary is not a string")
        author = item["author"]
        if not isinstance(author, str):
            raise TypeError("author is not a URN")
        created = _millis(item["createdAt"])
        modified = _millis(item.get("lastModifiedAt", created))
        info = item.get("lifecycleStateInfo") or {}
        edited = bool(info.get("isEditedByAuthor")) or modified > _millis(item.get("publishedAt", created))
        text = from_little_text(commentary)
        return Record(
            platform=Platform.LINKEDIN,
            account=ctx.account.id,
            item_id=urn,
            kind=Kind.POST,
            thread_id=urn,
            author=Author(
                id=author,
                handle=ctx.account.handle if author == org else None,
                name=org_name if author == org else None,
            ),
            direction=Direction.UPPRATTAD if author == org else Direction.INKOMMEN,
            text=text,
            url=f"https://www.linkedin.com/feed/update/{urn}/",
            hashtags=hashtags(text),
            media=self._media(ctx, item.get("content")),
            published_at=epoch(item.get("publishedAt", created), millis=True),
            edited_at=epoch(modified, millis=True) if edited else None,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=item,
        )

    def _comment_record(
        self, ctx: HarvestContext, item: dict[str, Any], post: str, org: str, org_name: str | None, fetched: Fetched
    ) -> Record:
        urn = str(item["commentUrn"])
        actor = item["actor"]
        text = item["message"]["text"]
        if not isinstance(text, str) or not isinstance(actor, str):
            raise TypeError("message.text or actor is not a string")
        created = _millis(item["created"]["time"])
        modified = _millis((item.get("lastModified") or {}).get("time", created))
        parent = item.get("parentComment")
        own = actor == org
        return Record(
            platform=Platform.LINKEDIN,
            account=ctx.account.id,
            item_id=urn,
            kind=Kind.REPLY if parent else Kind.COMMENT,
            parent_id=str(parent) if parent else post,
            thread_id=post,
            author=Author(id=actor, handle=ctx.account.handle if own else None, name=org_name if own else None),
            direction=Direction.UPPRATTAD if own else Direction.INKOMMEN,
            text=text,
            url=f"https://www.linkedin.com/feed/update/{post}/?commentUrn={_quoted(urn)}",
            hashtags=hashtags(text),
            published_at=epoch(created, millis=True),
            edited_at=epoch(modified, millis=True) if modified > created else None,
            captured_at=fetched.capture.started_at,
            source_url=fetched.capture.url,
            raw=item,
        )

    # ---- harvest ------------------------------------------------------------------------------
    @staticmethod
    def _elements(fetched: Fetched) -> tuple[list[Any], list[Any]]:
        """A finder page's `elements` and `paging.links`; PayloadInvalid, KeyError, TypeError or
        AttributeError when the page is not what the API documents."""
        body = fetched.json()
        elements = body["elements"]
        links = body.get("paging", {}).get("links") or []
        if not isinstance(elements, list) or not isinstance(links, list):
            raise TypeError("elements or paging.links is not a list")
        return elements, links

    def harvest(self, ctx: HarvestContext) -> Iterator[CaptureBundle | Rejected]:
        org, org_name = self._org(ctx)
        before = ctx.state.cursor.get("modified", "")
        walk: Walk[int] = Walk(ctx, int(before) if before.isdigit() else None)
        threads: dict[str, None] = {}
        url: str | None = self._rest(ctx, "/posts")
        params: dict[str, str] | None = {
            "author": org,
            "q": "author",
            "count": str(PAGE_COUNT),
            "start": "0",
            "sortBy": "LAST_MODIFIED",
        }
        while url:
            fetched = ctx.fetcher.get(url, params=params)
            try:
                elements, links = self._elements(fetched)
            except (PayloadInvalid, KeyError, TypeError, AttributeError) as exc:
                yield rejected_page(ctx, fetched, f"unreadable posts page ({exc})")
                break
            fresh: list[Any] = []
            ctx.prefetch(elements)
            for item in elements:
                urn = item.get("id") if isinstance(item, dict) else None
                if not isinstance(urn, str):
                    fresh.append(item)  # page_bundles quarantines it with the reason
                    continue
                modified = item.get("lastModifiedAt")
                created = item.get("createdAt")
                published = epoch_or_none(created, millis=True) if isinstance(created, int) else None
                if ctx.sweep or ctx.wants_thread(urn, published):
                    threads[urn] = None
                moment = epoch_or_none(modified, millis=True) if isinstance(modified, int) else None
                if moment is None or isinstance(modified, bool):
                    fresh.append(item)  # page_bundles quarantines it with the reason
                    continue
                walk.see(modified, moment)  # most recently modified first
                if not ctx.unchanged(urn, str(modified)):
                    fresh.append(item)
            yield from page_bundles(
                ctx, fetched, fresh, lambda item, f: [self._post_record(ctx, item, org, org_name, f)], what="post"
            )
            following = next(
                (link.get("href") for link in links if isinstance(link, dict) and link.get("rel") == "next"), None
            )
            if not following or len(elements) < PAGE_COUNT or walk.done:
                break
            url, params = urljoin(ctx.account.api_base + "/", str(following)), None
        for urn in threads:
            try:
                yield from self._comments(ctx, urn, urn, org, org_name)
            except Gone:
                continue  # deleted since it was listed: the deletion check records it
            except (GaveUp, PayloadInvalid) as exc:  # read again next run: the sweep is not done
                ctx.incomplete = True
                yield Rejected(encoded(urn), f"comments of {urn}: {exc}")
        ctx.cursor = {
            "org": org,
            **({"name": org_name} if org_name else {}),
            **({"modified": str(walk.newest)} if walk.newest is not None else {}),
        }

    def _comments(
        self, ctx: HarvestContext, target: str, post: str, org: str, org_name: str | None
    ) -> Iterator[CaptureBundle | Rejected]:
        """The comments on `target` (a post, or a comment: its replies), page by page, then their replies."""
        start = 0
        answered: list[str] = []
        while True:
            fetched = ctx.fetcher.get(
                self._rest(ctx, f"/socialActions/{_quoted(target)}/comments"),
                params={"start": str(start), "count": str(COMMENT_COUNT)},
            )
            try:
                elements, links = self._elements(fetched)
            except (PayloadInvalid, KeyError, TypeError, AttributeError) as exc:
                raise PayloadInvalid(f"{fetched.capture.url}: unreadable comments ({exc})") from exc
            for item in elements:
                summary = item.get("commentsSummary") if isinstance(item, dict) else None
                if isinstance(summary, dict) and (
                    summary.get("aggregatedTotalComments") or summary.get("totalFirstLevelComments")
                ):
                    answered.append(str(item.get("commentUrn")))
            yield from page_bundles(
                ctx,
                fetched,
                elements,
                lambda item, f: [self._comment_record(ctx, item, post, org, org_name, f)],
                what="comment",
            )
            if (
                not any(isinstance(link, dict) and link.get("rel") == "next" for link in links)
                or len(elements) < COMMENT_COUNT
            ):
                break
            start += COMMENT_COUNT
        for comment in answered:
            yield from self._comments(ctx, comment, post, org, org_name)

    def check_deleted(self, ctx: HarvestContext, item_id: str, known: KnownItem) -> CaptureBundle | None:
        comment = _COMMENT.match(item_id)
        if comment:
            target = (
                known.parent_id
                if known.kind == Kind.REPLY.value and known.parent_id
                else (known.thread_id or comment.group(1))
            )
            url = self._rest(ctx, f"/socialActions/{_quoted(target)}/comments/{comment.group(2)}")
        else:
            url = self._rest(ctx, f"/posts/{_quoted(item_id)}")
        fetched = ctx.fetcher.get(url, accept=(404,))
        if fetched.response.status_code != 404:
            ctx.seen.add(item_id)
            return None
        return self.gone(ctx, fetched, item_id, known)
