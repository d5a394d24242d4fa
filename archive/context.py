"""Wiring: settings → store, index and pipeline, built once per command or flow run.

This is where the pipeline gets its after-commit steps (legal holds on the records of each new
file, the PREMIS event of its arrival), so that ingest itself imports neither holds nor
preservation, and every door (harvest, `communis ingest`, the flows, the demo) gets the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .config import Settings, get_settings
from .holds import HoldsOnNewFiles
from .index import RecordIndex, open_index
from .index.harvest_table import HarvestTable
from .ingest.memory import RunMemory
from .ingest.pipeline import CountSink, Pipeline
from .preservation.premis import IngestionEvents, PremisLog
from .store import BlobStore, open_store


def open_pipeline(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    *,
    run_id: str | None = None,
    work_dir: Path | None = None,
    memory: RunMemory | None = None,
    counts: CountSink | None = None,
) -> Pipeline:
    """The pipeline as the archive runs it: holds applied and the ingestion recorded after each commit."""
    return Pipeline(
        settings,
        store,
        index,
        run_id=run_id,
        work_dir=work_dir,
        memory=memory,
        counts=counts,
        after_commit=[
            HoldsOnNewFiles(store, index),
            IngestionEvents(PremisLog.beside(index, settings.stream("premis")), settings.operator),
        ],
    )


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

    @cached_property
    def harvest_table(self) -> HarvestTable:
        """What the harvest knows between runs (archive/index/harvest_table.py), beside the records."""
        return HarvestTable.beside(self.index)

    def pipeline(self, run_id: str | None = None) -> Pipeline:
        return open_pipeline(self.settings, self.store, self.index, run_id=run_id)
