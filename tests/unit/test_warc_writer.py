from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.bundles import read_file
from archive.errors import DigestMismatch
from archive.samples import sample_file
from archive.warc import WarcWriter, iter_records, located_records, parse_one, verify_bytes
from schemas import Capture, CaptureBundle, Record, RetentionClass
from tests.conftest import warcio_check

RC = RetentionClass(name="social-10y", years=10)
T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _bundle(i: int, body: bytes = b'{"id":"1"}', at: datetime = T) -> CaptureBundle:
    cap = Capture(
        url=f"https://m.example/api/v1/statuses/{i}?access_token=TOPSECRET",
        status=200,
        request_headers=[("Authorization", "Bearer TOPSECRET"), ("Cookie", "sid=TOPSECRET")],
        response_headers=[
            ("Content-Type", "application/json"),
            ("Set-Cookie", "x=TOPSECRET"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
        ],
        body=body,
        started_at=at,
    )
    rec = Record(
        platform="mastodon",
        account="kommun",
        item_id=str(i),
        kind="post",
        direction="upprattad",
        text=f"Inlägg {i} åäö 🎉",
        captured_at=at,
    )
    return CaptureBundle(capture=cap, records=[rec])


def test_samples_become_a_valid_warc_that_warcio_accepts(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1", level=1)
    bundles = [b for b in read_file(sample_file("sundsvik-mastodon"))]
    located = [r for b in bundles for r in writer.write("sundsvik-mastodon", RC, b).located()]  # type: ignore[arg-type]
    [done] = writer.close()
    assert done.path.name == "sundsvik-mastodon-social-10y-202611-run1-00001.warc.gz"
    assert not list(tmp_path.glob("*.open"))
    check = warcio_check(done.path)
    assert check.returncode == 0, check.stdout
    assert check.stdout.count("digest pass") == done.manifest.records
    index = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "index", "-f", "offset,length,warc-type", str(done.path)],
        capture_output=True,
        text=True,
        check=True,
    )
    offsets = [json.loads(line) for line in index.stdout.splitlines()]
    assert len(offsets) == done.manifest.records
    types = [r.warc_type for r in iter_records(done.path.open("rb"))]
    assert types[0] == "warcinfo"
    assert types.count("response") == 3 and types.count("request") == 3 and types.count("metadata") == 2
    data = done.path.read_bytes()
    import hashlib

    assert done.manifest.sha256 == hashlib.sha256(data).hexdigest() and done.manifest.bytes == len(data)
    for rec in located:
        assert rec.warc is not None
        chunk = data[rec.warc.offset : rec.warc.offset + rec.warc.length]
        verify_bytes(chunk, rec.warc)
        assert parse_one(chunk).warc_type == "response"
    assert [r.record_id for r in located_records(done.path.open("rb"), done.path.name)] == [
        r.record_id for r in located
    ]


def test_secrets_never_reach_the_warc(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1")
    writer.write("kommun", RC, _bundle(1))
    [done] = writer.close()
    with gzip.open(done.path) as fh:
        plain = fh.read()
    assert b"TOPSECRET" not in plain
    assert b"access_token=REDACTED" in plain and b"Authorization: REDACTED" in plain
    # the transfer headers that no longer describe the kept body are renamed, not lost
    assert b"X-Archive-Orig-Content-Encoding: gzip" in plain


def test_a_redacted_payload_says_so_and_still_verifies(tmp_path: Path) -> None:
    """The fetcher cut an echoed credential out of the body: the response record states it, and its
    digests are of the stored bytes, so warcio's check passes (issue 15, finding 2)."""
    bundle = _bundle(1, body=b'{"id":"1","next":"https://m.example/?k=REDACTED"}')
    bundle = bundle.model_copy(update={"capture": bundle.capture.model_copy(update={"redacted": 1})})
    writer = WarcWriter(tmp_path, "run1")
    located = writer.write("kommun", RC, bundle).located()[0]
    writer.write("kommun", RC, _bundle(2))  # nothing redacted: no such field
    [done] = writer.close()
    recs = {r.record_id: r.record for r in iter_records(done.path.open("rb"))}
    assert located.warc
    response = recs[located.warc.record_id]
    assert response.rec_headers.get_header("Communis-Redacted").startswith("1 occurrence(s)")
    fields = [r.rec_headers.get_header("Communis-Redacted") for r in recs.values() if r.rec_type == "response"]
    assert fields.count(None) == 1
    check = warcio_check(done.path)
    assert check.returncode == 0 and "digest pass" in check.stdout, check.stdout


def test_identical_payload_becomes_revisit_with_refers_to(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1")
    first = writer.write("kommun", RC, _bundle(1)).located()[0]
    second = writer.write("kommun", RC, _bundle(1, at=T + timedelta(minutes=5))).located()[0]
    [done] = writer.close()
    recs = {r.record_id: r for r in iter_records(done.path.open("rb"))}
    assert second.warc and first.warc
    revisit = recs[second.warc.record_id].record
    assert revisit.rec_type == "revisit"
    assert revisit.rec_headers.get_header("WARC-Refers-To") == first.warc.record_id
    assert revisit.rec_headers.get_header("WARC-Profile").endswith("/warc/1.1/revisit/identical-payload-digest")
    assert warcio_check(done.path).returncode == 0


def test_rollover_by_size_and_month_split(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1", rollover_bytes=2000)
    for i in range(6):
        writer.write("kommun", RC, _bundle(i, body=f'{{"id":"{i}","pad":"{"x" * 3000}"}}'.encode()))
    writer.write("kommun", RC, _bundle(99, at=datetime(2026, 12, 1, tzinfo=UTC)))
    files = writer.close()
    names = sorted(f.path.name for f in files)
    assert names[0].endswith("-202611-run1-00001.warc.gz") and any("-202612-" in n for n in names)
    assert len([n for n in names if "-202611-" in n]) == 6
    for f in files:
        assert warcio_check(f.path).returncode == 0


def test_failed_bundle_leaves_no_partial_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = WarcWriter(tmp_path, "run1")
    writer.write("kommun", RC, _bundle(1))

    def fail(records: object) -> bytes:
        raise RuntimeError("disk full while writing metadata")

    monkeypatch.setattr("archive.warc.records.record_set", fail)
    with pytest.raises(RuntimeError):
        writer.write("kommun", RC, _bundle(2, body=b'{"id":"2"}'))  # response + request already written
    monkeypatch.undo()
    writer.write("kommun", RC, _bundle(3, body=b'{"id":"3"}'))
    [done] = writer.close()
    assert warcio_check(done.path).returncode == 0
    ids = [r.record.rec_headers.get_header("WARC-Target-URI") for r in iter_records(done.path.open("rb"))]
    assert not any(uri and "/statuses/2" in uri for uri in ids)
    assert done.manifest.records == 1 + 3 + 3


def test_every_digest_is_sha256_hex(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1")
    for b in read_file(sample_file("sundsvik-blogg")):
        writer.write("sundsvik-blogg", RC, b)  # type: ignore[arg-type]
    [done] = writer.close()
    seen = 0
    for rec in iter_records(done.path.open("rb")):
        for name in ("WARC-Block-Digest", "WARC-Payload-Digest"):
            value = rec.record.rec_headers.get_header(name)
            if value is not None:
                algo, _, hexd = value.partition(":")
                assert algo == "sha256" and len(hexd) == 64 and hexd == hexd.lower()
                seen += 1
    assert seen >= 9


def test_damaged_bytes_fail_verification(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1")
    rec = writer.write("kommun", RC, _bundle(1)).located()[0]
    [done] = writer.close()
    assert rec.warc is not None
    data = bytearray(done.path.read_bytes()[rec.warc.offset : rec.warc.offset + rec.warc.length])
    data[40] ^= 0xFF
    with pytest.raises(DigestMismatch):
        verify_bytes(bytes(data), rec.warc)


def test_spliced_record_json_equals_the_located_record(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "run1")
    written = writer.write("kommun", RC, _bundle(5))
    for part, located in zip(written.json_parts(), written.located(), strict=True):
        assert Record.model_validate_json(part) == located
        assert json.loads(part) == json.loads(located.to_json_bytes())
