"""Legal holds on MinIO with Object Lock: marked records, locked objects, later captures, release, reindex."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from archive import clock
from archive.context import Archive
from archive.holds import load_holds, place_hold, release_hold
from archive.holds.book import HoldError
from archive.preservation.reindex import reindex
from archive.store.s3 import S3Store
from schemas.search import SavedSearch
from simulator import Simulator
from tests.contract.subjects import SocialSubject
from tests.harvesting import harvest_subject

pytestmark = pytest.mark.integration
FB = SocialSubject("facebook")


@pytest.fixture
def arc(s3_settings: object) -> Iterator[Archive]:
    archive = Archive(s3_settings)  # type: ignore[arg-type]
    yield archive
    archive.index.destroy()


def harvest(arc: Archive, sim: Simulator) -> None:
    harvest_subject(arc, sim, FB)


def held(arc: Archive) -> dict[str, list[str]]:
    """Record text → its hold ids, for every record under a hold."""
    arc.index.es.indices.refresh(index=arc.index.alias)
    return {d["text"]: d["legal_holds"] for d in arc.index.scan({"exists": {"field": "legal_holds"}})}


def files_of(arc: Archive, text: str) -> set[str]:
    arc.index.es.indices.refresh(index=arc.index.alias)
    return {d["warc_key"] for d in arc.index.scan({"match_phrase": {"text": text}})}


def force_delete(arc: Archive, key: str) -> None:
    """Delete every version bypassing governance retention: only a legal hold can still refuse."""
    store = arc.store
    assert isinstance(store, S3Store)
    full = store.prefix + key
    for v in store.client.list_object_versions(Bucket=store.bucket, Prefix=full).get("Versions", []):
        store.client.delete_object(
            Bucket=store.bucket, Key=full, VersionId=v["VersionId"], BypassGovernanceRetention=True
        )


def test_a_hold_locks_its_records_and_files_also_those_captured_later(arc: Archive, sim: Simulator) -> None:
    sim.apply([{"type": "clock.advance", "hours": 1}])
    FB.publish(sim, text="Avtalet om Norrbyskolans ombyggnad är påskrivet.")
    FB.publish(sim, text="Glad advent önskar kommunen!")
    harvest(arc, sim)

    outcome = place_hold(
        arc.store,
        arc.index,
        matter="Mål T 123-26 Norrbyskolan",
        owner="jurist",
        scope=SavedSearch(q="Norrbyskolans"),
        now=clock.now(),
    )
    assert held(arc) == {"Avtalet om Norrbyskolans ombyggnad är påskrivet.": [outcome.hold.id]}
    [key] = files_of(arc, "Avtalet om Norrbyskolans")
    assert key in outcome.files and arc.store.head(key).legal_hold  # type: ignore[union-attr]
    with pytest.raises(ClientError) as refused:
        force_delete(arc, key)
    assert refused.value.response["Error"]["Code"] in {"AccessDenied", "InvalidRequest"}

    # A matching record captured after the hold was placed is held too, with its file.
    sim.apply([{"type": "clock.advance", "hours": 3}])
    FB.publish(sim, text="Norrbyskolans nya entré öppnar i januari.")
    harvest(arc, sim)
    assert held(arc)["Norrbyskolans nya entré öppnar i januari."] == [outcome.hold.id]
    [later] = files_of(arc, "Norrbyskolans nya entré")
    assert arc.store.head(later).legal_hold  # type: ignore[union-attr]

    # A second hold over one of them: releasing the first keeps that record's file locked.
    second = place_hold(
        arc.store,
        arc.index,
        matter="Begäran KS 2026/88",
        owner="registrator",
        scope=SavedSearch(q="entré"),
        now=clock.now(),
    )
    released = release_hold(arc.store, arc.index, outcome.hold.id, by="jurist", now=clock.now())
    assert held(arc) == {"Norrbyskolans nya entré öppnar i januari.": [second.hold.id]}
    assert arc.store.head(later).legal_hold  # type: ignore[union-attr]
    if later != key:
        assert not arc.store.head(key).legal_hold  # type: ignore[union-attr]
    assert released.hold.released_by == "jurist"
    with pytest.raises(HoldError):
        release_hold(arc.store, arc.index, outcome.hold.id, by="jurist", now=clock.now())

    # Holds live beside the WARC files: a rebuilt index gets its marks back.
    reindex(arc.store, arc.index)
    assert held(arc) == {"Norrbyskolans nya entré öppnar i januari.": [second.hold.id]}
    assert [h.active for h in load_holds(arc.store)] == [False, True]

    release_hold(arc.store, arc.index, second.hold.id, by="registrator", now=clock.now())
    assert held(arc) == {} and not arc.store.head(later).legal_hold  # type: ignore[union-attr]


def test_a_hold_needs_a_scope(arc: Archive) -> None:
    with pytest.raises(HoldError):
        place_hold(arc.store, arc.index, matter="x", owner="y", scope=SavedSearch(), now=clock.now())
