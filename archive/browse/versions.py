"""Every version of one item in capture order, the word-level changes between them, tombstones."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..index import RecordIndex, SearchQuery, iter_hits

_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class DiffPart:
    """A run of text that is the same in both versions, only in the old one, or only in the new one."""

    op: Literal["same", "removed", "added"]
    text: str


@dataclass(frozen=True)
class VersionView:
    """One version of an item with what changed since the version before it."""

    document: dict[str, Any]
    #: Word changes in the text against the previous version (empty for the first).
    diff: list[DiffPart]
    #: Names of the other content fields that changed (title, media, links …).
    changed: list[str]
    #: For a tombstone: when the deletion was seen, and the last capture that still saw the item.
    deleted_at: str | None = None
    last_seen_at: str | None = None


_COMPARED = ("title", "url", "links", "hashtags", "media", "hidden_on_platform", "removal", "edited_at", "author")


def diff_words(old: str, new: str) -> list[DiffPart]:
    """Word-level difference, whitespace kept, adjacent runs of one kind merged."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    parts: list[DiffPart] = []

    def add(op: Literal["same", "removed", "added"], words: list[str]) -> None:
        if not words:
            return
        text = "".join(words)
        if parts and parts[-1].op == op:
            parts[-1] = DiffPart(op, parts[-1].text + text)
        else:
            parts.append(DiffPart(op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("same", a[i1:i2])
        else:
            add("removed", a[i1:i2])
            add("added", b[j1:j2])
    return parts


def versions_of(index: RecordIndex, item_key: str) -> list[VersionView]:
    """All versions of `item_key`, oldest first, each with its changes against the one before."""
    docs = [h.source for h in iter_hits(index, SearchQuery(item_key=item_key), page_size=500)]
    docs.sort(key=lambda d: (d["captured_at"], d.get("version", 1), d["record_id"]))
    views: list[VersionView] = []
    previous: dict[str, Any] | None = None
    for doc in docs:
        if previous is None:
            views.append(VersionView(doc, [], []))
        elif doc.get("deleted"):
            removal = doc.get("removal") or {}
            views.append(
                VersionView(
                    doc,
                    [],
                    ["deleted"],
                    deleted_at=removal.get("at") or doc["captured_at"],
                    last_seen_at=doc.get("last_seen_at") or previous["captured_at"],
                )
            )
        else:
            changed = [name for name in _COMPARED if doc.get(name) != previous.get(name)]
            text_diff = diff_words(previous.get("text") or "", doc.get("text") or "")
            if any(p.op != "same" for p in text_diff):
                changed.insert(0, "text")
            views.append(VersionView(doc, text_diff, changed))
        if not doc.get("deleted"):
            previous = doc
    return views


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
