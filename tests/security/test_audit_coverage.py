"""Finding 8: every record a person is shown or given is named in an audit event, whichever door.

The record page shows the record, every version of its item and its whole thread; `/items/{key}`
leads to a record; a search page shows its hits; the CLI's `search`, `show`, `warc` and `audit`
show or hand out records (or the audit log) too. Each is checked against the real audit stream.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archive.access import open_audit
from archive.cli import app
from archive.cli.common import cli_actor
from schemas import AuditAction, AuditEvent
from tests.security.conftest import World

pytestmark = pytest.mark.integration


def _latest(world: World, item_id: str) -> dict[str, object]:
    [doc] = [d for d in world.arc.index.all_documents() if d["item_id"] == item_id and d.get("is_latest")]
    return doc


def _ids(world: World, **match: str) -> list[str]:
    return sorted(
        d["record_id"] for d in world.arc.index.all_documents() if all(d.get(k) == v for k, v in match.items())
    )


def _audited(world: World, user: str, record_ids: list[str], since: datetime) -> dict[str, list[AuditEvent]]:
    """record id → the events that name it (as target), of `user`, written since `since` (the stream is
    shared by every test and every run, so only this test's events count)."""
    audit = open_audit(world.settings)
    audit.refresh()
    found: dict[str, list[AuditEvent]] = {rid: [] for rid in record_ids}
    for event in audit.latest(10_000, user=user):
        if event.target in found and event.at >= since:
            found[event.target].append(event)
    return found


def test_the_record_page_audits_the_whole_thread(world: World) -> None:
    start = datetime.now(UTC)
    root = _latest(world, "1103")
    thread = _ids(world, thread_id="1103", is_latest=True)  # type: ignore[arg-type]
    assert len(thread) == 4
    with world.app() as client:
        page = client.get(f"/records/{root['record_id']}", headers=world.headers("archivist"))
    assert page.status_code == 200
    missing = [rid for rid, events in _audited(world, world.name("archivist"), thread, start).items() if not events]
    assert missing == [], "records shown on the page without an audit event"


def test_the_record_page_audits_every_version(world: World) -> None:
    start = datetime.now(UTC)
    versions = _ids(world, item_id="1102")
    assert len(versions) == 2
    latest = _latest(world, "1102")
    with world.app() as client:
        page = client.get(f"/records/{latest['record_id']}", headers=world.headers("legal"))
    assert page.status_code == 200 and "(ändrad)" in page.text
    missing = [rid for rid, events in _audited(world, world.name("legal"), versions, start).items() if not events]
    assert missing == []


def test_the_item_link_is_audited(world: World) -> None:
    start = datetime.now(UTC)
    doc = _latest(world, "1101")
    with world.app(follow_redirects=False) as client:
        moved = client.get(f"/items/{doc['item_key']}", headers=world.headers("admin"))
    assert moved.status_code == 303
    [events] = _audited(world, world.name("admin"), [str(doc["record_id"])], start).values()
    assert events and events[0].action is AuditAction.VIEW


def test_search_hits_are_named(world: World) -> None:
    start = datetime.now(UTC)
    with world.app() as client:
        found = client.get("/api/records", params={"q": "Östra"}, headers=world.headers("records-manager"))
        hits = [h["record_id"] for h in found.json()["hits"]]
        assert hits
        page = client.get("/", params={"q": "Biblioteket"}, headers=world.headers("records-manager"))
        assert page.status_code == 200
    shown = hits + [str(_latest(world, "1102")["record_id"])]
    missing = [rid for rid, ev in _audited(world, world.name("records-manager"), shown, start).items() if not ev]
    assert missing == []


def test_the_cli_audits_search_show_warc_and_audit(world: World, cli: CliRunner, tmp_path: Path) -> None:
    start = datetime.now(UTC)
    me = cli_actor()
    found = cli.invoke(app, ["search", "Snöröjningen", "--json"])
    assert found.exit_code == 0, found.output
    hits = [line.split('"record_id": "')[1][:32] for line in found.output.splitlines() if line.startswith("{")]
    assert hits
    one = world.free_id
    assert cli.invoke(app, ["show", one]).exit_code == 0
    out = tmp_path / "r.warc.gz"
    assert cli.invoke(app, ["warc", one, "-o", str(out)]).exit_code == 0 and out.stat().st_size > 0
    events = _audited(world, me, [*hits, one], start)
    assert [rid for rid, ev in events.items() if not ev] == []
    actions = {e.action for e in events[one]}
    assert {AuditAction.VIEW, AuditAction.WARC} <= actions
    assert all(e.client == "cli" for ev in events.values() for e in ev)
    searched = [e for e in open_audit(world.settings).latest(200, user=me, action=AuditAction.SEARCH)]
    assert any(e.target.startswith("Snöröjningen") and e.at >= start for e in searched)
    assert cli.invoke(app, ["audit", "--limit", "3"]).exit_code == 0
    audit = open_audit(world.settings)
    audit.refresh()
    assert [e for e in audit.latest(5, user=me, action=AuditAction.AUDIT_READ) if e.at >= start]


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_every_exported_record_is_named(world: World, format: str) -> None:
    start = datetime.now(UTC)
    everything = _ids(world)
    with world.app() as client:
        given = client.get("/api/records/export", params={"format": format}, headers=world.headers("archivist"))
    assert given.status_code == 200 and all(rid in given.text for rid in everything)
    audit = open_audit(world.settings)
    audit.refresh()
    named = {
        e.target
        for e in audit.latest(10_000, user=world.name("archivist"), action=AuditAction.EXPORT)
        if e.note.startswith("export:") and e.at >= start
    }
    assert set(everything) <= named


def test_a_request_cases_records_are_named_when_shown(world: World) -> None:
    start = datetime.now(UTC)
    from archive.index.client import make_client
    from archive.requests.casebook import CaseBook
    from archive.usecases import Actor
    from archive.usecases.requests import open_requests
    from schemas import Role
    from schemas.search import SavedSearch

    desk = open_requests(world.arc)
    legal = Actor(world.name("legal"), Role.LEGAL, "192.0.2.50")
    case = desk.create(legal, searches=[SavedSearch(q="Snöröjningen")], requester=f"req-{world.run}")
    try:
        desk.run(legal, case.id)
        entries = [e.record_id for e in desk.records(legal, case.id)]
        assert entries
        with world.app() as client:
            for path in (f"/api/requests/{case.id}", f"/api/requests/{case.id}/records", f"/requests/{case.id}"):
                assert client.get(path, headers=world.headers("archivist")).status_code == 200, path
        named = _audited(world, world.name("archivist"), entries, start)
        assert [rid for rid, events in named.items() if not events] == []
    finally:
        CaseBook(make_client(world.settings), world.settings.es_index_prefix).destroy()
