"""The software identity written into every WARC file and certificate."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("communis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

try:
    _WARCIO = version("warcio")
except PackageNotFoundError:  # pragma: no cover
    _WARCIO = "unknown"

SOFTWARE = f"Communis/{__version__} (warcio/{_WARCIO})"
