"""Retention schedule and disposal on real Elasticsearch and MinIO (Object Lock), with time controlled.

Time: records are captured "one day minus an hour ago" under a one-day class, so the Object Lock
retain-until the pipeline sets from the class (capture + 1 day) lies an hour ahead when the file
is stored (MinIO refuses a retain-until in the past; an hour is far beyond any ingest, however slow
the machine). Disposal dates are judged as of the `as_of`/`now` the tests pass. No test waits for
a lock to run out: `World.let_locks_expire` makes the moment pass (see there for how, per store).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from archive import clock
from archive.access import open_audit, open_users
from archive.config import Settings
from archive.context import Archive, open_pipeline
from archive.errors import ConfigError
from archive.holds import place_hold
from archive.index.client import make_client
from archive.preservation.premis import open_premis
from archive.requests.casebook import CaseBook
from archive.requests.workflow import new_case, run_case
from archive.retention import book as rbook
from archive.retention.approve import approve
from archive.retention.book import RetentionError, load_list
from archive.retention.dispose import dispose
from archive.retention.erasure import erasure_request
from archive.retention.plan import plan
from archive.retention.schedule import Schedule, load_schedule
from archive.store import open_disposal_store
from archive.store.s3 import S3Store
from schemas import Account, AuditAction, LockMode, RetentionClass, RetentionTrigger
from schemas.bundle import CaptureBundle
from schemas.capture import Capture
from schemas.premis import PremisEventType
from schemas.record import Direction, Kind, Record
from schemas.schedule import FileOutcomeKind, ListStatus
from schemas.search import SavedSearch
from tests.conftest import s3_environment
from tests.signing import sign_in
from tests.waiting import PREFECT_STARTUP_S

pytestmark = pytest.mark.integration

LOCK_AHEAD = timedelta(hours=1)  # between storing a file and its Object Lock expiring

SCHEDULE = """
rules:
  - id: egna-inlagg
    description: Kommunens egna inlägg
    match: {directions: [upprattad]}
    class: bevara
    action: keep
    decision: {body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 45, dnr KS 2025/77"}
  - id: kommentarer
    description: Medborgares kommentarer
    series: Sociala medier – inkomna kommentarer
    match: {directions: [inkommen], kinds: [comment]}
    class: test-1d
    trigger: captured
    decision: {body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 45, dnr KS 2025/77",
               schedule: WA CORE, item: GS2016-009}
  - id: svar-utkast
    description: Svar på kommentarer (utkast)
    match: {kinds: [reply]}
    class: test-1d
"""


@dataclass
class World:
    arc: Archive
    t0: datetime  # capture time of the "old" records; their lock expires at t0 + 1 day
    schedule: Schedule
    monkeypatch: pytest.MonkeyPatch

    @property
    def lock_expiry(self) -> datetime:
        return self.t0 + timedelta(days=1)

    def let_locks_expire(self) -> None:
        """Let the moment `lock_expiry` pass without waiting for it (no test sleeps until a lock runs out).

        Local store: the store judges locks by Communis's clock (`archive.clock.now`), so the clock
        is moved past the expiry and the store's own check then lets deletes through, as on that day.

        MinIO: its clock is the real one and cannot be moved, and a retain-until in the past cannot
        be set (it refuses one). What S3 does when a retain-until passes is make the lock inert, so
        the test does exactly that, and only to the object versions whose retain-until has passed by
        `lock_expiry`: as the bucket's administrator, it removes their GOVERNANCE retention with the
        bypass right (the root user's; Communis never asks for a bypass). Every other object keeps
        its lock in force on the server, and what Communis does next is what runs for real: list
        the versions, delete each, stop on a lock (or legal hold) that still holds.
        test_object_lock_refuses_an_early_deletion shows MinIO refusing while a lock is in force.
        """
        moment = self.lock_expiry + timedelta(seconds=1)
        store = self.arc.store
        if not isinstance(store, S3Store):
            self.monkeypatch.setattr(clock, "now", lambda: moment)
            return
        listing = store.client.list_object_versions(Bucket=store.bucket, Prefix=store.prefix)
        for version in listing.get("Versions", []):
            head = store.client.head_object(Bucket=store.bucket, Key=version["Key"], VersionId=version["VersionId"])
            until = head.get("ObjectLockRetainUntilDate")
            if until is None or until > moment:
                continue
            assert head["ObjectLockMode"] == LockMode.GOVERNANCE.value, version["Key"]
            store.client.put_object_retention(
                Bucket=store.bucket,
                Key=version["Key"],
                VersionId=version["VersionId"],
                Retention={},
                BypassGovernanceRetention=True,
            )

    def ingest(self, account: str, *records: tuple[Kind, Direction], captured: datetime | None = None) -> list[str]:
        """One pipeline run (so one WARC file) of `records` on `account`; returns their record ids."""
        when = captured or self.t0
        acc = Account(
            id=account,
            platform="mastodon",
            handle=f"@{account}",
            display_name=account,
            department="Kommunstyrelsen",
            retention_class="test-1d",
            base_url="https://social.example",
        )
        recs = [
            Record(
                platform="mastodon",
                account=account,
                item_id=uuid.uuid4().hex[:10],
                kind=kind,
                direction=direction,
                text=f"{kind.value} {n} på {account}",
                captured_at=when,
                published_at=when - timedelta(minutes=5),
            )
            for n, (kind, direction) in enumerate(records)
        ]
        body = json.dumps([r.item_id for r in recs]).encode()
        bundle = CaptureBundle(
            capture=Capture(
                url=f"https://social.example/api/{uuid.uuid4().hex}", status=200, body=body, started_at=when
            ),
            records=recs,
        )
        report = open_pipeline(self.arc.settings, self.arc.store, self.arc.index).ingest(acc, [bundle])
        assert report.indexed == len(recs) and not report.index_errors
        return [r.record_id for r in recs]

    def key_of(self, record_id: str) -> str:
        return str(self.arc.index.get(record_id)["warc_key"])

    def versions(self, key: str) -> list[dict[str, object]]:
        store = self.arc.store
        assert isinstance(store, S3Store)
        listing = store.client.list_object_versions(Bucket=store.bucket, Prefix=store.prefix + key)
        return [v for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]

    def gone(self, key: str) -> bool:
        """Nothing of `key` is left in the store: no object (S3: no version and no delete marker)."""
        if isinstance(self.arc.store, S3Store):
            return self.versions(key) == []
        return self.arc.store.head(key) is None

    def present(self, ids: list[str]) -> int:
        self.arc.index.es.indices.refresh(index=self.arc.index.alias)
        return self.arc.index.count({"ids": {"values": ids}})


def with_schedule(base: Settings, tmp_path: Path) -> Settings:
    """`base` with the tests' retention schedule, a one-day class, two records managers and an admin."""
    schedule_file = tmp_path / "retention.yaml"
    schedule_file.write_text(SCHEDULE)
    test_class = RetentionClass(
        name="test-1d", description="One day from capture (tests).", days=1, trigger=RetentionTrigger.CAPTURED
    )
    settings = base.model_copy(
        update={"retention_file": schedule_file, "retention_classes": [*base.retention_classes, test_class]}
    )
    add_people(settings)
    return settings


def add_people(settings: Settings) -> None:
    """The two records managers and the admin who plan, approve and execute, in `settings`' user store."""
    users = open_users(settings)
    for name, role in (("anna", "records-manager"), ("bo", "records-manager"), ("cilla", "admin")):
        users.add(name, role)


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """MinIO unless the test asks for the local store too (`indirect` parametrization with "local")."""
    base: Settings = request.getfixturevalue(
        "settings" if getattr(request, "param", "s3") == "local" else "s3_settings"
    )
    settings = with_schedule(base, tmp_path)
    open_users(settings).add("dan", "archivist")
    arc = Archive(settings)
    yield World(arc, datetime.now(UTC) - timedelta(days=1) + LOCK_AHEAD, load_schedule(settings), monkeypatch)
    CaseBook(make_client(settings), settings.es_index_prefix).destroy()
    open_audit(settings).destroy()
    arc.index.destroy()


def test_schedule_errors_name_the_file_rule_and_field(tmp_path: Path, settings: Settings) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - id: kommentarer\n    description: x\n    class: short-2y\n    match: {kinds: [tweet]}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_schedule(settings.model_copy(update={"retention_file": bad}))
    assert str(err.value).startswith(f"{bad}: rule kommentarer: field match.kinds: unknown kind(s) tweet")
    bad.write_text("rules:\n  - id: k\n    description: x\n    class: tio-ar\n")
    with pytest.raises(ConfigError, match="rule k: field class: unknown retention class 'tio-ar'"):
        load_schedule(settings.model_copy(update={"retention_file": bad}))
    sample = load_schedule(settings)  # the shipped sample: two adopted rules and one draft
    assert [(r.id, r.active) for r in sample.rules] == [
        ("kommunens-inlagg", True),
        ("medborgares-kommentarer", True),
        ("kultur-inkomna-poster", False),
    ]


@pytest.mark.parametrize("world", ["local", "s3"], indirect=True)
def test_plan_approve_dispose_certificate(world: World) -> None:
    arc = world.arc
    due = world.ingest("sv-due", (Kind.COMMENT, Direction.INKOMMEN), (Kind.COMMENT, Direction.INKOMMEN))
    post, mixed_comment = world.ingest("sv-mixed", (Kind.POST, Direction.UPPRATTAD), (Kind.COMMENT, Direction.INKOMMEN))
    [draft] = world.ingest("sv-draft", (Kind.REPLY, Direction.INKOMMEN))
    [uncovered] = world.ingest("sv-norule", (Kind.POST, Direction.INKOMMEN))
    [held] = world.ingest("sv-held", (Kind.COMMENT, Direction.INKOMMEN))
    [requested] = world.ingest("sv-case", (Kind.COMMENT, Direction.INKOMMEN))
    [fresh] = world.ingest("sv-fresh", (Kind.COMMENT, Direction.INKOMMEN), captured=datetime.now(UTC))
    hold = place_hold(
        arc.store,
        arc.index,
        matter="Mål T 1-26",
        owner="jurist",
        now=datetime.now(UTC),
        scope=SavedSearch(record_ids=[held]),
    )
    cases = CaseBook(make_client(arc.settings), arc.settings.es_index_prefix)
    case = new_case(cases, searches=[SavedSearch(account="sv-case")], handler="registrator", now=datetime.now(UTC))
    run_case(cases, arc.index, case.id, spans=lambda text: [])
    originals = {d: arc.index.get(d) for d in due}

    # Before the period has run nothing is due; once it has, exactly the file of due records.
    assert (
        plan(
            arc.settings,
            arc.store,
            arc.index,
            world.schedule,
            as_of=world.t0 + timedelta(hours=23),
            planned_by="anna",
            now=datetime.now(UTC),
            save=False,
        ).groups
        == []
    )
    as_of = world.lock_expiry + timedelta(seconds=1)
    planned = plan(
        arc.settings, arc.store, arc.index, world.schedule, as_of=as_of, planned_by="anna", now=datetime.now(UTC)
    )
    listed = load_list(arc.store, planned.id)  # the whole list, as stored (planning returns its summary)
    assert planned == listed.summary()
    [group] = listed.groups
    assert group.key == world.key_of(due[0]) and sorted(r.record_id for r in group.records) == sorted(due)
    assert [c.rule_id for c in group.rules] == ["kommentarer"]
    assert group.rules[0].decision.cite() == (
        "Kommunstyrelsen, 2025-03-12: KS 2025-03-12 § 45, dnr KS 2025/77 (WA CORE item GS2016-009)"
    )
    assert {r.warc_sha256 for r in group.records} == {originals[d]["warc"]["sha256"] for d in due}
    assert group.bytes > 0 and group.file_sha256 and group.retention_met == world.lock_expiry
    e = listed.excluded
    # (the fresh comment is newer than the shortest period, so it is not even scanned: not_due stays 0)
    assert (e.held, e.open_case, e.draft_rule, e.no_rule, e.file_kept, e.not_due) == (1, 1, 1, 1, 1, 0)
    assert [(k.key, k.reason) for k in listed.kept_files] == [
        (world.key_of(mixed_comment), "file kept: also holds retained records")
    ]
    assert rbook.list_csv(listed).count("\n") == 3  # header + two records
    assert load_list(arc.store, listed.id).status is ListStatus.PLANNED

    # Two people: the planner cannot approve; an archivist may not; the approver cannot execute.
    with pytest.raises(RetentionError, match="cannot dispose|not approved"):
        dispose(arc.settings, arc.store, arc.index, listed.id, by="bo", now=as_of)
    with pytest.raises(RetentionError, match="anna cannot approve a list they planned"):
        approve(arc.settings, arc.store, listed.id, by="anna", now=datetime.now(UTC))
    with pytest.raises(RetentionError, match="os:anna cannot approve.*not a local user"):  # a name is no signature
        approve(arc.settings, arc.store, listed.id, by="os:anna", now=datetime.now(UTC))
    with pytest.raises(RetentionError, match="needs the records-manager or admin role"):
        approve(arc.settings, arc.store, listed.id, by="dan", now=datetime.now(UTC))
    approved = approve(arc.settings, arc.store, listed.id, by="bo", now=datetime.now(UTC))
    assert approved.status is ListStatus.APPROVED and approved.approved_by == "bo"
    with pytest.raises(RetentionError, match="bo cannot execute a list they approved"):
        dispose(arc.settings, arc.store, arc.index, listed.id, by="bo", now=as_of)
    with pytest.raises(RetentionError, match="cannot be executed before"):
        dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=datetime.now(UTC) - timedelta(days=1))

    world.let_locks_expire()
    result = dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    assert [o.key for o in result.disposed] == [group.key] and result.skipped == []
    assert world.present(due) == 0
    assert world.gone(group.key)
    assert world.gone(f"manifest/sv-due/{group.key.rsplit('/', 1)[-1]}.json")
    assert world.present([post, mixed_comment, draft, uncovered, held, requested, fresh]) == 7
    assert load_list(arc.store, listed.id).status is ListStatus.EXECUTED

    cert = result.certificate
    assert (cert.planned_by, cert.approved_by, cert.executed_by) == ("anna", "bo", "cilla")
    assert cert.record_count == 2 and cert.byte_count == group.bytes and cert.skipped == []
    assert {(r.record_id, r.warc_sha256, r.content_sha256) for f in cert.files for r in f.records} == {
        (d, originals[d]["warc"]["sha256"], originals[d]["content_sha256"]) for d in due
    }
    assert cert.dates_covered == (world.t0, world.t0) and "no open public-records request" in cert.statement
    assert "every object version" in cert.method
    stored = rbook.load_certificate(arc.store, listed.id)
    assert stored == cert
    pdf_key = rbook.certificate_key(listed.id, "pdf")
    with arc.store.open(pdf_key) as fh:
        pdf_bytes = fh.read()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert all(d in text for d in due) and "KS 2025-03-12 § 45" in text and "GS2016-009" in text
    head = arc.store.head(rbook.certificate_key(listed.id))
    assert head is not None and head.retain_until is not None  # locked: never disposed of
    premis = open_premis(arc.settings)
    premis.refresh()  # the event is written without a refresh; searching before the next one is a race
    events = premis.events(object_id=group.key, type=PremisEventType.DELETION)
    assert len(events) == 1 and f"disposition-list:{listed.id}" in events[0].objects
    assert events[0].sha256 == group.file_sha256 and "executor: cilla" in events[0].agents

    again = dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    assert again.already_done and again.certificate == cert
    assert hold.hold.id  # the held record stays held and indexed


def test_object_lock_refuses_an_early_deletion(world: World) -> None:
    arc = world.arc
    now = datetime.now(UTC)
    ids = world.ingest("sv-early", (Kind.COMMENT, Direction.INKOMMEN), captured=now)  # locked until now + 1 day
    key = world.key_of(ids[0])
    as_of = now + timedelta(days=2)  # the schedule says due; Object Lock (real time) says not yet
    listed = plan(arc.settings, arc.store, arc.index, world.schedule, as_of=as_of, planned_by="os:anna", now=now)
    assert [g.key for g in listed.groups] == [key]
    approve(arc.settings, arc.store, listed.id, by="bo", now=now)
    with pytest.raises(RetentionError, match="anna cannot execute a list they planned"):  # os:anna is anna
        dispose(arc.settings, arc.store, arc.index, listed.id, by="anna", now=as_of)
    result = dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    [skipped] = result.certificate.skipped
    assert result.disposed == [] and skipped.key == key and skipped.reason.startswith("refused by Object Lock")
    assert world.present(ids) == 1 and len(world.versions(key)) == 1  # nothing half-done
    assert arc.store.head(f"manifest/sv-early/{key.rsplit('/', 1)[-1]}.json") is not None
    assert result.certificate.record_count == 0


@pytest.mark.parametrize("world", ["local", "s3"], indirect=True)
def test_an_interrupted_disposal_resumes_and_newly_held_records_stay(world: World) -> None:
    arc = world.arc
    first = world.ingest("sv-resume", (Kind.COMMENT, Direction.INKOMMEN))
    second = world.ingest("sv-resume", (Kind.COMMENT, Direction.INKOMMEN), (Kind.COMMENT, Direction.INKOMMEN))
    later_held = world.ingest("sv-later", (Kind.COMMENT, Direction.INKOMMEN))
    as_of = world.lock_expiry + timedelta(seconds=1)
    listed = plan(
        arc.settings,
        arc.store,
        arc.index,
        world.schedule,
        as_of=as_of,
        planned_by="flow:retention",
        now=datetime.now(UTC),
    )
    assert len(listed.groups) == 3
    approve(arc.settings, arc.store, listed.id, by="anna", now=datetime.now(UTC))
    place_hold(
        arc.store,
        arc.index,
        matter="Begäran",
        owner="jurist",
        now=datetime.now(UTC),
        scope=SavedSearch(record_ids=later_held),
    )
    world.let_locks_expire()

    class Crash(Exception):
        pass

    def crash_after_first(outcome: object) -> None:
        raise Crash

    with pytest.raises(Crash):
        dispose(arc.settings, arc.store, arc.index, listed.id, by="bo", now=as_of, progress=crash_after_first)
    assert len(list(rbook.journal(arc.store, listed.id))) == 1
    # The next file dies halfway: its WARC file deleted, its records and manifest not yet.
    pending = [g for g in listed.groups if g.key not in {o.key for o in rbook.journal(arc.store, listed.id)}]
    halfway = next(g for g in pending if g.account == "sv-resume")
    (open_disposal_store(arc.settings) or arc.store).delete(halfway.key)  # as the disposal role

    result = dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    assert result.resumed and result.certificate.resumed_by == ["cilla"] and result.certificate.executed_by == "bo"
    assert sorted(o.key for o in result.disposed) == sorted(g.key for g in listed.groups if g.account == "sv-resume")
    [skipped] = result.skipped
    assert skipped.outcome is FileOutcomeKind.SKIPPED and "legal hold" in skipped.reason
    assert world.present(first + second) == 0 and world.present(later_held) == 1
    for g in listed.groups:
        assert world.gone(g.key) is (g.account == "sv-resume")
    assert sorted(r.record_id for f in result.certificate.files for r in f.records) == sorted(first + second)


def test_gdpr_erasure_request_is_logged_answered_and_deletes_nothing(world: World) -> None:
    arc = world.arc
    [comment] = world.ingest("sv-gdpr", (Kind.COMMENT, Direction.INKOMMEN))
    [post] = world.ingest("sv-gdpr-post", (Kind.POST, Direction.UPPRATTAD))
    answer = erasure_request(
        arc.settings,
        arc.index,
        world.schedule,
        comment,
        requested_by="os:registrator",
        now=datetime.now(UTC),
        note="e-post 2026-11-30",
    )
    assert answer.rule_id == "kommentarer" and answer.disposal_date == world.lock_expiry
    assert "not on request" in answer.explanation
    kept = erasure_request(
        arc.settings, arc.index, world.schedule, post, requested_by="os:registrator", now=datetime.now(UTC)
    )
    assert kept.rule_id == "egna-inlagg" and kept.disposal_date is None
    assert world.present([comment, post]) == 2 and len(world.versions(world.key_of(comment))) == 1
    audit = open_audit(arc.settings)
    audit.refresh()
    assert {e.target for e in audit.latest(action=AuditAction.RETENTION_ERASURE)} >= {comment, post}
    assert open_premis(arc.settings).events(object_id=comment, type=PremisEventType.DELETION)[0].outcome == "warning"


def use_env(s: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point `get_settings()` (CLI, flows) at the test's settings through COMMUNIS_* variables."""
    from archive.config import get_settings

    env = {
        **s3_environment(s),
        "COMMUNIS_RETENTION_FILE": str(s.retention_file),
        "COMMUNIS_RETENTION_CLASSES": json.dumps([c.model_dump(mode="json") for c in s.retention_classes]),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()


def test_cli_two_people_and_erasure(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from archive.cli import app
    from archive.config import get_settings

    [comment] = world.ingest("sv-cli", (Kind.COMMENT, Direction.INKOMMEN))
    use_env(world.arc.settings, monkeypatch)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["retention", *args])
        return result.exit_code, " ".join(result.output.split())  # rich wraps lines

    try:
        as_of = (world.lock_expiry + timedelta(seconds=1)).isoformat()
        sign_in(world.arc.settings, monkeypatch, "anna")
        code, out = run("plan", "--as-of", as_of)
        assert code == 0, out
        list_id = out.split()[-1]
        assert list_id.startswith("disp-") and "total: 1 files, 1 records" in out
        assert run("approve", list_id) == (
            2,
            "error: anna cannot approve a list they planned: "
            "a second person must — planner, approver and "
            "executor are three different signed-in people",
        )
        sign_in(world.arc.settings, monkeypatch, "bo")
        code, out = run("approve", list_id)
        assert code == 0, out
        sign_in(world.arc.settings, monkeypatch, "cilla")
        code, out = run("dispose", list_id)
        assert code == 2 and "cannot be executed before then" in out
        code, out = run("erasure", "--record", comment)
        assert code == 0 and "rule kommentarer" in out and "deletes nothing" not in out
        assert "(approved)" in run("show", list_id)[1]
        assert run("certificates")[0] == 0
    finally:
        get_settings.cache_clear()
    assert world.present([comment]) == 1


def test_nightly_flow_plans_and_publishes_the_list(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from archive.config import get_settings
    from flows.retention import retention_plan

    arc = world.arc
    due = world.ingest("sv-flow", (Kind.COMMENT, Direction.INKOMMEN))
    use_env(arc.settings, monkeypatch)
    try:
        with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
            list_id = retention_plan(as_of=world.lock_expiry + timedelta(seconds=1))
    finally:
        get_settings.cache_clear()
    listed = load_list(arc.store, list_id)
    assert listed.planned_by == "flow:retention" and [r.record_id for g in listed.groups for r in g.records] == due
    assert arc.store.head(f"retention/lists/{list_id}.csv") is not None
    # The table artifact's rows, read from the stored CSV as a stream: the rows the whole list's CSV has.
    assert rbook.csv_rows(arc.store, list_id, limit=5000) == list(csv.DictReader(io.StringIO(rbook.list_csv(listed))))
    # The flow only plans: a human approves, another executes.
    approve(arc.settings, arc.store, list_id, by="anna", now=datetime.now(UTC))
