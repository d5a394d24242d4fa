"""Per-record gzip members with a chosen compressor and level.

warcio hard-codes zlib level 9, which costs several times the CPU of lower levels for a few
percent of size on JSON. Communis writes each record as its own gzip member (standard, so any
WARC reader can seek to a record) using ISA-L (python-isal) when available, else zlib; the
level was chosen by measurement (bench/ingest.py, docs/performance.md).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Literal, Protocol

from isal import isal_zlib

Engine = Literal["isal", "zlib"]


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


def compressor_factory(engine: Engine, level: int) -> Callable[[], _Compressor]:
    """A factory of gzip-framed compressors (one per record member)."""
    if engine == "isal":
        isal_level = max(0, min(level, isal_zlib.ISAL_BEST_COMPRESSION))
        return lambda: isal_zlib.compressobj(isal_level, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
    return lambda: zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
