"""BagIt 1.0 bags (RFC 8493), written incrementally and verified with messages that name files.

A production package can hold thousands of files (WACZ, PDFs, natives), so nothing is kept in
memory but counters: each payload file is streamed into `data/` once while SHA-256 and SHA-512
are computed over the same bytes (SHA-512 is the RFC's default for new bags, SHA-256 is the
digest used everywhere else in Communis, so both are written), and its manifest lines are
appended as it is added. `verify_bag` backs `communis request verify` (US-12: altering one byte
of a produced file must fail and name the file), so every problem names the file concerned.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from .. import clock

ALGORITHMS = ("sha256", "sha512")
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
#: Fields `finish()` computes; a caller may not set them, or the bag would contradict itself.
COMPUTED_FIELDS = frozenset({"Payload-Oxum", "Bag-Size"})
REQUIRED_FIELDS = ("Source-Organization", "External-Identifier")
_CHUNK = 1024 * 1024
_LABEL = re.compile(r"^[^:\s][^:\r\n]*$")
_MANIFEST = re.compile(r"^(tag)?manifest-([a-z0-9]+)\.txt$")
_LINE = re.compile(r"^(\S+)[ \t]+(.+)$")

Source = os.PathLike[str] | bytes | IO[bytes] | Iterable[bytes]


@dataclass(frozen=True)
class BagEntry:
    """One payload file as written: its manifest path, size and both digests (for the hash report)."""

    path: str
    bytes: int
    sha256: str
    sha512: str


def encode_path(path: str) -> str:
    """A manifest path as RFC 8493 §2.1.3 wants it: `%`, CR and LF percent-encoded, nothing else."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    """The inverse of `encode_path` (`%25` last, so `%250A` stays a literal `%0A`)."""
    return re.sub(r"%0[DdAa]|%25", lambda m: {"%0D": "\r", "%0A": "\n", "%25": "%"}[m.group(0).upper()], path)


def _payload_path(relpath: str) -> PurePosixPath:
    """`relpath` under data/, refused if it could escape the bag or differs by platform."""
    if not relpath or "\\" in relpath or "\0" in relpath:
        raise ValueError(f"bad payload path {relpath!r}: use forward slashes, no NUL")
    parts = relpath.split("/")
    if relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"bad payload path {relpath!r}: must be relative, without empty, '.' or '..' parts")
    return PurePosixPath("data", *parts)


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
    elif isinstance(source, str):
        raise TypeError("pass a Path for a file or bytes for content, not str (ambiguous)")
    elif isinstance(source, os.PathLike):
        with open(source, "rb") as fh:
            while block := fh.read(_CHUNK):
                yield block
    elif hasattr(source, "read"):
        while block := source.read(_CHUNK):
            yield block
    else:
        yield from source


def _one_line(value: str) -> str:
    """bag-info values on one line: a line break in a value would otherwise forge another field."""
    return " ".join(value.splitlines())


def human_size(n: int) -> str:
    """Bag-Size as RFC 8493 §2.2.2 suggests: an approximate size with a unit abbreviation."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class BagWriter:
    """Writes one bag into an empty (or new) directory; call `add_file` per payload file, then `finish`.

    `info` is bag-info.txt: Source-Organization and External-Identifier (the request or case id)
    are required (BG-1); Bagging-Date defaults to today (UTC); Payload-Oxum and Bag-Size are
    computed. A value may be a sequence for a label that repeats.
    """

    def __init__(self, directory: Path, info: Mapping[str, str | Sequence[str]]) -> None:
        missing = [k for k in REQUIRED_FIELDS if not info.get(k)]
        if missing:
            raise ValueError(f"bag-info needs {', '.join(missing)}")
        bad = [k for k in info if k in COMPUTED_FIELDS or not _LABEL.match(k)]
        if bad:
            raise ValueError(f"bag-info labels not allowed or computed: {', '.join(bad)}")
        if directory.exists() and any(directory.iterdir()):
            raise FileExistsError(f"{directory} is not empty; a bag is written into a new directory")
        self.directory = directory
        self.info = dict(info)
        (directory / "data").mkdir(parents=True)
        self._manifests = {
            alg: (directory / f"manifest-{alg}.txt").open("x", encoding="utf-8", newline="\n") for alg in ALGORITHMS
        }
        self._paths: set[str] = set()
        self.octets = 0
        self.files = 0
        self.finished = False

    def add_file(self, relpath: str, source: Source) -> BagEntry:
        """Stream `source` (a file path, bytes, a binary file or an iterator of bytes) to `data/relpath`."""
        if self.finished:
            raise RuntimeError("the bag is finished")
        path = _payload_path(relpath)
        key = str(path)
        if key in self._paths:
            raise FileExistsError(f"{key} is already in the bag")
        target = self.directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        hashes = {alg: hashlib.new(alg) for alg in ALGORITHMS}
        size = 0
        with target.open("xb") as out:
            for block in _chunks(source):
                out.write(block)
                for h in hashes.values():
                    h.update(block)
                size += len(block)
            out.flush()
            os.fsync(out.fileno())
        self._paths.add(key)
        digests = {alg: h.hexdigest() for alg, h in hashes.items()}
        for alg, fh in self._manifests.items():
            fh.write(f"{digests[alg]}  {encode_path(key)}\n")
        self.octets += size
        self.files += 1
        return BagEntry(key, size, digests["sha256"], digests["sha512"])

    def finish(self) -> Path:
        """Write bagit.txt, bag-info.txt and the tag manifests; the bag is complete after this."""
        if self.finished:
            raise RuntimeError("the bag is finished")
        for fh in self._manifests.values():
            fh.close()
        (self.directory / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
        fields: list[tuple[str, str]] = []
        info = {"Bagging-Date": clock.now().date().isoformat(), **self.info}
        for label, value in info.items():
            values = [value] if isinstance(value, str) else list(value)
            fields += [(label, _one_line(v)) for v in values]
        fields += [("Payload-Oxum", f"{self.octets}.{self.files}"), ("Bag-Size", human_size(self.octets))]
        (self.directory / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in fields), encoding="utf-8")
        tag_files = ["bagit.txt", "bag-info.txt", *(f"manifest-{alg}.txt" for alg in ALGORITHMS)]
        for alg in ALGORITHMS:
            lines = [f"{_file_digests(self.directory / name, [alg])[alg]}  {name}\n" for name in tag_files]
            (self.directory / f"tagmanifest-{alg}.txt").write_text("".join(lines), encoding="utf-8")
        self.finished = True
        return self.directory


def _file_digests(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    hashes = {alg: hashlib.new(alg) for alg in algorithms}
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            for h in hashes.values():
                h.update(block)
    return {alg: h.hexdigest() for alg, h in hashes.items()}


def _read_manifest(path: Path, problems: list[str]) -> dict[str, str]:
    """path → expected digest; malformed or unsafe lines become problems (naming the manifest line)."""
    entries: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            problems.append(f"{path.name} line {n}: not '<checksum> <path>'")
            continue
        target = decode_path(m.group(2))
        parts = target.split("/")
        if target.startswith("/") or ".." in parts or "\\" in target:
            problems.append(f"{path.name} line {n}: unsafe path {target!r}")
            continue
        entries[target] = m.group(1).lower()
    return entries


def read_manifest(path: Path) -> tuple[dict[str, str], list[str]]:
    """A manifest's entries (path → digest) and the problems of its lines; a missing manifest is one problem."""
    problems: list[str] = []
    if not path.is_file():
        return {}, [f"{path.name} is missing"]
    return _read_manifest(path, problems), problems


def _bag_info(directory: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    label = ""
    for line in (directory / "bag-info.txt").read_text(encoding="utf-8").splitlines():
        if line[:1] in (" ", "\t") and label:  # RFC 8493 §2.2.2 continuation line
            info[label] += " " + line.strip()
        elif ":" in line:
            label, _, value = line.partition(":")
            label = label.strip()
            info.setdefault(label, value.strip())
    return info


def verify_bag(directory: Path) -> list[str]:
    """Everything wrong with the bag at `directory`, each problem naming its file; [] means valid.

    Checks (RFC 8493 §3): bagit.txt, every payload file listed in every payload manifest and
    present, no payload file unlisted, every payload and tag checksum, and Payload-Oxum.
    """
    problems: list[str] = []
    if not (directory / "bagit.txt").is_file():
        return [f"bagit.txt missing: {directory} is not a bag"]
    declaration = (directory / "bagit.txt").read_text(encoding="utf-8")
    if "BagIt-Version:" not in declaration:
        problems.append("bagit.txt: no BagIt-Version line")
    manifests: dict[str, dict[str, str]] = {}
    tagmanifests: dict[str, dict[str, str]] = {}
    for found in sorted(directory.iterdir()):
        m = _MANIFEST.match(found.name)
        if not m:
            continue
        if m.group(2) not in hashlib.algorithms_available:
            problems.append(f"{found.name}: unsupported algorithm {m.group(2)}")
            continue
        (tagmanifests if m.group(1) else manifests)[m.group(2)] = _read_manifest(found, problems)
    if not manifests:
        problems.append("no payload manifest (manifest-<algorithm>.txt)")
    listed = {rel for entries in manifests.values() for rel in entries}
    on_disk = (
        {p.relative_to(directory).as_posix() for p in (directory / "data").rglob("*") if p.is_file()}
        if (directory / "data").is_dir()
        else set()
    )
    for extra in sorted(on_disk - listed):
        problems.append(f"extra payload file {extra}: not in any manifest")
    for rel in sorted(listed):
        absent_from = [f"manifest-{alg}.txt" for alg, entries in manifests.items() if rel not in entries]
        if not rel.startswith("data/"):
            problems.append(f"{rel}: a payload manifest lists a file outside data/")
        elif absent_from:
            problems.append(f"{rel}: not listed in {', '.join(absent_from)}")
        if rel not in on_disk:
            problems.append(f"missing payload file {rel}")
            continue
        problems += _check_digests(directory, rel, manifests)
    for alg, entries in tagmanifests.items():
        for rel in sorted(entries):
            if not (directory / rel).is_file():
                problems.append(f"missing tag file {rel} (listed in tagmanifest-{alg}.txt)")
            else:
                problems += _check_digests(directory, rel, {alg: entries}, tag=True)
    problems += _check_oxum(directory, on_disk)
    return problems


def _check_digests(
    directory: Path, path: str, manifests: Mapping[str, Mapping[str, str]], *, tag: bool = False
) -> list[str]:
    wanted = {alg: entries[path] for alg, entries in manifests.items() if path in entries}
    actual = _file_digests(directory / path, wanted)
    prefix = "tagmanifest" if tag else "manifest"
    return [
        f"checksum mismatch: {path} ({alg} in {prefix}-{alg}.txt is {want[:16]}…, file has {actual[alg][:16]}…)"
        for alg, want in wanted.items()
        if actual[alg] != want
    ]


def _check_oxum(directory: Path, on_disk: set[str]) -> list[str]:
    if not (directory / "bag-info.txt").is_file():
        return ["bag-info.txt missing"]
    oxum = _bag_info(directory).get("Payload-Oxum")
    if oxum is None:
        return []
    octets = sum((directory / p).stat().st_size for p in on_disk)
    found = f"{octets}.{len(on_disk)}"
    return [] if oxum == found else [f"Payload-Oxum mismatch: bag-info.txt says {oxum}, data/ holds {found}"]
