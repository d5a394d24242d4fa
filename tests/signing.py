"""Signing tests in as a user for the command line: a token in `COMMUNIS_TOKEN`, as `communis login` or a
script would have one. The user is made (with no password: tokens only) when the store lacks it."""

from __future__ import annotations

import pytest

from archive.access import open_users
from archive.config import Settings
from archive.errors import AccessError


def token_for(settings: Settings, name: str, role: str = "admin") -> str:
    """A fresh one-day API token of `name` (created with `role` if there is no such user yet)."""
    users = open_users(settings)
    try:
        users.get(name)
    except AccessError:
        return users.add(name, role, token_days=1)[1]
    return users.new_token(name, days=1)


def sign_in(settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str, role: str = "admin") -> str:
    """Make the CLI (in this process and in children started from os.environ) act as `name`; returns the token."""
    token = token_for(settings, name, role)
    monkeypatch.setenv("COMMUNIS_TOKEN", token)
    return token
