"""The published counts: `{prefix}-counts`, one document per count the platform publishes.

Each document is the latest reading of one count of one account (an account total, or the comment
count of one item), with the WARC response record it was read from (schemas.CountReading). A
reading is written only when it is new or its value moved, so a run that sees a million unchanged
counts writes nothing and the document keeps the first capture that showed its value: the evidence
of that value. When the count was last *confirmed* is the account's last complete run (its head).

Derived data like the harvest table: the counts are in the archived responses, and the next
sweep reads them all again. Kept apart from the harvest table so that rebuilding the table after
a reindex does not lose them, and so the web role may read counts without reading harvest state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from elasticsearch import helpers

from schemas import CountOf, CountReading

from .client import Client, translate
from .indexer import RecordIndex

_keyword = {"type": "keyword"}
MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "account": _keyword,
        "platform": _keyword,
        "what": _keyword,
        "detail": _keyword,
        "item_id": _keyword,
        "scope": _keyword,  # "account" or "item"
        "month": _keyword,
        "value": {"type": "long"},
        "captured_at": {"type": "date"},
        "order": _keyword,  # item id, what, detail: the streams' sort, in item id order
    },
}

#: Documents per bulk request, per mget and per search page.
CHUNK = 1000


def count_id(account: str, key: str) -> str:
    """`account|hash of the key`: short and safe whatever an item id holds."""
    return f"{account}|{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"


def _document(reading: CountReading) -> dict[str, Any]:
    body = reading.model_dump(mode="json")
    body["scope"] = "item" if reading.item_id is not None else "account"
    body["month"] = reading.month
    body["order"] = f"{reading.item_id or ''}\x1f{reading.what.value}\x1f{reading.detail or ''}"
    return body


def _reading(source: dict[str, Any]) -> CountReading:
    return CountReading.model_validate({k: v for k, v in source.items() if k not in ("scope", "month", "order")})


class PublishedCounts:
    """The `{prefix}-counts` index, created with its mapping on first use."""

    def __init__(self, client: Client, name: str) -> None:
        self._es = client
        self.name = name
        self._ready = False

    @classmethod
    def beside(cls, index: RecordIndex) -> PublishedCounts:
        """The counts of the record index's installation (`{prefix}-records` → `{prefix}-counts`)."""
        return cls(index.es, index.beside_name("counts"))

    def ensure(self) -> None:
        if self._ready:
            return
        with translate("create the counts index"):
            if not self._es.indices.exists(index=self.name):
                # 400: another task created it in between, which is what both wanted.
                self._es.options(ignore_status=400).indices.create(
                    index=self.name, mappings=MAPPINGS, settings={"number_of_shards": 1, "number_of_replicas": 0}
                )
        self._ready = True

    def destroy(self) -> None:
        with translate("drop the counts index"):
            self._es.options(ignore_status=404).indices.delete(index=self.name)
        self._ready = False

    def refresh(self) -> None:
        self.ensure()
        with translate("refresh the counts index"):
            self._es.indices.refresh(index=self.name)

    def record(self, readings: Iterable[CountReading]) -> int:
        """Write the readings that are new or whose value moved; how many were written.

        Read before write, a chunk at a time: one mget and at most one bulk request per `CHUNK`
        readings, whatever the account's size. Of two readings of one key in the stream the last wins.
        """
        self.ensure()
        written = 0
        chunk: dict[str, CountReading] = {}
        for reading in readings:
            chunk[count_id(reading.account, reading.key)] = reading
            if len(chunk) >= CHUNK:
                written += self._record_chunk(chunk)
                chunk = {}
        if chunk:
            written += self._record_chunk(chunk)
        return written

    def _record_chunk(self, chunk: dict[str, CountReading]) -> int:
        with translate("read the counts index"):
            docs = self._es.mget(index=self.name, ids=list(chunk))["docs"]
        stored = {d["_id"]: d["_source"].get("value") for d in docs if d.get("found")}
        moved = [(i, r) for i, r in chunk.items() if stored.get(i) != r.value]
        if not moved:
            return 0
        actions = ({"_op_type": "index", "_index": self.name, "_id": i, "_source": _document(r)} for i, r in moved)
        with translate("write the counts index"):
            count, _ = helpers.bulk(self._es, actions, chunk_size=CHUNK, max_retries=3)
        return int(count)

    def totals(self, account: str) -> list[CountReading]:
        """The account's totals (posts, videos, media …), as last read."""
        return list(self._stream(account, [{"term": {"scope": "account"}}]))

    def items(self, account: str, what: CountOf = CountOf.COMMENTS) -> Iterator[CountReading]:
        """The account's per-item counts of `what`, in item id order, a page at a time."""
        return self._stream(account, [{"term": {"scope": "item"}}, {"term": {"what": what.value}}])

    def items_of_month(self, account: str, month: str, what: CountOf = CountOf.COMMENTS) -> Iterator[CountReading]:
        """The per-item counts of `what` of items published in `month` (YYYY-MM), in item id order."""
        where = [{"term": {"scope": "item"}}, {"term": {"what": what.value}}, {"term": {"month": month}}]
        return self._stream(account, where)

    def for_items(self, account: str, item_ids: Sequence[str]) -> dict[str, list[CountReading]]:
        """item id → its counts, for the given items (a terms query per `CHUNK` ids)."""
        out: dict[str, list[CountReading]] = {}
        for start in range(0, len(item_ids), CHUNK):
            ids = list(item_ids[start : start + CHUNK])
            for reading in self._stream(account, [{"terms": {"item_id": ids}}]):
                out.setdefault(reading.item_id or "", []).append(reading)
        return out

    def _stream(self, account: str, where: list[dict[str, Any]]) -> Iterator[CountReading]:
        self.refresh()  # the last run's writes, whatever the refresh interval
        query = {"bool": {"filter": [{"term": {"account": account}}, *where]}}
        after: list[Any] | None = None
        while True:
            with translate("read the counts index"):
                resp = self._es.search(
                    index=self.name,
                    query=query,
                    sort=[{"order": "asc"}],
                    size=CHUNK,
                    search_after=after,
                )
            hits = resp["hits"]["hits"]
            for hit in hits:
                yield _reading(hit["_source"])
            if len(hits) < CHUNK:
                return
            after = hits[-1]["sort"]
