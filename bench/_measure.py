"""Measuring helpers for the benchmark scripts: wall time and peak memory per stage."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def _reset_peak() -> None:
    """Reset VmHWM (Linux ≥ 4.0) so each stage reports its own peak RSS."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Stage:
    name: str
    seconds: float
    items: int
    megabytes: float
    peak_mb: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds if self.seconds else float("inf")


def measure(name: str, items: int, megabytes: float, fn: Callable[[], T]) -> tuple[Stage, T]:
    _reset_peak()
    before = _status_mb("VmRSS")
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return Stage(name, seconds, items, megabytes, _status_mb("VmHWM") - before), result


def print_table(stages: list[Stage], unit: str, reference: Stage | None = None) -> None:
    header = f"{'stage':<46} {unit + '/s':>12} {'MB/s':>9} {'seconds':>9} {'+peak RSS MB':>12}"
    if reference is not None:
        header += f" {'× ref':>7}"
    print(header)
    print("-" * len(header))
    for st in stages:
        line = f"{st.name:<46} {st.per_second:>12,.0f} {st.mb_per_second:>9.1f} {st.seconds:>9.2f} {st.peak_mb:>12.0f}"
        if reference is not None:
            line += f" {st.per_second / reference.per_second:>7.2f}"
        print(line)
