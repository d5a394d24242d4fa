"""Shared fixtures. Integration tests use the real services started by `scripts/services up`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from archive.config import Settings
from archive.samples import ACCOUNTS_FILE

REPO = Path(__file__).resolve().parent.parent
#: One audit and one preservation-event stream for all tests: the local Elasticsearch cannot delete
#: data streams, and one per test would pile up shards. Tests tell their events apart by ids.
EVENTS_PREFIX = "test-shared"
#: The simulator and the test peers listen on loopback, which production refuses to harvest (docs/security.md,
#: finding 5): the tests allow it, for this process and every process it starts (CLI runs, flows).
#: tests/security/test_ssrf.py sets its own allow-list to test the refusals.
LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]
os.environ.setdefault("COMMUNIS_HTTP_ALLOWED_NETWORKS", json.dumps(LOOPBACK_NETWORKS))


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    """Run warcio's own checker (the CLI users run) over a file."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)], capture_output=True, text=True, check=False
    )


def admin_es() -> Elasticsearch:
    """The local node as its admin user, for test clean-up that no application credential may do
    (emptying an append-only stream: docs/security.md)."""
    from archive.services import elasticsearch as local_es

    return Elasticsearch(local_es.url(), basic_auth=local_es.admin_auth(), request_timeout=60)


def drop_access(settings: Settings) -> None:
    """Drop a test's access store (users, tokens, sessions): no application credential may delete it."""
    admin_es().options(ignore_status=404).indices.delete(index=settings.access_index)


@pytest.fixture(autouse=True)
def _no_cli_sign_in(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test acts with the developer's own `communis login` token or COMMUNIS_TOKEN: each starts signed out
    (tests/signing.py signs in)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("COMMUNIS_TOKEN", raising=False)


def s3_environment(s: Settings) -> dict[str, str]:
    """COMMUNIS_* variables pointing `get_settings()` (the CLI, flows, subprocesses) at a test's S3 archive."""
    assert s.s3_access_key is not None and s.s3_secret_key is not None and s.s3_endpoint_url is not None
    return {
        "COMMUNIS_STORE": "s3",
        "COMMUNIS_S3_ENDPOINT_URL": s.s3_endpoint_url,
        "COMMUNIS_S3_BUCKET": s.s3_bucket,
        "COMMUNIS_S3_PREFIX": s.s3_prefix,
        "COMMUNIS_S3_ACCESS_KEY": s.s3_access_key.get_secret_value(),
        "COMMUNIS_S3_SECRET_KEY": s.s3_secret_key.get_secret_value(),
        "COMMUNIS_DATA_DIR": str(s.data_dir),
        "COMMUNIS_ES_INDEX_PREFIX": s.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": s.events_prefix or s.es_index_prefix,
    }


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Embedded defaults in a private folder (local store); the index is the real local ES. Its access
    store (users) goes afterwards, if the test made one."""
    made = Settings(
        data_dir=tmp_path / "data",
        store_path=tmp_path / "store",
        es_index_prefix=f"test-{uuid.uuid4().hex[:8]}",
        events_prefix=EVENTS_PREFIX,
        accounts_file=ACCOUNTS_FILE,
    )
    yield made
    drop_access(made)


@pytest.fixture
def s3_settings(tmp_path: Path) -> Iterator[Settings]:
    """The same, but storing in the local MinIO's test bucket (Object Lock enabled)."""
    from archive.services.launcher import endpoints

    found = endpoints()
    if not found:
        pytest.fail("MinIO is not running: start the services with `scripts/services up`")
    made = Settings(
        data_dir=tmp_path / "data",
        store="s3",
        s3_endpoint_url=found["s3_endpoint_url"],
        s3_bucket="communis-test",
        s3_prefix=f"{uuid.uuid4().hex[:8]}/",
        s3_access_key=found["s3_access_key"],
        s3_secret_key=found["s3_secret_key"],
        es_index_prefix=f"test-{uuid.uuid4().hex[:8]}",
        events_prefix=EVENTS_PREFIX,
        accounts_file=ACCOUNTS_FILE,
    )
    yield made
    drop_access(made)
