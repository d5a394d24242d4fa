"""Each error class carries its HTTP status, and the web application's one handler answers with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive import errors
from archive.config import Settings
from archive.errors import CommunisError, Conflict, IndexUnavailable, NotFound, RecordNotFound
from archive.requests.casebook import CaseError
from archive.web.app import create_app

RAISED: dict[str, CommunisError] = {
    "missing": NotFound("no request case case-20260101-abcdef"),
    "record": RecordNotFound("no record r1 in the index", hint="search for it"),
    "closed": Conflict("case case-20260101-abcdef is closed"),
    "refused": CaseError("case x has 2 unreviewed masking suggestions; nothing was produced"),
    "down": IndexUnavailable("cannot reach Elasticsearch"),
}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path / "data", store_path=tmp_path / "store", es_index_prefix="unit"))

    def boom(kind: str) -> None:
        raise RAISED[kind]

    app.add_api_route("/api/boom/{kind}", boom)
    app.add_api_route("/boom/{kind}", boom)
    return TestClient(app)


@pytest.mark.parametrize(
    ("kind", "status"), [("missing", 404), ("record", 404), ("closed", 409), ("refused", 400), ("down", 503)]
)
def test_one_handler_answers_each_error_with_its_status_and_one_line(
    client: TestClient, kind: str, status: int
) -> None:
    answer = client.get(f"/api/boom/{kind}")
    assert answer.status_code == status
    assert answer.json() == {"detail": RAISED[kind].one_line()}
    page = client.get(f"/boom/{kind}")
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert RAISED[kind].one_line().split(" — ")[0] in page.text


def test_every_error_class_has_an_http_status() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, CommunisError)]
    assert len(classes) > 20
    assert {c.__name__: c.http_status for c in classes if not 400 <= c.http_status < 600} == {}
    assert errors.ObjectMissing.http_status == 404 and errors.PermissionDenied.http_status == 403
