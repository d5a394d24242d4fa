"""Elasticsearch from Elastic's integ-test-zip on Maven Central, run as an unprivileged user.

The integ-test distribution has no bundled JDK and only core + security modules, so it is
run on a Temurin JDK ≥ 21 from /usr/lib/jvm, and nothing here configures optional modules.
Elasticsearch refuses to run as root; CI and these machines are root, so it runs as the
system user `communis` via runuser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import httpx

from ..errors import ServiceError
from .process import cache_dir, read_pid, run, stop_pid, tail, var_dir, wait_until

VERSION = "9.5.4"
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
USER = "communis"


def port() -> int:
    return int(os.environ.get("COMMUNIS_ES_PORT", "9200"))


def url() -> str:
    return f"http://127.0.0.1:{port()}"


def home() -> Path:
    """Unpacked under var/ (not the cache): the unprivileged user cannot enter /root."""
    return base() / f"elasticsearch-{VERSION}"


def base() -> Path:
    return var_dir() / "elasticsearch"


def pidfile() -> Path:
    return base() / "es.pid"


def find_jdk() -> Path:
    """A JDK ≥ 21 (Elasticsearch 9 needs it): ES_JAVA_HOME, else the newest under /usr/lib/jvm."""
    explicit = os.environ.get("ES_JAVA_HOME")
    if explicit:
        return Path(explicit)
    best: tuple[int, Path] | None = None
    for jdk in Path("/usr/lib/jvm").glob("*"):
        match = re.search(r"(\d+)", jdk.name)
        if match and (jdk / "bin" / "java").exists() and int(match.group(1)) >= 21 and (
                best is None or int(match.group(1)) > best[0]):
            best = (int(match.group(1)), jdk)
    if best is None:
        raise ServiceError("no JDK 21 or newer under /usr/lib/jvm for Elasticsearch 9",
                           hint="install a Temurin JDK ≥ 21 or set ES_JAVA_HOME")
    return best[1]


def ensure_distribution() -> Path:
    """Fetch the zip with Maven (dependency:copy) into the cache once; unpack it under var/."""
    target = home()
    if (target / "bin" / "elasticsearch").exists():
        return target
    zipped = cache_dir() / "es" / f"elasticsearch-{VERSION}.zip"
    if not zipped.exists():
        if shutil.which("mvn") is None:
            raise ServiceError("Maven (mvn) is not installed; it fetches Elasticsearch from Maven Central")
        run(["mvn", "-B", "-q", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
             f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={zipped.parent}"],
            f"downloading Elasticsearch {VERSION} from Maven Central ({ARTIFACT})")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(zipped) as zf:
            zf.extractall(staging)
    except zipfile.BadZipFile as exc:
        zipped.unlink()
        raise ServiceError(f"the Elasticsearch download {zipped} is damaged; removed it, run again") from exc
    inner = next(staging.iterdir())
    inner.rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    for script in (target / "bin").iterdir():
        script.chmod(0o755)
    return target


def _ensure_user() -> None:
    if subprocess.run(["id", "-u", USER], capture_output=True, check=False).returncode != 0:
        run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            f"creating the unprivileged user {USER!r} for Elasticsearch")


def _configure(dist: Path) -> Path:
    conf = base() / "config"
    if not conf.exists():
        shutil.copytree(dist / "config", conf)
    (base() / "data").mkdir(parents=True, exist_ok=True)
    (base() / "logs").mkdir(parents=True, exist_ok=True)
    (conf / "elasticsearch.yml").write_text(
        "cluster.name: communis-local\n"
        "node.name: communis-1\n"
        f"path.data: {base() / 'data'}\n"
        f"path.logs: {base() / 'logs'}\n"
        "network.host: 127.0.0.1\n"
        f"http.port: {port()}\n"
        "transport.port: 9300-9399\n"
        "discovery.type: single-node\n"
        "xpack.security.enabled: false\n"
        "cluster.routing.allocation.disk.threshold_enabled: false\n"
        "action.destructive_requires_name: false\n"
    )
    return conf


def healthy() -> bool:
    resp = httpx.get(f"{url()}/_cluster/health", timeout=2)
    return resp.status_code == 200 and resp.json().get("status") in {"yellow", "green"}


def version_running() -> str | None:
    """The node's version. (`GET /` is absent: the integ-test-zip lacks the rest-root module.)"""
    try:
        nodes = httpx.get(f"{url()}/_nodes/_local", params={"filter_path": "nodes.*.version"}, timeout=2)
        return str(next(iter(nodes.json()["nodes"].values()))["version"])
    except (httpx.HTTPError, KeyError, ValueError, StopIteration):
        return None


def start() -> str:
    if read_pid(pidfile()) is not None and _safe_healthy():
        return f"Elasticsearch {VERSION} already running at {url()}"
    dist = ensure_distribution()
    jdk = find_jdk()
    _ensure_user()
    conf = _configure(dist)
    run(["chown", "-R", f"{USER}:{USER}", str(base())], f"giving {base()} to {USER}")
    # The user must be able to reach var/ through the repo's parents.
    for parent in [*base().parents][:6]:
        if parent.exists():
            os.chmod(parent, os.stat(parent).st_mode | 0o011)
    env = {**os.environ, "ES_JAVA_HOME": str(jdk), "ES_PATH_CONF": str(conf),
           "ES_JAVA_OPTS": os.environ.get("COMMUNIS_ES_HEAP", "-Xms1g -Xmx1g")}
    env.pop("JAVA_HOME", None)
    log = base() / "logs" / "stdout.log"
    pidfile().unlink(missing_ok=True)
    run(["runuser", "-u", USER, "--", str(dist / "bin" / "elasticsearch"), "-d", "-p", str(pidfile())], f"starting Elasticsearch {VERSION} on {jdk.name}", env=env, timeout=300)
    wait_until(healthy, f"Elasticsearch at {url()}", 180,
               lambda: tail(base() / "logs" / "communis-local.log") or tail(log))
    return f"Elasticsearch {VERSION} on {jdk.name} at {url()}"


def _safe_healthy() -> bool:
    try:
        return healthy()
    except httpx.HTTPError:
        return False


def stop() -> bool:
    return stop_pid(pidfile(), timeout=60)


def status() -> str:
    running = version_running()
    return f"running at {url()} (Elasticsearch {running})" if running else "stopped"
