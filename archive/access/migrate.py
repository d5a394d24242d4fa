"""`communis user migrate`: the users of an earlier release's SQLite file moved into the shared store.

An explicit, audited step, not something a process does when it starts: of several web hosts only one
has the file, and an upgrade should say what it moved. What moves: every user (role, disabled or not,
created, the scrypt hash as it is: nobody needs a new password), every API token (its SHA-256 and its
expiry: a token made before tokens had expiries gets the 90 days the old code gave it) and every
session still running, so nobody is signed out by the upgrade. The throttle's counts stay behind.

Each document is created only if absent, so a second run (or a rerun after a crash) changes nothing
that the first one wrote. A user already in the store with the same role and creation time is the
same user (migrated before); one with the same name but not those is another person, so neither
that user nor the file's tokens and sessions for that name are moved, and the run says so (exit 1).
The users are written first, then the tokens and sessions of the users that are now in the store as
the file had them: a token never lands on somebody else's account.

Who may: while the store holds no admin, whoever can read the file (0600, the installation's own OS
user), as with the first admin's bootstrap: this is how an installation's first admins arrive. Once
there is an admin, only an admin signed in. Every run is audited: one `user.migrate` event per user
moved, and one for the run (counts, what was left out). Afterwards the file is renamed
`users.db.migrated`, so no release reads it again, and left in place (0600) for the operator to keep
or shred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from schemas import AuditAction, Role, User

from .. import clock
from ..config import Settings
from ..index.access_store import FIRST_ADMIN, secret_id, user_id
from .admin import _check
from .audit import open_audit
from .legacy import LegacySecret, LegacyUser, read_legacy
from .users import TOKEN_ID_LENGTH, open_users

#: Who the audit log names for a migration nobody signed in to run (there was no admin yet).
MIGRATION = "migration"
SUFFIX = ".migrated"


def legacy_path(settings: Settings) -> Path:
    """Where earlier releases kept the users."""
    return settings.data_dir / "access" / "users.db"


def pending(settings: Settings) -> Path | None:
    """The earlier release's user file, if it is still there to be migrated."""
    path = legacy_path(settings)
    return path if path.is_file() else None


@dataclass
class Migration:
    """What one run moved, found already there, and left out."""

    source: Path
    moved_to: Path | None = None
    users: list[str] = field(default_factory=list)
    users_there: list[str] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)  # names held by another user in the store
    refused: list[str] = field(default_factory=list)  # a name or role this release does not accept
    tokens: tuple[int, int] = (0, 0)  # (created, already there)
    sessions: tuple[int, int] = (0, 0)
    ended_sessions: int = 0  # in the file, but over: not moved

    def summary(self) -> str:
        left = f"; not moved (the name is another user's in the store): {', '.join(self.taken)}" if self.taken else ""
        if self.refused:
            left += f"; not moved (not a valid user name or role): {', '.join(n[:64] for n in self.refused)}"
        return (
            f"{len(self.users)} users moved, {len(self.users_there)} there already; "
            f"tokens {self.tokens[0]} moved, {self.tokens[1]} there already; "
            f"sessions {self.sessions[0]} moved, {self.sessions[1]} there already, {self.ended_sessions} ended{left}"
        )


def migrate_users(settings: Settings, path: Path | None = None, *, by: User | None, client: str) -> Migration:
    """Move the file's users, tokens and running sessions into the store, audited; rename the file."""
    source = path or legacy_path(settings)
    audit = open_audit(settings)
    audit.ensure()  # fail before moving anything if the audit log cannot be written
    users = open_users(settings)
    if users.has_admin():
        _check(audit, by, AuditAction.USER_MIGRATE, str(source), client)
    legacy = read_legacy(source)  # a missing or foreign file is a one-line error, audited nowhere: nothing moved
    store, now, done = users.store, clock.now(), Migration(source)
    origin = str(source)

    wanted = {u.name: u for u in legacy.users if _valid(u)}
    done.refused = [u.name for u in legacy.users if u.name not in wanted]
    found = store.get_many([user_id(name) for name in wanted])
    new = [u for u in legacy.users if user_id(u.name) not in found]
    created, _ = store.create_many((user_id(u.name), _user_doc(u, origin)) for u in new)
    # what the store holds now under each name: ours, or (a race, or an earlier different user) not
    found = store.get_many([user_id(name) for name in wanted])
    for name, user in wanted.items():
        doc = found.get(user_id(name))
        if doc is not None and _same(doc.source, user):
            (done.users if user_id(name) in created else done.users_there).append(name)
        else:
            done.taken.append(name)
    moved = set(done.users) | set(done.users_there)

    tokens = [t for t in legacy.tokens if t.user in moved]
    running = [s for s in legacy.sessions if s.user in moved and s.expires_at > now]
    done.ended_sessions = sum(1 for s in legacy.sessions if s.user in moved and s.expires_at <= now)
    made, there = store.create_many(_secret_docs("token", tokens, origin))
    done.tokens = (len(made), len(there))
    made, there = store.create_many(_secret_docs("session", running, origin))
    done.sessions = (len(made), len(there))
    if any(wanted[name].role == Role.ADMIN.value for name in moved):
        store.create(FIRST_ADMIN, {"kind": "guard", "name": MIGRATION, "created_at": now.isoformat()})

    if not source.name.endswith(SUFFIX) and SUFFIX + "." not in source.name:
        done.moved_to = _rename(source)
    actor, role = (by.name, by.role) if by is not None else (MIGRATION, None)
    for name in done.users:
        user = wanted[name]
        count = sum(1 for t in tokens if t.user == name), sum(1 for s in running if s.user == name)
        audit.event(
            AuditAction.USER_MIGRATE,
            user=actor,
            role=role,
            target=name,
            client=client,
            note=f"from {origin}: role {user.role}{', disabled' if user.disabled else ''}; "
            f"{count[0]} tokens, {count[1]} running sessions; password hash kept"[:1000],
        )
    audit.event(
        AuditAction.USER_MIGRATE,
        user=actor,
        role=role,
        target=origin[:10_000],
        client=client,
        note=(done.summary() + (f"; the file is now {done.moved_to}" if done.moved_to else ""))[:1000],
    )
    return done


def _valid(user: LegacyUser) -> bool:
    try:
        User(name=user.name, role=Role(user.role), created_at=user.created_at)
    except ValueError:  # ValidationError is a ValueError
        return False
    return True


def _same(source: dict[str, Any], user: LegacyUser) -> bool:
    """Whether the store's user is the file's (migrated before): same role, made at the same moment."""
    return source.get("role") == user.role and datetime.fromisoformat(source["created_at"]) == user.created_at


def _user_doc(user: LegacyUser, origin: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "user",
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
        "source": origin,
    }
    if user.password_hash:
        doc["password_hash"] = user.password_hash
    return doc


def _secret_docs(kind: str, secrets: Iterable[LegacySecret], origin: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for s in secrets:
        doc: dict[str, Any] = {"kind": kind, "name": s.user, "expires_at": s.expires_at.isoformat(), "source": origin}
        if kind == "token":
            doc["token_id"] = s.digest[:TOKEN_ID_LENGTH]
        if s.created_at is not None:
            doc["created_at"] = s.created_at.isoformat()
        yield secret_id(kind, s.digest), doc


def _rename(source: Path) -> Path:
    """`users.db` → `users.db.migrated` (or `.migrated.2` … if that name is taken): never overwritten."""
    target, n = source.with_name(source.name + SUFFIX), 1
    while target.exists():
        n += 1
        target = source.with_name(f"{source.name}{SUFFIX}.{n}")
    source.rename(target)
    return target
