"""Who acts, and the one way a step is audited (`ok` with what it did, `failed` with why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from schemas import AuditAction, AuditEvent, AuditOutcome, Role

from ..access import AuditLog
from ..errors import CommunisError

T = TypeVar("T")

#: Longest fields an audit event keeps (a target can be a long search; a note is a summary).
TARGET_MAX, CLIENT_MAX, NOTE_MAX = 10_000, 200, 1000


@dataclass(frozen=True)
class Actor:
    """The person behind a step: a user name (`os:<login>` from the command line), their role if the
    archive knows it, and where they act from (the client address, or `cli`)."""

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
) -> T:
    """Run one step and audit it: `ok` with what it did, or `failed` with its one-line reason (then re-raise).

    `made` names the target once the step has made it (a new case's or hold's id), so the events
    of one case or hold can be found by its id. Only refusals Communis raises on purpose are
    audited as `failed`; anything else is a bug and goes up as it is. `quiet` audits the failure
    only, for a step that writes its own success event.
    """
    try:
        result = step()
    except CommunisError as exc:
        record(audit, who, action, target, outcome=AuditOutcome.FAILED, note=exc.one_line())
        raise
    if not quiet:
        record(audit, who, action, made(result) if made else target, note=note(result))
    return result
