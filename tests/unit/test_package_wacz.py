"""Produced WARC files (stored members copied byte for byte) and the WACZ built from them."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.errors import DigestMismatch, WarcError
from archive.package import wacz as wacz_module
from archive.package.wacz import Page, surt, write_wacz
from archive.package.warcfile import CopiedRecord, PackageWarcWriter
from archive.warc import WarcWriter, iter_records, parse_one
from schemas import Capture, CaptureBundle, Record, RetentionClass, WarcLocation
from tests.conftest import warcio_check

RC = RetentionClass(name="social-10y", years=10)
T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


#: A stored WARC file as the package builder gets it: (WARC type, member bytes, location) per record.
Stored = list[tuple[str, bytes, WarcLocation]]


def _bundle(i: int, body: bytes, at: datetime) -> CaptureBundle:
    cap = Capture(
        url=f"https://social.sundsvik.se/api/v1/statuses/{i}?b=2&a=1",
        status=200,
        request_headers=[("Accept", "application/json")],
        response_headers=[("Content-Type", "application/json; charset=utf-8")],
        body=body,
        started_at=at,
    )
    rec = Record(
        platform="mastodon",
        account="kommun",
        item_id=str(i),
        kind="post",
        direction="upprattad",
        text=f"Inlägg {i} åäö",
        captured_at=at,
    )
    return CaptureBundle(capture=cap, records=[rec])


@pytest.fixture
def stored(tmp_path: Path) -> Stored:
    """The records of a stored WARC file as the package builder gets them: (type, member bytes, location)."""
    writer = WarcWriter(tmp_path / "store", "run1")
    for i in range(4):
        writer.write("kommun", RC, _bundle(i, f'{{"id":"{i}","text":"åäö"}}'.encode(), T + timedelta(minutes=i)))
    writer.write("kommun", RC, _bundle(0, b'{"id":"0","text":"\xc3\xa5\xc3\xa4\xc3\xb6"}', T + timedelta(hours=1)))
    [done] = writer.close()
    data = done.path.read_bytes()
    out = []
    for rec in iter_records(done.path.open("rb")):
        member = data[rec.offset : rec.offset + rec.length]
        loc = WarcLocation(
            filename=done.path.name,
            offset=rec.offset,
            length=rec.length,
            sha256=hashlib.sha256(member).hexdigest(),
            record_id=rec.record_id,
        )
        out.append((rec.warc_type, member, loc))
    return out


def _produce(tmp_path: Path, stored: Stored) -> tuple[Path, list[CopiedRecord]]:
    path = tmp_path / "out" / "REQ-2026-0042.warc.gz"
    path.parent.mkdir()
    with PackageWarcWriter(
        path, {"operator": "Registrator", "description": "Begäran REQ-2026-0042"}, created=T
    ) as writer:
        copied = [writer.add(member, loc) for wtype, member, loc in stored if wtype != "warcinfo"]
    assert writer.built is not None and writer.built.dangling_revisits == ()
    return path, copied


def test_produced_warc_copies_members_byte_for_byte_and_passes_warcio(tmp_path: Path, stored: Stored) -> None:
    path, copied = _produce(tmp_path, stored)
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    data = path.read_bytes()
    first = parse_one(data[: copied[0].offset])
    assert first.warc_type == "warcinfo" and "description: Begäran REQ-2026-0042".encode() in first.content
    assert first.record.rec_headers.get_header("WARC-Filename") == "REQ-2026-0042.warc.gz"
    originals = [(member, loc) for wtype, member, loc in stored if wtype != "warcinfo"]
    for rec, (member, loc) in zip(copied, originals, strict=True):
        assert data[rec.offset : rec.offset + rec.length] == member
        assert rec.sha256 == loc.sha256 and rec.record_id == loc.record_id
    assert copied[-1].offset + copied[-1].length == len(data)
    types = [c.warc_type for c in copied]
    assert "revisit" in types and types.count("response") == 4


def test_a_record_added_twice_is_copied_once(tmp_path: Path, stored: Stored) -> None:
    _, member, loc = next(s for s in stored if s[0] == "response")
    with PackageWarcWriter(tmp_path / "x.warc.gz", {}) as writer:
        assert writer.add(member, loc) == writer.add(member)
    assert writer.built is not None and writer.built.records == 2


def test_damaged_or_foreign_bytes_are_refused(tmp_path: Path, stored: Stored) -> None:
    _, member, loc = next(s for s in stored if s[0] == "response")
    writer = PackageWarcWriter(tmp_path / "x.warc.gz", {})
    with pytest.raises(DigestMismatch):
        writer.add(member[:-1] + bytes([member[-1] ^ 1]), loc)
    with pytest.raises(WarcError):
        writer.add(member + member)  # two records are not one stored record
    writer.abandon()
    assert not (tmp_path / "x.warc.gz").exists() and (tmp_path / "x.warc.gz.open").exists()


def test_a_revisit_without_its_original_is_reported(tmp_path: Path, stored: Stored) -> None:
    revisit = next(s for s in stored if s[0] == "revisit")
    with PackageWarcWriter(tmp_path / "x.warc.gz", {}) as writer:
        copied = writer.add(revisit[1], revisit[2])
    assert writer.built is not None and writer.built.dangling_revisits == (copied.record_id,)


def _wacz(tmp_path: Path, stored: Stored) -> tuple[Path, Path, list[CopiedRecord]]:
    warc, copied = _produce(tmp_path, stored)
    pages = [Page.for_record(c, f"Inlägg {i} · kommun") for i, c in enumerate(copied) if c.warc_type == "response"]
    built = write_wacz(
        tmp_path / "out" / "req-2026-0042.wacz",
        warc,
        pages,
        title="Begäran REQ-2026-0042",
        description="Utlämnade handlingar",
        created=T,
    )
    assert built.pages == 4 and built.index_lines == 5  # four responses and one revisit
    return built.path, warc, copied


def test_wacz_passes_the_reference_validator(tmp_path: Path, stored: Stored) -> None:
    path, _, _ = _wacz(tmp_path, stored)
    run = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_wacz_layout_follows_the_spec(tmp_path: Path, stored: Stored) -> None:
    path, warc, copied = _wacz(tmp_path, stored)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == [
            f"archive/{warc.name}",
            "indexes/index.cdxj",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json",
        ]
        assert zf.getinfo(f"archive/{warc.name}").compress_type == zipfile.ZIP_STORED
        assert zf.read(f"archive/{warc.name}") == warc.read_bytes()
        package_bytes = zf.read("datapackage.json")
        package = json.loads(package_bytes)
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest == {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
        assert package["created"] == "2026-11-20T09:00:00Z" and package["software"].startswith("Communis/")
        for res in package["resources"]:
            body = zf.read(res["path"])
            assert res["hash"] == "sha256:" + hashlib.sha256(body).hexdigest() and res["bytes"] == len(body)
        lines = zf.read("indexes/index.cdxj").decode().splitlines()
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()]
    assert lines == sorted(lines)
    data = warc.read_bytes()
    for line in lines:
        key, ts, blob = line.split(" ", 2)
        entry = json.loads(blob)
        assert key == surt(entry["url"]) and key.startswith("se,sundsvik,social)/api/v1/statuses/")
        assert len(ts) == 14 and ts.startswith("2026112009") or ts.startswith("2026112010")
        assert entry["filename"] == warc.name and entry["digest"].startswith("sha256:")
        assert entry["status"] == "200" and entry["mime"] in ("application/json", "warc/revisit")
        offset, length = int(entry["offset"]), int(entry["length"])
        record = parse_one(data[offset : offset + length])
        assert record.record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
    assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": "Begäran REQ-2026-0042"}
    indexed = {json.loads(line.split(" ", 2)[2])["url"] for line in lines}
    assert all(p["url"] in indexed and p["ts"].endswith("Z") for p in pages[1:])
    assert pages[1]["title"].startswith("Inlägg") and pages[1]["ts"] == "2026-11-20T09:00:00Z"


def test_index_lines_are_those_of_the_reference_indexer(tmp_path: Path, stored: Stored) -> None:
    """cdxj-indexer (pywb's, installed with wacz) also indexes metadata records; ours keeps the captures."""
    path, warc, _ = _wacz(tmp_path, stored)
    indexer = Path(sys.executable).with_name("cdxj-indexer")
    if not indexer.exists():
        pytest.skip("cdxj-indexer is not installed (it comes with the wacz test extra)")
    run = subprocess.run([str(indexer), str(warc)], capture_output=True, text=True, check=True)
    reference = sorted(line for line in run.stdout.splitlines() if '"status": ' in line)
    with zipfile.ZipFile(path) as zf:
        assert zf.read("indexes/index.cdxj").decode().splitlines() == reference


def test_a_page_not_in_the_index_is_refused_and_nothing_is_left(tmp_path: Path, stored: Stored) -> None:
    warc, _ = _produce(tmp_path, stored)
    dest = tmp_path / "out" / "bad.wacz"
    with pytest.raises(ValueError, match="not in the index"):
        write_wacz(dest, warc, [Page("https://sundsvik.se/public/post/1", T, "public URL")], title="x")
    assert not dest.exists() and not dest.with_name("bad.wacz.open").exists()


def test_index_sorting_spills_to_disk_with_the_same_result(
    tmp_path: Path, stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    warc, _ = _produce(tmp_path, stored)
    whole = write_wacz(tmp_path / "out" / "a.wacz", warc, [], title="x", created=T)
    monkeypatch.setattr(wacz_module, "SORT_RUN", 2)
    spilled = write_wacz(tmp_path / "out" / "b.wacz", warc, [], title="x", created=T)
    with zipfile.ZipFile(whole.path) as a, zipfile.ZipFile(spilled.path) as b:
        assert a.read("indexes/index.cdxj") == b.read("indexes/index.cdxj")
    assert whole.sha256 == spilled.sha256


@pytest.mark.parametrize(
    "url",
    [
        "https://social.sundsvik.se/api/v1/statuses/1?b=2&a=1",
        "http://www.Sundsvik.se/Nyheter/",
        "https://www2.example.com:443/",
        "http://example.com:8080/path?q=%C3%A5",
        "https://graph.facebook.com/v19.0/123_456/comments?limit=100&after=QVFI",
    ],
)
def test_surt_matches_the_reference_implementation(url: str) -> None:
    reference = pytest.importorskip("surt")
    assert surt(url) == reference.surt(url)
