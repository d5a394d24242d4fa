"""A directory sent as a zip while it is made: a package can be gigabytes, never held in memory or on disk."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _Sink(io.RawIOBase):
    """An unseekable file that zipfile writes into and the response drains from."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.written

    def drain(self) -> Iterator[bytes]:
        chunks, self.chunks = self.chunks, []
        if chunks:
            yield b"".join(chunks)


def zip_stream(directory: Path, name: str | None = None) -> Iterator[bytes]:
    """The directory as a zip, made while it is sent.

    Entries are under `name` (default: the directory's name), so unzipping gives the bag as
    produced; files are stored, not deflated: WARC, WACZ, PDF and images are compressed already.
    """
    top = name or directory.name
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo.from_file(path, f"{top}/{path.relative_to(directory).as_posix()}")
            with path.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while block := src.read(1024 * 1024):
                    dst.write(block)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()
