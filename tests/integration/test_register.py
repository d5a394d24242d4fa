"""Channel register and closing a channel, against the simulator, the real index and store (SE-2, SE-5, SE-13)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from archive.accounts.closures import closure_key, load_closure
from archive.accounts.register import build_register, write_register
from archive.context import Archive
from archive.errors import CommunisError
from archive.harvest.closing import close_account
from archive.harvest.runner import due_accounts, harvest_one
from archive.index.client import make_client
from archive.preservation.premis import PremisLog
from schemas import Account
from schemas.premis import PremisEventType
from simulator import Simulator, WorldConfig
from tests.harvesting import sim_now, state_of
from tests.integration.test_fixity import SHARED_PREFIX, empty_stream


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(WorldConfig().resized(20)) as running:
        yield running


def accounts(sim: Simulator) -> list[Account]:
    return [
        Account(
            id="sv-masto",
            platform="mastodon",
            handle="@sundsvik",
            display_name="Sundsvik på Mastodon",
            department="Kommunstyrelsen",
            retention_class="social-10y",
            base_url=sim.mastodon_url,
            opened_at=date(2019, 5, 2),
        ),
        Account(
            id="sv-blogg",
            platform="wordpress",
            handle="blogg",
            display_name="Ordförandens blogg",
            department="Kultur- och fritidsnämnden",
            retention_class="social-10y",
            base_url=sim.wordpress_url,
        ),
        Account(
            id="sv-nytt",
            platform="rss",
            handle="https://nytt.sundsvik.example/feed.xml",
            display_name="Nyheter (not harvested yet)",
            department="Kommunstyrelsen",
            retention_class="social-10y",
        ),
    ]


@pytest.fixture
def premis(local_archive: Archive) -> Iterator[PremisLog]:
    log = PremisLog(make_client(local_archive.settings), f"{SHARED_PREFIX}-premis")
    yield log
    empty_stream(log)


def test_register_lists_every_channel_and_its_totals_match_the_index(
    local_archive: Archive, sim: Simulator, tmp_path: Path
) -> None:
    arc, accs = local_archive, accounts(sim)
    for account in accs[:2]:
        assert harvest_one(arc.settings, arc.store, arc.index, account, now=sim_now(sim)).ok
    entries = build_register(arc.store, arc.index, accs)
    by_id = {e.account: e for e in entries}
    assert list(by_id) == sorted(a.id for a in accs)  # every configured account, harvested or not

    # Inventory totals match the index (SE-13) and the stored files.
    assert sum(e.versions for e in entries) == arc.index.count()
    assert sum(e.items for e in entries) == arc.index.count({"term": {"is_latest": True}})
    for account in accs[:2]:
        entry = by_id[account.id]
        assert (
            entry.items
            == arc.index.count({"bool": {"filter": [{"term": {"account": account.id}}, {"term": {"is_latest": True}}]}})
            > 0
        )
        stored = [arc.store.head(k) for k in arc.store.keys(f"warc/{account.id}/")]
        assert entry.files == len(stored) and entry.bytes == sum(s.size for s in stored if s) > 0
        assert entry.retention_classes == ["social-10y"] and entry.department == account.department
        assert entry.first_capture is not None and entry.last_capture is not None and entry.end is None
    assert by_id["sv-masto"].start == date(2019, 5, 2)  # opened_at from the accounts file
    assert by_id["sv-blogg"].start is not None  # else the earliest publication archived
    assert by_id["sv-nytt"].items == 0 and by_id["sv-nytt"].url == "https://nytt.sundsvik.example/feed.xml"

    csv_path, pdf_path = write_register(entries, tmp_path / "register")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [r["account"] for r in rows] == list(by_id)
    assert rows[0]["department"] == "Kultur- och fritidsnämnden" and rows[0]["url"].startswith("http://127.0.0.1")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "Ordförandens blogg" in text and "Kultur- och fritidsnämnden" in text and "sv-nytt" in text
    with pytest.raises(FileExistsError):
        write_register(entries, tmp_path / "register")


def test_closing_runs_a_final_complete_capture_and_records_the_closure(
    local_archive: Archive, sim: Simulator, premis: PremisLog
) -> None:
    arc, accs = local_archive, accounts(sim)
    masto = accs[0]
    now = sim_now(sim)
    assert harvest_one(arc.settings, arc.store, arc.index, masto, now=now).ok
    before = state_of(arc, masto.id)
    assert masto in due_accounts(arc.store, arc.index, accs[:2], now)

    closure = close_account(
        arc.settings,
        arc.store,
        arc.index,
        premis,
        masto,
        by="os:archivist",
        closed_on=date(2026, 12, 31),
        reason="KS 2026-11-20 § 145",
        now=now,
    )
    state = state_of(arc, masto.id)
    assert state.runs == before.runs + 1 and state.last_sweep == now  # a complete run: whole listings
    assert state.last_success == now and closure.final_run_id
    assert load_closure(arc.store, masto.id) == closure and closure.closed_at == date(2026, 12, 31)

    assert [a.id for a in due_accounts(arc.store, arc.index, accs[:2], now)] == ["sv-blogg"]  # scheduled runs skip it
    entry = next(e for e in build_register(arc.store, arc.index, accs) if e.account == masto.id)
    assert entry.end == date(2026, 12, 31)

    premis.refresh()
    events = premis.events(object_id=f"account:{masto.id}", type=PremisEventType.CAPTURE)
    assert len(events) == 1 and closure_key(masto.id) in events[0].objects
    assert "final complete capture" in events[0].detail and "os:archivist" in " ".join(events[0].agents)

    with pytest.raises(CommunisError, match="was closed on 2026-12-31"):
        close_account(arc.settings, arc.store, arc.index, premis, masto, by="os:archivist", now=now)


def test_a_failed_final_capture_records_no_closure(local_archive: Archive, premis: PremisLog) -> None:
    arc = local_archive
    gone = Account(
        id="sv-gone",
        platform="mastodon",
        handle="@gone",
        display_name="Gone",
        department="KS",
        retention_class="social-10y",
        base_url="http://127.0.0.1:9",
    )  # nothing listens on port 9
    with pytest.raises(CommunisError, match="final capture of sv-gone failed"):
        close_account(arc.settings, arc.store, arc.index, premis, gone, by="os:archivist")
    assert load_closure(arc.store, "sv-gone") is None
    assert gone in due_accounts(arc.store, arc.index, [gone], datetime.now().astimezone())
