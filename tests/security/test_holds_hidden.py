"""Finding 9: legal holds are legal staff's business. A role without `holds-view` (read-only) sees no
hold anywhere: not in API results (`legal_holds`, provenance's Object Lock legal hold), not on the
record page, not as the `on_hold` facet, and may not filter by it (a one-line 403, audited)."""

from __future__ import annotations

import pytest

from schemas import AuditAction, AuditOutcome
from tests.security.conftest import HOLD_MATTER, World

pytestmark = pytest.mark.integration


def test_a_read_only_user_sees_no_hold_in_api_results(world: World) -> None:
    with world.app() as client:
        ro = world.headers("read-only")
        found = client.get("/api/records", params={"size": 200}, headers=ro)
        assert found.status_code == 200
        page = found.json()
        held = [h for h in page["hits"] if h["record_id"] == world.held_id]
        assert held, "the held record is public, so a read-only user finds it"
        assert all("legal_holds" not in h["record"] for h in page["hits"])
        assert "on_hold" not in page["facets"]
        one = client.get(f"/api/records/{world.held_id}", headers=ro).json()
        assert "legal_holds" not in one["record"] and one["provenance"]["legal_hold"] is None
        assert world.hold_id not in found.text + str(one)


def test_a_read_only_user_may_not_filter_by_hold(world: World) -> None:
    with world.app() as client:
        for value in ("true", "false"):
            refused = client.get("/api/records", params={"on_hold": value}, headers=world.headers("read-only"))
            assert refused.status_code == 403, refused.text
            assert "legal hold" in refused.json()["detail"] and "\n" not in refused.json()["detail"]
        page = client.get("/?on_hold=true", headers=world.headers("read-only"))
        assert page.status_code == 403
    denied = world.events(user=world.name("read-only"), action=AuditAction.SEARCH, outcome=AuditOutcome.DENIED)
    assert denied, "the refused filter is audited"


def test_the_record_and_search_pages_show_no_hold_to_a_read_only_user(world: World) -> None:
    with world.app() as client:
        ro = world.headers("read-only")
        record = client.get(f"/records/{world.held_id}", headers=ro)
        assert record.status_code == 200
        assert world.hold_id not in record.text and "legal hold" not in record.text.lower()
        search = client.get("/", headers=ro)
        assert search.status_code == 200 and "legal hold" not in search.text.lower()
        assert 'name="on_hold"' not in search.text


def test_legal_staff_and_archivists_still_see_holds(world: World) -> None:
    with world.app() as client:
        for role in ("archivist", "legal", "admin", "records-manager"):
            one = client.get(f"/api/records/{world.held_id}", headers=world.headers(role)).json()
            assert one["record"]["legal_holds"] == [world.hold_id], role
            held = client.get("/api/records", params={"on_hold": "true"}, headers=world.headers(role)).json()
            assert [h["record_id"] for h in held["hits"]] == [world.held_id], role
            assert held["facets"]["on_hold"] == {"true": 1}
            page = client.get(f"/records/{world.held_id}", headers=world.headers(role))
            assert world.hold_id in page.text and "Under legal hold" in page.text
    assert HOLD_MATTER  # the hold's matter is the conftest's
