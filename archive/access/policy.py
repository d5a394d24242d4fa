"""What each role may do. One table, read by the web application and the CLI alike.

- read-only: search and read what is public now (latest versions of items neither deleted nor
  hidden), nothing else: earlier versions and removed content can hold personal data that the
  author or a moderator took down, so seeing them is an archivist's task.
- archivist: everything in the records (all versions, removed content, WARC bytes, archived
  media, verify, export).
- legal: as archivist (holds and requests come with their own permissions).
- admin: as archivist, plus the audit log.
"""

from __future__ import annotations

from enum import StrEnum

from schemas import Role


class Permission(StrEnum):
    SEARCH = "search"
    VIEW = "view"
    VIEW_REMOVED = "view-removed"
    WARC = "warc"
    EXPORT = "export"
    VERIFY = "verify"
    AUDIT_READ = "audit-read"


_READ = frozenset({Permission.SEARCH, Permission.VIEW})
_RECORDS = _READ | {Permission.VIEW_REMOVED, Permission.WARC, Permission.EXPORT, Permission.VERIFY}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READ_ONLY: _READ,
    Role.ARCHIVIST: _RECORDS,
    Role.LEGAL: _RECORDS,
    Role.ADMIN: _RECORDS | {Permission.AUDIT_READ},
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def sees_removed(role: Role) -> bool:
    """Whether the role sees earlier versions and deleted or hidden content."""
    return allowed(role, Permission.VIEW_REMOVED)
