"""Access: local users with roles, API tokens and sessions in the shared store (`users`), and the
append-only audit log (`audit`)."""

from __future__ import annotations

from .audit import AuditLog, open_audit
from .users import UserStore, open_users

__all__ = ["AuditLog", "UserStore", "open_audit", "open_users"]
