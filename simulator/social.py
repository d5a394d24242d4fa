"""One platform-neutral account model for the platforms added after Mastodon and WordPress.

Facebook, Instagram, X, YouTube, LinkedIn, Flickr, TikTok, Bluesky and RSS/Atom all hold the
same things for a municipality: posts (with a title on some), media, comments, replies to
comments, edits, deletions and hidden comments. ``SocialModel`` keeps those once; each
platform module (``simulator/platforms/``) only renders them in its own wire format: ids,
timestamps, paging, envelopes, error bodies. The timeline events are the same for every
platform (``{platform}.publish`` …, see ``timeline.py``), so one contract test suite drives all.

Everything is generated eagerly from the seed (a few hundred posts per platform is the normal
size; benchmarks ask for more), so the same config always gives the same world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import textgen
from .clock import SimClock
from .media import Blob, image, mp4
from .rand import mix, rng

HOUR_MS, DAY_MS = 3_600_000, 86_400_000


@dataclass(frozen=True)
class Person:
    """An author: the municipality itself or a citizen."""

    no: int
    handle: str
    name: str


@dataclass
class Version:
    """The text (and title) of an item from ``at_ms`` on."""

    at_ms: int
    text: str
    title: str | None = None


@dataclass(frozen=True)
class Media:
    """An image or video shown by a post; ``oversize`` pads it to the world's oversize length."""

    no: int
    kind: str  # "image" | "video"
    fmt: str  # "jpeg" | "png" | "mp4"
    alt: str
    oversize: int = 0

    @property
    def ext(self) -> str:
        return {"jpeg": "jpg"}.get(self.fmt, self.fmt)


@dataclass
class Comment:
    """A comment on a post (``parent`` None) or a reply to a comment."""

    no: int
    post: int
    parent: int | None
    author: Person
    own: bool
    created_ms: int
    versions: list[Version]
    pii: bool = False
    deleted_ms: int | None = None
    hidden: bool = False

    @property
    def text(self) -> str:
        return self.versions[-1].text

    @property
    def updated_ms(self) -> int:
        return self.versions[-1].at_ms

    @property
    def visible(self) -> bool:
        return self.deleted_ms is None and not self.hidden


@dataclass(frozen=True)
class Listed:
    """An entry of one of the account's moderation lists: a person blocked or muted (or a moderation
    list of another account blocked, ``list_name`` set) since ``created_ms``. ``no`` orders entries as
    the platforms page them (newest block first)."""

    no: int
    person: Person
    created_ms: int
    list_name: str | None = None


@dataclass
class Post:
    """A post, photo or video of the account."""

    no: int
    created_ms: int
    versions: list[Version]
    media: list[Media] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    deleted_ms: int | None = None
    corrupt: bool = False

    @property
    def text(self) -> str:
        return self.versions[-1].text

    @property
    def title(self) -> str | None:
        return self.versions[-1].title

    @property
    def updated_ms(self) -> int:
        return self.versions[-1].at_ms


class SocialModel:
    """One account on one platform; ``posts`` is in publication order (oldest first)."""

    def __init__(
        self,
        platform: str,
        *,
        seed: int,
        town: str,
        domain: str,
        posts: int,
        start_ms: int,
        end_ms: int,
        clock: SimClock,
        oversize_bytes: int,
        handle: str,
        name: str,
    ) -> None:
        self.platform, self.seed, self.town, self.domain = platform, seed, town, domain
        self.clock = clock
        self.oversize_bytes = oversize_bytes
        self.owner = Person(0, handle, name)
        self.posts: list[Post] = []
        self.comments: dict[int, Comment] = {}
        self._by_no: dict[int, Post] = {}
        self._media: dict[int, Media] = {}
        self._next = 1
        self.token: str | None = None
        self.count_drift: dict[int, int] = {}
        """Post number → how far its published comment count is off the comments it shows (``drift``)."""
        self.total_drift = 0
        """How far the account's published total is off the posts it shows."""
        #: The account's own moderation lists (rendered only where the platform's API shows them):
        #: ``blocks``, ``mutes`` and ``list_blocks`` (moderation lists of others the account blocks).
        self.moderation: dict[str, dict[str, Listed]] = {"blocks": {}, "mutes": {}, "list_blocks": {}}
        r = rng(seed, "social", platform)
        span = max(end_ms - start_ms, 1)
        for k in range(posts):
            at = start_ms + span * k // max(posts, 1) + r.randrange(0, max(span // max(posts, 1), 1))
            self._generate(r, min(at, end_ms))
        if posts > 3:  # one oversized video, as on the other platforms, to exercise the size cap
            target = self.posts[posts // 2]
            target.media = [Media(self._take(), "video", "mp4", "Film från fullmäktige", oversize_bytes)]
            self._media[target.media[0].no] = target.media[0]

    # ---- generation ---------------------------------------------------------------------------
    def _take(self) -> int:
        self._next += 1
        return self._next - 1

    def _citizen(self, r: random.Random) -> Person:
        first, last = textgen.person(r)
        return Person(1000 + r.randrange(10**6), textgen.ascii_fold(f"{first}{last}").lower()[:15], f"{first} {last}")

    def _media_for(self, r: random.Random) -> list[Media]:
        roll = r.random()
        if roll < 0.35:
            return [Media(self._take(), "image", "jpeg", "Bild från kommunen")]
        if roll < 0.45:
            return [Media(self._take(), "image", "jpeg" if k % 2 == 0 else "png", f"Bild {k + 1}") for k in range(3)]
        if roll < 0.55:
            return [Media(self._take(), "video", "mp4", "Film")]
        return []

    def _generate(self, r: random.Random, at: int) -> None:
        rich = textgen.municipal_post(r, self.town, self.domain)
        text = rich.plain()
        title = _title_of(text)
        post = Post(self._take(), at, [Version(at, text, title)], self._media_for(r))
        if r.random() < 0.1:  # edited within a day
            edited = text + " (Uppdaterad: ny tid.)"
            post.versions.append(Version(at + r.randrange(HOUR_MS, DAY_MS), edited, title))
        self._add_post(post)
        for _ in range(r.choice((0, 0, 1, 1, 2, 3))):
            when = at + r.randrange(10 * 60_000, 3 * DAY_MS)
            top = self._add_comment(
                post, None, self._citizen(r), False, when, textgen.citizen_text(r, self.town, pii=r.random() < 0.15)
            )
            if r.random() < 0.35:
                answer = textgen.municipal_reply(r, self.town, top.author.handle)
                self._add_comment(post, top.no, self.owner, True, when + r.randrange(HOUR_MS, DAY_MS), answer)
            elif r.random() < 0.15:
                self._add_comment(
                    post,
                    top.no,
                    self._citizen(r),
                    False,
                    when + r.randrange(HOUR_MS, DAY_MS),
                    textgen.citizen_text(r, self.town, pii=False),
                )

    def _add_post(self, post: Post) -> Post:
        self.posts.append(post)
        self._by_no[post.no] = post
        self._media.update({m.no: m for m in post.media})
        return post

    def _add_comment(
        self,
        post: Post,
        parent: int | None,
        author: Person,
        own: bool,
        at: int,
        rich: textgen.Rich | str,
        pii: bool | None = None,
    ) -> Comment:
        text = rich if isinstance(rich, str) else rich.plain()
        flag = pii if pii is not None else (False if isinstance(rich, str) else rich.pii)
        comment = Comment(self._take(), post.no, parent, author, own, at, [Version(at, text)], pii=flag)
        self.comments[comment.no] = comment
        post.comments.append(comment.no)
        return comment

    # ---- reading ------------------------------------------------------------------------------
    def post(self, no: int) -> Post | None:
        """A post by number, deleted ones included."""
        return self._by_no.get(no)

    def visible_posts(self, now_ms: int | None = None) -> list[Post]:
        """Live posts published by ``now`` (the clock), newest first, as listings return them."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        return [p for p in reversed(self.posts) if p.deleted_ms is None and p.created_ms <= now]

    def thread(self, post: Post, *, parent: int | None | str = "any") -> list[Comment]:
        """A post's visible comments, oldest first; ``parent=None`` top level only, a number: its replies."""
        now = self.clock.now_ms()
        out = [self.comments[c] for c in post.comments]
        out = [c for c in out if c.visible and c.created_ms <= now]
        if parent != "any":
            out = [c for c in out if c.parent == parent]
        return sorted(out, key=lambda c: (c.created_ms, c.no))

    def activity_ms(self, post: Post) -> int:
        """When anything last happened on a post: edit, comment, reply (Facebook's `updated_time`,
        Flickr's `lastupdate`)."""
        times = [post.updated_ms] + [c.created_ms for c in self.thread(post)]
        times += [self.comments[c].deleted_ms or 0 for c in post.comments]
        return max(times)

    def blob(self, media: Media) -> Blob:
        """The file's bytes."""
        key = mix(self.seed, self.platform, media.no)
        if media.kind == "video":
            return mp4(key, media.oversize)
        return image(media.fmt, 64, 48, key)

    def media(self, no: int) -> Media | None:
        return self._media.get(no)

    # ---- timeline -----------------------------------------------------------------------------
    def publish(
        self, *, text: str | None = None, title: str | None = None, images: int = 0, video: bool = False
    ) -> Post:
        now = self.clock.now_ms()
        r = rng(self.seed, "publish", self.platform, now, self._next)
        body = text if text is not None else textgen.municipal_post(r, self.town, self.domain).plain()
        media = [Media(self._take(), "image", "jpeg", f"Bild {k + 1}") for k in range(min(images, 10))]
        if video:
            media.append(Media(self._take(), "video", "mp4", "Film"))
        return self._add_post(Post(self._take(), now, [Version(now, body, title or _title_of(body))], media))

    def live_post(self, no: int) -> Post:
        post = self.post(no)
        if post is None or post.deleted_ms is not None:
            raise KeyError(f"no live {self.platform} post {no}")
        return post

    def edit(self, no: int, *, text: str | None = None, title: str | None = None) -> Post:
        post = self.live_post(no)
        now = self.clock.now_ms()
        post.versions.append(
            Version(
                now, text if text is not None else post.text + " (Ändrad.)", title if title is not None else post.title
            )
        )
        return post

    def delete(self, no: int) -> None:
        self.live_post(no).deleted_ms = self.clock.now_ms()

    def comment(
        self, post_no: int, *, parent: int | None = None, text: str | None = None, own: bool = False, pii: bool = False
    ) -> Comment:
        post = self.live_post(post_no)
        if parent is not None and (parent not in self.comments or self.comments[parent].post != post_no):
            raise KeyError(f"no comment {parent} on post {post_no}")
        r = rng(self.seed, "comment", self.platform, self.clock.now_ms(), self._next)
        author = self.owner if own else self._citizen(r)
        body: textgen.Rich | str = text if text is not None else textgen.citizen_text(r, self.town, pii=pii)
        return self._add_comment(post, parent, author, own, self.clock.now_ms(), body, pii)

    def edit_comment(self, no: int, text: str) -> Comment:
        comment = self._live_comment(no)
        comment.versions.append(Version(self.clock.now_ms(), text))
        return comment

    def delete_comment(self, no: int) -> None:
        self._live_comment(no).deleted_ms = self.clock.now_ms()

    def hide_comment(self, no: int) -> None:
        self._live_comment(no).hidden = True

    def drift(self, no: int | None, by: int) -> None:
        """A count that moves without a visible item: the platform's comment count of post ``no`` (or, with
        ``no`` None, the account's total) goes ``by`` up or down, as spam removal, a reply by an account
        gone private, or a post made private do on the real platforms. Nothing listed changes."""
        if no is None:
            self.total_drift += by
        else:
            self.live_post(no)
            self.count_drift[no] = self.count_drift.get(no, 0) + by

    def published_comments(self, post: Post, shown: int) -> int:
        """The comment count the platform publishes for ``post``, which lists ``shown`` of them."""
        return max(0, shown + self.count_drift.get(post.no, 0))

    def published_total(self, shown: int) -> int:
        """The account total the platform publishes, for ``shown`` listed items."""
        return max(0, shown + self.total_drift)

    def people(self) -> dict[str, Person]:
        """Everyone who commented, by handle (whom the account blocks is usually one of them)."""
        return {c.author.handle: c.author for c in self.comments.values() if not c.own}

    def list_add(self, name: str, handle: str | None = None, list_name: str | None = None) -> Listed:
        """Put someone on a moderation list now (a commenter by handle, or a new citizen); ``list_blocks``
        entries are lists, named by ``list_name``, made by the person."""
        if name not in self.moderation:
            raise KeyError(f"no moderation list {name!r} (one of {', '.join(self.moderation)})")
        now = self.clock.now_ms()
        person = self.people().get(handle) if handle else None
        if person is None:
            person = self._citizen(rng(self.seed, "listed", self.platform, name, handle or "", now, self._next))
            if handle:
                person = Person(person.no, handle, person.name)
        key = f"{person.handle}/{list_name}" if name == "list_blocks" else person.handle
        if name == "list_blocks" and not list_name:
            list_name = f"Blocklista {len(self.moderation[name]) + 1}"
            key = f"{person.handle}/{list_name}"
        entry = Listed(self._take(), person, now, list_name)
        self.moderation[name][key] = entry
        return entry

    def list_remove(self, name: str, handle: str, list_name: str | None = None) -> Listed:
        """Take someone (or a blocked list) off a moderation list."""
        key = f"{handle}/{list_name}" if name == "list_blocks" and list_name else handle
        found = self.moderation.get(name, {}).pop(key, None)
        if found is None and name == "list_blocks":  # a list named by its creator alone
            keys = [k for k in self.moderation[name] if k.split("/", 1)[0] == handle]
            found = self.moderation[name].pop(keys[0]) if keys else None
        if found is None:
            raise KeyError(f"{handle!r} is not on the {self.platform} {name} list")
        return found

    def listed(self, name: str) -> list[Listed]:
        """A moderation list, newest entry first (as Graph, X and Bluesky page them)."""
        return sorted(self.moderation[name].values(), key=lambda e: (e.created_ms, e.no), reverse=True)

    def corrupt(self, no: int) -> None:
        """Serve this post malformed from now on (the connector must quarantine it, not stop)."""
        self.live_post(no).corrupt = True

    def _live_comment(self, no: int) -> Comment:
        comment = self.comments.get(no)
        if comment is None or not comment.visible:
            raise KeyError(f"no visible {self.platform} comment {no}")
        return comment


def _title_of(text: str) -> str:
    first = text.split("\n", 1)[0]
    if len(first) <= 70:
        return first
    cut = first.rfind(" ", 0, 70)
    return first[: cut if cut > 20 else 70].rstrip(",.:;") + " …"
