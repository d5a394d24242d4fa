"""The audit log: events appended to the Elasticsearch data stream `{prefix}-audit`.

The data stream gets its own index template. A data stream accepts only `create`
operations through its name: an event cannot be overwritten, updated or deleted through
the stream, which makes the log append-only for everything Communis does. (On a secured
cluster, give the application's key only `create_doc` on `{prefix}-audit` and `read`, so
its backing indices cannot be written directly either.)

Events are pydantic `AuditEvent`s, a model with no field for a secret; callers put a user
name, query or record id in `target`, never a password or token.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from schemas import AuditAction, AuditEvent, AuditOutcome, Role

from ..config import Settings
from ..index.client import empty_data_stream, make_client, translate

log = logging.getLogger(__name__)

AUDIT_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date_nanos"},
        "user": {"type": "keyword"},
        "role": {"type": "keyword"},
        "action": {"type": "keyword"},
        "target": {"type": "keyword", "ignore_above": 4096, "fields": {"text": {"type": "text"}}},
        "client": {"type": "keyword"},
        "outcome": {"type": "keyword"},
        "note": {"type": "text"},
    },
}


class AuditLog:
    """Append and read audit events in the data stream `name`."""

    def __init__(self, client: Elasticsearch, name: str, *, replicas: int = 0) -> None:
        self.es = client
        self.name = name
        self.replicas = replicas
        self._ready = False

    @property
    def template(self) -> str:
        return f"{self.name}-template"

    def ensure(self) -> None:
        """Put the index template (idempotent); the stream is created by the first event."""
        if self._ready:
            return
        with translate("create the audit log template"):
            self.es.indices.put_index_template(
                name=self.template, index_patterns=[self.name], data_stream={}, priority=200,
                template={"settings": {"number_of_shards": 1, "number_of_replicas": self.replicas},
                          "mappings": AUDIT_MAPPINGS},
                meta={"description": "Communis audit log (append-only data stream)"},
            )
        self._ready = True

    def record(self, event: AuditEvent, *, refresh: bool = False) -> None:
        """Append one event (`create` with a fresh id: a retry can never overwrite)."""
        self.ensure()
        with translate("write an audit event"):
            self.es.create(index=self.name, id=uuid.uuid4().hex, document=_document(event),
                           refresh="wait_for" if refresh else None)

    def event(self, action: AuditAction, *, user: str | None, role: Role | None, target: str = "",
              client: str = "", outcome: AuditOutcome = AuditOutcome.OK, note: str = "",
              refresh: bool = False) -> AuditEvent:
        """Build an event stamped now, append it and return it."""
        made = AuditEvent(at=datetime.now(UTC), user=user, role=role, action=action, target=target, client=client,
                          outcome=outcome, note=note)
        self.record(made, refresh=refresh)
        return made

    def latest(self, limit: int = 50, *, user: str | None = None, action: AuditAction | str | None = None
               ) -> list[AuditEvent]:
        """The newest `limit` events, newest first, optionally of one user and/or one action."""
        filters: list[dict[str, Any]] = []
        if user:
            filters.append({"term": {"user": user}})
        if action:
            filters.append({"term": {"action": str(action)}})
        with translate("read the audit log"):
            found = self.es.options(ignore_status=404).search(
                index=self.name, size=limit, query={"bool": {"filter": filters}},
                sort=[{"@timestamp": "desc"}, {"_doc": "desc"}], ignore_unavailable=True,
            )
        return [_event(hit["_source"]) for hit in found.get("hits", {}).get("hits", [])]

    def for_targets(self, targets: list[str], limit: int = 10_000) -> list[dict[str, Any]]:
        """Raw events (with `@timestamp`) whose target is one of `targets` (e.g. record ids), oldest first."""
        if not targets:
            return []
        with translate("read the audit log"):
            found = self.es.options(ignore_status=404).search(
                index=self.name, size=limit, query={"terms": {"target": targets}},
                sort=[{"@timestamp": "asc"}], ignore_unavailable=True)
        return [hit["_source"] for hit in found.get("hits", {}).get("hits", [])]

    def refresh(self) -> None:
        with translate("refresh the audit log"):
            self.es.options(ignore_status=404).indices.refresh(index=self.name)

    def destroy(self) -> None:
        """Remove the stream and its template (test clean-up).

        Clusters without the data-streams module (the local integ-test distribution) have no
        delete-data-stream API; there the stream is rolled over and its old backing indices
        deleted, so the events go and only an empty write index (and the template) remain.
        """
        try:
            self.es.options(ignore_status=404).indices.delete_data_stream(name=self.name)
        except ApiError as exc:
            log.debug("delete_data_stream unavailable (%s); rolling over instead", exc.meta.status)
            try:
                empty_data_stream(self.es, self.name)
            except ApiError as inner:
                log.warning("could not empty the audit stream %s: %s", self.name, inner)
        try:
            self.es.options(ignore_status=404).indices.delete_index_template(name=self.template)
        except ApiError as exc:
            log.debug("audit template %s kept: %s", self.template, exc)


def open_audit(settings: Settings) -> AuditLog:
    return AuditLog(make_client(settings), settings.stream("audit"))


def _document(event: AuditEvent) -> dict[str, Any]:
    doc = event.model_dump(mode="json", exclude={"at"})
    doc["@timestamp"] = event.at.astimezone(UTC).isoformat()
    return doc


def _event(source: dict[str, Any]) -> AuditEvent:
    data = dict(source)
    data["at"] = data.pop("@timestamp")
    return AuditEvent.model_validate(data)
