"""The simulated municipality: configuration, both platforms' models, and the ground truth.

``World(config)`` builds nothing up front: statuses, posts and comments are generated when asked
for (see ``mastodon_model`` and ``wordpress_model``), so a 100 000-status account costs no more to
start than a 10-status one. The same ``WorldConfig`` (seed included) always yields the same world,
and therefore the same response bytes for the same requests at the same base URL.

Ground truth (``World.ground_truth``) is what a complete harvest should hold now: every item with
its current content hash (SHA-256 of the ``content`` HTML string as served, i.e. after JSON decoding:
Mastodon ``content``, WordPress ``content.rendered``), whether it is deleted or hidden, how many
versions it has had, and whether it carries personal data. Each item's ``text`` is what a reader sees
of that HTML as plain text (``html_text``: its text nodes, block tags as line breaks; a Mastodon content
warning comes first, a boost shows the boosted status). Items served malformed by ``mastodon.corrupt``
/ ``wordpress.corrupt`` are marked ``corrupt`` and are not ``visible``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from . import mastodon_json as mj
from . import wordpress_json as wj
from .clock import DAY_MS, SimClock, mastodon_time, parse_instant, wp_gmt
from .mastodon_model import MastodonAccountSpec, MastodonModel
from .platforms import NAMES
from .social import SocialModel
from .textgen import ascii_fold
from .wordpress_model import WordPressModel


def _genitive(town: str) -> str:
    return town if town[-1].lower() in "aeiouyåäösxz" else town + "s"


@dataclass(frozen=True)
class WorldConfig:
    """Everything that shapes the world; the same config always gives the same world.

    ``start``/``end`` bound the generated history; the clock starts one day after ``end``.
    ``oversize_bytes`` is the size of the one oversized media file on each platform.
    """

    seed: int = 1
    town: str = "Sundsvik"
    mastodon_accounts: tuple[MastodonAccountSpec, ...] = field(default_factory=lambda: (MastodonAccountSpec(),))
    mastodon_tokens: tuple[str, ...] = ()
    wp_posts: int = 200
    wp_pages: int = 8
    wp_pretty_permalinks: bool = True
    start: str = "2022-06-01T06:00:00Z"
    end: str = "2024-05-31T18:00:00Z"
    oversize_bytes: int = 32 * 1024 * 1024
    rate_limit: int = 300
    rate_period: int = 300
    social_posts: int = 40
    """Posts on each of the platforms in ``simulator/platforms`` (Facebook, X, Bluesky …)."""
    social_token: str | None = None
    """When set, those platforms refuse requests without this credential."""
    social_only: tuple[str, ...] | None = None
    """When set, only these of those platforms hold ``social_posts`` posts; the others hold none (their
    history is generated up front, so a large world of one platform needs the others empty)."""

    def resized(self, posts: int) -> WorldConfig:
        """The same world with ``posts`` statuses on every Mastodon account and ``posts`` blog posts (and no
        more pages than posts, so ``posts=0`` is an empty blog)."""
        accounts = tuple(dataclasses.replace(a, statuses=posts) for a in self.mastodon_accounts)
        return dataclasses.replace(
            self, mastodon_accounts=accounts, wp_posts=posts, wp_pages=min(self.wp_pages, posts), social_posts=posts
        )

    def only(self, platform: str, posts: int) -> WorldConfig:
        """The world with ``posts`` posts on ``platform`` alone (a benchmark's large account): the other
        platforms are empty."""
        empty = self.resized(0)
        if platform == "wordpress":
            return dataclasses.replace(empty, wp_posts=posts, wp_pages=min(self.wp_pages, posts))
        if platform == "mastodon":
            return dataclasses.replace(empty, mastodon_accounts=self.resized(posts).mastodon_accounts)
        return dataclasses.replace(empty, social_posts=posts, social_only=(platform,))

    @property
    def domain(self) -> str:
        """The municipality's made-up web domain."""
        return ascii_fold(self.town).replace(" ", "") + ".example"

    @property
    def display_name(self) -> str:
        """``Sundsviks kommun``."""
        return f"{_genitive(self.town)} kommun"


def sha256(text: str) -> str:
    """Hex SHA-256 of a string's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


class _TextNodes(HTMLParser):
    BLOCKS = frozenset({"p", "br", "div", "figure", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """An HTML fragment as a reader sees it in plain text: every text node (hidden link parts too, as a
    copy of the text gives them), block tags and ``<br>`` as line breaks, blank lines collapsed."""
    parser = _TextNodes()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t]+", " ", "".join(parser.parts))
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


class World:
    """Both platforms of one municipality, one clock, and a lock the timeline and handlers share."""

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        start, end = parse_instant(self.config.start), parse_instant(self.config.end)
        if end <= start:
            raise ValueError("end must be after start")
        self.clock = SimClock(end + DAY_MS)
        self.lock = threading.RLock()
        self.mastodon = MastodonModel(
            self.config.seed,
            self.config.town,
            self.config.domain,
            list(self.config.mastodon_accounts),
            start_ms=start,
            end_ms=end,
            clock=self.clock,
            oversize_bytes=self.config.oversize_bytes,
        )
        handle = ascii_fold(self.config.town).lower().replace(" ", "") + "kommun"
        self.social = {
            name: SocialModel(
                name,
                seed=self.config.seed,
                town=self.config.town,
                domain=self.config.domain,
                posts=self.config.social_posts
                if self.config.social_only is None or name in self.config.social_only
                else 0,
                start_ms=start,
                end_ms=end,
                clock=self.clock,
                oversize_bytes=self.config.oversize_bytes,
                handle=handle,
                name=self.config.display_name,
            )
            for name in NAMES
        }
        for model in self.social.values():
            model.token = self.config.social_token
        self.wordpress = WordPressModel(
            self.config.seed,
            self.config.town,
            self.config.domain,
            posts=self.config.wp_posts,
            pages=self.config.wp_pages,
            start_ms=start,
            end_ms=end,
            clock=self.clock,
            oversize_bytes=self.config.oversize_bytes,
        )

    # ---- ground truth -------------------------------------------------------------------------
    def ground_truth(self, mastodon_url: str, wordpress_url: str, *, items: bool = True) -> dict[str, Any]:
        """What a complete, current harvest should contain (see the module docstring)."""
        with self.lock:
            return {
                "now": mastodon_time(self.clock.now_ms()),
                "seed": self.config.seed,
                "mastodon": self._mastodon_truth(mastodon_url, items),
                "wordpress": self._wordpress_truth(wordpress_url, items),
            }

    def _mastodon_truth(self, inst: str, items: bool) -> dict[str, Any]:
        m = self.mastodon
        out: dict[str, Any] = {
            "base_url": inst,
            "accounts": [
                {
                    "username": s.spec.username,
                    "id": s.author.id,
                    "statuses_count": m.statuses_count(s.no),
                    "requires_token": bool(s.token),
                    "moderation": {
                        "blocks": [{"id": who.id, "handle": who.acct} for who, _ in s.moderation.blocks.values()],
                        "mutes": [{"id": who.id, "handle": who.acct} for who, _, _ in s.moderation.mutes.values()],
                        "domain_blocks": sorted(s.moderation.domains),
                        "filters": [
                            {"id": str(f.id), "title": f.title, "keywords": [k[1] for k in f.keywords]}
                            for f in s.moderation.filters.values()
                        ],
                    },
                }
                for s in m.accounts
            ],
        }
        if not items:
            return out
        rows: list[dict[str, Any]] = []
        for sid in m.all_ids():
            st = m.generated(sid)
            assert st is not None
            history = m.history(sid)
            rich = history[-1][1]
            shown, shown_rich = (st.reblog, st.reblog.rich) if st.reblog is not None else (st, rich)
            text = html_text(mj.render_html(shown_rich, inst, shown.mentions))
            if shown.spoiler_text:
                text = f"{shown.spoiler_text}\n\n{text}"
            rows.append(
                {
                    "id": str(sid),
                    "account": m.accounts[st.account_no].spec.username,
                    "role": st.role,
                    "author": st.author.acct,
                    "in_reply_to_id": None if st.in_reply_to_id is None else str(st.in_reply_to_id),
                    "reblog_of": None if st.reblog is None else str(st.reblog.id),
                    "created_at": mastodon_time(st.created_ms),
                    "deleted": sid in m.deleted,
                    "corrupt": sid in m.corrupted,
                    "visible": sid not in m.deleted and sid not in m.corrupted,
                    "versions": len(history),
                    "count_drift": m.count_drift.get(sid, 0),
                    "content_sha256": sha256("" if st.reblog else mj.render_html(rich, inst, st.mentions)),
                    "text": text,
                    "pii": rich.pii,
                    "media": [
                        {
                            "id": str(a.id),
                            "url": mj.attachment_json(a, inst)["url"],
                            "type": a.type,
                            "oversized": a.size > 0,
                        }
                        for a in st.media
                    ],
                }
            )
        out["items"] = rows
        out["counts"] = {
            "statuses": len(rows),
            "visible": sum(r["visible"] for r in rows),
            "deleted": sum(r["deleted"] for r in rows),
            "edited": sum(r["versions"] > 1 for r in rows),
            "pii": sum(r["pii"] for r in rows),
        }
        return out

    def _wordpress_truth(self, site: str, items: bool) -> dict[str, Any]:
        w = self.wordpress
        out: dict[str, Any] = {
            "base_url": site,
            "counts": {
                kind + "s": sum(1 for p in range(w.count(kind)) if w.id_at(kind, p) not in w.deleted)
                for kind in w.kinds
            },
        }
        if not items:
            return out
        rows: list[dict[str, Any]] = []
        comments = 0
        for pid in w.all_post_ids():
            post = w.post(pid)
            assert post is not None
            state = w.deleted.get(pid)
            media = [w.media(i) for i in (post.featured_media, post.inline_media, post.video_media) if i]
            content = wj.render_content(site, post, w)
            rows.append(
                {
                    "type": post.type,
                    "id": pid,
                    "status": {"trash": "trash", "delete": "deleted"}.get(state or "", "publish"),
                    "visible": state is None and pid not in w.corrupted,
                    "deleted": state is not None,
                    "corrupt": pid in w.corrupted,
                    "versions": post.versions,
                    "date_gmt": wp_gmt(post.date_ms),
                    "modified_gmt": wp_gmt(post.modified_ms),
                    "title": post.title,
                    "content_sha256": sha256(content),
                    "text": html_text(content),
                    "media": [
                        {
                            "id": m.id,
                            "url": wj.media_url(site, m),
                            "type": m.fmt,
                            "oversized": m.size > 0,
                            "in_content": m.id != post.featured_media,
                        }
                        for m in media
                        if m is not None
                    ],
                }
            )
            for cid in w.comment_ids(pid):
                c = w.comment_record(cid)
                assert c is not None
                status = "deleted" if cid in w.comment_deleted else c.status
                visible = status == "approved" and state is None
                comments += 1
                rows.append(
                    {
                        "type": "comment",
                        "id": cid,
                        "post": pid,
                        "parent": c.parent,
                        "status": status,
                        "visible": visible,
                        "deleted": status == "deleted",
                        "hidden": status in ("hold", "spam", "trash"),
                        "versions": c.versions,
                        "date_gmt": wp_gmt(c.date_ms),
                        "content_sha256": sha256(wj.autop(c.text) + "\n"),
                        "text": html_text(wj.autop(c.text)),
                        "pii": c.pii,
                    }
                )
        out["items"] = rows
        visible_comments = sum(1 for r in rows if r["type"] == "comment" and r["visible"])
        out["counts"].update(
            {
                "comments": comments,
                "comments_visible": visible_comments,
                "comments_not_visible": comments - visible_comments,
                "pii_comments": sum(1 for r in rows if r["type"] == "comment" and r["pii"]),
            }
        )
        return out
