"""Accounts: the municipality's channels that Communis captures.

An account entry never holds a secret. It names where the secret lives (an environment
variable or a Prefect Secret block) so the accounts file can be committed and reviewed.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, HttpUrl, model_validator

from ._base import Model

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Platform(StrEnum):
    """Platforms Communis can capture."""

    WORDPRESS = "wordpress"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YOUTUBE = "youtube"
    LINKEDIN = "linkedin"
    FLICKR = "flickr"
    TIKTOK = "tiktok"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    RSS = "rss"


#: Where each platform's API lives when `base_url` is not given, and what secret it needs
#: (None: public data needs none). Mastodon, WordPress and feeds have no default: the instance,
#: site or feed is the account's own.
API_DEFAULTS: dict[Platform, tuple[str | None, str | None]] = {
    Platform.WORDPRESS: (None, None),
    Platform.FACEBOOK: ("https://graph.facebook.com/v21.0", "a Page access token"),
    Platform.INSTAGRAM: ("https://graph.facebook.com/v21.0", "an Instagram/Facebook user access token"),
    Platform.X: ("https://api.x.com", "an app-only Bearer token"),
    Platform.YOUTUBE: ("https://www.googleapis.com/youtube/v3", "an API key"),
    Platform.LINKEDIN: ("https://api.linkedin.com", "a 3-legged token with r_organization_social"),
    Platform.FLICKR: ("https://api.flickr.com", "an API key"),
    Platform.TIKTOK: ("https://open.tiktokapis.com", "a user token with the video.list scope"),
    Platform.MASTODON: (None, None),
    Platform.BLUESKY: ("https://public.api.bsky.app", None),
    Platform.RSS: (None, None),
}


class CredentialRef(Model):
    """Where an account's secret lives; exactly one of the two is set."""

    env: str | None = Field(
        default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="Environment variable holding the token."
    )
    prefect_secret: str | None = Field(default=None, description="Name of a Prefect Secret block.")

    @model_validator(mode="after")
    def _exactly_one(self) -> CredentialRef:
        if (self.env is None) == (self.prefect_secret is None):
            raise ValueError("set exactly one of 'env' or 'prefect_secret'")
        return self


class Account(Model):
    """One channel of the municipality on one platform."""

    id: str = Field(pattern=SLUG_PATTERN, description="Stable slug; used in item keys and WARC file names.")
    platform: Platform
    handle: str = Field(min_length=1, description="The platform's handle, page id or feed URL.")
    display_name: str = Field(min_length=1)
    department: str = Field(min_length=1, description="Owning nämnd/department, for the channel register.")
    retention_class: str = Field(pattern=SLUG_PATTERN, description="Name of a configured RetentionClass.")
    base_url: HttpUrl | None = Field(default=None, description="API base URL (instance, site or simulator).")
    credentials: CredentialRef | None = None
    active: bool = True
    harvest_every_minutes: int | None = Field(
        default=None,
        ge=1,
        description="Harvest at most this often (platforms with daily quotas, such as "
        "YouTube's 10 000 units); default: every scheduled run.",
    )
    opened_at: date | None = Field(
        default=None,
        description="When the channel was opened, for the channel register; default: its earliest archived item.",
    )
    closed_at: date | None = Field(
        default=None,
        description="When the channel was closed (`communis accounts close` records it); scheduled harvests skip it.",
    )

    @model_validator(mode="after")
    def _platform_needs(self) -> Account:
        default, secret = API_DEFAULTS[self.platform]
        if (
            self.base_url is None
            and default is None
            and not (self.platform is Platform.RSS and self.handle.startswith(("http://", "https://")))
        ):
            what = {Platform.MASTODON: "the instance URL", Platform.WORDPRESS: "the site URL"}.get(
                self.platform, "the feed URL (or give the full URL as handle)"
            )
            raise ValueError(f"base_url ({what}) is required for {self.platform.value}")
        if secret is not None and self.credentials is None:
            raise ValueError(
                f"credentials are required for {self.platform.value}: {secret} "
                "(credentials: {env: NAME} or {prefect_secret: NAME})"
            )
        return self

    @property
    def api_base(self) -> str:
        """`base_url`, or the platform's public API address."""
        default = API_DEFAULTS[self.platform][0]
        if self.base_url is None and self.platform is Platform.RSS:
            default = self.handle  # a feed given by its full URL
        chosen = str(self.base_url) if self.base_url is not None else default
        assert chosen is not None  # the validator requires base_url where there is no default
        return chosen.rstrip("/")


class AccountsFile(Model):
    """The accounts YAML file: a list of accounts with unique ids."""

    accounts: list[Account]

    @model_validator(mode="after")
    def _unique_ids(self) -> AccountsFile:
        seen: set[str] = set()
        for account in self.accounts:
            if account.id in seen:
                raise ValueError(f"duplicate account id {account.id!r}")
            seen.add(account.id)
        return self
