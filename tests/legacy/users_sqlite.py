"""archive/access/users.py as it was before users moved to Elasticsearch (main at 5b8d522), kept verbatim
but for its imports, so the migration tests make the SQLite file exactly as the old code made it.

Never imported by the product: the migration reads the file with its own read-only reader
(archive/access/legacy.py). The original module docstring follows.

Local users in an SQLite file: roles, scrypt-hashed passwords, SHA-256-hashed API tokens.

A password is stored as `scrypt$n$r$p$salt$hash` (base64 salt and hash), so the cost
parameters travel with each hash and can be raised later without breaking old ones: the
parameters are OWASP's current minimum for scrypt (N=2^17, r=8, p=1), a hash made with weaker
ones still verifies and is replaced by a new one at the user's next successful sign-in. An API
token is `secrets.token_urlsafe(32)` (256 random bits), shown once when made; only its
SHA-256 is kept — a fast hash is enough for a random secret of that size, and it lets a
token be looked up directly. Every token has an expiry and a short public id (the first 12 hex
digits of its hash) by which it is listed and revoked on its own. Comparisons are constant-time.
Disabled users are refused by every check, with the same message as a wrong secret.

The file holds password hashes and token digests, so it is never readable by other local users,
not even for an instant: its folder is made 0700 and the file is created 0600 before SQLite
opens it (SQLite gives its journal the database file's mode). The sign-in throttle's failures and
lockouts live here too, so every worker process and door shares them (archive/access/signin.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from archive import clock
from archive.config import Settings
from archive.errors import AccessError, AuthenticationFailed
from schemas import Role, User

SCRYPT_N = 2**17  # OWASP Password Storage Cheat Sheet: N=2^17, r=8, p=1 at least
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
#: scrypt needs 128·N·r bytes; hashlib's default limit (32 MiB) is below what N=2^17 takes.
SCRYPT_MAXMEM = 256 * 1024 * 1024
#: At most this many scrypt computations at once: each takes 128 MiB, and the web server's thread pool
#: could otherwise run forty sign-ins together (5 GiB) at an attacker's request.
_SCRYPT_SLOTS = threading.BoundedSemaphore(4)
#: Days a token made without a lifetime is valid (a token kept before tokens had expiries counts from its creation).
DEFAULT_TOKEN_DAYS = 90
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
CREATE TABLE IF NOT EXISTS login_failures (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (scope, key, at);
CREATE TABLE IF NOT EXISTS lockouts (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    until TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"""
#: A browser session lasts a working day; after that the user signs in again.
SESSION_HOURS = 10


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """`scrypt$n$r$p$salt$hash` with a fresh random 16-byte salt."""
    if not password:
        raise AccessError("empty password", hint="give a non-empty password")
    salt = os.urandom(16)
    with _SCRYPT_SLOTS:
        derived = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN, maxmem=SCRYPT_MAXMEM)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(derived)])


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, compared in constant time; malformed hashes never match."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(expected)
        with _SCRYPT_SLOTS:
            derived = hashlib.scrypt(
                password.encode(),
                salt=base64.b64decode(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                dklen=len(want),
                maxmem=SCRYPT_MAXMEM,
            )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, want)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's (so it is replaced at sign-in)."""
    try:
        scheme, n, r, p, _, _ = stored.split("$")
        return scheme != "scrypt" or int(n) < SCRYPT_N or int(r) < SCRYPT_R or int(p) < SCRYPT_P
    except ValueError:
        return True


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
        self._create_private()
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute("PRAGMA foreign_keys = ON")
            db.executescript(_SCHEMA)
            _migrate(db)
            yield db

    def _create_private(self) -> None:
        """The folder 0700 and the file 0600 before SQLite opens it: never readable by others, even briefly."""
        folder = self.path.parent
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)
            folder.chmod(0o700)  # mkdir's mode is masked by the umask
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            if self.path.stat().st_mode & 0o077:
                self.path.chmod(0o600)  # a file made by an earlier version, or copied in
            return
        os.fchmod(fd, 0o600)  # the umask can only take bits away, but say it outright
        os.close(fd)

    def add(
        self,
        name: str,
        role: Role | str,
        password: str | None = None,
        *,
        token_days: int = DEFAULT_TOKEN_DAYS,
        first_admin: bool = False,
    ) -> tuple[User, str]:
        """Create a user and one API token valid `token_days`; returns the user and the token (shown once).

        `first_admin`: only if no admin exists yet, checked inside the write transaction (BEGIN
        IMMEDIATE), so of two racing bootstraps one is refused."""
        try:
            user = User(name=name, role=Role(role), created_at=clock.now())
        except ValueError as exc:  # ValidationError is a ValueError
            raise AccessError(
                f"invalid user {name!r} / role {role!r}: {_first(exc)}",
                hint=f"roles: {', '.join(r.value for r in Role)}; names: a-z 0-9 . _ -",
            ) from None
        stored = hash_password(password) if password is not None else None
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            if first_admin:
                db.execute("BEGIN IMMEDIATE")
                if db.execute("SELECT 1 FROM users WHERE role = ?", (Role.ADMIN.value,)).fetchone():
                    raise AccessError("an admin exists already", hint="sign in as an admin: communis login NAME")
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccessError(f"user {name!r} already exists")
            db.execute(
                "INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?)",
                (user.name, user.role.value, stored, user.created_at.isoformat()),
            )
            _insert_token(db, token, user.name, user.created_at, token_days)
        return user, token

    def new_token(self, name: str, *, days: int = DEFAULT_TOKEN_DAYS) -> str:
        """Another API token for an existing, enabled user, valid `days` (shown once)."""
        user = self.get(name)
        if user.disabled:
            raise AccessError(f"user {name!r} is disabled")
        if not 1 <= days <= 3650:
            raise AccessError(f"a token lives 1 to 3650 days, not {days}")
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            _insert_token(db, token, name, clock.now(), days)
        return token

    def tokens(self, name: str) -> list[TokenInfo]:
        """The user's API tokens (ids, created, expiry), oldest first; the tokens themselves are not kept."""
        self.get(name)
        with self._db() as db:
            rows = db.execute(
                "SELECT token_sha256, created_at, expires_at FROM tokens WHERE user_name = ? ORDER BY created_at",
                (name,),
            ).fetchall()
        now = clock.now()
        out = []
        for digest, created, expires in rows:
            ends = _expiry(created, expires)
            out.append(TokenInfo(digest[:TOKEN_ID_LENGTH], datetime.fromisoformat(created), ends, ends <= now))
        return out

    def revoke_token(self, name: str, token_id: str) -> TokenInfo:
        """Revoke one of the user's tokens by its id (`communis user token list`); the others go on working."""
        found = [t for t in self.tokens(name) if t.id == token_id.strip().lower()]
        if len(token_id.strip()) != TOKEN_ID_LENGTH or not found:
            raise AccessError(
                f"user {name!r} has no token {token_id!r}", hint="`communis user token list NAME` shows them"
            )
        with self._db() as db:
            db.execute(
                "DELETE FROM tokens WHERE user_name = ? AND substr(token_sha256, 1, ?) = ?",
                (name, TOKEN_ID_LENGTH, found[0].id),
            )
        return found[0]

    def has_admin(self) -> bool:
        """Whether any admin was ever added (a disabled one counts: the bootstrap is over for good)."""
        with self._db() as db:
            return db.execute("SELECT 1 FROM users WHERE role = ?", (Role.ADMIN.value,)).fetchone() is not None

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
        """The user if the password is right and the user enabled, else AuthenticationFailed.

        A hash made with weaker scrypt parameters than today's is replaced by a new one now, while the
        password is at hand (the only moment it is). Throttling is the caller's (signin.SignIn).
        """
        with self._db() as db:
            row = db.execute(
                "SELECT name, role, disabled, created_at, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        stored = row[4] if row is not None and row[4] else _dummy_hash()  # same work for unknown users
        ok = verify_password(password, stored) and row is not None and bool(row[4])
        if not ok or row is None or row[2]:
            raise AuthenticationFailed("wrong user name or password, or the user is disabled")
        if needs_rehash(stored):
            with self._db() as db:
                db.execute(
                    "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
                    (hash_password(password), name, stored),
                )
        return _user(row[:4])

    # --- the sign-in throttle's memory (the rules are signin.py's) ---------------------------------

    def locked_until(self, keys: Sequence[tuple[str, str]], now: datetime) -> datetime | None:
        """The latest end of a lockout still running on any of `keys` ((scope, key) pairs), else None."""
        with self._db() as db:
            db.execute("DELETE FROM lockouts WHERE until <= ?", (now.isoformat(),))
            ends = [
                datetime.fromisoformat(row[0])
                for scope, key in keys
                for row in db.execute("SELECT until FROM lockouts WHERE scope = ? AND key = ?", (scope, key))
            ]
        return max(ends) if ends else None

    def note_failure(
        self, keys: Sequence[tuple[str, str]], now: datetime, since: datetime
    ) -> dict[tuple[str, str], int]:
        """Count one failed sign-in on each key; returns each key's failures since `since` (this one included)."""
        counts = {}
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE at < ?", (since.isoformat(),))
            for scope, key in keys:
                db.execute(
                    "INSERT INTO login_failures (scope, key, at) VALUES (?, ?, ?)", (scope, key, now.isoformat())
                )
                counts[(scope, key)] = db.execute(
                    "SELECT count(*) FROM login_failures WHERE scope = ? AND key = ? AND at >= ?",
                    (scope, key, since.isoformat()),
                ).fetchone()[0]
        return counts

    def lock(self, scope: str, key: str, until: datetime) -> None:
        """Lock one key (a user name or an address) until `until`; its counted failures start again."""
        with self._db() as db:
            db.execute(
                "INSERT INTO lockouts (scope, key, until) VALUES (?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET until = excluded.until",
                (scope, key, until.isoformat()),
            )
            db.execute("DELETE FROM login_failures WHERE scope = ? AND key = ?", (scope, key))

    def forget_failures(self, scope: str, key: str) -> None:
        """A successful sign-in clears the user's own count (never the address's: one good account must
        not let an address guess on at others)."""
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE scope = ? AND key = ?", (scope, key))

    def start_session(self, name: str, *, hours: float = SESSION_HOURS) -> str:
        """A new browser session for an enabled user; returns its secret (kept only hashed)."""
        if self.get(name).disabled:
            raise AuthenticationFailed("the user is disabled")
        secret = secrets.token_urlsafe(32)
        now = clock.now()
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
            or datetime.fromisoformat(row[1]) < clock.now()
        ):
            raise AuthenticationFailed("the session has ended; sign in again")
        return _user(row[2:])

    def end_session(self, secret: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE session_sha256 = ?", (token_digest(secret),))

    def user_for_token(self, token: str) -> User:
        """The enabled user an unexpired, unrevoked API token belongs to, else AuthenticationFailed."""
        digest = token_digest(token)
        with self._db() as db:
            row = db.execute(
                "SELECT t.token_sha256, u.name, u.role, u.disabled, u.created_at, t.created_at, t.expires_at "
                "FROM tokens t JOIN users u ON u.name = t.user_name WHERE t.token_sha256 = ?",
                (digest,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[0], digest) or row[3]:
            raise AuthenticationFailed("unknown or revoked API token, or its user is disabled")
        if _expiry(row[5], row[6]) <= clock.now():
            raise AuthenticationFailed("the API token has expired", hint="`communis user token new NAME` makes another")
        return _user(row[1:5])


@dataclass(frozen=True)
class TokenInfo:
    """What is known of a token after it was shown: its public id, when it was made and when it ends."""

    id: str
    created_at: datetime
    expires_at: datetime
    expired: bool


TOKEN_ID_LENGTH = 12


def _insert_token(db: sqlite3.Connection, token: str, user: str, now: datetime, days: int) -> None:
    db.execute(
        "INSERT INTO tokens (token_sha256, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_digest(token), user, now.isoformat(), (now + timedelta(days=days)).isoformat()),
    )


def _expiry(created: str, expires: str | None) -> datetime:
    """A token's end; one kept before tokens had expiries ends DEFAULT_TOKEN_DAYS after it was made."""
    if expires:
        return datetime.fromisoformat(expires)
    return datetime.fromisoformat(created) + timedelta(days=DEFAULT_TOKEN_DAYS)


def _migrate(db: sqlite3.Connection) -> None:
    """Columns added since the first version of the file."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(tokens)")}
    if "expires_at" not in columns:
        db.execute("ALTER TABLE tokens ADD COLUMN expires_at TEXT")


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
