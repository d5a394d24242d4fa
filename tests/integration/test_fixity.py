"""Fixity on the real store: a clean run passes; a flipped byte, a replaced and a missing object are caught.

How the damage is made, for real rather than by mocking:
- **Bit rot in MinIO**: one byte flipped in the object's data on MinIO's own disk
  (var/services/minio/data/…/xl.meta or part.1). MinIO keeps its own bitrot hashes and refuses the
  read (503); fixity must report the file as unreadable, loudly.
- **A flipped byte that storage serves**: the local store (a plain file; fixity's hash must catch
  it), and in MinIO a second object version under the same key. Object Lock protects versions
  from deletion, not a key from a new version, so anyone with PutObject can shadow a file; readers
  get the newest version, so that is the one fixity must judge.
- **A missing object**: a plain DELETE in MinIO puts a delete marker, which Object Lock allows
  (the locked version stays, recoverable); the file is gone for every reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from typer.testing import CliRunner

from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.config import Settings, get_settings
from archive.context import Archive
from archive.index.client import empty_data_stream, make_client
from archive.preservation.fixity import load_fixity_state, manifest_key_for, run_fixity
from archive.preservation.premis import PremisLog
from archive.samples import ACCOUNTS_FILE, sample_file
from archive.services import minio
from archive.store import LocalStore, S3Store
from schemas.fixity import FixityProblemKind as Kind
from schemas.premis import PremisEventType, PremisOutcome
from tests.conftest import admin_es
from tests.waiting import PREFECT_STARTUP_S


def ingest_samples(arc: Archive) -> list[str]:
    """The bundled sample captures, stored and indexed; returns the stored WARC keys."""
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, arc.settings):
        pipeline.ingest(account, read_file(sample_file(account.id)))
    keys = sorted(m.key for m in pipeline.report.files)
    assert len(keys) >= 2
    return keys


SHARED_PREFIX = "test-communis-fixity"
"""One premis stream for these tests: the local integ-test Elasticsearch cannot delete a data stream,
so per-test names would each leave one behind (as tests/integration/test_audit.py explains). Tests
keep apart by object keys, which hold each run's random id."""


def empty_stream(log: PremisLog) -> None:
    """The events go, an empty stream stays (the local Elasticsearch cannot delete data streams). As the
    admin: the application's credential may only add events."""
    empty_data_stream(admin_es(), log.name)


@pytest.fixture
def premis(archive: Archive) -> Iterator[PremisLog]:
    log = PremisLog(make_client(archive.settings), f"{SHARED_PREFIX}-premis")
    yield log
    empty_stream(log)


def s3_client() -> Any:
    """MinIO as its root user: the damage these tests do (delete markers, replaced versions) is an
    operator's or an intruder's, never something the application's own credential may do."""
    return minio.client()


def fixity_events(premis: PremisLog, key: str) -> list[Any]:
    premis.refresh()
    return premis.events(object_id=key, type=PremisEventType.FIXITY_CHECK)


def test_clean_run_passes_and_records_an_event_per_file(archive: Archive, premis: PremisLog) -> None:
    keys = ingest_samples(archive)
    report = run_fixity(archive.store, premis, check_all=True)
    assert report.ok, [p.line() for p in report.problems]
    assert report.files_checked == report.files_total == len(keys)
    assert all(f.computed_sha256 == f.manifest_sha256 == f.storage_sha256 for f in report.files)
    for key in keys:
        events = fixity_events(premis, key)
        assert [e.outcome for e in events] == [PremisOutcome.SUCCESS]
        assert events[0].sha256 == next(f.computed_sha256 for f in report.files if f.key == key)


def test_rotation_checks_each_file_once_per_cycle(local_archive: Archive) -> None:
    arc = local_archive
    keys = ingest_samples(arc)
    seen: list[str] = []
    runs = 0
    while True:
        report = run_fixity(arc.store, None, share=2)
        runs += 1
        assert report.ok and report.files_total == len(keys)
        seen += [f.key for f in report.files]
        if report.cycle_complete:
            break
    assert runs == 2 and sorted(seen) == keys  # every file exactly once in the cycle
    assert load_fixity_state(arc.store).cursor is None and load_fixity_state(arc.store).runs == 2
    again = run_fixity(arc.store, None, share=2)  # the next cycle starts from the first file
    assert again.files[0].key == keys[0]
    assert len(list(arc.store.keys("fixity/state/"))) == 3  # one write-once state object per run


def _minio_object_dir(settings: Settings, key: str) -> Path:
    return minio.base() / "data" / settings.s3_bucket / f"{settings.s3_prefix}{key}"


@pytest.mark.parametrize("archive", ["s3"], indirect=True)
def test_bitrot_on_minio_disk_is_reported_unreadable(archive: Archive, premis: PremisLog) -> None:
    keys = ingest_samples(archive)
    victim = keys[0]
    data = archive.store.get_range(victim, 0, archive.store.head(victim).size)  # type: ignore[union-attr]
    probe = data[len(data) // 2 : len(data) // 2 + 32]
    files = [p for p in _minio_object_dir(archive.settings, victim).rglob("*") if p.is_file()]
    holder = next(p for p in files if probe in p.read_bytes())  # xl.meta (inline data) or part.1
    raw = bytearray(holder.read_bytes())
    raw[raw.index(probe) + 7] ^= 0x01
    holder.chmod(0o644)
    holder.write_bytes(bytes(raw))

    report = run_fixity(archive.store, premis, check_all=True)
    assert [(p.kind, p.key) for p in report.problems] == [(Kind.UNREADABLE, victim)]
    assert "503" in report.problems[0].detail
    assert [e.outcome for e in fixity_events(premis, victim)] == [PremisOutcome.FAILURE]
    assert [e.outcome for e in fixity_events(premis, keys[1])] == [PremisOutcome.SUCCESS]


@pytest.mark.parametrize("archive", ["s3"], indirect=True)
def test_a_new_object_version_with_a_flipped_byte_is_caught(archive: Archive, premis: PremisLog) -> None:
    keys = ingest_samples(archive)
    victim = keys[-1]
    stored = archive.store.head(victim)
    assert stored is not None and stored.retain_until is not None  # locked: the version cannot be deleted
    data = bytearray(archive.store.get_range(victim, 0, stored.size))
    data[len(data) // 2] ^= 0x01
    # The forger even copies the recorded checksum metadata; Object Lock lets the new version in.
    s3_client().put_object(
        Bucket=archive.settings.s3_bucket,
        Key=f"{archive.settings.s3_prefix}{victim}",
        Body=bytes(data),
        Metadata={"sha256": stored.sha256},
    )

    report = run_fixity(archive.store, premis, check_all=True)
    kinds = {p.kind for p in report.problems if p.key == victim}
    assert kinds == {Kind.MANIFEST_MISMATCH, Kind.STORAGE_MISMATCH}
    assert {p.key for p in report.problems} == {victim}
    event = fixity_events(premis, victim)[0]
    assert event.outcome is PremisOutcome.FAILURE and "differs from the manifest" in event.outcome_detail


@pytest.mark.parametrize("archive", ["s3"], indirect=True)
def test_missing_object_and_missing_manifest_are_caught(archive: Archive, premis: PremisLog) -> None:
    keys = ingest_samples(archive)
    bucket, prefix, client = archive.settings.s3_bucket, archive.settings.s3_prefix, s3_client()
    client.delete_object(Bucket=bucket, Key=prefix + keys[0])  # a delete marker: allowed under Object Lock
    client.delete_object(Bucket=bucket, Key=prefix + manifest_key_for(keys[1]))
    assert archive.store.head(keys[0]) is None

    report = run_fixity(archive.store, premis, share=4)  # the pairing covers the whole archive, any share
    found = {(p.kind, p.key) for p in report.problems}
    assert (Kind.MISSING_FILE, keys[0]) in found
    assert (Kind.MISSING_MANIFEST, keys[1]) in found
    assert [e.outcome for e in fixity_events(premis, keys[0])] == [PremisOutcome.FAILURE]


@pytest.mark.parametrize("archive", ["local"], indirect=True)
def test_disposed_file_is_not_reported_missing(archive: Archive, premis: PremisLog) -> None:
    keys = ingest_samples(archive)
    (Path(archive.settings.store_path) / keys[0]).unlink()  # disposed of; its manifest is kept here
    premis.record(PremisEventType.DELETION, objects=[keys[0]], detail="disposed under rule X", refresh=True)
    report = run_fixity(archive.store, premis, check_all=True)
    assert report.ok and report.disposed == 1 and report.files_total == len(keys) - 1


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    values = {
        "COMMUNIS_DATA_DIR": str(settings.data_dir),
        "COMMUNIS_STORE_PATH": str(settings.store_path),
        "COMMUNIS_ES_INDEX_PREFIX": SHARED_PREFIX,
        "COMMUNIS_STORE": "local",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield get_settings()
    arc = Archive(get_settings())
    arc.index.destroy()
    empty_stream(PremisLog(make_client(arc.settings), f"{SHARED_PREFIX}-premis"))
    get_settings.cache_clear()


def test_cli_flipped_byte_in_the_local_store_exits_1_with_one_line_per_problem(cli_env: Settings) -> None:
    from archive.cli import app

    arc = Archive(cli_env)
    keys = ingest_samples(arc)
    assert isinstance(arc.store, LocalStore) and not isinstance(arc.store, S3Store)
    runner = CliRunner()
    clean = runner.invoke(app, ["fixity", "--all"])
    assert clean.exit_code == 0, clean.output
    assert f"{len(keys)} of {len(keys)} files checked" in clean.output

    path = Path(cli_env.store_path) / keys[1]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(raw))
    bad = runner.invoke(app, ["fixity", "--all"])
    assert bad.exit_code == 1
    lines = [line for line in bad.output.splitlines() if line.startswith("FIXITY")]
    assert len(lines) == 2 and all(keys[1] in line for line in lines), bad.output
    assert any("differs from the manifest" in line for line in lines)
    assert any("differs from the storage checksum" in line for line in lines)


def test_flow_fails_and_publishes_an_artifact(cli_env: Settings) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.fixity import fixity

    arc = Archive(cli_env)
    keys = ingest_samples(arc)
    (Path(cli_env.store_path) / keys[0]).unlink()
    (Path(cli_env.store_path) / f"{keys[0]}.meta.json").unlink()
    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
        state = fixity(share=1, return_state=True)
        assert state.is_failed()
        assert "missing file" in (state.message or "")
        from prefect.artifacts import Artifact
        from prefect.client.schemas.objects import Artifact as ArtifactResponse

        # Called from sync code, where Prefect's async_dispatch gives the result itself, not a coroutine.
        artifact = cast(ArtifactResponse | None, Artifact.get("fixity-report"))
        assert artifact is not None and keys[0] in str(artifact.data) and "PROBLEM" in str(artifact.data)
    deployments = yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text())["deployments"]
    weekly = next(d for d in deployments if d["name"] == "fixity")
    assert weekly["entrypoint"] == "flows/fixity.py:fixity" and weekly["schedules"][0]["cron"] == "0 3 * * 0"
