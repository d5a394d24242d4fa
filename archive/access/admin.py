"""User administration with its audit trail, the same for the CLI and (later) the admin pages:
the audit log must be writable before anything changes, and every change is an audit event.

Who may: `by` is the signed-in user (archive/access/login.py), never a typed name. Adding and
disabling users and handling other users' tokens need the `users` permission (admin); a user may
make and revoke their own tokens. The one exception is the first admin: while the store holds no
admin at all, `add_user` with `by=None` may create one (a guard document in the shared store is
created once, so of two bootstraps racing on any hosts one is refused); after that, nobody
unauthenticated adds anyone. `communis user migrate` (migrate.py) follows the same rule.
"""

from __future__ import annotations

from schemas import AuditAction, AuditOutcome, Role, User

from ..config import Settings
from ..errors import PermissionDenied
from .audit import AuditLog, open_audit
from .policy import Permission, allowed
from .users import DEFAULT_TOKEN_DAYS, TokenInfo, open_users, token_digest

#: Who the audit log names for the bootstrap of the first admin (nobody was signed in).
BOOTSTRAP = "bootstrap"


def _check(
    audit: AuditLog, by: User | None, action: AuditAction, target: str, client: str, *, own: str | None = None
) -> None:
    """Refuse (audited `denied`) unless `by` holds the `users` permission or acts on their own `own` account."""
    if by is not None and not by.disabled and (allowed(by.role, Permission.USERS) or (own and by.name == own)):
        return
    reason = (
        "not signed in"
        if by is None
        else f"{by.name} ({by.role.value}) lacks the users permission" + (f" and is not {own}" if own else "")
    )
    audit.event(
        action,
        user=by.name if by else None,
        role=by.role if by else None,
        target=target,
        client=client,
        outcome=AuditOutcome.DENIED,
        note=reason,
    )
    raise PermissionDenied(
        f"cannot {action.value.replace('.', ' ')} {target}: {reason}",
        hint="sign in as an admin with `communis login NAME`",
    )


def add_user(
    settings: Settings,
    name: str,
    role: str,
    password: str | None,
    *,
    by: User | None,
    client: str,
    token_days: int = DEFAULT_TOKEN_DAYS,
) -> tuple[User, str]:
    """Create a user; returns it and its API token (shown once, stored only hashed, valid `token_days`).

    `by=None` only for the first admin, while no admin exists (a `bootstrap` audit event)."""
    audit = open_audit(settings)
    audit.ensure()  # fail before creating the user if the audit log cannot be written
    users = open_users(settings)
    if by is None:
        if users.has_admin():
            _check(audit, None, AuditAction.USER_ADD, name, client)
        if role != Role.ADMIN.value:
            audit.event(
                AuditAction.USER_ADD,
                user=None,
                role=None,
                target=name,
                client=client,
                outcome=AuditOutcome.DENIED,
                note="no admin yet: the first user must be an admin",
            )
            raise PermissionDenied(
                f"cannot add {name} ({role}): there is no admin yet, and the first user must be one",
                hint="communis user add NAME --role admin, then `communis login NAME`",
            )
        user, token = users.add(name, role, password, token_days=token_days, first_admin=True)
    else:
        _check(audit, by, AuditAction.USER_ADD, name, client)
        user, token = users.add(name, role, password, token_days=token_days)
    audit.event(
        AuditAction.USER_ADD,
        user=by.name if by else BOOTSTRAP,
        role=by.role if by else None,
        target=user.name,
        client=client,
        note=f"role {user.role.value}" + ("" if by else "; the first admin, added before anyone could sign in"),
    )
    return user, token


def disable_user(settings: Settings, name: str, *, by: User | None, client: str) -> User:
    """Disable a user: its password and every token are refused from now on."""
    audit = open_audit(settings)
    audit.ensure()
    _check(audit, by, AuditAction.USER_DISABLE, name, client)
    assert by is not None
    user = open_users(settings).disable(name)
    audit.event(AuditAction.USER_DISABLE, user=by.name, role=by.role, target=user.name, client=client)
    return user


def add_token(settings: Settings, name: str, *, days: int, by: User | None, client: str) -> str:
    """Another API token for `name`, valid `days` (shown once; its id and expiry are audited, never the token)."""
    audit = open_audit(settings)
    audit.ensure()
    _check(audit, by, AuditAction.TOKEN_ADD, name, client, own=name)
    assert by is not None
    users = open_users(settings)
    token = users.new_token(name, days=days)
    made = next(t for t in users.tokens(name) if t.id == token_digest(token)[: len(t.id)])
    audit.event(
        AuditAction.TOKEN_ADD,
        user=by.name,
        role=by.role,
        target=name,
        client=client,
        note=f"token {made.id}, expires {made.expires_at:%Y-%m-%d %H:%M} UTC",
    )
    return token


def revoke_token(settings: Settings, name: str, token_id: str, *, by: User | None, client: str) -> TokenInfo:
    """Revoke one of `name`'s tokens by its id; the user's other tokens and password go on working."""
    audit = open_audit(settings)
    audit.ensure()
    _check(audit, by, AuditAction.TOKEN_REVOKE, name, client, own=name)
    assert by is not None
    gone = open_users(settings).revoke_token(name, token_id)
    audit.event(
        AuditAction.TOKEN_REVOKE, user=by.name, role=by.role, target=name, client=client, note=f"token {gone.id}"
    )
    return gone
