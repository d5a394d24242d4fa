"""Listing queries over the WordPress model: filters, ordering, cached sorted indexes.

A listing is a slice of a sorted index: publication order for ``orderby=date|id`` (ids grow with
dates), a (modified, id) order for ``orderby=modified``. Range filters on the index's own key are a
bisect; the indexes are rebuilt only after the timeline changes the site (``model.generation``), so
walking a large site page by page never regenerates it. ``after``/``before``/``modified_*`` are
exclusive and compared in UTC.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from .wordpress_model import WordPressModel


class Selection:
    """An ordered result; only the requested page is turned into ids (cheap on large sites)."""

    def __init__(self, items: Sequence[Any], desc: bool, to_id: Callable[[Any], int] | None) -> None:
        self._items, self._desc, self._to_id = items, desc, to_id

    def __len__(self) -> int:
        return len(self._items)

    def page(self, offset: int, size: int) -> list[int]:
        """Ids from ``offset`` (in the requested order), at most ``size`` of them."""
        n = len(self._items)
        if self._desc:
            end = max(n - offset, 0)
            part = self._items[max(end - size, 0) : end][::-1]
        else:
            part = self._items[offset : offset + size]
        return [self._to_id(p) for p in part] if self._to_id else [int(p) for p in part]


class WpQuery:
    """Answers collection queries for one model."""

    def __init__(self, model: WordPressModel) -> None:
        self.model = model
        self._cache: dict[tuple[str, ...], list[Any]] = {}
        self._generation = -1

    def _cached(self, key: tuple[str, ...], build: Callable[[], list[Any]]) -> list[Any]:
        if self._generation != self.model.generation:
            self._cache.clear()
            self._generation = self.model.generation
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def _by_date(self, kind: str) -> list[int]:
        m = self.model
        return self._cached(
            ("date", kind), lambda: [p for p in range(m.count(kind)) if m.id_at(kind, p) not in m.deleted]
        )

    def _by_modified(self, kind: str) -> list[int]:
        m = self.model
        return self._cached(
            ("modified", kind),
            lambda: sorted(self._by_date(kind), key=lambda p: (m.modified_at(kind, p), m.id_at(kind, p))),
        )

    def posts(
        self,
        kind: str,
        *,
        orderby: str = "date",
        desc: bool = True,
        after: int | None = None,
        before: int | None = None,
        modified_after: int | None = None,
        modified_before: int | None = None,
        include: list[int] | None = None,
        exclude: list[int] | None = None,
    ) -> Selection:
        """Visible posts (or pages) matching the filters, in the requested order."""
        m = self.model

        def date(p: int) -> int:
            return m.date_at(kind, p)

        def modified(p: int) -> int:
            return m.modified_at(kind, p)

        if orderby == "modified":
            view, key, lo_v, hi_v = self._by_modified(kind), modified, modified_after, modified_before
        else:
            view, key, lo_v, hi_v = self._by_date(kind), date, after, before
        lo = bisect_right(view, lo_v, key=key) if lo_v is not None else 0
        hi = bisect_left(view, hi_v, key=key) if hi_v is not None else len(view)
        sel = view[lo:hi]
        other = (after, before, date) if orderby == "modified" else (modified_after, modified_before, modified)
        if other[0] is not None or other[1] is not None:
            a, b, fn = other
            sel = [p for p in sel if (a is None or fn(p) > a) and (b is None or fn(p) < b)]
        if include or exclude or orderby in ("title", "slug", "include"):
            ids = [m.id_at(kind, p) for p in sel]
            wanted, unwanted = set(include or []), set(exclude or [])
            ids = [i for i in ids if (not include or i in wanted) and i not in unwanted]
            if orderby == "include" and include:
                ids.sort(key=include.index)
            elif orderby in ("title", "slug"):
                ids.sort(key=lambda i: (getattr(m.post(i), orderby), i))
            return Selection(ids, desc, None)
        return Selection(sel, desc, lambda p: m.id_at(kind, p))

    def _all_comments(self) -> list[tuple[int, int]]:
        m = self.model

        def build() -> list[tuple[int, int]]:
            out = []
            for p in self._by_date("post"):
                for cid in m.comment_ids(m.id_at("post", p)):
                    if m.comment_status(cid) == "approved":
                        meta = m.comment_meta(cid)
                        assert meta is not None
                        out.append((meta[2], cid))
            out.sort()
            return out

        return self._cached(("comments",), build)

    def comments(
        self,
        *,
        posts: list[int] | None = None,
        parents: list[int] | None = None,
        after: int | None = None,
        before: int | None = None,
        orderby: str = "date_gmt",
        desc: bool = True,
    ) -> Selection:
        """Approved comments on visible posts, filtered and ordered."""
        m = self.model
        if posts:
            rows = []
            for pid in dict.fromkeys(posts):
                if m.visible(pid):
                    for cid in m.comment_ids(pid):
                        if m.comment_status(cid) == "approved":
                            meta = m.comment_meta(cid)
                            assert meta is not None
                            rows.append((meta[2], cid))
        else:
            rows = self._all_comments()
        if after is not None or before is not None:
            rows = [r for r in rows if (after is None or r[0] > after) and (before is None or r[0] < before)]
        if parents is not None:
            wanted = set(parents)
            rows = [r for r in rows if (m.comment_meta(r[1]) or ("", -1))[1] in wanted]
        if orderby in ("id", "include"):
            return Selection(sorted(r[1] for r in rows), desc, None)
        if orderby in ("post", "parent"):
            idx = 0 if orderby == "post" else 1
            return Selection(
                [r[1] for r in sorted(rows, key=lambda r: (self._post_or_parent(r[1])[idx], r[0], r[1]))], desc, None
            )
        return Selection(sorted(rows) if posts else rows, desc, lambda r: int(r[1]))

    def _post_or_parent(self, cid: int) -> tuple[int, int]:
        c = self.model.comment(cid)
        return (c.post, c.parent) if c else (0, 0)

    def media(self, parents: list[int] | None) -> list[int]:
        """Attachment ids, newest first, optionally only those of some parents."""
        m = self.model

        def of(pid: int) -> list[int]:
            post = m.generated(pid)
            return [] if post is None else [i for i in (post.featured_media, post.inline_media, post.video_media) if i]

        if parents:
            return sorted({i for pid in parents for i in of(pid)}, reverse=True)
        return self._cached(("media",), lambda: sorted({i for pid in m.all_post_ids() for i in of(pid)}, reverse=True))
