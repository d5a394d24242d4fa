"""Elasticsearch and MinIO going away in the middle of a harvest, a reindex, an export and a disposal.

Communis talks to each service through a real TCP proxy (tests/proxy.py) that the test cuts at a
point of progress, never after a delay: the nth request line of a kind (the second WARC upload,
the first bulk request, …) arrives at the proxy, which resets every connection and every new one
from then on. Retries are configured few, so an outage costs a few refused connections, not
minutes; the proxy resets connections, so no timeout decides a test and they are generous. Each run
either rides the outage out or stops with one line naming the service; the run after the service is
back completes, and every simulator item is then in the
WARC files and in the index exactly once per version, with nothing left half done.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive import clock
from archive.access import open_audit, open_users
from archive.config import Settings
from archive.context import Archive
from archive.errors import CommunisError, IndexUnavailable, StoreUnavailable
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from archive.index.client import make_client
from archive.preservation.reindex import reindex
from archive.requests.casebook import CaseBook
from archive.requests.detect import detect
from archive.requests.production import produce
from archive.requests.verify import verify_package
from archive.requests.workflow import decide_masks, new_case, run_case
from archive.retention import book as rbook
from archive.retention.approve import approve
from archive.retention.dispose import dispose
from archive.retention.plan import plan
from archive.retention.schedule import load_schedule
from archive.store.s3 import S3Store
from archive.warc import located_records
from archive.warc.naming import is_warc_key
from schemas import Account, RetentionClass, RetentionTrigger
from schemas.bundle import CaptureBundle
from schemas.capture import Capture
from schemas.record import Direction, Kind, Record
from schemas.search import SavedSearch
from simulator import Simulator, WorldConfig
from tests.harvesting import sim_now
from tests.proxy import Proxy

pytestmark = pytest.mark.integration

ROLLOVER = 64 * 1024
"""Small WARC files (below the setting's production minimum) so one harvest commits several."""
BULK = b" /_bulk HTTP/1.1"
"""The request line of an Elasticsearch bulk request (indexing or deleting records)."""


@dataclass
class Rig:
    """One archive reached through two proxies, and the same archive reached directly (for checking)."""

    arc: Archive
    direct: Archive
    es: Proxy
    s3: Proxy

    def fresh(self) -> Archive:
        """A new Archive through the proxies (new clients: a restarted command)."""
        return Archive(self.arc.settings)


def _proxy_to(url: str) -> Proxy:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return Proxy(parts.hostname, parts.port).start()


@pytest.fixture
def rig(s3_settings: Settings) -> Iterator[Rig]:
    assert s3_settings.s3_endpoint_url
    es, s3 = _proxy_to(s3_settings.es_url), _proxy_to(s3_settings.s3_endpoint_url)
    direct = s3_settings.model_copy(update={"warc_rollover_bytes": ROLLOVER})
    through = direct.model_copy(
        update={
            "es_url": es.url,
            "s3_endpoint_url": s3.url,
            "es_timeout_seconds": 120,
            "es_max_retries": 1,
            "s3_timeout_seconds": 120,
            "s3_max_attempts": 2,
        }
    )
    rig = Rig(Archive(through), Archive(direct), es, s3)
    try:
        yield rig
    finally:
        es.stop()
        s3.stop()
        rig.direct.index.destroy()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(WorldConfig().resized(40)) as running:
        yield running


def mastodon(sim: Simulator) -> Account:
    return Account(
        id="sv-masto",
        platform="mastodon",
        handle="@sundsvik",
        display_name="Sundsvik på Mastodon",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=sim.mastodon_url,
    )


def harvest(arc: Archive, sim: Simulator) -> HarvestReport:
    return harvest_one(arc.settings, arc.store, arc.index, mastodon(sim), now=sim_now(sim))


def one_line(text: str | None, service: str) -> str:
    """The error a user sees: one line, naming the service."""
    assert text, "expected an error"
    assert "\n" not in text and service in text, text
    return text


def upload_line(settings: Settings, what: str) -> bytes:
    """The request line of an S3 upload under `what/` (path-style addressing, the archive's prefix)."""
    return f"PUT /{settings.s3_bucket}/{settings.s3_prefix}{what}/".encode()


def assert_exactly_once(rig: Rig, sim: Simulator) -> None:
    """Every visible simulator item archived; each version once in the WARC files and once in the index;
    every stored WARC file has its manifest; nothing left in the work folder."""
    arc = rig.direct
    arc.index.es.indices.refresh(index=arc.index.alias)
    truth = {i["id"] for i in sim.state()["mastodon"]["items"] if i["visible"] and not i["deleted"]}
    docs = list(arc.index.scan({"term": {"account": "sv-masto"}}))
    indexed = Counter(d["record_id"] for d in docs)
    assert truth <= {d["item_id"] for d in docs}, sorted(truth - {d["item_id"] for d in docs})[:5]
    per_version = Counter((d["item_id"], d["version"]) for d in docs)
    assert max(per_version.values()) == 1
    in_warc: Counter[str] = Counter()
    keys = [k for k in arc.store.keys("warc/sv-masto/") if is_warc_key(k)]
    for key in keys:
        with arc.store.open(key) as fh:
            in_warc.update(r.record_id for r in located_records(fh, key))
    assert in_warc and max(in_warc.values()) == 1, in_warc.most_common(3)
    assert set(in_warc) == set(indexed)
    manifests = {k.rsplit("/", 1)[-1].removesuffix(".json") for k in arc.store.keys("manifest/sv-masto/")}
    assert {k.rsplit("/", 1)[-1] for k in keys} == manifests
    work = arc.settings.data_dir / "work"
    assert not [p.name for p in work.rglob("*") if p.is_file()] if work.exists() else True


# --- harvest --------------------------------------------------------------------------------------------


def test_elasticsearch_gone_mid_harvest_keeps_files_and_the_next_run_indexes_them(rig: Rig, sim: Simulator) -> None:
    rig.es.cut_on(BULK, nth=2)  # the second file's records; the first file is indexed
    report = harvest(rig.arc, sim)
    assert rig.es.cuts == 1, b" | ".join(rig.es.requests).decode()
    assert not report.ok
    one_line(report.error, "Elasticsearch")
    work = rig.arc.settings.data_dir / "work" / "sv-masto"
    kept = sorted(p.name for p in work.glob("*.warc.gz"))
    assert kept and all((work / f"{name}.manifest.json").exists() for name in kept)

    rig.es.restore()
    again = harvest(rig.fresh(), sim)
    assert again.ok, again.error
    assert_exactly_once(rig, sim)


def test_minio_gone_mid_harvest_stops_with_one_line_and_the_next_run_completes(rig: Rig, sim: Simulator) -> None:
    rig.s3.cut_on(upload_line(rig.arc.settings, "warc"), nth=2)
    with pytest.raises(StoreUnavailable) as info:
        harvest(rig.arc, sim)
    assert rig.s3.cuts == 1
    one_line(info.value.one_line(), "S3")
    rig.s3.restore()
    again = harvest(rig.fresh(), sim)
    assert again.ok, again.error
    assert_exactly_once(rig, sim)


def test_minio_gone_between_file_and_manifest(rig: Rig, sim: Simulator) -> None:
    rig.s3.cut_on(upload_line(rig.arc.settings, "manifest"), nth=1)
    with pytest.raises(StoreUnavailable) as info:
        harvest(rig.arc, sim)
    one_line(info.value.one_line(), "S3")
    rig.s3.restore()
    assert harvest(rig.fresh(), sim).ok
    assert_exactly_once(rig, sim)


def test_rerun_while_elasticsearch_is_down_writes_nothing_a_failed_first_run_stored(rig: Rig, sim: Simulator) -> None:
    """A first run stores one file, then MinIO goes (no state saved); the rerun finds Elasticsearch down,
    so it cannot ask the index what is archived: it reads the stored files instead and writes no version
    a second time."""
    rig.s3.cut_on(upload_line(rig.arc.settings, "warc"), nth=2)
    with pytest.raises(StoreUnavailable):
        harvest(rig.arc, sim)
    rig.s3.restore()
    rig.es.cut(refuse=True)
    second = harvest(rig.fresh(), sim)
    assert rig.es.cuts >= 1 and not second.ok
    one_line(second.error, "Elasticsearch")
    rig.es.restore()
    assert harvest(rig.fresh(), sim).ok
    assert_exactly_once(rig, sim)


def test_short_outages_are_ridden_out_by_retries(rig: Rig, sim: Simulator) -> None:
    """Each service drops a request in the middle of the run and refuses the first retry; the second
    retry carries the run through, with nothing deferred."""
    patient = Archive(rig.arc.settings.model_copy(update={"es_max_retries": 2, "s3_max_attempts": 3}))
    rig.s3.cut_on(upload_line(rig.arc.settings, "warc"), nth=2, restore_after_refusals=1)
    rig.es.cut_on(BULK, nth=2, restore_after_refusals=1)
    report = harvest(patient, sim)
    assert rig.s3.cuts == 1 and rig.es.cuts == 1 and not rig.s3.is_cut and not rig.es.is_cut
    assert report.ok, report.error
    assert_exactly_once(rig, sim)


def test_slow_links_to_both_services_change_nothing_but_the_pace(rig: Rig, sim: Simulator) -> None:
    """Both services reached through links that pass 4 KiB at a time with a pause between: the harvest
    completes with everything once (what is checked is the outcome, never how long it took)."""
    rig.es.slow(4096, 0.001)
    rig.s3.slow(4096, 0.001)
    report = harvest(rig.arc, sim)
    assert report.ok, report.error
    assert rig.es.cuts == 0 and rig.s3.cuts == 0
    assert_exactly_once(rig, sim)


def test_elasticsearch_down_for_a_whole_harvest(rig: Rig, sim: Simulator) -> None:
    rig.es.cut(refuse=True)
    report = harvest(rig.arc, sim)
    assert not report.ok
    one_line(report.error, "Elasticsearch")
    rig.es.restore()
    assert harvest(rig.fresh(), sim).ok
    assert_exactly_once(rig, sim)


# --- reindex --------------------------------------------------------------------------------------------


def _harvested(rig: Rig, sim: Simulator) -> int:
    assert harvest(rig.arc, sim).ok
    rig.direct.index.es.indices.refresh(index=rig.direct.index.alias)
    return rig.direct.index.count()


def test_elasticsearch_gone_mid_reindex_then_a_rerun_rebuilds_it(rig: Rig, sim: Simulator) -> None:
    before = _harvested(rig, sim)
    rig.es.cut_on(BULK, nth=1)
    with pytest.raises(IndexUnavailable) as info:
        reindex(rig.arc.store, rig.arc.index)
    one_line(info.value.one_line(), "Elasticsearch")
    rig.es.restore()
    fresh = rig.fresh()
    report = reindex(fresh.store, fresh.index)
    assert report.documents == before and report.errors == 0
    assert_exactly_once(rig, sim)


def test_minio_gone_mid_reindex_then_a_rerun_rebuilds_it(rig: Rig, sim: Simulator) -> None:
    before = _harvested(rig, sim)
    files = len([k for k in rig.direct.store.keys("warc/") if is_warc_key(k)])
    assert files >= 3
    rig.s3.cut_on(b"GET /" + rig.arc.settings.s3_bucket.encode(), nth=3)  # the list, then the 1st file twice
    with pytest.raises(StoreUnavailable) as info:
        reindex(rig.arc.store, rig.arc.index)
    one_line(info.value.one_line(), "S3")
    rig.s3.restore()
    fresh = rig.fresh()
    report = reindex(fresh.store, fresh.index)
    assert report.documents == before and report.files == files
    assert_exactly_once(rig, sim)


# --- export (a request's production package) -------------------------------------------------------------


@pytest.fixture
def case(rig: Rig, sim: Simulator) -> Iterator[tuple[CaseBook, str]]:
    """A reviewed request case over every harvested record (each in its own stored WARC file's range)."""
    assert harvest(rig.direct, sim).ok
    rig.direct.index.es.indices.refresh(index=rig.direct.index.alias)
    book = CaseBook(make_client(rig.arc.settings), rig.arc.settings.es_index_prefix)
    now = clock.now()
    made = new_case(book, searches=[SavedSearch(account="sv-masto")], handler="registrator", now=now)
    run_case(book, rig.direct.index, made.id, spans=detect)
    decide_masks(book, made.id, accept=True, ground="OSL 21:7", by="granskare", now=now)
    try:
        yield book, made.id
    finally:
        CaseBook(make_client(rig.direct.settings), rig.direct.settings.es_index_prefix).destroy()


@pytest.mark.parametrize("service", ["Elasticsearch", "S3"])
def test_service_gone_mid_export_leaves_no_package_and_the_rerun_is_verifiable(
    rig: Rig, case: tuple[CaseBook, str], tmp_path: Path, service: str
) -> None:
    book, case_id = case
    if service == "S3":
        rig.s3.cut_on(b"GET /" + rig.arc.settings.s3_bucket.encode(), nth=3)  # the third ranged read
    else:
        rig.es.cut_on(b"/_mget HTTP", nth=1)
    out = tmp_path / "package"
    arc = rig.arc
    with pytest.raises(CommunisError) as info:
        produce(
            arc.settings,
            book,
            arc.index,
            arc.store,
            open_audit(arc.settings),
            case_id,
            out,
            by="registrator",
            now=clock.now(),
        )
    assert (rig.s3 if service == "S3" else rig.es).cuts == 1
    assert isinstance(info.value, StoreUnavailable if service == "S3" else IndexUnavailable)
    one_line(info.value.one_line(), service)
    assert not out.exists() or not any(out.iterdir())  # no half package
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # staging removed

    (rig.s3 if service == "S3" else rig.es).restore()
    fresh = rig.fresh()
    result = produce(
        fresh.settings,
        book,
        fresh.index,
        fresh.store,
        open_audit(fresh.settings),
        case_id,
        out,
        by="registrator",
        now=clock.now(),
    )
    assert result.records == rig.direct.index.count({"term": {"account": "sv-masto"}})
    assert verify_package(out, rig.direct.index, rig.direct.store) == []


# --- disposal -------------------------------------------------------------------------------------------


SCHEDULE = """
rules:
  - id: kommentarer
    description: Medborgares kommentarer
    match: {directions: [inkommen], kinds: [comment]}
    class: test-1d
    trigger: captured
    decision: {body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 45, dnr KS 2025/77"}
"""


def _ingest_comment(arc: Archive, when: datetime) -> str:
    """One pipeline run, so one WARC file, holding one citizen's comment captured at `when`."""
    acc = Account(
        id="sv-dispose",
        platform="mastodon",
        handle="@sv-dispose",
        display_name="sv-dispose",
        department="Kommunstyrelsen",
        retention_class="test-1d",
        base_url="https://social.example",
    )
    item = uuid.uuid4().hex[:10]
    rec = Record(
        platform="mastodon",
        account=acc.id,
        item_id=item,
        kind=Kind.COMMENT,
        direction=Direction.INKOMMEN,
        text=f"kommentar {item}",
        captured_at=when,
        published_at=when - timedelta(minutes=5),
    )
    bundle = CaptureBundle(
        capture=Capture(url=f"https://social.example/api/{item}", status=200, body=b"[]", started_at=when),
        records=[rec],
    )
    report = arc.pipeline().ingest(acc, [bundle])
    assert report.indexed == 1
    return rec.record_id


def _let_locks_expire(store: S3Store) -> None:
    """What S3 does when a retain-until passes (the lock becomes inert), done now instead of waited for:
    as the bucket's administrator, remove the GOVERNANCE retention of this test's WARC versions."""
    listing = store.client.list_object_versions(Bucket=store.bucket, Prefix=store.prefix + "warc/sv-dispose/")
    for v in listing.get("Versions", []):
        store.client.put_object_retention(
            Bucket=store.bucket, Key=v["Key"], VersionId=v["VersionId"], Retention={}, BypassGovernanceRetention=True
        )


def test_disposal_interrupted_by_minio_then_by_elasticsearch_resumes_and_completes(rig: Rig, tmp_path: Path) -> None:
    """Three files due for disposal. S3 goes away at the second file's delete, then Elasticsearch at the
    next run's first record deletion; the third run completes. Each file is disposed of once, journaled
    once, and the certificate names every record."""
    schedule_file = tmp_path / "retention.yaml"
    schedule_file.write_text(SCHEDULE)
    test_class = RetentionClass(
        name="test-1d", description="One day from capture (tests).", days=1, trigger=RetentionTrigger.CAPTURED
    )
    extra = {"retention_file": schedule_file, "retention_classes": [*rig.arc.settings.retention_classes, test_class]}
    through = rig.arc.settings.model_copy(update=extra)
    direct = Archive(rig.direct.settings.model_copy(update=extra))
    users = open_users(through)
    users.add("anna", "records-manager")
    users.add("bo", "records-manager")
    users.add("cilla", "records-manager")  # the third person: neither planner nor approver executes
    t0 = datetime.now(UTC) - timedelta(days=1) + timedelta(hours=1)  # locked for another hour
    ids = [_ingest_comment(direct, t0) for _ in range(3)]
    as_of = t0 + timedelta(days=1, seconds=1)
    listed = plan(
        direct.settings,
        direct.store,
        direct.index,
        load_schedule(through),
        as_of=as_of,
        planned_by="anna",
        now=datetime.now(UTC),
    )
    assert len(listed.groups) == 3
    approve(direct.settings, direct.store, listed.id, by="bo", now=datetime.now(UTC))
    assert isinstance(direct.store, S3Store)
    _let_locks_expire(direct.store)

    rig.s3.cut_on(f"DELETE /{through.s3_bucket}/{through.s3_prefix}warc/".encode(), nth=2)
    arc = Archive(through)
    with pytest.raises(StoreUnavailable) as info:
        dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    assert rig.s3.cuts == 1
    one_line(info.value.one_line(), "S3")
    assert len(list(rbook.journal(direct.store, listed.id))) == 1
    rig.s3.restore()

    rig.es.cut_on(BULK, nth=1)
    arc = Archive(through)
    with pytest.raises(IndexUnavailable) as info2:
        dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    assert rig.es.cuts == 1
    one_line(info2.value.one_line(), "Elasticsearch")
    rig.es.restore()

    arc = Archive(through)
    result = dispose(arc.settings, arc.store, arc.index, listed.id, by="cilla", now=as_of)
    assert result.resumed and len(result.disposed) == 3 and not result.skipped
    journal = [o.key for o in rbook.journal(direct.store, listed.id)]
    assert sorted(journal) == sorted(g.key for g in listed.groups)  # each file journaled once
    direct.index.es.indices.refresh(index=direct.index.alias)
    assert direct.index.count({"ids": {"values": ids}}) == 0
    for g in listed.groups:
        left = direct.store.client.list_object_versions(Bucket=direct.store.bucket, Prefix=direct.store.prefix + g.key)
        assert not left.get("Versions") and not left.get("DeleteMarkers"), g.key
    assert sorted(r.record_id for f in result.certificate.files for r in f.records) == sorted(ids)
