"""The web application served for real over a harvested archive.

One session-scoped world: the platform simulator's Facebook page and Mastodon account
harvested twice into the real Elasticsearch and a local store, with an edited post, a deleted
post, a thread with a reply, archived images and a post full of hostile markup; a user of every
role with a password and an API token; and `archive.web` served by uvicorn on a free port.

`legal_served` is a second, separate world for request cases and holds (which change records
and leave cases behind): a post with a comment full of planted personal data, and its own server.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser

from archive.config import Settings
from archive.context import Archive
from archive.samples import ACCOUNTS_FILE
from archive.web import create_app
from schemas import Role
from simulator import Simulator
from tests.conftest import drop_access
from tests.contract.subjects import TOKEN, TOKEN_ENV, MastodonSubject, SocialSubject, Subject
from tests.harvesting import EMAIL, PHONE, PNR, harvest_subject
from tests.waiting import HANG_GUARD_S

pytestmark = pytest.mark.integration

HOSTILE_TEXT = (
    'Farligt <script>document.title="pwned"</script> '
    '<img src=x onerror="document.title=\'pwned\'"> javascript:document.title="pwned" '
    "och en riktig länk https://sundsvik.example/info"
)
EDIT_BEFORE = "Simhallen öppnar klockan åtta på lördag."
EDIT_AFTER = "Simhallen öppnar klockan nio på lördag, efter städningen."
GONE_TEXT = "Felaktig information om sophämtningen i Norrby."
PASSWORD = "correct horse battery staple"


@dataclass
class Served:
    """What the tests reach: the base URL, each role's token, and the items the world holds."""

    url: str
    arc: Archive
    tokens: dict[str, str]
    items: dict[str, str] = field(default_factory=dict)  # name → item key

    def client(self, role: str | None = "archivist") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        # The timeout is a hang guard (a request that never answers), far beyond any slow answer.
        return httpx.Client(base_url=self.url, headers=headers, timeout=300, follow_redirects=False)

    def audit_events(self, **match: str) -> list[dict[str, Any]]:
        """Audit events (newest first) whose fields equal `match`, read back through the admin API."""
        self.arc.index.es.indices.refresh(index=self.arc.settings.stream("audit"))
        with self.client("admin") as admin:
            events = admin.get("/api/audit", params={"limit": 1000}).json()["events"]
        return [e for e in events if all(e.get(k) == v for k, v in match.items())]

    def latest(self, name: str) -> dict[str, Any]:
        """The newest index document of a named item."""
        hits = self.arc.index.es.search(
            index=self.arc.index.alias,
            size=1,
            sort=[{"captured_at": "desc"}],
            query={"term": {"item_key": self.items[name]}},
        )["hits"]["hits"]
        return dict(hits[0]["_source"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key(subject: Subject, item_id: str) -> str:
    return f"{subject.platform}:sv-{subject.platform}:{item_id}"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    mp = pytest.MonkeyPatch()
    mp.setenv(TOKEN_ENV, TOKEN)
    root: Path = tmp_path_factory.mktemp("web")
    settings = Settings(
        data_dir=root / "data",
        store_path=root / "store",
        accounts_file=ACCOUNTS_FILE,
        es_index_prefix=f"test-web-{uuid.uuid4().hex[:8]}",
        media_max_bytes=8 * 1024 * 1024,
    )
    arc = Archive(settings)
    facebook, mastodon = SocialSubject("facebook"), MastodonSubject()
    with Simulator(posts=6, rate_limit=10**9, social_token=TOKEN) as sim:
        sim.apply([{"type": "clock.advance", "hours": 1}])
        items = {
            "hostile": facebook.publish(sim, text=HOSTILE_TEXT),
            "edited": facebook.publish(sim, text=EDIT_BEFORE),
            "gone": facebook.publish(sim, text=GONE_TEXT),
            "pictured": facebook.publish(sim, text="Bilder från invigningen av Norrbybron.", images=2),
        }
        items["comment"] = facebook.comment(sim, items["edited"], text="Gäller det även på söndag?")
        post_no = facebook.no_of(sim, items["edited"])
        reply = facebook.event(
            sim,
            "comment",
            post=post_no,
            parent=facebook.no_of(sim, items["comment"]),
            text="Ja, samma tider på söndag.",
            own=True,
        )
        items["reply"] = facebook.id_of(sim, reply["no"])
        for subject in (facebook, mastodon):
            harvest_subject(arc, sim, subject)
        sim.apply([{"type": "clock.advance", "hours": 2}])
        facebook.event(sim, "edit", no=post_no, text=EDIT_AFTER)
        facebook.event(sim, "delete", no=facebook.no_of(sim, items["gone"]))
        harvest_subject(arc, sim, facebook)
    arc.index.es.indices.refresh(index=arc.index.alias)

    try:
        with _serving(arc) as (url, tokens):
            yield Served(url, arc, tokens, {name: _key(facebook, item_id) for name, item_id in items.items()})
    finally:
        arc.index.destroy()
        mp.undo()


class _Server(uvicorn.Server):
    """uvicorn's server, which says when it listens (an event) instead of being polled for it."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.said = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.said.set()  # `started` is True from here on, unless startup failed

    def serve_then_say(self) -> None:
        try:
            self.run()
        finally:
            self.said.set()  # a server that never started (or stopped) must not leave the fixture waiting


@contextmanager
def _serving(arc: Archive) -> Iterator[tuple[str, dict[str, str]]]:
    """A user of every role (password and token) and `archive.web` served on a free port; the audit log goes after."""
    from archive.access import open_audit, open_users

    users = open_users(arc.settings)
    tokens = {}
    for role in Role:
        name = role.value.replace("-", "")
        tokens[role.value] = users.add(name, role, PASSWORD)[1]

    port = _free_port()
    server = _Server(uvicorn.Config(create_app(arc.settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.serve_then_say, daemon=True)
    thread.start()
    server.said.wait(HANG_GUARD_S)  # set once it listens, or once it has given up: never a guess at how long
    if not server.started:
        raise RuntimeError("the web application did not start (see uvicorn's error above)")
    try:
        yield f"http://127.0.0.1:{port}", tokens
    finally:
        server.should_exit = True
        thread.join(10)
        open_audit(arc.settings).destroy()
        drop_access(arc.settings)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for every browser test module: Playwright's sync API allows one instance at a time."""
    from playwright.sync_api import sync_playwright

    from tests.web.browser import launch

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            yield browser
        finally:
            browser.close()


# --- a second world, for public-records requests and holds -------------------------------------

PERMIT_POST = "Bygglovet för Solbacken är beviljat. Frågor? Ring kommunen."
PERMIT_COMMENT = (
    f"Jag bor granne, mitt personnummer är {PNR}, ring mig på {PHONE} eller mejla {EMAIL}. Vi överklagar bygglovet!"
)
HOLD_POST = "Upphandlingen av skolskjutsar i Norrby avbryts."


@pytest.fixture(scope="session")
def legal_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Its own archive and server, so cases, masks and holds never touch the `served` world.

    A building-permit post with a comment full of personal data (a valid personnummer, a phone
    number, an e-mail address) that detection must find, and a post for holds to cover.
    """
    mp = pytest.MonkeyPatch()
    mp.setenv(TOKEN_ENV, TOKEN)
    root: Path = tmp_path_factory.mktemp("legal")
    settings = Settings(
        data_dir=root / "data",
        store_path=root / "store",
        accounts_file=ACCOUNTS_FILE,
        es_index_prefix=f"test-legal-{uuid.uuid4().hex[:8]}",
        media_max_bytes=8 * 1024 * 1024,
    )
    arc = Archive(settings)
    facebook = SocialSubject("facebook")
    with Simulator(posts=2, rate_limit=10**9, social_token=TOKEN) as sim:
        sim.apply([{"type": "clock.advance", "hours": 1}])
        items = {"permit": facebook.publish(sim, text=PERMIT_POST), "held": facebook.publish(sim, text=HOLD_POST)}
        items["comment"] = facebook.comment(sim, items["permit"], text=PERMIT_COMMENT)
        harvest_subject(arc, sim, facebook)
    arc.index.es.indices.refresh(index=arc.index.alias)
    try:
        with _serving(arc) as (url, tokens):
            yield Served(url, arc, tokens, {name: _key(facebook, item_id) for name, item_id in items.items()})
    finally:
        from archive.index.client import make_client
        from archive.requests.casebook import CaseBook

        CaseBook(make_client(settings), settings.es_index_prefix).destroy()
        arc.index.destroy()
        mp.undo()


# --- a third world, for completeness --------------------------------------------------------------


@dataclass
class CompletenessWorld:
    """The completeness world's server, and what its harvests left: the gap's post, reply and month."""

    served: Served
    account: str
    unknowable: str
    post: str
    reply: str
    month: str
    runs: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def completeness_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompletenessWorld]:
    """A Mastodon account whose listing never shows one comment its post counts (the simulator drops it
    from the conversation forever), harvested three times: the first run's sweep finds the gap and queues
    the post for a backfill, the second sweeps again and re-reads that thread in vain, the third (a
    scheduled run) is the third gap in a row, so the account alarms. Beside it a LinkedIn account, whose
    platform publishes no count: every month not knowable."""
    from simulator import Timeline
    from tests.contract.subjects import SUBJECTS

    mastodon = next(s for s in SUBJECTS if s.platform == "mastodon")
    linkedin = next(s for s in SUBJECTS if s.platform == "linkedin")
    mp = pytest.MonkeyPatch()
    mp.setenv(TOKEN_ENV, TOKEN)
    root: Path = tmp_path_factory.mktemp("completeness")
    settings = Settings(
        data_dir=root / "data",
        store_path=root / "store",
        accounts_file=ACCOUNTS_FILE,
        es_index_prefix=f"test-complete-{uuid.uuid4().hex[:8]}",
        harvest_lookback_days=0,  # old posts' threads are read again only by a backfill
        harvest_sweep_hours=24,
    )
    arc = Archive(settings)
    with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as sim:
        rows = mastodon.rows(sim)
        post = next(r for r in rows if r["kind"] == "post" and any(c["parent"] == r["id"] for c in rows))
        reply = next(c for c in rows if c["parent"] == post["id"])
        never = {"platform": "mastodon", "path_prefix": f"/m/api/v1/statuses/{post['id']}/context"}
        sim.apply(Timeline().fault("drop", count=None, item=reply["id"], match=never))
        runs = []
        for _ in range(3):
            runs.append(harvest_subject(arc, sim, mastodon).run_id)
            sim.apply(Timeline().advance(hours=1))
        harvest_subject(arc, sim, linkedin)
        account, unknowable = mastodon.account(sim).id, linkedin.account(sim).id
    arc.index.es.indices.refresh(index=arc.index.alias)
    try:
        with _serving(arc) as (url, tokens):
            yield CompletenessWorld(
                Served(url, arc, tokens),
                account,
                unknowable,
                post["id"],
                reply["id"],
                post["created_at"][:7],
                runs,
            )
    finally:
        arc.index.destroy()
        mp.undo()
