"""Every stored WARC file leaves an ingestion event in the preservation log, with its SHA-256."""

from __future__ import annotations

import pytest

from archive.context import Archive
from archive.preservation.premis import open_premis
from schemas.premis import PremisEventType
from simulator import Simulator
from tests.contract.subjects import SocialSubject
from tests.harvesting import harvest_subject

pytestmark = pytest.mark.integration


def test_each_stored_file_has_an_ingestion_event(local_archive: Archive, sim: Simulator) -> None:
    report = harvest_subject(local_archive, sim, SocialSubject("x"))
    premis = open_premis(local_archive.settings)
    premis.refresh()
    files = [key for key in local_archive.store.keys("warc/")]
    assert files and report.files
    for key in files:
        [event] = premis.events(object_id=key, type=PremisEventType.INGESTION)
        assert event.sha256 == local_archive.store.head(key).sha256  # type: ignore[union-attr]
        assert any(a.startswith("software: communis") for a in event.agents)
