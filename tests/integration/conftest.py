"""Integration fixtures: a real Elasticsearch index and a real store (local dir or MinIO) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive.config import Settings
from archive.context import Archive
from simulator import Simulator
from tests.contract.subjects import TOKEN, TOKEN_ENV

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "s3"])
def archive(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Archive]:
    """An Archive on the real local services, once with the local store and once with MinIO."""
    chosen = settings if request.param == "local" else request.getfixturevalue("s3_settings")
    arc = Archive(chosen)
    yield arc
    arc.index.destroy()


@pytest.fixture
def local_archive(settings: Settings) -> Iterator[Archive]:
    arc = Archive(settings)
    yield arc
    arc.index.destroy()


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The platform simulator with a few posts per account and the social platforms' token set."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as running:
        yield running
