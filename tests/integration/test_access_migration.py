"""`communis user migrate`: an earlier release's SQLite user file moved into the shared store.

The file is made by the earlier release's own code (tests/legacy/users_sqlite.py, kept verbatim): an
admin and an archivist with passwords, API tokens, a disabled user, a running and an ended session,
and throttle entries. After the migration, the old passwords sign in on the web, the old tokens and
the running session work, the disabled user stays refused, the ended session and the throttle stay
behind, every user moved is audited, and the file is renamed and never read again. A second run
changes nothing; a name already held by another user in the store is left out, with its tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from archive.access import open_audit, open_users
from archive.cli import app
from archive.config import Settings, get_settings
from archive.errors import AuthenticationFailed
from archive.web import create_app
from schemas import AuditAction, Role
from tests.legacy.users_sqlite import UserStore as LegacyUsers

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "en gammal administratör"
ANNA_PASSWORD = "annas gamla lösenord"


class Legacy:
    """What the earlier release's file holds, as that release made it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        old = LegacyUsers(path)
        self.tag = uuid.uuid4().hex[:6]
        self.admin, self.anna, self.bo = f"admin-{self.tag}", f"anna-{self.tag}", f"bo-{self.tag}"
        self.admin_token = old.add(self.admin, Role.ADMIN, ADMIN_PASSWORD)[1]
        self.anna_token = old.add(self.anna, Role.ARCHIVIST, ANNA_PASSWORD)[1]
        self.anna_second = old.new_token(self.anna, days=5)
        self.bo_token = old.add(self.bo, Role.LEGAL, "bos lösenord")[1]
        old.disable(self.bo)
        self.session = old.start_session(self.anna)
        self.ended = old.start_session(self.anna, hours=-1)
        now = datetime.now(UTC)
        old.note_failure([("user", self.anna), ("address", "192.0.2.7")], now, now - timedelta(minutes=15))


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name, value in {
        "COMMUNIS_DATA_DIR": settings.data_dir,
        "COMMUNIS_STORE_PATH": settings.store_path,
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": settings.events_prefix,
        "COLUMNS": 300,  # Rich wraps at the terminal's width: one finding, one line
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def legacy(settings: Settings) -> Legacy:
    return Legacy(settings.data_dir / "access" / "users.db")


def _login(client: TestClient, name: str, password: str) -> int:
    return int(client.post("/login", data={"name": name, "password": password}, follow_redirects=False).status_code)


def test_the_old_users_sign_in_with_their_old_passwords_tokens_and_sessions(
    settings: Settings, legacy: Legacy, cli: CliRunner
) -> None:
    before = cli.invoke(app, ["doctor"])
    assert "communis user migrate" in before.output and "users.db" in before.output
    with TestClient(create_app(settings)) as web:
        assert _login(web, legacy.anna, ANNA_PASSWORD) == 401, "before the migration nobody is known"

    done = cli.invoke(app, ["user", "migrate"])
    assert done.exit_code == 0, done.output
    assert "3 users moved" in done.output and "tokens 4 moved" in done.output and "sessions 1 moved" in done.output
    assert not legacy.path.exists() and legacy.path.with_name("users.db.migrated").is_file()

    with TestClient(create_app(settings)) as web:
        assert _login(web, legacy.anna, ANNA_PASSWORD) == 303
        assert _login(web, legacy.admin, ADMIN_PASSWORD) == 303
        assert _login(web, legacy.bo, "bos lösenord") == 401, "a disabled user stays disabled"

        def audit_read(token: str) -> int:
            return int(web.get("/api/audit", headers={"Authorization": f"Bearer {token}"}).status_code)

        assert audit_read(legacy.admin_token) == 200
        assert [audit_read(legacy.anna_token), audit_read(legacy.anna_second)] == [403, 403], "signed in, no right"
        assert audit_read(legacy.bo_token) == 401
        web.cookies.clear()
        web.cookies.set("communis_session", legacy.session)
        assert web.get("/api/audit").status_code == 403, "the session is anna's: signed in, not an admin"
        web.cookies.set("communis_session", legacy.ended)
        assert web.get("/api/audit").status_code == 401

    users = open_users(settings)
    assert [(u.name, u.role, u.disabled) for u in users.list()] == [
        (legacy.admin, Role.ADMIN, False),
        (legacy.anna, Role.ARCHIVIST, False),
        (legacy.bo, Role.LEGAL, True),
    ]
    assert [t.expires_at > datetime.now(UTC) for t in users.tokens(legacy.anna)] == [True, True]
    assert users.has_admin()
    assert users.throttle.locked_until([("user", legacy.anna)], datetime.now(UTC)) is None
    assert users.store.get(f"throttle|user|{legacy.anna}") is None

    audit = open_audit(settings)
    audit.refresh()
    moved = [e for e in audit.latest(1000, action=AuditAction.USER_MIGRATE.value) if legacy.tag in e.target]
    assert sorted(e.target for e in moved) == sorted([legacy.admin, legacy.anna, legacy.bo])
    assert all(e.user == "migration" and e.client.startswith("cli:") for e in moved)
    [run] = [e for e in audit.latest(1000, action=AuditAction.USER_MIGRATE.value) if e.target == str(legacy.path)]
    assert "3 users moved" in run.note and "users.db.migrated" in run.note

    doctor = cli.invoke(app, ["doctor"])
    assert "3 users (1 active admins)" in doctor.output


def test_a_second_run_changes_nothing_and_needs_an_admin(settings: Settings, legacy: Legacy, cli: CliRunner) -> None:
    assert cli.invoke(app, ["user", "migrate"]).exit_code == 0
    again = cli.invoke(app, ["user", "migrate"])
    assert again.exit_code == 0 and "nothing to migrate" in again.output and "migrated already" in again.output

    moved = legacy.path.with_name("users.db.migrated")
    refused = cli.invoke(app, ["user", "migrate", "--from", str(moved)])  # the store has admins now
    assert refused.exit_code == 2 and "not signed in" in refused.output

    other = open_users(settings).add(f"anna2-{legacy.tag}", "archivist")[1]
    not_admin = cli.invoke(app, ["user", "migrate", "--from", str(moved)], env={"COMMUNIS_TOKEN": other})
    assert not_admin.exit_code == 2 and "lacks the users permission" in not_admin.output

    rerun = cli.invoke(app, ["user", "migrate", "--from", str(moved)], env={"COMMUNIS_TOKEN": legacy.admin_token})
    assert rerun.exit_code == 0, rerun.output
    assert "0 users moved, 3 there already" in rerun.output and "tokens 0 moved, 4 there already" in rerun.output
    assert moved.is_file(), "a file migrated already keeps its name"
    assert len(open_users(settings).list()) == 4


def test_a_name_another_user_holds_is_left_out_with_its_tokens(
    settings: Settings, legacy: Legacy, cli: CliRunner
) -> None:
    users = open_users(settings)
    users.add(legacy.anna, "read-only", "someone else's password")  # another anna, added on the new release
    done = cli.invoke(app, ["user", "migrate"])
    assert done.exit_code == 1 and f"not moved (the name is another user's in the store): {legacy.anna}" in done.output
    assert users.get(legacy.anna).role is Role.READ_ONLY
    for token in (legacy.anna_token, legacy.anna_second, legacy.session):
        with pytest.raises(AuthenticationFailed):
            users.user_for_token(token)
    with pytest.raises(AuthenticationFailed):
        users.user_for_session(legacy.session)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(legacy.anna, ANNA_PASSWORD)
    assert users.authenticate(legacy.admin, ADMIN_PASSWORD).name == legacy.admin


def test_a_file_that_is_not_a_user_file_is_refused_in_one_line(settings: Settings, cli: CliRunner) -> None:
    bogus = settings.data_dir / "not-users.db"
    bogus.parent.mkdir(parents=True)
    bogus.write_text("not a database")
    out = cli.invoke(app, ["user", "migrate", "--from", str(bogus)])
    assert out.exit_code == 2 and "cannot be read as a user file" in out.output
    missing = cli.invoke(app, ["user", "migrate", "--from", str(settings.data_dir / "nowhere.db")])
    assert missing.exit_code == 2 and "no user file at" in missing.output
    assert bogus.exists() and open_users(settings).list() == []
