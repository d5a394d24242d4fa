"""Who may do what on the local Elasticsearch: the users and roles `services up` creates.

The local node runs with x-pack security on. Its users live in the file realm (`config/users`,
`config/users_roles`, `config/roles.yml`): the integ-test distribution cannot hold native users
or API keys (its `.security` index needs an analysis module it lacks), and files are also what an
operator can read and review. Three users, each with a random password kept in
`var/services/credentials.json` (0600):

- `communis-admin` (superuser): setup only. It puts the event-stream templates
  (archive/index/setup.py), drops indices for a reindex and cleans up after tests. No
  process of the application runs with it.
- `communis-harvester`: the harvest flows, ingest, retention and the CLI. It may create, write
  and manage the record index, the request-case indices and the harvest table (derived data: a
  reindex rebuilds them from the WARC files), and only `create_doc` on the audit and PREMIS streams: it can add
  events, never overwrite, delete or roll over one, nor touch index templates (a template can
  give a stream a lifecycle that deletes it).
- `communis-web`: `communis serve`. Reads records and the harvest table (account health), writes
  what legal staff do through the web (hold marks, request cases), adds audit and PREMIS events; creates
  no index but the access store.

Both application users read and write the access store `*-access` (users, token and session hashes,
the sign-in throttle: archive/index/access_store.py): every web host checks tokens and sessions and
counts failed sign-ins there, and the CLI adds and disables users. Either may create it (the first
write of a fresh installation can come from either). The harvester may also drop it (test and
benchmark clean-up), which adds nothing to what `write` allows already (deleting every document);
the web may not, nor close it.

Index names are patterns, so every installation prefix (and every test's own prefix) is covered.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from typing import Any

from ..errors import ServiceError

ADMIN = "communis-admin"
HARVESTER = "communis-harvester"
WEB = "communis-web"
USERS = {ADMIN: "superuser", HARVESTER: "communis_harvester", WEB: "communis_web"}

RECORD_INDICES = ["*-records", "*-records-v*", "*-cases", "*-case-*"]
HARVEST_TABLE = ["*-harvest"]
#: Published counts and completeness rows: written by the harvest, read by the web app.
COMPLETENESS = ["*-counts", "*-completeness"]
#: Users, token and session hashes, the sign-in throttle: the installation's trust store.
ACCESS = ["*-access"]
_ACCESS_RW = ["read", "write", "create_index", "view_index_metadata", "indices:admin/refresh*"]
EVENT_STREAMS = ["*-audit", "*-premis"]
EVENT_BACKING = [".ds-*-audit-*", ".ds-*-premis-*"]

_APPEND_ONLY = ["create_doc", "auto_configure", "read", "view_index_metadata", "indices:admin/refresh*"]

ROLES: dict[str, dict[str, Any]] = {
    "communis_harvester": {
        "cluster": ["monitor", "cluster:admin/analyze"],  # analyze: which language analyzers exist
        "indices": [
            {"names": RECORD_INDICES, "privileges": ["read", "write", "create_index", "view_index_metadata", "manage"]},
            {"names": HARVEST_TABLE, "privileges": ["read", "write", "create_index", "view_index_metadata", "manage"]},
            {"names": COMPLETENESS, "privileges": ["read", "write", "create_index", "view_index_metadata", "manage"]},
            {"names": ACCESS, "privileges": [*_ACCESS_RW, "delete_index"]},
            {"names": EVENT_STREAMS, "privileges": _APPEND_ONLY},
            {"names": EVENT_BACKING, "privileges": ["read", "view_index_metadata"]},
        ],
    },
    "communis_web": {
        "cluster": ["monitor", "cluster:admin/analyze"],  # analyze: which language analyzers exist
        "indices": [
            {"names": RECORD_INDICES, "privileges": ["read", "write", "view_index_metadata", "indices:admin/refresh*"]},
            {"names": HARVEST_TABLE, "privileges": ["read", "view_index_metadata"]},
            {"names": COMPLETENESS, "privileges": ["read", "view_index_metadata"]},
            {"names": ACCESS, "privileges": _ACCESS_RW},
            {"names": EVENT_STREAMS, "privileges": _APPEND_ONLY},
            {"names": EVENT_BACKING, "privileges": ["read", "view_index_metadata"]},
        ],
    },
}


def roles_yaml() -> str:
    """`config/roles.yml` for ROLES (JSON is valid YAML, and needs no YAML writer)."""
    import json

    return "".join(f"{name}: {json.dumps(body)}\n" for name, body in ROLES.items())


def write_roles(conf: Path) -> None:
    """Write `roles.yml` if it differs (atomically: the running node watches the file and reloads it)."""
    path = conf / "roles.yml"
    if _read(path) == roles_yaml():
        return
    tmp = path.with_name(".roles.yml.tmp")
    tmp.write_text(roles_yaml())
    tmp.chmod(0o644)
    tmp.replace(path)


def new_passwords() -> dict[str, str]:
    return {name: secrets.token_urlsafe(24) for name in USERS}


def write_users(
    es_home: Path, conf: Path, passwords: dict[str, str], env: dict[str, str], as_user: str | None, *, fresh: bool
) -> None:
    """Add each missing user to the file realm with `elasticsearch-users` (the distribution's own tool);
    `fresh` passwords (a new credentials file) are also set on users already there.

    Passwords travel in the tool's argv, visible in /proc while it runs; this is a loopback
    development node whose credentials file sits next to it, so that is accepted here.
    """
    write_roles(conf)
    existing = {line.split(":", 1)[0] for line in _read(conf / "users").splitlines() if ":" in line}
    for name, role in USERS.items():
        if name in existing and not fresh:
            continue
        tool = str(es_home / "bin" / "elasticsearch-users")
        if name in existing:
            cmd = [tool, "passwd", name, "-p", passwords[name]]
        else:
            cmd = [tool, "useradd", name, "-p", passwords[name], "-r", role]
        if as_user is not None:
            cmd = ["runuser", "-u", as_user, "--", *cmd]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300)
        if proc.returncode != 0:
            said = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
            raise ServiceError(f"adding the Elasticsearch user {name} failed (exit {proc.returncode}): {said}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
