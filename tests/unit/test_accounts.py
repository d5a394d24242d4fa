from __future__ import annotations

from pathlib import Path

import pytest

from archive.accounts import load_accounts
from archive.config import Settings
from archive.errors import ConfigError
from archive.samples import ACCOUNTS_FILE
from schemas import Platform


def test_sample_accounts_file_is_valid() -> None:
    accounts = load_accounts(ACCOUNTS_FILE, Settings())
    assert {a.id for a in accounts} == {"sundsvik-mastodon", "sundsvik-blogg"}


def test_error_names_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "accounts:\n  - id: ok-one\n    platform: mastodon\n    handle: h\n    display_name: d\n"
        "    department: k\n    retention_class: social-10y\n"
        "  - id: bad-one\n    platform: myspace\n    handle: h\n    display_name: d\n"
        "    department: k\n    retention_class: social-10y\n"
    )
    with pytest.raises(ConfigError) as info:
        load_accounts(path)
    message = str(info.value)
    assert str(path) in message and "account #2 (bad-one)" in message and "'platform'" in message


def test_unknown_retention_class_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        "accounts:\n  - {id: a, platform: rss, handle: 'https://sundsvik.example/feed.xml',"
        " display_name: d, department: k, retention_class: forever}\n"
    )
    with pytest.raises(ConfigError, match=r"account #1 \(a\): field 'retention_class'.*forever"):
        load_accounts(path, Settings())


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{id: yt, platform: youtube, handle: '@sundsvik', display_name: d, department: k, "
            "retention_class: social-10y}",
            "account #1 (yt): credentials are required for youtube: an API key",
        ),
        (
            "{id: m, platform: mastodon, handle: '@sundsvik', display_name: d, department: k, "
            "retention_class: social-10y}",
            "account #1 (m): base_url (the instance URL) is required for mastodon",
        ),
    ],
)
def test_what_a_platform_needs_is_named(tmp_path: Path, entry: str, expected: str) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(f"accounts:\n  - {entry}\n")
    with pytest.raises(ConfigError) as info:
        load_accounts(path)
    assert expected in str(info.value)


def test_broken_yaml_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("accounts:\n  - id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_accounts(path)


def test_reference_file_has_every_platform_and_no_secret() -> None:
    path = ACCOUNTS_FILE.parent / "accounts-all-platforms.yaml"
    accounts = load_accounts(path, Settings())
    assert {a.platform for a in accounts} == set(Platform)
    assert all(a.credentials is None or a.credentials.env or a.credentials.prefect_secret for a in accounts)
    assert "token:" not in path.read_text().lower()
