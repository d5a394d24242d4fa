"""Settings: `COMMUNIS_*` environment variables over a TOML file over built-in defaults.

Defaults are the embedded ones (local-directory storage, files under `./var`). The TOML file
is `$COMMUNIS_CONFIG`, else `communis.toml` in the working directory, else the
`var/services/local.toml` that `scripts/services up` writes for the local services.
Settings are loaded on first use through `get_settings()`, never at import time.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from schemas import LockMode, Platform, RetentionClass, RetentionTrigger, Tolerance

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_RETENTION_CLASSES = [
    RetentionClass(
        name="social-10y",
        description="Social media records kept ten years from the end of the capture year.",
        years=10,
        trigger=RetentionTrigger.END_OF_YEAR,
    ),
    RetentionClass(name="short-2y", description="Transitory channels, two years.", years=2),
    RetentionClass(name="bevara", description="Kept permanently (bevaras).", permanent=True),
]


def var_dir() -> Path:
    """Runtime data folder (git-ignored); `COMMUNIS_VAR_DIR` moves it."""
    return Path(os.environ.get("COMMUNIS_VAR_DIR", Path.cwd() / "var"))


def _config_file() -> Path | None:
    explicit = os.environ.get("COMMUNIS_CONFIG")
    if explicit:
        return Path(explicit)
    for candidate in (
        Path.cwd() / "communis.toml",
        var_dir() / "services" / "local.toml",
        REPO_ROOT / "var" / "services" / "local.toml",
    ):
        if candidate.is_file():
            return candidate
    return None


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_plaintext_credential(url: str, what: str) -> None:
    """Refuse to send a credential to `url` unless it is `https://`, or `http://` to this machine (loopback).

    Anyone on the path of a plain-HTTP request reads the key, password or token in it. The message
    names the setting and the host, never the URL's path or query (a webhook URL is itself a secret).
    """
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname)):
        return
    raise ConfigError(
        f"{what}: refusing to send a credential to {parts.scheme or '?'}://{parts.hostname or '?'} without TLS",
        hint="use an https:// address (or http:// to a loopback address for a service on this machine)",
    )


def networks(value: list[str]) -> list[str]:
    """A setting's list of addresses or CIDR networks, each checked (a ValueError names the bad one)."""
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or a network (CIDR)") from None
    return value


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML config file, if any; environment variables take precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_file()
        if path is None:
            return {}
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config: {exc}") from exc


class CommunisSettings(BaseSettings):
    """What every settings class shares: `COMMUNIS_*` variables first, then the TOML config file."""

    model_config = SettingsConfigDict(env_prefix="COMMUNIS_", extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlSource(settings_cls)

    @classmethod
    def load(cls) -> Self:
        """The settings from the environment and the config file; a typo is a one-line ConfigError."""
        try:
            return cls()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"invalid setting {where}: {first['msg']}", hint="fix COMMUNIS_* variables or the config file"
            ) from exc


class Settings(CommunisSettings):
    """Everything configurable. Secrets are SecretStr so they never print."""

    data_dir: Path = Field(default_factory=lambda: var_dir() / "data", description="Local working data.")
    accounts_file: Path | None = Field(default=None, description="Accounts YAML file.")

    store: Literal["local", "s3"] = Field(default="local", description="Blob store backend.")
    store_path: Path = Field(default_factory=lambda: var_dir() / "store", description="Local store root.")
    s3_endpoint_url: str | None = Field(default=None, description="S3 endpoint; unset means AWS.")
    s3_bucket: str = Field(default="communis-archive", description="Bucket with Object Lock enabled.")
    s3_prefix: str = Field(default="", description="Key prefix inside the bucket (several archives, one bucket).")
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    s3_access_key: SecretStr | None = Field(default=None, description="S3 access key (else boto3's chain).")
    s3_secret_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    s3_disposal_access_key: SecretStr | None = Field(
        default=None,
        description=(
            "S3 access key used only to execute an approved disposition list (the one role that may delete "
            "object versions); unset: the main key."
        ),
    )
    s3_disposal_secret_key: SecretStr | None = Field(default=None, description="Its secret key.")
    s3_multipart_threshold: int = Field(
        default=64 * 1024 * 1024, ge=5 * 1024 * 1024, description="Files above this size upload in parts."
    )
    s3_timeout_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description=("Seconds to wait for S3 to answer a request (connecting waits at most 5 of them)."),
    )
    s3_max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description=("Attempts per S3 request (botocore's standard retries) before the store counts as unavailable."),
    )
    lock_mode: LockMode | None = Field(default=None, description="Overrides each class's Object Lock mode.")

    es_url: str = Field(default="http://127.0.0.1:9200", description="Elasticsearch URL.")
    es_api_key: SecretStr | None = Field(default=None, description="Elasticsearch API key.")
    es_username: str | None = Field(default=None, description="Elasticsearch user (with es_password).")
    es_password: SecretStr | None = Field(default=None, description="Elasticsearch password.")
    es_ca_file: Path | None = Field(default=None, description="CA certificate file for TLS.")
    es_timeout_seconds: float = Field(
        default=60, gt=0, le=3600, description="Seconds to wait for Elasticsearch to answer a request."
    )
    es_max_retries: int = Field(
        default=3,
        ge=0,
        le=20,
        description=(
            "Retries of a failed Elasticsearch request (another node or connection) before it counts as unavailable."
        ),
    )
    es_bulk_chunk_size: int = Field(
        default=500, ge=1, le=10000, description="Documents per bulk request when a WARC file's records are indexed."
    )
    es_index_prefix: str = Field(
        default="communis", pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Index and alias names start with this."
    )
    events_prefix: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description=("Prefix of the append-only audit and preservation-event streams (default: es_index_prefix)."),
    )

    warc_rollover_bytes: int = Field(default=1024**3, ge=64 * 1024, description="WARC file size limit.")
    warc_rollover_records: int = Field(
        default=5_000, ge=1, description="Records per WARC file at most (bounds a run's memory: see WarcWriter)."
    )
    gzip_level: int = Field(default=1, ge=0, le=3, description="ISA-L gzip level per WARC record (0-3).")
    max_body_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="Larger response bodies are quarantined."
    )
    media_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024, description="Media files larger are quarantined.")
    harvest_lookback_days: int = Field(
        default=30, ge=0, le=3650, description="Days of recent items re-read each run for edits and deletions."
    )
    harvest_sweep_hours: float = Field(
        default=24,
        ge=0,
        description=("Hours between runs that walk whole listings to notice new comments on old posts (0: every run)."),
    )
    harvest_run_history: int = Field(
        default=2880,
        ge=1,
        description="Run summaries kept per account (a ring: the oldest is overwritten; 2880: 30 days of 15 minutes).",
    )
    http_max_tries: int = Field(default=5, ge=1, le=20, description="Tries per request before giving up.")
    http_backoff_seconds: float = Field(default=0.5, ge=0, le=60, description="First retry delay (doubles, jittered).")
    http_allowed_networks: list[str] = Field(
        default_factory=list,
        description=(
            "Networks (CIDR) or addresses that harvest requests may reach although they are not public "
            "(loopback, private, link-local…): none by default, so a URL in a post or comment cannot reach "
            "this machine's or the local network's services."
        ),
    )
    harvest_lock_timeout_seconds: int = Field(
        default=600, ge=1, description="How long a run waits for another run of the same account."
    )
    harvest_lock_lease_seconds: int = Field(
        default=300,
        ge=60,  # Prefect's server refuses shorter leases
        le=86400,
        description=(
            "Lease on an account's concurrency slot, renewed while its run lives: a run whose machine dies "
            "frees the slot this long after its last renewal."
        ),
    )
    harvest_fanout_wait_minutes: int = Field(
        default=120,
        ge=1,
        description="How long a fanned-out harvest waits for its per-account runs before reporting them unfinished.",
    )
    harvest_fanout_group: int = Field(
        default=20,
        ge=1,
        le=10000,
        description="Accounts per flow run when a scheduled harvest fans out over the workers.",
    )
    harvest_fanout_poll_seconds: float = Field(
        default=5.0, gt=0, le=300, description="How often a fanned-out harvest asks Prefect about its per-account runs."
    )
    harvest_interval_minutes: int = Field(default=15, ge=1, description="Expected time between harvests.")
    alert_after_failures: int = Field(default=3, ge=1, description="Failed runs in a row that raise an alarm.")
    alert_webhook_url: SecretStr | None = Field(default=None, description="Where alarms are POSTed as JSON.")
    completeness_alarm_runs: int = Field(
        default=3,
        ge=1,
        description="Harvest runs in a row that end with a completeness gap before the account alarms.",
    )
    completeness_tolerance: dict[Platform, Tolerance] = Field(
        default_factory=dict,
        description=(
            "Per platform, the published count's allowed excess over the archive before it is a gap, e.g. "
            '{"mastodon": {"absolute": 1, "relative": 0.05}}; unset platforms keep the documented default. '
            "Written into every report."
        ),
    )
    operator: str = Field(default="Communis local installation", description="Written into warcinfo.")

    retention_classes: list[RetentionClass] = Field(
        default_factory=lambda: list(DEFAULT_RETENTION_CLASSES), description="Named retention periods."
    )
    retention_file: Path | None = Field(
        default=None,
        description=("Retention schedule YAML (rules citing decisions); default: archive/samples/retention.yaml."),
    )

    @field_validator("http_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return networks(value)

    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """`http_allowed_networks` parsed: the non-public destinations harvest requests may reach."""
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.http_allowed_networks)

    @model_validator(mode="after")
    def _credentials_over_tls(self) -> Self:
        """No credential this installation holds is sent over plain HTTP to another machine."""
        if self.es_api_key is not None or self.es_password is not None or urlsplit(self.es_url).password:
            refuse_plaintext_credential(self.es_url, "COMMUNIS_ES_URL")
        if self.s3_endpoint_url and (self.s3_access_key is not None or self.s3_secret_key is not None):
            refuse_plaintext_credential(self.s3_endpoint_url, "COMMUNIS_S3_ENDPOINT_URL")
        if self.alert_webhook_url is not None:
            refuse_plaintext_credential(self.alert_webhook_url.get_secret_value(), "COMMUNIS_ALERT_WEBHOOK_URL")
        prefect = os.environ.get("PREFECT_API_URL")
        if prefect and (os.environ.get("PREFECT_API_KEY") or os.environ.get("PREFECT_API_AUTH_STRING")):
            refuse_plaintext_credential(prefect, "PREFECT_API_URL")
        return self

    def stream(self, kind: str) -> str:
        """The name of an append-only data stream (`audit`, `premis`) of this installation."""
        return f"{self.events_prefix or self.es_index_prefix}-{kind}"

    def retention_class(self, name: str) -> RetentionClass:
        """The configured class called `name`, or a ConfigError naming the known ones."""
        for rc in self.retention_classes:
            if rc.name == name:
                return rc
        known = ", ".join(rc.name for rc in self.retention_classes)
        raise ConfigError(f"unknown retention class {name!r}", hint=f"use one of: {known}")

    @property
    def index_alias(self) -> str:
        return f"{self.es_index_prefix}-records"

    @property
    def access_index(self) -> str:
        """The installation's users, tokens, sessions and sign-in throttle (archive/index/access_store.py)."""
        return f"{self.es_index_prefix}-access"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once on first use."""
    return Settings.load()
