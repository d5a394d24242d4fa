"""`communis accounts check`: every account's access tested, with a message per failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from simulator import Simulator
from tests.conftest import LOOPBACK_NETWORKS
from tests.waiting import HANG_GUARD_S

TOKEN = "sim-token-for-check"


def test_accounts_check_names_each_failure(tmp_path: Path) -> None:
    with Simulator(posts=3, social_token=TOKEN) as sim:
        base = {"display_name": "Sundsvik", "department": "Kommunstyrelsen", "retention_class": "social-10y"}
        accounts: list[dict[str, object]] = [
            {
                "id": "ok-bluesky",
                "platform": "bluesky",
                "handle": "sundsvikkommun.bsky.social",
                "base_url": sim.url("bluesky"),
            },
            {"id": "ok-mastodon", "platform": "mastodon", "handle": "@sundsvik", "base_url": sim.mastodon_url},
            {
                "id": "unknown-handle",
                "platform": "bluesky",
                "handle": "nobody.bsky.social",
                "base_url": sim.url("bluesky"),
            },
            {
                "id": "unset-variable",
                "platform": "youtube",
                "handle": "@sundsvikkommun",
                "base_url": sim.base_url + "/yt",
                "credentials": {"env": "SUNDSVIK_YT_UNSET"},
            },
            {
                "id": "refused-token",
                "platform": "youtube",
                "handle": "@sundsvikkommun",
                "base_url": sim.url("youtube"),
                "credentials": {"env": "SUNDSVIK_YT_WRONG"},
            },
            {
                "id": "good-token",
                "platform": "youtube",
                "handle": "@sundsvikkommun",
                "base_url": sim.url("youtube"),
                "credentials": {"env": "SUNDSVIK_YT_RIGHT"},
            },
            {
                "id": "unreachable",
                "platform": "bluesky",
                "handle": "sundsvikkommun.bsky.social",
                "base_url": "http://127.0.0.1:9",
            },
        ]
        path = tmp_path / "accounts.yaml"
        path.write_text(yaml.safe_dump({"accounts": [{**base, **a} for a in accounts]}))
        done = subprocess.run(
            [sys.executable, "-m", "archive", "accounts", "check", "--accounts", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=HANG_GUARD_S,
            env={
                "PATH": "/usr/bin:/bin",
                "COMMUNIS_HTTP_ALLOWED_NETWORKS": json.dumps(LOOPBACK_NETWORKS),  # the simulator's
                "COLUMNS": "250",
                "HOME": str(tmp_path),
                "SUNDSVIK_YT_WRONG": "not-the-key",
                "SUNDSVIK_YT_RIGHT": TOKEN,
            },
        )
    lines = {line.split()[1]: line for line in done.stdout.splitlines() if line.startswith(("ok", "FAIL"))}
    assert done.returncode == 1, done.stdout + done.stderr
    assert lines["ok-bluesky"].startswith("ok") and "sundsvikkommun.bsky.social" in lines["ok-bluesky"]
    assert lines["ok-mastodon"].startswith("ok")
    assert lines["unknown-handle"].startswith("FAIL") and "400" in lines["unknown-handle"]
    assert lines["unset-variable"].startswith("FAIL") and "SUNDSVIK_YT_UNSET is not set" in lines["unset-variable"]
    assert lines["unreachable"].startswith("FAIL") and "127.0.0.1:9" in lines["unreachable"]
    assert (
        lines["refused-token"].startswith("FAIL")
        and "check the credential in SUNDSVIK_YT_WRONG" in lines["refused-token"]
    )
    assert lines["good-token"].startswith("ok") and "@sundsvikkommun" in lines["good-token"]
    assert "not-the-key" not in done.stdout and TOKEN not in done.stdout
    assert "7 accounts checked, 4 failed" in done.stdout
