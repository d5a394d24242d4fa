"""Failures that open completeness gaps alarm at their first run, naming the cause and what to do;
a transient failure still waits for `alert_after_failures` runs in a row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from archive.context import Archive
from archive.harvest.health import account_health
from archive.harvest.runner import harvest_one
from simulator import Simulator, Timeline, WorldConfig
from tests.harvesting import sim_now
from tests.integration.test_harvest import accounts


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(WorldConfig().resized(20)) as running:
        yield running


def alarm_after_one_failed_run(arc: Archive, sim: Simulator, fault: dict[str, Any]) -> str | None:
    """Harvest once cleanly, then once with `fault` on Mastodon's listings; the Mastodon account's alarm."""
    everyone = accounts(sim)
    masto = next(a for a in everyone if a.id == "sv-masto")
    assert harvest_one(arc.settings, arc.store, arc.index, masto, now=sim_now(sim)).ok
    sim.apply(Timeline().fault(**fault, match={"platform": "mastodon"}))
    failed = harvest_one(arc.settings, arc.store, arc.index, masto, now=sim_now(sim))
    assert not failed.ok
    (health,) = account_health(arc.store, arc.index, [masto], sim_now(sim), max_failures=3)
    return health.alarm


@pytest.mark.parametrize(
    ("fault", "cause", "action"),
    [
        ({"kind": "status", "count": None, "status": 401}, "token refused", "renew the account's token"),
        ({"kind": "status", "count": None, "status": 403}, "permission lost", "give the token's user or app back"),
        ({"kind": "status", "count": None, "status": 404}, "account gone or renamed", "check the account's handle"),
        (
            {"kind": "rate_limit", "count": None, "retry_after": 10**6},
            "rate limit exhausted",
            "harvest the account less often",
        ),
    ],
)
def test_a_gap_opening_failure_alarms_at_once(
    local_archive: Archive, sim: Simulator, fault: dict[str, Any], cause: str, action: str
) -> None:
    alarm = alarm_after_one_failed_run(local_archive, sim, fault)
    assert alarm is not None and alarm.startswith(f"{cause}: nothing is archived until it is fixed; {action}")


def test_a_transient_failure_alarms_only_after_the_configured_runs(local_archive: Archive, sim: Simulator) -> None:
    assert alarm_after_one_failed_run(local_archive, sim, {"kind": "status", "count": None, "status": 500}) is None
