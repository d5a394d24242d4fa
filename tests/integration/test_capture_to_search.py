"""The whole path a user relies on: captures → WARC → write-once store → index → search → proof."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.context import Archive
from archive.errors import ObjectExists, ObjectLocked
from archive.index import SearchQuery, search
from archive.preservation.readback import fetch_verified
from archive.preservation.reindex import reindex
from archive.samples import ACCOUNTS_FILE, sample_file
from archive.warc import iter_records
from tests.conftest import warcio_check


def ingest_samples(arc: Archive) -> list:  # type: ignore[type-arg]
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, arc.settings):
        pipeline.ingest(account, read_file(sample_file(account.id)))
    return [pipeline.report]


def _download(arc: Archive, key: str, tmp_path: Path) -> Path:
    path = tmp_path / Path(key).name
    with arc.store.open(key) as fh:
        path.write_bytes(fh.read())
    return path


def test_samples_are_stored_locked_indexed_searchable_and_verifiable(archive: Archive, tmp_path: Path) -> None:
    [report] = ingest_samples(archive)
    assert report.captures == 5 and report.records == 10 and report.indexed == 10
    assert not report.quarantined and not report.index_errors
    assert len(report.files) == 2

    for manifest in report.files:
        local = _download(archive, manifest.key, tmp_path)
        data = local.read_bytes()
        assert hashlib.sha256(data).hexdigest() == manifest.sha256 and len(data) == manifest.bytes
        check = warcio_check(local)
        assert check.returncode == 0, check.stdout
        stored = archive.store.head(manifest.key)
        assert stored is not None and stored.sha256 == manifest.sha256
        assert stored.retain_until == manifest.retain_until == datetime(2037, 1, 1, tzinfo=UTC)
        # write-once: deleting before retain-until and overwriting are both refused
        with pytest.raises(ObjectLocked):
            archive.store.delete(manifest.key)
        with pytest.raises(ObjectExists):
            archive.store.put_file(manifest.key, local, manifest.sha256)
        assert archive.store.head(manifest.key) is not None

    found = search(archive.index, SearchQuery(text="snöröjning"))
    assert found.total == 1
    hit = found.hits[0]
    assert hit.source["item_key"] == "mastodon:sundsvik-mastodon:1103"
    assert any("[[" in h for h in hit.highlight)
    replies = search(archive.index, SearchQuery(text="Långgatan", kind="reply"))
    assert [h.source["author"]["name"] for h in replies.hits] == ["Sundsviks kommun"]
    citizens = search(archive.index, SearchQuery(account="sundsvik-blogg", kind="comment"))
    assert [h.source["direction"] for h in citizens.hits] == ["inkommen"]
    assert search(archive.index, SearchQuery(text="谢谢")).total == 1
    assert (
        search(
            archive.index,
            SearchQuery(
                text="förskola", date_from=datetime(2026, 11, 14).date(), date_to=datetime(2026, 11, 15).date()
            ),
        ).total
        == 1
    )

    verified = fetch_verified(archive.index, archive.store, hit.record_id)
    file_bytes = _download(archive, hit.source["warc_key"], tmp_path).read_bytes()
    loc = verified.record.warc
    assert loc is not None
    assert verified.warc_bytes == file_bytes[loc.offset : loc.offset + loc.length]
    rec = next(iter_records(io.BytesIO(verified.warc_bytes)))
    assert rec.warc_type == "response" and "Snöröjningen".encode() in rec.content


def test_reindex_from_warc_alone_restores_identical_documents(archive: Archive) -> None:
    ingest_samples(archive)
    before = sorted(archive.index.all_documents(), key=lambda d: d["_id"])
    archive.index.drop()
    assert archive.index.count() == 0
    report = reindex(archive.store, archive.index)
    assert report.files == 2 and report.documents == 10 and report.errors == 0
    after = sorted(archive.index.all_documents(), key=lambda d: d["_id"])
    assert after == before


def test_indexing_twice_creates_no_duplicates(local_archive: Archive) -> None:
    ingest_samples(local_archive)
    ingest_samples(local_archive)
    assert local_archive.index.count() == 10
    latest = search(local_archive.index, SearchQuery(latest_only=True, size=100))
    assert latest.total == 10


def test_an_edit_is_a_new_version_and_only_it_is_latest(local_archive: Archive) -> None:
    [account] = [a for a in load_accounts(ACCOUNTS_FILE, local_archive.settings) if a.platform == "wordpress"]
    bundles = list(read_file(sample_file(account.id)))
    first = bundles[0]
    rec = first.records[0]  # type: ignore[union-attr]
    later = rec.captured_at + timedelta(hours=1)
    edited = rec.model_copy(update={"text": rec.text + " (uppdaterad)", "version": 2, "captured_at": later})
    cap = first.capture.model_copy(update={"started_at": later, "body": first.capture.body + b" "})  # type: ignore
    from schemas import CaptureBundle

    pipeline = local_archive.pipeline()
    pipeline.ingest(account, [first, CaptureBundle(capture=cap, records=[edited])])
    versions = search(local_archive.index, SearchQuery(text="Norrby förskolan uppdaterad"))
    assert versions.total == 1 and versions.hits[0].source["is_latest"] is True
    old = local_archive.index.get(rec.record_id)
    assert old["is_latest"] is False and old["version"] == 1
