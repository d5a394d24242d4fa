"""Elasticsearch from Elastic's integ-test-zip on Maven Central, run as an unprivileged user.

The integ-test distribution has no bundled JDK and only core, transport and x-pack
core/security modules, so it runs on a JDK >= 21 from /usr/lib/jvm and nothing here
configures optional modules (a setting of an absent module stops the node from starting).
Elasticsearch refuses to run as root; these machines and CI are root, so it runs as the
system user `communis` via runuser. That user cannot enter /root, where the cache lives, so
the unpacked distribution is hard-linked into var/ (instant, no extra disk).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from ..errors import ServiceError
from . import ServiceStatus, es_access
from .process import cache_dir, maven_zip, private_json, read_pid, run, stop_service, tail, var_dir, wait_until

log = logging.getLogger(__name__)

VERSION = "9.5.4"  # newest integ-test-zip that resolves on Maven Central here
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
USER = "communis"
JAVA_OPTS = "-Xms1g -Xmx1g"
MIN_JAVA = 21
HEALTH_TIMEOUT = 120.0
# Settings x-pack-core registers even though the features are absent here; turning them off
# keeps the node from doing anything for them. Checked against `_cluster/settings?include_defaults`.
# No `ingest.geoip.*`: the ingest-geoip module is not in this distribution.
DISABLED = ("ml", "watcher", "graph", "profiling", "ent_search", "apm_data")


def port() -> int:
    return int(os.environ.get("COMMUNIS_ES_PORT", "9200"))


def url() -> str:
    return f"http://127.0.0.1:{port()}"


def _others_can_enter(path: Path) -> bool:
    """Whether every directory from / down to `path` is searchable by other users."""
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents] if p.exists())


def base() -> Path:
    """ES's folder: `var/services/elasticsearch`, or, when a parent of the clone is private (a
    clone under /root or a 0700 temp dir) and ES must run as another user, a folder under
    /var/lib/communis that `var/services/elasticsearch` links to. Nothing outside is chmodded."""
    inside = var_dir() / "elasticsearch"
    if inside.is_symlink():
        return inside.resolve()
    if os.geteuid() != 0 or inside.exists() or _others_can_enter(var_dir()):
        return inside
    digest = hashlib.sha1(str(var_dir().resolve()).encode()).hexdigest()[:12]
    outside = Path("/var/lib/communis") / f"es-{digest}"
    if outside.exists():
        # No link points at it: it is a deleted clone's node at the same path (its data, users and
        # keystore), which would start in place of a fresh one. Start clean, as a new clone must.
        log.info("removing %s, left by a clone that is gone", outside)
        shutil.rmtree(outside)
    outside.mkdir(parents=True)
    Path("/var/lib/communis").chmod(0o755)
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.symlink_to(outside, target_is_directory=True)
    return outside


def pidfile() -> Path:
    return base() / "es.pid"  # written by Elasticsearch itself (`-p`)


def _java_version(jdk: Path) -> int:
    """Major version from the JDK's `release` file (names under /usr/lib/jvm are not reliable)."""
    match = re.search(r'JAVA_VERSION="(?:1\.)?(\d+)', (jdk / "release").read_text(errors="replace"))
    return int(match.group(1)) if match else 0


def find_jdk(program: str = f"Elasticsearch {VERSION}") -> Path:
    """ES_JAVA_HOME if set, else the newest JDK >= 21 under /usr/lib/jvm (Keycloak's launcher asks too)."""
    explicit = os.environ.get("ES_JAVA_HOME")
    where = explicit or "/usr/lib/jvm"
    places = [Path(where)] if explicit else [j for j in Path(where).glob("*") if not j.is_symlink()]
    found = [(_java_version(j), j) for j in places if (j / "release").is_file() and (j / "bin" / "java").exists()]
    usable = sorted(v for v in found if v[0] >= MIN_JAVA)
    if not usable:
        raise ServiceError(
            f"no JDK {MIN_JAVA}+ at {where} for {program}",
            hint="install a Temurin JDK >= 21 or set ES_JAVA_HOME",
        )
    return usable[-1][1]


def _unpacked() -> Path:
    """The distribution in the cache: fetched once with Maven's dependency:copy, unzipped once."""
    return maven_zip(ARTIFACT, cache_dir() / "es" / f"elasticsearch-{VERSION}", f"Elasticsearch {VERSION}")


def ensure_distribution() -> Path:
    """The distribution as the ES user can read it: hard links under var/ to the cached copy."""
    home = base() / f"elasticsearch-{VERSION}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    cached = _unpacked()
    staging = home.with_name(f".{home.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # on another filesystem: copy
            shutil.copy2(src, dst)

    shutil.copytree(cached, staging, copy_function=link, symlinks=True)
    staging.rename(home)
    return home


def _es_user() -> pwd.struct_passwd | None:
    """The account ES runs as: `communis` when we are root (created once), else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            f"creating the unprivileged user {USER!r} for Elasticsearch",
        )
        return pwd.getpwnam(USER)


def _configure(dist: Path, user: pwd.struct_passwd | None) -> Path:
    conf = base() / "config"
    if not conf.exists():
        shutil.copytree(dist / "config", conf)
    for sub in ("data", "logs"):
        (base() / sub).mkdir(parents=True, exist_ok=True)
    settings = {
        "cluster.name": "communis-local",
        "node.name": "communis-1",
        "path.data": str(base() / "data"),
        "path.logs": str(base() / "logs"),
        "network.host": "127.0.0.1",
        "http.port": str(port()),
        "transport.port": "9300-9399",
        "discovery.type": "single-node",
        "xpack.security.enabled": "true",  # users and roles: archive/services/es_access.py
        "xpack.security.http.ssl.enabled": "false",  # loopback only
        "xpack.security.transport.ssl.enabled": "false",  # one node, no transport peers
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",  # tests drop their indices by wildcard
        **{f"xpack.{name}.enabled": "false" for name in DISABLED},
    }
    (conf / "elasticsearch.yml").write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
    if user is None:
        return conf
    # ES writes config (its keystore), data, logs and the pid file; the distribution stays root's.
    os.chown(base(), user.pw_uid, user.pw_gid)
    for root in (conf, base() / "data", base() / "logs"):
        if root.stat().st_uid == user.pw_uid:
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)
    probe = subprocess.run(
        ["runuser", "-u", user.pw_name, "--", "test", "-w", str(base() / "data")], capture_output=True, check=False
    )
    if probe.returncode != 0:
        raise ServiceError(
            f"user {user.pw_name!r} cannot reach {base()} (a parent directory is not searchable by others)",
            hint="chmod o+x the parents or set COMMUNIS_VAR_DIR",
        )
    return conf


def credentials() -> dict[str, str]:
    """The local node's user → password (es_access.USERS), generated on first use, 0600."""
    return _credentials()[0]


def _credentials() -> tuple[dict[str, str], bool]:
    """The passwords, and whether they were made just now (so existing users get them too)."""
    return private_json(
        var_dir() / "elasticsearch-credentials.json", es_access.new_passwords, needs=frozenset(es_access.USERS)
    )


def admin_auth() -> tuple[str, str]:
    """Basic auth of the setup user, for the launcher's own checks and the admin step."""
    return es_access.ADMIN, credentials()[es_access.ADMIN]


def health() -> dict[str, object] | None:
    """`_cluster/health` if the node answers, else None."""
    try:
        resp = httpx.get(f"{url()}/_cluster/health", timeout=2, auth=admin_auth())
        return dict(resp.json()) if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def healthy() -> bool:
    return (health() or {}).get("status") in {"yellow", "green"}


def running_version() -> str | None:
    """The node's version. (`GET /` is absent: the integ-test-zip lacks the rest-root module.)"""
    try:
        wanted = {"filter_path": "nodes.*.version,nodes.*.jvm.version"}
        nodes = httpx.get(f"{url()}/_nodes/_local", params=wanted, timeout=2, auth=admin_auth()).json()["nodes"]
        node = next(iter(nodes.values()))
        return f"{node['version']} (Java {node['jvm']['version']})"
    except (httpx.HTTPError, KeyError, ValueError, StopIteration):
        return None


def pid() -> int | None:
    """Our node's pid: the pid file's process, if it is still an Elasticsearch (pids get reused)."""
    found = read_pid(pidfile())
    try:
        return found if found and b"elasticsearch" in Path(f"/proc/{found}/cmdline").read_bytes() else None
    except OSError:
        return None


def _cause(since: int = 0, output: bytes = b"") -> str:
    """Why the node failed: the last exception it logged after `since`, else the CLI's own
    last words (e.g. a wrong Java), else the log's last lines."""
    logfile = base() / "logs" / "communis-local.log"
    try:
        with logfile.open("rb") as fh:
            fh.seek(since)
            text = fh.read().decode(errors="replace")
    except FileNotFoundError:
        text = ""
    found = re.findall(r"^[\w.$]+(?:Exception|Error): .+$", text, re.M)
    said = [ln.strip() for ln in output.decode(errors="replace").splitlines() if ln.strip()]
    return f"{found[-1][:300]} (see {logfile})" if found else " | ".join(said[-2:])[:300] if said else tail(logfile, 3)


def start() -> str:
    """Start the node unless ours is already up; return where it listens. Waits for health."""
    if pid() is not None:
        es_access.write_roles(base() / "config")  # the node reloads a changed roles file by itself
        wait_until(healthy, f"Elasticsearch at {url()}", HEALTH_TIMEOUT, _cause)
        return f"already running at {url()}"
    if health() is not None:
        raise ServiceError(
            f"port {port()} already answers as Elasticsearch not started by this launcher",
            hint="stop it or set COMMUNIS_ES_PORT",
        )
    started = time.monotonic()
    dist = ensure_distribution()
    jdk = find_jdk()
    user = _es_user()
    conf = _configure(dist, user)
    env = {**os.environ, "ES_JAVA_HOME": str(jdk), "ES_PATH_CONF": str(conf), "ES_JAVA_OPTS": JAVA_OPTS}
    env.pop("JAVA_HOME", None)
    passwords, fresh = _credentials()
    es_access.write_users(dist, conf, passwords, env, user.pw_name if user else None, fresh=fresh)
    pidfile().unlink(missing_ok=True)
    logfile = base() / "logs" / "communis-local.log"
    since = logfile.stat().st_size if logfile.exists() else 0
    cmd = [str(dist / "bin" / "elasticsearch"), "-d", "-p", str(pidfile())]
    if user is not None:
        cmd = ["runuser", "-u", user.pw_name, "--", *cmd]
    log.info(
        "starting Elasticsearch %s on %s (Java %s) as %s",
        VERSION,
        jdk,
        _java_version(jdk),
        user.pw_name if user else "current user",
    )
    try:  # `-d` returns once the node has booted, or failed to
        subprocess.run(cmd, env=env, cwd=base(), capture_output=True, timeout=HEALTH_TIMEOUT, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        said = (exc.stderr or b"") + (exc.stdout or b"")
        raise ServiceError(f"starting Elasticsearch {VERSION} failed: {_cause(since, said)}") from exc
    wait_until(healthy, f"Elasticsearch at {url()}", HEALTH_TIMEOUT, lambda: _cause(since))
    return f"started at {url()} in {time.monotonic() - started:.0f} s (JDK {jdk.name})"


def stop() -> bool:
    return stop_service(pidfile(), pid() is not None, timeout=60)


def status() -> ServiceStatus:
    if pid() is None:
        return ServiceStatus("elasticsearch", "stopped", url(), VERSION)
    found = health() or {}
    state = "running" if found.get("status") in {"yellow", "green"} else "unhealthy"
    return ServiceStatus(
        "elasticsearch", state, url(), running_version() or VERSION, f"cluster {found.get('status', 'not answering')}"
    )
