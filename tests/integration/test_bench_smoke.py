"""Every benchmark script runs: `python -m bench.NAME --smoke` at a tiny size on the real services.

The figures in docs/performance.md come from full runs made now and then; between them a script can rot
(a model gains a required field, a role loses a privilege) and nobody notices until the next measurement.
Each script in bench/ (every `bench/*.py` not starting with `_`, found here, so a new one is run too and
fails here until it takes `--smoke`, bench/_smoke.py) must finish with exit 0 and print its table, in an
index prefix of its own that it leaves empty. Nothing is asserted about speed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench._smoke import PREFIX_ENV
from tests.conftest import REPO, admin_es
from tests.waiting import HANG_GUARD_S

SCRIPTS = sorted(p.stem for p in (REPO / "bench").glob("*.py") if not p.name.startswith("_"))

#: What each known script's output must hold besides a table: its own rows and columns, and the checks it
#: prints (a run that printed a table of failures would pass the generic check alone).
EXPECTED: dict[str, list[str]] = {
    "completeness": [
        "posts/s",
        "Communis account_report",
        "raw: composite agg by parent",
        "planted gaps found: 3 of 3",
    ],
    "export": ["records/s", "communis produce()", "raw: read the same WARC records from the store"],
    "feeds": ["docs/s", "feedparser.parse (raw tool)", "Communis parse_feed"],
    "fuzz": ["| connector | payloads |", "| mastodon |", " 0 crashes"],
    "harvest": ["posts/s", "COMMUNIS HARVEST (mastodon, from scratch)", "| platform | record versions |"],
    "ingest": ["captures/s", "COMMUNIS PIPELINE: WARC → s3 → index", "pipeline / slowest raw stage"],
    "retention": ["records/s", "Communis plan", "Communis dispose", "left afterwards: 0 documents, 0 files"],
    "search": ["query (ms)", "overall", "API answers vs search(): identical"],
}
#: What no script's output may hold: a harvest that did not finish, a table with a failed row.
NEVER = ["(run failed)", "Traceback"]

pytestmark = pytest.mark.integration

_RULE = re.compile(r"^(-{20,}|\|(\s*-{3,}:?\s*\|)+)$")


def table_headers(out: str) -> list[str]:
    """The header lines of the tables in a script's output: a line above a rule (`----` or `|---|`)."""
    lines = out.splitlines()
    return [lines[i - 1] for i in range(1, len(lines)) if _RULE.match(lines[i].strip()) and lines[i - 1].strip()]


def test_every_script_is_listed() -> None:
    """The discovery finds the scripts docs/performance.md describes (a renamed folder would find none)."""
    assert {"export", "feeds", "fuzz", "harvest", "ingest", "retention", "search"} <= set(SCRIPTS)


def test_a_table_is_told_from_other_output() -> None:
    """The table check can fail: prose and a lone rule are not tables, both table styles are."""
    assert table_headers("# loading 1,000 documents\n---\nitems found: 3") == []
    assert table_headers("stage   docs/s\n" + "-" * 40 + "\nraw  12") == ["stage   docs/s"]
    assert table_headers("| a | b |\n|---|---:|\n| 1 | 2 |") == ["| a | b |"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_runs_at_smoke_size(name: str, tmp_path: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": str(REPO), PREFIX_ENV: prefix, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--smoke"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=HANG_GUARD_S,
    )
    said = f"bench/{name}.py --smoke\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    assert done.returncode == 0, said
    assert table_headers(done.stdout), f"no table printed: {said}"
    for text in EXPECTED.get(name, []):
        assert text in done.stdout, f"{text!r} missing: {said}"
    for text in NEVER:
        assert text not in done.stdout + done.stderr, f"{text!r} printed: {said}"
    left = admin_es().indices.resolve_index(name=f"{prefix}*", expand_wildcards="all")
    assert {kind: [x["name"] for x in found] for kind, found in left.items() if found} == {}, said
    assert list(tmp_path.iterdir()) == [], f"temporary files left: {said}"
