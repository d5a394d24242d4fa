"""Bad input and failing services: a clear one-line error, and nothing already captured is lost."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.accounts import load_accounts
from archive.bundles import parse_lines
from archive.config import Settings
from archive.context import Archive
from archive.errors import IndexUnavailable, StoreUnavailable
from archive.index import SearchQuery, search
from archive.preservation.readback import fetch_verified
from archive.samples import ACCOUNTS_FILE
from schemas import Account, Capture, CaptureBundle, Record
from tests.conftest import warcio_check

T = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _account(arc: Archive) -> Account:
    return next(a for a in load_accounts(ACCOUNTS_FILE, arc.settings) if a.platform == "mastodon")


def _bundle(i: int, body: bytes, text: str = "") -> CaptureBundle:
    at = T + timedelta(seconds=i)
    cap = Capture(
        url=f"https://social.sundsvik.example/api/v1/statuses/{i}",
        status=200,
        body=body,
        started_at=at,
        response_headers=[("Content-Type", "application/json")],
    )
    rec = Record(
        platform="mastodon",
        account="sundsvik-mastodon",
        item_id=str(i),
        kind="post",
        direction="upprattad",
        text=text or f"inlägg {i}",
        captured_at=at,
    )
    return CaptureBundle(capture=cap, records=[rec])


def test_invalid_utf8_body_is_archived_byte_for_byte(local_archive: Archive) -> None:
    body = b'{"content":"\xff\xfe trasig \xc3(" }'
    local_archive.pipeline().ingest(_account(local_archive), [_bundle(1, body, "trasig kodning")])
    hit = search(local_archive.index, SearchQuery(text="trasig kodning")).hits[0]
    verified = fetch_verified(local_archive.index, local_archive.store, hit.record_id)
    assert verified.warc_record.content == body


def test_50_mb_body_is_archived_and_an_over_limit_one_is_quarantined(local_archive: Archive, tmp_path: Path) -> None:
    big = b'{"blob":"' + b"x" * (50 * 1024 * 1024) + b'"}'
    report = local_archive.pipeline().ingest(_account(local_archive), [_bundle(1, big, "stort svar")])
    [manifest] = report.files
    path = local_archive.settings.store_path / manifest.key
    assert warcio_check(path).returncode == 0
    hit = search(local_archive.index, SearchQuery(text="stort svar")).hits[0]
    assert len(fetch_verified(local_archive.index, local_archive.store, hit.record_id).warc_record.content) == len(big)

    strict = Archive(local_archive.settings.model_copy(update={"max_body_bytes": 10 * 1024 * 1024}))
    report = strict.pipeline().ingest(_account(strict), [_bundle(2, big, "för stort"), _bundle(3, b"{}", "litet")])
    assert report.records == 1 and len(report.quarantined) == 1
    entry = report.quarantined[0]
    assert "exceeds the limit" in entry.reason
    kept = json.loads(strict.store.open(entry.key).read())
    assert kept["reason"] == entry.reason and kept["capture"]["url"].endswith("/statuses/2")
    assert search(strict.index, SearchQuery(text="litet")).total == 1


def test_malformed_bundle_line_is_quarantined_and_the_rest_goes_on(local_archive: Archive) -> None:
    good = _bundle(4, b"{}", "bra rad").model_dump_json().encode()
    lines = [b'{"capture": {"url": "https://x.example/", "status": 999}}', good, b"not json at all"]
    report = local_archive.pipeline().ingest(_account(local_archive), parse_lines(lines))
    assert report.records == 1 and len(report.quarantined) == 2
    assert report.quarantined[0].reason.startswith("line 1: invalid capture bundle: capture.status")
    assert search(local_archive.index, SearchQuery(text="bra rad")).total == 1


def test_elasticsearch_down_loses_nothing_and_next_run_indexes(settings: Settings) -> None:
    down = Archive(settings.model_copy(update={"es_url": "http://127.0.0.1:9"}))
    with pytest.raises(IndexUnavailable) as info:
        down.pipeline().ingest(_account(down), [_bundle(5, b'{"id":5}', "väntar på index")])
    assert "Elasticsearch unreachable" in info.value.one_line() and "scripts/services up" in info.value.one_line()
    work = settings.data_dir / "work"
    assert len(list(work.glob("*.warc.gz"))) == 1  # kept for the next run
    up = Archive(settings)
    try:
        report = up.pipeline().ingest(_account(up), [])
        assert report.indexed == 1 and not list(work.glob("*.warc.gz"))
        assert search(up.index, SearchQuery(text="väntar på index")).total == 1
        assert len(list(up.store.keys("warc/"))) == 1  # stored once, not twice
    finally:
        up.index.destroy()


def test_minio_down_gives_one_line_and_keeps_the_file(s3_settings: Settings) -> None:
    down = Archive(s3_settings.model_copy(update={"s3_endpoint_url": "http://127.0.0.1:9"}))
    with pytest.raises(StoreUnavailable) as info:
        down.pipeline().ingest(_account(down), [_bundle(6, b'{"id":6}', "väntar på lagring")])
    assert "S3 endpoint unreachable" in info.value.one_line()
    assert len(list((s3_settings.data_dir / "work").glob("*.warc.gz"))) == 1
    up = Archive(s3_settings)
    try:
        report = up.pipeline().ingest(_account(up), [])
        assert len(report.files) == 1 and report.indexed == 1
        assert search(up.index, SearchQuery(text="väntar på lagring")).total == 1
    finally:
        up.index.destroy()


def test_no_secret_reaches_warc_index_or_logs(local_archive: Archive, caplog: pytest.LogCaptureFixture) -> None:
    from archive.logs import setup_logging

    setup_logging()
    import logging

    for handler in logging.getLogger().handlers:
        caplog.handler.filters = handler.filters
    caplog.set_level(logging.DEBUG)
    secret = "tok-0123456789-SECRET"
    cap = Capture(
        url=f"https://social.sundsvik.example/api/v1/timelines/home?access_token={secret}",
        request_headers=[("Authorization", f"Bearer {secret}"), ("Cookie", f"_session={secret}")],
        response_headers=[("Set-Cookie", f"_session={secret}; HttpOnly")],
        status=200,
        body=b"[]",
        started_at=T,
    )
    rec = Record(
        platform="mastodon",
        account="sundsvik-mastodon",
        item_id="77",
        kind="post",
        direction="upprattad",
        text="hemligt test",
        captured_at=T,
    )
    too_big = cap.model_copy(update={"body": b"x" * 2048})
    arc = Archive(local_archive.settings.model_copy(update={"max_body_bytes": 1024}))
    report = arc.pipeline().ingest(
        _account(arc), [CaptureBundle(capture=cap, records=[rec]), CaptureBundle(capture=too_big)]
    )
    logging.getLogger("archive.test").info("fetched %s", cap.url)
    for manifest in report.files:
        assert secret.encode() not in gzip.decompress((arc.settings.store_path / manifest.key).read_bytes())
    for q in report.quarantined:
        assert secret.encode() not in arc.store.open(q.key).read()
    docs = json.dumps(list(arc.index.all_documents()))
    assert "hemligt test" in docs and secret not in docs
    assert caplog.records and secret not in caplog.text
