"""Local services for development, tests, demo and benchmarks: Elasticsearch and MinIO.

Started by the project itself (`scripts/services up`), on loopback, with downloads and
builds cached outside the clone (`~/.cache/communis`) so reruns are fast, and runtime data
in the git-ignored `var/services/`. Prefect needs nothing started: flows use its ephemeral
local API.

The two small result types live here (not in the launcher) so the per-service modules can
return them without importing the launcher, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServiceStatus:
    """One service as `status` sees it: a line a person can read, fields a program can use."""

    name: str
    state: str  # "running", "stopped", "unhealthy" or "n/a" (nothing to run)
    url: str
    version: str
    detail: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    def line(self) -> str:
        text = f"{self.name:<14} {self.state:<9} {self.url or '-':<24} {self.version}"
        return f"{text}  {self.detail}" if self.detail else text


@dataclass(frozen=True)
class ServicesInfo:
    """What `up` leaves behind: where each service listens, and what the app should use."""

    es_url: str
    s3_endpoint_url: str
    s3_bucket: str
    s3_region: str
    s3_access_key: str
    s3_secret_key: str = field(repr=False)
    config_file: Path
    services: list[ServiceStatus]
    seconds: float
    es_username: str = ""
    es_password: str = field(default="", repr=False)
    s3_disposal_access_key: str = ""
    s3_disposal_secret_key: str = field(default="", repr=False)


__all__ = ["ServiceStatus", "ServicesInfo"]
