"""Finding 10: a search's cost is bounded — query complexity (clauses after expansion), leading
wildcards and one- or two-letter prefixes, page size, facets (counted on a result list's first page
only) and time (a timeout on the cluster and on the client) — and a search over a bound is refused
with a one-line error carrying its HTTP status (archive/errors.py), not sent to the cluster that
ingest shares."""

from __future__ import annotations

import pytest

from archive.errors import SearchTimedOut, SearchTooCostly
from archive.index import SearchQuery, search
from archive.index.search import SearchLimits
from tests.security.conftest import World

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("q", "says"),
    [
        (" ".join(f"ord{n}" for n in range(80)), "clauses"),
        ("*kommun", "wildcard"),
        ("snö*röjning", "wildcard"),
        ("a*", "prefix"),
        ("Storgatan | " * 40 + "Ågatan", "clauses"),
    ],
)
def test_a_costly_query_is_refused_in_one_line(world: World, q: str, says: str) -> None:
    with world.app() as client:
        refused = client.get("/api/records", params={"q": q}, headers=world.headers("read-only"))
        assert refused.status_code == 400, refused.text
        detail = refused.json()["detail"]
        assert says in detail and "\n" not in detail
        page = client.get("/", params={"q": q}, headers=world.headers("archivist"))
        assert page.status_code == 400 and says in page.text


def test_an_ordinary_query_still_runs(world: World) -> None:
    with world.app() as client:
        ok = client.get(
            "/api/records", params={"q": 'snöröjningen "Östra Långgatan" | biblio*'}, headers=world.headers("archivist")
        )
    assert ok.status_code == 200 and ok.json()["total"] >= 1


def test_page_size_is_bounded_below_the_api_too(world: World) -> None:
    with pytest.raises(SearchTooCostly, match="at most 1000"):
        search(world.arc.index, SearchQuery(size=5000))


def test_a_search_that_runs_out_of_time_is_a_one_line_503(world: World) -> None:
    tight = SearchLimits(timeout_seconds=0.000_001)
    with pytest.raises(SearchTimedOut) as caught:
        search(world.arc.index, SearchQuery(text="Snöröjningen"), limits=tight)
    assert caught.value.http_status == 503 and "\n" not in caught.value.one_line()
    assert "narrow" in caught.value.one_line()


def test_the_search_page_counts_facets_on_the_first_page_only(world: World) -> None:
    with world.app() as client:
        first = client.get("/api/records", params={"size": 1}, headers=world.headers("archivist")).json()
        assert first["next_cursor"] and first["facets"]
        page = client.get("/", params={"size": 1, "cursor": first["next_cursor"]}, headers=world.headers("archivist"))
        assert page.status_code == 200 and 'class="facet"' not in page.text
        assert "first page" in page.text
