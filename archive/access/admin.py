"""User administration with its audit trail, the same for the CLI and (later) the admin pages:
the audit log must be writable before anything changes, and every change is an audit event."""

from __future__ import annotations

from schemas import AuditAction, User

from ..config import Settings
from .audit import open_audit
from .users import DEFAULT_TOKEN_DAYS, TokenInfo, open_users, token_digest


def add_user(
    settings: Settings,
    name: str,
    role: str,
    password: str | None,
    *,
    actor: str,
    client: str,
    token_days: int = DEFAULT_TOKEN_DAYS,
) -> tuple[User, str]:
    """Create a user; returns it and its API token (shown once, stored only hashed, valid `token_days`)."""
    audit = open_audit(settings)
    audit.ensure()  # fail before creating the user if the audit log cannot be written
    user, token = open_users(settings).add(name, role, password, token_days=token_days)
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


def add_token(settings: Settings, name: str, *, days: int, actor: str, client: str) -> str:
    """Another API token for `name`, valid `days` (shown once; its id and expiry are audited, never the token)."""
    audit = open_audit(settings)
    audit.ensure()
    users = open_users(settings)
    token = users.new_token(name, days=days)
    made = next(t for t in users.tokens(name) if t.id == token_digest(token)[: len(t.id)])
    audit.event(
        AuditAction.TOKEN_ADD,
        user=actor,
        role=None,
        target=name,
        client=client,
        note=f"token {made.id}, expires {made.expires_at:%Y-%m-%d %H:%M} UTC",
    )
    return token


def revoke_token(settings: Settings, name: str, token_id: str, *, actor: str, client: str) -> TokenInfo:
    """Revoke one of `name`'s tokens by its id; the user's other tokens and password go on working."""
    audit = open_audit(settings)
    audit.ensure()
    gone = open_users(settings).revoke_token(name, token_id)
    audit.event(AuditAction.TOKEN_REVOKE, user=actor, role=None, target=name, client=client, note=f"token {gone.id}")
    return gone
