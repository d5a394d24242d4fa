"""Signing in with a password, throttled per user name and per client address, every outcome audited.

A wrong password counts against the name typed and against the address it came from (the client's
own address, as `web/auth.client_of` works it out behind trusted proxies). When either count reaches
its limit within the window (AccessSettings), that name or address is locked out for a while: every
sign-in to it is refused without the password being checked, the lockout is an audit event of its
own (`login.lockout`, target `user NAME` or `address ADDR`; an IPv6 client is counted by its /64),
and each refused attempt is a `login` `denied`. A successful sign-in clears the user's count, never
the address's. Time comes from `archive.clock`, so tests move it on instead of waiting, and the
state lives in the shared access store (throttle.py), so every process on every host counts the
same failures.

Unknown names are counted and locked like real ones, with the same answers, so the throttle does
not tell which names exist.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas import AuditAction, AuditOutcome, User

from .. import clock
from ..errors import AuthenticationFailed
from .audit import AuditLog
from .settings import AccessSettings
from .users import UserStore


def address_key(client: str) -> str:
    """What the per-address count is kept under: an IPv4 address, or an IPv6 address's /64 network (one
    host is usually given a whole /64, so counting single IPv6 addresses would let it rotate freely)."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client[:200]
    if ip.version == 6 and not ip.is_loopback:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LockedOut(AuthenticationFailed):
    """Too many failed sign-ins for this user name or from this address: refused until the lockout ends."""

    http_status = 429


@dataclass
class SignIn:
    users: UserStore
    audit: AuditLog
    limits: AccessSettings

    def __call__(self, name: str, password: str, *, client: str, target: str = "/login") -> User:
        """The user, if not locked out and the password is right; else LockedOut or AuthenticationFailed."""
        now = clock.now()
        keys = [("user", name[:200]), ("address", address_key(client))]
        until = self.users.throttle.locked_until(keys, now)
        if until is not None:
            message = f"too many failed sign-ins; try again after {until:%Y-%m-%d %H:%M:%S} UTC"
            self._audit(AuditAction.LOGIN, name, target, client, AuditOutcome.DENIED, f"locked out: {message}")
            raise LockedOut(message)
        try:
            user = self.users.authenticate(name, password)
        except AuthenticationFailed as exc:
            self._audit(AuditAction.LOGIN, name, target, client, AuditOutcome.DENIED, str(exc))
            self._count(keys, now, client)
            raise
        self.users.throttle.forget_failures("user", user.name, now)
        self.audit.event(AuditAction.LOGIN, user=user.name, role=user.role, target=target, client=client[:200])
        return user

    def _count(self, keys: list[tuple[str, str]], now: datetime, client: str) -> None:
        window = timedelta(seconds=self.limits.login_window_seconds)
        limit = {
            "user": self.limits.login_max_failures_per_user,
            "address": self.limits.login_max_failures_per_address,
        }
        counts = self.users.throttle.note_failure(keys, now, now - window, keep=max(limit.values()))
        until = now + timedelta(seconds=self.limits.login_lockout_seconds)
        for (scope, key), failures in counts.items():
            if failures >= limit[scope]:
                self.users.throttle.lock(scope, key, until, now)
                self.audit.event(
                    AuditAction.LOGIN_LOCKOUT,
                    user=key if scope == "user" else None,
                    role=None,
                    target=f"{scope} {key}",
                    client=client[:200],
                    outcome=AuditOutcome.DENIED,
                    note=f"{failures} failed sign-ins in {self.limits.login_window_seconds} s; "
                    f"locked until {until:%Y-%m-%d %H:%M:%S} UTC",
                )

    def _audit(
        self, action: AuditAction, name: str, target: str, client: str, outcome: AuditOutcome, note: str
    ) -> None:
        self.audit.event(
            action, user=name[:200], role=None, target=target, client=client[:200], outcome=outcome, note=note[:1000]
        )
