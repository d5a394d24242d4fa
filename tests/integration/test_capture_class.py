"""At capture the schedule's rules decide a bundle's class, so its WARC file and Object Lock (MinIO, real ES).

One bundle is one API response and goes to one file: records under different classes take the
longest-keeping one; records no active rule covers count with the account's class, which is also the
class when no schedule is configured.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.config import Settings
from archive.context import Archive, open_pipeline
from schemas import Account, LockMode, RetentionClass, RetentionTrigger
from schemas.bundle import CaptureBundle
from schemas.capture import Capture
from schemas.record import Direction, Kind, Record

pytestmark = pytest.mark.integration

DECISION = '{body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 45, dnr KS 2025/77"}'
SCHEDULE = f"""
classes:
  - {{name: t-2d, description: Two days, days: 2, trigger: captured, lock_mode: GOVERNANCE}}
  - {{name: t-3d, description: Three days, days: 3, trigger: captured, lock_mode: GOVERNANCE}}
rules:
  - {{id: kommentarer, description: Kommentarer, match: {{kinds: [comment]}}, class: t-2d, decision: {DECISION}}}
  - {{id: inlagg, description: Inlägg, match: {{kinds: [post]}}, class: t-3d, decision: {DECISION}}}
  - {{id: svar, description: Svar (utkast), match: {{kinds: [reply]}}, class: t-3d}}
"""
ONE_DAY = RetentionClass(
    name="t-1d",
    description="One day (tests).",
    days=1,
    trigger=RetentionTrigger.CAPTURED,
    lock_mode=LockMode.GOVERNANCE,
)


def run(settings: Settings, account: str, *kinds: Kind) -> list[tuple[str, timedelta | None]]:
    """One bundle (one response) of `kinds` on `account`; the (file, retain-until) of each record."""
    arc = Archive(settings)
    when = datetime.now(UTC).replace(microsecond=0)
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
            kind=k,
            direction=Direction.INKOMMEN,
            text=f"{k.value} {i}",
            captured_at=when,
        )
        for i, k in enumerate(kinds)
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
    report = open_pipeline(settings, arc.store, arc.index).ingest(acc, [bundle])
    assert report.indexed == len(recs) and len(report.files) == 1
    arc.index.es.indices.refresh(index=arc.index.alias)
    out = []
    for r in recs:
        key = str(arc.index.get(r.record_id)["warc_key"])
        stored = arc.store.head(key)
        assert stored is not None
        out.append((key, stored.retain_until - when if stored.retain_until else None))
    return out


@pytest.fixture
def base(s3_settings: Settings) -> Settings:
    return s3_settings.model_copy(update={"retention_classes": [*s3_settings.retention_classes, ONE_DAY]})


def test_the_schedule_decides_the_class_at_capture(base: Settings, tmp_path: Path) -> None:
    (tmp_path / "retention.yaml").write_text(SCHEDULE)
    settings = base.model_copy(update={"retention_file": tmp_path / "retention.yaml"})
    try:
        [(key, lock)] = run(settings, "cc-kommentar", Kind.COMMENT)
        assert "/cc-kommentar-t-2d-" in key and lock == timedelta(days=2)
        # Mixed classes in one response: the longest-keeping class (posts, three days) takes the bundle.
        both = run(settings, "cc-blandat", Kind.COMMENT, Kind.POST)
        assert {k for k, _ in both} == {both[0][0]} and "-t-3d-" in both[0][0] and both[0][1] == timedelta(days=3)
        # A draft rule decides nothing: the account's class.
        [(key, lock)] = run(settings, "cc-svar", Kind.REPLY)
        assert "/cc-svar-t-1d-" in key and lock == timedelta(days=1)
        # A record no active rule covers counts with the account's class (one day) beside the comment's two days.
        mixed = run(settings, "cc-svar-kommentar", Kind.REPLY, Kind.COMMENT)
        assert "-t-2d-" in mixed[0][0] and mixed[0][1] == timedelta(days=2)
    finally:
        Archive(settings).index.destroy()


def test_without_a_schedule_file_the_account_class_decides(base: Settings) -> None:
    assert base.retention_file is None
    try:
        [(key, lock)] = run(base, "cc-utan", Kind.COMMENT)
        assert "/cc-utan-t-1d-" in key and lock == timedelta(days=1)
    finally:
        Archive(base).index.destroy()
