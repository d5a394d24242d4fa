"""Finding 3: two-person disposal and hold release trust people who signed in, not names.

One person with one shell and their own token tries every route by which they might act alone: the
CLI under other names (`--actor`, `$USER`), the CLI signed in as themselves for every step, the web
API and the web forms, and the nightly flow's signature. Every state-changing command acts as the
user its token names, the use cases check the same permissions as the web routes, and planner,
approver and executor are three different people (or the flow and two people). Also: hold release
needs the `holds` permission from every door (the S3 legal hold stays on MinIO when refused), and
`communis user add` / `user token new` are not open to anyone once the first admin exists.
"""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.access import open_audit, open_users
from archive.cli import app
from archive.config import Settings, get_settings
from archive.context import Archive
from archive.holds import load_holds, place_hold, release_hold
from archive.retention.actors import FLOW_AGENT
from archive.retention.approve import approve
from archive.retention.book import RetentionError, load_list
from archive.retention.plan import plan
from archive.retention.schedule import load_schedule
from archive.store import S3Store
from schemas import AuditAction, AuditOutcome, Role
from schemas.schedule import ListStatus
from schemas.search import SavedSearch
from tests.conftest import REPO, s3_environment
from tests.security.conftest import PASSWORD, World

pytestmark = pytest.mark.integration


def _one_line(result: object) -> str:
    return " ".join(getattr(result, "output", "").split())


def _as(monkeypatch: pytest.MonkeyPatch, world: World, role: str) -> str:
    """Sign the CLI in with `role`'s own token; returns the user's name."""
    monkeypatch.setenv("COMMUNIS_TOKEN", world.users[role][1])
    return world.name(role)


def _manager(world: World, tag: str) -> tuple[str, str]:
    """Another records manager of this world (name, token): a second or third person."""
    name = f"rm{tag}-{world.run}"
    return name, open_users(world.settings).add(name, Role.RECORDS_MANAGER, token_days=1)[1]


def _planned(world: World, by: str) -> str:
    """A disposition list planned now by `by` (its groups do not matter: the signatures do)."""
    arc, now = world.arc, datetime.now(UTC)
    return plan(arc.settings, arc.store, arc.index, load_schedule(arc.settings), as_of=now, planned_by=by, now=now).id


# --- the command line under other names ------------------------------------------------------------


def test_the_cli_takes_no_name_for_who_acts(world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--actor bo` and `USER=bo` no longer make anyone `bo`: without a token nothing is signed, with one
    the token's user signs."""
    anna = world.name("records-manager")
    list_id = _planned(world, anna)
    bo, _ = _manager(world, "bo")

    named = cli.invoke(app, ["retention", "approve", list_id, "--actor", bo])
    assert named.exit_code == 2 and "--actor" in _one_line(named)  # no such option
    for variable in ("USER", "LOGNAME", "USERNAME"):
        monkeypatch.setenv(variable, bo)
    for step in (["retention", "approve", list_id], ["retention", "dispose", list_id], ["retention", "plan"]):
        refused = cli.invoke(app, step)
        assert refused.exit_code == 2, refused.output
        assert "not signed in" in _one_line(refused) and "communis login" in _one_line(refused)
    assert load_list(world.arc.store, list_id).status is ListStatus.PLANNED
    denied = world.events(action=AuditAction.RETENTION_APPROVE, outcome=AuditOutcome.DENIED, target=list_id)
    assert denied and denied[0].user == f"os:{bo}" and denied[0].role is None  # the attempt is on record

    _as(monkeypatch, world, "records-manager")  # anna's own token, while $USER still says bo
    own = cli.invoke(app, ["retention", "approve", list_id])
    assert own.exit_code == 2 and f"{anna} cannot approve a list they planned" in _one_line(own)
    assert load_list(world.arc.store, list_id).status is ListStatus.PLANNED


def test_one_signed_in_person_cannot_plan_approve_and_execute(
    world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anna plans on the CLI; she cannot approve; once Bo approved, neither Anna (the planner) nor Bo
    (the approver) may execute: only a third person does."""
    anna = _as(monkeypatch, world, "records-manager")
    planned = cli.invoke(app, ["retention", "plan"])
    assert planned.exit_code == 0, planned.output
    list_id = planned.output.split()[-1]
    assert load_list(world.arc.store, list_id).planned_by == anna
    assert cli.invoke(app, ["retention", "approve", list_id]).exit_code == 2

    bo, bo_token = _manager(world, "bo2")
    monkeypatch.setenv("COMMUNIS_TOKEN", bo_token)
    assert cli.invoke(app, ["retention", "approve", list_id]).exit_code == 0
    assert load_list(world.arc.store, list_id).approved_by == bo
    assert cli.invoke(app, ["retention", "dispose", list_id]).exit_code == 2  # the approver

    _as(monkeypatch, world, "records-manager")
    back = cli.invoke(app, ["retention", "dispose", list_id])  # the planner, back again
    assert back.exit_code == 2 and f"{anna} cannot execute a list they planned" in _one_line(back)
    assert load_list(world.arc.store, list_id).status is ListStatus.APPROVED

    _as(monkeypatch, world, "admin")  # a third person
    done = cli.invoke(app, ["retention", "dispose", list_id])
    assert done.exit_code == 0, done.output
    listed = load_list(world.arc.store, list_id)
    assert listed.status is ListStatus.EXECUTED
    assert len({listed.planned_by, listed.approved_by, world.name("admin")}) == 3
    [event] = world.events(action=AuditAction.RETENTION_DISPOSE, outcome=AuditOutcome.OK, target=list_id)
    assert (event.user, event.role) == (world.name("admin"), Role.ADMIN)  # the audit names who signed in


def test_roles_are_checked_for_retention_steps_on_the_cli(
    world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = _planned(world, world.name("admin"))
    for role in ("archivist", "legal", "read-only"):
        _as(monkeypatch, world, role)
        for step in (["retention", "approve", list_id], ["retention", "plan"]):
            refused = cli.invoke(app, step)
            assert refused.exit_code == 2 and "lacks retention" in _one_line(refused), refused.output
    assert load_list(world.arc.store, list_id).status is ListStatus.PLANNED


# --- the nightly flow, the web API and the web forms ---------------------------------------------


def test_the_flow_plans_but_signs_nothing_and_one_person_cannot_finish_its_list(world: World) -> None:
    """The flow's name is no user (names cannot hold ':'), so it cannot approve or execute; a list it
    planned still needs two different people."""
    arc, now = world.arc, datetime.now(UTC)
    list_id = _planned(world, FLOW_AGENT)
    with pytest.raises(RetentionError, match="not a local user"):
        approve(arc.settings, arc.store, list_id, by=FLOW_AGENT, now=now)
    anna = world.name("records-manager")
    approve(arc.settings, arc.store, list_id, by=anna, now=now)
    from archive.retention.dispose import dispose

    for who in (anna, FLOW_AGENT):
        with pytest.raises(RetentionError, match="cannot execute"):
            dispose(arc.settings, arc.store, arc.index, list_id, by=who, now=now)
    # the flows only plan: no flow calls approve or dispose
    for flow in (REPO / "flows").glob("*.py"):
        text = flow.read_text(encoding="utf-8")
        assert "retention.approve" not in text and "retention.dispose" not in text, flow


def test_no_web_door_approves_or_executes_a_disposal(world: World) -> None:
    with world.app() as client:
        paths = client.get("/openapi.json", headers=world.headers("admin")).json()["paths"]
        assert not [p for p in paths if "retention" in p or "dispos" in p]
        for path in ("/api/retention/approve", "/retention", "/api/retention/lists"):
            assert client.post(path, headers=world.headers("admin")).status_code in {404, 405}


def test_an_archivist_cannot_release_a_hold_from_any_door(
    world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = world.hold_id
    refused = cli.invoke(app, ["hold", "release", hold])  # nobody signed in
    assert refused.exit_code == 2 and "not signed in" in _one_line(refused)
    archivist = _as(monkeypatch, world, "archivist")
    refused = cli.invoke(app, ["hold", "release", hold])
    assert refused.exit_code == 2 and "lacks holds" in _one_line(refused), refused.output
    listed = cli.invoke(app, ["hold", "list"])  # as GET /api/holds: legal staff's business
    assert listed.exit_code == 2 and "lacks holds" in _one_line(listed) and hold not in listed.output
    with world.app() as client:
        assert client.post(f"/api/holds/{hold}/release", headers=world.headers("archivist")).status_code == 403
        form = client.post(
            "/login", data={"name": archivist, "password": PASSWORD, "next": "/"}, follow_redirects=False
        )
        assert form.status_code == 303
        page = client.post(f"/holds/{hold}/release", headers={"Sec-Fetch-Site": "same-origin"})
        assert page.status_code == 403
    assert [h.active for h in load_holds(world.arc.store) if h.id == hold] == [True]
    world.arc.index.refresh()
    assert world.arc.index.get(world.held_id)["legal_holds"] == [hold]
    denied = world.events(action=AuditAction.HOLD_RELEASE, outcome=AuditOutcome.DENIED, user=archivist)
    assert denied and denied[0].role is Role.ARCHIVIST


def test_request_steps_need_legal_on_the_cli(world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    _as(monkeypatch, world, "read-only")
    assert "lacks requests-view" in _one_line(cli.invoke(app, ["request", "list"]))
    _as(monkeypatch, world, "archivist")
    opened = cli.invoke(app, ["request", "new", "--platform", "mastodon"])
    assert opened.exit_code == 2 and "lacks requests" in _one_line(opened), opened.output
    legal = _as(monkeypatch, world, "legal")
    opened = cli.invoke(app, ["request", "new", "--platform", "mastodon"])
    assert opened.exit_code == 0, opened.output
    case_id = opened.output.split()[-1]
    [event] = world.events(action=AuditAction.REQUEST_CREATE, outcome=AuditOutcome.OK, target=case_id)
    assert (event.user, event.role) == (legal, Role.LEGAL)
    _as(monkeypatch, world, "records-manager")
    assert "lacks requests" in _one_line(cli.invoke(app, ["request", "export", case_id]))


@pytest.fixture
def s3_hold(s3_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Archive, str, list[str]]]:
    """The Mastodon sample on MinIO with one legal hold over it (Object Lock legal hold on its files)."""
    from archive.accounts import load_accounts
    from archive.bundles import read_file
    from archive.samples import ACCOUNTS_FILE, sample_file

    arc = Archive(s3_settings)
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, s3_settings):
        if account.platform.value == "mastodon":
            pipeline.ingest(account, read_file(sample_file(account.id)))
    arc.index.refresh()
    outcome = place_hold(
        arc.store,
        arc.index,
        matter="Mål T 1-26",
        owner="jurist",
        scope=SavedSearch(platform="mastodon"),
        now=datetime.now(UTC),
    )
    assert outcome.files and isinstance(arc.store, S3Store)
    for name, value in s3_environment(s3_settings).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield arc, outcome.hold.id, list(outcome.files)
    finally:
        get_settings.cache_clear()
        if any(h.active for h in load_holds(arc.store)):
            release_hold(arc.store, arc.index, outcome.hold.id, by="test", now=datetime.now(UTC))
        arc.index.destroy()


def test_a_refused_cli_release_leaves_the_s3_legal_hold_on(
    s3_hold: tuple[Archive, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    arc, hold_id, files = s3_hold
    users = open_users(arc.settings)
    archivist = f"arkivarie-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("COMMUNIS_TOKEN", users.add(archivist, Role.ARCHIVIST, token_days=1)[1])
    refused = CliRunner().invoke(app, ["hold", "release", hold_id])
    assert refused.exit_code == 2 and "lacks holds" in _one_line(refused), refused.output
    assert all(arc.store.head(k).legal_hold for k in files)  # type: ignore[union-attr]
    assert [h.active for h in load_holds(arc.store)] == [True]

    jurist = f"jurist-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("COMMUNIS_TOKEN", users.add(jurist, Role.LEGAL, token_days=1)[1])
    released = CliRunner().invoke(app, ["hold", "release", hold_id])
    assert released.exit_code == 0, released.output
    assert not any(arc.store.head(k).legal_hold for k in files)  # type: ignore[union-attr]
    assert [h.released_by for h in load_holds(arc.store)] == [jurist]


# --- users and tokens ------------------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """An installation with no users yet (its own data folder), the CLI pointed at it."""
    from tests.conftest import EVENTS_PREFIX, drop_access

    settings = Settings(
        data_dir=tmp_path / "data",
        store_path=tmp_path / "store",
        es_index_prefix=f"test-{uuid.uuid4().hex[:8]}",
        events_prefix=EVENTS_PREFIX,
    )
    for name, value in {
        "COMMUNIS_DATA_DIR": settings.data_dir,
        "COMMUNIS_STORE_PATH": settings.store_path,
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": EVENTS_PREFIX,
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()
    drop_access(settings)


def test_only_the_first_admin_is_added_without_signing_in(fresh: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, tag = CliRunner(), uuid.uuid4().hex[:6]
    early = cli.invoke(app, ["user", "add", f"rm-{tag}", "--role", "records-manager"])
    assert early.exit_code == 2 and "the first user must be one" in _one_line(early)
    first = cli.invoke(app, ["user", "add", f"admin-{tag}", "--role", "admin"])
    assert first.exit_code == 0, first.output
    admin_token = first.output.strip().splitlines()[-1]

    for role in ("admin", "records-manager"):  # nobody signed in: refused, whatever the role
        again = cli.invoke(app, ["user", "add", f"x{role[:2]}-{tag}", "--role", role])
        assert again.exit_code == 2 and "not signed in" in _one_line(again), again.output
    with pytest.raises(Exception, match="no user"):
        open_users(fresh).get(f"xad-{tag}")

    monkeypatch.setenv("COMMUNIS_TOKEN", admin_token)
    made = cli.invoke(app, ["user", "add", f"anna-{tag}", "--role", "archivist"])
    assert made.exit_code == 0, made.output
    anna_token = made.output.strip().splitlines()[-1]
    monkeypatch.setenv("COMMUNIS_TOKEN", anna_token)  # an archivist adds nobody, and mints no token for others
    for step in (
        ["user", "add", f"bo-{tag}", "--role", "admin"],
        ["user", "token", "new", f"admin-{tag}"],
        ["user", "disable", f"admin-{tag}"],
    ):
        refused = cli.invoke(app, step)
        assert refused.exit_code == 2 and "lacks the users permission" in _one_line(refused), refused.output
    assert cli.invoke(app, ["user", "token", "new", f"anna-{tag}"]).exit_code == 0  # their own: yes
    monkeypatch.delenv("COMMUNIS_TOKEN")
    anyone = cli.invoke(app, ["user", "token", "new", f"admin-{tag}"])  # the old hole: a token for anyone
    assert anyone.exit_code == 2 and "not signed in" in _one_line(anyone)
    assert len(open_users(fresh).tokens(f"admin-{tag}")) == 1
    audit = open_audit(fresh)
    audit.refresh()
    [bootstrap] = [e for e in audit.latest(1000, action=AuditAction.USER_ADD.value) if e.target == f"admin-{tag}"]
    assert bootstrap.user == "bootstrap" and "first admin" in bootstrap.note
    [by_admin] = [e for e in audit.latest(1000, action=AuditAction.USER_ADD.value) if e.target == f"anna-{tag}"]
    assert (by_admin.user, by_admin.role) == (f"admin-{tag}", Role.ADMIN)


def test_login_keeps_a_private_token_and_logout_revokes_it(
    world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive.access.login import token_file

    name = f"login-{uuid.uuid4().hex[:6]}-{world.run}"
    open_users(world.settings).add(name, Role.LEGAL, PASSWORD)
    wrong = cli.invoke(app, ["login", name, "--password-stdin"], input="fel\n")
    assert wrong.exit_code == 2 and "wrong user name or password" in _one_line(wrong)
    assert not token_file().exists()
    done = cli.invoke(app, ["login", name, "--password-stdin"], input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    path = token_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token = path.read_text().strip()
    assert token not in done.output  # never printed
    assert name in cli.invoke(app, ["whoami"]).output
    assert world.events(action=AuditAction.LOGIN, outcome=AuditOutcome.DENIED, user=name)

    path.chmod(0o644)  # readable by others: not used
    loose = cli.invoke(app, ["whoami"])
    assert loose.exit_code == 2 and "readable by other users" in _one_line(loose)
    path.chmod(0o600)

    assert cli.invoke(app, ["logout"]).exit_code == 0
    assert not path.exists()
    with pytest.raises(Exception, match="revoked"):
        open_users(world.settings).user_for_token(token)
    monkeypatch.setenv("COMMUNIS_TOKEN", token)  # a revoked token in the environment is refused too
    stale = cli.invoke(app, ["hold", "release", world.hold_id])
    assert stale.exit_code == 2 and "refused" in _one_line(stale) and "communis login" in _one_line(stale)
    assert token not in stale.output


def test_a_disabled_users_token_signs_nothing(world: World, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"gone-{uuid.uuid4().hex[:6]}-{world.run}"
    token = open_users(world.settings).add(name, Role.RECORDS_MANAGER, token_days=1)[1]
    open_users(world.settings).disable(name)
    monkeypatch.setenv("COMMUNIS_TOKEN", token)
    refused = cli.invoke(app, ["retention", "plan"])
    assert refused.exit_code == 2 and "disabled" in _one_line(refused)
