"""The dependency rules of ENGINEERING.md, enforced: flows → archive → schemas, never backwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize(("package", "forbidden"), [
    ("schemas", {"archive", "flows", "prefect", "elasticsearch", "boto3", "botocore", "warcio", "httpx"}),
    ("archive", {"flows", "prefect", "simulator"}),
])
def test_dependency_direction(package: str, forbidden: set[str]) -> None:
    offenders = {str(p.relative_to(REPO)): sorted(_imports(p) & forbidden) for p in _modules(package)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_storage_knows_no_platform_and_warc_no_services() -> None:
    for path in _modules("archive/store"):
        text = path.read_text()
        assert "Platform" not in text and "connectors" not in text, path
    for path in _modules("archive/warc"):
        assert not _imports(path) & {"boto3", "elasticsearch"}, path


def test_schemas_export_what_they_define() -> None:
    import schemas

    assert schemas.__all__ == sorted(schemas.__all__)
    for name in schemas.__all__:
        assert getattr(schemas, name).__module__.startswith("schemas."), name
