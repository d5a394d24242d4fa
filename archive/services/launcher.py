"""`scripts/services up|down|status [--purge]`: the local services, idempotently.

`up` starts what is not running, waits until each is healthy, prints where each listens,
and writes `var/services/local.toml` so Communis finds them. A failed download or build is
reported as one line naming the step and why.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version

from ..errors import CommunisError
from . import elasticsearch, minio
from .process import var_dir


def _toml_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_local_config() -> None:
    creds = minio.credentials()
    values = {
        "es_url": elasticsearch.url(), "s3_endpoint_url": minio.url(), "s3_bucket": minio.BUCKETS[0],
        "s3_region": "us-east-1", "s3_access_key": creds["user"], "s3_secret_key": creds["password"],
    }
    path = var_dir() / "local.toml"
    path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items()))
    path.chmod(0o600)


def endpoints() -> dict[str, str]:
    """The local services' settings as written by `up` (empty if never started)."""
    path = var_dir() / "local.toml"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {k: str(v) for k, v in tomllib.load(fh).items()}


def _prefect() -> str:
    try:
        return f"Prefect {version('prefect')}: ephemeral local API (no server needed)"
    except PackageNotFoundError:
        return "Prefect not installed (run scripts/setup)"


def up() -> list[str]:
    var_dir().mkdir(parents=True, exist_ok=True)
    lines = [minio.start(), elasticsearch.start(), _prefect()]
    write_local_config()
    return lines


def down(purge: bool = False) -> list[str]:
    lines = [f"Elasticsearch {'stopped' if elasticsearch.stop() else 'was not running'}",
             f"MinIO {'stopped' if minio.stop() else 'was not running'}"]
    if purge:
        shutil.rmtree(var_dir(), ignore_errors=True)
        lines.append(f"removed {var_dir()}")
    return lines


def status() -> list[str]:
    return [f"elasticsearch: {elasticsearch.status()}", f"minio: {minio.status()}", f"prefect: {_prefect()}"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else "status"
    try:
        if action == "up":
            lines = up()
        elif action == "down":
            lines = down(purge="--purge" in args)
        elif action == "status":
            lines = status()
        else:
            print(f"usage: services up|down|status [--purge] (got {action!r})", file=sys.stderr)
            return 2
    except CommunisError as exc:
        print(f"services {action}: {exc.one_line()}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
