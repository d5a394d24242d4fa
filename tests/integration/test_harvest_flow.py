"""The harvest flow on Prefect: under the test harness, and deployed from prefect.yaml to a real
local Prefect server with a process work pool and a worker that runs a scheduled harvest."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from archive.config import Settings, get_settings
from archive.context import Archive
from archive.index import SearchQuery, search
from simulator import Simulator, WorldConfig
from tests.waiting import PREFECT_STARTUP_S, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(WorldConfig().resized(20)) as running:
        yield running


@pytest.fixture
def env(
    settings: Settings, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        yaml.safe_dump(
            {
                "accounts": [
                    {
                        "id": "sv-masto",
                        "platform": "mastodon",
                        "handle": "@sundsvik",
                        "display_name": "Sundsvik",
                        "department": "Kommunstyrelsen",
                        "retention_class": "social-10y",
                        "base_url": sim.mastodon_url,
                    },
                    {
                        "id": "sv-blogg",
                        "platform": "wordpress",
                        "handle": "blogg",
                        "display_name": "Bloggen",
                        "department": "Kommunstyrelsen",
                        "retention_class": "social-10y",
                        "base_url": sim.wordpress_url,
                    },
                ]
            }
        )
    )
    values = {
        "COMMUNIS_DATA_DIR": str(settings.data_dir),
        "COMMUNIS_STORE_PATH": str(settings.store_path),
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_ACCOUNTS_FILE": str(accounts),
        "COMMUNIS_HARVEST_LOOKBACK_DAYS": "3650",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield values
    Archive(get_settings()).index.destroy()
    get_settings.cache_clear()


def test_harvest_flow_under_the_harness(env: dict[str, str]) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.harvest import harvest

    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
        state = harvest(return_state=True)
    assert state.is_completed(), state.message
    index = Archive(get_settings()).index
    assert search(index, SearchQuery(account="sv-masto")).total > 20
    assert search(index, SearchQuery(account="sv-blogg", kind="comment")).total > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_deployed_from_prefect_yaml_a_worker_runs_a_scheduled_harvest(env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    penv = {
        **os.environ,
        **env,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": api,
        "COMMUNIS_HOME": str(REPO),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    prefect = [sys.executable, "-m", "prefect"]
    server = subprocess.Popen(
        [*prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=penv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = None
    try:
        # Ready when its health endpoint answers, however long that takes; a server that exits fails at once.
        wait_for(
            lambda: _answers(f"{api}/health"),
            "the Prefect server answering /health",
            gone=lambda: _exited(server, "the Prefect server"),
        )
        subprocess.run(
            [*prefect, "work-pool", "create", "communis-archive", "--type", "process"],
            env=penv,
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        deployed = subprocess.run(
            [*prefect, "--no-prompt", "deploy", "--all"], env=penv, capture_output=True, text=True, cwd=REPO
        )
        assert deployed.returncode == 0, deployed.stdout[-2000:] + deployed.stderr[-2000:]
        run_id = _schedule_now(api, "communis-harvest/harvest")
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [*prefect, "worker", "start", "--pool", "communis-archive"],
            env=penv,
            cwd=REPO,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        state = _wait_final(api, run_id, worker)
        # The worker's own output (the flow run's log) says why, if the run did not complete.
        assert state == "COMPLETED", (state, (tmp_path / "worker.log").read_text()[-4000:])
        schedules = httpx.post(f"{api}/deployments/filter", json={}, timeout=60).json()
        harvest = next(d for d in schedules if d["name"] == "harvest")
        assert harvest["schedules"][0]["schedule"]["interval"] == 900.0
        assert search(Archive(get_settings()).index, SearchQuery(account="sv-blogg")).total > 0
    finally:
        for proc in (worker, server):
            if proc is not None:
                os.killpg(proc.pid, 9)
                proc.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=60).status_code == 200
    except httpx.HTTPError:
        return False


def _exited(proc: subprocess.Popen[bytes], what: str) -> str | None:
    code = proc.poll()
    return None if code is None else f"{what} exited with {code}"


def _schedule_now(api: str, name: str) -> str:
    flow_name, deployment = name.split("/")
    dep = httpx.get(f"{api}/deployments/name/{flow_name}/{deployment}", timeout=60).json()
    now = datetime.now(UTC).isoformat()

    # A busy local Prefect server (SQLite) answers 503 for a moment; ask again until it takes the run
    # (Prefect's own client retries 429/502/503 too), however long the moment lasts.
    def create() -> httpx.Response | None:
        run = httpx.post(
            f"{api}/deployments/{dep['id']}/create_flow_run",
            json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": now}}},
            timeout=60,
        )
        return None if run.status_code in (429, 502, 503) else run

    run = wait_for(create, "the Prefect server creating the flow run")
    run.raise_for_status()
    return str(run.json()["id"])


def _wait_final(api: str, run_id: str, worker: subprocess.Popen[bytes]) -> str:
    """The run's final state, as soon as it has one; a worker that exits ends the wait (with its reason)."""
    final = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

    def state() -> str | None:
        found = str(httpx.get(f"{api}/flow_runs/{run_id}", timeout=60).json()["state"]["type"])
        return found if found in final else None

    return wait_for(
        state, f"flow run {run_id} reaching a final state", poll=1, gone=lambda: _exited(worker, "the worker")
    )


def test_two_runs_never_harvest_the_same_account_at_once(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """While one run holds an account's slot, a second run of that account waits and gives up."""
    from prefect import flow
    from prefect.concurrency.sync import concurrency
    from prefect.testing.utilities import prefect_test_harness
    from prefect.utilities.asyncutils import run_coro_as_sync

    from flows.harvest import _ensure_limits, harvest_account_task
    from tests.harvesting import state_of

    # While the slot is held (for as long as the test holds it), the second run gives up after its
    # configured wait: 3 s, whatever the machine's speed, since the slot is never freed meanwhile.
    monkeypatch.setenv("COMMUNIS_HARVEST_LOCK_TIMEOUT_SECONDS", "3")
    get_settings.cache_clear()

    @flow
    def second_run() -> str:
        try:
            harvest_account_task(account_id="sv-blogg", accounts_file=env["COMMUNIS_ACCOUNTS_FILE"])
        except Exception as exc:  # the slot is taken
            return type(exc).__name__
        return "harvested"

    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
        run_coro_as_sync(_ensure_limits(["harvest-sv-blogg"]))
        with concurrency("harvest-sv-blogg", occupy=1, strict=True):  # the first run, still going
            outcome = second_run()
        assert outcome != "harvested"
        assert state_of(Archive(get_settings()), "sv-blogg").runs == 0
        # Once the slot is free, taking it must not depend on how fast the server answers: the default wait.
        monkeypatch.delenv("COMMUNIS_HARVEST_LOCK_TIMEOUT_SECONDS")
        get_settings.cache_clear()
        assert second_run() == "harvested"  # once the slot is free
    assert state_of(Archive(get_settings()), "sv-blogg").runs == 1


def test_a_credential_from_a_prefect_secret_block_is_used_and_never_stored(env: dict[str, str], tmp_path: Path) -> None:
    """The accounts file names a Prefect Secret block; the flow resolves it for the harvest, and
    the value appears in no stored file."""
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    from flows.harvest import harvest

    token = "yt-key-from-a-secret-block-7c41"
    with Simulator(WorldConfig(social_token=token).resized(8)) as yt:
        accounts = tmp_path / "yt-accounts.yaml"
        accounts.write_text(
            yaml.safe_dump(
                {
                    "accounts": [
                        {
                            "id": "sv-youtube",
                            "platform": "youtube",
                            "handle": "@sundsvikkommun",
                            "display_name": "Sundsvik Play",
                            "department": "Kultur- och fritidsnämnden",
                            "retention_class": "social-10y",
                            "base_url": yt.url("youtube"),
                            "credentials": {"prefect_secret": "sundsvik-youtube-key"},
                        }
                    ]
                }
            )
        )
        with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
            Secret(value=token).save("sundsvik-youtube-key")
            state = harvest(accounts_file=str(accounts), return_state=True)
    assert state.is_completed(), state.message
    arc = Archive(get_settings())
    assert search(arc.index, SearchQuery(account="sv-youtube")).total >= 8
    stored = [k for k in arc.store.keys("") if k.startswith("warc/")]
    assert stored
    for key in stored:
        with arc.store.open(key) as handle:
            assert token.encode() not in gzip.decompress(handle.read()), key
