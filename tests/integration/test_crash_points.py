"""Harvest killed with SIGKILL at each named crash point, then rerun: nothing lost, nothing twice.

Each case runs the real harvest in a child process (tests/integration/harvest_child.py) against
the simulator, the real Elasticsearch and the real store, with `COMMUNIS_CRASH_AT` armed. The child
must die *at* the point (SIGKILL and the stderr line naming it), so no case can pass by finishing
early, and no case depends on the machine's speed. The rerun happens in this process, as the next
scheduled harvest would, and the checks are what a records manager would check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.accounts import load_accounts
from archive.config import Settings
from archive.context import Archive
from archive.faults import ENV, MARK, CrashPoint
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from archive.index.counts import PublishedCounts
from archive.ingest.workdir import CRASHED, MANIFEST_SUFFIX
from archive.preservation.fixity import run_fixity
from archive.preservation.premis import PremisLog
from archive.preservation.readback import read_location
from archive.samples import ACCOUNTS_FILE
from archive.warc import located_records
from archive.warc.naming import OPEN_SUFFIX, WARC_SUFFIX, is_warc_key, manifest_key
from schemas import Capture, CaptureBundle, Record, WarcFileManifest
from schemas.premis import PremisEventType
from simulator import Simulator, WorldConfig
from tests.harvesting import sim_now
from tests.integration.test_harvest import accounts, truth_ids, versions
from tests.waiting import HANG_GUARD_S

ROOT = Path(__file__).resolve().parents[2]
ROLLOVER = 64 * 1024  # a few WARC files per account, so a crash can fall between them
CHUNK = 20  # documents per bulk request, so a file's records take several


@pytest.fixture(scope="module")
def world() -> Iterator[Simulator]:
    """One small world for every case: nothing in it changes, so each item has exactly one version."""
    with Simulator(WorldConfig(rate_limit=10**9).resized(40)) as running:
        yield running


def _settings(base: Settings) -> Settings:
    return base.model_copy(update={"warc_rollover_bytes": ROLLOVER, "es_bulk_chunk_size": CHUNK})


@pytest.fixture
def arc(settings: Settings) -> Iterator[Archive]:
    """An archive on the local store with small files and small bulk requests."""
    chosen = Archive(_settings(settings))
    yield chosen
    chosen.index.destroy()


@pytest.fixture(params=["local", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _plain(settings: Settings) -> dict[str, object]:
    """The settings a child process needs, secrets in the clear (it is our own child)."""
    out: dict[str, object] = {}
    for name in (
        "data_dir",
        "store",
        "store_path",
        "s3_endpoint_url",
        "s3_bucket",
        "s3_prefix",
        "s3_access_key",
        "s3_secret_key",
        "s3_multipart_threshold",
        "es_index_prefix",
        "events_prefix",
        "accounts_file",
        "warc_rollover_bytes",
        "es_bulk_chunk_size",
    ):
        value = getattr(settings, name)
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        out[name] = str(value) if isinstance(value, Path) else value
    return out


def _killed_at(cmd: list[str], point: CrashPoint, nth: int, env: dict[str, str] | None = None) -> str:
    """Run `cmd` with the point armed; assert it was killed there; return its stderr."""
    child = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        env={**os.environ, **(env or {}), ENV: f"{point.value}:{nth}"},
    )
    marker = f"{MARK}{point.value} (pass {nth})"
    assert child.returncode == -signal.SIGKILL and marker in child.stderr, (
        f"not killed at {point.value}:{nth} (rc {child.returncode}); stderr ends: {child.stderr[-1500:]}"
    )
    return child.stderr


def _harvest_killed_at(arc: Archive, sim: Simulator, tmp_path: Path, point: CrashPoint, nth: int) -> None:
    config = tmp_path / "child.json"
    config.write_text(
        json.dumps(
            {
                "settings": _plain(arc.settings),
                "now": sim_now(sim).isoformat(),
                "accounts": [a.model_dump(mode="json") for a in accounts(sim)],
            }
        )
    )
    _killed_at([sys.executable, "-m", "tests.integration.harvest_child", str(config)], point, nth)


def _rerun(arc: Archive, sim: Simulator) -> dict[str, HarvestReport]:
    now = sim_now(sim)
    reports = {a.id: harvest_one(arc.settings, arc.store, arc.index, a, now=now) for a in accounts(sim)}
    assert all(r.ok for r in reports.values()), {k: r.error for k, r in reports.items()}
    return reports


def _stored_warcs(arc: Archive) -> list[str]:
    return [k for k in arc.store.keys("warc/") if is_warc_key(k)]


def _check_nothing_lost_or_twice(arc: Archive, sim: Simulator, reports: dict[str, HarvestReport]) -> None:
    """What a user checks: every item once per version, in the WARC files and the index; every file sound."""
    masto_truth, blog_truth = truth_ids(sim)
    masto, blog = versions(arc, "sv-masto"), versions(arc, "sv-blogg")
    assert masto_truth <= set(masto), sorted(masto_truth - set(masto))[:5]
    assert blog_truth <= set(blog), sorted(blog_truth - set(blog))[:5]
    assert all(len(v) == 1 for v in [*masto.values(), *blog.values()])  # nothing changed: one version each
    in_warcs = Counter(r.record_id for key in _stored_warcs(arc) for r in located_records(arc.store.open(key), key))
    assert in_warcs and max(in_warcs.values()) == 1, in_warcs.most_common(3)
    assert set(in_warcs) == {d["record_id"] for v in [*masto.values(), *blog.values()] for d in v}
    stored_names = {k.rsplit("/", 1)[1] for k in _stored_warcs(arc)}
    shown = [m for v in masto.values() for d in v for m in d["media"]]
    assert shown and all(m.get("warc") and m["warc"]["filename"] in stored_names for m in shown), [
        m for m in shown if not m.get("warc") or m["warc"]["filename"] not in stored_names
    ][:3]
    _check_work_folders(arc, reports)
    _check_manifests(arc)
    fixity = run_fixity(arc.store, None, check_all=True)
    assert fixity.ok and not fixity.problems, [p.line() for p in fixity.problems]
    media = _media_payloads(arc)
    assert media and max(media.values()) == 1, [k for k, n in media.items() if n > 1][:3]
    _check_counts(arc)


def _check_counts(arc: Archive) -> None:
    """Each published count names a WARC record that is in the store and shows it (counts are written
    only after the files they point at are stored): the accounts' totals and Mastodon's replies_count."""
    counts = PublishedCounts.beside(arc.index)
    stored = {k.rsplit("/", 1)[1] for k in _stored_warcs(arc)}
    for account in ("sv-masto", "sv-blogg"):
        readings = [*counts.totals(account), *counts.items(account)]
        assert counts.totals(account), f"{account}: no totals"
        for reading in readings:
            assert reading.warc.filename in stored, reading.key
            read_location(arc.store, account, reading.warc)  # the bytes are there and match their digest
    assert list(counts.items("sv-masto")), "Mastodon's replies_count of each listed status"


def _media_payloads(arc: Archive) -> Counter[str]:
    """How often each media file's bytes are stored in full (a revisit is not a copy)."""
    found: Counter[str] = Counter()
    for key in _stored_warcs(arc):
        with arc.store.open(key) as fh:
            for rec in ArchiveIterator(fh):
                ctype = rec.http_headers.get_header("Content-Type", "") if rec.http_headers else ""
                if rec.rec_type == "response" and ctype.startswith(("image/", "video/", "audio/")):
                    found[rec.rec_headers.get_header("WARC-Payload-Digest")] += 1
    return found


def _check_work_folders(arc: Archive, reports: dict[str, HarvestReport]) -> None:
    """Nothing left to commit; any `.open` file is in `crashed/` and the rerun said so."""
    work = arc.settings.data_dir / "work"
    left = [p for p in work.rglob("*") if p.is_file() and p.parent.name != CRASHED]
    assert left == [], left
    put_aside = {p.name.removesuffix(MANIFEST_SUFFIX) for p in work.rglob(f"{CRASHED}/*")}
    said = [line for r in reports.values() for line in r.crashed]
    assert all(any(n in line for line in said) for n in put_aside), (put_aside, said)
    assert all(any(line.startswith(n) for n in put_aside) for line in said), (put_aside, said)


def _check_manifests(arc: Archive) -> None:
    """Every stored file has a stored manifest, and the manifest matches it (size and SHA-256 of the bytes)."""
    files = _stored_warcs(arc)
    manifests = list(arc.store.keys("manifest/"))
    assert len(manifests) == len(files)
    for key in files:
        with arc.store.open(key) as fh:
            data = fh.read()
        name = key.rsplit("/", 1)[1]
        with arc.store.open(manifest_key(key.split("/")[1], name)) as fh:
            manifest = WarcFileManifest.model_validate_json(fh.read())
        assert (manifest.key, manifest.bytes, manifest.sha256) == (key, len(data), hashlib.sha256(data).hexdigest())
    # ... and each file's arrival is one preservation event, however often a rerun committed it.
    premis = PremisLog(arc.index.es, arc.settings.stream("premis"))
    premis.refresh()
    ingested = Counter(
        key
        for e in premis.events(type=PremisEventType.INGESTION, limit=10_000)
        for key in e.objects
        if key in set(files)
    )
    assert ingested == Counter(files), [k for k in files if ingested[k] != 1][:3]


def _work_files(arc: Archive, pattern: str) -> list[Path]:
    return sorted((arc.settings.data_dir / "work").rglob(pattern))


def _without_sidecar(arc: Archive) -> list[Path]:
    return [p for p in _work_files(arc, "*" + WARC_SUFFIX) if not Path(str(p) + MANIFEST_SUFFIX).exists()]


# What the crash must have left behind, checked before the rerun, so each case tests what it says.
LEFT: dict[CrashPoint, Callable[[Archive], object]] = {
    CrashPoint.WARC_MID_RECORD: lambda arc: _work_files(arc, "*" + OPEN_SUFFIX),
    CrashPoint.WARC_BEFORE_RENAME: lambda arc: _work_files(arc, "*" + OPEN_SUFFIX),
    CrashPoint.WARC_AFTER_RENAME: _without_sidecar,
    CrashPoint.MANIFEST_MID_WRITE: lambda arc: _work_files(arc, "*" + MANIFEST_SUFFIX + ".tmp"),
    CrashPoint.STORE_BEFORE_UPLOAD: lambda arc: [w for w in _waiting(arc) if not w.stored],
    CrashPoint.STORE_AFTER_UPLOAD: lambda arc: [w for w in _waiting(arc) if w.stored and not w.manifest_stored],
    CrashPoint.STORE_AFTER_MANIFEST: lambda arc: [w for w in _waiting(arc) if w.manifest_stored and w.indexed == 0],
    CrashPoint.INDEX_MID_BULK: lambda arc: [w for w in _waiting(arc) if 0 < w.indexed < w.records],
    CrashPoint.INDEX_AFTER_BULK: lambda arc: [w for w in _waiting(arc) if w.records and w.indexed == w.records],
    # The first account's knowledge, its published counts included, was written; its head was not.
    CrashPoint.STATE_MID_SAVE: lambda arc: PublishedCounts.beside(arc.index).totals("sv-masto"),
}


@dataclass
class Waiting:
    """A finalized file the crash left in the work folder, and how far it got."""

    name: str
    records: int
    stored: bool
    manifest_stored: bool
    indexed: int


def _waiting(arc: Archive) -> list[Waiting]:
    """Each finalized file in the work folder: its records, whether it and its manifest are stored, and how
    many of its records are indexed; so each case checks the crash stopped exactly where its name says."""
    if arc.index.es.indices.exists_alias(name=arc.index.alias):
        arc.index.es.indices.refresh(index=arc.index.alias)
    out = []
    for sidecar in _work_files(arc, "*" + MANIFEST_SUFFIX):
        manifest = WarcFileManifest.model_validate_json(sidecar.read_bytes())
        path = Path(str(sidecar).removesuffix(MANIFEST_SUFFIX))
        with path.open("rb") as fh:
            records = len(list(located_records(fh, manifest.name)))
        indexed = (
            sum(1 for _ in arc.index.scan({"term": {"warc_key": manifest.key}}))
            if arc.index.es.indices.exists_alias(name=arc.index.alias)
            else 0
        )
        out.append(
            Waiting(
                manifest.name,
                records,
                arc.store.head(manifest.key) is not None,
                arc.store.head(manifest_key(manifest.account, manifest.name)) is not None,
                indexed,
            )
        )
    return out


# (point, pass): a later pass where one exists, so the crash falls in the middle of the harvest.
HARVEST_CASES = [
    (CrashPoint.WARC_MID_RECORD, 30),
    (CrashPoint.WARC_BEFORE_RENAME, 2),
    (CrashPoint.WARC_AFTER_RENAME, 2),
    (CrashPoint.MANIFEST_MID_WRITE, 2),
    (CrashPoint.INDEX_MID_BULK, 4),
    (CrashPoint.INDEX_AFTER_BULK, 2),
    (CrashPoint.HARVEST_BEFORE_STATE, 2),  # the second account's: the first one's state is saved
    (CrashPoint.STATE_MID_SAVE, 1),
    (CrashPoint.MEDIA_BEFORE_RECORD, 3),
]
STORE_CASES = [
    (CrashPoint.STORE_BEFORE_UPLOAD, 2),
    (CrashPoint.STORE_AFTER_UPLOAD, 2),
    (CrashPoint.STORE_AFTER_MANIFEST, 2),
]


def _case(arc: Archive, sim: Simulator, tmp_path: Path, point: CrashPoint, nth: int) -> dict[str, HarvestReport]:
    _harvest_killed_at(arc, sim, tmp_path, point, nth)
    if point in LEFT:
        assert LEFT[point](arc), f"the crash at {point.value} left nothing of what it should have: {_waiting(arc)}"
    reports = _rerun(arc, sim)
    _check_nothing_lost_or_twice(arc, sim, reports)
    return reports


@pytest.mark.parametrize(("point", "nth"), HARVEST_CASES, ids=[p.value for p, _ in HARVEST_CASES])
def test_harvest_killed_at_point_then_rerun(
    arc: Archive, world: Simulator, tmp_path: Path, point: CrashPoint, nth: int
) -> None:
    reports = _case(arc, world, tmp_path, point, nth)
    if point in (CrashPoint.WARC_MID_RECORD, CrashPoint.WARC_BEFORE_RENAME):
        assert any(r.crashed for r in reports.values()), "the half-written file was not reported"


@pytest.mark.parametrize(("point", "nth"), STORE_CASES, ids=[p.value for p, _ in STORE_CASES])
def test_store_step_killed_then_rerun_on_both_stores(
    settings: Settings,
    store_kind: str,
    world: Simulator,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    point: CrashPoint,
    nth: int,
) -> None:
    base = settings if store_kind == "local" else request.getfixturevalue("s3_settings")
    arc = Archive(_settings(base))
    try:
        _case(arc, world, tmp_path, point, nth)
    finally:
        arc.index.destroy()


def test_local_store_killed_mid_copy_then_rerun(arc: Archive, world: Simulator, tmp_path: Path) -> None:
    """Half of a WARC file copied into the local store: never visible as stored, stored whole by the rerun."""
    _harvest_killed_at(arc, world, tmp_path, CrashPoint.STORE_MID_UPLOAD, 2)
    half = list(arc.settings.store_path.glob(".incoming-*"))
    assert half and all(p.stat().st_size > 0 for p in half)  # the half copy is there, under a hidden name
    _check_nothing_lost_or_twice(arc, world, _rerun(arc, world))


T = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _bundle(account: str, i: int, body: bytes) -> CaptureBundle:
    at = T + timedelta(seconds=i)
    cap = Capture(
        url=f"https://social.sundsvik.example/api/v1/statuses/{i}",
        status=200,
        body=body,
        started_at=at,
        response_headers=[("Content-Type", "application/json")],
    )
    rec = Record(
        platform="mastodon",
        account=account,
        item_id=str(i),
        kind="post",
        direction="upprattad",
        text=f"inlägg {i}",
        captured_at=at,
    )
    return CaptureBundle(capture=cap, records=[rec])


def test_s3_killed_between_multipart_parts_then_rerun(s3_settings: Settings, tmp_path: Path) -> None:
    """A 6 MiB WARC file goes up in two 5 MiB parts; killed after the first, the rerun stores it once, whole.

    `communis ingest` is the child here: a harvest's files stay far below S3's 5 MiB smallest part.
    """
    arc = Archive(_settings(s3_settings).model_copy(update={"s3_multipart_threshold": 5 * 1024 * 1024}))
    try:
        account = next(a for a in load_accounts(ACCOUNTS_FILE, arc.settings) if a.platform == "mastodon")
        # Random bytes, base64 in JSON: gzip cannot shrink them below 5 MiB.
        big = json.dumps({"blob": base64.b64encode(os.urandom(6 * 1024 * 1024)).decode()}).encode()
        bundles = [
            _bundle(account.id, 1, b'{"id": 1}'),
            _bundle(account.id, 2, big),
            _bundle(account.id, 3, b'{"id": 3}'),
        ]
        lines = tmp_path / "bundles.jsonl"
        lines.write_text("".join(b.model_dump_json() + "\n" for b in bundles))
        env = {f"COMMUNIS_{k.upper()}": str(v) for k, v in _plain(arc.settings).items() if v is not None}
        _killed_at(
            [sys.executable, "-m", "archive", "ingest", account.id, str(lines)], CrashPoint.STORE_MID_UPLOAD, 1, env
        )
        [waiting] = [p for p in _work_files(arc, "*" + WARC_SUFFIX) if p.stat().st_size > 5 * 1024 * 1024]
        assert not _stored_warcs(arc) or all(waiting.name not in k for k in _stored_warcs(arc))
        bucket_key = f"{arc.settings.s3_prefix}warc/{account.id}/{waiting.name}"
        uploads = arc.store.client.list_multipart_uploads(  # type: ignore[attr-defined]
            Bucket=arc.settings.s3_bucket, Prefix=bucket_key
        ).get("Uploads", [])
        assert uploads, "the crash was not between the parts of a multipart upload"

        arc.pipeline().commit_pending(account.id)  # what the next `communis ingest` does first
        left = arc.store.client.list_multipart_uploads(  # type: ignore[attr-defined]
            Bucket=arc.settings.s3_bucket, Prefix=bucket_key
        ).get("Uploads", [])
        assert left == [], "the crashed run's incomplete upload was left in the bucket"

        work = arc.settings.data_dir / "work"
        assert [p for p in work.rglob("*") if p.is_file()] == []
        found = Counter(r.item_id for key in _stored_warcs(arc) for r in located_records(arc.store.open(key), key))
        assert found == Counter({"1": 1, "2": 1, "3": 1})
        assert {d["item_id"] for d in arc.index.scan({"term": {"account": account.id}})} == {"1", "2", "3"}
        head = arc.store.head(f"warc/{account.id}/{waiting.name}")
        assert head is not None and head.size > 5 * 1024 * 1024
        _check_manifests(arc)
        fixity = run_fixity(arc.store, None, check_all=True)
        assert fixity.ok and not fixity.problems, [p.line() for p in fixity.problems]
    finally:
        arc.index.destroy()


def test_half_written_sidecar_is_rebuilt_from_its_file(arc: Archive, world: Simulator, tmp_path: Path) -> None:
    """A truncated manifest sidecar (from a disk that lost its tail) does not stop the rerun; it is rebuilt
    from the WARC file, identical to the one the writer made."""
    _harvest_killed_at(arc, world, tmp_path, CrashPoint.STORE_BEFORE_UPLOAD, 2)
    sidecar = _work_files(arc, "*" + MANIFEST_SUFFIX)[0]
    original = WarcFileManifest.model_validate_json(sidecar.read_bytes())
    sidecar.write_bytes(sidecar.read_bytes()[:40])
    _check_nothing_lost_or_twice(arc, world, _rerun(arc, world))
    with arc.store.open(manifest_key(original.account, original.name)) as fh:
        assert WarcFileManifest.model_validate_json(fh.read()) == original


def test_unreadable_leftover_is_put_aside_and_reported(arc: Archive, world: Simulator, tmp_path: Path) -> None:
    """A finalized file that does not read back (damaged on disk) with a broken sidecar: put aside in one line."""
    _harvest_killed_at(arc, world, tmp_path, CrashPoint.STORE_BEFORE_UPLOAD, 2)
    sidecar = _work_files(arc, "*" + MANIFEST_SUFFIX)[0]
    warc = Path(str(sidecar).removesuffix(MANIFEST_SUFFIX))
    sidecar.write_bytes(b"{")
    warc.chmod(0o644)
    warc.write_bytes(warc.read_bytes()[: warc.stat().st_size // 2])
    reports = _rerun(arc, world)
    [line] = [line for r in reports.values() for line in r.crashed if warc.name in line]
    assert warc.name in line and "cannot be committed" in line
    assert (warc.parent / CRASHED / warc.name).exists()
    _check_nothing_lost_or_twice(arc, world, reports)  # its captures were fetched again


def test_every_crash_point_is_exercised_by_a_test() -> None:
    """A point added to CrashPoint without a test that kills the process there fails this test."""
    killed = {p for p, _ in [*HARVEST_CASES, *STORE_CASES]} | {CrashPoint.STORE_MID_UPLOAD}
    ops = (Path(__file__).parent / "test_crash_ops.py").read_text()  # there each kill names its point
    named = re.findall(r"crash=CrashPoint\.(\w+)", ops)
    for listed in re.findall(r'parametrize\(\s*"point",\s*\[(.*?)\]', ops, flags=re.DOTALL):
        named += re.findall(r"CrashPoint\.(\w+)", listed)
    killed |= {CrashPoint[name] for name in named}
    missing = [p.value for p in CrashPoint if p not in killed]
    assert missing == [], f"crash points no test kills the process at: {missing}"
