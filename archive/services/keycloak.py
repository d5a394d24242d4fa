"""A private Keycloak on loopback: the real OpenID Connect provider of the single sign-on tests.

`LocalKeycloak.start(home, realms)` runs Keycloak's own server distribution (Maven Central,
`org.keycloak:keycloak-quarkus-dist`, packaging zip, fetched once into `~/.cache/communis/keycloak`)
with `bin/kc.sh start-dev` (its embedded database) on free 127.0.0.1 ports, importing the realm JSON
files it is given (`--import-realm`), on the JDK Elasticsearch's launcher finds (Keycloak 26 needs
Java 21+). It returns once the first realm's discovery document answers: readiness is polled, never
slept for, within `COMMUNIS_KEYCLOAK_STARTUP_S` (600 s unless set: a hang guard, not a speed limit).

Each run has a home of its own (`home/keycloak`): the cached distribution hard-linked (instant, no
extra disk), but its `conf/` and `lib/quarkus/` copied, since Keycloak writes there (the build step
it runs before its first start, its database under `data/`). That build takes about as long as the
start itself, so the first run's built `lib/quarkus/` is kept in the cache and copied into later
homes: Keycloak sees its own build and starts at once.

Keycloak names itself by `hostname` (`http://localhost:PORT` unless told), so the issuer, the URLs
of its pages and those its tokens name are the same whether a browser or Communis asks. A test
reaches Communis as 127.0.0.1 and Keycloak as localhost: two sites, as in production, so the
browser's cross-site cookie rules are the real ones.

The realm's admin is made at start with a random password (`KC_BOOTSTRAP_ADMIN_*`): `admin()` calls
Keycloak's admin REST API with it (a test disables a user there, as an administrator would).
Started as a program in a session of its own; never imported by the application.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from ..errors import ServiceError
from .elasticsearch import find_jdk
from .process import cache_dir, maven_zip

log = logging.getLogger(__name__)

VERSION = "26.5.6"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
#: Seconds a start may take before it is taken as hung (about 20 s here once built, 55 s the first time).
STARTUP_S = float(os.environ.get("COMMUNIS_KEYCLOAK_STARTUP_S", "600"))
ADMIN = "communis-admin"


def distribution() -> Path:
    """The unpacked distribution in the cache (downloaded and unzipped once)."""
    return maven_zip(ARTIFACT, cache_dir() / "keycloak" / f"keycloak-{VERSION}", f"Keycloak {VERSION}")


def _built() -> Path:
    """Where the first run's build (`lib/quarkus/`) is kept for later homes."""
    return cache_dir() / "keycloak" / f"built-{VERSION}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _home(home: Path, realms: Sequence[Path]) -> Path:
    """A run's own Keycloak tree: hard links to the cache, its own conf, build and data (with the realms)."""
    dist = distribution()
    kc = home / "keycloak"
    shutil.rmtree(kc, ignore_errors=True)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another filesystem: copy
            shutil.copy2(src, dst)

    written = {(dist / "lib", "quarkus"), (dist, "conf")}  # Keycloak writes there: copied, not linked

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if (Path(folder), name) in written]

    shutil.copytree(dist, kc, copy_function=link, symlinks=True, ignore=ignore)
    shutil.copytree(dist / "conf", kc / "conf")
    built = _built()
    shutil.copytree(built if built.is_dir() else dist / "lib" / "quarkus", kc / "lib" / "quarkus")
    imports = kc / "data" / "import"
    imports.mkdir(parents=True)
    for realm in realms:
        shutil.copy2(realm, imports / realm.name)
    return kc


def _keep_build(kc: Path) -> None:
    """After a first successful start: its build into the cache, atomically (a staging copy renamed)."""
    built = _built()
    if built.is_dir():
        return
    staging = built.with_name(f".{built.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(kc / "lib" / "quarkus", staging)
    try:
        staging.rename(built)
    except OSError:  # another run kept its build first
        shutil.rmtree(staging, ignore_errors=True)


@dataclass
class LocalKeycloak:
    """A running private Keycloak."""

    home: Path
    port: int
    hostname: str
    realm: str
    admin_password: str = field(repr=False)
    process: subprocess.Popen[bytes]
    seconds: float = 0.0
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Keycloak's base URL as it names itself (browsers and Communis both use it)."""
        return f"http://{self.hostname}:{self.port}"

    def issuer(self, realm: str | None = None) -> str:
        return f"{self.url}/realms/{realm or self.realm}"

    @property
    def logfile(self) -> Path:
        return self.home / "keycloak.log"

    @classmethod
    def start(
        cls, home: Path, realms: Sequence[Path], *, hostname: str = "localhost", startup_s: float = STARTUP_S
    ) -> LocalKeycloak:
        """Start Keycloak with `realms` imported; return once the first realm's discovery document answers."""
        if not realms:
            raise ServiceError("Keycloak needs at least one realm file to import")
        first = json.loads(realms[0].read_text(encoding="utf-8"))["realm"]
        started = time.monotonic()
        home.mkdir(parents=True, exist_ok=True)
        kc = _home(home, realms)
        jdk = find_jdk(f"Keycloak {VERSION}")
        port, management = free_port(), free_port()
        password = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "JAVA_HOME": str(jdk),
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": password,
        }
        for name in ("JAVA_OPTS", "JAVA_OPTS_APPEND", "KC_DB", "KC_HOSTNAME"):
            env.pop(name, None)  # the defaults, not whatever the caller's shell has
        cmd = [
            str(kc / "bin" / "kc.sh"),
            "start-dev",
            "--http-host=127.0.0.1",
            f"--http-port={port}",
            f"--http-management-port={management}",  # its default, 9000, is MinIO's
            f"--hostname=http://{hostname}:{port}",
            "--import-realm",
        ]
        log.info("starting Keycloak %s on 127.0.0.1:%d (JDK %s)", VERSION, port, jdk.name)
        out = (home / "keycloak.log").open("wb")
        process = subprocess.Popen(cmd, env=env, cwd=kc, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        running = cls(home, port, hostname, first, password, process, _log=out)
        try:
            running._wait_ready(startup_s)
        except BaseException:
            running.stop()
            raise
        running.seconds = time.monotonic() - started
        _keep_build(kc)
        return running

    def _wait_ready(self, startup_s: float) -> None:
        """Poll the first realm's discovery document (over 127.0.0.1: where it listens) until it answers."""
        url = f"http://127.0.0.1:{self.port}/realms/{self.realm}/.well-known/openid-configuration"
        deadline = time.monotonic() + startup_s
        while True:
            try:
                if httpx.get(url, timeout=10).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            code = self.process.poll()
            if code is not None:
                raise ServiceError(f"Keycloak {VERSION} exited with {code} while starting: {self._last_words()}")
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"Keycloak {VERSION} did not answer {url} within {startup_s:.0f} s: {self._last_words()}",
                    hint="COMMUNIS_KEYCLOAK_STARTUP_S gives it longer",
                )
            time.sleep(0.25)  # the interval between two looks; the answer, not this, ends the wait

    def _last_words(self) -> str:
        try:
            lines = self.logfile.read_text(errors="replace").strip().splitlines()
        except FileNotFoundError:
            return "no log"
        found = [ln for ln in lines if " ERROR " in ln or "Exception" in ln]
        return (found[-1] if found else " | ".join(lines[-3:]))[:400] + f" (see {self.logfile})"

    # --- the admin REST API, as an administrator of the realm would use it ---------------------------

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call to `/admin/realms/...` as the bootstrap admin; a refusal raises ServiceError with its status."""
        token = httpx.post(
            f"{self.url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN,
                "password": self.admin_password,
            },
            timeout=60,
        )
        if token.status_code != 200:
            raise ServiceError(f"Keycloak refused its admin's sign-in: {token.status_code}")
        resp = httpx.request(
            method,
            f"{self.url}/admin/realms/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=60,
            **kwargs,
        )
        if resp.status_code >= 400:
            raise ServiceError(f"Keycloak admin {method} {path}: {resp.status_code} {resp.text[:200]}")
        return resp

    def user_id(self, username: str, realm: str | None = None) -> str:
        found = self.admin("GET", f"{realm or self.realm}/users", params={"username": username, "exact": "true"}).json()
        if not found:
            raise ServiceError(f"Keycloak has no user {username!r} in realm {realm or self.realm}")
        return str(found[0]["id"])

    def set_enabled(self, username: str, enabled: bool, realm: str | None = None) -> None:
        """Enable or disable a user, as the realm's administrator does in Keycloak's console."""
        where = realm or self.realm
        self.admin("PUT", f"{where}/users/{self.user_id(username, where)}", json={"enabled": enabled})

    def stop(self) -> None:
        """SIGTERM to Keycloak's process group (kc.sh passes it on), SIGKILL if it has not ended in 60 s."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> LocalKeycloak:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m archive.services.keycloak --home DIR REALM.json …`: a Keycloak to try single sign-on by hand."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--home", type=Path, required=True, help="a folder for this Keycloak's files")
    parser.add_argument("realms", type=Path, nargs="+", help="realm JSON files to import")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with LocalKeycloak.start(args.home, args.realms) as kc:
        print(f"Keycloak {VERSION} ready in {kc.seconds:.0f} s; issuer {kc.issuer()}")
        print(f"admin console {kc.url}/admin ({ADMIN} / {kc.admin_password}); Ctrl-C stops it")
        with suppress(KeyboardInterrupt):
            kc.process.wait()


if __name__ == "__main__":
    main()
