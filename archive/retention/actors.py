"""Who may plan, approve and execute a disposal, and the two-person rule (US-7).

People are local users who signed in (`communis login`: the name comes from their API token, never
from an option or `$USER`), or `flow:retention` for the nightly flow, which only plans. Approving and
executing need an enabled local user with the `retention` permission (records-manager or admin),
checked again here against the user store whoever the caller is. Planner, approver and executor are
three different people, or the flow and two people: nobody approves what they planned, and nobody
executes what they planned or approved. Lists made before sign-in was required name their planner
`os:<login>`; that is the same person as the user `<login>`.
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
    """The user `name` if they exist, are enabled and hold the retention permission; else a RetentionError.

    `name` is a user name as signed in: a prefixed name (`os:anna`) is nobody's signature."""
    try:
        user = open_users(settings).get(name)
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
            hint="planner, approver and executor are three different signed-in people",
        )
