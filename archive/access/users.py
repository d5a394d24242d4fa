"""Local users in an SQLite file: roles, scrypt-hashed passwords, SHA-256-hashed API tokens.

A password is stored as `scrypt$n$r$p$salt$hash` (base64 salt and hash), so the cost
parameters travel with each hash and can be raised later without breaking old ones. An API
token is `secrets.token_urlsafe(32)` (256 random bits), shown once when made; only its
SHA-256 is kept — a fast hash is enough for a random secret of that size, and it lets a
token be looked up directly. Comparisons are constant-time. Disabled users are refused
by every check, with the same message as a wrong secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from schemas import Role, User

from ..config import Settings
from ..errors import AccessError, AuthenticationFailed

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users(name),
    expires_at TEXT NOT NULL
);
"""
#: A browser session lasts a working day; after that the user signs in again.
SESSION_HOURS = 10


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """`scrypt$n$r$p$salt$hash` with a fresh random 16-byte salt."""
    if not password:
        raise AccessError("empty password", hint="give a non-empty password")
    salt = os.urandom(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(derived)])


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, compared in constant time; malformed hashes never match."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(expected)
        derived = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, want)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check against when the user is unknown, so the answer takes as long."""
    return hash_password("communis-timing-equalizer")


class UserStore:
    """Users and their API tokens in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        fresh = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as db, db:
            if fresh:
                self.path.chmod(0o600)
            db.execute("PRAGMA foreign_keys = ON")
            db.executescript(_SCHEMA)
            yield db

    def add(self, name: str, role: Role | str, password: str | None = None) -> tuple[User, str]:
        """Create a user and one API token; returns the user and the token (shown once, never stored)."""
        try:
            user = User(name=name, role=Role(role), created_at=datetime.now(UTC))
        except ValueError as exc:  # ValidationError is a ValueError
            raise AccessError(
                f"invalid user {name!r} / role {role!r}: {_first(exc)}",
                hint=f"roles: {', '.join(r.value for r in Role)}; names: a-z 0-9 . _ -",
            ) from None
        stored = hash_password(password) if password is not None else None
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccessError(f"user {name!r} already exists")
            db.execute(
                "INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?)",
                (user.name, user.role.value, stored, user.created_at.isoformat()),
            )
            db.execute(
                "INSERT INTO tokens (token_sha256, user_name, created_at) VALUES (?, ?, ?)",
                (token_digest(token), user.name, user.created_at.isoformat()),
            )
        return user, token

    def new_token(self, name: str) -> str:
        """Another API token for an existing, enabled user (shown once)."""
        user = self.get(name)
        if user.disabled:
            raise AccessError(f"user {name!r} is disabled")
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute(
                "INSERT INTO tokens (token_sha256, user_name, created_at) VALUES (?, ?, ?)",
                (token_digest(token), name, datetime.now(UTC).isoformat()),
            )
        return token

    def get(self, name: str) -> User:
        with self._db() as db:
            row = db.execute("SELECT name, role, disabled, created_at FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise AccessError(f"no user {name!r}", hint="`communis user list` shows the users")
        return _user(row)

    def list(self) -> list[User]:
        with self._db() as db:
            rows = db.execute("SELECT name, role, disabled, created_at FROM users ORDER BY name").fetchall()
        return [_user(row) for row in rows]

    def disable(self, name: str) -> User:
        """Refuse the user's password and every token from now on (kept for the audit trail)."""
        with self._db() as db:
            changed = db.execute("UPDATE users SET disabled = 1 WHERE name = ?", (name,)).rowcount
            db.execute("DELETE FROM sessions WHERE user_name = ?", (name,))
        if not changed:
            raise AccessError(f"no user {name!r}", hint="`communis user list` shows the users")
        return self.get(name)

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password is right and the user enabled, else AuthenticationFailed."""
        with self._db() as db:
            row = db.execute(
                "SELECT name, role, disabled, created_at, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        stored = row[4] if row is not None and row[4] else _dummy_hash()  # same work for unknown users
        ok = verify_password(password, stored) and row is not None and bool(row[4])
        if not ok or row is None or row[2]:
            raise AuthenticationFailed("wrong user name or password, or the user is disabled")
        return _user(row[:4])

    def start_session(self, name: str, *, hours: float = SESSION_HOURS) -> str:
        """A new browser session for an enabled user; returns its secret (kept only hashed)."""
        if self.get(name).disabled:
            raise AuthenticationFailed("the user is disabled")
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
            db.execute(
                "INSERT INTO sessions (session_sha256, user_name, expires_at) VALUES (?, ?, ?)",
                (token_digest(secret), name, (now + timedelta(hours=hours)).isoformat()),
            )
        return secret

    def user_for_session(self, secret: str) -> User:
        """The enabled user of an unexpired session, else AuthenticationFailed."""
        digest = token_digest(secret)
        with self._db() as db:
            row = db.execute(
                "SELECT s.session_sha256, s.expires_at, u.name, u.role, u.disabled, u.created_at FROM sessions s "
                "JOIN users u ON u.name = s.user_name WHERE s.session_sha256 = ?",
                (digest,),
            ).fetchone()
        if (
            row is None
            or not hmac.compare_digest(row[0], digest)
            or row[4]
            or datetime.fromisoformat(row[1]) < datetime.now(UTC)
        ):
            raise AuthenticationFailed("the session has ended; sign in again")
        return _user(row[2:])

    def end_session(self, secret: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE session_sha256 = ?", (token_digest(secret),))

    def user_for_token(self, token: str) -> User:
        """The enabled user an API token belongs to, else AuthenticationFailed."""
        digest = token_digest(token)
        with self._db() as db:
            row = db.execute(
                "SELECT t.token_sha256, u.name, u.role, u.disabled, u.created_at FROM tokens t "
                "JOIN users u ON u.name = t.user_name WHERE t.token_sha256 = ?",
                (digest,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[0], digest) or row[3]:
            raise AuthenticationFailed("unknown API token, or its user is disabled")
        return _user(row[1:])


def open_users(settings: Settings) -> UserStore:
    return UserStore(settings.data_dir / "access" / "users.db")


def _user(row: tuple[object, ...]) -> User:
    name, role, disabled, created = row
    return User(
        name=str(name), role=Role(str(role)), disabled=bool(disabled), created_at=datetime.fromisoformat(str(created))
    )


def _first(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
