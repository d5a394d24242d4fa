"""What earlier runs archived, asked of the harvest table item by item, in batches, with a bounded cache.

The connectors ask whether an item is known and what its marker was (`ItemLookup`); the versioner
asks for an item's latest version; the media step for a URL's file and a file's WARC record. Each
question is one document by id. Asked one at a time a million items would be a million requests, so
callers announce what they are about to ask (`prefetch`: one `mget` per listing page or bundle), and
the answers are cached, the cache bounded so memory does not follow the account's history.

An account with no item in the table (its first harvest) is answered without asking at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from schemas import KnownItem, SeenPayload, WarcLocation

from ..index.harvest_table import HarvestTable

#: Answers kept per kind of question; a listing page or bundle is far smaller.
CACHE = 20_000


class _Cache:
    """A least-recently-used map of key → document (None: asked, and there is none)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.docs: OrderedDict[str, dict[str, Any] | None] = OrderedDict()

    def get(self, key: str) -> tuple[bool, dict[str, Any] | None]:
        if key not in self.docs:
            return False, None
        self.docs.move_to_end(key)
        return True, self.docs[key]

    def put(self, key: str, doc: dict[str, Any] | None) -> None:
        self.docs[key] = doc
        self.docs.move_to_end(key)
        while len(self.docs) > self.size:
            self.docs.popitem(last=False)


class TableItems:
    """An ItemLookup (archive/connectors/base.py) of one account over the harvest table."""

    def __init__(self, table: HarvestTable, account: str, *, cache: int = CACHE) -> None:
        self.table, self.account = table, account
        self._caches = {kind: _Cache(cache) for kind in ("item", "media", "mloc", "payload")}
        self.requests = 0
        self._empty = table.count(("item", "media", "mloc", "payload"), account) == 0
        """Nothing archived yet: every answer is None, and no request is needed."""

    def _docs(self, kind: str, keys: Iterable[str]) -> None:
        if self._empty:
            return
        cache = self._caches[kind]
        missing = list(dict.fromkeys(k for k in keys if not cache.get(k)[0]))
        if not missing:
            return
        self.requests += 1
        found = self.table.get_many(kind, self.account, missing)
        for key in missing:
            cache.put(key, found.get(key))

    def _doc(self, kind: str, key: str) -> dict[str, Any] | None:
        if self._empty:
            return None
        hit, doc = self._caches[kind].get(key)
        if not hit:
            self._docs(kind, [key])
            doc = self._caches[kind].get(key)[1]
        return doc

    def prefetch(self, item_ids: Iterable[str]) -> None:
        self._docs("item", item_ids)

    def prefetch_media(self, urls: Iterable[str]) -> None:
        self._docs("media", urls)

    def known(self, item_id: str) -> KnownItem | None:
        doc = self._doc("item", item_id)
        return known_item(doc) if doc is not None and doc.get("record_id") else None

    def marker(self, item_id: str) -> str | None:
        doc = self._doc("item", item_id)
        marker = doc.get("marker") if doc is not None else None
        return str(marker) if marker is not None else None

    def media_sha(self, url: str) -> str | None:
        doc = self._doc("media", url)
        return str(doc["sha256"]) if doc is not None else None

    def media_location(self, sha256: str) -> WarcLocation | None:
        doc = self._doc("mloc", sha256)
        return WarcLocation.model_validate(doc["location"]) if doc is not None else None

    def payload(self, key: str) -> SeenPayload | None:
        doc = self._doc("payload", key)
        return SeenPayload.model_validate(doc["payload"]) if doc is not None else None


_ITEM_FIELDS = frozenset(KnownItem.model_fields)


def known_item(doc: dict[str, Any]) -> KnownItem:
    """The KnownItem fields of an item document (which also holds its account, id and marker)."""
    return KnownItem.model_validate({k: v for k, v in doc.items() if k in _ITEM_FIELDS})


def item_fields(item_id: str, known: KnownItem) -> dict[str, Any]:
    """An item document's fields for a version (the marker is written apart, and kept)."""
    return {"item_id": item_id, **known.model_dump(mode="json")}
