"""Access control: local users with a role, and the audit events their actions leave.

No secret is ever part of these models: a user carries no password or token (only their
hashes are stored, inside `archive/access`), and an audit event has no field that could
hold one.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from ._base import Model

USER_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class Role(StrEnum):
    """What a user may see and do."""

    ARCHIVIST = "archivist"
    LEGAL = "legal"
    ADMIN = "admin"
    READ_ONLY = "read-only"
    RECORDS_MANAGER = "records-manager"  # approves and executes disposal under the retention schedule


class User(Model):
    """A local user (the credentials live beside it, hashed, never in this model)."""

    name: str = Field(pattern=USER_NAME_PATTERN)
    role: Role
    disabled: bool = False
    created_at: AwareDatetime


class AuditAction(StrEnum):
    """What was done."""

    SEARCH = "search"
    VIEW = "view"
    WARC = "warc"
    MEDIA = "media"
    VERIFY = "verify"
    EXPORT = "export"
    AUDIT_READ = "audit.read"
    LOGIN = "login"
    LOGIN_LOCKOUT = "login.lockout"
    LOGOUT = "logout"
    HOLD_PLACE = "hold.place"
    HOLD_RELEASE = "hold.release"
    REQUEST_CREATE = "request.create"
    REQUEST_RUN = "request.run"
    REQUEST_REVIEW = "request.review"
    REQUEST_EXPORT = "request.export"
    REQUEST_DELIVER = "request.deliver"
    REQUEST_CLOSE = "request.close"
    USER_ADD = "user.add"
    USER_DISABLE = "user.disable"
    USER_MIGRATE = "user.migrate"
    TOKEN_ADD = "token.add"
    TOKEN_REVOKE = "token.revoke"
    RETENTION_PLAN = "retention.plan"
    RETENTION_APPROVE = "retention.approve"
    RETENTION_DISPOSE = "retention.dispose"
    RETENTION_ERASURE = "retention.erasure"
    RETENTION_REEVALUATE = "retention.reevaluate"
    COMPLETENESS = "completeness"  # a completeness report made and read


class AuditOutcome(StrEnum):
    """How it ended: done, refused (401/403), or failed."""

    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


class AuditEvent(Model):
    """One action by one user: who, with which role, when, what, on what, from where, outcome."""

    at: AwareDatetime
    user: str | None = Field(default=None, max_length=200, description="Acting user; none if unknown (failed login).")
    role: Role | None = None
    action: AuditAction
    target: str = Field(default="", max_length=10_000, description="The query, record id or user name acted on.")
    client: str = Field(default="", max_length=200, description="Where from: client address, or 'cli'.")
    outcome: AuditOutcome = AuditOutcome.OK
    note: str = Field(default="", max_length=1000, description="Short free text (never a secret).")


__all__ = ["AuditAction", "AuditEvent", "AuditOutcome", "Role", "User"]
