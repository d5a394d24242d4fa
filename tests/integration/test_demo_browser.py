"""From the demo to the browser: what `scripts/demo` prints at its end is all a new user needs.

The demo script runs for real (its smallest part: the Mastodon account alone, harvested, edited,
harvested again) into a test prefix and a private `var/`; then the test does only what the printed
lines say: it runs the printed `communis serve` command as a process of its own, opens the printed
record URL, is sent to the sign-in form, signs in with the printed user and password, and reads the
edited post's record page with its versions and provenance. Before this, the demo named no user and
`communis serve` searched the default index ("404 no such index").
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from archive.config import Settings
from archive.index import open_index
from tests.conftest import EVENTS_PREFIX, REPO, admin_es, drop_access
from tests.waiting import HANG_GUARD_S, wait_for

pytestmark = pytest.mark.integration

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _printed(out: str) -> dict[str, str]:
    """The labelled lines the demo ends with (`  serve:  …`, `  open:  …`, `  user:  …`, `  password:  …`)."""
    found = dict(re.findall(r"^  (serve|open|user|password):\s+(.+)$", out, flags=re.MULTILINE))
    assert set(found) == {"serve", "open", "user", "password"}, out[-3000:]
    return found


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_the_demo_prints_a_command_url_and_user_that_open_the_edited_post(tmp_path: Path) -> None:
    prefix = f"test-demo-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    var = tmp_path / "var"
    env = {**os.environ, "COMMUNIS_VAR_DIR": str(var), "COMMUNIS_EVENTS_PREFIX": EVENTS_PREFIX}
    try:
        demo = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "demo_harvest.py"), "--prefix", prefix, "--port", str(port)]
            + ["--only", "mastodon"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=HANG_GUARD_S,
        )
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        said = _printed(demo.stdout)
        password = said["password"]
        assert demo.stdout.count(password) == 1 and password not in demo.stderr  # shown once, and only there

        # serve exactly as printed: the leading NAME=value words are the command's environment
        words = shlex.split(said["serve"])
        settings = [w for w in words if re.match(r"^[A-Z_]+=", w)]
        assert words[: len(settings)] == settings and words[len(settings) :][1:] == ["serve", "--port", str(port)]
        served_env = env | dict(w.split("=", 1) for w in settings)
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(words[len(settings) :], env=served_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: _answers(f"{base}/healthz"),
                "the printed `communis serve` answers",
                gone=lambda: None if server.poll() is None else f"it exited {server.returncode}: {log.read_text()}",
            )
            record_url = said["open"]
            record_path = urlsplit(record_url).path
            assert record_url.startswith(base + "/records/")
            with httpx.Client(base_url=base, headers=BROWSER, timeout=300, follow_redirects=False) as browser:
                first = browser.get(record_url)  # not signed in yet: to the sign-in form, coming back here
                assert first.status_code == 303, first.text[:500]
                to_login = urlsplit(first.headers["location"])
                assert to_login.path == "/login" and parse_qs(to_login.query)["next"] == [record_path]
                signed = browser.post("/login", data={"name": said["user"], "password": password, "next": record_path})
                assert signed.status_code == 303, signed.text[:500]
                assert signed.headers["location"] == record_path
                page = browser.get(record_url)
        finally:
            server.terminate()
            server.wait(HANG_GUARD_S)
        assert page.status_code == 200, page.text[:1000]
        versions = re.search(r"<h2>Versions \((\d+)\)</h2>", page.text)
        assert versions is not None and int(versions.group(1)) >= 2, page.text[:3000]
        assert page.text.count('class="version') >= 2
        assert "Rättelse: vattenavstängningen gäller Storgatan 1–15" in page.text
        provenance = page.text.split('aria-label="Provenance"', 1)
        assert len(provenance) == 2 and "<h2>Provenance</h2>" in provenance[1]
        assert record_path.rsplit("/", 1)[1] in provenance[1] and "WARC-Record-ID" in provenance[1]

        # the password is in no log: not the CLI's log file, not the server's output
        logs = [p for p in var.rglob("*.log")] + [log]
        assert logs and all(password not in p.read_text(errors="replace") for p in logs)
        demo_users = Settings(es_index_prefix=prefix).access_index
        admin_es().indices.refresh(index=demo_users)
        stored = admin_es().search(index=demo_users, size=100, query={"term": {"name": "demo"}})["hits"]["hits"]
        assert stored and password not in str(stored)  # only its hash
    finally:
        open_index(Settings(es_index_prefix=prefix)).destroy()
        drop_access(Settings(es_index_prefix=prefix))
