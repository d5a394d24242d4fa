"""Shared test helpers: harvest one simulator subject into an archive, and planted personal data."""

from __future__ import annotations

from datetime import datetime

from archive.context import Archive
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from simulator import Simulator
from tests.contract.subjects import Subject


def sim_now(sim: Simulator) -> datetime:
    return datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))


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
