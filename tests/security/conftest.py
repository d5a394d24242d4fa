"""The web-and-access world of the security tests: a small real archive (the Mastodon sample ingested
into the real Elasticsearch and a local store), one record under a legal hold, a user of every role
(password and API token) and the web application under FastAPI's TestClient.

Module-scoped so that a test file shares one world (ingest and scrypt hashing cost seconds), but a
test that changes users or sign-in state makes its own names, so tests never depend on each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from archive.access import open_audit, open_users
from archive.access.settings import AccessSettings
from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.config import Settings, get_settings
from archive.context import Archive
from archive.samples import ACCOUNTS_FILE, sample_file
from archive.usecases import Actor
from archive.usecases.holds import open_holds
from archive.web import create_app
from schemas import AuditEvent, CaptureBundle, Role
from schemas.search import SavedSearch
from tests.conftest import EVENTS_PREFIX, drop_access

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"
HOLD_MATTER = "Mål T 4711-26"


@dataclass
class World:
    settings: Settings
    access: AccessSettings
    arc: Archive
    #: role value → (user name, API token)
    users: dict[str, tuple[str, str]]
    #: a record under the legal hold, and one that is not
    held_id: str
    hold_id: str
    free_id: str
    run: str

    def app(self, access: AccessSettings | None = None, **client: Any) -> TestClient:
        """A TestClient on a fresh application (its own sign-in state) over this archive."""
        return TestClient(create_app(self.settings, access=access or self.access), **client)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users[role][1]}"}

    def name(self, role: str) -> str:
        return self.users[role][0]

    def events(self, **match: object) -> list[AuditEvent]:
        """Audit events of this world's users (newest first) whose fields equal `match`."""
        audit = open_audit(self.settings)
        audit.refresh()
        found = [e for e in audit.latest(10_000) if (e.user or "").endswith(self.run) or self.run in e.target]
        return [e for e in found if all(getattr(e, k) == v for k, v in match.items())]


def make_world(root: Path, access: AccessSettings | None = None) -> Iterator[World]:
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        data_dir=root / "data",
        store_path=root / "store",
        accounts_file=ACCOUNTS_FILE,
        es_index_prefix=f"test-sec-{run}",
        events_prefix=EVENTS_PREFIX,
    )
    arc = Archive(settings)
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, settings):
        if account.platform.value == "mastodon":
            bundles = list(read_file(sample_file(account.id)))
            pipeline.ingest(account, bundles)
            # a second version of post 1102 (an edit), so the item has versions to show
            edited = [
                b for b in bundles if isinstance(b, CaptureBundle) and any(r.item_id == "1102" for r in b.records)
            ]
            second = [
                b.model_copy(
                    update={
                        "records": [
                            r.model_copy(update={"text": f"{r.text} (ändrad)", "version": 2})
                            for r in b.records
                            if r.item_id == "1102"
                        ]
                    }
                )
                for b in edited[:1]
            ]
            pipeline.ingest(account, second)
    arc.index.refresh()
    ids = sorted(doc["record_id"] for doc in arc.index.all_documents() if doc.get("is_latest"))
    held_id, free_id = ids[0], ids[1]
    outcome = open_holds(arc).place(
        Actor(f"setup-{run}", Role.LEGAL), matter=f"{HOLD_MATTER} {run}", scope=SavedSearch(record_ids=[held_id])
    )
    arc.index.refresh()
    users = open_users(settings)
    made = {}
    for role in Role:
        name = f"{role.value.replace('-', '')}-{run}"
        made[role.value] = (name, users.add(name, role, PASSWORD)[1])
    try:
        yield World(settings, access or AccessSettings(), arc, made, held_id, outcome.hold.id, free_id, run)
    finally:
        arc.index.destroy()
        drop_access(settings)


class Clock:
    """`archive.clock.now` under the test's hand: time moves only when the test says (no sleeps)."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from archive import clock as clock_module

    pinned = Clock()
    monkeypatch.setattr(clock_module, "now", pinned)
    return pinned


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The `communis` command over this world's archive."""
    s = world.settings
    for name, value in {
        "COMMUNIS_DATA_DIR": s.data_dir,
        "COMMUNIS_STORE_PATH": s.store_path,
        "COMMUNIS_ES_INDEX_PREFIX": s.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": s.events_prefix,
        "COMMUNIS_ACCOUNTS_FILE": s.accounts_file,
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("security"))
