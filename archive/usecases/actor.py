"""Who acts, and the one way a step is checked and audited (`ok` with what it did, `failed` with why,
`denied` when the actor may not do it).

A state-changing step names the permission it needs (archive/access/policy.py), the same one the
web route in front of it requires: the check is made here too, so every door (web, API, command
line) is held to the same table, and an actor without a role (nobody signed in) is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from schemas import AuditAction, AuditEvent, AuditOutcome, Role

from ..access import AuditLog
from ..access.policy import Permission, allowed
from ..errors import CommunisError, PermissionDenied

T = TypeVar("T")

#: Longest fields an audit event keeps (a target can be a long search; a note is a summary).
TARGET_MAX, CLIENT_MAX, NOTE_MAX = 10_000, 200, 1000


@dataclass(frozen=True)
class Actor:
    """The person behind a step: a user name, their role (None: not signed in, `os:<login>` for reading
    from the command line), and where they act from (the client address, or `cli`)."""

    name: str
    role: Role | None = None
    client: str = "cli"


def record(
    audit: AuditLog,
    who: Actor,
    action: AuditAction,
    target: str,
    *,
    outcome: AuditOutcome = AuditOutcome.OK,
    note: str = "",
) -> AuditEvent:
    """Append one event; a failure to write it fails the step (nothing is done unaudited)."""
    return audit.event(
        action,
        user=who.name,
        role=who.role,
        target=target[:TARGET_MAX],
        client=who.client[:CLIENT_MAX],
        outcome=outcome,
        note=note[:NOTE_MAX],
    )


def permit(audit: AuditLog, who: Actor, permission: Permission, action: AuditAction, target: str) -> None:
    """Refuse (audited `denied`) an actor who is not signed in or whose role lacks `permission`."""
    if who.role is None:
        reason, hint = f"{who.name} is not signed in", "sign in with `communis login NAME`"
    elif not allowed(who.role, permission):
        reason = f"the role {who.role.value!r} lacks {permission.value}"
        hint = f"a user whose role has the {permission.value!r} permission must do it"
    else:
        return
    record(audit, who, action, target, outcome=AuditOutcome.DENIED, note=reason)
    raise PermissionDenied(f"{who.name} may not {action.value.replace('.', ' ')}: {reason}", hint=hint)


def audited(
    audit: AuditLog,
    who: Actor,
    action: AuditAction,
    target: str,
    step: Callable[[], T],
    note: Callable[[T], str],
    *,
    made: Callable[[T], str] | None = None,
    quiet: bool = False,
    permission: Permission | None = None,
) -> T:
    """Run one step and audit it: `ok` with what it did, or `failed` with its one-line reason (then re-raise).

    `made` names the target once the step has made it (a new case's or hold's id), so the events
    of one case or hold can be found by its id. Only refusals Communis raises on purpose are
    audited as `failed`; anything else is a bug and goes up as it is. `quiet` audits the failure
    only, for a step that writes its own success event. `permission`: checked first (`permit`).
    """
    if permission is not None:
        permit(audit, who, permission, action, target)
    try:
        result = step()
    except CommunisError as exc:
        record(audit, who, action, target, outcome=AuditOutcome.FAILED, note=exc.one_line())
        raise
    if not quiet:
        record(audit, who, action, made(result) if made else target, note=note(result))
    return result
