"""The command line audits a refused step as `failed` with its reason, as the web does (archive/usecases/)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from archive.access import open_audit
from archive.cli import app
from archive.cli.common import cli_actor
from archive.config import Settings, get_settings
from archive.index import make_client, open_index
from archive.requests.casebook import CaseBook
from schemas import AuditAction, AuditEvent, AuditOutcome

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name, value in {"COMMUNIS_DATA_DIR": settings.data_dir, "COMMUNIS_STORE_PATH": settings.store_path,
                        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
                        "COMMUNIS_EVENTS_PREFIX": settings.events_prefix,
                        "COMMUNIS_ACCOUNTS_FILE": settings.accounts_file}.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
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
    assert (event.outcome, event.user, event.client) == (AuditOutcome.FAILED, cli_actor(), "cli")
    assert event.note.startswith("a hold needs a scope: a query, a filter or record ids")


def test_a_refused_request_step_is_audited_as_failed(cli: CliRunner, settings: Settings) -> None:
    case_id = f"case-20261202-{uuid.uuid4().hex[:6]}"
    result = cli.invoke(app, ["request", "run", case_id])
    assert result.exit_code == 2 and f"no request case {case_id}" in result.output
    release = cli.invoke(app, ["hold", "release", "hold-000000000000"])
    assert release.exit_code == 2 and "no hold hold-000000000000" in release.output
    [run] = events(settings, AuditAction.REQUEST_RUN, case_id)
    assert (run.outcome, run.note, run.client) == (AuditOutcome.FAILED, f"no request case {case_id}", "cli")
    assert [e.outcome for e in events(settings, AuditAction.HOLD_RELEASE, "hold-000000000000")][:1] == \
        [AuditOutcome.FAILED]
