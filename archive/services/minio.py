"""MinIO built from source with `go install` (its official install route), with Object Lock buckets.

The binary is built once per pinned version into the cache; a stamp next to it records the
version so changing the pin rebuilds. Root credentials are generated on first start and kept
in var/ (mode 600), never in the repository. Buckets are created with Object Lock enabled,
which can only be chosen at creation and also makes them versioned.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from ..errors import ServiceError
from . import ServiceStatus
from .process import cache_dir, private_json, read_pid, run, stop_service, tail, var_dir, wait_until

log = logging.getLogger(__name__)

MODULE = "github.com/minio/minio"
VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"  # the only version the Go module proxy lists
BUCKETS = ("communis-archive", "communis-test")
REGION = "us-east-1"
HEALTH_TIMEOUT = 60.0
BUILD_TIMEOUT = 3600.0


def port() -> int:
    return int(os.environ.get("COMMUNIS_MINIO_PORT", "9000"))


def url() -> str:
    return f"http://127.0.0.1:{port()}"


def base() -> Path:
    return var_dir() / "minio"


def pidfile() -> Path:
    return base() / "minio.pid"


def binary() -> Path:
    return cache_dir() / "bin" / "minio"


def _stamp() -> Path:
    return binary().with_name("minio.version")


def _built_version() -> str | None:
    """The pin the cached binary was built from: its stamp, else what the binary itself records."""
    if not binary().exists():
        return None
    if _stamp().exists():
        return _stamp().read_text().strip()
    if shutil.which("go") is None:
        return None
    info = subprocess.run(["go", "version", "-m", str(binary())], capture_output=True, text=True, check=False)
    for line in info.stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["mod", MODULE] and len(parts) > 2:
            _stamp().write_text(parts[2])
            return parts[2]
    return None


def _running_build() -> int | None:
    """A `go install` of MinIO already running (e.g. started in the background): wait for it."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = proc.joinpath("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"install" in cmd and any(arg.startswith(MODULE.encode() + b"@") for arg in cmd):
            return int(proc.name)
    return None


def ensure_binary() -> Path:
    """The binary for the pinned version, building it (minutes) only if the cache lacks it."""
    other = _running_build()
    if other is not None:
        log.info("waiting for the MinIO build already running (pid %d)", other)
        deadline = time.monotonic() + BUILD_TIMEOUT
        while _running_build() is not None and time.monotonic() < deadline:
            time.sleep(2)
    if _built_version() == VERSION:
        return binary()
    if shutil.which("go") is None:
        raise ServiceError("building MinIO failed: Go is not installed (MinIO is built with `go install`)")
    binary().parent.mkdir(parents=True, exist_ok=True)
    _stamp().unlink(missing_ok=True)
    log.info("building MinIO %s with go install (takes several minutes the first time)", VERSION)
    env = {**os.environ, "GOBIN": str(binary().parent), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    run(
        ["go", "install", f"{MODULE}@{VERSION}"], f"building MinIO ({MODULE}@{VERSION})", env=env, timeout=BUILD_TIMEOUT
    )
    _stamp().write_text(VERSION + "\n")
    return binary()


def credentials() -> dict[str, str]:
    """Root user and password, generated on first use; the file is readable by root only."""
    return private_json(
        base() / "credentials.json",
        lambda: {"user": "communis-" + secrets.token_hex(4), "password": secrets.token_urlsafe(24)},
    )[0]


def healthy() -> bool:
    try:
        return httpx.get(f"{url()}/minio/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def pid() -> int | None:
    """Our server's pid: the pid file's process, if it is still MinIO (pids get reused)."""
    found = read_pid(pidfile())
    try:
        return found if found and b"minio" in Path(f"/proc/{found}/cmdline").read_bytes() else None
    except OSError:
        return None


def client() -> Any:
    """A boto3 S3 client for the local server (imported here: boto3 is slow to import)."""
    import boto3
    from botocore.config import Config

    creds = credentials()
    return boto3.client(
        "s3",
        endpoint_url=url(),
        region_name=REGION,
        aws_access_key_id=creds["user"],
        aws_secret_access_key=creds["password"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def ensure_buckets() -> None:
    """Create the buckets with Object Lock if missing, and check an existing one has it."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client()
    for bucket in BUCKETS:
        try:
            try:
                s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
                log.info("created bucket %s with Object Lock", bucket)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
            lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        except (ClientError, BotoCoreError) as exc:
            raise ServiceError(f"creating MinIO bucket {bucket} failed: {exc}") from exc
        if lock.get("ObjectLockEnabled") != "Enabled":
            raise ServiceError(
                f"MinIO bucket {bucket} exists without Object Lock",
                hint="run `scripts/services down --purge` and up again",
            )


def _port_busy(number: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", number)) == 0


def start() -> str:
    """Start the server unless ours is already up, wait until ready, ensure the buckets."""
    if pid() is not None:
        wait_until(healthy, f"MinIO at {url()}", HEALTH_TIMEOUT, lambda: tail(base() / "minio.log", 3))
        ensure_buckets()
        return f"already running at {url()}"
    busy = [p for p in (port(), port() + 1) if _port_busy(p)]
    if busy:
        raise ServiceError(
            f"port {busy[0]} is in use by a process this launcher did not start",
            hint="stop it or set COMMUNIS_MINIO_PORT",
        )
    started = time.monotonic()
    exe = ensure_binary()
    creds = credentials()
    data = base() / "data"
    data.mkdir(parents=True, exist_ok=True)
    logfile = base() / "minio.log"
    env = {
        **os.environ,
        "MINIO_ROOT_USER": creds["user"],
        "MINIO_ROOT_PASSWORD": creds["password"],
        "MINIO_UPDATE": "off",
    }
    cmd = [
        str(exe),
        "server",
        str(data),
        "--address",
        f"127.0.0.1:{port()}",
        "--console-address",
        f"127.0.0.1:{port() + 1}",
        "--quiet",
    ]  # quiet: no credentials in the log
    fd = os.open(logfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=base(),
            start_new_session=True,
        )
    pidfile().write_text(f"{proc.pid}\n")

    def ready() -> bool:
        if proc.poll() is not None:
            raise ServiceError(f"MinIO exited during startup (exit {proc.returncode}): {tail(logfile, 3)}")
        return healthy()

    wait_until(ready, f"MinIO at {url()}", HEALTH_TIMEOUT, lambda: tail(logfile, 3))
    ensure_buckets()
    return f"started at {url()} in {time.monotonic() - started:.0f} s (console 127.0.0.1:{port() + 1})"


def stop() -> bool:
    return stop_service(pidfile(), pid() is not None, timeout=30)


def status() -> ServiceStatus:
    built = _built_version() or "not built"
    if pid() is None:
        return ServiceStatus("minio", "stopped", url(), built)
    if not healthy():
        return ServiceStatus("minio", "unhealthy", url(), built, "process up, not ready")
    return ServiceStatus("minio", "running", url(), built, f"buckets {', '.join(BUCKETS)} (Object Lock)")
