"""A leftover WARC file's manifest is rebuilt from the file only when every record reads back whole."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from archive.errors import WarcError
from archive.ingest.workdir import manifest_from_file
from archive.warc import WarcWriter, iter_records
from tests.unit.test_package_wacz import RC, T, _bundle


def _finalized(tmp_path: Path) -> Path:
    writer = WarcWriter(tmp_path / "work", "run1")
    for i in range(3):
        writer.write("kommun", RC, _bundle(i, f'{{"id":"{i}"}}'.encode(), T))
    [done] = writer.close()
    return done.path


def test_a_whole_file_gives_its_manifest(tmp_path: Path) -> None:
    path = _finalized(tmp_path)
    manifest = manifest_from_file(path, lambda name: RC)
    assert manifest.name == path.name and manifest.bytes == path.stat().st_size and manifest.records == 10


def test_a_file_cut_inside_a_records_headers_is_refused(tmp_path: Path) -> None:
    """Cut inside the last record's gzip member where only part of its headers survive: warcio reads a
    record whose headers end early (no block digest left to check), which must not pass as whole."""
    path = _finalized(tmp_path)
    last = list(iter_records(path.open("rb")))[-1]
    data = path.read_bytes()
    member = gzip.decompress(data[last.offset :])
    assert b"WARC-Block-Digest" in member[:400]
    for cut in range(last.offset + 40, last.offset + last.length, 25):
        path.write_bytes(data[:cut])
        with pytest.raises(WarcError):
            manifest_from_file(path, lambda name: RC)
