"""The Mastodon side of the world: statuses built on demand from their position.

Ids are snowflake-like, as Mastodon's: ``(milliseconds << 16) | low16``. The low 16 bits hold
``account(4) | role(4) | j(8)`` XOR-scrambled with a hash of the milliseconds, so ids look random
in their tail, still sort by time, and decode back to (account, role, index, reply) in O(1): the
timeline item *i* of an account lives at ``start + i × interval + jitter(i)`` with the jitter below
half an interval, so ``i = (ms − start) // interval``. Nothing is stored per generated status;
timeline changes (new statuses, edits, deletions) live in small overlays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import textgen
from .clock import DAY_MS, SimClock
from .rand import mix, rng

GAP_MS = 420_000  # between a status and each citizen reply
ROOT_BEFORE_MS = 1_800_000  # a citizen's question comes half an hour before the account answers it
BOOSTED_BEFORE_MS = 18_000_000  # a boosted status is five hours older than the boost
OWN, REPLY, ROOT, BOOSTED = 0, 1, 2, 3
ORG_DOMAINS = ["social.region-mittland.example", "myndighet.social.example", "nyheter.social.example"]
CITIZEN_DOMAINS = ["toot.example", "mastodon.example", "fikabrod.example", "norrland.social.example"]


@dataclass(frozen=True)
class MastodonAccountSpec:
    """One municipal account on the instance; ``token`` set means a Bearer token is required."""

    username: str = "sundsvik"
    display_name: str = "Sundsviks kommun"
    statuses: int = 200
    token: str | None = None


@dataclass(frozen=True)
class Author:
    """An account as embedded in statuses; ``domain`` is None for local accounts."""

    id: str
    username: str
    display_name: str
    domain: str | None
    created_ms: int
    note: str = ""
    bot: bool = False

    @property
    def acct(self) -> str:
        """``user`` for local accounts, ``user@domain`` for remote ones."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(frozen=True)
class Attachment:
    """A media attachment; ``size`` > 0 marks the oversized file, ``via_proxy`` a 302 redirect URL."""

    id: int
    type: str  # image | video
    fmt: str  # png | jpeg | mp4
    width: int
    height: int
    description: str
    via_proxy: bool = False
    size: int = 0


@dataclass(frozen=True)
class Poll:
    """A status's poll (Mastodon's Poll entity: options, expiry, single or multiple choice); the votes it
    has got live in the model's ``votes`` overlay, as they change without the status changing."""

    id: int
    options: tuple[str, ...]
    expires_ms: int
    multiple: bool = False


@dataclass(frozen=True)
class Status:
    """One status as the model knows it; the serializer turns it into Mastodon JSON."""

    id: int
    author: Author
    account_no: int  # the municipal account whose timeline or thread this belongs to
    created_ms: int
    rich: textgen.Rich
    role: str  # own | boost | citizen_reply | citizen_root | boosted
    in_reply_to_id: int | None = None
    in_reply_to_account_id: str | None = None
    reblog: Status | None = None
    media: tuple[Attachment, ...] = ()
    mentions: tuple[Author, ...] = ()
    spoiler_text: str = ""
    sensitive: bool = False
    visibility: str = "public"
    pinned: bool = False
    reblogs_count: int = 0
    favourites_count: int = 0
    remote_id: int | None = None  # id on the author's own server, for uri/url of remote statuses
    edited_ms: int | None = None
    poll: Poll | None = None


@dataclass(frozen=True)
class Filter:
    """A v2 filter of the account (Mastodon's Filter entity): keywords, where it applies, what it does."""

    id: int
    title: str
    keywords: tuple[tuple[int, str, bool], ...]  # (keyword id, keyword, whole_word)
    context: tuple[str, ...] = ("home", "public")
    action: str = "warn"
    expires_ms: int | None = None


@dataclass
class Moderation:
    """One account's own moderation (served to its token only): blocked and muted accounts, blocked
    domains (each with the id of the block itself, which grows with its time and orders the list), a
    mute's expiry, filters."""

    blocks: dict[str, tuple[Author, int]] = field(default_factory=dict)  # account id → (who, block id)
    mutes: dict[str, tuple[Author, int, int | None]] = field(default_factory=dict)  # → (who, id, expires ms)
    domains: dict[str, int] = field(default_factory=dict)  # domain → block id
    filters: dict[int, Filter] = field(default_factory=dict)
    next_id: int = 1

    def new_id(self, now_ms: int) -> int:
        """The id of a new block, mute or filter keyword: after every earlier one, and unique."""
        self.next_id += 1
        return (now_ms << 12) | (self.next_id & 0xFFF)


@dataclass
class AccountState:
    """Per-account generation parameters and overlay counters."""

    no: int
    spec: MastodonAccountSpec
    author: Author
    n: int
    start_ms: int
    interval_ms: int
    token: str | None
    extra_own: list[int] = field(default_factory=list)
    deleted_own: int = 0
    moderation: Moderation = field(default_factory=Moderation)

    @property
    def special(self) -> dict[int, str]:
        """Fixed positions: one small video and one oversized video."""
        return {self.n * 3 // 5: "video", self.n * 2 // 5: "bigvideo"} if self.n >= 5 else {}


class MastodonModel:
    """All statuses of the instance, generated lazily, plus the timeline's overlays."""

    def __init__(
        self,
        seed: int,
        town: str,
        site: str,
        accounts: list[MastodonAccountSpec],
        *,
        start_ms: int,
        end_ms: int,
        clock: SimClock,
        oversize_bytes: int,
    ) -> None:
        if len(accounts) > 15:
            raise ValueError("at most 15 Mastodon accounts")
        self.seed, self.town, self.site, self.clock, self.oversize_bytes = seed, town, site, clock, oversize_bytes
        self.accounts: list[AccountState] = []
        for no, spec in enumerate(accounts):
            created = start_ms - 90 * DAY_MS
            author = Author(
                self._snowflake(created, "acct", no),
                spec.username,
                spec.display_name,
                None,
                created,
                note=f"<p>Officiellt konto för {spec.display_name}.</p>",
            )
            interval = max((end_ms - start_ms) // max(spec.statuses, 1), 2)
            self.accounts.append(AccountState(no, spec, author, spec.statuses, start_ms, interval, spec.token))
        self.citizens = [self._citizen(k) for k in range(24)]
        self.orgs = [
            Author(self._snowflake(start_ms - 400 * DAY_MS, "org", k), u, d, ORG_DOMAINS[k], start_ms)
            for k, (u, d) in enumerate(
                [
                    ("regionmittland", "Region Mittland"),
                    ("raddningstjansten", "Räddningstjänsten Mittland"),
                    ("lokalnytt", "Lokalnytt Mittland"),
                ]
            )
        ]
        self.extra: dict[int, Status] = {}
        self.children_extra: dict[int, list[int]] = {}
        self.deleted: set[int] = set()
        self.edits: dict[int, list[tuple[int, textgen.Rich]]] = {}
        self.corrupted: set[int] = set()  # served malformed (``mastodon.corrupt``)
        self.votes: dict[int, tuple[list[int], int]] = {}  # poll id → (votes per option, voters)
        self.count_drift: dict[int, int] = {}  # status id → how far replies_count is off (``mastodon.drift``)
        self.total_drift: dict[int, int] = {}  # account number → how far statuses_count is off
        self._last_id = 0

    # ---- identity ---------------------------------------------------------------------------
    def _snowflake(self, ms: int, *key: int | str) -> str:
        return str((ms << 16) | (mix(self.seed, "sf", *key) & 0xFFFF))

    def _citizen(self, k: int) -> Author:
        r = rng(self.seed, "citizen", k)
        first, last = textgen.person(r)
        user = textgen.ascii_fold(first).replace("-", "") + r.choice(
            ["", "_" + textgen.ascii_fold(last)[:3], str(r.randint(1, 99))]
        )
        return Author(
            self._snowflake(10**12 + k, "cit", k),
            user,
            f"{first} {last}",
            r.choice(CITIZEN_DOMAINS),
            1_500_000_000_000 + k * DAY_MS,
        )

    def make_id(self, ms: int, a: int, role: int, j: int = 0) -> int:
        """The status id of a generated status."""
        tag = (a << 12) | (role << 8) | j
        return (ms << 16) | (tag ^ (mix(self.seed, "ids", ms) & 0xFFFF))

    def own_ms(self, a: int, i: int) -> int:
        """Creation instant of timeline item ``i`` of account ``a``."""
        st = self.accounts[a]
        return st.start_ms + i * st.interval_ms + mix(self.seed, "mj", a, i) % max(st.interval_ms // 2, 1)

    def own_id(self, a: int, i: int) -> int:
        """Id of timeline position ``i`` (generated first, then statuses published by the timeline)."""
        st = self.accounts[a]
        return self.make_id(self.own_ms(a, i), a, OWN) if i < st.n else st.extra_own[i - st.n]

    def _index_of(self, a: int, ms: int) -> int | None:
        st = self.accounts[a]
        i = (ms - st.start_ms) // st.interval_ms
        return i if 0 <= i < st.n and self.own_ms(a, i) == ms else None

    def decode(self, sid: int) -> tuple[int, int, int, int] | None:
        """(account, role, index, reply number) of a generated id, or None if no such status."""
        ms = sid >> 16
        tag = (sid & 0xFFFF) ^ (mix(self.seed, "ids", ms) & 0xFFFF)
        a, role, j = tag >> 12, (tag >> 8) & 0xF, tag & 0xFF
        if a >= len(self.accounts) or role > BOOSTED:
            return None
        base = {OWN: ms, REPLY: ms - (j + 1) * GAP_MS, ROOT: ms + ROOT_BEFORE_MS, BOOSTED: ms + BOOSTED_BEFORE_MS}[role]
        i = self._index_of(a, base)
        if i is None:
            return None
        kind = self.kind(a, i)
        ok = {
            OWN: j == 0,
            REPLY: kind != "boost" and j < self.n_replies(a, i),
            ROOT: j == 0 and kind == "reply",
            BOOSTED: j == 0 and kind == "boost",
        }[role]
        return (a, role, i, j) if ok else None

    # ---- shape of the generated world ---------------------------------------------------------
    def _raw_kind(self, a: int, i: int) -> str:
        special = self.accounts[a].special.get(i)
        if special:
            return special
        h = mix(self.seed, "mk", a, i) % 100
        return "boost" if h < 8 else "reply" if h < 18 else "thread" if h < 23 else "image" if h < 40 else "post"

    def kind(self, a: int, i: int) -> str:
        """post | image | video | bigvideo | reply (to a citizen) | thread (self-reply) | boost."""
        k = self._raw_kind(a, i)
        return "post" if k == "thread" and (i == 0 or self._raw_kind(a, i - 1) == "boost") else k

    def n_replies(self, a: int, i: int) -> int:
        """How many citizen replies the generated thread under item ``i`` has."""
        if self.kind(a, i) == "boost":
            return 0
        h = mix(self.seed, "mc", a, i)
        return 7 if h % 37 == 0 else [0, 0, 0, 1, 1, 1, 2, 2, 3, 4][h % 10]

    def reply_parent(self, a: int, i: int, j: int) -> int | None:
        """Which earlier reply citizen reply ``j`` answers (None: the status itself)."""
        if j == 0:
            return None
        h = mix(self.seed, "mp", a, i, j)
        return [j - 1, None, h % j][h % 3]

    # ---- building statuses --------------------------------------------------------------------
    def _own(self, a: int, i: int) -> Status:
        st, kind = self.accounts[a], self.kind(a, i)
        ms, r = self.own_ms(a, i), rng(self.seed, "mo", a, i)
        sid = self.make_id(ms, a, OWN)
        counts = {"reblogs_count": r.randint(0, 12), "favourites_count": r.randint(0, 40)}
        if kind == "boost":
            return Status(sid, st.author, a, ms, textgen.Rich([]), "boost", reblog=self._boosted(a, i))
        rich, reply_to, reply_acct = textgen.municipal_post(r, self.town, self.site), None, None
        mentions: tuple[Author, ...] = ()
        if kind == "reply":
            root = self._root(a, i)
            rich = textgen.municipal_reply(r, self.town, root.author.acct)
            reply_to, reply_acct, mentions = root.id, root.author.id, (root.author,)
        elif kind == "thread":
            rich.paragraphs.insert(0, [("text", "Fortsättning 🧵")])
            reply_to, reply_acct = self.own_id(a, i - 1), st.author.id
        media: tuple[Attachment, ...] = ()
        if kind == "image":
            media = tuple(self._image(sid + k, rich) for k in range(r.choice([1, 1, 1, 2, 4])))
        elif kind in ("video", "bigvideo"):
            size = self.oversize_bytes if kind == "bigvideo" else 0
            media = (Attachment(sid, "video", "mp4", 64, 48, "Film: " + rich.plain()[:60], size=size),)
        spoiler = "Bilder från olycksplats" if r.random() < 0.03 else ""
        return Status(
            sid,
            st.author,
            a,
            ms,
            rich,
            "own",
            reply_to,
            reply_acct,
            None,
            media,
            mentions,
            spoiler,
            bool(spoiler) or r.random() < 0.02,
            "unlisted" if r.random() < 0.05 else "public",
            i in (st.n - 3, st.n // 4),
            counts["reblogs_count"],
            counts["favourites_count"],
        )

    def _image(self, mid: int, rich: textgen.Rich) -> Attachment:
        h = mix(self.seed, "img", mid)
        w, hgt = [(64, 48), (48, 64), (80, 45)][h % 3]
        return Attachment(
            mid, "image", "png" if h & 16 else "jpeg", w, hgt, "Bild: " + rich.plain()[:80], via_proxy=h % 4 == 0
        )

    def _root(self, a: int, i: int) -> Status:
        ms = self.own_ms(a, i) - ROOT_BEFORE_MS
        r = rng(self.seed, "mr", a, i)
        author = self.citizens[r.randrange(len(self.citizens))]
        me = self.accounts[a].author
        rich = textgen.citizen_text(r, self.town, pii=r.random() < 0.35, mention=me.acct)
        return Status(
            self.make_id(ms, a, ROOT),
            author,
            a,
            ms,
            rich,
            "citizen_root",
            mentions=(me,),
            remote_id=mix(self.seed, "rid", ms) % 10**17,
            favourites_count=r.randint(0, 5),
        )

    def _boosted(self, a: int, i: int) -> Status:
        ms = self.own_ms(a, i) - BOOSTED_BEFORE_MS
        r = rng(self.seed, "mb", a, i)
        author = self.orgs[r.randrange(len(self.orgs))]
        rich = textgen.municipal_post(r, self.town, author.domain or self.site)
        return Status(
            self.make_id(ms, a, BOOSTED),
            author,
            a,
            ms,
            rich,
            "boosted",
            remote_id=mix(self.seed, "rid", ms) % 10**17,
            reblogs_count=r.randint(1, 60),
            favourites_count=r.randint(0, 90),
        )

    def _reply(self, a: int, i: int, j: int) -> Status:
        ms = self.own_ms(a, i) + (j + 1) * GAP_MS
        r = rng(self.seed, "mre", a, i, j)
        parent_j = self.reply_parent(a, i, j)
        parent = self._own(a, i) if parent_j is None else self._reply(a, i, parent_j)
        author = self.citizens[r.randrange(len(self.citizens))]
        rich = textgen.citizen_text(r, self.town, pii=r.random() < 0.35, mention=parent.author.acct)
        return Status(
            self.make_id(ms, a, REPLY, j),
            author,
            a,
            ms,
            rich,
            "citizen_reply",
            parent.id,
            parent.author.id,
            mentions=(parent.author,),
            remote_id=mix(self.seed, "rid", ms) % 10**17,
            favourites_count=r.randint(0, 3),
        )

    def generated(self, sid: int) -> Status | None:
        """The status as first published (no edits), whether or not it was deleted since."""
        if sid in self.extra:
            return self.extra[sid]
        d = self.decode(sid)
        if d is None:
            return None
        a, role, i, j = d
        return {OWN: self._own, REPLY: lambda a, i: self._reply(a, i, j), ROOT: self._root, BOOSTED: self._boosted}[
            role
        ](a, i)

    def get(self, sid: int) -> Status | None:
        """The current version of a visible status, or None when unknown or deleted."""
        if sid in self.deleted:
            return None
        st = self.generated(sid)
        if st is None or sid not in self.edits:
            return st
        at, rich = self.edits[sid][-1]
        return dataclasses.replace(st, rich=rich, edited_ms=at)

    def history(self, sid: int) -> list[tuple[int, textgen.Rich]]:
        """Every version, oldest first, as Mastodon's ``/history`` lists them."""
        st = self.generated(sid)
        return [] if st is None else [(st.created_ms, st.rich), *self.edits.get(sid, [])]

    def children(self, sid: int) -> list[int]:
        """Ids of statuses replying to ``sid`` (deleted ones included; callers filter)."""
        out: list[int] = []
        d = None if sid in self.extra else self.decode(sid)
        if d is not None:
            a, role, i, j = d
            if role == OWN:
                out += [
                    self.make_id(self.own_ms(a, i) + (k + 1) * GAP_MS, a, REPLY, k)
                    for k in range(self.n_replies(a, i))
                    if self.reply_parent(a, i, k) is None
                ]
                if i + 1 < self.accounts[a].n and self.kind(a, i + 1) == "thread":
                    out.append(self.own_id(a, i + 1))
            elif role == REPLY:
                out += [
                    self.make_id(self.own_ms(a, i) + (k + 1) * GAP_MS, a, REPLY, k)
                    for k in range(j + 1, self.n_replies(a, i))
                    if self.reply_parent(a, i, k) == j
                ]
            elif role == ROOT:
                out.append(self.own_id(a, i))
        return sorted(out + self.children_extra.get(sid, []))

    def replies_count(self, sid: int) -> int:
        """Direct replies that are still there, moved by what ``mastodon.drift`` moved the count by."""
        shown = sum(1 for c in self.children(sid) if c not in self.deleted)
        return max(0, shown + self.count_drift.get(sid, 0))

    def position_count(self, a: int) -> int:
        """Timeline positions of an account (generated + published; deleted included)."""
        return self.accounts[a].n + len(self.accounts[a].extra_own)

    def statuses_count(self, a: int) -> int:
        """What ``statuses_count`` shows: own statuses not deleted (and what ``mastodon.drift`` moved it by)."""
        return max(0, self.position_count(a) - self.accounts[a].deleted_own + self.total_drift.get(a, 0))

    def all_ids(self) -> Iterator[int]:
        """Every status id the world has ever had, per account in time order, then published ones."""
        for st in self.accounts:
            for i in range(st.n):
                kind = self.kind(st.no, i)
                if kind == "reply":
                    yield self.make_id(self.own_ms(st.no, i) - ROOT_BEFORE_MS, st.no, ROOT)
                if kind == "boost":
                    yield self.make_id(self.own_ms(st.no, i) - BOOSTED_BEFORE_MS, st.no, BOOSTED)
                yield self.own_id(st.no, i)
                for j in range(self.n_replies(st.no, i)):
                    yield self.make_id(self.own_ms(st.no, i) + (j + 1) * GAP_MS, st.no, REPLY, j)
        yield from self.extra

    def attachment(self, mid: int) -> tuple[Status, Attachment] | None:
        """The status and attachment a media id belongs to (media ids are status id + k)."""
        for k in range(4):
            st = self.generated(mid - k)
            if st is not None:
                for att in st.media:
                    if att.id == mid:
                        return st, att
        return None

    # ---- timeline mutations -------------------------------------------------------------------
    def new_id(self) -> int:
        """A fresh id at the clock's now, above every id handed out so far."""
        self._last_id = max(self.clock.now_ms() << 16, self._last_id + 4)  # +4: room for media ids
        return self._last_id

    def add(self, status: Status, *, own: bool) -> Status:
        """Store a status created by the timeline."""
        self.extra[status.id] = status
        if own:
            self.accounts[status.account_no].extra_own.append(status.id)
        if status.in_reply_to_id is not None:
            self.children_extra.setdefault(status.in_reply_to_id, []).append(status.id)
        return status

    def vote(self, sid: int, choices: list[int]) -> tuple[list[int], int]:
        """One account votes on a status's poll (several choices only on a multiple-choice poll)."""
        st = self.get(sid)
        if st is None or st.poll is None:
            raise KeyError(f"no poll on status {sid}")
        poll = st.poll
        if (
            not choices
            or len(set(choices)) != len(choices)
            or (len(choices) > 1 and not poll.multiple)
            or not all(0 <= c < len(poll.options) for c in choices)
        ):
            raise ValueError(f"invalid choices {choices} for a poll of {len(poll.options)} options")
        if self.clock.now_ms() >= poll.expires_ms:
            raise ValueError("the poll has already ended")
        before, voters = self.votes.get(poll.id, ([0] * len(poll.options), 0))
        self.votes[poll.id] = ([n + (1 if k in choices else 0) for k, n in enumerate(before)], voters + 1)
        return self.votes[poll.id]

    def edit(self, sid: int, rich: textgen.Rich) -> None:
        """Record a new version at now (sets ``edited_at``)."""
        self.edits.setdefault(sid, []).append((self.clock.now_ms(), rich))

    def delete(self, sid: int) -> None:
        """Delete a status (the account's own, or a reply removed by a moderator)."""
        st = self.generated(sid)
        if st is None or sid in self.deleted:
            return
        self.deleted.add(sid)
        if st.role in ("own", "boost"):
            self.accounts[st.account_no].deleted_own += 1

    def corrupt(self, sid: int) -> None:
        """Serve a status malformed from now on (no ``account``, a numeric ``created_at``)."""
        if self.get(sid) is None:
            raise KeyError(f"no status {sid} (unknown or deleted)")
        self.corrupted.add(sid)
