"""Finding 7: sign-in and transport.

Sign-in is throttled per user name and per client address, with lockouts that are audited and
end by themselves (time is `archive.clock`, moved by the test: no sleeps); the client's address and
TLS are read from `X-Forwarded-For` / `X-Forwarded-Proto` only when a configured trusted proxy sends
them, and then the audit names the client and the cookie is `Secure` with HSTS; passwords are
hashed with at least OWASP's scrypt parameters, older hashes verify and are replaced at sign-in; API
tokens expire and are revoked one by one (`communis user token …`); the shared user store holds
only hashes of secrets (no password, token or session cookie), and an earlier release's user file is
read only by the migration, which leaves it private; and no credential is sent over plain HTTP to
another machine (Elasticsearch, S3, the alert webhook, Prefect's API).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archive.access import open_users
from archive.access.migrate import migrate_users
from archive.access.settings import AccessSettings
from archive.access.users import hash_password, token_digest
from archive.cli import app
from archive.config import Settings
from archive.errors import ConfigError
from schemas import AuditAction, Role
from tests.conftest import admin_es
from tests.legacy.users_sqlite import UserStore as LegacyUsers
from tests.security.conftest import PASSWORD, Clock, World

pytestmark = pytest.mark.integration

TIGHT = AccessSettings(
    login_max_failures_per_user=3,
    login_max_failures_per_address=100,
    login_window_seconds=600,
    login_lockout_seconds=900,
)


def _user(world: World, role: Role = Role.ARCHIVIST, password: str | None = PASSWORD) -> tuple[str, str]:
    name = f"u{uuid.uuid4().hex[:6]}-{world.run}"
    return name, open_users(world.settings).add(name, role, password)[1]


def _login(client: Any, name: str, password: str) -> Any:
    return client.post("/login", data={"name": name, "password": password, "next": "/"}, follow_redirects=False)


# --- throttling --------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_user_out_until_the_lockout_ends(world: World, clock: Clock) -> None:
    name, _ = _user(world)
    with world.app(TIGHT, client=("192.0.2.10", 4000)) as client:
        for _ in range(3):
            assert _login(client, name, "wrong").status_code == 401
        locked = _login(client, name, PASSWORD)
        assert locked.status_code == 429, "the right password is refused while the name is locked"
        assert "too many failed sign-ins" in locked.text
        clock.advance(899)
        assert _login(client, name, PASSWORD).status_code == 429
        clock.advance(2)
        signed_in = _login(client, name, PASSWORD)
        assert signed_in.status_code == 303 and "communis_session" in signed_in.headers["set-cookie"]
    [lockout] = world.events(action=AuditAction.LOGIN_LOCKOUT, target=f"user {name}")
    assert lockout.client == "192.0.2.10" and "3 failed sign-ins" in lockout.note
    refused = [e for e in world.events(user=name, action=AuditAction.LOGIN) if e.note.startswith("locked out")]
    assert len(refused) == 2


def test_failures_older_than_the_window_are_not_counted(world: World, clock: Clock) -> None:
    name, _ = _user(world)
    with world.app(TIGHT, client=("192.0.2.11", 4000)) as client:
        for _ in range(2):
            assert _login(client, name, "wrong").status_code == 401
        clock.advance(601)
        for _ in range(2):
            assert _login(client, name, "wrong").status_code == 401
        assert _login(client, name, PASSWORD).status_code == 303


def test_one_address_guessing_at_many_names_is_locked_out(world: World, clock: Clock) -> None:
    name, _ = _user(world)
    limits = AccessSettings(login_max_failures_per_user=100, login_max_failures_per_address=4)
    start = datetime.now(UTC)
    with world.app(limits, client=("192.0.2.20", 4000)) as guesser:
        for n in range(4):
            assert _login(guesser, f"nobody{n}-{world.run}", "guess").status_code == 401
        assert _login(guesser, name, PASSWORD).status_code == 429
    with world.app(limits, client=("192.0.2.21", 4000)) as other:
        assert _login(other, name, PASSWORD).status_code == 303
    assert any(e.target == "address 192.0.2.20" and e.at >= start for e in _recent(world, AuditAction.LOGIN_LOCKOUT))


def _recent(world: World, action: AuditAction) -> list[Any]:
    from archive.access import open_audit

    audit = open_audit(world.settings)
    audit.refresh()
    return audit.latest(1000, action=action)


# --- proxies, TLS, cookies ---------------------------------------------------------------------

BEHIND = AccessSettings(trusted_proxies=["10.0.0.0/8"])
FORWARDED = {"X-Forwarded-For": "203.0.113.99, 10.9.9.9", "X-Forwarded-Proto": "https"}


def _searched_from(world: World, client: Any, role: str) -> tuple[str, Any]:
    marker = f"m{uuid.uuid4().hex[:10]}"
    answer = client.get("/api/records", params={"q": marker}, headers={**world.headers(role), **FORWARDED})
    assert answer.status_code == 200
    [event] = [e for e in _recent(world, AuditAction.SEARCH) if marker in e.target]
    return event.client, answer


def test_a_trusted_proxy_names_the_client_and_its_tls(world: World) -> None:
    with world.app(BEHIND, client=("10.1.2.3", 5555)) as client:
        address, answer = _searched_from(world, client, "archivist")
        assert address == "203.0.113.99"
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
        name, _ = _user(world)
        cookie = client.post(
            "/login", data={"name": name, "password": PASSWORD}, headers=FORWARDED, follow_redirects=False
        ).headers["set-cookie"]
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()
    [login] = [e for e in _recent(world, AuditAction.LOGIN) if e.user == name]
    assert login.client == "203.0.113.99"


def test_forwarded_headers_from_anyone_else_are_ignored(world: World) -> None:
    with world.app(BEHIND, client=("198.51.100.5", 5555)) as client:
        address, answer = _searched_from(world, client, "archivist")
        assert address == "198.51.100.5"
        assert "strict-transport-security" not in answer.headers
        name, _ = _user(world)
        cookie = client.post(
            "/login", data={"name": name, "password": PASSWORD}, headers=FORWARDED, follow_redirects=False
        ).headers["set-cookie"]
        assert "secure" not in cookie.lower()


def test_direct_tls_gets_a_secure_cookie_and_hsts(world: World) -> None:
    name, _ = _user(world)
    with world.app(base_url="https://testserver") as client:
        signed_in = _login(client, name, PASSWORD)
        assert "secure" in signed_in.headers["set-cookie"].lower()
        assert "max-age=" in signed_in.headers["strict-transport-security"]


# --- passwords and tokens ----------------------------------------------------------------------


def test_scrypt_parameters_are_owasps_and_old_hashes_are_rehashed_at_sign_in(world: World) -> None:
    _, n, r, p, _, _ = hash_password("x").split("$")
    assert (int(n), int(r), int(p)) >= (2**17, 8, 1) and int(n) >= 2**17
    name, _ = _user(world, password=None)
    users = open_users(world.settings)
    old = hash_password(PASSWORD, n=2**14)
    assert users.store.update(f"user|{name}", {"password_hash": old})
    with world.app() as client:
        assert _login(client, name, PASSWORD).status_code == 303
    stored = users.store.get(f"user|{name}", with_hash=True)
    assert stored is not None
    now = stored.source["password_hash"]
    assert now != old and int(now.split("$")[1]) >= 2**17
    with world.app() as client:
        assert _login(client, name, PASSWORD).status_code == 303, "the new hash verifies"


def test_an_api_token_expires(world: World, clock: Clock) -> None:
    name, _ = _user(world)
    token = open_users(world.settings).new_token(name, days=1)
    with world.app() as client:
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/records", headers=bearer).status_code == 200
        clock.advance(86_401)
        expired = client.get("/api/records", headers=bearer)
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_tokens_are_made_listed_and_revoked_one_by_one_from_the_cli(
    world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, first = _user(world)
    monkeypatch.setenv("COMMUNIS_TOKEN", first)  # a user makes and revokes their own tokens
    made = cli.invoke(app, ["user", "token", "new", name, "--days", "5"])
    assert made.exit_code == 0, made.output
    second = made.output.strip().splitlines()[-1]
    listed = cli.invoke(app, ["user", "token", "list", name])
    assert listed.exit_code == 0, listed.output
    tokens = open_users(world.settings).tokens(name)
    assert len(tokens) == 2 and all(t.id in listed.output for t in tokens)
    second_id = token_digest(second)[:12]
    revoked = cli.invoke(app, ["user", "token", "revoke", name, second_id])
    assert revoked.exit_code == 0, revoked.output
    with world.app() as client:
        assert client.get("/api/records", headers={"Authorization": f"Bearer {second}"}).status_code == 401
        assert client.get("/api/records", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    assert cli.invoke(app, ["user", "token", "revoke", name, second_id]).exit_code == 2
    audit = {
        e.action
        for e in _recent(world, AuditAction.TOKEN_ADD) + _recent(world, AuditAction.TOKEN_REVOKE)
        if e.target == name
    }
    assert audit == {AuditAction.TOKEN_ADD, AuditAction.TOKEN_REVOKE}


# --- the user store ----------------------------------------------------------------------------


def test_the_user_store_holds_hashes_of_secrets_only(world: World) -> None:
    """A password, an API token and a session cookie in use; then every document of the access index, as
    the cluster's admin reads it, is searched for them: only their hashes are there. No user file is made
    on this host's disk."""
    password = f"ett långt lösenord {uuid.uuid4().hex[:8]}"
    name, token = _user(world, password=password)
    with world.app() as client:
        signed_in = _login(client, name, password)
        assert signed_in.status_code == 303
        cookie = signed_in.cookies["communis_session"]
        assert client.get("/api/records", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    es = admin_es()
    es.indices.refresh(index=world.settings.access_index)
    hits = es.search(index=world.settings.access_index, size=10_000, query={"match_all": {}})["hits"]["hits"]
    raw = str(hits)
    assert password not in raw and token not in raw and cookie not in raw
    assert password.encode().hex() not in raw
    ids = {h["_id"] for h in hits}
    assert f"token|{token_digest(token)}" in ids and f"session|{token_digest(cookie)}" in ids
    assert not (world.settings.data_dir / "access").exists()


@pytest.fixture
def loose_umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_an_earlier_releases_user_file_is_read_only_by_the_migration_and_stays_private(
    settings: Settings, loose_umask: None
) -> None:
    """The old file is opened read-only, and renamed with its mode (0600) kept: never readable by others."""
    old = LegacyUsers(settings.data_dir / "access" / "users.db")
    old.add("eva", Role.ADMIN, PASSWORD)
    before = old.path.read_bytes()
    done = migrate_users(settings, by=None, client="test")
    assert done.moved_to is not None and not old.path.exists()
    assert done.moved_to.read_bytes() == before, "the migration wrote nothing into the file"
    assert done.moved_to.stat().st_mode & 0o777 == 0o600 and done.moved_to.parent.stat().st_mode & 0o777 == 0o700


# --- no credential over plain HTTP to another machine ------------------------------------------


@pytest.mark.parametrize(
    ("fields", "setting"),
    [
        ({"es_url": "http://es.example:9200", "es_api_key": "k"}, "COMMUNIS_ES_URL"),
        ({"es_url": "http://elastic:pw@es.example:9200"}, "COMMUNIS_ES_URL"),
        (
            {"store": "s3", "s3_endpoint_url": "http://s3.example", "s3_access_key": "a", "s3_secret_key": "b"},
            "COMMUNIS_S3_ENDPOINT_URL",
        ),
        ({"alert_webhook_url": "http://hooks.example/T0/s3cr3t-path"}, "COMMUNIS_ALERT_WEBHOOK_URL"),
    ],
)
def test_a_credential_to_a_plain_http_host_is_refused(tmp_path: Path, fields: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(data_dir=tmp_path, **fields)  # type: ignore[arg-type]
    line = caught.value.one_line()
    assert setting in line and "without TLS" in line and "s3cr3t" not in line and "pw" not in line.split("—")[0]


def test_loopback_and_tls_are_allowed(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, es_url="http://127.0.0.1:9200", es_api_key="k")
    Settings(data_dir=tmp_path, es_url="http://localhost:9200", es_api_key="k")
    Settings(data_dir=tmp_path, es_url="http://[::1]:9200", es_api_key="k")
    Settings(data_dir=tmp_path, es_url="https://es.example:9200", es_api_key="k")
    Settings(data_dir=tmp_path, es_url="http://es.example:9200", es_username=None, es_password=None)  # nothing to leak


def test_prefects_api_credential_is_not_sent_over_plain_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "admin:pass")
    with pytest.raises(ConfigError, match="PREFECT_API_URL"):
        Settings(data_dir=tmp_path)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    Settings(data_dir=tmp_path)


def test_the_alert_webhook_is_not_called_over_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal comes before any connection: a guard refuses (and records) every non-loopback connect."""
    from archive.harvest.health import notify

    tried: list[Any] = []
    real = socket.socket.connect

    def guard(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1"):
            tried.append(address)
            raise OSError("test guard: no traffic leaves this machine")
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guard)
    assert notify("http://192.0.2.1/hooks/s3cr3t", []) is False
    assert tried == []


def test_an_ipv6_client_is_counted_by_its_64_network(world: World, clock: Clock) -> None:
    name, _ = _user(world)
    limits = AccessSettings(login_max_failures_per_user=100, login_max_failures_per_address=3)
    net = f"2001:db8:{world.run[:4]}:{world.run[4:8]}"  # this run's own /64: the audit stream outlives runs
    for host in (f"{net}::a", f"{net}::b", f"{net}:ffff::c"):
        with world.app(limits, client=(host, 4000)) as rotating:
            assert _login(rotating, f"nobody-{world.run}", "guess").status_code == 401
    with world.app(limits, client=(f"{net}::d", 4000)) as same_network:
        assert _login(same_network, name, PASSWORD).status_code == 429
    with world.app(limits, client=("2001:db8:ffff:ffff::a", 4000)) as next_network:
        assert _login(next_network, name, PASSWORD).status_code == 303
    network = str(ipaddress.ip_network(f"{net}::/64"))  # as Python writes it (no leading zeros)
    [lockout] = [e for e in _recent(world, AuditAction.LOGIN_LOCKOUT) if e.target == f"address {network}"]
    assert lockout.client == f"{net}:ffff::c"


def test_tokens_made_before_expiries_existed_expire_90_days_after_they_were_made(settings: Settings) -> None:
    from datetime import timedelta

    from archive.errors import AuthenticationFailed

    path = settings.data_dir / "access" / "users.db"
    path.parent.mkdir(parents=True, mode=0o700)
    now = datetime.now(UTC)
    with sqlite3.connect(path) as db:  # the file as the first version wrote it
        db.executescript(
            "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT,"
            " disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);"
            "CREATE TABLE tokens (token_sha256 TEXT PRIMARY KEY, user_name TEXT NOT NULL REFERENCES users(name),"
            " created_at TEXT NOT NULL);"
        )
        db.execute("INSERT INTO users VALUES ('eva', 'archivist', NULL, 0, ?)", (now.isoformat(),))
        for token, age in (("old-token", 91), ("recent-token", 1)):
            made = (now - timedelta(days=age)).isoformat()
            db.execute("INSERT INTO tokens VALUES (?, 'eva', ?)", (token_digest(token), made))
    done = migrate_users(settings, by=None, client="test")
    assert done.users == ["eva"] and done.tokens == (2, 0)
    users = open_users(settings)
    assert users.user_for_token("recent-token").name == "eva"
    with pytest.raises(AuthenticationFailed, match="expired"):
        users.user_for_token("old-token")
