"""Who may plan, approve and execute a disposal, and the two-person rule (US-7).

People are named as the archive knows them: a local user (`communis user add NAME --role
records-manager`), `os:<login>` for a command-line user who is not a local user, or `flow:retention`
for the nightly flow. Approving and executing need a local user with the `retention` permission
(records-manager or admin): only a named, role-checked person can sign. The same person is
recognised across forms (`os:anna` and the user `anna` are one person).
"""

from __future__ import annotations

from ..access import open_users
from ..access.policy import Permission, allowed
from ..config import Settings
from ..errors import AccessError
from .book import RetentionError

FLOW_AGENT = "flow:retention"


def person(name: str) -> str:
    """The person behind an actor name, for comparing signatures."""
    return name.split(":", 1)[1] if name.startswith(("os:", "user:")) else name


def authorised(settings: Settings, name: str, step: str) -> str:
    """The user `name` if they exist, are enabled and hold the retention permission; else a RetentionError."""
    try:
        user = open_users(settings).get(person(name))
    except AccessError:
        raise RetentionError(
            f"{name} cannot {step}: not a local user", hint="add one: communis user add NAME --role records-manager"
        ) from None
    if user.disabled:
        raise RetentionError(f"{user.name} cannot {step}: the user is disabled")
    if not allowed(user.role, Permission.RETENTION):
        raise RetentionError(f"{user.name} ({user.role.value}) cannot {step}: needs the records-manager or admin role")
    return user.name


def require_other(actor: str, other: str, step: str, other_step: str) -> None:
    """Two people: refuse when `actor` is the person who did `other_step`."""
    if person(actor) == person(other):
        raise RetentionError(
            f"{actor} cannot {step} a list they {other_step}: a second person must",
            hint="two people: planner ≠ approver, approver ≠ executor",
        )
