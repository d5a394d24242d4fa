"""A post with its comments and replies as a tree, the latest version of each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..index import RecordIndex, SearchQuery, iter_hits

#: A thread bigger than this is cut (with a note) so one viral post cannot stall a page.
MAX_THREAD = 5000


@dataclass
class ThreadNode:
    document: dict[str, Any]
    replies: list[ThreadNode] = field(default_factory=list)


@dataclass
class Thread:
    root: ThreadNode | None
    #: Comments whose parent is not in the archive (e.g. captured before their post), kept visible.
    orphans: list[ThreadNode]
    size: int
    truncated: bool


def thread_root_id(document: dict[str, Any]) -> str:
    return str(document.get("thread_id") or document["item_id"])


def thread_of(index: RecordIndex, document: dict[str, Any], *, public_only: bool = False) -> Thread:
    """The thread a record belongs to: its top post and every comment under it, oldest first."""
    root_id = thread_root_id(document)
    base = dict(
        platform=document["platform"],
        account=document["account"],
        latest_only=True,
        public_only=public_only,
        sort="oldest",
    )
    docs: list[dict[str, Any]] = [h.source for h in iter_hits(index, SearchQuery(item=root_id, **base))]
    truncated = False
    for n, hit in enumerate(iter_hits(index, SearchQuery(thread=root_id, **base), page_size=1000)):
        if n >= MAX_THREAD:
            truncated = True
            break
        if hit.source["item_id"] != root_id:
            docs.append(hit.source)
    nodes = {d["item_id"]: ThreadNode(d) for d in docs}
    root = nodes.get(root_id)
    orphans: list[ThreadNode] = []
    for item_id, node in nodes.items():
        if item_id == root_id:
            continue
        parent = nodes.get(node.document.get("parent_id") or root_id)
        if parent is None or parent is node:
            orphans.append(node)
        else:
            parent.replies.append(node)
    for node in nodes.values():
        node.replies.sort(key=_when)
    return Thread(root, sorted(orphans, key=_when), len(nodes), truncated)


def _when(node: ThreadNode) -> str:
    return str(node.document.get("published_at") or node.document.get("captured_at") or "")
