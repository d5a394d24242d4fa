"""Where a package's delivery lives: beside the package, as its own bag (light, so no door loads fpdf for it)."""

from __future__ import annotations

from pathlib import Path

DELIVERY_SUFFIX = "-delivery"


def delivery_path(package: Path) -> Path:
    """Where the delivery (the release copy alone, as its own bag) of the package at `package` is."""
    return package.with_name(package.name + DELIVERY_SUFFIX)


__all__ = ["DELIVERY_SUFFIX", "delivery_path"]
