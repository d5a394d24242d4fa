"""Local users in the shared store, on the real Elasticsearch: scrypt passwords, hashed API tokens and
sessions, roles, disabling, the first-admin guard, the throttle's conditional writes, and what the
store's documents hold (hashes only, never a secret).

Each test has its own index prefix (the `settings` fixture), so its own `{prefix}-access`, dropped after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from archive.access import open_users
from archive.access.users import UserStore, token_digest
from archive.config import Settings
from archive.errors import AccessError, AuthenticationFailed, SearchIndexError
from archive.index.access_store import AccessConflict, throttle_id
from schemas import Role
from tests.conftest import admin_es

pytestmark = pytest.mark.integration


@pytest.fixture
def users(settings: Settings) -> UserStore:
    return open_users(settings)


def _documents(settings: Settings) -> list[dict[str, object]]:
    es = admin_es()
    es.indices.refresh(index=settings.access_index)
    hits = es.search(index=settings.access_index, size=1000, query={"match_all": {}})["hits"]["hits"]
    return [{"_id": h["_id"], **h["_source"]} for h in hits]


def test_add_returns_a_token_that_is_stored_only_hashed(users: UserStore, settings: Settings) -> None:
    user, token = users.add("anna", "archivist", password="rätt lösen")
    assert user.role is Role.ARCHIVIST and len(token) >= 43
    assert users.user_for_token(token) == user
    raw = str(_documents(settings))
    assert token not in raw and "rätt" not in raw
    [stored] = [d for d in _documents(settings) if d["kind"] == "token"]
    assert stored["_id"] == f"token|{token_digest(token)}" and stored["token_id"] == token_digest(token)[:12]
    [person] = [d for d in _documents(settings) if d["kind"] == "user"]
    assert str(person["password_hash"]).startswith("scrypt$131072$8$1$")


def test_the_mapping_is_strict_and_hashes_are_not_searchable(users: UserStore, settings: Settings) -> None:
    users.add("anna", "archivist", password="pw")
    es = admin_es()
    mapping = es.indices.get_mapping(index=settings.access_index)[settings.access_index]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["password_hash"]["index"] is False
    with pytest.raises(Exception, match="strict_dynamic_mapping_exception"):
        es.index(index=settings.access_index, id="x", document={"kind": "user", "token": "a secret"})


def test_password_login_and_wrong_secrets_refused(users: UserStore) -> None:
    users.add("bo", Role.LEGAL, password="korrekt")
    assert users.authenticate("bo", "korrekt").name == "bo"
    for name, password in (("bo", "fel"), ("okänd", "korrekt"), ("x" * 600, "korrekt"), ("a|b", "korrekt")):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(name, password)
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
    assert not users.has_admin(), "the refused admin left no trace"


def test_disabled_user_is_refused_everywhere(users: UserStore) -> None:
    _, token = users.add("eva", "archivist", password="pw")
    second = users.new_token("eva")
    session = users.start_session("eva")
    assert users.user_for_token(second).name == "eva" and users.user_for_session(session).name == "eva"
    assert users.disable("eva").disabled
    attempts: tuple[Callable[[], object], ...] = (
        lambda: users.user_for_token(token),
        lambda: users.user_for_token(second),
        lambda: users.user_for_session(session),
        lambda: users.authenticate("eva", "pw"),
        lambda: users.start_session("eva"),
    )
    for attempt in attempts:
        with pytest.raises(AuthenticationFailed):
            attempt()
    with pytest.raises(AccessError):
        users.new_token("eva")
    with pytest.raises(AccessError, match="no user"):
        users.disable("nobody")


def test_a_second_store_on_the_same_index_sees_every_change_at_once(users: UserStore, settings: Settings) -> None:
    """Another process's store (its own client): nothing is cached, so a revocation or a disabling
    is refused by its very next check, with no refresh in between."""
    other = open_users(settings)
    _, token = users.add("fia", "archivist")
    keep = users.new_token("fia")
    assert other.user_for_token(token).name == "fia"
    users.revoke_token("fia", token_digest(token)[:12])
    with pytest.raises(AuthenticationFailed):
        other.user_for_token(token)
    assert other.user_for_token(keep).name == "fia"
    session = other.start_session("fia")
    assert users.user_for_session(session).name == "fia"
    other.end_session(session)
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        users.user_for_session(session)
    users.disable("fia")
    with pytest.raises(AuthenticationFailed):
        other.user_for_token(keep)


def test_sessions_end_after_their_hours_and_are_forgotten(users: UserStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive import clock

    users.add("gun", "archivist", password="pw")
    ended = users.start_session("gun", hours=1)
    at = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: at)
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        users.user_for_session(ended)
    fresh = users.start_session("gun")  # deletes the ended one
    assert users.store.get(f"session|{token_digest(ended)}") is None
    assert users.user_for_session(fresh).name == "gun"


def test_only_one_first_admin_of_two_bootstraps(users: UserStore, settings: Settings) -> None:
    other = open_users(settings)  # another host's bootstrap, at the same moment: the guard decides
    assert other._claim_first_admin("someone-else")
    with pytest.raises(AccessError, match="an admin exists already"):
        users.add("hugo", "admin", first_admin=True)
    with pytest.raises(AccessError, match="no user"):
        users.get("hugo")


def test_a_throttle_write_over_an_old_version_is_refused(users: UserStore) -> None:
    """Two processes counting a failure on one name at once: the one that read the older version loses
    and counts again, so both failures are kept."""
    now = datetime.now(UTC)
    throttle, store = users.throttle, users.store
    throttle.note_failure([("user", "ida")], now, now - timedelta(minutes=15), keep=5)
    seen = store.get(throttle_id("user", "ida"))
    assert seen is not None
    throttle.note_failure([("user", "ida")], now, now - timedelta(minutes=15), keep=5)  # the other process
    with pytest.raises(AccessConflict):
        store.put(seen.id, {**seen.source, "failures": []}, seen)
    counts = throttle.note_failure([("user", "ida")], now, now - timedelta(minutes=15), keep=5)
    assert counts == {("user", "ida"): 3}


def test_the_hash_is_read_only_to_verify_a_password(users: UserStore) -> None:
    users.add("jan", "archivist", password="pw")
    assert "password_hash" not in users.store.get("user|jan").source  # type: ignore[union-attr]
    assert "password_hash" in users.store.get("user|jan", with_hash=True).source  # type: ignore[union-attr]
    assert all("password_hash" not in d.source for d in users.store.every("user", sort=["name"]))


def test_a_store_that_is_not_there_knows_nobody(settings: Settings) -> None:
    users = open_users(settings)
    assert users.list() == [] and not users.has_admin()
    with pytest.raises(AuthenticationFailed):
        users.user_for_token("anything")
    with pytest.raises(AuthenticationFailed):
        users.authenticate("anna", "pw")
    with pytest.raises(AccessError, match="no user"):
        users.get("anna")
    assert not users.store.exists(), "reading made no index"
    assert isinstance(AccessConflict("x"), SearchIndexError)
