"""Connectors by platform name (the pywb index-source pattern: one protocol, several backends)."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Connector
from .mastodon import MastodonConnector
from .wordpress import WordPressConnector

CONNECTORS: dict[str, type[Connector]] = {
    "mastodon": MastodonConnector,
    "wordpress": WordPressConnector,
}


def connector_for(platform: str) -> Connector:
    try:
        return CONNECTORS[platform]()
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise ConfigError(f"no connector for platform {platform!r} yet", hint=f"supported: {known}") from None
