"""The preservation event log: `PremisEvent`s appended to the data stream `{prefix}-premis`.

Like the audit log (archive/access/audit.py) it is a data stream, which accepts only `create`,
so events cannot be overwritten or deleted through it; retention jobs never touch it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch

from schemas.premis import PremisEvent, PremisEventType, PremisOutcome

from .config import Settings
from .index.client import make_client, translate
from .version import __version__

SOFTWARE_AGENT = f"software: communis {__version__}"
_ONCE = uuid.UUID("6f1c2a8e-3b7d-5e0a-9c4f-2d8b1e7a6c35")
"""Namespace of the name-based ids of events that happen once per object (`record(once=...)`)."""
_KW = {"type": "keyword"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"@timestamp": {"type": "date_nanos"}, "id": _KW, "type": _KW, "detail": {"type": "text"},
                   "outcome": _KW, "outcome_detail": {"type": "text"}, "agents": _KW, "objects": _KW, "sha256": _KW},
}


class PremisLog:
    def __init__(self, client: Elasticsearch, name: str) -> None:
        self.es = client
        self.name = name
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        with translate("create the preservation event log template"):
            self.es.indices.put_index_template(
                name=f"{self.name}-template", index_patterns=[self.name], data_stream={}, priority=200,
                template={"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": MAPPINGS},
                meta={"description": "Communis PREMIS events (append-only data stream, never disposed of)"})
        self._ready = True

    def record(self, type: PremisEventType, *, objects: list[str], agents: list[str] | None = None,
               detail: str = "", outcome: PremisOutcome = PremisOutcome.SUCCESS, outcome_detail: str = "",
               sha256: str | None = None, at: datetime | None = None, refresh: bool = False,
               once: str | None = None) -> PremisEvent:
        """Append one event (the software agent is always named) and return it.

        `once` names an event that can happen only once (the ingestion of one stored file): its id is
        derived from that name, so a rerun after a crash, which commits the same file again, finds the
        event already there instead of adding a second one (the data stream refuses a repeated id).
        """
        self.ensure()
        eid = uuid.uuid5(_ONCE, f"{type.value}#{once}") if once is not None else uuid.uuid4()
        event = PremisEvent(id=f"urn:uuid:{eid}", type=type, at=at or datetime.now(UTC), detail=detail,
                            outcome=outcome, outcome_detail=outcome_detail, sha256=sha256, objects=objects,
                            agents=[SOFTWARE_AGENT, *(agents or [])])
        doc = event.model_dump(mode="json", exclude={"at"})
        doc["@timestamp"] = event.at.astimezone(UTC).isoformat()
        with translate("write a preservation event"):
            try:
                self.es.create(index=self.name, id=event.id, document=doc, refresh="wait_for" if refresh else None)
            except ConflictError:
                if once is None:
                    raise
        return event

    def events(self, *, object_id: str | None = None, type: PremisEventType | None = None,
               limit: int = 1000) -> list[PremisEvent]:
        """Events, newest first, optionally about one object and/or of one type."""
        filters: list[dict[str, Any]] = []
        if object_id:
            filters.append({"term": {"objects": object_id}})
        if type:
            filters.append({"term": {"type": type.value}})
        with translate("read preservation events"):
            found = self.es.options(ignore_status=404).search(
                index=self.name, size=limit, query={"bool": {"filter": filters}}, sort=[{"@timestamp": "desc"}],
                ignore_unavailable=True)
        out = []
        for hit in found.get("hits", {}).get("hits", []):
            data = dict(hit["_source"])
            data["at"] = data.pop("@timestamp")
            out.append(PremisEvent.model_validate(data))
        return out

    def refresh(self) -> None:
        with translate("refresh the preservation event log"):
            self.es.options(ignore_status=404).indices.refresh(index=self.name)


def open_premis(settings: Settings) -> PremisLog:
    return PremisLog(make_client(settings), settings.stream("premis"))
