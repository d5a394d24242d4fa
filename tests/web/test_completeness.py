"""Completeness in the web app and `/api/completeness`, over real HTTP on a harvested archive.

The world (`completeness_served`): a Mastodon account whose listing never shows one comment its post
counts, harvested three times (gap found and queued, re-read in vain, alarmed), and a LinkedIn account,
whose platform publishes no count. What a records manager sees: the calendar with the gap month in
words, its list with the post, the published and archived counts and the evidence, and what was done.
"""

from __future__ import annotations

import hashlib
import io
import json
from html.parser import HTMLParser
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.completeness.book import latest
from tests.web.conftest import CompletenessWorld

pytestmark = pytest.mark.integration

MANAGER = "records-manager"


class Cells(HTMLParser):
    """The elements of a page carrying `attr` (data-month, data-item, data-account): their text and links."""

    def __init__(self, attr: str) -> None:
        super().__init__()
        self.attr = attr
        self.found: dict[str, dict[str, Any]] = {}
        self._open: list[tuple[str, str]] = []  # (tag, key) of the cells being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        key = values.get(self.attr)
        if key is not None and key not in self.found:
            self.found[key] = {"text": "", "links": [], "class": values.get("class") or ""}
            self._open.append((tag, key))
        elif self._open and self._open[-1][0] == tag:
            self._open.append((tag, ""))  # the same tag nested: not the cell's end
        if tag == "a" and self._open:
            for _, k in self._open:
                if k:
                    self.found[k]["links"].append(values.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            if key:
                self.found[key]["text"] += data

    @classmethod
    def of(cls, html: str, attr: str) -> dict[str, dict[str, Any]]:
        parser = cls(attr)
        parser.feed(html)
        for cell in parser.found.values():
            cell["text"] = " ".join(cell["text"].split())
        return parser.found


def _table_cells(html: str) -> dict[str, dict[str, Any]]:
    """The calendar table's month cells (the narrow-screen list repeats them after the table)."""
    return Cells.of(html.split('<div class="calendar-list">')[0], "data-month")


# --- the calendar ----------------------------------------------------------------------------------


def test_the_calendar_shows_the_gap_month_in_words_and_links_to_its_list(
    completeness_served: CompletenessWorld,
) -> None:
    w = completeness_served
    with w.served.client(MANAGER) as client:
        page = client.get(f"/completeness/{w.account}")
        api = client.get(f"/api/completeness/{w.account}").json()
    assert page.status_code == 200
    months = {m["month"]: m for m in api["months"]}
    assert months[w.month]["status"] == "gap" and months[w.month]["text"] == "gap of 1"
    others = [m for m in months.values() if m["month"] != w.month]
    assert others and all(m["status"] == "complete" for m in others)

    cells = _table_cells(page.text)
    gap = cells[w.month]
    assert "gap of 1" in gap["text"] and "st-gap" in gap["class"]
    assert gap["links"] == [f"/completeness/{w.account}/{w.month}"]
    for m in others:
        assert "complete" in cells[m["month"]]["text"] and cells[m["month"]]["links"]
    empty = [c for c in cells.values() if not c["links"]]
    assert empty and all(c["text"] == "no posts" for c in empty)  # a month without posts says so too
    assert len(cells) % 12 == 0  # whole years: one row each, twelve month columns
    assert '<th scope="row">2022</th>' in page.text and '<abbr title="August">Aug</abbr>' in page.text
    listed = Cells.of(page.text.split('<div class="calendar-list">')[1], "data-month")
    assert "August 2022: ! gap of 1" in listed[w.month]["text"]  # the narrow screen's list says the month


def test_a_platform_without_counts_is_not_knowable_in_every_month(completeness_served: CompletenessWorld) -> None:
    w = completeness_served
    with w.served.client(MANAGER) as client:
        api = client.get(f"/api/completeness/{w.unknowable}").json()
        page = client.get(f"/completeness/{w.unknowable}")
    assert api["account"]["status"] == "unknowable" and api["account"]["text"] == "not knowable"
    assert api["months"] and {m["text"] for m in api["months"]} == {"not knowable"}
    shown = [c for c in _table_cells(page.text).values() if c["links"]]
    assert len(shown) == len(api["months"]) and all("not knowable" in c["text"] for c in shown)
    assert "comments per post: not published" in page.text


def test_the_accounts_page_lists_each_latest_report(completeness_served: CompletenessWorld) -> None:
    w = completeness_served
    with w.served.client(MANAGER) as client:
        api = client.get("/api/completeness").json()
        page = client.get("/completeness")
    by_account = {a["account"]: a for a in api["accounts"]}
    mastodon = by_account[w.account]
    assert mastodon["status"] == "gap" and mastodon["made_by"] == f"harvest run {w.runs[1]}"
    assert mastodon["report_key"].startswith(f"completeness/{w.account}/")
    stored = latest(w.served.arc.store, w.account)  # what the page shows is the kept report's, as it is
    assert stored is not None and stored.key == mastodon["report_key"]
    (posts,) = mastodon["totals"]
    (total,) = stored.totals
    assert (posts["what"], posts["status"], posts["published"], posts["archived"]) == (
        "posts",
        total.status.value,
        3,
        total.archived,
    )
    assert mastodon["head"]["alarmed"] is True and mastodon["head"]["gap_runs"] == 3
    assert by_account[w.unknowable]["text"] == "not knowable"
    assert by_account["sundsvik-blogg"]["reported"] is False  # in the accounts file, never compared
    rows = Cells.of(page.text, "data-account")
    assert "gap of 1" in rows[w.account]["text"] and "Alarmed" in rows[w.account]["text"]
    assert f"/completeness/{w.account}" in rows[w.account]["links"]
    assert posts["evidence"]["download"] in rows[w.account]["links"]
    assert "no report yet" in rows["sundsvik-blogg"]["text"] and not rows["sundsvik-blogg"]["links"]


# --- a month's list --------------------------------------------------------------------------------


def _latest_record(w: CompletenessWorld, item_id: str) -> str | None:
    hits = w.served.arc.index.es.search(
        index=w.served.arc.index.alias,
        query={"bool": {"filter": [{"term": {"item_id": item_id}}, {"term": {"is_latest": True}}]}},
    )["hits"]["hits"]
    return str(hits[0]["_source"]["record_id"]) if hits else None


def _payload(warc: bytes) -> Any:
    record = next(iter(ArchiveIterator(io.BytesIO(warc))))
    assert record.rec_type == "response"
    return json.loads(record.content_stream().read())


def test_the_month_lists_the_gap_post_with_its_counts_evidence_and_what_was_done(
    completeness_served: CompletenessWorld,
) -> None:
    w = completeness_served
    record_id = _latest_record(w, w.post)
    assert record_id is not None and _latest_record(w, w.reply) is None  # the comment never reached the archive
    with w.served.client(MANAGER) as client:
        api = client.get(f"/api/completeness/{w.account}/{w.month}").json()
        page = client.get(f"/completeness/{w.account}/{w.month}")
        (item,) = api["items"]
        warc = client.get(item["evidence"]["download"])
    assert (item["item_id"], item["status"], item["published"], item["archived"]) == (w.post, "gap", 1, 0)
    assert item["post"]["record_id"] == record_id and item["post"]["kind"] == "post"
    evidence = item["evidence"]
    assert evidence["filename"].startswith(f"{w.account}-") and evidence["captured_at"]
    assert warc.status_code == 200 and warc.headers["content-type"] == "application/warc"
    assert hashlib.sha256(warc.content).hexdigest() == evidence["sha256"] == warc.headers["x-communis-sha256"]
    shown = {s["id"]: s for s in _payload(warc.content)}  # the listing page that showed the count
    assert shown[w.post]["replies_count"] == 1
    assert [d["step"] for d in item["done"]] == ["reread", "queued", "alarmed"]
    assert item["done"][0]["text"] == f"re-read in run {w.runs[1]}: still 1 short"
    assert item["done"][2]["text"] == "alarmed after 3 runs in a row with a gap"

    assert page.status_code == 200
    row = Cells.of(page.text, "data-item")[w.post]
    assert f"/records/{record_id}" in row["links"] and evidence["download"] in row["links"]
    assert "gap of 1" in row["text"] and evidence["sha256"] in row["text"] and evidence["filename"] in row["text"]
    assert f"re-read in run {w.runs[1]}" in row["text"] and "backfill queued" in row["text"]
    assert "Published count" in page.text and "Archived" in page.text


def test_the_totals_evidence_is_the_profile_response_that_showed_it(completeness_served: CompletenessWorld) -> None:
    w = completeness_served
    with w.served.client("archivist") as client:
        (posts,) = client.get(f"/api/completeness/{w.account}").json()["account"]["totals"]
        warc = client.get(posts["evidence"]["download"])
    assert warc.status_code == 200 and hashlib.sha256(warc.content).hexdigest() == posts["evidence"]["sha256"]
    assert _payload(warc.content)["statuses_count"] == 3


def test_what_is_not_in_a_report_is_404_and_a_bad_month_422(completeness_served: CompletenessWorld) -> None:
    w = completeness_served
    with w.served.client(MANAGER) as client:
        assert client.get("/api/completeness/no-such-account").status_code == 404
        assert client.get(f"/api/completeness/{w.account}/1999-01").status_code == 404
        assert client.get(f"/api/completeness/{w.account}/{w.month}/warc", params={"item": "nope"}).status_code == 404
        assert client.get(f"/api/completeness/{w.unknowable}/totals/warc", params={"what": "posts"}).status_code == 404
        bad = client.get(f"/api/completeness/{w.account}/2022-13")
        page = client.get("/completeness/no-such-account")
    assert bad.status_code == 422 and "month" in bad.json()["detail"]
    assert page.status_code == 404 and "no completeness report for account no-such-account" in page.text


# --- who may see it, and the audit trail ------------------------------------------------------------


def test_read_only_users_are_refused_and_the_refusal_is_audited(completeness_served: CompletenessWorld) -> None:
    w = completeness_served
    paths = [
        "/api/completeness",
        f"/api/completeness/{w.account}",
        f"/api/completeness/{w.account}/{w.month}",
        f"/api/completeness/{w.account}/{w.month}/warc?item={w.post}",
        f"/api/completeness/{w.account}/totals/warc?what=posts",
        "/completeness",
        f"/completeness/{w.account}",
        f"/completeness/{w.account}/{w.month}",
    ]
    with w.served.client("read-only") as client:
        statuses = {p: client.get(p).status_code for p in paths}
        search = client.get("/")
    assert set(statuses.values()) == {403}, statuses
    assert 'href="/completeness"' not in search.text  # nor is it in the navigation
    denied = w.served.audit_events(action="completeness", outcome="denied", user="readonly")
    assert {e["target"] for e in denied} >= {"/api/completeness", f"/completeness/{w.account}/{w.month}"}
    with w.served.client("archivist") as client:
        assert 'href="/completeness"' in client.get("/").text


def test_without_credentials_the_api_is_401_and_the_pages_ask_to_sign_in(
    completeness_served: CompletenessWorld,
) -> None:
    w = completeness_served
    with w.served.client(None) as anon:
        api = anon.get(f"/api/completeness/{w.account}/{w.month}")
        page = anon.get(f"/completeness/{w.account}/{w.month}")
        evidence = anon.get(f"/api/completeness/{w.account}/{w.month}/warc", params={"item": w.post})
    assert api.status_code == 401 and evidence.status_code == 401
    assert api.headers["www-authenticate"].startswith("Bearer")
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=/completeness/{w.account}/{w.month}"


def test_the_pages_audit_what_they_show_and_name_every_post(completeness_served: CompletenessWorld) -> None:
    w = completeness_served
    record_id = _latest_record(w, w.post)
    assert record_id is not None
    with w.served.client("legal") as client:
        assert client.get(f"/completeness/{w.account}/{w.month}").status_code == 200
        assert client.get(f"/api/completeness/{w.account}/{w.month}/warc", params={"item": w.post}).status_code == 200
        assert client.get(f"/completeness/{w.account}").status_code == 200
    read = {e["target"] for e in w.served.audit_events(action="completeness", outcome="ok", user="legal")}
    assert {f"completeness of {w.account}", f"completeness of {w.account} {w.month}"} <= read
    (named,) = w.served.audit_events(action="view", target=record_id, user="legal")
    assert named["note"] == f"completeness of {w.account} {w.month}"
    (given,) = w.served.audit_events(action="warc", user="legal")
    assert given["target"] == f"completeness evidence of {w.account} {w.month} {w.post}"
    assert given["note"].startswith(f"{w.account}-")
