"""Local users: roles, scrypt-hashed passwords, SHA-256-hashed API tokens and browser sessions.

A password is stored as `scrypt$n$r$p$salt$hash` (base64 salt and hash), so the cost
parameters travel with each hash and can be raised later without breaking old ones: the
parameters are OWASP's current minimum for scrypt (N=2^17, r=8, p=1), a hash made with weaker
ones still verifies and is replaced by a new one at the user's next successful sign-in. An API
token is `secrets.token_urlsafe(32)` (256 random bits), shown once when made; only its
SHA-256 is kept — a fast hash is enough for a random secret of that size, and it lets a
token be looked up directly, by id. Every token has an expiry and a short public id (the first 12 hex
digits of its hash) by which it is listed and revoked on its own. Password comparisons are
constant-time; a token or session is found by the SHA-256 of the secret, so what a lookup's timing
could tell is about the hash, never the secret. Disabled users are refused by every check, with the
same message as a wrong secret.

Everything lives in the installation's shared store, the Elasticsearch index `{prefix}-access`
(archive/index/access_store.py), so every `communis serve` process and every CLI, on any host, sees the
same users. Nothing is cached: each request's check reads the token or session and its user by id
(real-time GETs), so a disabled user or a revoked token is refused by the next request to any process.
Password hashes are read only by `authenticate` and never leave this module; no model carries one.
The SQLite file of earlier releases is read once by `communis user migrate` (legacy.py, migrate.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from schemas import Role, User

from .. import clock
from ..config import Settings
from ..errors import AccessError, AuthenticationFailed
from ..index.access_store import FIRST_ADMIN, AccessConflict, AccessStore, Doc, secret_id, user_id
from ..index.client import make_client
from .throttle import Throttle

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
    """Users, their API tokens and browser sessions in the access store; the sign-in throttle's memory
    beside them (`throttle`)."""

    def __init__(self, store: AccessStore) -> None:
        self.store = store
        self.throttle = Throttle(store)

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

        `first_admin`: only if no admin exists yet. The check is a document created once (the store's
        first-admin guard), so of two racing bootstraps on any hosts one is refused."""
        try:
            user = User(name=name, role=Role(role), created_at=clock.now())
        except ValueError as exc:  # ValidationError is a ValueError
            raise AccessError(
                f"invalid user {name!r} / role {role!r}: {_first(exc)}",
                hint=f"roles: {', '.join(r.value for r in Role)}; names: a-z 0-9 . _ -",
            ) from None
        if self.store.get(user_id(user.name)) is not None:  # said before the scrypt work; `create` decides
            raise AccessError(f"user {name!r} already exists")
        stored = hash_password(password) if password is not None else None
        if first_admin and (self.has_admin() or not self._claim_first_admin(name)):
            raise AccessError("an admin exists already", hint="sign in as an admin: communis login NAME")
        # The token before its user, so no user ever exists without it; if the user cannot be created (another
        # process made one of that name meanwhile) the token goes again, its secret never shown to anyone.
        token = secrets.token_urlsafe(32)
        self._insert_token(token, user.name, user.created_at, token_days)
        if not self.store.create(user_id(user.name), user_document(user, stored)):
            self.store.delete(secret_id("token", token_digest(token)))
            if first_admin:
                self.store.delete(FIRST_ADMIN)
            raise AccessError(f"user {name!r} already exists")
        if user.role is Role.ADMIN and not first_admin:
            self._claim_first_admin(name)  # an admin exists from now on, seen by a GET (no-op if it was known)
        return user, token

    def _claim_first_admin(self, name: str) -> bool:
        return self.store.create(FIRST_ADMIN, {"kind": "guard", "name": name, "created_at": clock.now().isoformat()})

    def _insert_token(self, token: str, user: str, now: datetime, days: int) -> None:
        digest = token_digest(token)
        self.store.create(
            secret_id("token", digest),
            {
                "kind": "token",
                "name": user,
                "token_id": digest[:TOKEN_ID_LENGTH],
                "created_at": now.isoformat(),
                "expires_at": (now + timedelta(days=days)).isoformat(),
            },
        )

    def new_token(self, name: str, *, days: int = DEFAULT_TOKEN_DAYS) -> str:
        """Another API token for an existing, enabled user, valid `days` (shown once)."""
        user = self.get(name)
        if user.disabled:
            raise AccessError(f"user {name!r} is disabled")
        if not 1 <= days <= 3650:
            raise AccessError(f"a token lives 1 to 3650 days, not {days}")
        token = secrets.token_urlsafe(32)
        self._insert_token(token, name, clock.now(), days)
        return token

    def tokens(self, name: str) -> list[TokenInfo]:
        """The user's API tokens (ids, created, expiry), oldest first; the tokens themselves are not kept."""
        self.get(name)
        now = clock.now()
        return [_token_info(doc.source, now) for doc in self.store.every("token", sort=_TOKEN_ORDER, name=name)]

    def revoke_token(self, name: str, token_id: str) -> TokenInfo:
        """Revoke one of the user's tokens by its id (`communis user token list`); the others go on working.
        The token's document is deleted, so the next request with it, to any process, is refused."""
        wanted = token_id.strip().lower()
        found = [
            doc
            for doc in self.store.every("token", sort=_TOKEN_ORDER, name=name)
            if len(wanted) == TOKEN_ID_LENGTH and doc.source["token_id"] == wanted
        ]
        if not found:
            self.get(name)  # an unknown user says so
            raise AccessError(
                f"user {name!r} has no token {token_id!r}", hint="`communis user token list NAME` shows them"
            )
        for doc in found:
            self.store.delete(doc.id)
        return _token_info(found[0].source, clock.now())

    def has_admin(self) -> bool:
        """Whether any admin was ever added (a disabled one counts: the bootstrap is over for good)."""
        return self.store.get(FIRST_ADMIN) is not None or self.store.any_of("user", role=Role.ADMIN.value)

    def get(self, name: str) -> User:
        doc = self.store.get(user_id(name)) if _plausible(name) else None
        if doc is None:
            raise AccessError(f"no user {name!r}", hint="`communis user list` shows the users")
        return _user(doc.source)

    def list(self) -> list[User]:
        return [_user(doc.source) for doc in self.store.every("user", sort=["name"])]

    def disable(self, name: str) -> User:
        """Refuse the user's password, every token and every session from now on (kept for the audit trail).
        The flag is what every check reads; the user's sessions are deleted besides."""
        if not self.store.update(user_id(name), {"disabled": True}):
            raise AccessError(f"no user {name!r}", hint="`communis user list` shows the users")
        self.store.delete_where("session", name=name)
        return self.get(name)

    def provision(self, name: str, role: Role) -> User:
        """The user an identity provider vouched for (archive/access/oidc_signin.py): made on first sign-in
        without a password or token, its role set to what the provider's claims map to now. A user with
        a password is a local user and is never taken over; a disabled one stays disabled."""
        doc = self.store.get(user_id(name), with_hash=True)
        if doc is None:
            user = User(name=name, role=role, created_at=clock.now())
            if self.store.create(user_id(name), user_document(user, None)):
                return user
            doc = self.store.get(user_id(name), with_hash=True)  # made by another host's sign-in meanwhile
            if doc is None:
                raise AccessError(f"user {name!r} could not be made", hint="try signing in again")
        if doc.source.get("password_hash"):
            raise AccessError(f"user {name!r} is a local user with a password, not the provider's")
        if doc.source.get("role") != role.value and not doc.source.get("disabled"):
            self.store.update(user_id(name), {"role": role.value}, over=doc)  # another host's change: refused
            return self.get(name)
        return _user(doc.source)

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password is right and the user enabled, else AuthenticationFailed.

        A hash made with weaker scrypt parameters than today's is replaced by a new one now, while the
        password is at hand (the only moment it is). Throttling is the caller's (signin.SignIn).
        """
        doc = self.store.get(user_id(name), with_hash=True) if _plausible(name) else None
        hashed = doc.source.get("password_hash") if doc is not None else None
        stored = hashed or _dummy_hash()  # same work for unknown users
        ok = verify_password(password, stored) and doc is not None and bool(hashed)
        if not ok or doc is None or doc.source.get("disabled"):
            raise AuthenticationFailed("wrong user name or password, or the user is disabled")
        if needs_rehash(stored):
            # over the version read: if another process changed the user meanwhile (disabled, rehashed), that stands
            with suppress(AccessConflict):
                self.store.update(doc.id, {"password_hash": hash_password(password)}, over=doc)
        return _user(doc.source)

    def start_session(self, name: str, *, hours: float = SESSION_HOURS) -> str:
        """A new browser session for an enabled user; returns its secret (kept only hashed).

        Ended sessions and forgotten throttle entries are deleted now: sign-ins are rare, requests are not."""
        if self.get(name).disabled:
            raise AuthenticationFailed("the user is disabled")
        secret = secrets.token_urlsafe(32)
        now = clock.now()
        self.store.delete_expired(("session", "throttle"), now.isoformat())
        self.store.create(
            secret_id("session", token_digest(secret)),
            {
                "kind": "session",
                "name": name,
                "created_at": now.isoformat(),
                "expires_at": (now + timedelta(hours=hours)).isoformat(),
            },
        )
        return secret

    def user_for_session(self, secret: str) -> User:
        """The enabled user of an unexpired session, else AuthenticationFailed (two GETs by id, nothing cached)."""
        session = self.store.get(secret_id("session", token_digest(secret)))
        user = self._owner(session)
        if session is None or user is None or datetime.fromisoformat(session.source["expires_at"]) < clock.now():
            raise AuthenticationFailed("the session has ended; sign in again")
        return user

    def end_session(self, secret: str) -> None:
        self.store.delete(secret_id("session", token_digest(secret)))

    def user_for_token(self, token: str) -> User:
        """The enabled user an unexpired, unrevoked API token belongs to, else AuthenticationFailed."""
        found = self.store.get(secret_id("token", token_digest(token)))
        user = self._owner(found)
        if found is None or user is None:
            raise AuthenticationFailed("unknown or revoked API token, or its user is disabled")
        if datetime.fromisoformat(found.source["expires_at"]) <= clock.now():
            raise AuthenticationFailed("the API token has expired", hint="`communis user token new NAME` makes another")
        return user

    def _owner(self, doc: Doc | None) -> User | None:
        """The enabled user a token or session names, read now; None if gone or disabled."""
        if doc is None:
            return None
        owner = self.store.get(user_id(doc.source["name"]))
        if owner is None or owner.source.get("disabled"):
            return None
        return _user(owner.source)


@dataclass(frozen=True)
class TokenInfo:
    """What is known of a token after it was shown: its public id, when it was made and when it ends."""

    id: str
    created_at: datetime
    expires_at: datetime
    expired: bool


TOKEN_ID_LENGTH = 12
#: A user's tokens, oldest first (the id tells two made at one instant apart).
_TOKEN_ORDER = ("created_at", "token_id")


def _token_info(source: dict[str, Any], now: datetime) -> TokenInfo:
    ends = datetime.fromisoformat(source["expires_at"])
    return TokenInfo(source["token_id"], datetime.fromisoformat(source["created_at"]), ends, ends <= now)


def user_document(user: User, password_hash: str | None) -> dict[str, Any]:
    """A user's document in the access store (the hash only if it has a password)."""
    doc: dict[str, Any] = {
        "kind": "user",
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }
    if password_hash:
        doc["password_hash"] = password_hash
    return doc


def open_users(settings: Settings) -> UserStore:
    return UserStore(AccessStore(make_client(settings), settings.access_index))


def _plausible(name: str) -> bool:
    """Whether `name` could be a user's (anything else is not looked up; it cannot exist)."""
    return 0 < len(name) <= 64 and "|" not in name


def _user(source: dict[str, Any]) -> User:
    return User(
        name=str(source["name"]),
        role=Role(str(source["role"])),
        disabled=bool(source.get("disabled")),
        created_at=datetime.fromisoformat(str(source["created_at"])),
    )


def _first(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
