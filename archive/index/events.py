"""One append-only event stream: the shape shared by the audit log and the PREMIS event log.

Both are Elasticsearch data streams with their own index template. A data stream accepts only
`create` through its name, so an event cannot be overwritten, updated or deleted through it:
append-only is a property of the store, not a promise of the code. Events are pydantic models
with an `at` field, kept as `@timestamp` (the field a data stream requires). An event that can
happen only once carries a name-derived id, so writing it again finds it already there.

Subclasses (archive/access/audit.py, archive/preservation/premis.py) say what their events are (mappings,
names used in error messages, sort order) and add their own typed `record`/read methods.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, ClassVar, Self

from elasticsearch import ApiError, ConflictError, Elasticsearch

from schemas import AuditEvent
from schemas.premis import PremisEvent

from ..errors import SearchIndexError
from .client import empty_data_stream, translate

if TYPE_CHECKING:
    from .indexer import RecordIndex

log = logging.getLogger(__name__)


class EventStream:
    """Append and read events in the data stream `name` (created by its first event)."""

    mappings: ClassVar[dict[str, Any]]
    description: ClassVar[str]
    log_name: ClassVar[str]
    """How messages name the log: "create {log_name} template", "refresh {log_name}"."""
    an_event: ClassVar[str]
    """How messages name one event: "write {an_event}"."""
    reading: ClassVar[str]
    """The action named when a read fails."""
    newest_first: ClassVar[list[dict[str, str]]] = [{"@timestamp": "desc"}]

    def __init__(self, client: Elasticsearch, name: str, *, replicas: int = 0) -> None:
        self._es = client
        self.name = name
        self.replicas = replicas
        self._ready = False

    @classmethod
    def beside(cls, index: RecordIndex, name: str) -> Self:
        """The stream `name` on the record index's cluster, sharing its client (one connection pool)."""
        return cls(index._es, name)

    @property
    def es(self) -> Elasticsearch:
        """The raw client, for tests that try to forge or delete events; the product never uses it."""
        return self._es

    @property
    def template(self) -> str:
        """The stream's own template of earlier releases (each stream put one); `destroy` removes it."""
        return f"{self.name}-template"

    def ensure(self) -> None:
        """Check that `name` is a data stream, or not there yet (its first event creates it from the
        template the admin step put: archive/index/streams.py). The application never puts the
        template itself: its credential may not (a template can give a stream a deleting lifecycle).

        A name taken by a plain index (the admin step was never run, so the first event created an
        ordinary, overwritable index) is refused: events written there would not be append-only.
        """
        if self._ready:
            return
        with translate(f"look up {self.log_name}"):
            found = self._es.options(ignore_status=404).indices.resolve_index(name=self.name, expand_wildcards="all")
        if any(stream["name"] == self.name for stream in found.get("data_streams", [])):
            self._ready = True
        elif any(index["name"] == self.name for index in found.get("indices", [])):
            raise SearchIndexError(
                f"{self.name} is a plain index, not an append-only data stream: {self.log_name} was "
                "written before its template existed",
                hint="run `communis index setup` with the admin credential, then move the index aside",
            )

    def append(
        self, event_id: str, event: AuditEvent | PremisEvent, *, refresh: bool = False, once: bool = False
    ) -> bool:
        """Append `event` (its `at` as `@timestamp`) under `event_id`; False if `once` and it is already there.

        Only `create` is used, so a retry can never overwrite: with a fresh id it adds, with a
        once-id it finds the earlier write (the stream refuses a repeated id) and adds nothing.
        """
        self.ensure()
        doc = event.model_dump(mode="json", exclude={"at"})
        doc["@timestamp"] = event.at.astimezone(UTC).isoformat()
        with translate(f"write {self.an_event}"):
            try:
                self._es.create(index=self.name, id=event_id, document=doc, refresh="wait_for" if refresh else None)
            except ConflictError:
                if not once:
                    raise
                return False
        self.ensure()  # the first event created the stream: check it became one
        return True

    def append_many(self, events: Sequence[tuple[str, AuditEvent | PremisEvent]], *, chunk: int = 1000) -> None:
        """Append several events, `chunk` per bulk request, each a `create` with its own id.

        For an answer that shows many records at once (a thread of thousands of comments): one
        request per event would make the page as slow as the thread is long. Any refused event
        fails the whole call, as `append` does (nothing is shown that was not audited).
        """
        self.ensure()
        for start in range(0, len(events), chunk):
            operations: list[dict[str, Any]] = []
            for event_id, event in events[start : start + chunk]:
                doc = event.model_dump(mode="json", exclude={"at"})
                doc["@timestamp"] = event.at.astimezone(UTC).isoformat()
                operations += [{"create": {"_index": self.name, "_id": event_id}}, doc]
            with translate(f"write {self.an_event}"):
                resp = self._es.bulk(operations=operations)
            if resp.get("errors"):
                first = next(i for i in resp["items"] if "error" in i["create"])["create"]["error"]
                raise SearchIndexError(f"cannot write {self.an_event}: {first.get('reason', first)}")
            self.ensure()

    def newest(self, limit: int, **terms: str | None) -> list[dict[str, Any]]:
        """The newest `limit` events (their `at` restored), newest first, whose fields equal the given `terms`."""
        filters = [{"term": {name: value}} for name, value in terms.items() if value]
        return self._read({"bool": {"filter": filters}}, limit, self.newest_first)

    def oldest_with(self, field: str, values: Sequence[str], limit: int = 10_000) -> list[dict[str, Any]]:
        """Raw events (with `@timestamp`) whose `field` is one of `values`, oldest first."""
        if not values:
            return []
        with translate(self.reading):
            found = self._es.options(ignore_status=404).search(
                index=self.name,
                size=limit,
                query={"terms": {field: list(values)}},
                sort=[{"@timestamp": "asc"}],
                ignore_unavailable=True,
            )
        return [hit["_source"] for hit in found.get("hits", {}).get("hits", [])]

    def _read(self, query: Mapping[str, Any], limit: int, sort: list[dict[str, str]]) -> list[dict[str, Any]]:
        with translate(self.reading):
            found = self._es.options(ignore_status=404).search(
                index=self.name, size=limit, query=dict(query), sort=sort, ignore_unavailable=True
            )
        out = []
        for hit in found.get("hits", {}).get("hits", []):
            data = dict(hit["_source"])
            data["at"] = data.pop("@timestamp")
            out.append(data)
        return out

    def refresh(self) -> None:
        with translate(f"refresh {self.log_name}"):
            self._es.options(ignore_status=404).indices.refresh(index=self.name)

    def destroy(self) -> None:
        """Remove the stream and its template (test clean-up).

        Clusters without the data-streams module (the local integ-test distribution) have no
        delete-data-stream API; there the stream is rolled over and its old backing indices
        deleted, so the events go and only an empty write index (and the template) remain.
        """
        try:
            self._es.options(ignore_status=404).indices.delete_data_stream(name=self.name)
        except ApiError as exc:
            log.debug("delete_data_stream unavailable (%s); rolling over instead", exc.meta.status)
            try:
                empty_data_stream(self._es, self.name)
            except ApiError as inner:
                log.warning("could not empty the event stream %s: %s", self.name, inner)
        try:
            self._es.options(ignore_status=404).indices.delete_index_template(name=self.template)
        except ApiError as exc:
            log.debug("event stream template %s kept: %s", self.template, exc)
