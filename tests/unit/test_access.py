"""Local users: scrypt passwords, hashed API tokens, roles, disabling."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.access.users import UserStore, hash_password, token_digest, verify_password
from archive.errors import AccessError, AuthenticationFailed
from schemas import Role


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "access" / "users.db")


def test_password_hash_is_salted_scrypt_with_parameters() -> None:
    a, b = hash_password("hemligt"), hash_password("hemligt")
    assert a != b and a.startswith("scrypt$131072$8$1$")  # OWASP: N=2^17, r=8, p=1
    assert verify_password("hemligt", a) and verify_password("hemligt", b)
    assert not verify_password("Hemligt", a)
    assert not verify_password("hemligt", "garbage") and not verify_password("hemligt", "md5$x$y$z$a$b")


def test_add_returns_a_token_that_is_stored_only_hashed(users: UserStore) -> None:
    user, token = users.add("anna", "archivist", password="rätt lösen")
    assert user.role is Role.ARCHIVIST and len(token) >= 43
    assert users.user_for_token(token) == user
    raw = users.path.read_bytes()
    assert token.encode() not in raw and b"r\xc3\xa4tt" not in raw
    with sqlite3.connect(users.path) as db:
        assert db.execute("SELECT token_sha256 FROM tokens").fetchone()[0] == token_digest(token)


def test_password_login_and_wrong_secrets_refused(users: UserStore) -> None:
    users.add("bo", Role.LEGAL, password="korrekt")
    assert users.authenticate("bo", "korrekt").name == "bo"
    with pytest.raises(AuthenticationFailed):
        users.authenticate("bo", "fel")
    with pytest.raises(AuthenticationFailed):
        users.authenticate("okänd", "korrekt")
    with pytest.raises(AuthenticationFailed):
        users.user_for_token("not-a-token")


def test_user_without_password_cannot_log_in_by_password(users: UserStore) -> None:
    _, token = users.add("cecilia", "admin")
    with pytest.raises(AuthenticationFailed):
        users.authenticate("cecilia", "")
    assert users.user_for_token(token).role is Role.ADMIN


def test_roles_and_names_are_validated(users: UserStore) -> None:
    with pytest.raises(AccessError, match="superuser") as refused:
        users.add("dan", "superuser")
    assert "roles: archivist, legal, admin, read-only" in refused.value.one_line()
    with pytest.raises(AccessError):
        users.add("Bad Name", "read-only")
    users.add("dan", "read-only")
    with pytest.raises(AccessError, match="already exists"):
        users.add("dan", "admin")
    assert [(u.name, u.role) for u in users.list()] == [("dan", Role.READ_ONLY)]


def test_disabled_user_is_refused_everywhere(users: UserStore) -> None:
    _, token = users.add("eva", "archivist", password="pw")
    second = users.new_token("eva")
    assert users.user_for_token(second).name == "eva"
    assert users.disable("eva").disabled
    attempts: tuple[Callable[[], object], ...] = (
        lambda: users.user_for_token(token),
        lambda: users.user_for_token(second),
        lambda: users.authenticate("eva", "pw"),
    )
    for attempt in attempts:
        with pytest.raises(AuthenticationFailed):
            attempt()
    with pytest.raises(AccessError):
        users.new_token("eva")
    with pytest.raises(AccessError, match="no user"):
        users.disable("nobody")
