"""The flows run on Prefect's real local API (prefect_test_harness starts a temporary server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness

from archive.config import Settings, get_settings
from archive.context import Archive
from archive.index import SearchQuery, search
from tests.waiting import PREFECT_STARTUP_S


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
        yield


@pytest.fixture
def env_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Flows read settings from the environment, as a deployed worker does."""
    monkeypatch.setenv("COMMUNIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COMMUNIS_STORE_PATH", str(settings.store_path))
    monkeypatch.setenv("COMMUNIS_ES_INDEX_PREFIX", settings.es_index_prefix)
    get_settings.cache_clear()
    yield get_settings()
    Archive(get_settings()).index.destroy()
    get_settings.cache_clear()


def test_ingest_then_reindex_flows(prefect_api: None, env_settings: Settings) -> None:
    from flows.ingest import ingest_samples
    from flows.reindex import reindex_all

    results = ingest_samples()
    assert {r["account"] for r in results} == {"sundsvik-mastodon", "sundsvik-blogg"}
    assert sum(int(r["records"]) for r in results) == 10  # type: ignore[call-overload]
    index = Archive(env_settings).index
    assert search(index, SearchQuery(text="Budget 2027")).total == 1
    assert reindex_all() == {"files": 2, "documents": 10, "errors": 0}
    assert search(index, SearchQuery(text="Budget 2027")).total == 1
