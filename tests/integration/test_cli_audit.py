"""The command line goes through archive/usecases/ as the web does: a refused step is audited as `failed` with its
reason, and a package is produced into the same numbered directories the web lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from archive.access import open_audit
from archive.accounts import load_accounts
from archive.bundles import read_file
from archive.cli import app
from archive.config import Settings, get_settings
from archive.context import Archive
from archive.index import make_client, open_index
from archive.requests.casebook import CaseBook
from archive.samples import ACCOUNTS_FILE, sample_file
from archive.usecases.requests import COMPLETE_MARK, open_requests
from schemas import AuditAction, AuditEvent, AuditOutcome, Role
from tests.signing import sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name, value in {
        "COMMUNIS_DATA_DIR": settings.data_dir,
        "COMMUNIS_STORE_PATH": settings.store_path,
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": settings.events_prefix,
        "COMMUNIS_ACCOUNTS_FILE": settings.accounts_file,
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    sign_in(settings, monkeypatch, "jurist", "legal")
    yield CliRunner()
    get_settings.cache_clear()
    CaseBook(make_client(settings), settings.es_index_prefix).destroy()
    open_index(settings).destroy()


def events(settings: Settings, action: AuditAction, target: str) -> list[AuditEvent]:
    audit = open_audit(settings)
    audit.refresh()
    return [e for e in audit.latest(1000, action=action) if e.target == target]


def test_a_refused_hold_placement_is_audited_as_failed(cli: CliRunner, settings: Settings) -> None:
    matter = f"Mål T {uuid.uuid4().hex[:8]}"
    result = cli.invoke(app, ["hold", "new", "--case", matter])
    assert result.exit_code == 2 and "a hold needs a scope" in result.output
    [event] = events(settings, AuditAction.HOLD_PLACE, f"new hold: {matter}")
    assert (event.outcome, event.user, event.role, event.client) == (AuditOutcome.FAILED, "jurist", Role.LEGAL, "cli")
    assert event.note.startswith("a hold needs a scope: a query, a filter or record ids")


def test_a_refused_request_step_is_audited_as_failed(cli: CliRunner, settings: Settings) -> None:
    case_id = f"case-20261202-{uuid.uuid4().hex[:6]}"
    result = cli.invoke(app, ["request", "run", case_id])
    assert result.exit_code == 2 and "no request case" in result.output
    release = cli.invoke(app, ["hold", "release", "hold-000000000000"])
    assert release.exit_code == 2 and "no hold" in release.output
    [run] = events(settings, AuditAction.REQUEST_RUN, case_id)
    assert (run.outcome, run.note, run.client) == (AuditOutcome.FAILED, f"no request case {case_id}", "cli")
    assert [e.outcome for e in events(settings, AuditAction.HOLD_RELEASE, "hold-000000000000")][:1] == [
        AuditOutcome.FAILED
    ]


def test_a_cli_export_without_a_directory_is_the_cases_next_numbered_package(
    cli: CliRunner, settings: Settings
) -> None:
    arc = Archive(settings)
    pipeline = arc.pipeline()
    for account in load_accounts(ACCOUNTS_FILE, settings):
        if account.platform.value == "mastodon":
            pipeline.ingest(account, read_file(sample_file(account.id)))
    arc.index.es.indices.refresh(index=arc.index.alias)
    new = cli.invoke(app, ["request", "new", "--platform", "mastodon"])
    assert new.exit_code == 0, new.output
    case_id = new.output.split()[-1]
    run = cli.invoke(app, ["request", "run", case_id])
    assert run.exit_code == 0 and "snapshot 1:" in run.output, run.output
    assert cli.invoke(app, ["request", "review", case_id, "--reject-suggestions"]).exit_code == 0

    for n in (1, 2):
        done = cli.invoke(app, ["request", "export", case_id])
        assert done.exit_code == 0, done.output
        assert (settings.data_dir / "packages" / f"{case_id}-{n}" / COMPLETE_MARK).is_file()
    # the web's view of the case lists both, numbered as it numbers its own
    assert [p.number for p in open_requests(Archive(settings)).packages(case_id)] == [1, 2]
    exports = [e for e in events(settings, AuditAction.REQUEST_EXPORT, case_id) if e.outcome is AuditOutcome.OK]
    assert sorted(e.note.rsplit("/", 1)[-1] for e in exports) == [f"{case_id}-1", f"{case_id}-2"]
