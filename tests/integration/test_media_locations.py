"""Media references point at the WARC records holding their files, across runs and after a reindex."""

from __future__ import annotations

import hashlib

import pytest

from archive.browse import archived_media
from archive.context import Archive
from archive.preservation.reindex import reindex
from simulator import Simulator
from tests.contract.subjects import SocialSubject
from tests.harvesting import harvest_subject

pytestmark = pytest.mark.integration


def _pictured(arc: Archive, item_key: str) -> list[dict[str, object]]:
    arc.index.es.indices.refresh(index=arc.index.alias)
    return [d for d in arc.index.scan({"term": {"item_key": item_key}})]


def test_media_are_read_back_from_their_warc_record_also_for_later_versions_and_after_reindex(
    local_archive: Archive, sim: Simulator
) -> None:
    ig = SocialSubject("instagram")
    sim.apply([{"type": "clock.advance", "hours": 1}])
    post = ig.publish(sim, text="Första snön i Norrby.", images=1)
    harvest_subject(local_archive, sim, ig)
    sim.apply([{"type": "clock.advance", "hours": 1}])
    ig.event(sim, "edit", no=ig.no_of(sim, post), text="Första snön i Norrby i morse.")
    harvest_subject(local_archive, sim, ig)  # the image was fetched by the first run only
    key = f"instagram:sv-instagram:{post}"

    def check() -> None:
        docs = sorted(_pictured(local_archive, key), key=lambda d: d["version"])  # type: ignore[arg-type, return-value]
        assert [d["version"] for d in docs] == [1, 2]
        for doc in docs:
            media = doc["media"]
            assert isinstance(media, list) and media and media[0]["warc"], doc
            got = archived_media(local_archive.store, doc, 0)
            assert hashlib.sha256(got.body).hexdigest() == media[0]["sha256"]
            assert got.content_type.startswith("image/")

    check()
    reindex(local_archive.store, local_archive.index)
    check()


def test_verify_reports_a_damaged_stored_copy(local_archive: Archive, sim: Simulator) -> None:
    from archive.browse import verify_record
    from archive.clock import now

    ig = SocialSubject("instagram")
    harvest_subject(local_archive, sim, ig)
    local_archive.index.es.indices.refresh(index=local_archive.index.alias)
    doc = next(local_archive.index.scan({"term": {"kind": "post"}}))
    assert verify_record(local_archive.index, local_archive.store, doc["record_id"], now=now()).ok

    # Flip one byte inside the record's range, as bit rot or tampering on the storage would.
    path = local_archive.settings.store_path / doc["warc_key"]
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[doc["warc"]["offset"] + doc["warc"]["length"] // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    result = verify_record(local_archive.index, local_archive.store, doc["record_id"], now=now())
    assert not result.ok and "SHA-256" in result.message and result.sha256 is None
