"""Small side indices of whole documents by id, beside the records: the request cases, their
snapshots and masks (archive/requests/casebook.py says what goes in them).

They live in the cluster every host of the installation shares, so the retention flow on a worker
sees which records are in open cases. The questions asked of them are few and plain: one document
by id, and the documents whose keyword fields equal given values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from elasticsearch import helpers

from .client import Client, translate

#: Documents per bulk request and per scroll page.
_CHUNK = 2000


class KeyedIndices:
    """Indices `names` (short name → index name), each created with its `mappings` on first use."""

    def __init__(self, client: Client, names: Mapping[str, str], mappings: Mapping[str, dict[str, Any]]) -> None:
        self._es = client
        self.names = dict(names)
        self._mappings = dict(mappings)
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        for name, index in self.names.items():
            with translate(f"create the {name} index"):
                if not self._es.indices.exists(index=index):
                    self._es.options(ignore_status=400).indices.create(
                        index=index,
                        mappings=self._mappings[name],
                        settings={"number_of_shards": 1, "number_of_replicas": 0},
                    )
        self._ready = True

    def destroy(self) -> None:
        for index in self.names.values():
            self._es.options(ignore_status=404).indices.delete(index=index)

    def put(self, name: str, doc_id: str, document: dict[str, Any], *, action: str) -> None:
        """Write one document (replacing it), visible to searches when this returns."""
        self.ensure()
        with translate(action):
            self._es.index(index=self.names[name], id=doc_id, document=document, refresh="wait_for")

    def put_many(self, name: str, documents: Iterable[tuple[str, dict[str, Any]]], *, action: str) -> int:
        """Write (id, document) pairs in bulk, visible to searches when this returns; how many were written."""
        self.ensure()
        actions = ({"_index": self.names[name], "_id": doc_id, "_source": doc} for doc_id, doc in documents)
        with translate(action):
            count, _ = helpers.bulk(self._es, actions, chunk_size=_CHUNK, refresh="wait_for")
        return int(count)

    def get(self, name: str, doc_id: str, *, action: str) -> dict[str, Any] | None:
        """One document by id, None if there is none."""
        self.ensure()
        with translate(action):
            found = self._es.options(ignore_status=404).get(index=self.names[name], id=doc_id)
        return dict(found["_source"]) if found.get("found") else None

    def first(
        self, name: str, *, newest_by: str, limit: int, action: str, **equal: str | int | None
    ) -> list[dict[str, Any]]:
        """Up to `limit` documents whose fields equal `equal` (None: any value), newest `newest_by` first."""
        self.ensure()
        with translate(action):
            resp = self._es.search(index=self.names[name], query=_where(equal), size=limit, sort=[{newest_by: "desc"}])
        return [dict(h["_source"]) for h in resp["hits"]["hits"]]

    def every(self, name: str, *, action: str, **equal: str | int | None) -> Iterator[dict[str, Any]]:
        """Every document whose fields equal `equal` (None: any value), in no particular order."""
        self.ensure()
        with translate(action):
            for hit in helpers.scan(self._es, index=self.names[name], query={"query": _where(equal)}, size=_CHUNK):
                yield dict(hit["_source"])


def _where(equal: Mapping[str, str | int | None]) -> dict[str, Any]:
    terms = [{"term": {field: value}} for field, value in equal.items() if value is not None]
    if not terms:
        return {"match_all": {}}
    return terms[0] if len(terms) == 1 else {"bool": {"filter": terms}}
