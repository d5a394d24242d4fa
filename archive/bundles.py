"""Reading capture bundles from JSON lines, keeping malformed lines instead of failing.

A line that is not a valid CaptureBundle becomes a `Rejected` item carrying the raw bytes and
a one-line reason; the pipeline quarantines it and goes on with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from schemas import CaptureBundle

MEDIA_TYPES = ("image/", "video/", "audio/")
"""Content types archived as media files: what the media fetcher keeps and what recovery looks for."""


@dataclass(frozen=True)
class Rejected:
    """Input that could not be parsed, with why.

    The reason is made one line of UTF-8 here, whoever writes it: it quotes what a platform sent (a
    URL with a line break, a lone surrogate escaped in JSON), and it is shown as one line and saved
    in the quarantine entry's JSON (found by tests/fuzz)."""

    raw: bytes
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", one_line(self.reason))


def one_line(text: str) -> str:
    """`text` with line breaks and runs of whitespace as one space, and lone surrogates escaped."""
    return " ".join(text.encode("utf-8", "backslashreplace").decode("utf-8").split())


def encoded(text: str) -> bytes:
    """An id or URL a platform sent, as the raw bytes of a rejection (lone surrogates escaped)."""
    return text.encode("utf-8", "backslashreplace")


def _reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(document)"
    return f"invalid capture bundle: {where}: {err['msg']}"


def parse_lines(lines: Iterable[bytes]) -> Iterator[CaptureBundle | Rejected]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield CaptureBundle.model_validate_json(line)
        except ValidationError as exc:
            yield Rejected(line, f"line {number}: {_reason(exc)}")


def read_file(path: Path) -> Iterator[CaptureBundle | Rejected]:
    with path.open("rb") as fh:
        yield from parse_lines(fh)
