"""What the completeness pages and `/api/completeness` share: the JSON they answer with, and the
functions that read it, check nothing more than the route did, and audit it before it leaves.

The figures come from the completeness rows (archive/index/completeness.py: the latest report of each
account, per account and per month), the account's harvest head (what is still waiting for a backfill,
runs in a row with a gap) and, for the items of a month, their latest versions in the record index (the
post each count is of, linked to its record page). Every read is a `completeness` audit event; the
posts a month's list shows are named one by one (`shown`, as search hits are), and the evidence's WARC
bytes are a `warc` event, as a record's are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import HTTPException
from pydantic import BaseModel, Field

from schemas import AuditAction, CompletenessReport, Evidence, HarvestState, ItemCheck, MonthCheck, Status
from schemas.completeness import TotalCheck

from ..accounts import load_accounts
from ..completeness.compare import LISTED
from ..completeness.explain import Step, status_text, what_was_done
from ..errors import CommunisError
from ..harvest.state import load_state
from ..index.completeness import CompletenessRows
from ..index.queries import latest_of_items
from ..preservation.readback import fetch_location
from .auth import Principal
from .state import AppState

#: A month as the calendar names it: YYYY-MM, or "undated" for items without a publication time.
MONTH_PATTERN = r"^(\d{4}-(0[1-9]|1[0-2])|undated)$"
#: Characters of a post's text shown beside its counts (the record page has the whole text).
SNIPPET = 160


# --- the JSON ------------------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    """The archived response that shows a count: when it was read, and the WARC record that holds it."""

    captured_at: datetime
    source_url: str | None
    filename: str
    offset: int
    length: int
    sha256: str
    warc_record_id: str
    download: str = Field(description="The WARC record's bytes (checked against the SHA-256 before sending).")

    @classmethod
    def of(cls, evidence: Evidence, download: str) -> EvidenceOut:
        w = evidence.warc
        return cls(
            captured_at=evidence.captured_at,
            source_url=evidence.source_url,
            filename=w.filename,
            offset=w.offset,
            length=w.length,
            sha256=w.sha256,
            warc_record_id=w.record_id,
            download=download,
        )


class TotalOut(BaseModel):
    what: str
    detail: str | None
    status: Status
    text: str = Field(description="The status in words: complete, gap of N, more in the archive, not knowable.")
    published: int | None
    archived: int | None
    note: str
    evidence: EvidenceOut | None


class HeadOut(BaseModel):
    """What the harvest keeps between runs about the account's completeness."""

    last_check: str | None = Field(description="The last run's check, one line.")
    backfill: int = Field(description="Items waiting for the next run to read their threads again.")
    gap_runs: int = Field(description="Runs in a row that ended with a gap.")
    alarm_runs: int = Field(description="Gap runs in a row that alarm (COMMUNIS_COMPLETENESS_ALARM_RUNS).")
    alarmed: bool


class AccountOut(BaseModel):
    account: str
    platform: str | None
    reported: bool = Field(description="False: the account has no completeness report yet.")
    status: Status | None = None
    text: str = ""
    summary: str = ""
    made_at: datetime | None = None
    made_by: str | None = None
    run_id: str | None = None
    report_key: str | None = Field(default=None, description="Where the report is kept (write-once) in the store.")
    tolerance: str | None = None
    totals: list[TotalOut] = Field(default_factory=list)
    unknowable: list[str] = Field(default_factory=list)
    head: HeadOut | None = None


class AccountsOut(BaseModel):
    accounts: list[AccountOut]
    note: str | None = Field(default=None, description="Why configured accounts could not be listed, if so.")


class MonthOut(BaseModel):
    """One month of the calendar: its status in words and figures."""

    month: str
    status: Status
    text: str
    posts: int
    counted: int
    unread: int
    published: int
    archived: int
    missing: int
    surplus: int
    gap_items: int
    surplus_items: int
    incomparable: int = Field(description="Counted items whose replies were past reading when first archived.")
    note: str


class CalendarOut(BaseModel):
    account: AccountOut
    months: list[MonthOut] = Field(description="Oldest first; months without a row had no post and no count.")


class PostOut(BaseModel):
    """The item a count is of, as the archive holds it now (its latest version)."""

    record_id: str
    item_key: str
    kind: str | None
    title: str | None
    text: str
    url: str | None
    published_at: str | None
    deleted: bool


class DoneOut(BaseModel):
    step: Step
    text: str


class ItemOut(BaseModel):
    item_id: str
    status: Status
    text: str
    covers: str
    published: int = Field(description="What the platform's count said.")
    archived: int = Field(description="The comments archived under the item when the report compared them.")
    note: str
    post: PostOut | None = Field(description="None: the item itself is not in the archive.")
    evidence: EvidenceOut
    done: list[DoneOut]


class MonthItemsOut(BaseModel):
    account: AccountOut
    month: MonthOut
    report_key: str | None = Field(description="The report that compared this month last.")
    run_id: str | None
    made_at: datetime | None
    items: list[ItemOut]
    listed_at_most: int = Field(description="A month's report lists at most this many disagreeing items.")


# --- reading, shared by the pages and the API ------------------------------------------------------


def _rows(state: AppState) -> CompletenessRows:
    return CompletenessRows.beside(state.archive.index)


def _head(state: AppState, account: str) -> HarvestState | None:
    """The account's harvest head, None if it was never harvested (the web app reads it, never makes it)."""
    table = state.archive.harvest_table
    if not table.exists():
        return None
    return load_state(table, account)


def _head_out(state: AppState, head: HarvestState | None) -> HeadOut | None:
    if head is None or not head.runs:
        return None
    alarm_runs = state.settings.completeness_alarm_runs
    return HeadOut(
        last_check=head.completeness,
        backfill=len(head.backfill),
        gap_runs=head.gap_runs,
        alarm_runs=alarm_runs,
        alarmed=head.gap_runs >= alarm_runs,
    )


def evidence_url(
    account: str, month: str | None = None, *, item: str | None = None, total: TotalCheck | None = None
) -> str:
    """Where the WARC record of a count's evidence is downloaded: an item's (by month), or a total's."""
    base = f"/api/completeness/{quote(account, safe='')}"
    if total is not None:
        query = {"what": total.what.value, **({"detail": total.detail} if total.detail else {})}
        return f"{base}/totals/warc?{urlencode(query)}"
    return f"{base}/{month}/warc?{urlencode({'item': item or ''})}"


def _total(account: str, t: TotalCheck) -> TotalOut:
    missing = (t.published or 0) - (t.archived or 0)
    return TotalOut(
        what=t.what.value,
        detail=t.detail,
        status=t.status,
        text=status_text(t.status, missing),
        published=t.published,
        archived=t.archived,
        note=t.note,
        evidence=EvidenceOut.of(t.evidence, evidence_url(account, total=t)) if t.evidence else None,
    )


def _report(row: dict[str, Any]) -> CompletenessReport:
    """The report an account row holds (without its months)."""
    return CompletenessReport.model_validate(row["check"])


def _account_out(state: AppState, account: str, row: dict[str, Any] | None, head: HarvestState | None) -> AccountOut:
    if row is None:
        return AccountOut(account=account, platform=None, reported=False, head=_head_out(state, head))
    report = _report(row)
    missing = int(row.get("missing") or 0) + sum(
        (t.published or 0) - (t.archived or 0) for t in report.totals if t.status is Status.GAP
    )
    t = report.tolerance
    return AccountOut(
        account=account,
        platform=report.platform.value,
        reported=True,
        status=report.status,
        text=status_text(report.status, missing),
        summary=report.summary,
        made_at=report.made_at,
        made_by=report.made_by,
        run_id=report.run_id,
        report_key=report.key,
        tolerance=f"{t.absolute} and {t.relative:.0%} ({t.source})",
        totals=[_total(account, x) for x in report.totals],
        unknowable=report.unknowable,
        head=_head_out(state, head),
    )


def _month_out(m: MonthCheck) -> MonthOut:
    return MonthOut(
        month=m.month,
        status=m.status,
        text=status_text(m.status, m.missing),
        posts=m.posts,
        counted=m.counted,
        unread=m.unread,
        published=m.published,
        archived=m.archived,
        missing=m.missing,
        surplus=m.surplus,
        gap_items=m.gap_items,
        surplus_items=m.surplus_items,
        incomparable=m.incomparable,
        note=m.note,
    )


def _configured(state: AppState) -> tuple[list[tuple[str, str]], str | None]:
    """(account id, platform) of the accounts file's active accounts, and why not, if it cannot be read."""
    path = state.settings.accounts_file
    if path is None:
        return [], None
    try:
        return [(a.id, a.platform.value) for a in load_accounts(path, state.settings) if a.active], None
    except CommunisError as exc:
        return [], f"the accounts file could not be read: {exc.one_line()}"


def completeness_accounts(state: AppState, who: Principal) -> AccountsOut:
    """Every account with its latest report (and the accounts file's accounts that have none yet)."""
    rows = {str(r["account"]): r for r in _rows(state).accounts()}
    configured, note = _configured(state)
    accounts = [_account_out(state, a, rows.get(a), _head(state, a)) for a in sorted(rows)]
    for account, platform in configured:
        if account not in rows:
            out = _account_out(state, account, None, _head(state, account))
            accounts.append(out.model_copy(update={"platform": platform}))
    state.audit_event(
        AuditAction.COMPLETENESS,
        who.user.name,
        who.role,
        "completeness of every account",
        who.client,
        note=f"{len(rows)} account(s) reported",
    )
    return AccountsOut(accounts=accounts, note=note)


def _account_row(state: AppState, account: str) -> dict[str, Any]:
    row = _rows(state).account(account)
    if row is None:
        raise HTTPException(404, f"no completeness report for account {account}")
    return row


def account_calendar(state: AppState, who: Principal, account: str) -> CalendarOut:
    """The account's latest report and its months' figures (not their items), oldest month first."""
    row = _account_row(state, account)
    months = [_month_out(m) for m in _rows(state).months(account, items=False)]
    out = CalendarOut(account=_account_out(state, account, row, _head(state, account)), months=months)
    state.audit_event(
        AuditAction.COMPLETENESS,
        who.user.name,
        who.role,
        f"completeness of {account}",
        who.client,
        note=f"{out.account.text}: {out.account.report_key}",
    )
    return out


def _post(doc: dict[str, Any]) -> PostOut:
    text = str(doc.get("text") or "")
    return PostOut(
        record_id=str(doc["record_id"]),
        item_key=str(doc["item_key"]),
        kind=doc.get("kind"),
        title=doc.get("title"),
        text=text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…",
        url=doc.get("url"),
        published_at=doc.get("published_at"),
        deleted=bool(doc.get("deleted")),
    )


def month_items(state: AppState, who: Principal, account: str, month: str) -> MonthItemsOut:
    """The month's items whose counts disagree: each with its post, its evidence and what was done."""
    row = _account_row(state, account)
    found = _rows(state).month(account, month)
    if found is None:
        raise HTTPException(404, f"no completeness row for {account} in {month}")
    check = MonthCheck.model_validate(found["check"])
    report = _report(row)
    same = found.get("report_key") == report.key  # a month compared on demand (`--month`) by a later report
    head = _head(state, account)
    alarm_runs = state.settings.completeness_alarm_runs
    posts = latest_of_items(state.archive.index, account, [i.item_id for i in check.items])
    items = [
        _item(account, month, i, posts.get(i.item_id), report if same else None, head, alarm_runs) for i in check.items
    ]
    state.audit_event(
        AuditAction.COMPLETENESS,
        who.user.name,
        who.role,
        f"completeness of {account} {month}",
        who.client,
        note=f"{status_text(check.status, check.missing)}: {found.get('report_key')}",
    )
    state.audit_shown(
        AuditAction.VIEW,
        [p.record_id for p in (x.post for x in items) if p is not None],
        who.user.name,
        who.role,
        who.client,
        note=f"completeness of {account} {month}",
    )
    return MonthItemsOut(
        account=_account_out(state, account, row, head),
        month=_month_out(check),
        report_key=found.get("report_key"),
        run_id=found.get("run_id"),
        made_at=found.get("made_at"),
        items=items,
        listed_at_most=LISTED,
    )


def _item(
    account: str,
    month: str,
    item: ItemCheck,
    doc: dict[str, Any] | None,
    report: CompletenessReport | None,
    head: HarvestState | None,
    alarm_runs: int,
) -> ItemOut:
    return ItemOut(
        item_id=item.item_id,
        status=item.status,
        text=status_text(item.status, max(item.published - item.archived, 0)),
        covers=item.covers.value,
        published=item.published,
        archived=item.archived,
        note=item.note,
        post=_post(doc) if doc is not None else None,
        evidence=EvidenceOut.of(item.evidence, evidence_url(account, month, item=item.item_id)),
        done=[DoneOut(step=d.step, text=d.text) for d in what_was_done(item, report, head, alarm_runs=alarm_runs)],
    )


# --- the evidence's bytes ------------------------------------------------------------------------


def _send_evidence(state: AppState, who: Principal, account: str, evidence: Evidence, what: str) -> bytes:
    w = evidence.warc
    state.audit_event(
        AuditAction.WARC,
        who.user.name,
        who.role,
        f"completeness evidence of {account} {what}",
        who.client,
        note=f"{w.filename}@{w.offset}+{w.length}",
    )
    return fetch_location(state.archive.store, account, w)


def item_evidence(state: AppState, who: Principal, account: str, month: str, item_id: str) -> tuple[Evidence, bytes]:
    """The WARC record that showed an item's count, as the month's report names it (no other location)."""
    found = _rows(state).month(account, month)
    check = MonthCheck.model_validate(found["check"]) if found else None
    item = next((i for i in check.items if i.item_id == item_id), None) if check else None
    if item is None:
        raise HTTPException(404, f"no count of {item_id} in the completeness of {account} {month}")
    return item.evidence, _send_evidence(state, who, account, item.evidence, f"{month} {item_id}")


def total_evidence(
    state: AppState, who: Principal, account: str, what: str, detail: str | None
) -> tuple[Evidence, bytes]:
    """The WARC record that showed an account total, as the account's latest report names it."""
    report = _report(_account_row(state, account))
    total = next((t for t in report.totals if t.what.value == what and t.detail == (detail or None)), None)
    if total is None or total.evidence is None:
        raise HTTPException(404, f"no {what} total read for {account}")
    return total.evidence, _send_evidence(state, who, account, total.evidence, f"total {what}")
