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
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

from ..errors import CommunisError
from ..index.streams import prepare as prepare_streams
from . import ServicesInfo, ServiceStatus, elasticsearch, es_access, minio, minio_access
from .process import cache_dir, private_json, var_dir, write_private

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
    """Mode 600 from the start: the file holds the application's passwords."""
    header = "# Written by `scripts/services up`; read by Communis settings. Do not commit.\n"
    write_private(var_dir() / "local.toml", header + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items()))


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


def _prepare() -> dict[str, str]:
    """The administrative step, as the admin and root users: event-stream templates on Elasticsearch,
    one MinIO user per role. Returns the settings the application runs with: the harvester's
    credentials, and the disposal role's for executing approved lists (docs/security.md)."""
    from elasticsearch import Elasticsearch

    es = Elasticsearch(elasticsearch.url(), basic_auth=elasticsearch.admin_auth(), request_timeout=60)
    try:
        prepare_streams(es)
    finally:
        es.close()
    s3 = minio_secrets()
    root = minio.credentials()
    minio_access.provision(
        minio_access.Admin(minio.url(), root["user"], root["password"], minio.REGION), s3, minio.BUCKETS
    )
    return {
        "es_username": es_access.HARVESTER,
        "es_password": elasticsearch.credentials()[es_access.HARVESTER],
        "s3_endpoint_url": minio.url(),
        "s3_bucket": minio.BUCKETS[0],
        "s3_region": minio.REGION,
        "s3_access_key": minio_access.HARVESTER,
        "s3_secret_key": s3[minio_access.HARVESTER],
        "s3_disposal_access_key": minio_access.DISPOSAL,
        "s3_disposal_secret_key": s3[minio_access.DISPOSAL],
    }


def minio_secrets() -> dict[str, str]:
    """Each MinIO role user's secret key, made on first use (0600 beside the root credentials)."""
    return private_json(minio.base() / "roles.json", minio_access.new_secrets)[0]


def role_credentials() -> dict[str, dict[str, str]]:
    """Every local credential by role, for tests and operators (`admin` and `root` set up only):
    `{"es": {user: password}, "s3": {user: secret}}`."""
    root = minio.credentials()
    return {
        "es": elasticsearch.credentials(),
        "s3": {**minio_secrets(), "root": root["password"], "root-user": root["user"]},
    }


def up() -> ServicesInfo:
    """Start MinIO and Elasticsearch (MinIO first: it is quick), wait for both, write local.toml."""
    started = time.monotonic()
    var_dir().mkdir(parents=True, exist_ok=True)
    with _locked():
        for name, start in (("minio", minio.start), ("elasticsearch", elasticsearch.start)):
            log.info("%s: %s", name, start())
        values = {"es_url": elasticsearch.url(), **_prepare()}
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
