"""BagIt bags (RFC 8493, BG-1): the reference `bagit` library and our `verify_bag` agree, and name files."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import bagit
import pytest

from archive.package.bagit import BagWriter, decode_path, encode_path, verify_bag

INFO = {
    "Source-Organization": "Sundsviks kommun",
    "External-Identifier": "REQ-2026-0042",
    "Contact-Name": ["Registrator Åsa", "Arkivarie Örjan"],
    "External-Description": "Begäran\nom utlämnande",
}


def _bag(tmp_path: Path) -> Path:
    source = tmp_path / "source.bin"
    source.write_bytes(b"native WARC bytes " * 1000)
    writer = BagWriter(tmp_path / "bag", INFO)
    writer.add_file("production.wacz", source)
    writer.add_file("pdf/SUNDS000001.pdf", b"%PDF-1.4 not really")
    writer.add_file("natives/inlägg åäö.json", iter([b'{"text":', b'"hej"}']))
    writer.add_file("natives/sure.txt", io.BytesIO(b"no percent"))
    writer.add_file("natives/odd\nname.txt", b"line feed in the name")
    writer.add_file("empty.txt", b"")
    return writer.finish()


def test_bag_is_valid_for_the_reference_library_and_for_us(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    bagit.Bag(str(bag)).validate()
    assert verify_bag(bag) == []
    assert (bag / "bagit.txt").read_text() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    for line in (
        "Source-Organization: Sundsviks kommun",
        "External-Identifier: REQ-2026-0042",
        "Contact-Name: Registrator Åsa",
        "Contact-Name: Arkivarie Örjan",
        "External-Description: Begäran om utlämnande",
        "Payload-Oxum: 18064.6",
        "Bagging-Date: ",
    ):
        assert line in info
    sha512 = (bag / "manifest-sha512.txt").read_text(encoding="utf-8")
    assert "  data/natives/odd%0Aname.txt\n" in sha512
    assert len((bag / "manifest-sha256.txt").read_text().splitlines()) == 6
    tags = (bag / "tagmanifest-sha256.txt").read_text()
    assert all(f"  {name}\n" in tags for name in ("bagit.txt", "bag-info.txt", "manifest-sha512.txt"))


def _flip(bag: Path) -> str:
    target = bag / "data" / "pdf" / "SUNDS000001.pdf"
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    return "data/pdf/SUNDS000001.pdf"


def _remove(bag: Path) -> str:
    (bag / "data" / "natives" / "inlägg åäö.json").unlink()
    return "data/natives/inlägg åäö.json"


def _add(bag: Path) -> str:
    (bag / "data" / "pdf" / "smuggled.pdf").write_bytes(b"x")
    return "data/pdf/smuggled.pdf"


@pytest.mark.parametrize("tamper", [_flip, _remove, _add], ids=["flip-byte", "remove-file", "add-file"])
def test_tampering_is_caught_by_both_and_names_the_file(tmp_path: Path, tamper: Callable[[Path], str]) -> None:
    bag = _bag(tmp_path)
    name = tamper(bag)
    reference = bagit.Bag(str(bag))
    with pytest.raises(bagit.BagValidationError) as caught:
        reference.validate()
    # bagit-python stops at Payload-Oxum for an added or removed file; its manifest comparison names it
    named = str(caught.value) + " ".join(str(d) for d in caught.value.details)
    named += " ".join(" ".join(side) for side in reference.compare_manifests_with_fs())
    assert name in named
    problems = verify_bag(bag)
    assert problems and any(name in p for p in problems), problems


def test_flipped_byte_is_reported_as_a_checksum_mismatch(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    name = _flip(bag)
    problems = verify_bag(bag)
    assert [p for p in problems if p.startswith(f"checksum mismatch: {name} (sha256")]
    assert [p for p in problems if p.startswith(f"checksum mismatch: {name} (sha512")]


def test_oxum_and_tag_files_are_checked(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    info = bag / "bag-info.txt"
    info.write_text(
        info.read_text(encoding="utf-8").replace("Payload-Oxum: 18064.6", "Payload-Oxum: 18064.7"), encoding="utf-8"
    )
    problems = verify_bag(bag)
    assert "Payload-Oxum mismatch: bag-info.txt says 18064.7, data/ holds 18064.6" in problems
    assert any(p.startswith("checksum mismatch: bag-info.txt (sha256 in tagmanifest-sha256.txt") for p in problems)
    (bag / "data" / "empty.txt").unlink()
    assert "missing payload file data/empty.txt" in verify_bag(bag)


def test_a_manifest_line_without_its_file_in_the_other_manifest_is_named(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text(
        "".join(
            line for line in manifest.read_text(encoding="utf-8").splitlines(keepends=True) if "empty.txt" not in line
        ),
        encoding="utf-8",
    )
    assert "data/empty.txt: not listed in manifest-sha256.txt" in verify_bag(bag)


def test_payload_is_streamed_not_held(tmp_path: Path) -> None:
    def megabytes(n: int) -> Iterator[bytes]:
        for i in range(n):
            yield bytes([i % 256]) * (1024 * 1024)

    writer = BagWriter(tmp_path / "bag", INFO)
    tracemalloc.start()
    try:
        entry = writer.add_file("big.bin", megabytes(48))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entry.bytes == 48 * 1024 * 1024 and peak < 8 * 1024 * 1024
    writer.finish()
    assert verify_bag(tmp_path / "bag") == []


@pytest.mark.parametrize("relpath", ["../escape", "/abs", "a//b", "a/./b", "win\\path", ""])
def test_unsafe_payload_paths_are_refused(tmp_path: Path, relpath: str) -> None:
    writer = BagWriter(tmp_path / "bag", INFO)
    with pytest.raises(ValueError):
        writer.add_file(relpath, b"x")


def test_required_info_duplicates_and_non_empty_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="External-Identifier"):
        BagWriter(tmp_path / "a", {"Source-Organization": "Kommun"})
    with pytest.raises(ValueError, match="Payload-Oxum"):
        BagWriter(tmp_path / "b", {**INFO, "Payload-Oxum": "1.1"})
    writer = BagWriter(tmp_path / "c", INFO)
    writer.add_file("x.txt", b"1")
    with pytest.raises(FileExistsError):
        writer.add_file("x.txt", b"2")
    with pytest.raises(FileExistsError):
        BagWriter(tmp_path / "c", INFO)
    with pytest.raises(TypeError):
        writer.add_file("y.txt", "text is ambiguous")  # type: ignore[arg-type]


def test_percent_in_a_name_is_encoded_as_the_rfc_says(tmp_path: Path) -> None:
    """RFC 8493 §2.1.3 encodes `%` too; bagit-python does not (its issue #157), so it would misread
    such a bag: the package builder names files without `%`, and our own verify follows the RFC."""
    writer = BagWriter(tmp_path / "bag", INFO)
    writer.add_file("100% sure%0A.txt", b"percent")
    bag = writer.finish()
    assert "  data/100%25 sure%250A.txt\n" in (bag / "manifest-sha256.txt").read_text()
    assert verify_bag(bag) == []


def test_path_encoding_round_trips() -> None:
    for raw in ["plain/a.txt", "100%", "cr\rlf\n", "%0A literal", "%25"]:
        assert decode_path(encode_path(raw)) == raw
    assert encode_path("a%b\nc\rd") == "a%25b%0Ac%0Dd"
