"""Fixtures for the simulator's own tests: a real server on an ephemeral port, and httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A small default world (200 statuses, 200 posts), seed 1."""
    with Simulator(seed=1) as running:
        yield running


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    """A client on the simulator's base URL."""
    with httpx.Client(base_url=sim.base_url, timeout=10) as client:
        yield client
