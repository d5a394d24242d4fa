"""What each role may do. One table, read by the web application and the CLI alike.

- read-only: search and read what is public now (latest versions of items neither deleted nor
  hidden), nothing else: earlier versions and removed content can hold personal data that the
  author or a moderator took down, so seeing them is an archivist's task.
- archivist: everything in the records (all versions, removed content, WARC bytes, archived
  media, verify, export).
- legal: as archivist, plus public-records requests (`requests`: create, run, review, mask,
  export, deliver and close cases) and legal holds (`holds`: place and release). Both decide
  what leaves the archive or what may never be disposed of, so they are the legal staff's.
- admin: as legal, plus the audit log and the users (`users`: add and disable users, make and
  revoke anyone's API tokens); an installation's admin stands in for legal staff.

Archivists may read request cases (`requests-view`: the case list, a case's records, masking
suggestions and deliveries) without acting on them: they answer legal staff's questions about
the records and already see everything a case holds. Read-only users see no case at all, since
a case names requesters and shows the personal data found in removed content.

Seeing holds (`holds-view`: a record's `legal_holds`, the stored file's Object Lock legal hold,
the `on_hold` filter and facet) is for every role but read-only: a hold says that a matter is being
litigated or investigated, which is legal staff's business, while archivists and records managers
need to know which records may not be disposed of. Placing and releasing one (`holds`) is legal's.

Completeness reports (`completeness`: the reports, their months and the items short or in surplus) are
for every role but read-only: a surplus names items removed or hidden since they were archived, and a
gap names posts whose comments are missing, which is the records' state, not what the public sees now.
The web app's calendar and gap lists are the same reports, and their evidence (the WARC response that
showed a count) is the raw platform answer with every comment in it, hidden ones included.
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
    REQUESTS_VIEW = "requests-view"
    REQUESTS = "requests"
    HOLDS = "holds"
    HOLDS_VIEW = "holds-view"
    COMPLETENESS = "completeness"  # reports, their rows, the web calendar and gap lists, their evidence
    RETENTION = "retention"  # plan, approve and execute disposition lists (records-manager, admin)
    USERS = "users"  # add and disable users, make and revoke other users' tokens (admin)


_READ = frozenset({Permission.SEARCH, Permission.VIEW})
_RECORDS = _READ | {
    Permission.VIEW_REMOVED,
    Permission.WARC,
    Permission.EXPORT,
    Permission.VERIFY,
    Permission.HOLDS_VIEW,
    Permission.COMPLETENESS,
}

_LEGAL = _RECORDS | {Permission.REQUESTS_VIEW, Permission.REQUESTS, Permission.HOLDS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READ_ONLY: _READ,
    Role.ARCHIVIST: _RECORDS | {Permission.REQUESTS_VIEW},
    Role.LEGAL: _LEGAL,
    Role.ADMIN: _LEGAL | {Permission.AUDIT_READ, Permission.RETENTION, Permission.USERS},
    Role.RECORDS_MANAGER: _RECORDS | {Permission.REQUESTS_VIEW, Permission.RETENTION},
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def sees_removed(role: Role) -> bool:
    """Whether the role sees earlier versions and deleted or hidden content."""
    return allowed(role, Permission.VIEW_REMOVED)


def sees_holds(role: Role) -> bool:
    """Whether the role is shown legal holds (a record's hold ids, the on_hold filter and facet)."""
    return allowed(role, Permission.HOLDS_VIEW)
