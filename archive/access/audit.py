"""The audit log: events appended to the Elasticsearch data stream `{prefix}-audit`.

It is an `EventStream` (archive/index/events.py), like the PREMIS log. A data stream accepts
only `create` operations through its name: an event cannot be overwritten, updated or deleted
through the stream. The application's credentials have only `create_doc` and `read` on it, so its
backing indices cannot be written or deleted directly either (archive/services/es_access.py), and
its template is put by the admin step (archive/index/streams.py), never by the application.

Events are pydantic `AuditEvent`s, a model with no field for a secret; callers put a user
name, query or record id in `target`, never a password or token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from schemas import AuditAction, AuditEvent, AuditOutcome, Role

from ..config import Settings
from ..index.client import make_client
from ..index.events import EventStream
from ..index.streams import AUDIT_MAPPINGS


class AuditLog(EventStream):
    """Append and read audit events in the data stream `name`."""

    mappings = AUDIT_MAPPINGS
    description = "Communis audit log (append-only data stream)"
    log_name = "the audit log"
    an_event = "an audit event"
    reading = "read the audit log"
    newest_first = [{"@timestamp": "desc"}, {"_doc": "desc"}]

    def record(self, event: AuditEvent, *, refresh: bool = False) -> None:
        """Append one event (`create` with a fresh id: a retry can never overwrite)."""
        self.append(uuid.uuid4().hex, event, refresh=refresh)

    def event(
        self,
        action: AuditAction,
        *,
        user: str | None,
        role: Role | None,
        target: str = "",
        client: str = "",
        outcome: AuditOutcome = AuditOutcome.OK,
        note: str = "",
        refresh: bool = False,
    ) -> AuditEvent:
        """Build an event stamped now, append it and return it."""
        made = AuditEvent(
            at=datetime.now(UTC),
            user=user,
            role=role,
            action=action,
            target=target,
            client=client,
            outcome=outcome,
            note=note,
        )
        self.record(made, refresh=refresh)
        return made

    def shown(
        self,
        action: AuditAction,
        record_ids: Iterable[str],
        *,
        user: str | None,
        role: Role | None,
        client: str = "",
        note: str = "",
    ) -> int:
        """One event per record shown or given (`target` = its id, so `for_targets` finds every access),
        written in bulk; returns how many. Ids already named (the same id twice) are named once."""
        at = datetime.now(UTC)
        unique = list(dict.fromkeys(record_ids))
        self.append_many(
            [
                (
                    uuid.uuid4().hex,
                    AuditEvent(at=at, user=user, role=role, action=action, target=rid, client=client, note=note),
                )
                for rid in unique
            ]
        )
        return len(unique)

    def latest(
        self, limit: int = 50, *, user: str | None = None, action: AuditAction | str | None = None
    ) -> list[AuditEvent]:
        """The newest `limit` events, newest first, optionally of one user and/or one action."""
        found = self.newest(limit, user=user, action=str(action) if action else None)
        return [AuditEvent.model_validate(data) for data in found]

    def for_targets(self, targets: list[str], limit: int = 10_000) -> list[dict[str, Any]]:
        """Raw events (with `@timestamp`) whose target is one of `targets` (e.g. record ids), oldest first."""
        return self.oldest_with("target", targets, limit)


def open_audit(settings: Settings) -> AuditLog:
    return AuditLog(make_client(settings), settings.stream("audit"))
