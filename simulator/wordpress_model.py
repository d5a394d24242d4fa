"""The WordPress side of the world: posts, pages, attachments and comments built from their position.

Ids follow WordPress's single ``wp_posts`` table: page *q* is ``100 + 4q``, post *p* is ``1000 + 4p``
and its attachments take the next ids (featured image ``+1``, inline image ``+2``, video ``+3``);
posts and pages published by the timeline continue the sequence. Comments live in their own table:
comment *j* of post *p* is ``1 + 8p + j``. Dates grow with the position, so date-ordered listings
are a bisect; modified-ordered ones use a sorted index rebuilt only after the timeline changes things.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import textgen
from .clock import DAY_MS, SimClock
from .rand import mix, rng

HOUR_MS = 3_600_000
USERS = {
    1: ("Webbredaktionen", "webbredaktionen"),
    2: ("Kommunstyrelsens ordförande", "ordforande"),
    3: ("Kontaktcenter", "kontaktcenter"),
}
CATEGORIES = {1: "Okategoriserade", 3: "Nyheter", 4: "Trafik", 5: "Kultur och fritid", 6: "Förskola och skola"}
PAGE_TITLES = [
    "Om bloggen",
    "Kontakt",
    "Personuppgifter och cookies",
    "Tillgänglighetsredogörelse",
    "Kommunstyrelsen",
    "Information in English",
    "Sociala medier",
    "Arkiv",
]
VISIBLE_COMMENT = "approved"


@dataclass(frozen=True)
class WpPost:
    """A post or page as the model knows it (current version)."""

    id: int
    type: str  # post | page
    date_ms: int
    modified_ms: int
    title: str
    paragraphs: tuple[str, ...]
    author: int
    featured_media: int = 0
    inline_media: int = 0
    video_media: int = 0
    categories: tuple[int, ...] = (1,)
    comment_status: str = "open"
    sticky: bool = False
    versions: int = 1

    @property
    def slug(self) -> str:
        """``sanitize_title``: accents removed, lower case, dashes."""
        return textgen.slugify(self.title) or str(self.id)


@dataclass(frozen=True)
class WpMedia:
    """An attachment; ``size`` > 0 marks the oversized file, ``legacy`` an inline URL that redirects."""

    id: int
    post: int
    date_ms: int
    fmt: str  # png | jpeg | mp4
    width: int
    height: int
    title: str
    size: int = 0
    legacy: bool = False


@dataclass(frozen=True)
class WpComment:
    """A comment; only ``approved`` ones are ever shown to anonymous callers."""

    id: int
    post: int
    parent: int
    author: int
    author_name: str
    date_ms: int
    text: str
    status: str  # approved | hold | spam | trash
    pii: bool = False
    versions: int = 1


@dataclass
class _Kind:
    n: int
    base_id: int
    start_ms: int
    interval_ms: int
    extra: list[int] = field(default_factory=list)


class WordPressModel:
    """Every post, page, attachment and comment of one site, plus the timeline's overlays."""

    def __init__(
        self,
        seed: int,
        town: str,
        site: str,
        *,
        posts: int,
        pages: int,
        start_ms: int,
        end_ms: int,
        clock: SimClock,
        oversize_bytes: int,
    ) -> None:
        self.seed, self.town, self.site, self.clock, self.oversize_bytes = seed, town, site, clock, oversize_bytes
        pages = min(pages, 200)
        self.kinds = {
            "post": _Kind(posts, 1000, start_ms, max((end_ms - start_ms) // max(posts, 1) // 1000, 2) * 1000),
            "page": _Kind(pages, 100, start_ms - (pages + 1) * 7 * DAY_MS, 7 * DAY_MS),
        }
        self.end_ms = end_ms
        self.extra_posts: dict[int, WpPost] = {}
        self.extra_media: dict[int, WpMedia] = {}
        self.deleted: dict[int, str] = {}  # id -> trash | delete
        self.post_edits: dict[int, WpPost] = {}
        self.extra_comments: dict[int, WpComment] = {}
        self.comments_extra_by_post: dict[int, list[int]] = {}
        self.comment_changes: dict[int, WpComment] = {}
        self.comment_deleted: set[int] = set()
        self.next_post_id = 1000 + 4 * posts
        self.next_comment_id = 1 + 8 * posts
        self.corrupted: set[int] = set()  # posts served malformed (``wordpress.corrupt``)
        self.generation = 0  # bumped on every change; caches key on it

    # ---- positions ------------------------------------------------------------------------------
    def count(self, kind: str) -> int:
        """Positions of a kind (generated + published; deleted included)."""
        return self.kinds[kind].n + len(self.kinds[kind].extra)

    def id_at(self, kind: str, p: int) -> int:
        """Id at a position; ids grow with position."""
        k = self.kinds[kind]
        return k.base_id + 4 * p if p < k.n else k.extra[p - k.n]

    def date_at(self, kind: str, p: int) -> int:
        """Publication instant at a position (whole seconds, increasing)."""
        k = self.kinds[kind]
        if p >= k.n:
            return self.extra_posts[k.extra[p - k.n]].date_ms
        jitter = mix(self.seed, "wj", kind, p) % max(k.interval_ms // 2000, 1) * 1000
        return k.start_ms + p * k.interval_ms + jitter

    def modified_at(self, kind: str, p: int) -> int:
        """Last-modified instant at a position, edits included."""
        pid = self.id_at(kind, p)
        if pid in self.post_edits:
            return self.post_edits[pid].modified_ms
        if p >= self.kinds[kind].n:
            return self.extra_posts[pid].modified_ms
        date, h = self.date_at(kind, p), mix(self.seed, "wm", kind, p)
        if h % 4:
            return date
        return min(date + HOUR_MS + (h >> 8) % (30 * DAY_MS) // 1000 * 1000, self.end_ms)

    def position(self, pid: int) -> tuple[str, int] | None:
        """(kind, position) of a post or page id."""
        for kind, k in self.kinds.items():
            if k.base_id <= pid < k.base_id + 4 * k.n and (pid - k.base_id) % 4 == 0:
                return kind, (pid - k.base_id) // 4
        if pid in self.extra_posts:
            kind = self.extra_posts[pid].type
            return kind, self.kinds[kind].n + self.kinds[kind].extra.index(pid)
        return None

    def visible(self, pid: int) -> bool:
        """Published and not trashed or deleted."""
        return pid not in self.deleted and self.position(pid) is not None

    # ---- generation -----------------------------------------------------------------------------
    def generated(self, pid: int) -> WpPost | None:
        """A post or page as first published, whatever happened to it since."""
        if pid in self.extra_posts:
            return self.extra_posts[pid]
        where = self.position(pid)
        if where is None:
            return None
        kind, p = where
        r = rng(self.seed, "wp", kind, p)
        date = self.date_at(kind, p)
        if kind == "page":
            title = PAGE_TITLES[p % len(PAGE_TITLES)] + ("" if p < len(PAGE_TITLES) else f" {p}")
            paras = tuple(textgen.wp_article(r, self.town, self.site)[1])
            return WpPost(
                pid,
                "page",
                date,
                self.modified_at(kind, p),
                title,
                paras,
                1,
                featured_media=pid + 1 if p % 3 == 0 else 0,
                comment_status="closed",
            )
        title, body = textgen.wp_article(r, self.town, self.site)
        h = mix(self.seed, "wf", p)
        n = self.kinds["post"].n
        return WpPost(
            pid,
            "post",
            date,
            self.modified_at(kind, p),
            title,
            tuple(body),
            r.choice([1, 2, 2, 3]),
            featured_media=pid + 1 if h % 3 else 0,
            inline_media=pid + 2 if h % 4 == 0 else 0,
            video_media=pid + 3 if p == n // 3 else 0,
            categories=(r.choice(sorted(CATEGORIES)),),
            comment_status="closed" if h % 10 == 0 else "open",
            sticky=p == n - 2,
        )

    def post(self, pid: int) -> WpPost | None:
        """The current version (edits applied), or None if unknown."""
        return self.post_edits.get(pid) or self.generated(pid)

    def media(self, mid: int) -> WpMedia | None:
        """An attachment by id."""
        if mid in self.extra_media:
            return self.extra_media[mid]
        parent = self.generated(mid - (mid % 4))
        if parent is None or mid not in (parent.featured_media, parent.inline_media, parent.video_media):
            return None
        h = mix(self.seed, "wmedia", mid)
        if mid == parent.video_media:
            return WpMedia(
                mid, parent.id, parent.date_ms, "mp4", 64, 48, "Inspelning " + parent.title, size=self.oversize_bytes
            )
        w, hgt = [(64, 48), (80, 45), (48, 64)][h % 3]
        return WpMedia(
            mid,
            parent.id,
            parent.date_ms - 60_000,
            "png" if h & 8 else "jpeg",
            w,
            hgt,
            parent.title,
            legacy=mid == parent.inline_media and h % 2 == 0,
        )

    # ---- comments -------------------------------------------------------------------------------
    def n_comments(self, pid: int) -> int:
        """Generated comments under a post (cheap: no text is built)."""
        where = self.position(pid)
        if where is None or where[0] != "post" or where[1] >= self.kinds["post"].n:
            return 0
        if mix(self.seed, "wf", where[1]) % 10 == 0:  # comments closed, as in generated()
            return 0
        h = mix(self.seed, "wc", pid)
        return 8 if h % 23 == 0 else [0, 0, 1, 1, 2, 2, 3, 4, 5, 6][h % 10]

    def comment_meta(self, cid: int) -> tuple[str, int, int, bool] | None:
        """(status, parent, date, by staff) of a comment as generated, without building its text."""
        if cid in self.extra_comments:
            c = self.extra_comments[cid]
            return c.status, c.parent, c.date_ms, c.author != 0
        if cid < 1 or cid >= 1 + 8 * self.kinds["post"].n:
            return None
        p, j = (cid - 1) // 8, (cid - 1) % 8
        if j >= self.n_comments(self.id_at("post", p)):
            return None
        r = rng(self.seed, "wcm", p, j)
        h = r.randrange(20)
        status = "spam" if h == 0 else "hold" if h == 1 else "approved"
        parent = 0
        if j and r.random() < 0.4:
            cand = 1 + 8 * p + r.randrange(j)
            meta = self.comment_meta(cand)
            parent = cand if meta is not None and meta[0] == "approved" else 0
        staff = parent != 0 and r.random() < 0.4
        date = self.date_at("post", p) + (j + 1) * 2 * HOUR_MS + r.randrange(2 * HOUR_MS) // 1000 * 1000
        return ("approved" if staff else status), parent, date, staff

    def comment_status(self, cid: int) -> str | None:
        """Current status of a comment (None: unknown or deleted for good)."""
        if cid in self.comment_deleted:
            return None
        if cid in self.comment_changes:
            return self.comment_changes[cid].status
        meta = self.comment_meta(cid)
        return None if meta is None else meta[0]

    def _comment_base(self, cid: int) -> WpComment | None:
        if cid in self.extra_comments:
            return self.extra_comments[cid]
        meta = self.comment_meta(cid)
        if meta is None:
            return None
        status, parent, date, staff = meta
        p, j = (cid - 1) // 8, (cid - 1) % 8
        pid = self.id_at("post", p)
        r = rng(self.seed, "wct", p, j)
        if staff:
            text = textgen.municipal_reply(r, self.town, "").plain().lstrip("@ ")
            return WpComment(cid, pid, parent, 3, USERS[3][0], date, text, status)
        first, last = textgen.person(r)
        pii = r.random() < 0.35
        text = textgen.citizen_text(r, self.town, pii=pii).plain()
        if status == "spam":
            text = "Billiga solglasögon!!! https://spam.example/erbjudande 🕶️"
        return WpComment(cid, pid, parent, 0, f"{first} {last}", date, text, status, pii and status != "spam")

    def comment(self, cid: int) -> WpComment | None:
        """A comment's current state (status changes and edits applied), or None if unknown/deleted."""
        if cid in self.comment_deleted:
            return None
        return self.comment_changes.get(cid) or self._comment_base(cid)

    def comment_record(self, cid: int) -> WpComment | None:
        """A comment's last known state, even after it was deleted for good (for the ground truth)."""
        return self.comment_changes.get(cid) or self._comment_base(cid)

    def comment_ids(self, pid: int) -> list[int]:
        """All comment ids of a post, any status."""
        p = (pid - 1000) // 4
        return [1 + 8 * p + j for j in range(self.n_comments(pid))] + self.comments_extra_by_post.get(pid, [])

    def all_post_ids(self) -> list[int]:
        """Every post and page id, in id order."""
        return sorted(self.id_at(kind, p) for kind in self.kinds for p in range(self.count(kind)))

    # ---- timeline mutations ---------------------------------------------------------------------
    def publish(self, kind: str, title: str, paragraphs: list[str], *, image: bool = False, author: int = 1) -> WpPost:
        """A new post or page at now."""
        pid, now = self.next_post_id, self.clock.now_ms() // 1000 * 1000
        self.next_post_id += 4
        post = WpPost(
            pid,
            kind,
            now,
            now,
            title,
            tuple(paragraphs),
            author,
            featured_media=pid + 1 if image else 0,
            comment_status="open" if kind == "post" else "closed",
        )
        if image:
            self.extra_media[pid + 1] = WpMedia(pid + 1, pid, now, "jpeg", 64, 48, title)
        self.extra_posts[pid] = post
        self.kinds[kind].extra.append(pid)
        self.generation += 1
        return post

    def edit(self, pid: int, title: str | None, paragraphs: list[str] | None) -> WpPost:
        """A new version; ``modified_gmt`` moves to now."""
        cur = self.post(pid)
        if cur is None:
            raise KeyError(pid)
        new = dataclasses.replace(
            cur,
            title=title if title is not None else cur.title,
            paragraphs=tuple(paragraphs) if paragraphs is not None else cur.paragraphs,
            modified_ms=self.clock.now_ms() // 1000 * 1000,
            versions=cur.versions + 1,
        )
        self.post_edits[pid] = new
        self.generation += 1
        return new

    def delete(self, pid: int, mode: str) -> None:
        """Trash (401 ``rest_forbidden`` by id) or delete for good (404 ``rest_post_invalid_id``)."""
        if self.generated(pid) is None:
            raise KeyError(pid)
        self.deleted[pid] = mode
        self.generation += 1

    def corrupt(self, pid: int) -> None:
        """Serve a post or page malformed from now on (``content`` a string, ``date_gmt`` a number)."""
        if not self.visible(pid):
            raise KeyError(f"no visible post {pid}")
        self.corrupted.add(pid)
        self.generation += 1

    def add_comment(
        self, pid: int, parent: int, author_name: str, text: str, status: str, *, author: int = 0, pii: bool = False
    ) -> WpComment:
        """A new comment at now, also on old posts."""
        cid = self.next_comment_id
        self.next_comment_id += 1
        c = WpComment(cid, pid, parent, author, author_name, self.clock.now_ms() // 1000 * 1000, text, status, pii)
        self.extra_comments[cid] = c
        self.comments_extra_by_post.setdefault(pid, []).append(cid)
        self.generation += 1
        return c

    def change_comment(self, cid: int, *, text: str | None = None, status: str | None = None) -> WpComment:
        """Edit a comment's text or moderate it (``delete`` removes it for good)."""
        cur = self.comment(cid)
        if cur is None:
            raise KeyError(cid)
        if status == "delete":
            self.comment_deleted.add(cid)
            self.generation += 1
            return cur
        new = dataclasses.replace(
            cur,
            text=text if text is not None else cur.text,
            status=status or cur.status,
            versions=cur.versions + (text is not None),
        )
        self.comment_changes[cid] = new
        self.generation += 1
        return new
