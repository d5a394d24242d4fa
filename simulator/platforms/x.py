"""X: the API v2 (``{base}/x`` stands for ``https://api.x.com``).

Faithful points (docs.x.com: user Post timeline, recent search, Post lookup, edit Posts, rate
limits):
- Ids are snowflakes as decimal strings: ``(ms − 1288834974657) << 22 | worker << 12 | sequence``,
  so they grow with time and a connector can read the instant back from an id.
- ``GET /2/users/by/username/{username}`` and ``GET /2/users/{id}`` → ``data{id,name,username}``
  (``public_metrics.tweet_count`` with ``user.fields=public_metrics``); an unknown name or id is a 200
  with an ``errors`` array (``Not Found Error``), as X answers.
- ``GET /2/users/{id}/tweets``: the account's posts and its own replies, newest first;
  ``max_results`` 5–100 (default 10, else 400 ``Invalid Request``), ``pagination_token``,
  ``since_id``/``until_id`` (exclusive), ``start_time``/``end_time``, ``exclude=replies,retweets``;
  only the 3,200 most recent are reachable. ``meta{result_count,newest_id,oldest_id,next_token,
  previous_token}``; an empty page has no ``data`` key at all.
- Only ``id``, ``text`` and ``edit_history_tweet_ids`` are sent unless ``tweet.fields`` asks for
  more; ``expansions=author_id,attachments.media_keys,referenced_tweets.id`` fill ``includes{users,
  media,tweets}``; ``media.fields``/``user.fields`` likewise. Posts longer than 280 characters
  carry the first 280 in ``text`` (ending in "…") and the whole text in ``note_tweet.text``.
- Replies: ``GET /2/tweets/search/recent?query=conversation_id:{id}`` (also ``from:``, ``is:reply``
  and plain words), ``max_results`` 10–100, paged with the ``next_token`` request parameter; only
  posts created in the last 7 days (by the clock) are searchable.
- ``GET /2/tweets?ids=`` (≤ 100) and ``/2/tweets/{id}``: a deleted post is an ``errors`` entry
  (``resource-not-found``) in a 200 answer.
- Every response carries ``x-rate-limit-limit/remaining/reset`` (epoch seconds, 15-minute windows);
  over the limit (an injected fault) 429 with a problem+JSON body and ``x-rate-limit-remaining: 0``,
  reset = now + the fault's ``retry_after``. Other errors are problem+JSON too.
- ``GET /2/users/{id}/blocking`` and ``/muting`` (blocks and mutes lookup): the user's own, ``data`` of
  users (``id``, ``name``, ``username`` and what ``user.fields`` asks), ``meta{result_count,next_token,
  previous_token}``, ``max_results`` 1–1000 (default 100), ``pagination_token``; no ``data`` when empty (as
  tweepy's recorded muting answer shows the shape with one user); another user's id: 403. X allows these
  to user-context tokens only (OAuth 2.0 PKCE with block.read / mute.read; app-only: 403 "Unsupported
  Authentication"): the simulator takes the account's token for one, and a test injects the 403 as a
  fault. 15 requests per 15 minutes. Newest block first is our assumption (X does not document the order).
- Timestamps ``2024-05-02T08:15:30.000Z`` (X sends whole seconds).
- ``text`` is HTML-escaped: ``&`` ``<`` ``>`` arrive as ``&amp;`` ``&lt;`` ``&gt;`` (as tweepy's real
  recordings show; nothing else is escaped).
- A retweet is a post of the account whose ``referenced_tweets`` is ``[{"type": "retweeted", "id"}]``
  and whose ``text`` is X's copy ``RT @name: …`` cut to 140 characters (ending in "…", as recorded);
  ``expansions=referenced_tweets.id`` puts the original, whole, in ``includes.tweets``, and
  ``referenced_tweets.id.author_id`` its author in ``includes.users``. A quote names the quoted
  post as ``quoted`` likewise. A poll is ``attachments.poll_ids`` with ``includes.polls``
  (``expansions=attachments.poll_ids``; ``id`` and ``options`` by default, more by ``poll.fields``).

Decisions where the docs are silent (or the model is richer than X allows):
- An edit is a new post id: every model version gets its own snowflake (at the version's time)
  and ``edit_history_tweet_ids`` lists them oldest first. Listings show the newest version (its
  ``id``, ``text`` and ``created_at`` = the edit time) at the place of the original, and
  ``since_id``/``until_id``/paging compare the original's id, so an edit does not move a post.
  ``GET /2/tweets/{old id}`` returns that older version with the whole history. The model's
  ground truth names an item by the first id in its history. X's 30-minute/5-edit limit is not
  enforced (the timeline decides when edits happen).
- A reply's ``referenced_tweets`` ``replied_to`` names the version of the parent that was current
  when the reply was written; ``conversation_id`` is the root's original id.
- Replies the account hid are left out of search but still answered by lookup (they are public
  behind "view hidden replies").
- Rate-limit budgets are counted and reported but never enforced: throttling comes from faults.
- Videos carry one MP4 variant (the file itself); no HLS playlist, no ``preview_image_url``; no
  ``alt_text`` (X's published schema gives it to ``Photo`` only).
- Retweets, quotes and polls come from the post numbers, outside the shared model (no other
  platform sees them): an hour after every ninth post the account retweets a citizen's post; every
  sixth post without media quotes one; every tenth post without media carries a poll (two options,
  a day long). The citizens' posts are not in the ground truth; lookups find them and the retweets.
  ``note_tweet.text`` is sent unescaped (the recordings have none to show otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..clock import ClockError, parse_instant, to_datetime
from ..httpcore import Request, Response, json_response
from ..rand import mix
from ..social import Comment, Listed, Media, Person, Post, Version
from .base import PlatformApp, plain_json

CT = "application/json; charset=utf-8"
PROBLEM_CT = "application/problem+json"
TWEPOCH = 1_288_834_974_657
WEEK_MS = 7 * 86_400_000
WINDOW_S = 900
TIMELINE_CAP = 3200
NOTE_LIMIT = 280
DEFAULT_TWEET = ("id", "text", "edit_history_tweet_ids")
LIMITS = {"users": 300, "timeline": 1500, "search": 450, "lookup": 3500, "blocking": 15, "muting": 15}
_HASHTAG = re.compile(r"(?<![\w&])#(\w[\w-]*)")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
HOUR_MS = 3_600_000
RETWEET_EVERY, QUOTE_EVERY, POLL_EVERY = 9, 6, 10
RT_LIMIT = 140
DEFAULT_POLL = ("id", "options")
#: Sequence bits of ids outside the model (a model item's are its version number): no collision.
_CITIZEN_SEQ, _RETWEET_SEQ = 0xF00, 0xF80
_CITIZEN_TEXTS = (
    "Tack för informationen! Gäller det även Norrby & Söder?",
    "Bra att bussarna går oftare nu <3 men linje 4 är fortfarande sen.",
    "Snöröjningen på Storgatan fungerar bra i år. #sundsvik",
    "Öppet hus på biblioteket på lördag, kom dit! Barnteater kl 11 & pyssel hela dagen. Ta med "
    "hela familjen och passa på att låna sommarens böcker innan semestern börjar på riktigt.",
)


@dataclass(frozen=True)
class Citizen:
    """A citizen's post outside the model, which the account retweets or quotes."""

    no: int
    author: Person
    text: str
    created_ms: int


@dataclass(frozen=True)
class Retweet:
    """The account's retweet of a citizen's post (a post of its own on the timeline)."""

    no: int
    original: Citizen
    at_ms: int


Item = Post | Comment


def x_escape(text: str) -> str:
    """X's escaping of ``text``: exactly ``&``, ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def snowflake(ms: int, no: int, seq: int = 0) -> int:
    """A Twitter snowflake for an instant; ``no`` and ``seq`` fill the worker and sequence bits."""
    return (max(ms - TWEPOCH, 0) << 22) | ((no % 1024) << 12) | (seq & 0xFFF)


def x_time(ms: int) -> str:
    """``2024-05-02T08:15:30.000Z``: X's ``created_at`` (whole seconds)."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def _b36(value: int) -> str:
    out = ""
    while True:
        value, digit = divmod(value, 36)
        out = _B36[digit] + out
        if not value:
            return out


class _BadRequest(Exception):
    def __init__(self, parameter: str, value: str, message: str) -> None:
        super().__init__(message)
        self.parameter, self.value, self.message = parameter, value, message


class App(PlatformApp):
    name = "x"
    prefix = "/x"
    moderation_lists = ("blocks", "mutes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._used: dict[tuple[str, int], int] = {}

    # ---- ids ----------------------------------------------------------------------------------
    def _ids(self, item: Item) -> list[str]:
        return [str(snowflake(v.at_ms, item.no, k)) for k, v in enumerate(item.versions)]

    def _at(self, item: Item | Retweet) -> int:
        """When the item's shown version was made."""
        return item.at_ms if isinstance(item, Retweet) else item.versions[-1].at_ms

    def _shown_id(self, item: Item | Retweet) -> str:
        return self._retweet_id(item) if isinstance(item, Retweet) else self._ids(item)[-1]

    def _key(self, item: Item | Retweet) -> int:
        """The id a listing orders and pages by (the original's, for an edited post)."""
        return int(self._retweet_id(item)) if isinstance(item, Retweet) else int(self._ids(item)[0])

    def post_id(self, post: Post) -> str:
        return self._ids(post)[0]

    def comment_id(self, comment: Comment) -> str:
        return self._ids(comment)[0]

    def _user_id(self, person: Person) -> str:
        return str(1_000_000_000 + mix(self.model.seed, "x-user", person.no, person.handle) % 9_000_000_000)

    def _media_key(self, media: Media) -> str:
        return f"{7 if media.kind == 'video' else 3}_{snowflake(1_600_000_000_000, media.no, media.no >> 10)}"

    # ---- retweets, quotes, polls ----------------------------------------------------------------
    def _citizen(self, no: int, before_ms: int) -> Citizen:
        author = Person(900_000 + no, f"medborgare{no}", f"Medborgare {no}")
        return Citizen(no, author, _CITIZEN_TEXTS[no % len(_CITIZEN_TEXTS)], before_ms - 2 * HOUR_MS)

    def _citizen_id(self, citizen: Citizen) -> str:
        return str(snowflake(citizen.created_ms, citizen.no, _CITIZEN_SEQ))

    def _retweets(self) -> list[Retweet]:
        """The account's retweets so far: an hour after every ninth visible post."""
        now = self.model.clock.now_ms()
        return [
            Retweet(post.no, self._citizen(post.no, post.created_ms), post.created_ms + HOUR_MS)
            for post in self.model.visible_posts()
            if post.no % RETWEET_EVERY == RETWEET_EVERY - 1 and post.created_ms + HOUR_MS <= now
        ]

    def _retweet_id(self, rt: Retweet) -> str:
        return str(snowflake(rt.at_ms, rt.no, _RETWEET_SEQ))

    def _quoted(self, post: Post) -> Citizen | None:
        if post.corrupt or post.media or post.no % QUOTE_EVERY != QUOTE_EVERY - 1:
            return None
        return self._citizen(100_000 + post.no, post.created_ms)

    def _poll_of(self, post: Post) -> str | None:
        if post.corrupt or post.media or post.no % POLL_EVERY != POLL_EVERY - 1:
            return None
        return str(snowflake(post.created_ms, post.no, 0xE00))

    def _poll(self, post: Post, fields: set[str]) -> dict[str, Any]:
        end = post.created_ms + 24 * HOUR_MS
        closed = end <= self.model.clock.now_ms()
        options = [
            {"position": 1, "label": "Ja", "votes": post.no % 17},
            {"position": 2, "label": "Nej & kanske", "votes": post.no % 5},
        ]
        full: dict[str, Any] = {
            "id": self._poll_of(post),
            "options": options,
            "duration_minutes": 1440,
            "end_datetime": x_time(end),
            "voting_status": "closed" if closed else "open",
        }
        return {k: v for k, v in full.items() if k in DEFAULT_POLL or k in fields}

    def _citizen_tweet(self, citizen: Citizen, fields: set[str]) -> dict[str, Any]:
        cid = self._citizen_id(citizen)
        full: dict[str, Any] = {
            "id": cid,
            "text": x_escape(citizen.text),
            "edit_history_tweet_ids": [cid],
            "created_at": x_time(citizen.created_ms),
            "author_id": self._user_id(citizen.author),
            "conversation_id": cid,
            "lang": "sv",
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": {
                "retweet_count": 1,
                "reply_count": 0,
                "like_count": citizen.no % 13,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 90,
            },
        }
        return {key: value for key, value in full.items() if key in DEFAULT_TWEET or key in fields}

    def _retweet_tweet(self, rt: Retweet, fields: set[str]) -> dict[str, Any]:
        rid = self._retweet_id(rt)
        text = f"RT @{rt.original.author.handle}: {rt.original.text}"
        if len(text) > RT_LIMIT:
            text = text[: RT_LIMIT - 1] + "…"
        mention = len(rt.original.author.handle) + 1
        full: dict[str, Any] = {
            "id": rid,
            "text": x_escape(text),
            "edit_history_tweet_ids": [rid],
            "created_at": x_time(rt.at_ms),
            "author_id": self._user_id(self.model.owner),
            "conversation_id": rid,
            "lang": "sv",
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "referenced_tweets": [{"type": "retweeted", "id": self._citizen_id(rt.original)}],
            "entities": {
                "mentions": [
                    {
                        "start": 3,
                        "end": 3 + mention,
                        "username": rt.original.author.handle,
                        "id": self._user_id(rt.original.author),
                    }
                ]
            },
            "edit_controls": {
                "edits_remaining": 0,
                "is_edit_eligible": False,
                "editable_until": x_time(rt.at_ms + 30 * 60_000),
            },
            "public_metrics": {
                "retweet_count": 1,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
        }
        return {key: value for key, value in full.items() if key in DEFAULT_TWEET or key in fields}

    # ---- rendering ----------------------------------------------------------------------------
    def _user(self, person: Person, fields: set[str]) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self._user_id(person), "name": person.name, "username": person.handle}
        extra: dict[str, Any] = {
            "created_at": "2012-03-14T09:00:00.000Z",
            "protected": False,
            "verified": False,
            "description": f"{person.name}" if person.no else f"Officiellt konto för {self.model.owner.name}.",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{person.no}/avatar_normal.jpg",
        }
        if "public_metrics" in fields:
            own = self.model.published_total(len(self._timeline_items())) if person.no == 0 else 1 + person.no % 300
            extra["public_metrics"] = {
                "followers_count": 4200 if person.no == 0 else person.no % 500,
                "following_count": 180,
                "tweet_count": own,
                "listed_count": 12,
            }
        user.update({k: v for k, v in extra.items() if k in fields})
        return user

    def _version_at(self, item: Item, ms: int) -> int:
        k = 0
        for index, version in enumerate(item.versions):
            if version.at_ms <= ms:
                k = index
        return k

    def _author(self, item: Item) -> Person:
        return self.model.owner if isinstance(item, Post) else item.author

    def _parent(self, item: Comment) -> Item:
        if item.parent is not None:
            return self.model.comments[item.parent]
        post = self.model.post(item.post)
        assert post is not None
        return post

    def _root(self, item: Item) -> Post:
        if isinstance(item, Post):
            return item
        post = self.model.post(item.post)
        assert post is not None
        return post

    def _reply_count(self, item: Item) -> int:
        """``public_metrics.reply_count``: the direct replies, and for a post what ``drift`` moved it by."""
        shown = len(self._direct_replies(item))
        return self.model.published_comments(item, shown) if isinstance(item, Post) else shown

    def _direct_replies(self, item: Item) -> list[Comment]:
        post = self._root(item)
        return self.model.thread(post, parent=None if isinstance(item, Post) else item.no)

    def _tweet(self, item: Item, base: str, fields: set[str], k: int | None = None) -> dict[str, Any]:
        """One post object: version ``k`` (default the newest) of a post or reply."""
        ids = self._ids(item)
        k = len(ids) - 1 if k is None else k
        version: Version = item.versions[k]
        root = self._root(item)
        if isinstance(item, Post) and item.corrupt:  # malformed: wrong types, required fields missing
            return {
                "id": ids[k],
                "text": 20240502,
                "conversation_id": ids[0],
                "created_at": None,
                "author_id": self._user_id(self.model.owner),
                "public_metrics": {
                    "retweet_count": 0,
                    "reply_count": len(self._direct_replies(item)),
                    "like_count": 0,
                    "quote_count": 0,
                },
            }
        text = version.text
        full: dict[str, Any] = {
            "id": ids[k],
            "text": x_escape(text),
            "edit_history_tweet_ids": ids,
            "created_at": x_time(version.at_ms),
            "author_id": self._user_id(self._author(item)),
            "conversation_id": self.post_id(root),
            "lang": "sv",
            "possibly_sensitive": False,
            "reply_settings": "everyone",
        }
        if len(text) > NOTE_LIMIT:
            full["text"] = x_escape(text[: NOTE_LIMIT - 1] + "…")
            full["note_tweet"] = {"text": text}
        if isinstance(item, Comment):
            parent = self._parent(item)
            pk = self._version_at(parent, item.created_ms)
            full["in_reply_to_user_id"] = self._user_id(self._author(parent))
            full["referenced_tweets"] = [{"type": "replied_to", "id": self._ids(parent)[pk]}]
        quoted = self._quoted(item) if isinstance(item, Post) else None
        if quoted is not None:
            full["referenced_tweets"] = [{"type": "quoted", "id": self._citizen_id(quoted)}]
        media = item.media if isinstance(item, Post) else []
        if media:
            full["attachments"] = {"media_keys": [self._media_key(m) for m in media]}
        poll = self._poll_of(item) if isinstance(item, Post) else None
        if poll is not None:
            full["attachments"] = {"poll_ids": [poll]}
        tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(full["text"])]
        if tags:
            full["entities"] = {"hashtags": tags}
        created = item.versions[0].at_ms
        full["edit_controls"] = {
            "edits_remaining": max(0, 5 - (len(ids) - 1)),
            "is_edit_eligible": True,
            "editable_until": x_time(created + 30 * 60_000),
        }
        full["public_metrics"] = {
            "retweet_count": item.no % 7,
            "reply_count": self._reply_count(item),
            "like_count": item.no % 41,
            "quote_count": 0,
            "bookmark_count": item.no % 3,
            "impression_count": 100 + item.no * 13 % 5000,
        }
        return {key: value for key, value in full.items() if key in DEFAULT_TWEET or key in fields}

    def _media_object(self, media: Media, base: str, fields: set[str]) -> dict[str, Any]:
        kind = "video" if media.kind == "video" else "photo"
        out: dict[str, Any] = {"media_key": self._media_key(media), "type": kind}
        extra: dict[str, Any] = {
            "width": 1280 if media.kind == "video" else 64,
            "height": 720 if media.kind == "video" else 48,
        }
        if media.kind != "video":  # X's schema gives alt_text to photos only (Photo, not Video)
            extra["alt_text"] = media.alt
        if media.kind == "video":
            extra["duration_ms"] = 30_000 + media.no % 60_000
            extra["variants"] = [
                {"bit_rate": 2_176_000, "content_type": "video/mp4", "url": self.media_url(base, media)}
            ]
        else:
            extra["url"] = self.media_url(base, media)
        out.update({k: v for k, v in extra.items() if k in fields})
        return out

    def _render(self, item: Item | Retweet | Citizen, base: str, fields: set[str], k: int | None) -> dict[str, Any]:
        if isinstance(item, Retweet):
            return self._retweet_tweet(item, fields)
        if isinstance(item, Citizen):
            return self._citizen_tweet(item, fields)
        return self._tweet(item, base, fields, k)

    def _envelope(self, req: Request, base: str, shown: list[tuple[Any, int | None]]) -> dict[str, Any]:
        """``data`` and ``includes`` for the items shown (each with the version to show)."""
        tweet_fields = set(req.params("tweet.fields"))
        expansions = set(req.params("expansions"))
        user_fields = set(req.params("user.fields"))
        data = [self._render(item, base, tweet_fields, k) for item, k in shown]
        outside = [
            item.original if isinstance(item, Retweet) else self._quoted(item)
            for item, _ in shown
            if isinstance(item, Retweet) or isinstance(item, Post) and self._quoted(item) is not None
        ]
        citizens = [c for c in outside if c is not None]
        body: dict[str, Any] = {"data": data}
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in expansions:
            media_fields = set(req.params("media.fields"))
            media = [
                self._media_object(m, base, media_fields)
                for item, _ in shown
                if isinstance(item, Post) and not item.corrupt
                for m in item.media
            ]
            if media:
                includes["media"] = media
        if "attachments.poll_ids" in expansions:
            poll_fields = set(req.params("poll.fields"))
            polls = [
                self._poll(item, poll_fields)
                for item, _ in shown
                if isinstance(item, Post) and self._poll_of(item) is not None
            ]
            if polls:
                includes["polls"] = polls
        referenced: list[dict[str, Any]] = []
        if "referenced_tweets.id" in expansions:
            seen: set[str] = set()
            for citizen in citizens:
                tweet = self._citizen_tweet(citizen, tweet_fields)
                if tweet["id"] not in seen:
                    seen.add(tweet["id"])
                    referenced.append(tweet)
            for item, _ in shown:
                if isinstance(item, Comment):
                    parent = self._parent(item)
                    if parent.versions and not self._gone(parent):
                        pk = self._version_at(parent, item.created_ms)
                        tweet = self._tweet(parent, base, tweet_fields, pk)
                        if tweet["id"] not in seen:
                            seen.add(tweet["id"])
                            referenced.append(tweet)
            if referenced:
                includes["tweets"] = referenced
        people: dict[str, Person] = {}
        if "author_id" in expansions:
            for item, _ in shown:
                person = (
                    item.author
                    if isinstance(item, Citizen)
                    else self.model.owner
                    if isinstance(item, Retweet)
                    else self._author(item)
                )
                people.setdefault(self._user_id(person), person)
            if "referenced_tweets.id" in expansions:
                for item, _ in shown:
                    if isinstance(item, Comment):
                        parent_author = self._author(self._parent(item))
                        people.setdefault(self._user_id(parent_author), parent_author)
        if "referenced_tweets.id.author_id" in expansions:
            for citizen in citizens:
                people.setdefault(self._user_id(citizen.author), citizen.author)
        if people:
            includes["users"] = [self._user(p, user_fields) for p in people.values()]
        if includes:
            body["includes"] = includes
        return body

    def _gone(self, item: Item) -> bool:
        root = self._root(item)
        if root.deleted_ms is not None:
            return True
        return isinstance(item, Comment) and item.deleted_ms is not None

    # ---- responses ----------------------------------------------------------------------------
    def _limits(self, endpoint: str, *, exhausted: bool = False, reset_in: int | None = None) -> list[tuple[str, str]]:
        now_s = self.model.clock.now_ms() // 1000
        window = now_s // WINDOW_S
        limit = LIMITS.get(endpoint, 900)
        if exhausted:
            used = limit
        else:
            used = self._used.get((endpoint, window), 0) + 1
            self._used[(endpoint, window)] = used
        reset = now_s + reset_in if reset_in is not None else (window + 1) * WINDOW_S
        return [
            ("x-rate-limit-limit", str(limit)),
            ("x-rate-limit-remaining", str(max(limit - used, 0 if exhausted else 1))),
            ("x-rate-limit-reset", str(reset)),
        ]

    def _ok(self, endpoint: str, body: dict[str, Any]) -> Response:
        return json_response(200, plain_json(body), content_type=CT, headers=self._limits(endpoint))

    def error(self, status: int, message: str, *, retry_after: int | None = None) -> Response:
        titles = {
            400: "Invalid Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        title = titles.get(status, "Error")
        detail = {401: "Unauthorized", 429: "Too Many Requests"}.get(status, message)
        body = {"title": title, "detail": detail, "type": "about:blank", "status": status}
        headers = self._limits("any", exhausted=True, reset_in=retry_after or WINDOW_S) if status == 429 else []
        return json_response(status, plain_json(body), content_type=PROBLEM_CT, headers=headers)

    def _invalid(self, bad: _BadRequest) -> Response:
        body = {
            "errors": [{"parameters": {bad.parameter: [bad.value]}, "message": bad.message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        }
        return json_response(400, plain_json(body), content_type=PROBLEM_CT, headers=self._limits("any"))

    # ---- routes -------------------------------------------------------------------------------
    def route(self, sub: str, req: Request, base: str) -> Response:
        parts = [p for p in sub.split("/") if p]
        try:
            if parts[:4] == ["2", "users", "by", "username"] and len(parts) == 5:
                return self._by_username(parts[4], req)
            if parts[:2] == ["2", "users"] and len(parts) == 3:
                return self._by_id(parts[2], req)
            if parts[:2] == ["2", "users"] and len(parts) == 4 and parts[3] == "tweets":
                return self._timeline(parts[2], req, base)
            if parts[:2] == ["2", "users"] and len(parts) == 4 and parts[3] in ("blocking", "muting"):
                return self._moderation(parts[2], parts[3], req)
            if parts == ["2", "tweets", "search", "recent"]:
                return self._search(req, base)
            if parts == ["2", "tweets"]:
                return self._lookup(req.params("ids"), req, base, single=False)
            if parts[:2] == ["2", "tweets"] and len(parts) == 3:
                return self._lookup([parts[2]], req, base, single=True)
        except _BadRequest as bad:
            return self._invalid(bad)
        return self.error(404, "Sorry, that page does not exist")

    def _by_username(self, username: str, req: Request) -> Response:
        owner = self.model.owner
        if username.lower().lstrip("@") != owner.handle.lower():
            return self._ok(
                "users",
                {
                    "errors": [
                        {
                            "value": username,
                            "detail": f"Could not find user with username: [{username}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "username",
                            "resource_id": username,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        return self._ok("users", {"data": self._user(owner, set(req.params("user.fields")))})

    def _by_id(self, user_id: str, req: Request) -> Response:
        """``GET /2/users/{id}``: the account by id (its ``public_metrics`` on request); another id is a
        200 with a ``Not Found Error``, as for a name."""
        owner = self.model.owner
        if user_id != self._user_id(owner):
            problem = {
                "value": user_id,
                "detail": f"Could not find user with id: [{user_id}].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "id",
                "resource_id": user_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            return self._ok("users", {"errors": [problem]})
        return self._ok("users", {"data": self._user(owner, set(req.params("user.fields")))})

    def _int_param(self, req: Request, name: str, low: int, high: int, default: int) -> int:
        raw = req.param(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise _BadRequest(name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}")
        return int(raw)

    def _id_param(self, req: Request, name: str) -> int | None:
        raw = req.param(name)
        if raw is None or raw == "":
            return None
        if not raw.isdigit():
            raise _BadRequest(name, raw, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
        return int(raw)

    def _time_param(self, req: Request, name: str) -> int | None:
        raw = req.param(name)
        if not raw:
            return None
        try:
            return parse_instant(raw)
        except ClockError:
            raise _BadRequest(
                name, raw, f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 date-time"
            ) from None

    def _timeline_items(self) -> list[Item | Retweet]:
        """The account's visible posts, its own replies and its retweets, newest first (by the original's id)."""
        items: list[Item | Retweet] = list(self.model.visible_posts())
        for post in self.model.visible_posts():
            items += [c for c in self.model.thread(post) if c.own]
        items += self._retweets()
        return sorted(items, key=self._key, reverse=True)[:TIMELINE_CAP]

    def _page(
        self, items: list[Any], req: Request, *, token_param: str, low: int, default: int
    ) -> tuple[list[Any], dict[str, Any]]:
        """Filter by since/until/start/end, then one page after the token; the items newest first."""
        limit = self._int_param(req, "max_results", low, 100, default)
        since, until = self._id_param(req, "since_id"), self._id_param(req, "until_id")
        start, end = self._time_param(req, "start_time"), self._time_param(req, "end_time")
        keyed = [(self._key(it), it) for it in items]
        if since is not None:
            keyed = [(k, it) for k, it in keyed if k > since]
        if until is not None:
            keyed = [(k, it) for k, it in keyed if k < until]
        if start is not None:
            keyed = [(k, it) for k, it in keyed if self._at(it) >= start]
        if end is not None:
            keyed = [(k, it) for k, it in keyed if self._at(it) <= end]
        token = req.param(token_param)
        if token:
            direction, value = token[:1], token[1:]
            try:
                anchor = int(value, 36)
            except ValueError:
                raise _BadRequest(
                    token_param, token, f"The `{token_param}` query parameter value [{token}] is not a valid token"
                ) from None
            if direction == "n":
                keyed = [(k, it) for k, it in keyed if k < anchor]
            elif direction == "p":
                newer = [(k, it) for k, it in keyed if k > anchor]
                keyed = newer[-limit:] + [(k, it) for k, it in keyed if k <= anchor]
            else:
                raise _BadRequest(
                    token_param, token, f"The `{token_param}` query parameter value [{token}] is not a valid token"
                )
        page = keyed[:limit]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = self._shown_id(page[0][1])
            meta["oldest_id"] = self._shown_id(page[-1][1])
            if len(keyed) > limit:
                meta["next_token"] = "n" + _b36(page[-1][0])
            if token:
                meta["previous_token"] = "p" + _b36(page[0][0])
        return [it for _, it in page], meta

    def _timeline(self, user_id: str, req: Request, base: str) -> Response:
        if user_id != self._user_id(self.model.owner):
            if not user_id.isdigit():
                raise _BadRequest("id", user_id, f"The `id` query parameter value [{user_id}] is not valid")
            return self._ok(
                "timeline",
                {
                    "errors": [
                        {
                            "value": user_id,
                            "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": user_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        items = self._timeline_items()
        if "replies" in req.params("exclude"):
            items = [it for it in items if not isinstance(it, Comment)]
        if "retweets" in req.params("exclude"):
            items = [it for it in items if not isinstance(it, Retweet)]
        page, meta = self._page(items, req, token_param="pagination_token", low=5, default=10)
        body = self._envelope(req, base, [(it, None) for it in page]) if page else {}
        body["meta"] = meta
        return self._ok("timeline", body)

    def listed_id(self, entry: Listed) -> str:
        return self._user_id(entry.person)

    def _moderation(self, user_id: str, which: str, req: Request) -> Response:
        """``GET /2/users/{id}/blocking`` or ``/muting``: the token's own user only (the simulator takes the
        account's token as a user-context one), ``max_results`` 1–1000 (default 100), ``pagination_token``."""
        if user_id != self._user_id(self.model.owner):
            return self.error(403, "You are not permitted to see the blocks or mutes of another user.")
        entries = self.model.listed("blocks" if which == "blocking" else "mutes")
        limit = self._int_param(req, "max_results", 1, 1000, 100)
        token = req.param("pagination_token")
        start = 0
        if token:
            try:
                start = int(token, 36)
            except ValueError:
                raise _BadRequest(
                    "pagination_token", token, f"The `pagination_token` query parameter value [{token}] is not valid"
                ) from None
        page = entries[start : start + limit]
        body: dict[str, Any] = {}
        if page:
            body["data"] = [self._user(e.person, set(req.params("user.fields"))) for e in page]
        meta: dict[str, Any] = {"result_count": len(page)}
        if start + limit < len(entries):
            meta["next_token"] = _b36(start + limit)
        if start:
            meta["previous_token"] = _b36(max(start - limit, 0))
        body["meta"] = meta
        return self._ok(which, body)

    def _search(self, req: Request, base: str) -> Response:
        query = (req.param("query") or "").strip()
        if not query:
            raise _BadRequest("query", "", "The `query` parameter can not be empty")
        now = self.model.clock.now_ms()
        start = self._time_param(req, "start_time")
        if start is not None and start < now - WEEK_MS:
            raise _BadRequest(
                "start_time",
                req.param("start_time") or "",
                "Invalid 'start_time'. 'start_time' must be on or after the last 7 days",
            )
        items: list[Item] = []
        conversation = next((t.partition(":")[2] for t in query.split() if t.startswith("conversation_id:")), None)
        root = self.lookup(conversation) if conversation else None
        # A conversation query needs only that post's thread; anything else scans the account.
        for post in [root] if isinstance(root, Post) else [] if conversation else self.model.visible_posts():
            if post.deleted_ms is not None:
                continue
            items.append(post)
            items += [c for c in self.model.thread(post)]
        items = [it for it in items if it.versions[-1].at_ms >= now - WEEK_MS]
        for term in query.split():
            items = [it for it in items if self._matches(it, term)]
        items.sort(key=lambda it: int(self._ids(it)[0]), reverse=True)
        page, meta = self._page(items, req, token_param="next_token", low=10, default=10)
        meta.pop("previous_token", None)
        body = self._envelope(req, base, [(it, None) for it in page]) if page else {}
        body["meta"] = meta
        return self._ok("search", body)

    def _matches(self, item: Item, term: str) -> bool:
        negate = term.startswith("-")
        term = term.lstrip("-")
        key, _, value = term.partition(":")
        if key == "conversation_id" and value:
            hit = self.post_id(self._root(item)) == value
        elif key == "from" and value:
            hit = self._author(item).handle.lower() == value.lower().lstrip("@")
        elif term == "is:reply":
            hit = isinstance(item, Comment)
        elif term in ("is:retweet", "is:quote"):
            hit = False
        else:
            hit = term.strip('"').lower() in item.versions[-1].text.lower()
        return hit != negate

    def _find(self, tweet_id: str) -> tuple[Item | Retweet | Citizen, int | None] | None:
        """A live post or reply by any of its version ids (hidden replies included: still public), a
        retweet, or a citizen's post the account retweeted or quoted."""
        for rt in self._retweets():
            if tweet_id == self._retweet_id(rt):
                return rt, None
            if tweet_id == self._citizen_id(rt.original):
                return rt.original, None
        for quoting in self.model.visible_posts():
            quoted = self._quoted(quoting)
            if quoted is not None and tweet_id == self._citizen_id(quoted):
                return quoted, None
        for post in self.model.posts:
            if post.deleted_ms is not None or post.created_ms > self.model.clock.now_ms():
                continue
            ids = self._ids(post)
            if tweet_id in ids:
                return post, ids.index(tweet_id)
            for no in post.comments:
                c = self.model.comments[no]
                if c.deleted_ms is None and c.created_ms <= self.model.clock.now_ms():
                    cids = self._ids(c)
                    if tweet_id in cids:
                        return c, cids.index(tweet_id)
        return None

    def _lookup(self, ids: list[str], req: Request, base: str, *, single: bool) -> Response:
        if not ids:
            raise _BadRequest("ids", "", "The `ids` query parameter can not be empty")
        if len(ids) > 100:
            raise _BadRequest(
                "ids",
                ",".join(ids),
                f"The number of values in the `ids` query parameter list [{len(ids)}] is not between 1 and 100",
            )
        for tid in ids:
            if not tid.isdigit():
                raise _BadRequest(
                    "id" if single else "ids",
                    tid,
                    f"The `{'id' if single else 'ids'}` query parameter value [{tid}] does not match ^[0-9]{{1,19}}$",
                )
        found: list[tuple[Item | Retweet | Citizen, int | None]] = []
        errors: list[dict[str, Any]] = []
        for tid in ids:
            hit = self._find(tid)
            if hit is None:
                param = "id" if single else "ids"
                errors.append(
                    {
                        "value": tid,
                        "detail": f"Could not find tweet with {param}: [{tid}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": param,
                        "resource_id": tid,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )
            else:
                found.append(hit)
        body = self._envelope(req, base, found) if found else {}
        if single and found:
            body["data"] = body["data"][0]
        if errors:
            body["errors"] = errors
        return self._ok("lookup", body)
