"""Every route of the OpenAPI description × every role (and no credential at all): the status each
pair gets, in one table. A route added to the application without a row here fails the test, as does
a role added without a column, so no door is opened without someone deciding who may use it.

The probes are harmless: reads use this world's records, and every step that changes something is
sent with an empty body (refused 422 by validation once the role is allowed) or names a case, hold or
package that does not exist (404). Either way the status says whether the role got past the check:
401 no credential, 403 the role may not, anything else it may.
"""

from __future__ import annotations

import pytest

from schemas import Role
from tests.security.conftest import World

pytestmark = pytest.mark.integration

ANON = "anonymous"
COLUMNS = (ANON, "read-only", "archivist", "records-manager", "legal", "admin")


def row(ro: int, archivist: int, manager: int, legal: int, admin: int) -> dict[str, int]:
    """A row's statuses; without a credential every route is 401."""
    return dict(zip(COLUMNS, (401, ro, archivist, manager, legal, admin), strict=True))


#: (method, path) → role → status. Read: R = 200 for everyone signed in.
EVERYONE = row(200, 200, 200, 200, 200)
RECORDS = row(403, 200, 200, 200, 200)  # all versions, WARC bytes, export, verify: not read-only
CASE_READ = row(403, 404, 404, 404, 404)  # requests-view (the case named does not exist)
CASE_STEP_404 = row(403, 403, 403, 404, 404)  # requests: legal and admin only
CASE_STEP_422 = row(403, 403, 403, 422, 422)
HOLDS_LIST = row(403, 403, 403, 200, 200)
TABLE: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/records"): EVERYONE,
    ("GET", "/api/records/export"): RECORDS,
    ("GET", "/api/records/{record_id}"): EVERYONE,
    ("GET", "/api/records/{record_id}/warc"): RECORDS,
    ("POST", "/api/records/{record_id}/verify"): RECORDS,
    ("GET", "/api/records/{record_id}/media/{n}"): row(404, 404, 404, 404, 404),  # may view; no such media
    ("GET", "/api/items/{item_key}/versions"): RECORDS,
    ("GET", "/api/accounts/{account}/timeline"): EVERYONE,
    ("GET", "/api/audit"): row(403, 403, 403, 403, 200),
    ("GET", "/api/requests"): row(403, 200, 200, 200, 200),
    ("POST", "/api/requests"): CASE_STEP_422,
    ("GET", "/api/requests/{case_id}"): CASE_READ,
    ("GET", "/api/requests/{case_id}/records"): CASE_READ,
    ("GET", "/api/requests/{case_id}/masks"): CASE_READ,
    ("POST", "/api/requests/{case_id}/masks"): CASE_STEP_422,
    ("POST", "/api/requests/{case_id}/run"): CASE_STEP_404,
    ("POST", "/api/requests/{case_id}/records/{record_id}/review"): CASE_STEP_422,
    ("POST", "/api/requests/{case_id}/masks/decide"): CASE_STEP_422,
    ("POST", "/api/requests/{case_id}/media/decide"): CASE_STEP_422,
    ("POST", "/api/requests/{case_id}/export"): CASE_STEP_404,
    ("GET", "/api/requests/{case_id}/packages/{number}.zip"): CASE_STEP_404,
    ("POST", "/api/requests/{case_id}/deliveries"): CASE_STEP_404,
    ("POST", "/api/requests/{case_id}/close"): CASE_STEP_404,
    ("GET", "/api/holds"): HOLDS_LIST,
    ("POST", "/api/holds"): CASE_STEP_422,
    ("POST", "/api/holds/{hold_id}/release"): CASE_STEP_404,
    # completeness: not read-only (archive/access/policy.py); this world has no report, so 404, and the
    # evidence routes without their query 422
    ("GET", "/api/completeness"): RECORDS,
    ("GET", "/api/completeness/{account}"): row(403, 404, 404, 404, 404),
    ("GET", "/api/completeness/{account}/{month}"): row(403, 404, 404, 404, 404),
    ("GET", "/api/completeness/{account}/{month}/warc"): row(403, 422, 422, 422, 422),
    ("GET", "/api/completeness/{account}/totals/warc"): row(403, 422, 422, 422, 422),
}


def _values(world: World) -> dict[str, str]:
    return {
        "record_id": world.free_id,
        "n": "0",
        "item_key": "mastodon:sundsvik-mastodon:1102",
        "account": "sundsvik-mastodon",
        "case_id": "case-20261202-abcdef",
        "number": "1",
        "hold_id": "hold-000000000000",
        "month": "2026-11",
    }


def test_every_role_is_a_column() -> None:
    assert set(COLUMNS) == {ANON, *(r.value for r in Role)}, "a role without a column in the table"


def test_every_route_gets_the_status_the_table_says_for_every_role(world: World) -> None:
    with world.app() as client:
        assert client.get("/openapi.json").status_code == 401
        spec = client.get("/openapi.json", headers=world.headers("read-only")).json()
        routes = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
        assert routes - TABLE.keys() == set(), "routes without a row in the table"
        assert TABLE.keys() - routes == set(), "rows for routes that no longer exist"
        values = _values(world)
        wrong = []
        for (method, path), expected in sorted(TABLE.items()):
            url = path
            for name, value in values.items():
                url = url.replace("{" + name + "}", value)
            for role, status in expected.items():
                headers = world.headers(role) if role != ANON else {}
                got = client.request(method, url, headers=headers, json={} if method == "POST" else None)
                if got.status_code != status:
                    wrong.append(f"{method} {path} as {role}: {got.status_code}, table says {status}")
    assert wrong == []
