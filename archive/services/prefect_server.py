"""A private local Prefect server with process workers: for the scale-out tests, benchmarks and scripts.

`LocalPrefect.start(home)` runs `prefect server start` on a free loopback port with its own
`PREFECT_HOME` (so its own SQLite database) under `home`, and waits until it answers; `deploy`,
`start_worker` and `stop` do the rest. Every process is started in a session of its own, so
`kill_worker` can SIGKILL a worker's whole process group, as a lost machine would end it.

This module starts Prefect as a program (`python -m prefect`) and speaks to it over HTTP: it
never imports Prefect (archive/ does not).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from ..errors import ServiceError
from .process import REPO

POOL = "communis-archive"
"""The process work pool of prefect.yaml."""
#: How long the processes of a SIGKILLed worker may take to go (a bound, not a wait: they go at once).
KILL_WAIT_S = 60.0
QUICK = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_WORKER_QUERY_SECONDS": "1",  # a worker asks for scheduled runs every second, not every 10
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "1",  # expired slot leases are revoked within a second
}
"""Settings for a private server that answers quickly: what tests and benchmarks want, not production's needs."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalPrefect:
    """A running private Prefect server and the workers started against it."""

    home: Path
    port: int
    env: dict[str, str]
    """The environment of the server and every command and worker started against it."""
    server: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @classmethod
    def start(cls, home: Path, env: Mapping[str, str] | None = None, *, startup_s: float = 600) -> LocalPrefect:
        """Start the server; return once it answers `/health` (a server that exits fails at once)."""
        home.mkdir(parents=True, exist_ok=True)
        # Workers and flow runs make temporary folders (`prefect-workspace-attempt-*`) that a killed
        # worker never removes: they go under the home, which the caller removes with the rest.
        scratch = home / "tmp"
        scratch.mkdir(exist_ok=True)
        port = free_port()
        full = {
            **os.environ,
            **QUICK,
            **(env or {}),
            "PREFECT_HOME": str(home / "prefect"),
            "TMPDIR": str(scratch),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        }
        log = (home / "server.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=full,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        running = cls(home, port, full, server, _logs=[log])
        try:
            running.wait(lambda: running._answers("/health"), "the Prefect server answering /health", startup_s)
        except BaseException:
            running.stop()
            raise
        return running

    def _answers(self, path: str) -> bool:
        try:
            return httpx.get(self.api_url + path, timeout=60).status_code == 200
        except httpx.HTTPError:
            return False

    def wait(self, condition: Any, what: str, guard_s: float) -> Any:
        """`condition()`'s first truthy value, asked every 0.2 s; fails at once if the server exits."""
        started = time.monotonic()
        while True:
            found = condition()
            if found:
                return found
            code = self.server.poll()
            if code is not None:
                raise ServiceError(f"{what}: the Prefect server exited with {code}; see {self.home / 'server.log'}")
            if time.monotonic() - started > guard_s:
                raise ServiceError(f"{what}: not so after {guard_s:.0f} s; see {self.home / 'server.log'}")
            time.sleep(0.2)

    def prefect(self, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
        """Run one `prefect` command against this server; a failure raises one line with its output's tail."""
        done = subprocess.run(
            [sys.executable, "-m", "prefect", "--no-prompt", *args],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-6:])
            raise ServiceError(f"prefect {' '.join(args)} failed (exit {done.returncode}): {tail}")
        return done

    def deploy(self, names: Iterable[str], *, communis_home: Path = REPO) -> None:
        """Create the process pool and deploy the named deployments of `communis_home`'s prefect.yaml."""
        self.env["COMMUNIS_HOME"] = str(communis_home)
        with suppress(ServiceError):  # already there
            self.prefect("work-pool", "create", POOL, "--type", "process")
        self.prefect("deploy", *(arg for name in names for arg in ("--name", name)), cwd=communis_home)

    def start_worker(self, name: str, env: Mapping[str, str] | None = None, *, limit: int | None = None) -> None:
        """A `prefect worker start --pool communis-archive` process named `name`, logging to `home/<name>.log`."""
        log = (self.home / f"{name}.log").open("wb")
        self._logs.append(log)
        cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--name", name]
        if limit is not None:
            cmd += ["--limit", str(limit)]
        self.workers[name] = subprocess.Popen(
            cmd,
            env={**self.env, **(env or {})},
            cwd=self.env.get("COMMUNIS_HOME", str(REPO)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_of(self, pid: int) -> str | None:
        """The worker whose process tree `pid` belongs to (its flow runs are its children, in sessions of their own)."""
        by_pid = {proc.pid: name for name, proc in self.workers.items()}
        while pid > 1:
            if pid in by_pid:
                return by_pid[pid]
            parent = _parent(pid)
            if parent is None:
                return None
            pid = parent
        return None

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's process group and the process group of every process under it (the process
        worker starts each flow run in a session of its own): everything a lost machine would take with it."""
        proc = self.workers.pop(name)
        under = _descendants(proc.pid)
        groups = {proc.pid} | {_group(pid) for pid in under}
        for group in groups - {None}:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)  # type: ignore[arg-type]
        proc.wait()
        # A SIGKILL is acted on when its process next runs: the flow runs' processes (not our children,
        # so not reaped by the wait above) may still look alive for a moment. Wait until each is gone, so
        # the caller sees the machine's loss complete.
        deadline = time.monotonic() + KILL_WAIT_S
        while (left := [pid for pid in under if alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if left:
            raise ServiceError(f"processes {left} of worker {name} outlived SIGKILL for {KILL_WAIT_S:.0f} s")

    def stop(self) -> None:
        """SIGKILL every worker and the server (nothing of theirs is worth a graceful end), then close the logs."""
        for name in list(self.workers):
            self.kill_worker(name)
        with suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()
        for log in self._logs:
            log.close()

    def __enter__(self) -> LocalPrefect:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # field 4, after the command name in parentheses


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a killed one waiting to be reaped, a zombie, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _descendants(root: int) -> set[int]:
    """Every live process under `root` (children, their children …), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := _parent(int(entry.name))) is not None:
            parents[int(entry.name)] = parent
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
