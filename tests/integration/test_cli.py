"""The CLI as a user runs it: a real process, real services, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.config import Settings
from archive.context import Archive
from tests.conftest import warcio_check
from tests.waiting import HANG_GUARD_S


@pytest.fixture
def env(settings: Settings) -> Iterator[dict[str, str]]:
    values = {
        **os.environ,
        "COMMUNIS_DATA_DIR": str(settings.data_dir),
        "COMMUNIS_STORE_PATH": str(settings.store_path),
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COLUMNS": "200",
    }
    yield values
    Archive(settings).index.destroy()


def communis(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=HANG_GUARD_S,
    )


def test_demo_search_show_warc(env: dict[str, str], tmp_path: Path) -> None:
    demo = communis(env, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "1 records match 'snöröjning'" in demo.stdout and "verified" in demo.stdout

    found = communis(env, "search", "biblioteket", "--platform", "mastodon", "--json")
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["text"].startswith("Biblioteket i Ålsta") and hit["edited"] is True

    table = communis(env, "search", "Norrby", "--kind", "comment")
    assert "Ahmed Yusuf" in table.stdout

    shown = communis(env, "show", hit["record_id"])
    assert shown.returncode == 0 and "verified" in shown.stdout and "Ålsta" in shown.stdout

    out = tmp_path / "one.warc.gz"
    wrote = communis(env, "warc", hit["record_id"], "-o", str(out))
    assert wrote.returncode == 0, wrote.stderr
    assert out.stat().st_size == hit["warc"]["length"]
    assert warcio_check(out).returncode == 0
    import hashlib

    assert hashlib.sha256(out.read_bytes()).hexdigest() == hit["warc"]["sha256"]


def test_errors_are_one_line_with_a_fix(env: dict[str, str], tmp_path: Path) -> None:
    missing = communis(env, "show", "0" * 32)
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "no record" in missing.stderr

    down = communis({**env, "COMMUNIS_ES_URL": "http://127.0.0.1:9"}, "search", "x")
    assert down.returncode == 2 and "scripts/services up" in down.stderr
    assert down.stderr.strip().count("\n") == 0

    bad = tmp_path / "accounts.yaml"
    bad.write_text("accounts:\n  - id: BAD ID\n")
    checked = communis(env, "accounts", "validate", str(bad))
    assert checked.returncode == 2 and f"{bad}: account #1 (BAD ID): field 'id'" in checked.stderr

    wrong = communis({**env, "COMMUNIS_GZIP_LEVEL": "12"}, "search", "x")
    assert wrong.returncode == 2 and "gzip_level" in wrong.stderr
