"""User administration with its audit trail, the same for the CLI and (later) the admin pages:
the audit log must be writable before anything changes, and every change is an audit event."""

from __future__ import annotations

from schemas import AuditAction, User

from ..config import Settings
from .audit import open_audit
from .users import open_users


def add_user(
    settings: Settings, name: str, role: str, password: str | None, *, actor: str, client: str
) -> tuple[User, str]:
    """Create a user; returns it and its API token (shown once, stored only hashed)."""
    audit = open_audit(settings)
    audit.ensure()  # fail before creating the user if the audit log cannot be written
    user, token = open_users(settings).add(name, role, password)
    audit.event(
        AuditAction.USER_ADD, user=actor, role=None, target=user.name, client=client, note=f"role {user.role.value}"
    )
    return user, token


def disable_user(settings: Settings, name: str, *, actor: str, client: str) -> User:
    """Disable a user: its password and every token are refused from now on."""
    audit = open_audit(settings)
    audit.ensure()
    user = open_users(settings).disable(name)
    audit.event(AuditAction.USER_DISABLE, user=actor, role=None, target=user.name, client=client)
    return user
