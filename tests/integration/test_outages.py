"""Elasticsearch and MinIO going away in the middle of a harvest, a reindex, an export and a disposal.

Communis talks to each service through a real TCP proxy (tests/proxy.py) that the test cuts at a
point of progress, never after a delay: the nth request line of a kind (the second WARC upload,
the first bulk request, …) arrives at the proxy, which resets every connection and every new one
from then on. Client timeouts and retries are configured small, so an outage costs a few refused
connections, not minutes. Each run either rides the outage out or stops with one line naming the
service; the run after the service is back completes, and every simulator item is then in the
WARC files and in the index exactly once per version, with nothing left half done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from archive.config import Settings
from archive.context import Archive
from archive.errors import IndexUnavailable, StoreUnavailable
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from archive.reindex import reindex
from archive.warc import located_records
from archive.warc.naming import is_warc_key
from schemas import Account
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
    through = direct.model_copy(update={"es_url": es.url, "s3_endpoint_url": s3.url, "es_timeout_seconds": 10,
                                        "es_max_retries": 1, "s3_timeout_seconds": 10, "s3_max_attempts": 2})
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
    return Account(id="sv-masto", platform="mastodon", handle="@sundsvik", display_name="Sundsvik på Mastodon",
                   department="Kommunstyrelsen", retention_class="social-10y", base_url=sim.mastodon_url)


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


def test_elasticsearch_gone_mid_harvest_keeps_files_and_the_next_run_indexes_them(rig: Rig,
                                                                                  sim: Simulator) -> None:
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
