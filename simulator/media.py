"""Real, tiny, deterministic media files: PNG, baseline JPEG and MP4, plus an oversized stream.

Harvesters store media bytes and check types and sizes, so the files must be genuine: the PNG is
zlib-compressed RGB with CRCs, the JPEG a baseline DCT image (solid colour, DC-only blocks, standard
DC Huffman table), the MP4 an ISO-BMFF ``ftyp``/``free``/``mdat`` box sequence. The oversized file
is streamed in chunks and never held in memory, for the harvester's size cap.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from .rand import mix

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Blob:
    """A media file to serve: its type, exact length and a way to produce its bytes."""

    content_type: str
    length: int
    head: bytes
    fill: int = 0  # zero bytes streamed after ``head`` (oversized files)

    def chunks(self) -> Iterator[bytes]:
        """The bytes in pieces of at most 64 KiB."""
        yield self.head
        left = self.fill
        zeros = bytes(_CHUNK)
        while left > 0:
            n = min(left, _CHUNK)
            yield zeros[:n]
            left -= n

    def data(self) -> bytes:
        """All bytes at once (small files only)."""
        return b"".join(self.chunks())


def colour(key: int) -> tuple[int, int, int]:
    """A pleasant deterministic RGB colour for a key."""
    h = mix("colour", key)
    return 40 + h % 180, 40 + (h >> 8) % 180, 40 + (h >> 16) % 180


def png(width: int, height: int, key: int) -> bytes:
    """An RGB PNG with a vertical gradient in the key's colour."""
    r, g, b = colour(key)
    rows = bytearray()
    for y in range(height):
        shade = y * 60 // max(height - 1, 1)
        rows += b"\x00" + bytes((min(r + shade, 255), min(g + shade, 255), min(b + shade, 255))) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


# Standard JPEG DC luminance Huffman table (ITU T.81 K.3): counts per code length 1..16, then symbols.
_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_VALS = list(range(12))


def _dc_codes() -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length, count in enumerate(_DC_BITS, start=1):
        for _ in range(count):
            codes[_DC_VALS[k]] = (code, length)
            code, k = code + 1, k + 1
        code <<= 1
    return codes


class _Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)
        return bytes(self.out)


def jpeg(width: int, height: int, key: int, comment: str = "") -> bytes:
    """A baseline JPEG of one solid colour (YCbCr 4:4:4), with an optional COM segment."""
    r, g, b = colour(key)
    ycc = (
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
    )
    dcs = [round(8 * (v - 128)) for v in ycc]  # quantiser 1: DC = 8 × (mean − 128)
    codes = _dc_codes()
    bits = _Bits()
    prev = [0, 0, 0]
    for _ in range(((width + 7) // 8) * ((height + 7) // 8)):
        for c in range(3):
            diff = dcs[c] - prev[c]
            prev[c] = dcs[c]
            size = abs(diff).bit_length()
            code, length = codes[size]
            bits.put(code, length)
            if size:
                bits.put(diff if diff > 0 else diff + (1 << size) - 1, size)
            bits.put(0, 1)  # AC table has one symbol (EOB) with the 1-bit code 0

    def seg(marker: int, data: bytes) -> bytes:
        return struct.pack(">HH", marker, len(data) + 2) + data

    out = b"\xff\xd8" + seg(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if comment:
        out += seg(0xFFFE, comment.encode())
    out += seg(0xFFDB, b"\x00" + b"\x01" * 64)
    out += seg(0xFFC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    out += seg(0xFFC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALS))
    out += seg(0xFFC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    out += seg(0xFFDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    return out + bits.flush() + b"\xff\xd9"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload) + 8) + kind + payload


def mp4(key: int, size: int = 0) -> Blob:
    """An ISO-BMFF file (``ftyp`` + ``free`` + ``mdat``); ``size`` pads ``mdat`` to an exact total length."""
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
    free = _box(b"free", f"communis-simulator {key}".encode())
    payload = bytes((mix("mp4", key, i) & 0xFF) for i in range(1024))
    head = ftyp + free
    if size <= len(head) + 8 + len(payload):
        return Blob("video/mp4", len(head) + 8 + len(payload), head + _box(b"mdat", payload))
    body = size - len(head) - 8
    return Blob("video/mp4", size, head + struct.pack(">I", body + 8) + b"mdat" + payload, fill=body - len(payload))


def image(fmt: str, width: int, height: int, key: int) -> Blob:
    """A PNG (``fmt="png"``) or JPEG blob."""
    if fmt == "png":
        data = png(width, height, key)
        return Blob("image/png", len(data), data)
    data = jpeg(width, height, key, f"communis-simulator {key}")
    return Blob("image/jpeg", len(data), data)
