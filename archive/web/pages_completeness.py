"""Completeness pages for records managers: every account's latest report (`/completeness`), an account's
month-by-month calendar (`/completeness/{account}`) and a month's disagreeing items with their posts,
evidence and what was done (`/completeness/{account}/{month}`).

Each page calls the same function as its API twin (completeness.py), so the permission and the audit
trail are the same. A status is always said in words, with a colour and a sign beside them (never the
colour alone); the calendar is a table with a row header per year and a column header per month, and
the same months are a list under a heading per year on a narrow screen (CSS shows one or the other).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from .api_completeness import Month, Reader
from .completeness import MonthOut, account_calendar, completeness_accounts, month_items
from .dependencies import State
from .pages import page

router = APIRouter(include_in_schema=False)

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Cell:
    """One month of a year's row: its YYYY-MM, its name, and its figures (None: no post, no count)."""

    month: str
    name: str
    out: MonthOut | None


@dataclass(frozen=True)
class Year:
    year: int
    cells: list[Cell]


def calendar_years(months: list[MonthOut]) -> tuple[list[Year], MonthOut | None]:
    """The months as years of twelve cells, newest year first (every year between the first and the last,
    so a year without posts shows as one), and the undated items' month apart."""
    by_month = {m.month: m for m in months if m.month != "undated"}
    undated = next((m for m in months if m.month == "undated"), None)
    if not by_month:
        return [], undated
    years = [int(m[:4]) for m in by_month]
    return [
        Year(
            year,
            [Cell(f"{year}-{n:02d}", MONTH_NAMES[n - 1], by_month.get(f"{year}-{n:02d}")) for n in range(1, 13)],
        )
        for year in range(max(years), min(years) - 1, -1)
    ], undated


@router.get("/completeness")
async def accounts_page(request: Request, who: Reader, state: State) -> HTMLResponse:
    found = await run_in_threadpool(completeness_accounts, state, who)
    return page(request, "completeness.html", who=who, accounts=found.accounts, note=found.note)


@router.get("/completeness/{account}")
async def calendar_page(request: Request, account: str, who: Reader, state: State) -> HTMLResponse:
    found = await run_in_threadpool(account_calendar, state, who, account)
    years, undated = calendar_years(found.months)
    return page(
        request,
        "completeness_account.html",
        who=who,
        account=found.account,
        years=years,
        undated=undated,
        month_names=MONTH_NAMES,
    )


@router.get("/completeness/{account}/{month}")
async def month_page(request: Request, account: str, month: Month, who: Reader, state: State) -> HTMLResponse:
    found = await run_in_threadpool(month_items, state, who, account, month)
    return page(request, "completeness_month.html", who=who, found=found)
