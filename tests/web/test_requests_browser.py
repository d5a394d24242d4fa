"""Legal staff's pages in a real browser (headless Chromium): request cases and holds, no JavaScript.

A legal user opens a case with the form, runs it, sees the masking suggestions with their
context, is refused an export while they are pending, accepts them all with one ground,
exports, downloads and delivers the package and closes the case; the case list flags an
overdue case; holds are placed and released with forms; an archivist reads but cannot act.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from tests.harvesting import PNR
from tests.web.browser import Tab
from tests.web.conftest import Served

pytestmark = pytest.mark.integration

MARKER = "\u2588" * 5
EXPORT_MS = 600_000  # hang guard for the export's navigation (it reads, hashes and renders every record)


@pytest.fixture
def new_tab(chromium: Browser, legal_served: Served) -> Iterator[Callable[[str], Tab]]:
    """A signed-in page in a fresh context per user; fails the test if any page opened a dialog."""
    tabs: list[Tab] = []

    def make(user: str) -> Tab:
        tab = Tab.open(chromium, legal_served.url)
        tabs.append(tab)
        tab.goto("/login")
        tab.sign_in(user)
        assert tab.path == "/", f"{user} did not land on the search page but on {tab.path}"
        return tab

    yield make
    dialogs = [d for tab in tabs for d in tab.dialogs]
    foreign = [url for tab in tabs for url in tab.requests if not url.startswith(tab.base)]
    for tab in tabs:
        tab.close()
    assert not dialogs, f"a page opened a dialog: {dialogs}"
    assert not foreign, f"a page requested another origin: {foreign}"


def test_legal_user_takes_a_request_from_form_to_closed_case(new_tab: Callable[[str], Tab]) -> None:
    tab = new_tab("legal")
    page = tab.page
    assert page.get_by_role("link", name="Requests").is_visible()
    assert page.get_by_role("link", name="Holds").is_visible()
    tab.goto("/requests")
    page.get_by_label("Request as received").fill("Alla kommentarer om bygglovet för Solbacken")
    page.get_by_label("Diary number").fill("KS 2026/99")
    page.get_by_label("Search text").fill("bygglovet")
    response = tab.submit(page.get_by_role("button", name="Open case"))
    assert response is not None and response.ok
    match = re.fullmatch(r"/requests/(case-\d{8}-[0-9a-f]{6})\?done=created", tab.path)
    assert match, tab.path
    case_id = match.group(1)
    assert page.get_by_role("status").inner_text() == "The request case was opened."
    assert page.locator(".case-data").get_by_text("(anonymous)").is_visible()

    tab.submit(page.get_by_role("button", name="Run", exact=True))
    assert tab.path == f"/requests/{case_id}?done=run"
    assert page.locator("#record-counts").inner_text().startswith("2 records")
    assert page.locator("details.group summary").inner_text().split() == ["facebook", "·", "sv-facebook", "2"]
    pending = page.locator("tr.mask.pending")
    assert pending.count() >= 3
    assert PNR in page.locator("td.context mark.span").all_inner_texts()
    pnr_row = page.locator("tr.mask", has=page.locator("mark.span", has_text=PNR))
    context = pnr_row.locator("td.context").inner_text()
    assert len(context) <= len(PNR) + 2 * 41 + 80, "only the span's context is shown"
    preview = pnr_row.locator("td.preview").inner_text()
    assert MARKER in preview and PNR not in preview

    refused = tab.submit(page.get_by_role("button", name="Export package"))
    assert refused is not None and refused.status == 400
    alert = page.get_by_role("alert")
    assert "unreviewed" in alert.inner_text()
    assert page.locator("ul.packages").count() == 0

    page.locator("#all-ground").select_option("OSL 21:7")
    tab.submit(page.get_by_role("button", name="Accept all pending with this ground"))
    assert tab.path == f"/requests/{case_id}?done=decided"
    assert page.locator("#pending-count").inner_text() == "0"
    assert page.locator("tr.mask.pending").count() == 0
    assert all("OSL 21:7" in t for t in page.locator("tr.mask.accepted td.decision").all_inner_texts())

    with page.expect_navigation(timeout=EXPORT_MS):  # a production reads, hashes and renders every record
        page.get_by_role("button", name="Export package").click()
    assert tab.path == f"/requests/{case_id}?done=exported"
    link = page.get_by_role("link", name=f"{case_id}-1.zip")
    assert link.get_attribute("href") == f"/api/requests/{case_id}/packages/1.zip"
    download = page.request.get(f"/api/requests/{case_id}/packages/1.zip")
    assert download.status == 200 and download.headers["content-type"] == "application/zip"
    assert download.body()[:2] == b"PK"

    deliveries = page.locator(f'form[action="/requests/{case_id}/deliveries"]')
    deliveries.locator('select[name="package"]').select_option(f"{case_id}-1")
    deliveries.locator('input[name="note"]').fill("Skickat med e-post")
    tab.submit(page.get_by_role("button", name="Log delivery"))
    row = page.locator("table.deliveries tbody tr").first.inner_text()
    assert f"{case_id}-1" in row and "Skickat med e-post" in row and "legal" in row

    tab.submit(page.get_by_role("button", name="Close case"))
    assert page.locator("#status").inner_text().startswith("closed")
    assert page.get_by_role("button", name="Run").count() == 0
    assert page.get_by_role("link", name=f"{case_id}-1.zip").is_visible(), "a closed case keeps its packages"


def test_case_list_flags_an_overdue_case(new_tab: Callable[[str], Tab], legal_served: Served) -> None:
    with legal_served.client("legal") as legal:
        made = [
            legal.post("/api/requests", json={"searches": [{"q": "bygglovet"}], **extra}).json()["case"]["id"]
            for extra in ({"received_at": "2026-01-05T09:00:00+01:00", "requester": "Per <Persson>"}, {})
        ]
    old, fresh = made
    tab = new_tab("legal")
    tab.goto("/requests")
    late = tab.page.locator(f'tr[data-case="{old}"]')
    assert "overdue" in (late.get_attribute("class") or "")
    assert late.locator(".overdue-flag").inner_text() == "OVERDUE"
    assert late.locator(".requester").inner_text() == "Per <Persson>", "escaped, shown as typed"
    color = late.locator(".overdue-flag").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(164, 22, 26)", "the flag is red"
    on_time = tab.page.locator(f'tr[data-case="{fresh}"]')
    assert on_time.locator(".overdue-flag").count() == 0
    assert on_time.locator(".requester").inner_text() == "(anonymous)"


def test_holds_are_placed_and_released_with_forms(new_tab: Callable[[str], Tab], legal_served: Served) -> None:
    tab = new_tab("legal")
    page = tab.page
    tab.goto("/holds")
    page.get_by_label("Matter").fill("Överklagande skolskjuts")
    page.get_by_label("Search text").fill("skolskjutsar")
    tab.submit(page.get_by_role("button", name="Place hold"))
    assert tab.path == "/holds?done=placed"
    row = page.locator("tr.hold", has_text="Överklagande skolskjuts")
    assert row.locator("td.records").inner_text() == "1"
    hold_id = row.get_attribute("data-hold")
    assert hold_id and hold_id in (legal_served.latest("held").get("legal_holds") or [])

    tab.submit(row.get_by_role("button", name="Release"))
    assert tab.path == "/holds?done=released"
    row = page.locator(f'tr[data-hold="{hold_id}"]')
    assert "released" in (row.get_attribute("class") or "") and row.get_by_role("button").count() == 0
    legal_served.arc.index.es.indices.refresh(index=legal_served.arc.index.alias)
    assert hold_id not in (legal_served.latest("held").get("legal_holds") or [])

    page.get_by_label("Matter").fill("Allt")
    refused = tab.submit(page.get_by_role("button", name="Place hold"))
    assert refused is not None and refused.status == 400
    assert "scope" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Matter").input_value() == "Allt", "the form keeps what was typed"


def test_archivist_reads_cases_but_cannot_act(new_tab: Callable[[str], Tab], legal_served: Served) -> None:
    with legal_served.client("legal") as legal:
        case_id = legal.post("/api/requests", json={"searches": [{"q": "bygglovet"}]}).json()["case"]["id"]
        legal.post(f"/api/requests/{case_id}/run").raise_for_status()
    tab = new_tab("archivist")
    page = tab.page
    assert page.get_by_role("link", name="Requests").is_visible()
    assert page.get_by_role("link", name="Holds").count() == 0
    tab.goto("/requests")
    assert page.locator(f'tr[data-case="{case_id}"]').is_visible()
    assert page.get_by_role("button", name="Open case").count() == 0
    tab.goto(f"/requests/{case_id}")
    assert page.locator("#record-counts").inner_text().startswith("2 records")
    assert page.locator("form").filter(has=page.get_by_role("button")).count() == 1, "only Sign out"
    assert tab.goto("/holds").status == 403
    # The forms' targets refuse an archivist even when posted directly (same origin, so only the role stops it).
    cookies = {c["name"]: c["value"] for c in tab.context.cookies()}
    with httpx.Client(base_url=legal_served.url, cookies=cookies, headers={"Origin": legal_served.url}) as client:
        assert client.post(f"/requests/{case_id}/run").status_code == 403
        assert client.post("/holds", data={"matter": "x", "q": "bygglovet"}).status_code == 403
