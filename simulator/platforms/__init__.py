"""Platform modules over ``SocialModel``: one ``PlatformApp`` subclass each, found by name here.

Adding a platform: write ``simulator/platforms/<name>.py`` with a ``PlatformApp`` subclass named
``App`` (its name must be in ``PLATFORMS``, simulator/platform_names.py); the server mounts it at
its ``prefix``, the timeline takes ``<name>.publish`` and friends, and ``Simulator.state()``
reports its ground truth.
"""

from __future__ import annotations

import importlib

from ..platform_names import NAMES, PLATFORMS
from .base import PlatformApp


def app_class(name: str) -> type[PlatformApp]:
    module = importlib.import_module(f"{__name__}.{name}")
    cls: type[PlatformApp] = module.App
    return cls


__all__ = ["NAMES", "PLATFORMS", "PlatformApp", "app_class"]
