"""A changed retention schedule re-evaluated over archived records, on real Elasticsearch and MinIO (Object Lock).

Files are captured now while the previous schedule is in force (so its classes decide the files and
their GOVERNANCE locks; replies, under a draft rule only, take the account's one-day class). The previous
schedule keeps comments and posts two days; the new one keeps comments thirty days (longer: the
lock is extended, on the file and its manifest), posts one day (shorter: reported as taking effect
when the current lock expires, the lock untouched) and brings replies, before under no rule, under
a two-day rule (now disposable; the lock is extended to its period's end). Nothing about S3 is faked.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.access import open_audit
from archive.config import Settings
from archive.context import Archive, open_pipeline
from archive.errors import ObjectLocked
from archive.retention.reevaluate import reevaluate, reevaluation_key
from archive.retention.schedule import load_schedule
from archive.store.local import LocalStore
from archive.store.s3 import S3Store
from archive.warc.naming import manifest_key
from schemas import Account, AuditAction, LockMode, RetentionClass, RetentionTrigger
from schemas.bundle import CaptureBundle
from schemas.capture import Capture
from schemas.record import Direction, Kind, Record
from schemas.schedule import Reevaluation

pytestmark = pytest.mark.integration

DECISION = '{body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 45, dnr KS 2025/77"}'
CLASSES = """
classes:
  - {name: t-2d, description: Two days from capture, days: 2, trigger: captured, lock_mode: GOVERNANCE}
  - {name: t-30d, description: Thirty days from capture, days: 30, trigger: captured, lock_mode: GOVERNANCE}
"""
PREVIOUS = (
    CLASSES
    + f"""
rules:
  - {{id: kommentarer, description: Kommentarer, match: {{kinds: [comment]}}, class: t-2d, decision: {DECISION}}}
  - {{id: inlagg, description: Inlägg, match: {{kinds: [post]}}, class: t-2d, decision: {DECISION}}}
  - {{id: svar, description: Svar (utkast), match: {{kinds: [reply]}}, class: t-2d}}
"""
)
CURRENT = (
    CLASSES
    + f"""
rules:
  - {{id: kommentarer, description: Kommentarer, match: {{kinds: [comment]}}, class: t-30d, decision: {DECISION}}}
  - {{id: inlagg, description: Inlägg, match: {{kinds: [post]}}, class: t-1d, decision: {DECISION}}}
  - {{id: svar, description: Svar, match: {{kinds: [reply]}}, class: t-2d, decision: {DECISION}}}
"""
)
ONE_DAY = RetentionClass(
    name="t-1d",
    description="One day from capture (tests).",
    days=1,
    trigger=RetentionTrigger.CAPTURED,
    lock_mode=LockMode.GOVERNANCE,
)


@pytest.fixture
def arc(s3_settings: Settings, tmp_path: Path) -> Iterator[Archive]:
    (tmp_path / "previous.yaml").write_text(PREVIOUS)
    (tmp_path / "retention.yaml").write_text(CURRENT)
    settings = s3_settings.model_copy(
        update={
            "retention_file": tmp_path / "retention.yaml",
            "retention_classes": [*s3_settings.retention_classes, ONE_DAY],
        }
    )
    archive = Archive(settings)
    yield archive
    archive.index.destroy()


def ingest(
    arc: Archive, account: str, kind: Kind, direction: Direction, n: int, when: datetime, schedule: Path | None = None
) -> list[str]:
    """One pipeline run; the bundle's class comes from `schedule`'s rules (the one in force at capture)."""
    acc = Account(
        id=account,
        platform="mastodon",
        handle=f"@{account}",
        display_name=account,
        department="Kommunstyrelsen",
        retention_class="t-1d",
        base_url="https://social.example",
    )
    recs = [
        Record(
            platform="mastodon",
            account=account,
            item_id=uuid.uuid4().hex[:10],
            kind=kind,
            direction=direction,
            text=f"{kind.value} {i}",
            captured_at=when,
            published_at=when - timedelta(minutes=5),
        )
        for i in range(n)
    ]
    bundle = CaptureBundle(
        capture=Capture(
            url=f"https://social.example/api/{uuid.uuid4().hex}",
            status=200,
            body=json.dumps([r.item_id for r in recs]).encode(),
            started_at=when,
        ),
        records=recs,
    )
    settings = arc.settings.model_copy(update={"retention_file": schedule or arc.settings.retention_file})
    report = open_pipeline(settings, arc.store, arc.index).ingest(acc, [bundle])
    assert report.indexed == n and not report.index_errors
    return [r.record_id for r in recs]


def s3_retention(store: S3Store, key: str) -> datetime:
    got = store.client.get_object_retention(Bucket=store.bucket, Key=store.prefix + key)["Retention"]
    assert got["Mode"] == "GOVERNANCE"
    return got["RetainUntilDate"]  # type: ignore[no-any-return]


def test_a_schedule_change_is_reported_and_longer_periods_extend_object_lock(arc: Archive, tmp_path: Path) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    before = tmp_path / "previous.yaml"  # captured while the previous schedule was in force
    comments = ingest(arc, "rv-kommentarer", Kind.COMMENT, Direction.INKOMMEN, 3, t0, before)
    posts = ingest(arc, "rv-inlagg", Kind.POST, Direction.UPPRATTAD, 2, t0, before)
    [reply] = ingest(arc, "rv-svar", Kind.REPLY, Direction.INKOMMEN, 1, t0, before)
    arc.index.es.indices.refresh(index=arc.index.alias)
    key = {
        name: str(arc.index.get(ids[0])["warc_key"]) for name, ids in (("c", comments), ("p", posts), ("r", [reply]))
    }
    store = arc.store
    assert isinstance(store, S3Store)
    locked = {n: store.head(k).retain_until for n, k in key.items()}  # type: ignore[union-attr]
    # At capture the previous schedule's class decided: two days for comments and posts; replies (a draft
    # rule only) the account's one day.
    assert (locked["c"], locked["p"], locked["r"]) == (
        t0 + timedelta(days=2),
        t0 + timedelta(days=2),
        t0 + timedelta(days=1),
    )
    assert "-t-2d-" in key["c"] and "-t-1d-" in key["r"]
    previous = load_schedule(arc.settings, tmp_path / "previous.yaml")
    current = load_schedule(arc.settings)

    dry = reevaluate(store, arc.index, previous, current, by="os:anna", now=datetime.now(UTC), dry_run=True)
    assert dry.changed == 6 and {lk.outcome for lk in dry.locks if lk.key == key["c"]} == {"would be extended"}
    assert store.head(key["c"]).retain_until == locked["c"]  # type: ignore[union-attr]

    result = reevaluate(store, arc.index, previous, current, by="os:anna", now=datetime.now(UTC))
    assert result.scanned == 6 and result.changed == 6
    changes = {
        (c.old_rule, c.new_rule, c.old_class, c.new_class, c.disposal): (c.records, c.files) for c in result.changes
    }
    assert changes == {
        ("kommentarer", "kommentarer", "t-2d", "t-30d", "later"): (3, 1),
        ("inlagg", "inlagg", "t-2d", "t-1d", "earlier"): (2, 1),
        (None, "svar", None, "t-2d", "now disposable"): (1, 1),
    }
    by_key = {lk.key: lk for lk in result.locks}
    assert by_key[key["c"]].outcome == "extended" and by_key[key["r"]].outcome == "extended"
    assert by_key[key["p"]].outcome.startswith("shorter: takes effect when the current lock expires")
    assert result.extended == 2
    # The server holds the later dates (file and manifest); the shortened file's lock is untouched.
    assert s3_retention(store, key["c"]) == t0 + timedelta(days=30)
    account, name = key["c"].split("/")[1], key["c"].rsplit("/", 1)[-1]
    assert s3_retention(store, manifest_key(account, name)) == t0 + timedelta(days=30)
    assert s3_retention(store, key["r"]) == t0 + timedelta(days=2)
    assert s3_retention(store, key["p"]) == locked["p"]
    # Never shorter: the store refuses, and the server would too.
    with pytest.raises(ObjectLocked, match="never shortened"):
        store.extend_retention(key["c"], t0 + timedelta(days=3))
    assert store.extend_retention(key["c"], t0 + timedelta(days=30)).retain_until == t0 + timedelta(days=30)
    # A second run finds the same record changes and nothing more to extend.
    again = reevaluate(store, arc.index, previous, current, by="os:anna", now=datetime.now(UTC))
    assert {lk.key: lk.outcome for lk in again.locks}[key["c"]] == "locked long enough"
    # The report is stored write-once.
    with store.open(reevaluation_key(result.id)) as fh:
        assert Reevaluation.model_validate_json(fh.read()).changed == 6


def test_local_store_extends_and_never_shortens(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    until = datetime.now(UTC) + timedelta(days=1)
    store.put_bytes("warc/a/f.warc.gz", b"x", retain_until=until, lock_mode=LockMode.COMPLIANCE)
    later = store.extend_retention("warc/a/f.warc.gz", until + timedelta(days=5))
    assert later.retain_until == until + timedelta(days=5) and later.lock_mode is LockMode.COMPLIANCE
    with pytest.raises(ObjectLocked, match="never shortened"):
        store.extend_retention("warc/a/f.warc.gz", until)
    with pytest.raises(ObjectLocked):
        store.delete("warc/a/f.warc.gz")


def test_cli_reevaluate(arc: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from archive.cli import app
    from archive.config import get_settings
    from tests.integration.test_retention import use_env
    from tests.signing import sign_in

    t0 = datetime.now(UTC).replace(microsecond=0)
    ingest(arc, "rv-cli", Kind.COMMENT, Direction.INKOMMEN, 2, t0, tmp_path / "previous.yaml")
    arc.index.es.indices.refresh(index=arc.index.alias)
    use_env(arc.settings, monkeypatch)
    assert arc.settings.events_prefix is not None
    monkeypatch.setenv("COMMUNIS_EVENTS_PREFIX", arc.settings.events_prefix)
    manager = f"rm-{uuid.uuid4().hex[:8]}"  # the audit stream is shared by every run
    sign_in(arc.settings, monkeypatch, manager, "records-manager")
    try:
        result = CliRunner().invoke(app, ["retention", "reevaluate", "--previous", str(tmp_path / "previous.yaml")])
        out = " ".join(result.output.split())
        assert result.exit_code == 0, out
        assert "2 of 2 records changed" in out and "extended" in out and "t-30d" in out
    finally:
        get_settings.cache_clear()
    audit = open_audit(arc.settings)
    audit.refresh()
    notes = [e.note for e in audit.latest(action=AuditAction.RETENTION_REEVALUATE, user=manager)]
    assert any(n.startswith("2 of 2 records changed; 1 file locks extended") for n in notes)
