"""The scheduled harvest fanned out over two Prefect workers: a real local Prefect server (its own
SQLite under a tmp dir), the deployments of prefect.yaml, two `prefect worker start` processes of the
process pool, and simulator accounts harvested into the real Elasticsearch and store.

The test plays the scheduler (the server's own is off, so no tick but the test's happens): a tick is a
run of the `harvest` deployment scheduled for a given time. Every wait asks the Prefect API or a file
for its condition (tests/waiting.py); none waits for a duration. A harvest is stopped inside itself by
a hold point (`COMMUNIS_HOLD_AT`, archive/faults.py): the run blocks on a FIFO until the test lets it go
or kills its worker.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from archive.config import Settings, get_settings
from archive.context import Archive
from archive.faults import HOLD_ENV, CrashPoint, hold_files, release
from archive.services.prefect_server import LocalPrefect, alive
from archive.warc import located_records
from archive.warc.naming import is_warc_key
from simulator import Simulator, WorldConfig
from tests.conftest import EVENTS_PREFIX
from tests.harvesting import archived_versions, state_of
from tests.integration.test_harvest import truth_ids
from tests.waiting import HANG_GUARD_S, wait_for

pytestmark = pytest.mark.integration

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
HOLD = CrashPoint.HARVEST_BEFORE_STATE
"""Where a harvest is held: everything of its run stored and indexed, its state not yet saved."""


@pytest.fixture(scope="module")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPrefect]:
    """One private Prefect server for the module, with the harvest deployments; the scheduler off."""
    with LocalPrefect.start(
        tmp_path_factory.mktemp("prefect"),
        {"PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"},
        startup_s=HANG_GUARD_S,
    ) as running:
        running.deploy(["harvest", "harvest-accounts"])
        yield running


@pytest.fixture
def world() -> Iterator[Simulator]:
    with Simulator(WorldConfig(rate_limit=10**9).resized(8)) as running:
        yield running


class Farm:
    """The test's accounts, archive and two workers on the module's server."""

    def __init__(self, prefect: LocalPrefect, arc: Archive, env: dict[str, str], ids: list[str], tmp: Path) -> None:
        self.prefect, self.arc, self.env, self.ids, self.tmp = prefect, arc, env, ids, tmp
        self.api = prefect.api_url

    def start_workers(self, extra: dict[str, str] | None = None) -> None:
        for name in ("worker-a", "worker-b"):
            self.prefect.start_worker(f"{name}-{self.tmp.name}", {**self.env, **(extra or {})})

    def gone(self) -> str | None:
        dead = [n for n, p in self.prefect.workers.items() if p.poll() is not None]
        return f"worker(s) exited: {dead}" if dead else None

    def deployment_id(self, name: str) -> str:
        return str(httpx.get(f"{self.api}/deployments/name/{name}", timeout=60).json()["id"])

    def tick(self, at: datetime, accounts: list[str] | None = None) -> str:
        """A run of the scheduled `harvest` deployment for the schedule tick `at`, as the scheduler makes it
        (of `accounts` only, if given)."""
        dep = self.deployment_id("communis-harvest/harvest")
        body: dict[str, Any] = {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}}}
        if accounts is not None:
            body["parameters"] = {"fan_out": True, "accounts": accounts}

        def create() -> httpx.Response | None:
            run = httpx.post(f"{self.api}/deployments/{dep}/create_flow_run", json=body, timeout=60)
            return None if run.status_code in (429, 502, 503) else run  # a busy SQLite server, for a moment

        run = wait_for(create, "the Prefect server creating a tick's run")
        run.raise_for_status()
        return str(run.json()["id"])

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.api}/flow_runs/{run_id}", timeout=60).json())

    def final(self, run_id: str) -> dict[str, Any]:
        """The run once it has a final state."""
        return wait_for(
            lambda: found if (found := self.run(run_id))["state"]["type"] in FINAL else None,
            f"flow run {run_id} reaching a final state",
            gone=self.gone,
        )

    def account_runs(self) -> list[dict[str, Any]]:
        """Every run of the `harvest-accounts` deployment for this test's accounts."""
        dep = self.deployment_id("communis-harvest-accounts/harvest-accounts")
        body = {"deployments": {"id": {"any_": [dep]}}, "limit": 200}
        runs = httpx.post(f"{self.api}/flow_runs/filter", json=body, timeout=60).json()
        return [r for r in runs if set(r["parameters"].get("account_ids") or []) & set(self.ids)]

    def harvested(self) -> Counter[str]:
        """How many runs each account was given to."""
        return Counter(a for r in self.account_runs() for a in r["parameters"]["account_ids"])

    def slot_taken(self, account: str) -> int:
        limit = httpx.get(f"{self.api}/v2/concurrency_limits/harvest-{account}", timeout=60).json()
        return int(limit["active_slots"])

    def report(self, run_id: str) -> str:
        body = {"artifacts": {"flow_run_id": {"any_": [run_id]}, "key": {"any_": ["harvest-report"]}}}
        found = httpx.post(f"{self.api}/artifacts/filter", json=body, timeout=60).json()
        return str(found[0]["data"]) if found else ""

    def log(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(self.prefect.home.glob("*.log"))
        )


def _account(account_id: str, sim: Simulator, platform: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "platform": platform,
        "handle": "@sundsvik" if platform == "mastodon" else "blogg",
        "display_name": account_id,
        "department": "Kommunstyrelsen",
        "retention_class": "social-10y",
        "base_url": sim.url(platform),
    }


@pytest.fixture
def farm(prefect: LocalPrefect, world: Simulator, settings: Settings, tmp_path: Path) -> Iterator[Farm]:
    """Six accounts (three Mastodon, three WordPress, all on the one simulator) and their archive; the
    workers are started by each test (some with a hold armed)."""
    tag = uuid.uuid4().hex[:6]  # the module's server outlives the test: its accounts' slots and runs are its own
    ids = [f"{tag}-m{i}" for i in range(3)] + [f"{tag}-w{i}" for i in range(3)]
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        yaml.safe_dump({"accounts": [_account(i, world, "mastodon" if "-m" in i else "wordpress") for i in ids]})
    )
    env = {
        "COMMUNIS_DATA_DIR": str(settings.data_dir),
        "COMMUNIS_STORE_PATH": str(settings.store_path),
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": EVENTS_PREFIX,
        "COMMUNIS_ACCOUNTS_FILE": str(accounts),
        "COMMUNIS_HARVEST_LOOKBACK_DAYS": "3650",
        "COMMUNIS_HARVEST_LOCK_LEASE_SECONDS": "60",  # Prefect's shortest: a dead worker's slot is free a minute on
        "COMMUNIS_HARVEST_FANOUT_POLL_SECONDS": "0.5",
    }
    arc = Archive(settings)
    running = Farm(prefect, arc, env, ids, tmp_path)
    try:
        yield running
    finally:
        for name in [n for n in prefect.workers if n.endswith(tmp_path.name)]:
            prefect.kill_worker(name)
        for run in running.account_runs():  # nothing of this test is left for the next test's workers
            if run["state"]["type"] not in FINAL:
                httpx.post(
                    f"{prefect.api_url}/flow_runs/{run['id']}/set_state",
                    json={"state": {"type": "CANCELLED"}, "force": True},
                    timeout=60,
                )
        arc.index.destroy()
        get_settings.cache_clear()


def _tick_time() -> datetime:
    """A schedule tick an hour ago, so it and the ticks 15 and 30 minutes after it are all due at once."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _nothing_lost_or_twice(farm: Farm, world: Simulator) -> None:
    """Every account holds every simulator item, one version each, in the index and in the stored WARC files."""
    masto_truth, blog_truth = truth_ids(world)
    record_ids: set[str] = set()
    for account in farm.ids:
        versions = archived_versions(farm.arc, account)
        truth = masto_truth if "-m" in account else blog_truth
        assert truth <= set(versions), (account, sorted(truth - set(versions))[:5])
        twice = {item: len(v) for item, v in versions.items() if len(v) != 1}
        assert not twice, (account, twice)  # nothing changed in the world: one version per item
        record_ids |= {d["record_id"] for v in versions.values() for d in v}
    keys = [k for k in farm.arc.store.keys("warc/") if is_warc_key(k)]
    in_warcs = Counter(r.record_id for key in keys for r in located_records(farm.arc.store.open(key), key))
    assert in_warcs and max(in_warcs.values()) == 1, in_warcs.most_common(3)
    assert set(in_warcs) == record_ids


def test_every_due_account_is_harvested_once_per_tick_by_two_workers(farm: Farm, world: Simulator) -> None:
    """One tick: the six accounts in three runs of two (COMMUNIS_HARVEST_FANOUT_GROUP), each account in one,
    all completed, each account's state saved once; the same tick run again (a retried parent) creates no
    second run and harvests nothing twice; the next tick harvests every account again, once."""
    farm.env["COMMUNIS_HARVEST_FANOUT_GROUP"] = "2"
    farm.start_workers()
    first = _tick_time()
    parent = farm.final(farm.tick(first))
    assert parent["state"]["type"] == "COMPLETED", (parent["state"], farm.log())
    runs = farm.account_runs()
    assert len(runs) == 3 and farm.harvested() == Counter(farm.ids), runs
    assert {r["state"]["type"] for r in runs} == {"COMPLETED"}
    assert all(state_of(farm.arc, a).runs == 1 for a in farm.ids)
    report = farm.report(parent["id"])
    assert all(f"| {a} | yes |" in report for a in farm.ids), report

    again = farm.final(farm.tick(first))  # the same tick once more: a retried (or re-run) parent
    assert again["state"]["type"] == "COMPLETED", again["state"]
    assert len(farm.account_runs()) == 3  # the idempotency keys gave the existing runs back
    assert all(state_of(farm.arc, a).runs == 1 for a in farm.ids)

    nxt = farm.final(farm.tick(first + timedelta(minutes=15)))
    assert nxt["state"]["type"] == "COMPLETED", nxt["state"]
    assert len(farm.account_runs()) == 6 and farm.harvested() == Counter(farm.ids * 2)
    assert all(state_of(farm.arc, a).runs == 2 for a in farm.ids)
    _nothing_lost_or_twice(farm, world)


def test_two_ticks_racing_never_harvest_an_account_at_once(farm: Farm, world: Simulator, tmp_path: Path) -> None:
    """While one tick's run of an account is held inside its harvest (its WARC files stored and indexed, its
    state not yet saved), the next tick's run of that account, on either worker, gives up waiting for the
    account's slot without harvesting anything; released, the first run completes: harvested once."""
    holds = tmp_path / "holds"
    holds.mkdir()
    farm.env["COMMUNIS_HARVEST_LOCK_TIMEOUT_SECONDS"] = "5"  # the racing run's wait; the slot stays taken meanwhile
    farm.start_workers({HOLD_ENV: f"{HOLD.value}@{holds}"})
    account = farm.ids[0]
    _, held, _ = hold_files(HOLD, holds)
    start = _tick_time()
    first = farm.tick(start, [account])
    wait_for(held.exists, "the first tick's harvest held inside its run", gone=farm.gone)
    assert farm.slot_taken(account) == 1

    second = farm.final(farm.tick(start + timedelta(minutes=15), [account]))
    racing = farm.account_runs()
    assert len(racing) == 2 and farm.harvested() == Counter([account, account])
    loser = next(r for r in racing if r["state"]["type"] in FINAL)
    assert loser["state"]["type"] == "FAILED", loser["state"]  # it could not get the slot …
    assert "still taken by another run" in loser["state"]["message"], loser["state"]
    assert second["state"]["type"] == "COMPLETED", second["state"]  # … which is no alarm on its own, but
    assert f"| {account} | **NO** |" in farm.report(second["id"])  # … its tick's report says so
    assert state_of(farm.arc, account).runs == 0  # … and it harvested nothing, nor counted a failure
    assert farm.slot_taken(account) == 1  # the held run still has the slot
    assert farm.run(first)["state"]["type"] == "RUNNING"

    release(HOLD, holds)
    done = farm.final(first)
    assert done["state"]["type"] == "COMPLETED", (done["state"], farm.log())
    assert state_of(farm.arc, account).runs == 1  # harvested once, by the first tick
    assert farm.slot_taken(account) == 0
    farm.ids = [account]
    _nothing_lost_or_twice(farm, world)


def test_a_worker_killed_mid_harvest_leaves_the_account_to_the_next_tick(
    farm: Farm, world: Simulator, tmp_path: Path
) -> None:
    """A worker (its process group and its flow runs') is SIGKILLed while its run of an account is inside the
    harvest, everything of the run stored and indexed, its state unsaved. Prefect's lease on the account's slot
    runs out, the slot comes free, and the next tick, on the other worker, harvests the account with every
    item once per version, in the index and in the WARC files: nothing lost, nothing twice."""
    holds = tmp_path / "holds"
    holds.mkdir()
    farm.start_workers({HOLD_ENV: f"{HOLD.value}@{holds}"})
    account = farm.ids[0]
    _, held, _ = hold_files(HOLD, holds)
    start = _tick_time()
    farm.tick(start, [account])
    wait_for(held.exists, "the harvest held inside its run", gone=farm.gone)
    holder = int(held.read_text())
    worker = farm.prefect.worker_of(holder)
    assert worker is not None, "the held harvest runs under neither worker"
    assert archived_versions(farm.arc, account)  # its records are in the index already
    farm.prefect.kill_worker(worker)
    assert not alive(holder)

    # The lease (60 s, the shortest Prefect allows) is not renewed by the dead run: the server revokes it.
    wait_for(lambda: farm.slot_taken(account) == 0, "the dead run's slot coming free", gone=farm.gone)
    assert state_of(farm.arc, account).runs == 0

    nxt = farm.final(farm.tick(start + timedelta(minutes=15)))
    assert nxt["state"]["type"] == "COMPLETED", (nxt["state"], farm.log())
    assert all(state_of(farm.arc, a).runs == 1 for a in farm.ids)
    _nothing_lost_or_twice(farm, world)
