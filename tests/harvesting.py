"""Shared test helpers: harvest one simulator subject into an archive, and planted personal data."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from archive.context import Archive
from archive.harvest.items import TableItems
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from archive.harvest.state import load_state
from archive.index.harvest_table import HarvestTable
from schemas import HarvestState, KnownItem
from simulator import Simulator
from tests.contract.subjects import Subject


def sim_now(sim: Simulator) -> datetime:
    return datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))


def state_of(arc: Archive, account: str) -> HarvestState:
    """The account's saved harvest state (its head in the harvest table)."""
    return load_state(HarvestTable.beside(arc.index), account, arc.store)


def known_of(arc: Archive, account: str, item_id: str) -> KnownItem | None:
    """What the harvest table knows of one item."""
    return TableItems(HarvestTable.beside(arc.index), account).known(item_id)


def known_count(arc: Archive, account: str) -> int:
    """How many items the harvest table knows of the account."""
    return HarvestTable.beside(arc.index).count("item", account)


def harvest_subject(arc: Archive, sim: Simulator, subject: Subject) -> HarvestReport:
    """One complete harvest of the subject's account at the simulator's time; fails the test if not ok."""
    report = harvest_one(arc.settings, arc.store, arc.index, subject.account(sim), now=sim_now(sim))
    assert report.ok, report.error
    return report


def personnummer(first9: str) -> str:
    """A personnummer YYMMDD-NNNC with a valid Luhn check digit C."""
    total = 0
    for i, ch in enumerate(first9):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return f"{first9[:6]}-{first9[6:]}{(10 - total % 10) % 10}"


PNR = personnummer("811218987")
PHONE = "070-123 45 67"
EMAIL = "karin.svensson@example.se"
PLANTED = (PNR, PHONE, EMAIL)


def archived_versions(arc: Archive, account: str) -> dict[str, list[dict[str, Any]]]:
    """Item id → every archived version of the account's items, oldest first (after a refresh)."""
    arc.index.refresh()
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in arc.index.scan({"term": {"account": account}}):
        by_item[doc["item_id"]].append(doc)
    for docs in by_item.values():
        docs.sort(key=lambda d: d["version"])
    return dict(by_item)


def latest_versions(arc: Archive, account: str) -> dict[str, dict[str, Any]]:
    """Item id → the newest archived version."""
    return {item: docs[-1] for item, docs in archived_versions(arc, account).items()}
