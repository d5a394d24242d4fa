from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas import Account, Capture, Record, RetentionClass

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _record(**kw: object) -> Record:
    base: dict[str, object] = dict(
        platform="mastodon",
        account="kommun",
        item_id="1",
        kind="post",
        direction="upprattad",
        text="Hej",
        captured_at=NOW,
    )
    base.update(kw)
    return Record.model_validate(base)


def test_same_content_same_id_and_capture_time_does_not_matter() -> None:
    a = _record()
    b = _record(captured_at=datetime(2026, 11, 21, tzinfo=UTC))
    assert a.record_id == b.record_id
    assert a.content_sha256 == b.content_sha256


def test_edit_makes_a_new_version_id() -> None:
    assert _record().record_id != _record(text="Hej!").record_id


def test_copy_with_new_content_gets_a_new_hash_and_id() -> None:
    rec = _record()
    assert rec.record_id  # cache the derived values first
    edited = rec.model_copy(update={"text": "Hej igen"})
    assert edited.record_id == _record(text="Hej igen").record_id != rec.record_id
    located = rec.model_copy(update={"captured_at": datetime(2027, 1, 1, tzinfo=UTC)})
    assert located.record_id == rec.record_id
    moved = rec.model_copy(update={"item_id": "2"})
    assert moved.record_id != rec.record_id


def test_record_json_round_trip_and_tampered_hash_rejected() -> None:
    rec = _record(text="Snöröjning 🎉")
    data = rec.model_dump(mode="json")
    assert Record.model_validate(data) == rec
    data["text"] = "changed"
    with pytest.raises(ValidationError, match="content_sha256"):
        Record.model_validate(data)


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        _record(captured_at=datetime(2026, 1, 1))


def test_account_never_holds_a_secret_only_a_reference() -> None:
    with pytest.raises(ValidationError):
        Account.model_validate(
            dict(
                id="a",
                platform="x",
                handle="h",
                display_name="d",
                department="k",
                retention_class="social-10y",
                token="s3cret",
            )
        )
    with pytest.raises(ValidationError, match="exactly one"):
        Account.model_validate(
            dict(
                id="a",
                platform="x",
                handle="h",
                display_name="d",
                department="k",
                retention_class="social-10y",
                credentials={},
            )
        )


def test_capture_body_keeps_invalid_utf8_bytes_through_json() -> None:
    cap = Capture(url="https://x.example/", status=200, body=b"\xff\xfe broken \xc3", started_at=NOW)
    assert Capture.model_validate_json(cap.model_dump_json()).body == b"\xff\xfe broken \xc3"


def test_retention_end_of_year_counts_from_next_january() -> None:
    rc = RetentionClass(name="social-10y", years=10)
    assert rc.retain_until(datetime(2026, 3, 5, tzinfo=UTC)) == datetime(2037, 1, 1, tzinfo=UTC)
    short = RetentionClass(name="d", days=1, trigger="captured")
    assert short.retain_until(NOW) == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="needs"):
        RetentionClass(name="empty")
