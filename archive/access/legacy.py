"""The SQLite user file of earlier releases (`{data_dir}/access/users.db`), read once by the migration.

Until users moved to the shared store (archive/index/access_store.py), they lived in this file on one
host's disk: tables `users` (name, role, scrypt hash, disabled, created), `tokens` (SHA-256, user,
created, and since a later release an expiry) and `sessions` (SHA-256, user, expiry), beside the
sign-in throttle's tables, which are not read (a throttle's memory is fifteen minutes long).

The file is opened read-only (`mode=ro`): nothing here can change it. archive/access/migrate.py writes
what it holds into the store and renames it, so no release reads it again.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ..errors import AccessError

#: Days a token kept before tokens had expiries is valid, counted from its creation (as the old code did).
UNDATED_TOKEN_DAYS = 90


@dataclass(frozen=True)
class LegacyUser:
    name: str
    role: str
    password_hash: str | None
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class LegacySecret:
    """A token's or a session's SHA-256, its user and its end (a token's also its creation)."""

    digest: str
    user: str
    created_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True)
class LegacyFile:
    users: list[LegacyUser]
    tokens: list[LegacySecret]
    sessions: list[LegacySecret]


def read_legacy(path: Path) -> LegacyFile:
    """Everything the file holds about users, tokens and sessions; AccessError (one line) if it is not
    such a file."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "users" not in tables:
                raise AccessError(f"{path} holds no users table", hint="name the users.db of an earlier release")
            users = [
                LegacyUser(str(name), str(role), str(hashed) if hashed else None, bool(disabled), _when(created))
                for name, role, hashed, disabled, created in db.execute(
                    "SELECT name, role, password_hash, disabled, created_at FROM users ORDER BY name"
                )
            ]
            tokens = _tokens(db) if "tokens" in tables else []
            sessions = (
                [
                    LegacySecret(str(digest), str(user), None, _when(expires))
                    for digest, user, expires in db.execute(
                        "SELECT session_sha256, user_name, expires_at FROM sessions ORDER BY expires_at"
                    )
                ]
                if "sessions" in tables
                else []
            )
    except sqlite3.DatabaseError as exc:
        raise AccessError(f"{path} cannot be read as a user file: {exc}") from None
    return LegacyFile(users, tokens, sessions)


def _tokens(db: sqlite3.Connection) -> list[LegacySecret]:
    columns = {row[1] for row in db.execute("PRAGMA table_info(tokens)")}
    expiry = "expires_at" if "expires_at" in columns else "NULL"
    out = []
    for digest, user, created, expires in db.execute(
        f"SELECT token_sha256, user_name, created_at, {expiry} FROM tokens ORDER BY created_at"  # noqa: S608
    ):
        made = _when(created)
        ends = _when(expires) if expires else made + timedelta(days=UNDATED_TOKEN_DAYS)
        out.append(LegacySecret(str(digest), str(user), made, ends))
    return out


def _when(value: object) -> datetime:
    return datetime.fromisoformat(str(value))
