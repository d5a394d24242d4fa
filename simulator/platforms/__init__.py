"""Platform modules over ``SocialModel``: one ``PlatformApp`` subclass each, found by name here.

Adding a platform: write ``simulator/platforms/<name>.py`` with a ``PlatformApp`` subclass named
``App`` and add the module name to ``NAMES``; the server mounts it at its ``prefix``, the timeline
takes ``<name>.publish`` and friends, and ``Simulator.state()`` reports its ground truth.
"""

from __future__ import annotations

import importlib

from .base import PlatformApp

#: Module name → the handle and display name of the municipality's account there.
NAMES: tuple[str, ...] = ("bluesky",)


def app_class(name: str) -> type[PlatformApp]:
    module = importlib.import_module(f"{__name__}.{name}")
    cls: type[PlatformApp] = module.App
    return cls


__all__ = ["NAMES", "PlatformApp", "app_class"]
