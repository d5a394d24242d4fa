"""Waiting for a condition, never for a duration: the one place tests poll.

A test that waits for something (a server to answer, a flow run to end) asks for the condition
itself, as often as it likes, and goes on the moment it holds; a slower machine only makes the
wait longer, never the test red. The only limit is `HANG_GUARD_S`: not a speed requirement but
a guard so that a condition that will never hold (a bug) ends the run with a message instead of
hanging CI. It is set far beyond any plausible duration on a loaded machine; if it is ever
reached, something is broken, not slow. `gone` lets a wait stop early and say why, for example
when the process being waited for has exited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds after which a wait is taken as a hang (a bug), not as slowness. Fifteen minutes.
HANG_GUARD_S = 900.0
#: Seconds between two looks at the condition: how soon a wait notices, not how long it allows.
POLL_S = 0.2


def wait_for(
    condition: Callable[[], T | None],
    what: str,
    *,
    gone: Callable[[], str | None] | None = None,
    poll: float = POLL_S,
    guard: float = HANG_GUARD_S,
) -> T:
    """Return `condition()`'s first truthy value; fail only if `gone()` names a reason, or at the hang guard."""
    started = time.monotonic()
    while True:
        found = condition()
        if found:
            return found
        reason = gone() if gone is not None else None
        if reason:
            raise AssertionError(f"{what}: gave up, {reason}")
        if time.monotonic() - started > guard:
            raise AssertionError(f"{what}: still not so after the {guard:.0f} s hang guard (a bug, not slowness)")
        time.sleep(poll)  # the interval between two looks; the condition, not this, ends the wait


#: How long Prefect's test harness may take to start its server: a hang guard like the one above
#: (its own default, 30 s, is a speed requirement a loaded machine can miss). Ten minutes.
PREFECT_STARTUP_S = 600
