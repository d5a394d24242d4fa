"""Every bench script takes `--smoke` (bench/_smoke.py), checked without the services.

tests/integration/test_bench_smoke.py runs each script; this catches a new script that parses its own
arguments in the fast suite already, before anyone starts the services.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p for p in (REPO / "bench").glob("*.py") if not p.name.startswith("_"))


def _calls(tree: ast.AST) -> set[str]:
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


def test_scripts_are_found() -> None:
    assert {p.stem for p in SCRIPTS} >= {"export", "feeds", "fuzz", "harvest", "ingest", "retention", "search"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_parses_its_arguments_with_smoke(script: Path) -> None:
    calls = _calls(ast.parse(script.read_text(encoding="utf-8")))
    assert "_smoke.parse" in calls, f"{script.name}: parse arguments with bench._smoke.parse (adds --smoke)"
    assert "parser.parse_args" not in calls, f"{script.name}: parses arguments without --smoke"


def test_the_check_can_fail() -> None:
    plain = ast.parse("parser = argparse.ArgumentParser()\nargs = parser.parse_args()\n")
    assert "_smoke.parse" not in _calls(plain) and "parser.parse_args" in _calls(plain)
