"""Moderation lists as records, end to end: harvested from the simulator, searched, handed out masked.

The municipality's Mastodon account blocks two citizens, mutes one, blocks a domain and filters two
words; its Facebook Page blocks a commenter. One harvest of each (real connectors, real store and
index) archives the lists; the archivists' search finds them by kind, platform, capture time and the
names they hold, a read-only user's does not; a request case over them suggests every listed person
for masking (and neither the domain nor the words), and the released copy shows none of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from archive import clock
from archive.access import open_audit
from archive.context import Archive
from archive.harvest.runner import harvest_one
from archive.index.client import make_client
from archive.index.search import SearchQuery, search
from archive.requests.casebook import CaseBook
from archive.requests.detect import detect
from archive.requests.masking import MARKER
from archive.requests.production import produce
from archive.requests.workflow import decide_masks, new_case, run_case
from schemas import DetectorKind
from schemas.search import SavedSearch
from simulator import Simulator
from tests.contract.subjects import TOKEN, TOKEN_ENV, MastodonSubject, SocialSubject
from tests.harvesting import sim_now

pytestmark = pytest.mark.integration


@pytest.fixture
def world(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Archive, Simulator, dict[str, Any]]]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    arc = Archive(settings)
    with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as sim:
        mastodon, facebook = MastodonSubject(), SocialSubject("facebook")
        accounts = [mastodon.moderation_account(sim), facebook.moderation_account(sim)]
        citizens = sorted({r["author"] for r in sim.state()["mastodon"]["items"] if r["role"].startswith("citizen")})
        assert len(citizens) >= 3
        made = sim.apply(
            [
                {"type": "mastodon.block", "target": citizens[0]},
                {"type": "clock.advance", "minutes": 1},
                {"type": "mastodon.block", "target": citizens[1]},
                {"type": "mastodon.mute", "target": citizens[2]},
                {"type": "mastodon.domain_block", "domain": "spam.example"},
                {"type": "mastodon.filter", "title": "Reklam", "keywords": ["köp nu", "gratisprov"]},
                {"type": "facebook.block", "handle": "trollkonto"},
            ]
        )
        for account in accounts:
            report = harvest_one(arc.settings, arc.store, arc.index, account, now=sim_now(sim))
            assert report.ok and report.notes == [], (report.error, report.notes)
        arc.index.refresh()
        yield arc, sim, {"mastodon": [made[0], made[2], made[3]], "facebook": made[6]}
    arc.index.destroy()


def kinds_of(hits: list[Any]) -> set[tuple[str, str]]:
    return {(h.source["platform"], h.source["item_id"]) for h in hits}


def test_moderation_records_are_found_by_kind_platform_time_and_the_people_they_name(
    world: tuple[Archive, Simulator, dict[str, Any]],
) -> None:
    arc, _, made = world
    every = search(arc.index, SearchQuery(kind="moderation", size=50)).hits
    assert kinds_of(every) == {
        ("mastodon", "blocks"),
        ("mastodon", "mutes"),
        ("mastodon", "domain_blocks"),
        ("mastodon", "filters"),
        ("facebook", "blocks"),
    }
    assert all(h.source["kind"] == "moderation" for h in every)
    assert kinds_of(search(arc.index, SearchQuery(kind="moderation", platform="facebook")).hits) == {
        ("facebook", "blocks")
    }
    today = clock.now().date()
    assert len(search(arc.index, SearchQuery(kind="moderation", captured_from=today, captured_to=today)).hits) == 5
    before = today - timedelta(days=1)
    assert search(arc.index, SearchQuery(kind="moderation", captured_to=before)).hits == []
    blocked = made["mastodon"][0]["acct"]
    found = kinds_of(search(arc.index, SearchQuery(text=f'"{blocked}"', platform="mastodon")).hits)
    assert ("mastodon", "blocks") in found
    assert kinds_of(search(arc.index, SearchQuery(text="gratisprov")).hits) == {("mastodon", "filters")}
    # A read-only user sees what the public sees: no moderation list of the account.
    assert search(arc.index, SearchQuery(kind="moderation", public_only=True)).hits == []
    assert search(arc.index, SearchQuery(text="gratisprov", public_only=True)).hits == []


def test_a_request_case_masks_the_people_a_list_names_and_nothing_else(
    world: tuple[Archive, Simulator, dict[str, Any]], tmp_path: Path
) -> None:
    arc, _, made = world
    book = CaseBook(make_client(arc.settings), arc.settings.es_index_prefix)
    try:
        case = new_case(book, searches=[SavedSearch(kind="moderation")], handler="registrator", now=clock.now())
        run = run_case(book, arc.index, case.id, spans=detect)
        assert run.total == 5 and run.by_platform == {"mastodon": 4, "facebook": 1}
        docs = {
            (d["platform"], d["item_id"]): d for d in (arc.index.get(e.record_id) for e in book.entries(case.id, 1))
        }
        suggested: dict[tuple[str, str], set[str]] = {}
        for mask in book.masks(case.id):
            doc = next(d for d in docs.values() if d["record_id"] == mask.record_id)
            assert mask.field == "text" and mask.kind is DetectorKind.ACCOUNT, mask
            suggested.setdefault((doc["platform"], doc["item_id"]), set()).add(doc["text"][mask.start : mask.end])
        people = made["mastodon"][:2]
        assert suggested[("mastodon", "blocks")] == {f"@{p['acct']}" for p in people}
        fb_blocked = docs[("facebook", "blocks")]["moderation"]["entries"]
        assert suggested[("facebook", "blocks")] == {fb_blocked[0]["id"], fb_blocked[0]["name"]}
        assert ("mastodon", "domain_blocks") not in suggested and ("mastodon", "filters") not in suggested

        decide_masks(book, case.id, accept=True, ground="OSL 21:7", by="granskare", now=clock.now())
        result = produce(
            arc.settings,
            book,
            arc.index,
            arc.store,
            open_audit(arc.settings),
            case.id,
            tmp_path / "p",
            by="registrator",
            now=clock.now(),
        )
        assert result.delivery is not None
        released = [
            json.loads(line)
            for line in (result.delivery / "data" / "records.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        seen = "\n".join(json.dumps(r, ensure_ascii=False) for r in released)
        for names in suggested.values():
            for value in names:
                assert value not in seen, value
        texts = {r["item_key"].split(":")[-1] + "@" + r["platform"]: r["text"] for r in released}
        assert texts["blocks@mastodon"].count(MARKER) == 2  # two handles
        assert texts["blocks@facebook"].count(MARKER) == 2  # a profile's id and its name
        assert "spam.example" in texts["domain_blocks@mastodon"] and "gratisprov" in texts["filters@mastodon"]
    finally:
        book.destroy()
