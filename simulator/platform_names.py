"""The simulated platforms by name: a leaf module, so that `faults` can check a rule's platform
without importing the platform modules (which import `faults` for their rate limiter)."""

from __future__ import annotations

from pathlib import Path

PLATFORMS = ("facebook", "instagram", "x", "youtube", "linkedin", "flickr", "tiktok", "bluesky", "rss")
#: The platforms whose module exists.
NAMES: tuple[str, ...] = tuple(n for n in PLATFORMS if (Path(__file__).with_name("platforms") / f"{n}.py").exists())
