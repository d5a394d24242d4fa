"""The department travels with the WARC files; tombstones say when the item was last seen; old indices
take the new fields in place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.context import Archive
from archive.harvest.runner import harvest_one
from archive.index import SearchQuery, iter_hits, search
from archive.index.documents import from_document
from archive.index.mappings import RECORD_MAPPINGS, index_settings
from archive.ingest.pipeline import IngestReport
from archive.preservation.reindex import reindex
from archive.samples import ACCOUNTS_FILE, sample_file
from archive.warc import iter_records
from schemas import Account, WarcFileManifest
from simulator import Simulator, Timeline, WorldConfig
from tests.conftest import warcio_check
from tests.harvesting import known_of

DEPARTMENTS = {"sundsvik-blogg": "Kultur- och fritidsnämnden", "sundsvik-mastodon": "Kommunstyrelsen"}


def _ingest_with_departments(arc: Archive) -> IngestReport:
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, arc.settings):
        owned = account.model_copy(update={"department": DEPARTMENTS[account.id]})
        pipeline.ingest(owned, read_file(sample_file(account.id)))
    return pipeline.report


def _departments_by_account(arc: Archive) -> dict[str, set[str | None]]:
    found: dict[str, set[str | None]] = {}
    for doc in arc.index.all_documents():
        found.setdefault(doc["account"], set()).add(doc.get("department"))
    return found


def _accounts_found(arc: Archive, department: str) -> set[str]:
    return {h.source["account"] for h in iter_hits(arc.index, SearchQuery(department=department))}


def test_department_is_indexed_and_survives_reindex_from_warcinfo(archive: Archive, tmp_path: Path) -> None:
    manifests = _ingest_with_departments(archive).files
    assert {m.account: m.department for m in manifests} == DEPARTMENTS
    for manifest in manifests:
        local = tmp_path / manifest.name
        with archive.store.open(manifest.key) as fh:
            local.write_bytes(fh.read())
        check = warcio_check(local)
        assert check.returncode == 0, check.stdout
        with local.open("rb") as fh:
            info = next(iter_records(fh))
        assert info.warc_type == "warcinfo"
        assert f"department: {DEPARTMENTS[manifest.account]}\r\n".encode() in info.content
        with archive.store.open(f"manifest/{manifest.account}/{manifest.name}.json") as fh:
            assert WarcFileManifest.model_validate_json(fh.read()).department == DEPARTMENTS[manifest.account]

    expected = {account: {department} for account, department in DEPARTMENTS.items()}
    assert _departments_by_account(archive) == expected
    culture = search(archive.index, SearchQuery(department="Kultur- och fritidsnämnden"))
    assert culture.total == archive.index.count({"term": {"account": "sundsvik-blogg"}}) > 0
    assert _accounts_found(archive, "Kultur- och fritidsnämnden") == {"sundsvik-blogg"}
    assert _accounts_found(archive, "Kommunstyrelsen") == {"sundsvik-mastodon"}
    before = {doc["_id"]: doc for doc in archive.index.all_documents()}

    report = reindex(archive.store, archive.index)
    assert report.errors == 0 and report.files == len(manifests)
    after = {doc["_id"]: doc for doc in archive.index.all_documents()}
    assert after == before  # the department (like everything else) comes back from the WARC files alone
    assert _departments_by_account(archive) == expected
    assert _accounts_found(archive, "Kultur- och fritidsnämnden") == {"sundsvik-blogg"}
    assert search(archive.index, SearchQuery(department="Kultur- och fritidsnämnden")).total == culture.total


@pytest.fixture
def arc(settings: Any) -> Iterator[Archive]:
    archive = Archive(settings)
    yield archive
    archive.index.destroy()


def _sim_now(sim: Simulator) -> datetime:
    return datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))


def test_harvested_documents_carry_the_department_and_tombstones_the_last_sighting(arc: Archive) -> None:
    with Simulator(WorldConfig().resized(30)) as sim:
        account = Account(
            id="sv-masto",
            platform="mastodon",
            handle="@sundsvik",
            display_name="Sundsvik",
            department="Samhällsbyggnadsnämnden",
            retention_class="social-10y",
            base_url=sim.mastodon_url,
        )

        def run() -> datetime:
            now = _sim_now(sim)
            report = harvest_one(arc.settings, arc.store, arc.index, account, now=now)
            assert report.ok, report.error
            return now

        run()
        docs = list(arc.index.scan({"term": {"account": "sv-masto"}}))
        assert docs and {d.get("department") for d in docs} == {"Samhällsbyggnadsnämnden"}
        found = search(arc.index, SearchQuery(department="Samhällsbyggnadsnämnden"))
        assert found.total == len(docs)
        assert search(arc.index, SearchQuery(department="Kommunstyrelsen")).total == 0

        own = sorted(
            (i for i in sim.state()["mastodon"]["items"] if i["role"] == "own" and not i["deleted"]),
            key=lambda i: i["created_at"],
        )
        gone = own[-1]["id"]  # the newest: inside the look-back window, where deletions are looked for
        sim.apply(Timeline().advance(hours=2))
        seen_last = run()  # sees the item unchanged: no new version, but it was seen
        known = known_of(arc, "sv-masto", gone)
        assert known is not None and known.last_seen == seen_last
        sim.apply(Timeline().advance(hours=2).add("mastodon.delete", id=gone))
        deleted_run = run()

    versions = sorted(arc.index.scan({"term": {"item_key": f"mastodon:sv-masto:{gone}"}}), key=lambda d: d["version"])
    assert [d["deleted"] for d in versions] == [False, True]
    live, grave = versions
    assert live.get("last_seen_at") is None
    assert datetime.fromisoformat(grave["last_seen_at"]) == seen_last < deleted_run
    assert grave["department"] == "Samhällsbyggnadsnämnden"
    # The tombstone's id is the hash of its content: the sighting time is not part of it.
    tomb = from_document(grave)
    assert tomb.last_seen_at == seen_last and tomb.record_id == grave["record_id"]
    assert tomb.model_copy(update={"last_seen_at": deleted_run}).record_id == tomb.record_id

    before = {d["_id"]: d for d in arc.index.all_documents()}
    reindex(arc.store, arc.index)
    assert {d["_id"]: d for d in arc.index.all_documents()} == before


def _old_mapping() -> dict[str, Any]:
    """The mapping before `last_seen_at` and `legal_holds` existed."""
    props = {k: v for k, v in RECORD_MAPPINGS["properties"].items() if k not in ("last_seen_at", "legal_holds")}
    return {**RECORD_MAPPINGS, "properties": props}


def test_ensure_adds_new_fields_to_an_existing_index_without_reindex(local_archive: Archive) -> None:
    index = local_archive.index
    es = index.es
    es.indices.create(index=index.concrete, settings=index_settings(), mappings=_old_mapping())
    es.indices.put_alias(index=index.concrete, name=index.alias, is_write_index=True)
    mapping = es.indices.get_mapping(index=index.alias)[index.concrete]["mappings"]["properties"]
    assert "last_seen_at" not in mapping and "legal_holds" not in mapping

    index.ensure()
    mapping = es.indices.get_mapping(index=index.alias)[index.concrete]["mappings"]["properties"]
    assert mapping["last_seen_at"] == {"type": "date"} and mapping["legal_holds"] == {"type": "keyword"}
    assert es.indices.get_alias(name=index.alias).keys() == {index.concrete}  # the same index, not a new one
    index.ensure()  # idempotent

    report = _ingest_with_departments(local_archive)  # documents with last_seen_at: refused by the old mapping
    assert not report.index_errors and report.indexed == report.records == index.count() > 0
    doc = next(index.scan({"term": {"account": "sundsvik-blogg"}}))
    es.update(index=index.alias, id=doc["record_id"], doc={"legal_holds": ["hold-2026-01"]}, refresh=True)
    held = index.get(doc["record_id"])
    assert held["legal_holds"] == ["hold-2026-01"] and held["department"] == "Kultur- och fritidsnämnden"
    assert from_document(held).record_id == doc["record_id"]  # legal_holds is an index field, not a Record's
