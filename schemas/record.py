"""Record: one version of one post, comment, reply or media item, normalized.

An *item* is one object on a platform (`platform:account:item_id`). Each time its content
hash changes a new record version is written; a deletion is a tombstone version. Records
point back to the WARC record holding the raw response they were derived from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import Field, computed_field, field_validator, model_validator

from ._base import Model
from .account import Platform

#: Fields whose change makes a new version. Times of capture are deliberately absent.
CONTENT_FIELDS = (
    "kind",
    "parent_id",
    "thread_id",
    "author",
    "direction",
    "title",
    "text",
    "html",
    "url",
    "links",
    "hashtags",
    "mentions",
    "media",
    "published_at",
    "edited_at",
    "language",
    "deleted",
    "hidden_on_platform",
    "removal",
    "repost_of",
    "quote_of",
    "poll",
    "moderation",
)


_CONTENT_INCLUDE: dict[str, Any] = {
    **{name: True for name in CONTENT_FIELDS},
    "media": {"__all__": {"url", "content_type", "description"}},
    # A poll's question and options are content; its running vote counts are not (they change on
    # every run and would make a new version each time). The counts of each capture stay in `raw`.
    "poll": {"options": {"__all__": {"title"}}, "expires_at": True, "multiple": True},
    # Who is on a moderation list is content; a listed account's display name is not (it is theirs to
    # change, and would make a new version of the municipality's list each time they did).
    "moderation": {
        "name": True,
        "entries": {
            "__all__": {
                "id",
                "handle",
                "domain",
                "keyword",
                "whole_word",
                "title",
                "context",
                "action",
                "status_id",
                "since",
                "expires_at",
            }
        },
    },
}
#: Content fields added after records were first written: left out of the hash while empty, so
#: records written before they existed keep their hash (and id) and no harvest sees a false edit.
#: `quote_of` and `poll` came together and enter the hash together (as they always have); each later
#: one enters on its own, so records that have a poll keep the hash they had before `moderation` existed.
_LATER_FIELDS = ("quote_of", "poll", "moderation")
_CONTENT_INCLUDE_EARLY: dict[str, Any] = {k: v for k, v in _CONTENT_INCLUDE.items() if k not in _LATER_FIELDS}
_CONTENT_INCLUDES: dict[tuple[bool, bool], dict[str, Any]] = {
    (polls, moderation): {
        **_CONTENT_INCLUDE_EARLY,
        **({k: _CONTENT_INCLUDE[k] for k in ("quote_of", "poll")} if polls else {}),
        **({"moderation": _CONTENT_INCLUDE["moderation"]} if moderation else {}),
    }
    for polls in (False, True)
    for moderation in (False, True)
}
#: Fields outside the content hash and the item key: updating them keeps the record id (but for
#: `version`, which is part of the id).
_NON_CONTENT = frozenset({"first_seen_at", "last_seen_at", "captured_at", "version", "source_url", "warc", "raw"})
DERIVED_FIELDS = frozenset({"item_key", "content_sha256", "record_id"})


class Kind(StrEnum):
    """What the item is on its platform."""

    POST = "post"
    PAGE = "page"
    COMMENT = "comment"
    REPLY = "reply"
    MEDIA = "media"
    MODERATION = "moderation"  # one of the account's own moderation lists (blocks, mutes, filters …)


class Direction(StrEnum):
    """Swedish records law: drawn up by the municipality, or received from someone else."""

    UPPRATTAD = "upprattad"  # drawn up: published by the municipality
    INKOMMEN = "inkommen"  # received: written by a citizen or another party


class Author(Model):
    """Who wrote the item, as the platform identifies them."""

    id: str | None = None
    handle: str | None = None
    name: str | None = None
    url: str | None = None


class WarcLocation(Model):
    """Where a WARC record is stored: file, byte range and SHA-256 of those exact bytes."""

    filename: str
    offset: int = Field(ge=0)
    length: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the stored (gzip) bytes.")
    record_id: str = Field(description="WARC-Record-ID of the record.")


class MediaRef(Model):
    """A media file referenced by a record (image, video), with its archived copy if fetched."""

    url: str
    content_type: str | None = None
    description: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    warc: WarcLocation | None = None


class PollOption(Model):
    """One answer of a poll, with the votes it had when captured."""

    title: str
    votes: int | None = Field(default=None, ge=0)


class Poll(Model):
    """A poll attached to a post (Mastodon, X): the options are content, the counts a reading."""

    options: list[PollOption] = Field(default_factory=list)
    expires_at: datetime | None = None
    multiple: bool = False
    votes: int | None = Field(default=None, ge=0, description="Total votes when captured.")
    voters: int | None = Field(default=None, ge=0, description="People who voted, when captured.")


class ModerationEntry(Model):
    """One entry of a moderation list, as the platform names it: an account (id, handle, name), a domain,
    or a filter keyword (with its filter's title, contexts and action)."""

    id: str | None = Field(default=None, description="The platform's id of the entry (account id, DID, keyword id).")
    handle: str | None = Field(default=None, description="The listed account's handle (`acct`, username, handle).")
    name: str | None = Field(default=None, description="The listed account's display name (not content).")
    domain: str | None = Field(default=None, description="A blocked domain.")
    keyword: str | None = Field(default=None, description="A filtered word or phrase.")
    whole_word: bool | None = None
    title: str | None = Field(default=None, description="The filter's or list's own title.")
    context: list[str] = Field(default_factory=list, description="Where a filter applies (home, public …).")
    action: str | None = Field(default=None, description="What a filter does (warn, hide, blur).")
    status_id: str | None = Field(default=None, description="A single post a filter hides.")
    url: str | None = None
    since: datetime | None = Field(default=None, description="When the entry was made, where the platform says.")
    expires_at: datetime | None = None


class ModerationList(Model):
    """One of the account's moderation lists as read at capture: which list, and every entry on it."""

    name: str = Field(description="blocks, mutes, domain_blocks, filters or list_blocks.")
    entries: list[ModerationEntry] = Field(default_factory=list)


class Removal(Model):
    """A removal or hiding on the platform (by a moderator or the author), where the platform says."""

    actor: str | None = None
    reason: str | None = None
    at: datetime | None = None


class Record(Model):
    """One version of one item as the public saw it, with its provenance."""

    platform: Platform
    account: str
    item_id: str = Field(min_length=1)
    kind: Kind
    parent_id: str | None = Field(default=None, description="Item id of the post or comment replied to.")
    thread_id: str | None = Field(default=None, description="Item id of the top post of the thread.")
    author: Author = Field(default_factory=Author)
    direction: Direction
    title: str | None = None
    text: str = ""
    html: str | None = None
    url: str | None = Field(default=None, description="Public URL of the item on its platform.")
    repost_of: str | None = Field(default=None, description="URL of the original when this is a boost or share.")
    quote_of: str | None = Field(default=None, description="URL of the post this one quotes (a quote post).")
    links: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    media: list[MediaRef] = Field(default_factory=list)
    poll: Poll | None = None
    moderation: ModerationList | None = Field(
        default=None, description="For a moderation record (kind `moderation`): the list's entries."
    )
    published_at: datetime | None = None
    edited_at: datetime | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = Field(
        default=None, description="For a tombstone: the last capture that still saw the item."
    )
    captured_at: datetime
    language: str | None = None
    version: int = Field(default=1, ge=1)
    deleted: bool = Field(default=False, description="Tombstone: the item is gone from the platform.")
    hidden_on_platform: bool = False
    removal: Removal | None = None
    source_url: str | None = Field(default=None, description="API URL of the capture this came from.")
    warc: WarcLocation | None = Field(default=None, description="The response record holding the raw data.")
    raw: dict[str, Any] | None = Field(default=None, description="The item's raw platform JSON, if any.")

    @model_validator(mode="before")
    @classmethod
    def _check_derived(cls, data: Any) -> Any:
        """Accept our own JSON back: derived fields are dropped, but a wrong hash is an error."""
        if not isinstance(data, dict) or not DERIVED_FIELDS & data.keys():
            return data
        data = dict(data)
        claimed = data.pop("content_sha256", None)
        data.pop("item_key", None)
        data.pop("record_id", None)
        if claimed is not None:
            actual = cls.model_validate(data).content_sha256
            if actual != claimed:
                raise ValueError(f"content_sha256 {claimed} does not match the content ({actual})")
        return data

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Record:
        """A copy; a change to content fields drops the cached hash and id so they are recomputed."""
        copied = super().model_copy(update=update, deep=deep)
        if update and not update.keys() <= _NON_CONTENT:
            for cached in ("content_sha256", "record_id"):
                copied.__dict__.pop(cached, None)
        elif update and "version" in update:
            copied.__dict__.pop("record_id", None)  # the version number is part of the id
        return copied

    @field_validator("captured_at", "published_at", "edited_at", "first_seen_at", "last_seen_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def item_key(self) -> str:
        return f"{self.platform.value}:{self.account}:{self.item_id}"

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def content_sha256(self) -> str:
        """SHA-256 over the canonical JSON of the content fields: equal content, equal hash."""
        # Field order is the model's, so the JSON is canonical for a given schema version. A
        # re-fetched media file lands at a new WARC offset; only what the public saw counts.
        polls = self.quote_of is not None or self.poll is not None
        include = _CONTENT_INCLUDES[(polls, self.moderation is not None)]
        return hashlib.sha256(self.__pydantic_serializer__.to_json(self, include=include)).hexdigest()

    def to_json_bytes(self) -> bytes:
        """Compact JSON as bytes straight from pydantic-core (the hot path of WARC writing)."""
        return self.__pydantic_serializer__.to_json(self)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def record_id(self) -> str:
        """Stable id of this version, from the item, its version number and its content.

        The same version captured again (a run retried after a crash, a reindex from the WARC
        files) has the same id, so it is never indexed twice. The number is part of it because an
        item can return to earlier content (live, hidden, live again; an edit reverted): without it
        the third version would take the first one's id and overwrite it in the index. The first
        version's id leaves the number out, as ids did before versions returned, so archives
        written then keep their ids.
        """
        numbered = "" if self.version == 1 else f"#v{self.version}"
        return hashlib.sha256(f"{self.item_key}{numbered}#{self.content_sha256}".encode()).hexdigest()[:32]
