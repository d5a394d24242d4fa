"""Non-content record fields (`last_seen_at`) and the department in a WARC file's warcinfo and manifest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from archive.connectors.base import tombstone
from archive.index.documents import from_document, to_document
from archive.warc import WarcWriter, iter_records
from schemas import Capture, CaptureBundle, KnownItem, Record, RetentionClass
from tests.conftest import warcio_check

T = datetime(2026, 11, 14, 9, 30, tzinfo=UTC)
RC = RetentionClass(name="social-10y", years=10)


def _known(last_seen: datetime) -> KnownItem:
    return KnownItem(
        content_sha256="0" * 64,
        record_id="r" * 32,
        version=2,
        kind="post",
        direction="upprattad",
        url="https://social.example/@sundsvik/42",
        first_seen=T - timedelta(days=3),
        last_seen=last_seen,
        published_at=T - timedelta(days=3),
    )


def _tombstone(last_seen: datetime) -> Record:
    return tombstone(
        _known(last_seen), platform="mastodon", account="sundsvik", item_id="42", captured_at=T + timedelta(hours=2)
    )


def test_tombstone_carries_last_seen_without_changing_the_record_id() -> None:
    first, later = _tombstone(T), _tombstone(T + timedelta(hours=1))
    assert first.last_seen_at == T and later.last_seen_at == T + timedelta(hours=1)
    assert first.deleted and first.record_id == later.record_id and first.content_sha256 == later.content_sha256
    without = first.model_copy(update={"last_seen_at": None})
    assert without.record_id == first.record_id
    # model_copy keeps the cached id only for non-content updates: recomputed it must agree.
    assert (
        Record.model_validate(without.model_dump(exclude={"item_key", "content_sha256", "record_id"})).record_id
        == first.record_id
    )


def test_last_seen_at_survives_the_json_and_index_round_trip() -> None:
    record = _tombstone(T)
    assert Record.model_validate_json(record.to_json_bytes()) == record  # _check_derived accepts our own JSON
    doc = to_document(
        record,
        warc_key="warc/sundsvik/x.warc.gz",
        retention_class="social-10y",
        department="Kultur- och fritidsnämnden",
    ).as_dict()
    assert doc["last_seen_at"] == "2026-11-14T09:30:00Z" and doc["department"] == "Kultur- och fritidsnämnden"
    assert from_document({**doc, "legal_holds": ["hold-1"]}) == record


def test_last_seen_at_must_carry_a_timezone() -> None:
    data = _tombstone(T).model_dump(exclude={"item_key", "content_sha256", "record_id"})
    with pytest.raises(ValidationError, match="timezone"):
        Record.model_validate({**data, "last_seen_at": datetime(2026, 11, 14, 9, 30)})


def _bundle(i: int) -> CaptureBundle:
    capture = Capture(
        url=f"https://social.example/api/v1/statuses/{i}",
        started_at=T + timedelta(minutes=i),
        status=200,
        response_headers=[("Content-Type", "application/json")],
        body=f'{{"id":"{i}"}}'.encode(),
    )
    record = Record(
        platform="mastodon",
        account="kommun",
        item_id=str(i),
        kind="post",
        direction="upprattad",
        text=f"post {i}",
        captured_at=capture.started_at,
    )
    return CaptureBundle(capture=capture, records=[record])


def _warcinfo(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        info = next(iter_records(fh))
    assert info.warc_type == "warcinfo"
    return dict(line.split(": ", 1) for line in info.content.decode("utf-8").splitlines() if ": " in line)


def test_department_goes_into_warcinfo_and_manifest(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path / "with", "run1")
    writer.write("kommun", RC, _bundle(1), department="Kultur- och fritidsnämnden")
    [done] = writer.close()
    assert done.manifest.department == "Kultur- och fritidsnämnden"
    assert _warcinfo(done.path)["department"] == "Kultur- och fritidsnämnden"
    check = warcio_check(done.path)
    assert check.returncode == 0, check.stdout

    # No department: no warcinfo field, and the manifest says None (as manifests written before it did).
    plain = WarcWriter(tmp_path / "without", "run1")
    plain.write("kommun", RC, _bundle(1))
    [bare] = plain.close()
    assert bare.manifest.department is None and "department" not in _warcinfo(bare.path)


def test_a_line_break_in_the_department_cannot_forge_a_warcinfo_field(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1")
    writer.write("kommun", RC, _bundle(1), department="KS\r\nretention-class: forever")
    [done] = writer.close()
    info = _warcinfo(done.path)
    assert info["retention-class"] == "social-10y"
    assert info["department"] == done.manifest.department == "KS retention-class: forever"


def test_old_manifests_without_department_still_load() -> None:
    from schemas import WarcFileManifest

    old = {
        "name": "a.warc.gz",
        "key": "warc/a/a.warc.gz",
        "account": "a",
        "retention_class": "social-10y",
        "bytes": 1,
        "sha256": "0" * 64,
        "records": 1,
        "first_capture": None,
        "last_capture": None,
        "retain_until": "2037-01-01T00:00:00Z",
        "run_id": "r",
        "software": "communis",
    }
    assert WarcFileManifest.model_validate(old).department is None


def _post(**extra: object) -> Record:
    return Record.model_validate(
        {
            "platform": "mastodon",
            "account": "sundsvik",
            "item_id": "42",
            "kind": "post",
            "direction": "upprattad",
            "text": "Mötet börjar 18.",
            "captured_at": T,
            **extra,
        }
    )


def test_a_version_that_returns_to_earlier_content_gets_an_id_of_its_own() -> None:
    first = _post()
    third = first.model_copy(update={"version": 3})
    assert third.content_sha256 == first.content_sha256
    assert third.record_id != first.record_id
    # The id follows from what the WARC holds (item, version, content): read back, it is the same.
    again = Record.model_validate_json(third.to_json_bytes())
    assert again.version == 3 and again.record_id == third.record_id


def test_poll_counts_are_a_reading_not_content_and_new_fields_leave_old_hashes_alone() -> None:
    poll = {"options": [{"title": "Ja", "votes": 3}, {"title": "Nej", "votes": 1}], "multiple": False}
    counted = _post(poll=poll)
    recounted = _post(poll={**poll, "options": [{"title": "Ja", "votes": 9}, {"title": "Nej", "votes": 4}]})
    assert counted.content_sha256 == recounted.content_sha256
    reworded = _post(poll={**poll, "options": [{"title": "Ja"}, {"title": "Kanske"}]})
    assert counted.content_sha256 != reworded.content_sha256
    plain = _post()
    # A record without a quote or a poll hashes exactly the fields records had before they existed.
    old_json = plain.__pydantic_serializer__.to_json(
        plain,
        include={
            *(
                f
                for f in (
                    "kind",
                    "parent_id",
                    "thread_id",
                    "author",
                    "direction",
                    "title",
                    "text",
                    "html",
                    "url",
                    "links",
                    "hashtags",
                    "mentions",
                    "published_at",
                    "edited_at",
                    "language",
                    "deleted",
                    "hidden_on_platform",
                    "removal",
                    "repost_of",
                )
            ),
            "media",
        },
    )
    assert plain.content_sha256 == hashlib.sha256(old_json).hexdigest()
    assert _post(quote_of="https://social.example/@eva/7").content_sha256 != plain.content_sha256
