"""The archivists' pages in a real browser (headless Chromium) over real HTTP: what a user notices.

Every test gets fresh browser contexts (no cookies carried over) from one browser for the
whole session, against the harvested archive that `served` serves. The sign-in tests use the
form; the others start signed in: each user's session cookie is made once, by signing in with
the form, and put into the test's fresh context (scrypt makes every sign-in take a second).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.web.browser import Tab
from tests.web.conftest import EDIT_AFTER, EDIT_BEFORE, GONE_TEXT, HOSTILE_TEXT, Served

pytestmark = pytest.mark.integration

AsUser = Callable[[Tab, str], Tab]
WHEN = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"


@pytest.fixture
def new_tab(chromium: Browser, served: Served) -> Iterator[Callable[[], Tab]]:
    """Opens a page in a fresh context (its own cookies); all are closed after the test."""
    tabs: list[Tab] = []

    def make() -> Tab:
        tabs.append(Tab.open(chromium, served.url))
        return tabs[-1]

    yield make
    dialogs = [d for tab in tabs for d in tab.dialogs]
    for tab in tabs:
        tab.close()
    if dialogs:
        pytest.fail(f"a page opened a dialog: {dialogs}", pytrace=False)


@pytest.fixture
def tab(new_tab: Callable[[], Tab]) -> Tab:
    return new_tab()


@pytest.fixture(scope="session")
def sessions(chromium: Browser, served: Served) -> Callable[[str], list[Any]]:
    """A user's session cookie, made once per session by signing in with the form (scrypt is slow)."""
    made: dict[str, list[Any]] = {}

    def cookies(name: str) -> list[Any]:
        if name not in made:
            tab = Tab.open(chromium, served.url)
            try:
                tab.goto("/login")
                tab.sign_in(name)
                assert tab.path == "/", f"{name} did not land on the search page but on {tab.path}"
                made[name] = tab.context.cookies()
            finally:
                tab.close()
        return made[name]

    return cookies


@pytest.fixture
def as_user(sessions: Callable[[str], list[Any]]) -> AsUser:
    """Puts a signed-in session of a user into a tab's (fresh) context."""

    def enter(tab: Tab, name: str) -> Tab:
        tab.context.add_cookies(sessions(name))
        return tab

    return enter


def versions(served: Served, name: str) -> list[dict[str, Any]]:
    """Every index document of a named item, oldest first."""
    hits = served.arc.index.es.search(
        index=served.arc.index.alias,
        size=100,
        sort=[{"captured_at": "asc"}],
        query={"term": {"item_key": served.items[name]}},
    )["hits"]["hits"]
    return [dict(h["_source"]) for h in hits]


def audit_rows(tab: Tab) -> list[list[str]]:
    """The audit table's rows as cell texts (one round trip: the table holds up to 200 rows)."""
    rows: list[list[str]] = tab.page.locator("table.audit tbody tr").evaluate_all(
        "rows => rows.map(row => Array.from(row.cells, cell => cell.innerText.trim()))"
    )
    return rows


# --- signing in and out ------------------------------------------------------------------------


def test_sign_in_wrong_password_and_sign_out(tab: Tab) -> None:
    page = tab.page
    tab.goto("/")
    assert tab.path == "/login?next=/", "an anonymous visit to / must end on the sign-in form"
    assert page.get_by_role("heading", name="Sign in").is_visible()

    response = tab.sign_in("archivist", "not the password")
    assert response is not None and response.status == 401
    assert tab.path.startswith("/login")
    alert = page.get_by_role("alert")
    assert alert.is_visible() and alert.inner_text().strip(), "a wrong password must say so"
    assert tab.session_cookies() == [], "a wrong password must not start a session"

    tab.sign_in("archivist")
    assert tab.path == "/", "signing in lands on the search page"
    assert page.get_by_role("search").get_by_label("Search text").is_visible()
    assert page.locator("header .user").inner_text() == "archivist (archivist)"
    [secret] = tab.session_cookies()
    [cookie] = [c for c in tab.context.cookies() if c["value"] == secret]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    response = tab.sign_out()
    assert response is not None and response.status == 200 and tab.path == "/login", (
        f"Sign out answered {response and response.status} at {tab.path}: {tab.page.locator('main').inner_text()}"
    )
    assert tab.session_cookies() == []
    tab.goto("/")
    assert tab.path == "/login?next=/", "after signing out, / asks to sign in again"

    # The old session secret is dead on the server too, not only gone from the browser.
    # Every key of a Cookie is one of SetCookieParam's; mypy's strict ** check asks for its optional "url" too.
    tab.context.add_cookies([{**cookie, "value": secret}])  # type: ignore[typeddict-item]
    tab.goto("/")
    assert tab.path == "/login?next=/", "a signed-out session cookie must not be accepted again"


def test_sign_in_returns_to_the_page_asked_for(tab: Tab, served: Served) -> None:
    record_id = served.latest("edited")["record_id"]
    tab.goto(f"/records/{record_id}")
    assert tab.path == f"/login?next=/records/{record_id}"
    tab.sign_in("archivist")
    assert tab.path == f"/records/{record_id}"


def test_sign_in_keeps_the_search_asked_for(tab: Tab) -> None:
    """A shared search link opened before signing in shows that search afterwards, not an empty one."""
    tab.goto("/?q=Simhallen&kind=post")
    assert tab.path.startswith("/login?next=")
    tab.sign_in("archivist")
    assert tab.path == "/?q=Simhallen&kind=post", f"the search's parameters were lost on the way: {tab.path}"


# --- search ------------------------------------------------------------------------------------


def test_search_shows_count_and_highlighted_match(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    tab.goto("/")
    tab.search("Simhallen öppnar")
    page = tab.page
    assert page.title() == "Simhallen öppnar · Communis"
    assert page.get_by_role("search").get_by_label("Search text").input_value() == "Simhallen öppnar"
    assert tab.total() == 2 == tab.hits().count(), "both versions of the edited post match"
    hit = page.locator(f'li.hit[data-record="{served.latest("edited")["record_id"]}"]')
    assert hit.count() == 1, "the edited post's newest version is among the hits"
    marks = [m.lower() for m in hit.locator("p.snippet mark").all_inner_texts()]
    assert "simhallen" in marks and "öppnar" in marks, marks
    assert "edited" in hit.locator("span.meta").inner_text()
    assert EDIT_AFTER.split(",")[0] in hit.locator("p.snippet").first.inner_text()

    tab.submit(hit.locator("a.hit-title"))
    assert tab.path == f"/records/{served.latest('edited')['record_id']}"
    assert page.locator("section.post > article.card .text").inner_text() == EDIT_AFTER


def test_facet_link_narrows_results(tab: Tab, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    tab.goto("/")
    everything = tab.total()
    facet = tab.page.locator('section.facet[data-facet="platform"] li').filter(
        has=tab.page.get_by_role("link", name="facebook", exact=True)
    )
    shown = int(facet.locator(".count").inner_text())
    assert 0 < shown < everything

    tab.submit(facet.get_by_role("link"))
    assert "platform=facebook" in tab.path
    assert tab.total() == shown, "the facet's count is the number of results it leads to"
    meta = tab.hit_meta()
    assert meta and all(m[0] == "facebook" for m in meta), meta
    assert tab.page.locator('select[name="platform"]').input_value() == "facebook"
    assert tab.page.locator("form.search details").get_attribute("open") is not None, "filters in use are shown"


def test_filter_form_narrows_results(tab: Tab, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    tab.goto("/")
    everything = tab.total()
    page = tab.page
    filters = page.locator("form.search details")
    assert filters.get_attribute("open") is None
    filters.locator("summary", has_text="Filters").click()
    page.get_by_label("Kind").select_option("comment")
    tab.submit(page.get_by_role("search").get_by_role("button", name="Search"))

    assert "kind=comment" in tab.path
    total = tab.total()
    assert 0 < total < everything
    meta = tab.hit_meta()
    assert len(meta) == min(total, 20) and all(m[2] == "comment" for m in meta), meta
    assert page.get_by_label("Kind").input_value() == "comment", "the form keeps the chosen filter"


def test_next_page_walks_all_hits(tab: Tab, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    tab.goto("/?platform=facebook&kind=comment&size=2")
    total = tab.total()
    assert total > 4  # an even count (8 in this world) also checks that a full last page offers no "Next page"
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        ids = tab.hit_ids()
        assert len(ids) == (2 if len(seen) + 2 <= total else total - len(seen)), (pages, ids)
        assert tab.total() == total, "the count stays the same on every page"
        seen += ids
        following = tab.page.get_by_role("link", name="Next page →")
        if following.count() == 0:
            break
        assert len(seen) < total, f"page {pages} shows the last of {total} hits but still offers 'Next page'"
        assert pages < total, "paging does not end"
        tab.submit(following)
        assert all(p in tab.path for p in ("size=2", "kind=comment", "platform=facebook")), tab.path
    assert len(seen) == len(set(seen)) == total, "every hit shown once, none skipped"
    assert pages == (total + 1) // 2


# --- reading a record --------------------------------------------------------------------------


def test_thread_shows_reply_nested_in_comment(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    tab.goto(f"/items/{served.items['edited']}")
    post, comment, reply = served.latest("edited"), served.latest("comment"), served.latest("reply")
    assert tab.path == f"/records/{post['record_id']}", "an item link opens its newest version"
    thread = tab.page.get_by_role("region", name="Thread")
    assert thread.get_by_role("heading").first.inner_text().startswith("Comments (2")

    nested = thread.locator(
        f'ul.tree > li:has(> article[data-record="{comment["record_id"]}"]) > ul.replies > li '
        f'> article[data-record="{reply["record_id"]}"]'
    )
    assert nested.count() == 1, "the reply is shown inside its comment's replies"
    top = thread.locator(f'ul.tree > li > article[data-record="{comment["record_id"]}"]')
    for card, doc in ((top, comment), (nested, reply)):
        assert card.locator(".text").inner_text() == doc["text"]
        assert card.locator("header .author").inner_text() == doc["author"]["name"]
    assert thread.locator(f'ul.tree > li > article[data-record="{reply["record_id"]}"]').count() == 0


def test_versions_show_the_edit_as_a_diff(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    tab.goto(f"/records/{served.latest('edited')['record_id']}")
    page = tab.page
    section = page.get_by_role("region", name="Versions")
    assert section.get_by_role("heading").inner_text() == "Versions (2)"
    rows = section.locator("li.version")
    assert rows.count() == 2
    assert rows.nth(1).get_attribute("class") == "version current"
    removed = rows.nth(1).locator(".diff del").all_inner_texts()
    added = rows.nth(1).locator(".diff ins").all_inner_texts()
    assert "åtta" in " ".join(removed) and "nio" in " ".join(added), (removed, added)
    assert "nio" not in " ".join(removed) and "åtta" not in " ".join(added)
    assert "efter städningen" in " ".join(added)
    assert "text" in rows.nth(1).inner_text()

    tab.submit(rows.nth(0).get_by_role("link", name="version 1"))
    assert page.locator("section.post > article.card .text").inner_text() == EDIT_BEFORE
    notice = page.locator("p.notice")
    assert notice.inner_text().startswith("This is version 1; the newest is version 2")
    tab.submit(notice.get_by_role("link"))
    assert tab.path == f"/records/{served.latest('edited')['record_id']}"


def test_deleted_post_shows_tombstone_and_last_content(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    gone = served.latest("gone")
    assert gone["deleted"]
    tab.goto(f"/records/{gone['record_id']}")
    marker = tab.page.get_by_role("status").filter(has_text="Deleted on")
    assert re.fullmatch(
        rf"Deleted on {WHEN} \(last seen {WHEN}\)\.\s+Shown below: the last version captured "
        r"before the deletion\.",
        marker.inner_text().strip(),
    ), marker.inner_text()
    assert tab.page.locator("section.post > article.card .text").inner_text() == GONE_TEXT
    assert "deleted" in tab.page.locator("section.versions li.version").last.inner_text()


def test_verify_shows_the_provenance_digest(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    record_id = served.latest("edited")["record_id"]
    tab.goto(f"/records/{record_id}")
    panel = tab.page.get_by_role("complementary", name="Provenance")
    digest = panel.locator("dt", has_text="SHA-256 (stored bytes)").locator("+ dd").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest
    assert panel.locator("#verify-result").count() == 0

    response = tab.submit(panel.get_by_role("button", name="Verify"))
    assert response is not None and response.status == 200, (
        f"Verify answered {response and response.status}: {tab.page.locator('main').inner_text()}"
    )
    result = panel.locator("#verify-result")
    assert result.inner_text().startswith("Verified:"), result.inner_text()
    assert digest in result.inner_text()
    assert "ok" in (result.get_attribute("class") or "").split()
    assert panel.locator("dt", has_text="Record id").locator("+ dd").inner_text() == record_id


def test_images_load_from_the_app_only(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    record_id = served.latest("pictured")["record_id"]
    media: dict[str, tuple[int, str]] = {}
    tab.page.on(
        "response",
        lambda r: media.update({r.url: (r.status, r.headers.get("content-type", ""))}) if "/media/" in r.url else None,
    )
    tab.goto(f"/records/{record_id}")
    images = tab.page.locator("section.post > article.card .media img")
    assert images.count() == 2, f"the post's 2 images are not shown: {tab.page.locator('.media').inner_text()!r}"
    for n, image in enumerate(images.all()):
        assert image.get_attribute("src") == f"/api/records/{record_id}/media/{n}"
        image.scroll_into_view_if_needed()
        tab.page.wait_for_function("img => img.complete", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") > 0, f"image {n} did not load"
        status, content_type = media[f"{served.url}/api/records/{record_id}/media/{n}"]
        assert status == 200 and content_type.startswith("image/")
    foreign = [url for url in tab.requests if not url.startswith(f"{served.url}/")]
    assert not foreign, f"requests left the app: {foreign}"


def test_hostile_content_is_shown_not_run(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "archivist")
    doc = served.latest("hostile")
    tab.goto(f"/records/{doc['record_id']}")
    page = tab.page
    # An injected handler (an <img onerror>) would have fired before the page's load event, which
    # goto() waits for: the condition itself, not a pause. Said again here so nobody adds a pause.
    page.wait_for_load_state("load")
    assert page.title() == f"{served.items['hostile']} · Communis"
    text = page.locator("section.post > article.card .text")
    assert text.inner_text() == HOSTILE_TEXT, "the markup is shown as the text it is"
    assert page.get_by_text('<script>document.title="pwned"</script>').is_visible()
    assert page.locator("script").count() == 0, "no <script> element anywhere in the page"
    assert page.locator("[onerror], [onload], [onclick]").count() == 0
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:" i]').count() == 0, "javascript: is never a link"
    links = text.get_by_role("link")
    assert links.count() == 1 and links.get_attribute("href") == "https://sundsvik.example/info"
    assert set((links.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    assert page.locator('ul.links a[href="https://sundsvik.example/info"]').count() == 1
    assert not [u for u in tab.requests if u.endswith("/x")], "the injected <img src=x> was not requested"
    # Nothing was even tried: the escaping stopped it, not the Content-Security-Policy.
    assert not [m for m in tab.console if "Content Security Policy" in m], tab.console
    assert tab.dialogs == []

    tab.goto("/")
    tab.search("Farligt")
    assert tab.total() == 1 and page.title() == "Farligt · Communis"
    assert page.locator("script").count() == 0
    assert "<script>" in tab.hits().first.inner_text()
    assert page.locator("p.snippet mark").first.inner_text() == "Farligt"
    assert tab.dialogs == []


# --- roles -------------------------------------------------------------------------------------


def test_read_only_sees_no_removed_content(tab: Tab, served: Served, as_user: AsUser) -> None:
    as_user(tab, "readonly")
    tab.goto("/")
    page = tab.page
    assert page.locator("header .user").inner_text() == "readonly (read-only)"
    for doc in versions(served, "gone"):
        response = tab.goto(f"/records/{doc['record_id']}")
        assert response.status == 404, f"version {doc['version']} of the deleted post is shown"
        assert GONE_TEXT not in page.content()
    assert tab.goto(f"/items/{served.items['gone']}").status == 404

    words = "sophämtningen Norrby"
    with served.client("archivist") as client:
        assert client.get("/api/records", params={"q": words}).json()["total"] > 0, "an archivist finds it"
    tab.goto("/")
    tab.search(words)
    assert tab.total() == 0
    assert page.locator("ol.hits li.none").inner_text() == "No records match."
    assert "public now only" in page.locator("p.total").inner_text()

    tab.goto(f"/records/{served.latest('edited')['record_id']}")
    assert page.locator("section.post > article.card .text").inner_text() == EDIT_AFTER
    assert page.get_by_role("button", name="Verify").count() == 0
    assert page.get_by_role("link", name="Download the WARC record").count() == 0
    assert page.locator('a[href$="/warc"]').count() == 0
    assert page.get_by_role("region", name="Versions").count() == 0, "earlier versions are not the read-only's"
    assert EDIT_BEFORE not in page.content()


def test_admin_reads_the_audit_log_others_may_not(new_tab: Callable[[], Tab], served: Served, as_user: AsUser) -> None:
    archivist = as_user(new_tab(), "archivist")
    archivist.goto("/")
    assert archivist.page.get_by_role("link", name="Audit log").count() == 0
    response = archivist.goto("/audit")
    assert response.status == 403
    assert archivist.page.get_by_role("heading", name="403").is_visible()
    assert "audit" in archivist.page.get_by_role("alert").inner_text()

    admin = as_user(new_tab(), "admin")
    admin.goto("/")
    admin.search("Norrbybron")
    assert admin.total() >= 1
    pictured = served.latest("pictured")["record_id"]
    admin.submit(admin.page.locator(f'li.hit[data-record="{pictured}"] a.hit-title'))
    assert admin.path == f"/records/{pictured}"

    admin.submit(admin.page.get_by_role("link", name="Audit log"))
    assert admin.path == "/audit"
    # Each event was written before its page was answered; the stream shows writes after its next
    # refresh (about a second). Refreshing it now is that moment, so one look is enough.
    served.arc.index.es.indices.refresh(index=served.arc.settings.stream("audit"))
    admin.page.get_by_label("User", exact=True).fill("")
    admin.submit(admin.page.get_by_role("button", name="Show"))
    mine = {(r[1], r[3], r[4], r[6]) for r in audit_rows(admin) if len(r) == 8}
    wanted = {
        ("admin", "search", "q=Norrbybron", "ok"),
        ("admin", "view", pictured, "ok"),
        ("archivist", "audit.read", "/audit", "denied"),
    }
    assert wanted <= mine, f"missing from the audit log: {wanted - mine}"

    admin.page.get_by_label("User", exact=True).fill("archivist")
    admin.submit(admin.page.get_by_role("button", name="Show"))
    users = {r[1] for r in audit_rows(admin)}
    assert users == {"archivist"}, "the user filter shows that user's events only"
