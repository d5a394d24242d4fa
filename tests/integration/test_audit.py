"""The audit log on the real Elasticsearch: append-only data stream, read back, written by the CLI.

The audit tests share one stream name, because the local integ-test distribution has no
delete-data-stream API: clean-up empties the stream (rollover, delete old backing indices)
but cannot remove it, so a per-test name would leave one empty stream behind per test.
Tests keep apart by user names.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import ApiError

from archive.access import AuditLog, open_audit, open_users
from archive.config import Settings
from schemas import AuditAction, AuditOutcome, Role
from tests.conftest import drop_access
from tests.waiting import HANG_GUARD_S

PREFIX = "test-communis"


@pytest.fixture
def audit_settings(tmp_path: Path) -> Iterator[Settings]:
    """The shared test audit stream (`PREFIX`), and an installation of its own: its users start empty."""
    made = Settings(
        data_dir=tmp_path / "data",
        store_path=tmp_path / "store",
        es_index_prefix=f"test-audit-{uuid.uuid4().hex[:8]}",
        events_prefix=PREFIX,
    )
    yield made
    drop_access(made)


@pytest.fixture
def audit(audit_settings: Settings) -> Iterator[AuditLog]:
    log = open_audit(audit_settings)
    yield log
    log.destroy()


def test_events_are_stored_and_read_back_newest_first(audit: AuditLog) -> None:
    who = f"u{uuid.uuid4().hex[:8]}"
    actions = [AuditAction.LOGIN, AuditAction.SEARCH, AuditAction.VIEW, AuditAction.WARC, AuditAction.EXPORT]
    for i, action in enumerate(actions):
        audit.event(action, user=who, role=Role.ARCHIVIST, target=f"target {i}", client="192.0.2.7")
    audit.event(AuditAction.LOGIN, user=who, role=None, client="192.0.2.7", outcome=AuditOutcome.DENIED)
    audit.refresh()
    events = audit.latest(10, user=who)
    assert [e.action for e in events] == [AuditAction.LOGIN, *reversed(actions)]
    assert events[0].outcome is AuditOutcome.DENIED and events[1].target == "target 4"
    assert all(a.at >= b.at for a, b in zip(events, events[1:], strict=False))
    assert [e.target for e in audit.latest(10, user=who, action="search")] == ["target 1"]
    assert len(audit.latest(2, user=who)) == 2


def test_events_cannot_be_overwritten_updated_or_deleted_through_the_stream(audit: AuditLog) -> None:
    who = f"u{uuid.uuid4().hex[:8]}"
    audit.event(AuditAction.SEARCH, user=who, role=Role.LEGAL, target="original", refresh=True)
    [hit] = audit.es.search(index=audit.name, query={"term": {"user": who}})["hits"]["hits"]
    doc_id = hit["_id"]
    with pytest.raises(ApiError):
        audit.es.index(index=audit.name, id=doc_id, document={**hit["_source"], "target": "forged"})
    with pytest.raises(ApiError):
        audit.es.update(index=audit.name, id=doc_id, doc={"target": "forged"})
    with pytest.raises(ApiError):
        audit.es.delete(index=audit.name, id=doc_id)
    with pytest.raises(ApiError):  # a second `create` with the same id is refused too
        audit.es.create(index=audit.name, id=doc_id, document={**hit["_source"], "target": "forged"})
    audit.refresh()
    assert [e.target for e in audit.latest(5, user=who)] == ["original"]


def test_cli_user_add_prints_a_token_that_resolves_and_is_not_audited(
    audit: AuditLog, audit_settings: Settings
) -> None:
    env = {
        **os.environ,
        "COMMUNIS_DATA_DIR": str(audit_settings.data_dir),
        "COMMUNIS_ES_INDEX_PREFIX": audit_settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": PREFIX,
        "COLUMNS": "200",
    }
    name = f"arkivarie-{uuid.uuid4().hex[:6]}"

    def communis(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "archive", *args],
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
            check=False,
            timeout=HANG_GUARD_S,
        )

    admin = f"admin-{uuid.uuid4().hex[:6]}"
    first = communis("user", "add", admin, "--role", "admin")  # the first admin: no sign-in yet
    assert first.returncode == 0, first.stderr
    env["COMMUNIS_TOKEN"] = first.stdout.strip().splitlines()[-1]
    added = communis("user", "add", name, "--role", "archivist", "--password-stdin", stdin="lösenord\n")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    users = open_users(audit_settings)
    assert users.user_for_token(token).name == name
    assert users.authenticate(name, "lösenord").role is Role.ARCHIVIST

    bad = communis("user", "add", "x", "--role", "boss")
    assert bad.returncode == 2 and "read-only" in bad.stderr and bad.stderr.strip().count("\n") == 0

    listed = communis("user", "list")
    assert name in listed.stdout and "archivist" in listed.stdout

    assert communis("user", "disable", name).returncode == 0
    with pytest.raises(Exception, match="disabled"):
        users.user_for_token(token)

    audit.refresh()
    shown = communis("audit", "--action", "user.add", "--json", "--limit", "1000")
    assert shown.returncode == 0, shown.stderr
    assert name in shown.stdout
    everything = audit.es.search(index=audit.name, size=1000, query={"match_all": {}})
    raw = str(everything.body)
    assert token not in raw and "lösenord" not in raw
    assert {e.action for e in audit.latest(10) if e.target == name} == {AuditAction.USER_ADD, AuditAction.USER_DISABLE}
