"""Bluesky: the public AppView's XRPC API (``{base}/bsky`` stands for ``https://public.api.bsky.app``).

Faithful points (atproto lexicons ``app.bsky.actor.getProfile``, ``app.bsky.feed.getAuthorFeed``,
``getPostThread``, ``getPosts``, ``app.bsky.feed.defs``; docs.bsky.app rate limits):
- ``getAuthorFeed``: newest first, ``limit`` 1–100 (default 50), ``cursor`` = the ``indexedAt`` of
  the last item; no cursor when the page is the last. ``filter=posts_with_replies`` (default) holds
  the account's replies too, each with ``reply{root,parent}`` post views.
- Post views: ``uri`` ``at://{did}/app.bsky.feed.post/{rkey}`` (13-character TID), ``cid``
  (changes when the record is rewritten), ``author``, ``record`` with ``$type``/``text``/``createdAt``/
  ``langs``/``facets``/``embed``/``reply``, the hydrated ``embed`` view, counts, ``indexedAt``.
  ``replyCount`` counts direct replies.
- ``getPostThread``: ``thread`` is a ``threadViewPost`` with ``replies`` (depth-limited) and, for a
  reply, ``parent``; an unknown or deleted post is 400 ``{"error":"NotFound"}``. Replies hidden by the
  author (threadgate ``hiddenReplies``) are left out, as the app does.
- ``getPosts?uris=…`` (≤ 25) returns the posts that exist; deleted ones are simply absent.
- Every response carries ``RateLimit-Limit/Remaining/Reset/Policy``; over the limit 429
  ``{"error":"RateLimitExceeded"}`` with ``RateLimit-Reset`` in epoch seconds.
- ``app.bsky.graph.getBlocks`` / ``getMutes`` / ``getListBlocks``: the viewer's own blocks (profile views
  with ``viewer.blocking``, the block record's URI), mutes (``viewer.muted``) and blocked moderation lists
  (list views: ``uri``, ``creator``, ``name``, ``purpose`` ``…#modlist``, ``viewer.blocked``), newest first,
  ``limit`` 1–100 (default 50), ``cursor`` ``{ms}::{n}`` (the recorded answers' cursors have that shape);
  without a session token 401 ``AuthMissing``. The real ones live on the viewer's PDS, which proxies them
  to the AppView; the simulator is that PDS too, and ``/plc/{did}`` its PLC directory, whose DID document
  names the simulator's base URL as the account's ``#atproto_pds``. The shapes follow atproto.dart's recorded
  answers; the order of entries and the cursor's meaning are our own reading.
- Timestamps ``2024-05-02T08:15:29.812Z``. Videos: the view's ``playlist`` URL (an HLS playlist on
  the network; here the MP4 itself) and ``thumbnail``.

Shapes the real AppView's recorded answers show (tests/recordings/bluesky-dart), derived from the
model without changing it, so every platform's ground truth stays the same:
- Facets for what the text shows: ``#link`` for URLs, ``#tag`` for hashtags, ``#mention`` (with the
  DID) for ``@handle``; byte offsets into the UTF-8 text, as the lexicon wants.
- A link card (``app.bsky.embed.external``) for a post with a URL and no media, as the app makes one.
- Quotes: every fourth post with images quotes the post before it (``recordWithMedia``: the images
  beside the quoted ``viewRecord``); every sixth post without media or a link quotes it plainly
  (``app.bsky.embed.record``). A deleted quoted post is ``record#viewNotFound``.
- Reposts: after every ninth post the account reposts a citizen's post (``reason`` of type
  ``reasonRepost``, with the repost record's ``uri`` and ``cid``, ``by`` the account); the citizen's
  post is answered by ``getPosts`` and ``getPostThread`` too, and ``getRepostedBy`` lists the account.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..clock import DAY_MS, iso_micro, mastodon_time
from ..httpcore import Request, Response, json_response
from ..social import Comment, Listed, Person, Post
from .base import PlatformApp, plain_json

CT = "application/json; charset=utf-8"
_TID = "234567abcdefghijklmnopqrstuvwxyz"
_RICH = re.compile(r"(https?://[^\s]+[^\s.,;:!?)])|(?<!\w)#(\w+)|(?<!\w)@([\w.-]+\w)")
HOUR_MS = 3_600_000
REPOST_EVERY, QUOTE_MEDIA_EVERY, QUOTE_EVERY = 9, 4, 6
_CITIZEN_TEXTS = [
    "Fantastisk utsikt över fjärden i morse!",
    "Tack till alla som städade stranden i helgen.",
    "Bussen till resecentrum var i tid varje dag den här veckan.",
    "Biblioteket har fått nya öppettider.",
]


@dataclass(frozen=True)
class Reposted:
    """A citizen's post the account reposted (outside the model: no other platform sees it)."""

    no: int
    author: Person
    text: str
    created_ms: int
    reposted_ms: int


def _tid(ms: int, no: int) -> str:
    value = (ms * 1000 + no % 1000) << 10 | (no % 1024)
    out = ""
    for _ in range(13):
        out = _TID[value & 31] + out
        value >>= 5
    return out


def _cid(*parts: object) -> str:
    """A real CIDv1 (dag-cbor, sha2-256, base32: ``bafyrei…``) of the parts, as records are named;
    a blob's (``"blob", …``) is a raw-codec one (``bafkrei…``), as blobs are."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    codec = b"\x55" if parts and parts[0] == "blob" else b"\x71"
    return "b" + base64.b32encode(b"\x01" + codec + b"\x12\x20" + digest).decode().lower().rstrip("=")


#: The viewer's moderation methods: method → (the model's list, the key of the answer's array).
_GRAPH = {
    "app.bsky.graph.getBlocks": ("blocks", "blocks"),
    "app.bsky.graph.getMutes": ("mutes", "mutes"),
    "app.bsky.graph.getListBlocks": ("list_blocks", "lists"),
}


class App(PlatformApp):
    name = "bluesky"
    moderation_lists = ("blocks", "mutes", "list_blocks")
    prefix = "/bsky"

    # ---- identities ---------------------------------------------------------------------------
    def _handle(self, person: Person) -> str:
        return f"{person.handle}.bsky.social"

    def _did(self, person: Person) -> str:
        return "did:plc:" + hashlib.sha256(f"{self.model.seed}:{person.no}:{person.handle}".encode()).hexdigest()[:24]

    def post_id(self, post: Post) -> str:
        return f"at://{self._did(self.model.owner)}/app.bsky.feed.post/{_tid(post.created_ms, post.no)}"

    def comment_id(self, comment: Comment) -> str:
        return f"at://{self._did(comment.author)}/app.bsky.feed.post/{_tid(comment.created_ms, comment.no)}"

    def _profile(self, person: Person) -> dict[str, Any]:
        return {
            "did": self._did(person),
            "handle": self._handle(person),
            "displayName": person.name,
            "labels": [],
            "createdAt": "2023-04-01T09:00:00.000Z",
        }

    # ---- views --------------------------------------------------------------------------------
    def _post_view(self, base: str, post: Post) -> dict[str, Any]:
        if post.corrupt:
            return {"uri": self.post_id(post), "record": "corrupted", "indexedAt": 1714637730}
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": post.text,
            "createdAt": mastodon_time(post.created_ms),
            "langs": ["sv"],
        }
        view: dict[str, Any] = {
            "uri": self.post_id(post),
            "cid": _cid(post.no, len(post.versions), post.text),
            "author": self._profile(self.model.owner),
            "record": record,
        }
        facets, links = self._facets(post.text)
        if facets:
            record["facets"] = facets
        images = [m for m in post.media if m.kind == "image"]
        videos = [m for m in post.media if m.kind == "video"]
        quoted = self._quoted(post)
        if images:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": m.alt,
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": _cid("blob", m.no)},
                            "mimeType": f"image/{m.fmt}",
                            "size": 1000 + m.no,
                        },
                    }
                    for m in images
                ],
            }
            view["embed"] = {
                "$type": "app.bsky.embed.images#view",
                "images": [
                    {
                        "thumb": self.media_url(base, m),
                        "fullsize": self.media_url(base, m),
                        "alt": m.alt,
                        "aspectRatio": {"width": 64, "height": 48},
                    }
                    for m in images
                ],
            }
            if quoted is not None and post.no % QUOTE_MEDIA_EVERY == 0:
                record["embed"] = {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "media": record["embed"],
                    "record": {"$type": "app.bsky.embed.record", "record": self._strong(quoted)},
                }
                view["embed"] = {
                    "$type": "app.bsky.embed.recordWithMedia#view",
                    "media": view["embed"],
                    "record": {"$type": "app.bsky.embed.record#view", "record": self._view_record(base, quoted)},
                }
        elif links and not videos:
            card = {"uri": links[0], "title": post.title or "", "description": ""}
            record["embed"] = {"$type": "app.bsky.embed.external", "external": card}
            view["embed"] = {"$type": "app.bsky.embed.external#view", "external": card}
        elif quoted is not None and not videos and post.no % QUOTE_EVERY == 0:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": self._strong(quoted)}
            view["embed"] = {"$type": "app.bsky.embed.record#view", "record": self._view_record(base, quoted)}
        elif videos:
            m = videos[0]
            record["embed"] = {
                "$type": "app.bsky.embed.video",
                "alt": m.alt,
                "video": {
                    "$type": "blob",
                    "ref": {"$link": _cid("blob", m.no)},
                    "mimeType": "video/mp4",
                    "size": m.oversize or 2048,
                },
            }
            view["embed"] = {
                "$type": "app.bsky.embed.video#view",
                "cid": _cid("blob", m.no),
                "playlist": self.media_url(base, m),
                "alt": m.alt,
            }
        direct = self.model.thread(post, parent=None)
        view.update(
            {
                "replyCount": self.model.published_comments(post, len(direct)),
                "repostCount": post.no % 7,
                "likeCount": post.no % 41,
                "quoteCount": 0,
                "indexedAt": iso_micro(post.created_ms)[:23] + "Z",
                "labels": [],
            }
        )
        return view

    # ---- rich text, quotes and reposts ---------------------------------------------------------
    def _facets(self, text: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Facets for the URLs, #tags and @handles the text shows (byte offsets), and the URLs."""
        facets: list[dict[str, Any]] = []
        links: list[str] = []
        for m in _RICH.finditer(text):
            start = len(text[: m.start()].encode())
            index = {"byteStart": start, "byteEnd": start + len(m.group(0).encode())}
            if m.group(1):
                feature = {"$type": "app.bsky.richtext.facet#link", "uri": m.group(1)}
                links.append(m.group(1))
            elif m.group(2):
                feature = {"$type": "app.bsky.richtext.facet#tag", "tag": m.group(2)}
            else:
                handle = m.group(3)
                feature = {
                    "$type": "app.bsky.richtext.facet#mention",
                    "did": "did:plc:" + hashlib.sha256(f"{self.model.seed}:{handle}".encode()).hexdigest()[:24],
                }
            facets.append({"$type": "app.bsky.richtext.facet", "index": index, "features": [feature]})
        return facets, links

    def _quoted(self, post: Post) -> Post | None:
        """The post a quote of this one quotes: the account's post just before it (it may be deleted)."""
        if post.no % QUOTE_MEDIA_EVERY != 0 and post.no % QUOTE_EVERY != 0:
            return None
        earlier = [p for p in self.model.posts if p.created_ms < post.created_ms]
        return max(earlier, key=lambda p: (p.created_ms, p.no)) if earlier else None

    def _strong(self, post: Post) -> dict[str, str]:
        return {"uri": self.post_id(post), "cid": _cid(post.no, len(post.versions), post.text)}

    def _view_record(self, base: str, post: Post) -> dict[str, Any]:
        """The quoted post as an embed shows it (`viewRecord`), or `viewNotFound` once it is deleted."""
        uri = self.post_id(post)
        if self.live(uri) is None or post.corrupt:
            return {"$type": "app.bsky.embed.record#viewNotFound", "uri": uri, "notFound": True}
        value = {
            "$type": "app.bsky.feed.post",
            "text": post.text,
            "createdAt": mastodon_time(post.created_ms),
            "langs": ["sv"],
        }
        return {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": uri,
            "cid": _cid(post.no, len(post.versions), post.text),
            "author": self._profile(self.model.owner),
            "value": value,
            "labels": [],
            "likeCount": post.no % 41,
            "replyCount": 0,
            "repostCount": 0,
            "quoteCount": 1,
            "indexedAt": iso_micro(post.created_ms)[:23] + "Z",
            "embeds": [],
        }

    def _reposts(self) -> list[Reposted]:
        """The citizens' posts the account reposted so far: one an hour after every ninth post (the
        repost stands whatever becomes of that post)."""
        now = self.model.clock.now_ms()
        out = []
        for post in self.model.posts:
            if post.no % REPOST_EVERY != REPOST_EVERY - 1 or post.created_ms + HOUR_MS > now:
                continue
            author = Person(900_000 + post.no, f"medborgare{post.no}", f"Medborgare {post.no}")
            out.append(
                Reposted(
                    post.no,
                    author,
                    _CITIZEN_TEXTS[post.no % len(_CITIZEN_TEXTS)],
                    post.created_ms - 2 * HOUR_MS,
                    post.created_ms + HOUR_MS,
                )
            )
        return out

    def _reposted_uri(self, item: Reposted) -> str:
        return f"at://{self._did(item.author)}/app.bsky.feed.post/{_tid(item.created_ms, item.no)}"

    def _reposted_view(self, item: Reposted) -> dict[str, Any]:
        record = {
            "$type": "app.bsky.feed.post",
            "text": item.text,
            "createdAt": mastodon_time(item.created_ms),
            "langs": ["sv"],
        }
        return {
            "uri": self._reposted_uri(item),
            "cid": _cid("reposted", item.no),
            "author": self._profile(item.author),
            "record": record,
            "replyCount": 0,
            "repostCount": 1,
            "likeCount": item.no % 13,
            "quoteCount": 0,
            "indexedAt": iso_micro(item.created_ms)[:23] + "Z",
            "labels": [],
        }

    def _repost_item(self, item: Reposted) -> dict[str, Any]:
        reason = {
            "$type": "app.bsky.feed.defs#reasonRepost",
            "by": self._profile(self.model.owner),
            "uri": f"at://{self._did(self.model.owner)}/app.bsky.feed.repost/{_tid(item.reposted_ms, item.no)}",
            "cid": _cid("repost", item.no),
            "indexedAt": iso_micro(item.reposted_ms)[:23] + "Z",
        }
        return {"post": self._reposted_view(item), "reason": reason}

    def _comment_view(self, comment: Comment) -> dict[str, Any]:
        post = self.model.post(comment.post)
        assert post is not None
        root = {"uri": self.post_id(post), "cid": _cid(post.no, len(post.versions), post.text)}
        parent = root if comment.parent is None else self._ref(self.model.comments[comment.parent])
        record = {
            "$type": "app.bsky.feed.post",
            "text": comment.text,
            "createdAt": mastodon_time(comment.created_ms),
            "langs": ["sv"],
            "reply": {"root": root, "parent": parent},
        }
        replies = [c for c in self.model.thread(post, parent=comment.no)]
        return {
            "uri": self.comment_id(comment),
            "cid": _cid(comment.no, len(comment.versions), comment.text),
            "author": self._profile(comment.author),
            "record": record,
            "replyCount": len(replies),
            "repostCount": 0,
            "likeCount": comment.no % 5,
            "quoteCount": 0,
            "indexedAt": iso_micro(comment.created_ms)[:23] + "Z",
            "labels": [],
        }

    def _ref(self, comment: Comment) -> dict[str, str]:
        return {"uri": self.comment_id(comment), "cid": _cid(comment.no, len(comment.versions), comment.text)}

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        if sub.startswith("/plc/"):
            return self._did_document(sub.removeprefix("/plc/"), base)
        method = sub.removeprefix("/xrpc/")
        if method == "app.bsky.actor.getProfile":
            if req.param("actor") not in (self._handle(self.model.owner), self._did(self.model.owner)):
                return self.error(400, "Profile not found", code="InvalidRequest")
            profile = self._profile(self.model.owner)
            profile["postsCount"] = self.model.published_total(len(self.model.visible_posts()))
            return self._ok(profile)
        if method == "app.bsky.feed.getAuthorFeed":
            return self._author_feed(req, base)
        if method == "app.bsky.feed.getPostThread":
            return self._thread(req, base)
        if method == "app.bsky.feed.getPosts":
            uris = req.params("uris")
            if len(uris) > 25:
                return self.error(400, "uris must not have more than 25 elements", code="InvalidRequest")
            views = [v for v in (self._view_of(u, base) for u in uris) if v is not None]
            return self._ok({"posts": views})
        if method in _GRAPH:
            return self._graph(method, req)
        if method == "app.bsky.feed.getRepostedBy":
            uri = req.param("uri") or ""
            by = [self._profile(self.model.owner)] if any(self._reposted_uri(r) == uri for r in self._reposts()) else []
            return self._ok({"uri": uri, "repostedBy": by})
        return self.error(501, "Method Not Implemented", code="MethodNotImplemented")

    def _ok(self, body: dict[str, Any]) -> Response:
        return json_response(200, plain_json(body), content_type=CT, headers=self._limits())

    # ---- the viewer's own moderation ----------------------------------------------------------
    def listed_id(self, entry: Listed) -> str:
        if entry.list_name is not None:
            return self._list_uri(entry)
        return self._did(entry.person)

    def _list_uri(self, entry: Listed) -> str:
        return f"at://{self._did(entry.person)}/app.bsky.graph.list/{_tid(entry.created_ms - DAY_MS, entry.no)}"

    def _did_document(self, did: str, base: str) -> Response:
        """A PLC directory's answer for the account's DID (``{base}/plc`` stands for https://plc.directory):
        the DID document, whose ``#atproto_pds`` service is where the session's own lists are read. The
        simulator is that PDS too (the same base URL)."""
        owner = self.model.owner
        if did != self._did(owner):
            return json_response(404, plain_json({"message": f"DID not registered: {did}"}), content_type=CT)
        doc = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{self._handle(owner)}"],
            "verificationMethod": [],
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": base}],
        }
        return json_response(200, plain_json(doc), content_type=CT)

    def _graph(self, method: str, req: Request) -> Response:
        """``getBlocks``, ``getMutes``, ``getListBlocks``: the viewer's own lists, so only with a session token
        (the account's, when the model has one); ``limit`` 1–100 (default 50), ``cursor``."""
        token = req.bearer()
        if token is None or (self.model.token is not None and token != self.model.token):
            return self.error(401, "Authentication Required", code="AuthMissing" if token is None else "InvalidToken")
        name, key = _GRAPH[method]
        raw = req.param("limit")
        if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= 100):
            return self.error(400, "limit must be an integer between 1 and 100", code="InvalidRequest")
        limit = int(raw) if raw else 50
        entries = self.model.listed(name)
        cursor = req.param("cursor")
        if cursor:
            at, _, no = cursor.partition("::")
            if not (at.isdigit() and no.isdigit()):
                return self.error(400, "Malformed cursor", code="InvalidRequest")
            entries = [e for e in entries if (e.created_ms, e.no) < (int(at), int(no))]
        page = entries[:limit]
        body: dict[str, Any] = {key: [self._listed_view(name, e) for e in page]}
        if len(entries) > limit:
            body["cursor"] = f"{page[-1].created_ms}::{page[-1].no}"
        return self._ok(body)

    def _listed_view(self, name: str, entry: Listed) -> dict[str, Any]:
        owner = self._did(self.model.owner)
        record = f"at://{owner}/app.bsky.graph.{'listblock' if name == 'list_blocks' else 'block'}/"
        record += _tid(entry.created_ms, entry.no)
        if name == "list_blocks":
            return {
                "uri": self._list_uri(entry),
                "cid": _cid("list", entry.no, entry.list_name),
                "creator": self._profile(entry.person),
                "name": entry.list_name,
                "purpose": "app.bsky.graph.defs#modlist",
                "indexedAt": iso_micro(entry.created_ms - DAY_MS)[:23] + "Z",
                "viewer": {"muted": False, "blocked": record},
            }
        viewer: dict[str, Any] = {"muted": name == "mutes", "blockedBy": False}
        if name == "blocks":
            viewer["blocking"] = record
        return {**self._profile(entry.person), "indexedAt": "2023-04-22T01:26:08.149Z", "viewer": viewer}

    def _limits(self, remaining: int = 2999, reset_in: int = 300) -> list[tuple[str, str]]:
        reset = self.model.clock.now_ms() // 1000 + reset_in
        return [
            ("RateLimit-Limit", "3000"),
            ("RateLimit-Remaining", str(remaining)),
            ("RateLimit-Reset", str(reset)),
            ("RateLimit-Policy", "3000;w=300"),
        ]

    def _own_items(self) -> list[tuple[int, Post | Comment | Reposted]]:
        """The account's posts, its own replies and its reposts, newest first (a repost at its time)."""
        items: list[tuple[int, Post | Comment | Reposted]] = [(p.created_ms, p) for p in self.model.visible_posts()]
        for post in self.model.visible_posts():
            items += [(c.created_ms, c) for c in self.model.thread(post) if c.own]
        items += [(r.reposted_ms, r) for r in self._reposts()]
        return sorted(items, key=lambda pair: (pair[0], pair[1].no), reverse=True)

    def _author_feed(self, req: Request, base: str) -> Response:
        if req.param("actor") not in (self._handle(self.model.owner), self._did(self.model.owner)):
            return self.error(400, "Profile not found", code="InvalidRequest")
        try:
            limit = int(req.param("limit") or 50)
        except ValueError:
            return self.error(400, "limit must be an integer", code="InvalidRequest")
        if not 1 <= limit <= 100:
            return self.error(400, "limit must be between 1 and 100", code="InvalidRequest")
        items = self._own_items()
        cursor = req.param("cursor")
        if cursor:
            items = [(ms, it) for ms, it in items if iso_micro(ms)[:23] + "Z" < cursor]
        page = items[:limit]
        feed = []
        for _, item in page:
            if isinstance(item, Reposted):
                feed.append(self._repost_item(item))
            elif isinstance(item, Post):
                feed.append({"post": self._post_view(base, item)})
            else:
                view = self._comment_view(item)
                post = self.model.post(item.post)
                assert post is not None
                parent = (
                    self._post_view(base, post)
                    if item.parent is None
                    else self._comment_view(self.model.comments[item.parent])
                )
                typed = "app.bsky.feed.defs#postView"  # reply.root and .parent are unions: typed
                feed.append(
                    {
                        "post": view,
                        "reply": {
                            "root": {"$type": typed, **self._post_view(base, post)},
                            "parent": {"$type": typed, **parent},
                        },
                    }
                )
        body: dict[str, Any] = {"feed": feed}
        if len(items) > limit:
            body["cursor"] = iso_micro(page[-1][0])[:23] + "Z"
        return self._ok(body)

    def _find(self, uri: str) -> Post | Comment | None:
        return self.live(uri)

    def _view_of(self, uri: str, base: str) -> dict[str, Any] | None:
        reposted = next((r for r in self._reposts() if self._reposted_uri(r) == uri), None)
        if reposted is not None:
            return self._reposted_view(reposted)
        item = self._find(uri)
        if item is None:
            return None
        return self._post_view(base, item) if isinstance(item, Post) else self._comment_view(item)

    def _thread(self, req: Request, base: str) -> Response:
        uri = req.param("uri") or ""
        reposted = next((r for r in self._reposts() if self._reposted_uri(r) == uri), None)
        if reposted is not None:
            return self._ok(
                {
                    "thread": {
                        "$type": "app.bsky.feed.defs#threadViewPost",
                        "post": self._reposted_view(reposted),
                        "replies": [],
                    }
                }
            )
        item = self._find(uri)
        if item is None:
            return self.error(400, f"Post not found: {uri}", code="NotFound")
        depth = int(req.param("depth") or 6)
        post = item if isinstance(item, Post) else self.model.post(item.post)
        assert post is not None

        def node(it: Post | Comment, level: int) -> dict[str, Any]:
            view = self._post_view(base, it) if isinstance(it, Post) else self._comment_view(it)
            out: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": view}
            if level < depth:
                children = self.model.thread(post, parent=None if isinstance(it, Post) else it.no)
                out["replies"] = [node(c, level + 1) for c in children]
            return out

        thread = node(item, 0)
        if isinstance(item, Comment):
            parent_item: Post | Comment = post if item.parent is None else self.model.comments[item.parent]
            thread["parent"] = {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": self._post_view(base, parent_item)
                if isinstance(parent_item, Post)
                else self._comment_view(parent_item),
            }
        return self._ok({"thread": thread})

    def error(self, status: int, message: str, *, retry_after: int | None = None, code: str | None = None) -> Response:
        name = code or {429: "RateLimitExceeded", 401: "AuthMissing"}.get(status, "InternalServerError")
        headers = self._limits(0, retry_after or 300) if status == 429 else []
        return json_response(status, plain_json({"error": name, "message": message}), content_type=CT, headers=headers)
