"""Fixtures for the simulator's own tests: a real server on an ephemeral port, and httpx clients.

A test module (or test) sizes its world and aims its client with markers instead of writing its
own fixtures: `pytest.mark.sim(posts=30, social_token=TOKEN)` passes `Simulator` arguments (default:
the small default world, seed 1); `pytest.mark.client("facebook", token=TOKEN)` points `http` at one
platform's root with a Bearer token (`headers=` and `params=` go to the `httpx.Client` as they are).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator import Simulator
from tests.waiting import HANG_GUARD_S


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim(**kwargs): Simulator arguments for the `sim` fixture")
    config.addinivalue_line(
        "markers",
        "client(platform=None, *, token=None, headers=None, params=None): how the `http` fixture's client is made",
    )


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """A small default world (200 statuses, 200 posts), seed 1, unless a `sim` marker says otherwise."""
    marker = request.node.get_closest_marker("sim")
    with Simulator(**(marker.kwargs if marker else {})) as running:
        yield running


@pytest.fixture
def http(sim: Simulator, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client on the simulator's base URL, or on a platform's root as a `client` marker says."""
    marker = request.node.get_closest_marker("client")
    args = marker.kwargs if marker else {}
    platform = marker.args[0] if marker and marker.args else None
    headers = dict(args.get("headers") or {})
    if args.get("token"):
        headers["Authorization"] = f"Bearer {args['token']}"
    with httpx.Client(
        base_url=sim.url(platform) if platform else sim.base_url,
        headers=headers,
        params=args.get("params"),
        timeout=HANG_GUARD_S,
    ) as client:  # a hang guard
        yield client
