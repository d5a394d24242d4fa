"""What a real server's world has in common when the contract suite drives it like the simulator.

The suite drives its subjects through a world it calls `sim`: `url`, `state()["now"]`, `apply`
(clock and faults) and `requests`. A real server's clock cannot be moved, but a run's `now` can:
the world's clock is the real clock plus what the scenario advanced, and the look-back window and
the sweep interval follow it. What a real server cannot be made to do (answer 429 or 5xx on demand,
serve a malformed item, show its request log), the world says with `pytest.skip` and the reason,
at the step of the scenario that needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest


@dataclass
class RealWorld:
    """The clock, faults and request log of a real server, as far as the suite uses them."""

    cannot: ClassVar[Mapping[str, str]]
    """Why the server cannot produce a fault kind (and `requests`: why there is no request log)."""
    server: ClassVar[str]
    """How the skip reasons name the server ("the real AppView")."""
    offset: timedelta = field(default_factory=timedelta, kw_only=True)

    def __enter__(self) -> RealWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # the server is shared by the session; each scenario starts from its own state

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def state(self, items: bool = True) -> dict[str, Any]:
        return {"now": self.now().isoformat()}

    def apply(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for event in events:
            if event["type"] == "clock.advance":
                self.offset += timedelta(hours=event.get("hours", 0), days=event.get("days", 0))
            elif event["type"] == "fault":
                pytest.skip(self.cannot.get(event["kind"], f"{self.server} cannot produce a {event['kind']} fault"))
            else:
                raise ValueError(f"no event {event['type']!r} on {self.server}")
        return [{} for _ in events]

    def requests(self) -> list[Any]:
        pytest.skip(self.cannot["requests"])
