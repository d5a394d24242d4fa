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


@dataclass(frozen=True)
class Rejected:
    """Input that could not be parsed, with why."""

    raw: bytes
    reason: str


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
