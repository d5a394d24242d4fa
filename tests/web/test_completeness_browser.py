"""The completeness calendar in a real browser (headless Chromium): what a records manager notices.

The project injects no accessibility engine (no axe-core in its dependencies), so the browser checks
what the calendar promises itself: every status said in words (never the colour alone), a contrast of
at least 4.5:1 between each status's text and its background as the browser renders them, every month
reachable with the keyboard alone and its list opened with Enter, and on a narrow screen the same months
as a list under a heading per year.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.web.browser import Tab
from tests.web.conftest import CompletenessWorld

pytestmark = pytest.mark.integration

WORDS = re.compile(r"^(complete|gap of \d+|more in the archive|not knowable)$")
CLASS_OF = {"complete": "complete", "gap": "gap", "more": "surplus", "not": "unknowable"}


@pytest.fixture
def tab(chromium: Browser, completeness_served: CompletenessWorld) -> Iterator[Tab]:
    opened = Tab.open(chromium, completeness_served.served.url)
    yield opened
    opened.close()
    assert opened.dialogs == []


def _rgb(css: str) -> tuple[float, ...]:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return r, g, b


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two CSS `rgb(...)` colours."""
    a, b = sorted((_luminance(_rgb(fg)), _luminance(_rgb(bg))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _statuses(tab: Tab, selector: str) -> list[dict[str, str]]:
    """Each visible status badge under `selector`: its words (the sign left out), class and colours."""
    found: list[dict[str, str]] = tab.page.locator(f"{selector} .status").evaluate_all(
        """els => els.filter(el => el.offsetParent !== null).map(el => {
            const style = getComputedStyle(el);
            const sign = el.querySelector('.sign');
            return {
                words: el.innerText.replace(sign ? sign.innerText : '', '').trim(),
                cls: el.className,
                color: style.color,
                background: style.backgroundColor,
                sign_hidden: sign ? sign.getAttribute('aria-hidden') : 'none',
            };
        })"""
    )
    return found


def test_the_calendar_says_every_status_in_words_with_contrast_and_opens_a_month_by_keyboard(
    tab: Tab, completeness_served: CompletenessWorld
) -> None:
    w = completeness_served
    tab.goto(f"/completeness/{w.account}")
    assert tab.path == f"/login?next=/completeness/{w.account}"
    tab.sign_in("recordsmanager")
    assert tab.path == f"/completeness/{w.account}"
    assert tab.page.get_by_role("navigation").get_by_role("link", name="Completeness").is_visible()

    cells = _statuses(tab, "table.calendar td.month")
    assert len(cells) == 3  # the account's three months with posts
    legend = _statuses(tab, "#calendar-help")
    assert {s["cls"].split()[-1] for s in legend} == {"st-complete", "st-gap", "st-surplus", "st-unknowable"}
    for s in cells:
        assert WORDS.match(s["words"]), s  # the status in words, not the colour alone
        assert s["cls"].endswith("st-" + CLASS_OF[s["words"].split()[0]]), s
    for s in cells + legend + _statuses(tab, "#report-heading"):
        assert s["words"] and s["sign_hidden"] == "true", s
        assert contrast(s["color"], s["background"]) >= 4.5, s
    assert sorted(s["words"] for s in cells) == ["complete", "complete", "gap of 1"]
    headers = tab.page.locator("table.calendar thead th").all_inner_texts()
    assert headers[0] == "Year" and headers[1:] == [
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ]
    assert tab.page.locator("table.calendar tbody th[scope=row]").all_inner_texts() == ["2023", "2022"]

    target = f"/completeness/{w.account}/{w.month}"
    links = tab.page.locator("a").count()
    for _ in range(links + 2):  # Tab through the page until the gap month's link has the focus
        tab.page.keyboard.press("Tab")
        focused = tab.page.evaluate("document.activeElement.getAttribute('href')")
        if focused == target:
            break
    else:
        pytest.fail(f"{target} cannot be reached with the keyboard")
    outline = tab.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    assert tab.path == target
    heading = tab.page.get_by_role("heading", level=1).inner_text()
    assert heading.endswith("gap of 1") and w.month in heading
    row = tab.page.locator(f"tr[data-item='{w.post}']")
    assert row.get_by_role("link", name="Download the WARC record").is_visible()
    assert row.locator("td.published .count").inner_text() == "1" and row.locator("td.archived").inner_text() == "0"
    assert "re-read in run" in row.locator("td.done").inner_text()
    for s in _statuses(tab, "main"):
        assert contrast(s["color"], s["background"]) >= 4.5, s
    assert all(url.startswith(w.served.url) for url in tab.requests)  # nothing from elsewhere


def test_on_a_narrow_screen_the_months_are_a_list_under_a_heading_per_year(
    tab: Tab, completeness_served: CompletenessWorld
) -> None:
    w = completeness_served
    tab.page.set_viewport_size({"width": 360, "height": 800})
    tab.goto(f"/completeness/{w.unknowable}")
    tab.sign_in("archivist")
    assert tab.path == f"/completeness/{w.unknowable}"
    assert not tab.page.locator("table.calendar").is_visible()
    listed = tab.page.locator(".calendar-list")
    assert listed.is_visible() and listed.get_by_role("heading", level=3).count() >= 1
    items = _statuses(tab, ".calendar-list")
    assert items and {s["words"] for s in items} == {"not knowable"}
    first = listed.get_by_role("link").first.inner_text()
    assert re.match(r"^[A-Z][a-z]+ \d{4}: \? not knowable$", first), first  # the month named in the link itself
