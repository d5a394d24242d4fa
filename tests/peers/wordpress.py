"""A real WordPress as a test peer: Debian's `wordpress` package on MariaDB and PHP's built-in server.

`scripts/system-packages` installs the packages; this module runs them for one test session, all
under a temporary folder and on loopback: MariaDB with its own data directory, listening on a
socket only (no TCP); PHP's built-in server on a free 127.0.0.1 port with `wordpress/router.php`
as Apache's rewrite rules would route. WordPress gets a tree of its own (symbolic links to
/usr/share/wordpress, its own wp-config.php and wp-content), so nothing of the machine's
configuration (/etc/wordpress) is read or written. WP-Cron, mail and outgoing HTTP are off.

Content is made and changed through WordPress's own PHP API (`wordpress/peer.php`, run with
php-cli), and what the public sees, as the ground truth tests compare the archive with, is read
the same way. Readiness is polled (tests/waiting.py), never slept for.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import wait_for

HERE = Path(__file__).resolve().parent / "wordpress"
WORDPRESS = Path("/usr/share/wordpress")
MARIADBD = Path("/usr/sbin/mariadbd")
PHP = Path("/usr/bin/php")
#: Permalink structures: plain (the REST API at /index.php?rest_route=/) and pretty (at /wp-json/).
PLAIN, PRETTY = "", "/%postname%/"
INSTALL_HINT = "run scripts/system-packages (it installs wordpress, mariadb-server, php-cli and php-mysql)"


def missing() -> str | None:
    """What of the Debian packages is not installed, or None."""
    for path in (WORDPRESS / "wp-load.php", MARIADBD, PHP, Path("/usr/bin/mariadb-install-db")):
        if not path.exists():
            return f"{path} is missing: {INSTALL_HINT}"
    return None


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small valid PNG of one colour (the image a post shows; no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def publish_op(
    text: str,
    *,
    title: str = "",
    kind: str = "post",
    image: bytes | None = None,
    image_name: str = "bild.png",
    date_gmt: str | None = None,
) -> dict[str, Any]:
    """The `publish` operation of `wordpress/peer.php` (for `WordPressPeer.run`, several at once)."""
    op: dict[str, Any] = {"op": "publish", "kind": kind, "title": title, "text": text}
    if image is not None:
        op |= {"image_b64": base64.b64encode(image).decode(), "image_name": image_name}
    if date_gmt is not None:
        op["date_gmt"] = date_gmt
    return op


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_root() -> list[str]:
    """mariadbd refuses to run as root unless told to; as anyone else `--user` is not needed."""
    return ["--user=root"] if os.geteuid() == 0 else []


@dataclass
class WordPressPeer:
    """One running WordPress site; `start()` and `stop()` (or `with`)."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="communis-wp-")))
    permalinks: str = PLAIN
    port: int = 0
    version: str = ""
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tree(self) -> Path:
        return self.root / "site"

    @property
    def socket(self) -> Path:
        return self.root / "db" / "mysqld.sock"

    def __enter__(self) -> WordPressPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> WordPressPeer:
        problem = missing()
        if problem:
            raise RuntimeError(problem)
        try:
            self._start_db()
            self.port = self.port or _free_port()
            self._write_tree()
            self._start_php()
            self.run(
                [
                    {"op": "install", "title": "Sundsviks kommun", "password": secrets.token_urlsafe(16)},
                    {"op": "permalinks", "structure": self.permalinks},
                ]
            )
            self.version = self.truth()["version"]
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and the database (in reverse order) and remove the folder."""
        for proc in reversed(self._procs):
            proc.terminate()
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=60)  # a hang guard: both exit within moments of SIGTERM
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def _log(self, name: str) -> Any:
        return (self.root / f"{name}.log").open("ab")

    def _exited(self, proc: subprocess.Popen[bytes], name: str) -> str | None:
        if proc.poll() is None:
            return None
        log = (self.root / f"{name}.log").read_text(errors="replace").strip().splitlines()[-5:]
        return f"{name} exited with {proc.returncode}: {' | '.join(log)}"

    def _start_db(self) -> None:
        data = self.root / "db"
        data.mkdir(parents=True)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data / 'data'}",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
                *_as_root(),
            ],
            check=True,
            capture_output=True,
        )
        proc = subprocess.Popen(
            [
                str(MARIADBD),
                "--no-defaults",
                f"--datadir={data / 'data'}",
                f"--socket={self.socket}",
                "--skip-networking",
                f"--pid-file={data / 'pid'}",
                "--innodb-buffer-pool-size=32M",
                "--skip-log-bin",
                *_as_root(),
            ],
            stdout=self._log("mariadb"),
            stderr=subprocess.STDOUT,
        )
        self._procs.append(proc)

        def answers() -> bool:
            done = subprocess.run(
                [
                    "mariadb",
                    "--no-defaults",
                    f"--socket={self.socket}",
                    "-uroot",
                    "-e",
                    "CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4",
                ],
                capture_output=True,
                check=False,
            )
            return done.returncode == 0

        wait_for(answers, "MariaDB answers on its socket", gone=lambda: self._exited(proc, "mariadb"))

    def _write_tree(self) -> None:
        """The site's own tree: every entry of /usr/share/wordpress linked, but its own config and content."""
        tree = self.tree
        tree.mkdir()
        for entry in WORDPRESS.iterdir():
            if entry.name not in ("wp-config.php", "wp-content", ".htaccess"):
                (tree / entry.name).symlink_to(entry)
        content = tree / "wp-content"
        for name in ("uploads", "mu-plugins", "plugins", "themes"):
            (content / name).mkdir(parents=True)
        for theme in (WORDPRESS / "wp-content" / "themes").iterdir():
            (content / "themes" / theme.name).symlink_to(theme)
        shutil.copy(HERE / "mu-plugin.php", content / "mu-plugins" / "communis-peer.php")
        keys = "\n".join(
            f"define('{k}', '{secrets.token_hex(24)}');"
            for k in (
                "AUTH_KEY",
                "SECURE_AUTH_KEY",
                "LOGGED_IN_KEY",
                "NONCE_KEY",
                "AUTH_SALT",
                "SECURE_AUTH_SALT",
                "LOGGED_IN_SALT",
                "NONCE_SALT",
            )
        )
        (tree / "wp-config.php").write_text(f"""<?php
/* The test peer's configuration (tests/peers/wordpress.py); Debian's reads /etc/wordpress instead. */
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{self.socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
define('WP_HOME', '{self.url}');
define('WP_SITEURL', '{self.url}');
define('WP_CONTENT_DIR', '{content}');
define('WP_CONTENT_URL', '{self.url}/wp-content');
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_DEBUG', false);
require_once ABSPATH . 'wp-settings.php';
""")

    def _env(self) -> dict[str, str]:
        return {**os.environ, "COMMUNIS_WP_TREE": str(self.tree), "COMMUNIS_WP_HOST": f"127.0.0.1:{self.port}"}

    def _start_php(self) -> None:
        proc = subprocess.Popen(
            [str(PHP), "-S", f"127.0.0.1:{self.port}", "-t", str(self.tree), str(HERE / "router.php")],
            env={**self._env(), "PHP_CLI_SERVER_WORKERS": "2"},
            stdout=self._log("php"),
            stderr=subprocess.STDOUT,
        )
        self._procs.append(proc)

        def answers() -> bool:
            try:
                httpx.get(self.url + "/wp-includes/js/wp-embed.js", timeout=10)
            except httpx.HTTPError:
                return False
            return True

        wait_for(answers, "PHP's server answers", gone=lambda: self._exited(proc, "php"))

    def run(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply operations through WordPress's PHP API (`wordpress/peer.php`); their results."""
        done = subprocess.run(
            [str(PHP), str(HERE / "peer.php")],
            input=json.dumps(ops).encode(),
            env=self._env(),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"peer.php {[op['op'] for op in ops]} failed: "
                f"{(done.stderr or done.stdout).decode(errors='replace')[-2000:]}"
            )
        results: list[dict[str, Any]] = json.loads(done.stdout)
        return results

    def one(self, op: str, **fields: Any) -> dict[str, Any]:
        return self.run([{**fields, "op": op}])[0]

    def truth(self) -> dict[str, Any]:
        """What WordPress itself says it holds: published posts and pages, every comment with its status."""
        return self.one("truth")

    def publish(
        self,
        text: str,
        *,
        title: str = "",
        kind: str = "post",
        image: bytes | None = None,
        image_name: str = "bild.png",
        date_gmt: str | None = None,
    ) -> dict[str, Any]:
        """A published post or page (`date_gmt` for an older one); with `image`, the file is uploaded
        and shown in the content."""
        return self.run(
            [publish_op(text, title=title, kind=kind, image=image, image_name=image_name, date_gmt=date_gmt)]
        )[0]

    def comment(
        self,
        post: int,
        text: str,
        *,
        parent: int = 0,
        approved: int | str = 1,
        author: str = "Medborgare",
        user: int = 0,
        date_gmt: str | None = None,
    ) -> int:
        """A comment (approved: 1, held: 0, or "spam"); `user` > 0 makes it the site's own answer."""
        fields: dict[str, Any] = {
            "post": post,
            "text": text,
            "parent": parent,
            "approved": approved,
            "author": author,
            "user": user,
        }
        if date_gmt is not None:
            fields["date_gmt"] = date_gmt
        return int(self.one("comment", **fields)["id"])

    def rewrites(self, on: bool) -> None:
        """Route paths that are not files to WordPress (Apache's rewrite rules) or answer them 404 (a
        server without them)."""
        flag = self.tree / ".no-rewrite"
        if on:
            flag.unlink(missing_ok=True)
        else:
            flag.touch()

    def set_permalinks(self, structure: str) -> None:
        self.one("permalinks", structure=structure)
        self.permalinks = structure


_SHARED: list[WordPressPeer] = []


def shared() -> WordPressPeer:
    """The one peer of this test process, started on first use and stopped when the process ends (the
    integration tests and the contract suite share it; each test resets its content first)."""
    if not _SHARED:
        import atexit

        peer = WordPressPeer().start()
        atexit.register(peer.stop)
        _SHARED.append(peer)
    return _SHARED[0]


def fresh(structure: str = PLAIN) -> WordPressPeer:
    """The shared peer with no content and the given permalinks."""
    peer = shared()
    peer.run([{"op": "reset"}, {"op": "permalinks", "structure": structure}])
    peer.permalinks = structure
    peer.rewrites(True)
    return peer
