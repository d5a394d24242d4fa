"""What the application holds for its lifetime: the archive's services, the users, the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from fastapi import Request

from schemas import AuditAction, AuditEvent, AuditOutcome, Role

from ..access import AuditLog, UserStore, open_audit, open_users
from ..access.settings import AccessSettings, access_settings
from ..config import Settings
from ..context import Archive
from ..usecases.holds import HoldDesk, open_holds
from ..usecases.requests import RequestDesk, open_requests


@dataclass
class AppState:
    settings: Settings
    archive: Archive
    users: UserStore
    audit: AuditLog
    access: AccessSettings

    @classmethod
    def open(cls, settings: Settings, access: AccessSettings | None = None) -> AppState:
        audit = open_audit(settings)
        return cls(settings, Archive(settings), open_users(settings), audit, access or access_settings())

    def audit_event(
        self,
        action: AuditAction,
        user: str | None,
        role: Role | None,
        target: str,
        client: str,
        outcome: AuditOutcome = AuditOutcome.OK,
        note: str = "",
    ) -> AuditEvent:
        """Append one audit event; a failure to write it fails the request (no unaudited access)."""
        return self.audit.event(
            action, user=user, role=role, target=target[:10_000], client=client[:200], outcome=outcome, note=note[:1000]
        )

    def audit_shown(
        self, action: AuditAction, record_ids: Iterable[str], user: str, role: Role, client: str, note: str = ""
    ) -> int:
        """Name every record an answer shows in its own audit event (before the answer leaves)."""
        return self.audit.shown(action, record_ids, user=user, role=role, client=client[:200], note=note[:1000])

    @cached_property
    def requests(self) -> RequestDesk:
        """The request-case use cases (made on first use: most pages never need them)."""
        return open_requests(self.archive, self.audit, now=self.now)

    @cached_property
    def holds(self) -> HoldDesk:
        """The legal-hold use cases."""
        return open_holds(self.archive, self.audit, now=self.now)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.communis
    return state
