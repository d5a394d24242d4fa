"""Wiring: settings → store, index and pipeline, built once per command or flow run."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .config import Settings, get_settings
from .index import RecordIndex, open_index
from .ingest.pipeline import Pipeline
from .store import BlobStore, open_store


@dataclass
class Archive:
    """The services one command needs, created lazily so `--help` never touches a network."""

    settings: Settings = field(default_factory=get_settings)

    @cached_property
    def store(self) -> BlobStore:
        return open_store(self.settings)

    @cached_property
    def index(self) -> RecordIndex:
        return open_index(self.settings)

    def pipeline(self, run_id: str | None = None) -> Pipeline:
        return Pipeline(self.settings, self.store, self.index, run_id=run_id)
