"""The HTTP API against the real services, through real HTTP: what a records system user notices."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import warcio_check
from tests.web.conftest import EDIT_AFTER, EDIT_BEFORE, GONE_TEXT, Served

pytestmark = pytest.mark.integration


# --- authentication and roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/records",
        "/api/records/x",
        "/api/records/x/warc",
        "/api/items/x/versions",
        "/api/records/export",
        "/api/audit",
        "/openapi.json",
        "/api/accounts/a/timeline",
        "/api/completeness",
        "/api/completeness/a",
        "/api/completeness/a/2026-11",
        "/api/completeness/a/2026-11/warc?item=x",
    ],
)
def test_every_api_route_needs_a_token(served: Served, path: str) -> None:
    with served.client(None) as anon:
        missing = anon.get(path)
        wrong = anon.get(path, headers={"Authorization": "Bearer not-a-token"})
        basic = anon.get(path, headers={"Authorization": "Basic YTpi"})
    for response in (missing, wrong, basic):
        assert response.status_code == 401, (path, response.status_code)
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_pages_redirect_to_sign_in_without_credentials(served: Served) -> None:
    with served.client(None) as anon:
        page = anon.get("/records/anything")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_refused_tokens_are_audited_with_the_client_address(served: Served) -> None:
    with served.client(None) as anon:
        anon.get("/api/records", params={"q": "audit-probe"}, headers={"Authorization": "Bearer wrong-token-xyz"})
    denied = served.audit_events(action="login", outcome="denied", target="/api/records")
    assert denied and denied[0]["client"] == "127.0.0.1" and denied[0]["user"] is None
    assert all("wrong-token-xyz" not in json.dumps(e) for e in served.audit_events())


def test_roles_decide_what_is_allowed(served: Served) -> None:
    record_id = served.latest("edited")["record_id"]
    item = served.items["edited"]
    expected = {
        "read-only": {"search": 200, "view": 200, "warc": 403, "versions": 403, "export": 403, "audit": 403},
        "archivist": {"search": 200, "view": 200, "warc": 200, "versions": 200, "export": 200, "audit": 403},
        "legal": {"search": 200, "view": 200, "warc": 200, "versions": 200, "export": 200, "audit": 403},
        "admin": {"search": 200, "view": 200, "warc": 200, "versions": 200, "export": 200, "audit": 200},
    }
    paths = {
        "search": "/api/records",
        "view": f"/api/records/{record_id}",
        "warc": f"/api/records/{record_id}/warc",
        "versions": f"/api/items/{item}/versions",
        "export": "/api/records/export?q=simhallen",
        "audit": "/api/audit",
    }
    for role, statuses in expected.items():
        with served.client(role) as client:
            got = {name: client.get(path).status_code for name, path in paths.items()}
        assert got == statuses, role
    refused = served.audit_events(user="readonly", outcome="denied", action="warc")
    assert refused and refused[0]["target"] == f"/api/records/{record_id}/warc"


def test_read_only_sees_only_what_is_public_now(served: Served) -> None:
    gone = served.latest("gone")
    with served.client("read-only") as ro, served.client("archivist") as arch:
        assert ro.get(f"/api/records/{gone['record_id']}").status_code == 404
        assert arch.get(f"/api/records/{gone['record_id']}").status_code == 200
        public = ro.get("/api/records", params={"q": "sophämtningen Norrby"}).json()
        everything = arch.get("/api/records", params={"q": "sophämtningen Norrby"}).json()
        old_versions = ro.get("/api/records", params={"q": "simhallen", "size": 50}).json()
    assert public["total"] == 0 and everything["total"] >= 1
    assert {h["record"]["version"] for h in old_versions["hits"]} == {2}


def test_the_accounts_moderation_lists_are_for_archivists_not_the_public(served: Served) -> None:
    """The Facebook Page's block list (a record of kind `moderation`): found by kind for archivists, its page
    shown; a read-only user neither finds it nor opens it (404, as for anything not public)."""
    with served.client("read-only") as ro, served.client("archivist") as arch:
        found = arch.get("/api/records", params={"kind": "moderation", "platform": "facebook"}).json()
        assert found["total"] == 1 and found["hits"][0]["record"]["item_id"] == "blocks"
        record_id = found["hits"][0]["record"]["record_id"]
        assert arch.get(f"/records/{record_id}").status_code == 200
        assert ro.get("/api/records", params={"kind": "moderation"}).json()["total"] == 0
        assert ro.get(f"/api/records/{record_id}").status_code == 404
        assert ro.get(f"/records/{record_id}").status_code == 404
        assert 'value="moderation"' in arch.get("/").text  # the search form offers the kind


# --- search ------------------------------------------------------------------------------------


def test_search_finds_swedish_text_with_highlights_and_facets(served: Served) -> None:
    with served.client() as client:
        found = client.get("/api/records", params={"q": "simhallen lördag"}).json()
    assert found["total"] == 2  # both versions of the edited post
    texts = {h["record"]["text"] for h in found["hits"]}
    assert texts == {EDIT_BEFORE, EDIT_AFTER}
    assert all("[[Simhallen]]" in " ".join(h["highlight"]) for h in found["hits"])
    assert found["facets"]["platform"] == {"facebook": 2} and found["facets"]["edited"]["true"] == 1


def test_filters_narrow_the_hits(served: Served) -> None:
    with served.client() as client:

        def total(**params: Any) -> int:
            response = client.get("/api/records", params=params)
            assert response.status_code == 200, response.text
            return int(response.json()["total"])

        everything = total()
        facebook = total(platform="facebook")
        assert 0 < facebook < everything and total(platform="mastodon") == everything - facebook
        assert total(platform="facebook", deleted="true") == 1
        assert total(platform="facebook", kind="reply") + total(platform="facebook", kind="comment") >= 2
        assert total(q="Norrbybron", has_media="true") == 1 and total(q="Norrbybron", has_media="false") == 0
        assert total(platform="facebook", edited="true") == 1
        assert total(platform="facebook", latest="true") == facebook - 2  # an edit and a deletion add versions
        assert total(department="Kommunstyrelsen") == everything
        assert total(retention_class="social-10y") == everything and total(retention_class="nope") == 0
        assert total(on_hold="true") == 0 and total(on_hold="false") == everything
        assert total(published_from="1990-01-01", published_to="1990-12-31") == 0
        assert total(captured_from="2000-01-01") == everything


def test_cursor_pages_every_hit_once(served: Served) -> None:
    with served.client() as client:
        total = client.get("/api/records", params={"size": 1}).json()["total"]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"size": 3, "sort": "oldest"}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/records", params=params).json()
            seen += [h["record_id"] for h in page["hits"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        bad = client.get("/api/records", params={"cursor": "garbage"})
    assert len(seen) == len(set(seen)) == total
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]


def test_bad_parameters_get_a_one_line_422(served: Served) -> None:
    with served.client() as client:
        response = client.get("/api/records", params={"platform": "myspace"})
        typo = client.get("/api/records", params={"plattform": "facebook"})
    assert response.status_code == 422 and response.json()["detail"].startswith("platform:")
    assert typo.status_code == 422


# --- records, WARC bytes, media, versions ------------------------------------------------------


def test_record_has_provenance_and_the_warc_bytes_hash_to_it(served: Served, tmp_path: Path) -> None:
    doc = served.latest("edited")
    with served.client() as client:
        view = client.get(f"/api/records/{doc['record_id']}").json()
        warc = client.get(f"/api/records/{doc['record_id']}/warc")
    prov = view["provenance"]
    assert prov["sha256"] == hashlib.sha256(warc.content).hexdigest() == warc.headers["x-communis-sha256"]
    assert prov["length"] == len(warc.content) and prov["warc_key"].endswith(prov["warc_file"])
    assert prov["retain_until"] and prov["retention_class"] == "social-10y" and prov["location"]
    assert warc.headers["content-type"] == "application/warc"
    (tmp_path / "r.warc.gz").write_bytes(warc.content)
    assert warcio_check(tmp_path / "r.warc.gz").returncode == 0
    record = next(iter(ArchiveIterator(io.BytesIO(warc.content))))
    assert record.rec_headers.get_header("WARC-Record-ID") == prov["warc_record_id"]
    assert "raw" not in view["record"]


def test_verify_rereads_the_stored_bytes(served: Served) -> None:
    doc = served.latest("pictured")
    with served.client() as client:
        result = client.post(f"/api/records/{doc['record_id']}/verify").json()
    assert result["ok"] is True and result["sha256"] == doc["warc"]["sha256"]
    assert served.audit_events(action="verify", target=doc["record_id"], user="archivist")


def test_media_comes_from_the_archive_with_its_recorded_digest(served: Served) -> None:
    doc = served.latest("pictured")
    assert len(doc["media"]) == 2
    with served.client() as client:
        for n, ref in enumerate(doc["media"]):
            got = client.get(f"/api/records/{doc['record_id']}/media/{n}")
            assert got.status_code == 200
            assert hashlib.sha256(got.content).hexdigest() == ref["sha256"]
            assert got.headers["content-type"].startswith("image/")
            assert got.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in got.headers["content-security-policy"]
        assert client.get(f"/api/records/{doc['record_id']}/media/9").status_code == 404


def test_versions_in_order_with_diff_and_tombstone(served: Served) -> None:
    with served.client() as client:
        edited = client.get(f"/api/items/{served.items['edited']}/versions").json()
        gone = client.get(f"/api/items/{served.items['gone']}/versions").json()
        missing = client.get("/api/items/facebook:nobody:1/versions")
    assert [v["record"]["version"] for v in edited] == [1, 2]
    assert [v["record"]["text"] for v in edited] == [EDIT_BEFORE, EDIT_AFTER]
    ops = {(p["op"], p["text"].strip()) for p in edited[1]["diff"]}
    assert ("removed", "åtta") in ops and ("added", "nio") in ops and "text" in edited[1]["changed"]
    assert gone[0]["record"]["text"] == GONE_TEXT and gone[-1]["record"]["deleted"] is True
    assert gone[-1]["deleted_at"] == gone[-1]["record"]["captured_at"]
    assert gone[-1]["last_seen_at"] and gone[-1]["last_seen_at"] < gone[-1]["deleted_at"]
    assert missing.status_code == 404


def test_account_timeline_counts_items(served: Served) -> None:
    with served.client() as client:
        buckets = client.get("/api/accounts/sv-facebook/timeline", params={"interval": "day"}).json()
    published = {"bool": {"must_not": [{"term": {"kind": "moderation"}}]}}  # a block list is published by nobody
    latest = served.arc.index.count(
        {"bool": {"filter": [{"term": {"account": "sv-facebook"}}, {"term": {"is_latest": True}}, published]}}
    )
    assert sum(sum(b["counts"].values()) for b in buckets) == latest
    assert [b["start"] for b in buckets] == sorted(b["start"] for b in buckets)


# --- export ------------------------------------------------------------------------------------


def test_csv_export_holds_every_hit_with_its_digest(served: Served) -> None:
    with served.client() as client:
        total = client.get("/api/records", params={"platform": "facebook"}).json()["total"]
        export = client.get("/api/records/export", params={"platform": "facebook", "format": "csv"})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == total
    hostile = served.latest("hostile")
    row = next(r for r in rows if r["record_id"] == hostile["record_id"])
    assert row["warc.sha256"] == hostile["warc"]["sha256"] and row["text"] == hostile["text"]
    assert served.audit_events(action="export", user="archivist")


def test_jsonl_export_round_trips_documents(served: Served) -> None:
    with served.client() as client:
        export = client.get("/api/records/export", params={"q": "simhallen", "format": "jsonl"})
    docs = [json.loads(line) for line in export.text.splitlines()]
    assert {d["text"] for d in docs} == {EDIT_BEFORE, EDIT_AFTER}


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    from archive.browse.export import _cell

    assert _cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")' and _cell("plain") == "plain"


# --- audit, description, hostile content -------------------------------------------------------


def test_searches_views_and_downloads_are_audited_with_who_what_and_where(served: Served) -> None:
    doc = served.latest("comment")
    with served.client("legal") as client:
        client.get("/api/records", params={"q": "söndag", "kind": "comment"})
        client.get(f"/api/records/{doc['record_id']}")
        client.get(f"/api/records/{doc['record_id']}/warc")
    searches = served.audit_events(user="legal", action="search")
    assert any("q=s%C3%B6ndag" in e["target"] and "kind=comment" in e["target"] for e in searches)
    assert served.audit_events(user="legal", action="view", target=doc["record_id"])
    warc = served.audit_events(user="legal", action="warc", target=doc["record_id"])
    assert warc and warc[0]["client"] == "127.0.0.1" and warc[0]["role"] == "legal"


def test_audit_reading_is_itself_audited(served: Served) -> None:
    served.audit_events()
    assert served.audit_events(user="admin", action="audit.read")


def test_openapi_describes_the_api(served: Served) -> None:
    with served.client("read-only") as client:
        spec = client.get("/openapi.json").json()
    assert {
        "/api/records",
        "/api/records/{record_id}",
        "/api/records/{record_id}/warc",
        "/api/items/{item_key}/versions",
    } <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    params = {p["name"] for p in spec["paths"]["/api/records"]["get"]["parameters"]}
    assert {"q", "platform", "on_hold", "retention_class", "cursor"} <= params


def test_hostile_post_is_escaped_in_the_page(served: Served) -> None:
    doc = served.latest("hostile")
    with served.client() as client:
        page = client.get(f"/records/{doc['record_id']}")
    assert page.status_code == 200
    html = page.text
    assert "<script>document.title" not in html and "&lt;script&gt;document.title" in html
    assert 'onerror="document' not in html and 'href="javascript:' not in html
    assert '<a href="https://sundsvik.example/info"' in html
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers scripts
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_serve_command_is_on_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "archive", "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--host" in out and "--port" in out
