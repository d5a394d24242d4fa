"""Request cases, their frozen snapshots and their masks, kept in Elasticsearch beside the records.

Three indices under the archive's prefix: `-cases` (one document per case), `-case-records`
(one per record per snapshot, with the reviewer's include/exclude decision) and `-case-masks`
(suggested and decided masks). They live in the cluster every host of the installation
shares, so the retention flow on a worker can see which records are in open cases.
Documents carry no masked value (only offsets and hashes), so nothing here re-discloses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import Elasticsearch, helpers

from schemas.cases import CaseStatus, RequestCase, SnapshotEntry
from schemas.requests import Mask

from ..errors import CommunisError
from ..index.client import translate

_KW = {"type": "keyword"}
_MAPPINGS: dict[str, dict[str, Any]] = {
    "cases": {"dynamic": False, "properties": {"id": _KW, "status": _KW, "profile": _KW, "handler": _KW,
                                                "received_at": {"type": "date"}, "diary_number": _KW}},
    "case-records": {"dynamic": False, "properties": {"case_id": _KW, "snapshot": {"type": "integer"},
                                                       "record_id": _KW, "platform": _KW, "account": _KW,
                                                       "included": {"type": "boolean"}}},
    "case-masks": {"dynamic": False, "properties": {"case_id": _KW, "record_id": _KW, "status": _KW,
                                                     "start": {"type": "integer"}}},
}


class CaseError(CommunisError):
    """A request case cannot do what was asked (unknown case, closed, unreviewed masks …)."""


def mask_id(case_id: str, mask: Mask) -> str:
    """The same span of the same field of the same record in one case is one mask, however often found."""
    key = f"{case_id}|{mask.record_id}|{mask.field}|{mask.start}|{mask.end}|{mask.kind.value}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class CaseBook:
    def __init__(self, es: Elasticsearch, prefix: str) -> None:
        self.es = es
        self.names = {name: f"{prefix}-{name}" for name in _MAPPINGS}
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        for name, index in self.names.items():
            with translate(f"create the {name} index"):
                if not self.es.indices.exists(index=index):
                    self.es.options(ignore_status=400).indices.create(
                        index=index, mappings=_MAPPINGS[name],
                        settings={"number_of_shards": 1, "number_of_replicas": 0})
        self._ready = True

    def destroy(self) -> None:
        for index in self.names.values():
            self.es.options(ignore_status=404).indices.delete(index=index)

    # --- cases ---------------------------------------------------------------------------------

    def save(self, case: RequestCase) -> None:
        self.ensure()
        with translate("save a request case"):
            self.es.index(index=self.names["cases"], id=case.id, document=case.model_dump(mode="json"),
                          refresh="wait_for")

    def get(self, case_id: str) -> RequestCase:
        self.ensure()
        with translate("read a request case"):
            found = self.es.options(ignore_status=404).get(index=self.names["cases"], id=case_id)
        if not found.get("found"):
            raise CaseError(f"no request case {case_id!r}", hint="`communis request list` shows the cases")
        return RequestCase.model_validate(found["_source"])

    def cases(self, status: CaseStatus | None = None) -> list[RequestCase]:
        self.ensure()
        query: dict[str, Any] = {"term": {"status": status.value}} if status else {"match_all": {}}
        with translate("list request cases"):
            resp = self.es.search(index=self.names["cases"], query=query, size=1000,
                                  sort=[{"received_at": "desc"}])
        return [RequestCase.model_validate(h["_source"]) for h in resp["hits"]["hits"]]

    # --- snapshots -----------------------------------------------------------------------------

    def add_snapshot(self, entries: Iterable[SnapshotEntry]) -> int:
        self.ensure()
        actions = ({"_index": self.names["case-records"], "_id": f"{e.case_id}:{e.snapshot}:{e.record_id}",
                    "_source": e.model_dump(mode="json")} for e in entries)
        with translate("freeze a snapshot"):
            count, _ = helpers.bulk(self.es, actions, chunk_size=2000, refresh="wait_for")
        return int(count)

    def entries(self, case_id: str, snapshot: int) -> Iterator[SnapshotEntry]:
        """The snapshot's entries (in no particular order; callers sort)."""
        self.ensure()
        query = {"bool": {"filter": [{"term": {"case_id": case_id}}, {"term": {"snapshot": snapshot}}]}}
        with translate("read a snapshot"):
            for hit in helpers.scan(self.es, index=self.names["case-records"], query={"query": query}, size=2000):
                yield SnapshotEntry.model_validate(hit["_source"])

    def update_entry(self, entry: SnapshotEntry) -> None:
        with translate("record a review decision"):
            self.es.index(index=self.names["case-records"], id=f"{entry.case_id}:{entry.snapshot}:{entry.record_id}",
                          document=entry.model_dump(mode="json"), refresh="wait_for")

    def open_record_ids(self) -> set[str]:
        """Record ids in the latest snapshot of every open case: never to be disposed of (US-5)."""
        ids: set[str] = set()
        for case in self.cases(CaseStatus.OPEN):
            if case.snapshots:
                ids |= {e.record_id for e in self.entries(case.id, case.snapshots)}
        return ids

    # --- masks ---------------------------------------------------------------------------------

    def save_masks(self, case_id: str, masks: Iterable[Mask], *, keep_decided: bool = True) -> int:
        """Store masks; with `keep_decided`, a suggestion found again never undoes a decision."""
        self.ensure()
        decided = {mask_id(case_id, m) for m in self.masks(case_id) if m.status != "pending"} if keep_decided else set()
        actions = []
        for m in masks:
            mid = mask_id(case_id, m)
            if mid in decided:
                continue
            actions.append({"_index": self.names["case-masks"], "_id": mid,
                            "_source": {"case_id": case_id, **m.model_dump(mode="json")}})
        with translate("save masks"):
            count, _ = helpers.bulk(self.es, actions, chunk_size=2000, refresh="wait_for")
        return int(count)

    def masks(self, case_id: str) -> list[Mask]:
        self.ensure()
        with translate("read masks"):
            hits = helpers.scan(self.es, index=self.names["case-masks"],
                                query={"query": {"term": {"case_id": case_id}}}, size=2000)
            masks = [Mask.model_validate({k: v for k, v in h["_source"].items() if k != "case_id"}) for h in hits]
        return sorted(masks, key=lambda m: (m.record_id, m.field, m.start))
