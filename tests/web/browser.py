"""Headless Chromium for the web tests: Debian's /usr/bin/chromium driven by Playwright's sync API.

Playwright's own browser download is not used (`scripts/system-packages` installs Debian's chromium).
A `Tab` is one page in its own browser context (its own cookies), which records every request
it makes, every dialog that opens (none should) and the console messages, and knows the few
steps a user takes on the pages: sign in, sign out, search, read the result count and hits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, Playwright
from playwright.sync_api import Response as PageResponse

from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Playwright's wait for a page or an element: a hang guard, not a speed requirement. Every wait is
#: for a condition (navigation done, element there) and ends the moment it holds; a slow machine only
#: waits longer. Two minutes is far beyond any page of these tests on a loaded machine.
TIMEOUT_MS = 120_000
SESSION_COOKIE = "communis_session"


def launch(pw: Playwright) -> Browser:
    """Debian's Chromium, headless; a missing browser fails the tests (it is set up, not optional)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/system-packages (apt-get install -y chromium chromium-driver)",
            pytrace=False,
        )
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@dataclass
class Tab:
    """One page in a fresh browser context, with what it requested and what it showed."""

    base: str
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, base: str) -> Tab:
        context = browser.new_context(base_url=base, locale="sv-SE")
        context.set_default_timeout(TIMEOUT_MS)
        tab = cls(base, context, context.new_page())
        context.on("request", lambda request: tab.requests.append(request.url))
        tab.page.on("dialog", tab._dialog)
        tab.page.on("console", lambda message: tab.console.append(f"{message.type}: {message.text}"))
        return tab

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()

    # --- navigation ----------------------------------------------------------------------------

    def goto(self, path: str) -> PageResponse:
        response = self.page.goto(path)
        assert response is not None, f"no response for {path}"
        return response

    @property
    def path(self) -> str:
        """The current URL without the base (`/login?next=/`)."""
        url = self.page.url
        assert url.startswith(self.base), url
        return url[len(self.base) :]

    def submit(self, button: Locator) -> PageResponse | None:
        """Click a form's submit button and wait for the page it leads to."""
        with self.page.expect_navigation() as navigation:
            button.click()
        return navigation.value

    # --- signing in and out --------------------------------------------------------------------

    def sign_in(self, name: str, password: str = PASSWORD) -> PageResponse | None:
        if not self.page.url.startswith(f"{self.base}/login"):
            self.goto("/login")
        self.page.get_by_label("User name").fill(name)
        self.page.get_by_label("Password").fill(password)
        return self.submit(self.page.get_by_role("button", name="Sign in"))

    def sign_out(self) -> PageResponse | None:
        return self.submit(self.page.get_by_role("button", name="Sign out"))

    def session_cookies(self) -> list[str]:
        return [c["value"] for c in self.context.cookies() if c["name"] == SESSION_COOKIE]

    # --- search --------------------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Type into the search box of the current page and submit."""
        box = self.page.get_by_role("search").get_by_label("Search text")
        box.fill(text)
        self.submit(self.page.get_by_role("search").get_by_role("button", name="Search"))

    def total(self) -> int:
        return int(self.page.locator("#total").inner_text().strip())

    def hits(self) -> Locator:
        return self.page.locator("ol.hits > li.hit")

    def hit_ids(self) -> list[str]:
        ids: list[str] = self.hits().evaluate_all("hits => hits.map(hit => hit.dataset.record)")
        return ids

    def hit_meta(self) -> list[list[str]]:
        """Each hit's meta line split into its parts: platform, account, kind, published …"""
        return [
            [part.strip() for part in meta.split("·")] for meta in self.hits().locator("span.meta").all_inner_texts()
        ]
