"""MinIO built from source with `go install` (its official install route), with Object Lock buckets.

Root credentials are generated on first start and kept in var/ (mode 600), never in the
repository. Buckets are created with Object Lock enabled, which also makes them versioned.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import ClientError

from ..errors import ServiceError
from .process import cache_dir, read_pid, run, stop_pid, tail, var_dir, wait_until

MODULE = "github.com/minio/minio"
VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"  # the only version the Go module proxy lists
BUCKETS = ("communis-archive", "communis-test")


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


def ensure_binary() -> Path:
    """Build once per pinned version; a stamp file makes a pin change rebuild."""
    stamp = cache_dir() / "bin" / "minio.version"
    if binary().exists() and stamp.exists() and stamp.read_text().strip() == VERSION:
        return binary()
    if shutil.which("go") is None:
        raise ServiceError("Go is not installed; MinIO is built with `go install`")
    binary().parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(binary().parent), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    run(["go", "install", f"{MODULE}@{VERSION}"], f"building MinIO with go install {MODULE}@{VERSION}",
        env=env, timeout=3600)
    stamp.write_text(VERSION)
    return binary()


def credentials() -> dict[str, str]:
    path = base() / "credentials.json"
    if not path.exists():
        base().mkdir(parents=True, exist_ok=True)
        creds = {"user": "communis-" + secrets.token_hex(4), "password": secrets.token_urlsafe(24)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(creds, fh)
    return dict(json.loads(path.read_text()))


def healthy() -> bool:
    return httpx.get(f"{url()}/minio/health/ready", timeout=2).status_code == 200


def _safe_healthy() -> bool:
    try:
        return healthy()
    except httpx.HTTPError:
        return False


def client() -> object:
    creds = credentials()
    return boto3.client("s3", endpoint_url=url(), region_name="us-east-1", aws_access_key_id=creds["user"],
                        aws_secret_access_key=creds["password"], config=Config(s3={"addressing_style": "path"}))


def ensure_buckets() -> None:
    s3 = client()
    for bucket in BUCKETS:
        try:
            s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise ServiceError(f"creating bucket {bucket} failed: {exc}") from exc
        conf = s3.get_object_lock_configuration(Bucket=bucket)  # type: ignore[attr-defined]
        if conf["ObjectLockConfiguration"]["ObjectLockEnabled"] != "Enabled":
            raise ServiceError(f"bucket {bucket} exists without Object Lock",
                               hint="run `scripts/services down --purge` and up again")


def start() -> str:
    if read_pid(pidfile()) is not None and _safe_healthy():
        ensure_buckets()
        return f"MinIO already running at {url()}"
    exe = ensure_binary()
    creds = credentials()
    data = base() / "data"
    data.mkdir(parents=True, exist_ok=True)
    log = base() / "minio.log"
    env = {**os.environ, "MINIO_ROOT_USER": creds["user"], "MINIO_ROOT_PASSWORD": creds["password"],
           "MINIO_BROWSER": "off", "MINIO_UPDATE": "off"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(exe), "server", str(data), "--address", f"127.0.0.1:{port()}", "--console-address",
             f"127.0.0.1:{port() + 1}", "--quiet"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    pidfile().write_text(str(proc.pid))
    wait_until(healthy, f"MinIO at {url()}", 60, lambda: tail(log))
    ensure_buckets()
    return f"MinIO ({VERSION}) at {url()}, buckets {', '.join(BUCKETS)} with Object Lock"


def stop() -> bool:
    return stop_pid(pidfile())


def status() -> str:
    return f"running at {url()}" if _safe_healthy() else "stopped"
