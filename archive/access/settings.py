"""The settings of sign-in and transport: throttling, trusted proxies, HSTS and token lifetimes.

`COMMUNIS_*` variables over the same TOML file as `archive.config.Settings` (which ignores these
keys), kept here so that the access rules and their knobs live in one package. Each has a safe
default: an installation that configures nothing throttles sign-in, trusts no proxy (so no client
can forge its address with `X-Forwarded-For`) and gives API tokens a lifetime.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import Field, field_validator

from ..config import CommunisSettings, networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AccessSettings(CommunisSettings):
    """Sign-in throttling, trusted proxies, HSTS and API-token lifetimes."""

    login_max_failures_per_user: int = Field(
        default=5, ge=1, le=1000, description="Wrong passwords for one user name within the window before a lockout."
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, le=100_000, description="Failed sign-ins from one client address within the window."
    )
    login_window_seconds: int = Field(default=900, ge=1, description="How far back failed sign-ins are counted.")
    login_lockout_seconds: int = Field(default=900, ge=1, description="How long a locked user or address waits.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
            "believed; from anyone else those headers are ignored."
        ),
    )
    hsts_seconds: int = Field(
        default=31_536_000, ge=0, description="Strict-Transport-Security max-age sent on TLS answers (0: none)."
    )
    token_days: int = Field(default=90, ge=1, le=3650, description="Days a new API token is valid unless told.")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return networks(value)

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)


@lru_cache(maxsize=1)
def access_settings() -> AccessSettings:
    """The process-wide access settings, loaded once on first use (a typo is a one-line error)."""
    return AccessSettings.load()
