"""The harvest table: what the harvest knows between runs, one small document per thing it knows.

One index beside the records (`{prefix}-harvest`) holds six kinds of document (field `entry`), each keyed by
account and what it is about, so that a run reads (by id, in batches) and writes (in bulk) only
the documents of what it touched, never the account's whole history:

- `head`: the account's cursor and health (schemas.HarvestState), one per account, rewritten by
  every run with optimistic concurrency (a second run of the account saving meanwhile is refused);
- `item`: the latest archived version of one item (schemas.KnownItem) and the platform's activity
  marker for it when last read;
- `media`: a media URL already archived → the SHA-256 of its file; `mloc`: that file's WARC record;
- `payload`: a response stored in full (schemas.SeenPayload), which a later identical one revisits;
- `run`: one run's summary (schemas.RunSummary), in a ring of the last `history` runs, so the history
  stays bounded without deleting anything.

It is derived data: the WARC files are the source of truth, the record index is rebuilt from them,
and the item and media documents from the record index (archive/harvest/rebuild.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import ConflictError, helpers

from ..errors import SearchIndexError
from .client import Client, translate
from .indexer import RecordIndex

KINDS = ("head", "item", "media", "mloc", "payload", "run")

_keyword = {"type": "keyword"}
MAPPINGS: dict[str, Any] = {
    # Only what is searched or counted is indexed; the rest is kept in _source and read by id.
    "dynamic": False,
    "properties": {
        "entry": _keyword,
        "account": _keyword,
        "item_id": _keyword,
        "deleted": {"type": "boolean"},
        "record_id": _keyword,
        "published_at": {"type": "date"},
        "seq": {"type": "long"},
    },
}

#: Documents per bulk request, per mget and per search page.
CHUNK = 1000


class StateConflict(SearchIndexError):
    """Another run saved the account's state while this one ran (two harvests of one account at once)."""


@dataclass(frozen=True)
class Head:
    """The head document as read, with what a conditional write of the next one must present."""

    source: dict[str, Any]
    seq_no: int
    primary_term: int


def doc_id(kind: str, account: str, key: str) -> str:
    """`kind|account|hash`: ids stay short and safe whatever an item id or URL holds."""
    return f"{kind}|{account}|{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"


class HarvestTable:
    """The `{prefix}-harvest` index, created with its mapping in the request on first use."""

    def __init__(self, client: Client, name: str) -> None:
        self._es = client
        self.name = name
        self._ready = False
        self.bytes_written = 0
        """JSON bytes sent in writes by this object: what `bench/steady.py` reports as state bytes."""

    @classmethod
    def beside(cls, index: RecordIndex) -> HarvestTable:
        """The table of the record index's installation (`{prefix}-records` → `{prefix}-harvest`)."""
        return cls(index.es, index.beside_name("harvest"))

    def ensure(self) -> None:
        if self._ready:
            return
        with translate("create the harvest table"):
            if not self._es.indices.exists(index=self.name):
                # 400: another task created it in between, which is what both wanted.
                self._es.options(ignore_status=400).indices.create(
                    index=self.name, mappings=MAPPINGS, settings={"number_of_shards": 1, "number_of_replicas": 0}
                )
        self._ready = True

    def exists(self) -> bool:
        with translate("look for the harvest table"):
            return bool(self._es.indices.exists(index=self.name))

    def destroy(self) -> None:
        with translate("drop the harvest table"):
            self._es.options(ignore_status=404).indices.delete(index=self.name)
        self._ready = False

    def refresh(self) -> None:
        with translate("refresh the harvest table"):
            self._es.indices.refresh(index=self.name)

    # -- the head: read, and written only over the version read ------------------------------------

    def head(self, account: str) -> Head | None:
        self.ensure()
        with translate("read the harvest state"):
            found = self._es.options(ignore_status=404).get(index=self.name, id=doc_id("head", account, account))
        if not found.get("found"):
            return None
        return Head(dict(found["_source"]), int(found["_seq_no"]), int(found["_primary_term"]))

    def put_head(self, account: str, source: dict[str, Any], over: Head | None) -> Head:
        """Write the head; StateConflict when it changed since `over` was read (or appeared, for None).
        Returns the head as written, to save the next one over."""
        self.ensure()
        body = {"entry": "head", "account": account, **source}
        self.bytes_written += len(json.dumps(body, default=str))
        condition: dict[str, Any] = (
            {"op_type": "create"} if over is None else {"if_seq_no": over.seq_no, "if_primary_term": over.primary_term}
        )
        try:
            with translate("save the harvest state"):
                resp = self._es.index(
                    index=self.name, id=doc_id("head", account, account), document=body, refresh=True, **condition
                )
        except SearchIndexError as exc:
            if isinstance(exc.__cause__, ConflictError):
                raise StateConflict(
                    f"the harvest state of {account} was saved by another run while this one ran",
                    hint="two harvests of one account ran at once: check its concurrency limit",
                ) from None
            raise
        return Head(body, int(resp["_seq_no"]), int(resp["_primary_term"]))

    # -- documents by id -------------------------------------------------------------------------

    def get_many(self, kind: str, account: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """key → source of the documents that exist, `CHUNK` ids per request."""
        self.ensure()
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start : start + CHUNK])
            ids = [doc_id(kind, account, k) for k in chunk]
            with translate("read the harvest table"):
                docs = self._es.mget(index=self.name, ids=ids)["docs"]
            for key, doc in zip(chunk, docs, strict=True):
                if doc.get("found"):
                    out[key] = dict(doc["_source"])
        return out

    def upsert(self, kind: str, account: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Merge each (key, fields) into its document (created when missing); how many were written.

        A merge, not a replace: an item's marker and its latest version are written by different
        steps of a run, and neither may drop the other."""
        return self.upsert_across(kind, ((account, key, fields) for key, fields in rows))

    def upsert_across(self, kind: str, rows: Iterable[tuple[str, str, dict[str, Any]]]) -> int:
        """`upsert` for (account, key, fields) rows of any accounts (a rebuild walks them all at once)."""
        self.ensure()

        def actions() -> Iterator[dict[str, Any]]:
            for account, key, fields in rows:
                body = {"entry": kind, "account": account, **fields}
                self.bytes_written += len(json.dumps(body, default=str))
                yield {
                    "_op_type": "update",
                    "_index": self.name,
                    "_id": doc_id(kind, account, key),
                    "doc": body,
                    "doc_as_upsert": True,
                }

        with translate("write the harvest table"):
            count, _ = helpers.bulk(self._es, actions(), chunk_size=CHUNK, max_retries=3)
        return int(count)

    def put(self, kind: str, account: str, key: str, source: dict[str, Any]) -> None:
        """Replace one document (a run summary in its ring slot)."""
        self.ensure()
        body = {"entry": kind, "account": account, **source}
        self.bytes_written += len(json.dumps(body, default=str))
        with translate("write the harvest table"):
            self._es.index(index=self.name, id=doc_id(kind, account, key), document=body)

    # -- what is searched ------------------------------------------------------------------------

    def items_in(
        self, account: str, *, live: bool = True, published_since: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The account's item documents with a version (not deleted when `live`; published at or after
        `published_since` or with no publication time), in item id order, a page at a time: a sweep
        compares a million items with this run's listings without holding them."""
        self.ensure()
        self.refresh()  # the last run's writes, whatever the refresh interval
        where: list[dict[str, Any]] = [
            {"term": {"entry": "item"}},
            {"term": {"account": account}},
            {"exists": {"field": "record_id"}},
        ]
        if live:
            where.append({"term": {"deleted": False}})
        if published_since is not None:
            where.append(
                {
                    "bool": {
                        "should": [
                            {"range": {"published_at": {"gte": published_since}}},
                            {"bool": {"must_not": {"exists": {"field": "published_at"}}}},
                        ]
                    }
                }
            )
        after: list[Any] | None = None
        while True:
            with translate("read the harvest table"):
                resp = self._es.search(
                    index=self.name,
                    query={"bool": {"filter": where}},
                    sort=[{"item_id": "asc"}],
                    size=CHUNK,
                    search_after=after,
                )
            hits = resp["hits"]["hits"]
            for hit in hits:
                yield dict(hit["_source"])
            if len(hits) < CHUNK:
                return
            after = hits[-1]["sort"]

    def count(self, kind: str | Sequence[str], account: str, **equal: object) -> int:
        """Documents of `kind` (or of any of several kinds) of the account whose fields equal `equal`."""
        self.ensure()
        kinds = [kind] if isinstance(kind, str) else list(kind)
        where: list[dict[str, Any]] = [{"terms": {"entry": kinds}}, {"term": {"account": account}}]
        where += [{"term": {k: v}} for k, v in equal.items()]
        if kinds == ["item"]:  # a version, not only a marker
            where.append({"exists": {"field": "record_id"}})
        with translate("count in the harvest table"):
            return int(self._es.count(index=self.name, query={"bool": {"filter": where}})["count"])

    def latest(self, kind: str, account: str, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` documents of `kind` by seq (the run history)."""
        self.ensure()
        self.refresh()
        with translate("read the harvest table"):
            resp = self._es.search(
                index=self.name,
                query={"bool": {"filter": [{"term": {"entry": kind}}, {"term": {"account": account}}]}},
                sort=[{"seq": "desc"}],
                size=limit,
            )
        return [dict(h["_source"]) for h in resp["hits"]["hits"]]

    def accounts(self) -> list[str]:
        """The accounts with a saved state."""
        self.ensure()
        with translate("read the harvest table"):
            resp = self._es.search(
                index=self.name,
                query={"term": {"entry": "head"}},
                size=0,
                aggs={"a": {"terms": {"field": "account", "size": 65536}}},
            )
        return sorted(b["key"] for b in resp["aggregations"]["a"]["buckets"])
