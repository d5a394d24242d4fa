"""Platform modules over ``SocialModel``: one ``PlatformApp`` subclass each, found by name here.

Adding a platform: write ``simulator/platforms/<name>.py`` with a ``PlatformApp`` subclass named
``App`` (its name must be in ``PLATFORMS``); the server mounts it at its ``prefix``, the timeline
takes ``<name>.publish`` and friends, and ``Simulator.state()`` reports its ground truth.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import PlatformApp

PLATFORMS = ("facebook", "instagram", "x", "youtube", "linkedin", "flickr", "tiktok", "bluesky", "rss")
#: The platforms whose module exists.
NAMES: tuple[str, ...] = tuple(n for n in PLATFORMS if importlib.util.find_spec(f"{__name__}.{n}") is not None)


def app_class(name: str) -> type[PlatformApp]:
    module = importlib.import_module(f"{__name__}.{name}")
    cls: type[PlatformApp] = module.App
    return cls


__all__ = ["NAMES", "PlatformApp", "app_class"]
