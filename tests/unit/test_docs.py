"""Documentation coverage (datasette's idea): every setting and command is documented."""

from __future__ import annotations

from pathlib import Path

from archive.access.oidc import OidcSettings
from archive.access.settings import AccessSettings
from archive.cli import app
from archive.config import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_in_operations_md() -> None:
    text = (DOCS / "operations.md").read_text()
    fields = [*Settings.model_fields, *AccessSettings.model_fields, *OidcSettings.model_fields]
    missing = [name for name in fields if f"| {name} | COMMUNIS_{name.upper()}" not in text]
    assert missing == []


def test_every_command_is_in_the_readme() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    names += [g.name or "" for g in app.registered_groups]
    missing = [n for n in names if f"communis {n}" not in readme]
    assert missing == []


def test_platform_table_is_what_the_connectors_declare() -> None:
    from archive.connectors.capability_table import BEGIN, END, render

    text = (DOCS / "platforms.md").read_text()
    assert BEGIN in text and END in text
    shown = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert shown == render(), "regenerate: python -m archive.connectors.capability_table"


def test_every_crash_point_is_in_reliability_md() -> None:
    from archive.faults import CrashPoint

    text = (DOCS / "reliability.md").read_text()
    missing = [p.value for p in CrashPoint if f"`{p.value}`" not in text]
    assert missing == []


#: Names of the design inputs the project was started from, which live outside the repository.
_OUTSIDE = ("../shared", "/work/shared", "DESIGN.md", "ENGINEERING.md", "records-law.md", "test-peers.md")


def _tracked_text_files() -> list[Path]:
    import subprocess

    root = DOCS.parent
    names = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    suffixes = {".py", ".md", ".toml", ".yaml", ".yml", ".js", ".json", ".php", ".sh", ".txt", ".cfg", ""}
    return [
        root / n
        for n in names
        if not n.startswith("tests/recordings/") and Path(n).suffix in suffixes and (root / n).is_file()
    ]


def test_nothing_in_the_repository_points_outside_it() -> None:
    """The project stands alone: its docs and docstrings cite only what is in the repository."""
    this = Path(__file__).resolve()
    found = [
        f"{path.relative_to(DOCS.parent)}: {name}"
        for path in _tracked_text_files()
        if path.resolve() != this
        for name in _OUTSIDE
        if name in path.read_text(errors="replace")
    ]
    assert found == []


def test_every_relative_link_in_the_docs_resolves() -> None:
    import re

    broken = []
    for page in [*(DOCS.parent / n for n in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")), *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert broken == []
