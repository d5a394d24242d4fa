"""`scripts/services up|down|status [--purge]`: the local services, idempotently.

`up` starts what is not running, waits until each is healthy, prints where each listens,
and writes `var/services/local.toml`, which the app's settings read to find them. A failed
download, build or start is reported as one line naming the step and why, and a non-zero
exit. A lock in the cache serialises concurrent `up`/`down` (parallel CI jobs, two shells)
so two launchers never build, unpack or start the same thing at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

from ..errors import CommunisError
from . import ServicesInfo, ServiceStatus, elasticsearch, minio
from .process import cache_dir, var_dir

log = logging.getLogger(__name__)

__all__ = ["ServiceStatus", "ServicesInfo", "down", "endpoints", "main", "status", "up"]


@contextmanager
def _locked() -> Iterator[None]:
    cache_dir().mkdir(parents=True, exist_ok=True)
    with (cache_dir() / "services.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another `services` command is running; waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _toml_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_local_config(values: dict[str, str]) -> None:
    """Atomically, mode 600 from the start: the file holds the MinIO root password."""
    path = var_dir() / "local.toml"
    tmp = path.with_suffix(".toml.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# Written by `scripts/services up`; read by Communis settings. Do not commit.\n")
        fh.writelines(f"{key} = {_toml_value(value)}\n" for key, value in values.items())
    tmp.replace(path)


def endpoints() -> dict[str, str]:
    """The local services' settings as `up` last wrote them (empty if never started)."""
    path = var_dir() / "local.toml"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {key: str(value) for key, value in tomllib.load(fh).items()}


def _prefect() -> ServiceStatus:
    """Prefect runs its API in-process (ephemeral); report the installed version only."""
    try:
        return ServiceStatus("prefect", "n/a", "", version("prefect"), "ephemeral API (no server needed)")
    except PackageNotFoundError:
        return ServiceStatus("prefect", "n/a", "", "not installed", "run scripts/setup")


def up() -> ServicesInfo:
    """Start MinIO and Elasticsearch (MinIO first: it is quick), wait for both, write local.toml."""
    started = time.monotonic()
    var_dir().mkdir(parents=True, exist_ok=True)
    with _locked():
        for name, start in (("minio", minio.start), ("elasticsearch", elasticsearch.start)):
            log.info("%s: %s", name, start())
        creds = minio.credentials()
        values = {
            "es_url": elasticsearch.url(),
            "s3_endpoint_url": minio.url(),
            "s3_bucket": minio.BUCKETS[0],
            "s3_region": minio.REGION,
            "s3_access_key": creds["user"],
            "s3_secret_key": creds["password"],
        }
        if endpoints() != values:
            _write_local_config(values)
    return ServicesInfo(
        **values, config_file=var_dir() / "local.toml", services=status(), seconds=time.monotonic() - started
    )


def down(purge: bool = False) -> list[str]:
    """Stop both services (SIGTERM, then SIGKILL after a timeout); `purge` also deletes their data."""
    with _locked():
        lines = [
            f"{name}: {'stopped' if stop() else 'was not running'}"
            for name, stop in (("elasticsearch", elasticsearch.stop), ("minio", minio.stop))
        ]
        if purge and var_dir().exists():
            shutil.rmtree(var_dir())
            lines.append(f"removed {var_dir()}")
    return lines


def status() -> list[ServiceStatus]:
    return [elasticsearch.status(), minio.status(), _prefect()]


def main(argv: list[str] | None = None) -> int:
    """CLI entry (also used by `communis services`): result lines on stdout, errors as one line."""
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else "status"
    extra = [a for a in args[1:] if not (action == "down" and a == "--purge")]
    if action not in {"up", "down", "status"} or extra:
        print("usage: services up|down|status [--purge]", file=sys.stderr)
        return 2
    try:
        if action == "up":
            info = up()
            lines = [s.line() for s in info.services]
            lines.append(f"config  {info.config_file} (ready in {info.seconds:.1f} s)")
        elif action == "down":
            lines = down(purge="--purge" in args)
        else:
            lines = [s.line() for s in status()]
    except CommunisError as exc:
        print(f"services {action}: {' '.join(exc.one_line().split())}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    # Progress from our modules only (under `-m` this one's logger is `__main__`), not httpx/boto.
    progress = logging.StreamHandler(sys.stderr)
    progress.setFormatter(logging.Formatter("services: %(message)s"))
    progress.addFilter(lambda record: record.name.startswith(("archive.", "__main__")))
    logging.basicConfig(level=logging.INFO, handlers=[progress])
    sys.exit(main())
