"""Small process helpers shared by the service launchers: paths, pid files, health waits."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

import httpx

from ..errors import ServiceError

REPO = Path(__file__).resolve().parents[2]
MAVEN_COPY = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"

log = logging.getLogger(__name__)


def var_dir() -> Path:
    return Path(os.environ.get("COMMUNIS_VAR_DIR", REPO / "var")) / "services"


def cache_dir() -> Path:
    return Path(os.environ.get("COMMUNIS_CACHE_DIR", Path.home() / ".cache" / "communis"))


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, mode 600 from the first byte (it holds a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    tmp.replace(path)


def private_json(
    path: Path, make: Callable[[], dict[str, str]], *, needs: frozenset[str] = frozenset()
) -> tuple[dict[str, str], bool]:
    """The secrets kept in `path` (0600), made with `make` and written there when the file is missing or
    lacks a key of `needs`; and whether they were made just now."""
    if path.exists():
        path.chmod(0o600)
        found = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
        if needs <= set(found):
            return found, False
    made = make()
    write_private(path, json.dumps(made))
    return made, True


def run(cmd: Sequence[str], what: str, *, env: dict[str, str] | None = None, timeout: float = 1800) -> None:
    """Run a build/download step; on failure raise one line naming the step and the reason."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceError(f"{what} failed: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ServiceError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}")


def read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def stop_pid(pidfile: Path, timeout: float = 30) -> bool:
    pid = read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and read_pid(pidfile) is not None:
        with suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.3)
    if read_pid(pidfile) is not None:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return True


def stop_service(pidfile: Path, running: bool, timeout: float) -> bool:
    """Stop a service we started (True), or clear a stale pid file (False)."""
    if not running:
        pidfile.unlink(missing_ok=True)
        return False
    return stop_pid(pidfile, timeout=timeout)


def wait_until(check: Callable[[], bool], what: str, timeout: float, on_fail: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise ServiceError(f"{what} did not become healthy within {int(timeout)} s: {on_fail()}")


def tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"


def maven_zip(artifact: str, target: Path, what: str) -> Path:
    """A zip distribution from Maven Central (`group:artifact:version:zip`), unpacked at `target` in the cache:
    fetched once with Maven's dependency:copy into `target`'s folder, unzipped once (atomically, keeping
    the exec bits zipfile would drop). The zip's one top folder becomes `target`."""
    group_and_name, version = artifact.split(":")[1], artifact.split(":")[2]
    zipped = target.parent / f"{group_and_name}-{version}.zip"
    if target.is_dir() and any(target.iterdir()):
        return target
    if not zipped.exists():
        log.info("downloading %s from Maven Central (%s)", what, artifact)
        try:
            proc = subprocess.run(
                ["mvn", "-B", "-q", MAVEN_COPY, f"-Dartifact={artifact}", f"-DoutputDirectory={zipped.parent}"],
                capture_output=True,
                text=True,
                timeout=1800,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceError(f"downloading {what} with Maven failed: {exc}") from exc
        if proc.returncode != 0 or not zipped.exists():
            lines = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr).splitlines()  # mvn colours
            why = next((ln for ln in lines if "[ERROR]" in ln), lines[-1] if lines else "no output")
            raise ServiceError(f"downloading {what} ({artifact}) with Maven failed: {why.strip()}")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    log.info("unpacking %s", zipped)
    try:
        with zipfile.ZipFile(zipped) as zf:
            for info in zf.infolist():
                path = Path(zf.extract(info, staging))
                mode = info.external_attr >> 16 & 0o777
                if mode and not info.is_dir():
                    path.chmod(mode)
    except zipfile.BadZipFile as exc:
        zipped.unlink()
        raise ServiceError(f"unpacking {what} failed: {zipped} is damaged (removed it; try again)") from exc
    next(staging.iterdir()).rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target
