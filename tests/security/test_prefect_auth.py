"""Prefect's API refuses whoever does not hold its credential (issue 15, finding 11).

The shipped docker-compose.yml runs the Prefect server with `PREFECT_SERVER_API_AUTH_STRING` and gives
the worker the same string as `PREFECT_API_AUTH_STRING`. This test starts a real Prefect server the way
the compose file does and checks both halves: without the credential nothing is answered (not even the
list of deployments, which names every account's flow), and Prefect's own CLI and client work with it.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A real Prefect server with basic authentication: (API URL, the credential, the environment)."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    credential = f"communis:{secrets.token_urlsafe(16)}"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "PREFECT_SERVER_API_AUTH_STRING": credential},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def answers() -> bool:
        try:  # any HTTP answer means it is up; a 401 is what an unauthenticated caller should get
            return httpx.get(f"{api}/health", timeout=60).status_code in (200, 401)
        except httpx.HTTPError:
            return False

    def gone() -> str | None:
        code = proc.poll()
        return None if code is None else f"the Prefect server exited with {code}"

    try:
        wait_for(answers, "the Prefect server answering", gone=gone)
        yield api, credential, env
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_without_the_credential_prefect_answers_nothing(server: tuple[str, str, dict[str, str]]) -> None:
    api, credential, _ = server
    # /health stays open (it answers `true` and nothing else, for load balancers); the rest is closed.
    assert httpx.post(f"{api}/deployments/filter", json={}, timeout=60).status_code == 401
    assert httpx.post(f"{api}/flow_runs/filter", json={}, auth=("communis", "wrong"), timeout=60).status_code == 401
    user, password = credential.split(":", 1)
    assert httpx.post(f"{api}/deployments/filter", json={}, auth=(user, password), timeout=60).status_code == 200


def test_prefects_own_cli_works_with_the_credential_and_fails_without(
    server: tuple[str, str, dict[str, str]],
) -> None:
    _, credential, env = server
    create = [sys.executable, "-m", "prefect", "work-pool", "create", "communis-archive", "--type", "process"]
    refused = subprocess.run(create, env=env, capture_output=True, text=True, cwd=REPO)
    assert refused.returncode != 0
    allowed = subprocess.run(
        create, env={**env, "PREFECT_API_AUTH_STRING": credential}, capture_output=True, text=True, cwd=REPO
    )
    assert allowed.returncode == 0, allowed.stdout[-2000:] + allowed.stderr[-2000:]
    assert credential.split(":", 1)[1] not in allowed.stdout + allowed.stderr


def test_the_compose_file_runs_prefect_with_authentication() -> None:
    """The shipped deployment: the server demands the credential, the worker sends it, neither is literal."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    server_env = compose["services"]["prefect"]["environment"]
    worker_env = compose["services"]["worker"]["environment"]
    assert server_env["PREFECT_SERVER_API_AUTH_STRING"].startswith("${")
    assert worker_env["PREFECT_API_AUTH_STRING"] == server_env["PREFECT_SERVER_API_AUTH_STRING"]
    assert compose["services"]["prefect"]["ports"] == ["127.0.0.1:4200:4200"]
