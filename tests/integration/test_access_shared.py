"""Several web hosts, one set of users: two `communis serve` processes and the CLI on one access store.

Two real `communis serve` processes (subprocesses on two free loopback ports, as two web hosts behind a
load balancer would run: same settings and index prefix, each its own data folder, each with the web
credential only) and the `communis` command as a third process. Readiness is waited for by asking
`/healthz`, never by sleeping. Nothing is shared between them but Elasticsearch, so what one process
does is seen by the others only through the access store, and there is no cache that could hide it:

- a browser session made on one host works on the other, and ends on both at sign-out on either;
- an API token works on both; revoked by the CLI, it is refused by the very next request to each;
- a user disabled by the CLI is refused (401) by the next request to each, token and session alike;
- failed sign-ins spread over both hosts count towards one lockout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest

from archive.access.users import token_digest
from archive.config import Settings
from archive.context import Archive
from archive.services import es_access
from archive.services.launcher import role_credentials
from tests.conftest import EVENTS_PREFIX, REPO, drop_access
from tests.waiting import HANG_GUARD_S, wait_for

pytestmark = pytest.mark.integration

PASSWORD = "ett lösenord för två värdar"
#: Failed sign-ins for one name before a lockout, on every host (COMMUNIS_LOGIN_MAX_FAILURES_PER_USER).
MAX_FAILURES = 3


@dataclass
class Installation:
    """Two web hosts (base URLs) and a CLI, on one index prefix."""

    hosts: list[str]
    env: dict[str, str]
    settings: Settings

    def communis(self, *args: str, token: str | None = None, stdin: str | None = None) -> str:
        """Run `communis ARGS` as a separate process (signed in with `token`); its stdout, or fail with stderr."""
        env = {**self.env, **({"COMMUNIS_TOKEN": token} if token else {})}
        done = subprocess.run(
            [sys.executable, "-m", "archive", *args],
            env=env,
            cwd=REPO,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=HANG_GUARD_S,
        )
        assert done.returncode == 0, f"communis {' '.join(args)}: {done.stderr}"
        return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(settings: Settings, root: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("COMMUNIS_") or k == "COMMUNIS_HTTP_ALLOWED_NETWORKS"
    }
    return {
        **env,
        "COMMUNIS_STORE_PATH": str(settings.store_path),
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": EVENTS_PREFIX,
        "COMMUNIS_LOGIN_MAX_FAILURES_PER_USER": str(MAX_FAILURES),
        "COMMUNIS_DATA_DIR": str(root / "cli"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "PYTHONPATH": str(REPO),
    }


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    root = tmp_path_factory.mktemp("two-hosts")
    settings = Settings(
        data_dir=root / "cli",
        store_path=root / "store",
        es_index_prefix=f"test-hosts-{uuid.uuid4().hex[:8]}",
        events_prefix=EVENTS_PREFIX,
    )
    arc = Archive(settings)
    arc.index.ensure()  # an empty archive to search: what is tested is who may
    env = _environment(settings, root)
    web = {"COMMUNIS_ES_USERNAME": es_access.WEB, "COMMUNIS_ES_PASSWORD": role_credentials()["es"][es_access.WEB]}
    processes: list[subprocess.Popen[bytes]] = []
    hosts = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            logfile = (root / f"serve-{name}.log").open("wb")
            proc = subprocess.Popen(
                [sys.executable, "-m", "archive", "serve", "--port", str(port)],
                env={**env, **web, "COMMUNIS_DATA_DIR": str(root / f"host-{name}")},
                cwd=REPO,
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )
            processes.append(proc)
            hosts.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(hosts, processes, strict=True):
            wait_for(partial(_healthy, url), f"communis serve at {url}", gone=partial(_exited, proc, root))
        yield Installation(hosts, env, settings)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.wait(timeout=60)
        arc.index.destroy()
        drop_access(settings)


def _exited(proc: subprocess.Popen[bytes], root: Path) -> str | None:
    """Why waiting for a host is pointless: it has exited (with the last lines it wrote)."""
    if proc.poll() is None:
        return None
    said = " | ".join(p.read_text(errors="replace").strip()[-500:] for p in root.glob("serve-*.log"))
    return f"it exited with {proc.returncode}: {said}"


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _status(url: str, *, token: str | None = None, cookie: str | None = None) -> int:
    """The status of an archivist's search on `url`, with a token or a session cookie."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    cookies = {"communis_session": cookie} if cookie else {}
    return httpx.get(f"{url}/api/records", headers=headers, cookies=cookies, timeout=300).status_code


def _sign_in(url: str, name: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{url}/login", data={"name": name, "password": password, "next": "/"}, timeout=300, follow_redirects=False
    )


@pytest.fixture(scope="module")
def admin_token(installation: Installation) -> str:
    """The installation's first admin, added by the CLI (no sign-in yet)."""
    out = installation.communis("user", "add", "admin", "--role", "admin")
    return out.strip().splitlines()[-1]


def _archivist(installation: Installation, admin_token: str) -> tuple[str, str]:
    """A new archivist with a password, added by the CLI as the admin; (name, API token)."""
    name = f"arkivarie-{uuid.uuid4().hex[:6]}"
    out = installation.communis(
        "user", "add", name, "--role", "archivist", "--password-stdin", token=admin_token, stdin=PASSWORD + "\n"
    )
    return name, out.strip().splitlines()[-1]


def test_a_session_made_on_one_host_works_on_the_other_and_ends_on_both(
    installation: Installation, admin_token: str
) -> None:
    a, b = installation.hosts
    name, _ = _archivist(installation, admin_token)
    signed_in = _sign_in(a, name, PASSWORD)
    assert signed_in.status_code == 303, signed_in.text
    cookie = signed_in.cookies["communis_session"]
    assert _status(a, cookie=cookie) == 200 and _status(b, cookie=cookie) == 200
    out = httpx.post(
        f"{b}/logout", cookies={"communis_session": cookie}, headers={"Sec-Fetch-Site": "same-origin"}, timeout=300
    )
    assert out.status_code == 303
    assert _status(a, cookie=cookie) == 401 and _status(b, cookie=cookie) == 401


def test_a_token_works_on_both_hosts_until_the_cli_revokes_it(installation: Installation, admin_token: str) -> None:
    a, b = installation.hosts
    name, first = _archivist(installation, admin_token)
    second = installation.communis("user", "token", "new", name, "--days", "1", token=admin_token).strip().split()[-1]
    assert [_status(h, token=t) for h in (a, b) for t in (first, second)] == [200, 200, 200, 200]
    installation.communis("user", "token", "revoke", name, token_digest(first)[:12], token=admin_token)
    assert _status(a, token=first) == 401 and _status(b, token=first) == 401
    assert _status(a, token=second) == 200 and _status(b, token=second) == 200, "the user's other token still works"


def test_a_user_disabled_by_the_cli_is_refused_by_the_next_request_on_both_hosts(
    installation: Installation, admin_token: str
) -> None:
    a, b = installation.hosts
    name, token = _archivist(installation, admin_token)
    on_a = _sign_in(a, name, PASSWORD).cookies["communis_session"]
    on_b = _sign_in(b, name, PASSWORD).cookies["communis_session"]
    assert [_status(h, token=token) for h in (a, b)] == [200, 200]
    assert [_status(h, cookie=c) for h in (a, b) for c in (on_a, on_b)] == [200] * 4
    installation.communis("user", "disable", name, token=admin_token)
    assert [_status(h, token=token) for h in (a, b)] == [401, 401]
    assert [_status(h, cookie=c) for h in (a, b) for c in (on_a, on_b)] == [401] * 4
    assert [_sign_in(h, name, PASSWORD).status_code for h in (a, b)] == [401, 401]


def test_failed_sign_ins_on_both_hosts_count_towards_one_lockout(installation: Installation, admin_token: str) -> None:
    a, b = installation.hosts
    name, _ = _archivist(installation, admin_token)
    tried = [_sign_in(h, name, "fel lösenord").status_code for h in (a, b, a)]  # MAX_FAILURES, spread over both
    assert tried == [401, 401, 401]
    assert _sign_in(b, name, PASSWORD).status_code == 429, "locked on the host that saw one failure only"
    assert _sign_in(a, name, PASSWORD).status_code == 429
