"""Connectors by platform name (the pywb index-source pattern: one protocol, several backends).

Modules are imported when first asked for, so a platform's connector costs nothing to the
accounts that do not use it.
"""

from __future__ import annotations

import importlib

from ..errors import ConfigError
from .base import Connector

#: Platform → "module:Class" under archive.connectors.
CONNECTORS: dict[str, str] = {
    "wordpress": "wordpress:WordPressConnector",
    "facebook": "facebook:FacebookConnector",
    "instagram": "instagram:InstagramConnector",
    "x": "x:XConnector",
    "youtube": "youtube:YouTubeConnector",
    "linkedin": "linkedin:LinkedInConnector",
    "flickr": "flickr:FlickrConnector",
    "tiktok": "tiktok:TikTokConnector",
    "mastodon": "mastodon:MastodonConnector",
    "bluesky": "bluesky:BlueskyConnector",
    "rss": "feeds:FeedConnector",
}


def connector_class(platform: str) -> type[Connector]:
    try:
        module, name = CONNECTORS[platform].split(":")
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise ConfigError(f"no connector for platform {platform!r}", hint=f"supported: {known}") from None
    try:
        cls: type[Connector] = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the {platform} connector is not installed ({exc})") from exc
    return cls


def connector_for(platform: str) -> Connector:
    return connector_class(platform)()
