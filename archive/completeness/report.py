"""Computing completeness: an account's published counts against its holdings, a batch of items at a time.

`account_report` compares everything (or one month): the account totals, and every per-item count
streamed from the counts index in item id order, a thousand at a time, each batch answered by one
holdings request; months are tallied as the items pass, so memory holds a batch and one tally per
month (120 months of a million items: 120 tallies), never the account. `check_items` does the same for
a run's own items only (the counts it read, and the items it backfilled): an incremental run's cost
follows what it read, not the account's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from schemas import (
    CompletenessReport,
    CountOf,
    CountReading,
    Covers,
    MonthCheck,
    Platform,
    Status,
    Tolerance,
    TotalCheck,
)
from schemas.completeness import worst

from .. import clock
from ..connectors.base import Capabilities
from ..index import RecordIndex
from ..index.counts import PublishedCounts
from ..index.holdings import BATCH, ItemHolding, count_selected, holdings_of, own_posts_per_month
from .compare import MonthTally, evidence, judge, unknowable_month
from .scope import READABLE_FOR, capabilities, selector

#: Items a report or a check names for the next run to re-read, at most (the head keeps them).
BACKFILL_MAX = 1000


@dataclass
class Compared:
    """Items compared, by month, with the items found short."""

    months: dict[str, MonthTally] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    """Items each a gap on its own (at most BACKFILL_MAX)."""
    deleted: int = 0


def _batches(readings: Iterable[CountReading]) -> Iterator[list[CountReading]]:
    it = iter(r for r in readings if r.item_id is not None)
    while batch := list(islice(it, BATCH)):
        yield batch


def compare_items(
    index: RecordIndex,
    account: str,
    readings: Iterable[CountReading],
    tolerance: Tolerance,
    *,
    readable_for: timedelta | None = None,
) -> Compared:
    """Each reading's item against its archived comments, tallied by month of publication; with
    `readable_for`, an item first archived when older than that is left uncompared (scope.READABLE_FOR)."""
    out = Compared()
    archive = index.exists()  # asked once: an empty archive holds nothing, a batch never "nothing" by itself
    for batch in _batches(readings):
        covers = {r.covers for r in batch}
        ids = [r.item_id or "" for r in batch]
        held = (
            holdings_of(index, account, ids, children=Covers.CHILDREN in covers, thread=Covers.THREAD in covers)
            if archive
            else {i: ItemHolding(i, archived=False) for i in ids}
        )
        for reading in batch:
            item = held[reading.item_id or ""]
            if item.deleted:  # the platform's count is of an item the archive has seen removed since
                out.deleted += 1
                continue
            month = reading.month or (item.published_at.strftime("%Y-%m") if item.published_at else "undated")
            archived = item.children if reading.covers is Covers.CHILDREN else item.thread
            tally = out.months.setdefault(month, MonthTally(month))
            own_post = item.archived and item.kind == "post" and item.direction == "upprattad" and not item.repost
            if readable_for is not None and _past_reading(item, readable_for):
                tally.cannot_compare(own_post=own_post)
                continue
            check = tally.add(
                reading,
                archived,
                tolerance,
                own_post=own_post,
                archived_item=item.archived,
                covers=reading.covers,
            )
            if check is not None and check.status is Status.GAP and len(out.gaps) < BACKFILL_MAX:
                out.gaps.append(check.item_id)
    return out


def _past_reading(item: ItemHolding, readable_for: timedelta) -> bool:
    """Whether the archive first saw the item when its replies could already no longer all be read."""
    if item.first_seen_at is None or item.published_at is None:
        return False
    return item.first_seen_at - item.published_at > readable_for


def check_totals(
    index: RecordIndex, account: str, platform: Platform, caps: Capabilities, tolerance: Tolerance
) -> list[TotalCheck]:
    """Every account total the connector declares, against the archived items it counts (one request)."""
    wanted = [(p, d) for p in caps.published if not p.per_item for d in (p.details or (None,))]
    selectors = {f"{p.what.value}|{d or ''}": s for p, d in wanted if (s := selector(platform, p.what, d))}
    archived = count_selected(index, account, selectors) if index.exists() else dict.fromkeys(selectors, 0)
    read = {(r.what, r.detail): r for r in PublishedCounts.beside(index).totals(account)}
    checks = []
    for p, detail in wanted:
        reading = read.get((p.what, detail))
        held = archived.get(f"{p.what.value}|{detail or ''}")
        published = reading.value if reading else None
        proof = evidence(reading) if reading else None
        if held is None:
            note = f"the archive does not tell {p.what.value} ({detail}) apart"
            checks.append(
                TotalCheck(
                    what=p.what, detail=detail, status=Status.UNKNOWABLE, published=published, note=note, evidence=proof
                )
            )
            continue
        if reading is None:
            note = f"`{p.field}` not read yet: the next harvest reads it"
            checks.append(TotalCheck(what=p.what, detail=detail, status=Status.UNKNOWABLE, archived=held, note=note))
            continue
        status = judge(reading.value, held, tolerance)
        note = f"{held} archived of {reading.value} (`{p.field}`)"
        if status is not Status.COMPLETE and p.note:
            note += f"; the platform counts {p.note}"
        checks.append(
            TotalCheck(
                what=p.what,
                detail=detail,
                status=status,
                published=reading.value,
                archived=held,
                note=note,
                evidence=proof,
            )
        )
    return checks


def unknowable_parts(caps: Capabilities) -> list[str]:
    """What the platform does not publish, so the report cannot know, in the connector's own words."""
    parts = []
    if not any(not p.per_item for p in caps.published):
        parts.append(f"account totals: not published ({caps.counts})")
    if caps.per_item(CountOf.COMMENTS) is None:
        parts.append(f"comments per post: not published ({caps.counts})")
    return parts


def account_report(
    index: RecordIndex,
    account: str,
    platform: Platform,
    tolerance: Tolerance,
    *,
    month: str | None = None,
    run_id: str | None = None,
    made_by: str,
    now: datetime | None = None,
    reread: Sequence[str] = (),
) -> CompletenessReport:
    """The account's completeness now: its totals (for the whole account) and every month (or `month`).
    `reread`: the backfill the run this report follows was asked to read again, kept in the report so that
    "what was done" about a gap is part of the record a records manager signs off."""
    caps = capabilities(platform)
    counts = PublishedCounts.beside(index)
    totals = check_totals(index, account, platform, caps, tolerance) if month is None else []
    posts = own_posts_per_month(index, account, month=month) if index.exists() else {}
    unknowable = unknowable_parts(caps)
    backfill: list[str] = []
    deleted = 0
    if caps.per_item(CountOf.COMMENTS) is None:
        why = f"the platform publishes no per-post comment count: {caps.counts}"
        months = [unknowable_month(m, n, why) for m, n in sorted(posts.items())]
    else:
        readings = counts.items_of_month(account, month) if month else counts.items(account)
        compared = compare_items(index, account, readings, tolerance, readable_for=READABLE_FOR.get(platform))
        deleted = compared.deleted
        months = []
        for m in sorted(set(posts) | set(compared.months)):
            tally = compared.months.get(m) or MonthTally(m)
            checked = tally.result(tolerance, posts.get(m, 0))
            months.append(checked)
            if checked.status is Status.GAP:  # a month short in sum: every item short in it is re-read
                backfill += [i for i in tally.short if i not in backfill][: BACKFILL_MAX - len(backfill)]
        backfill += [i for i in compared.gaps if i not in backfill][: BACKFILL_MAX - len(backfill)]
    parts = [t.status for t in totals] + [m.status for m in months]
    status = worst(parts) if parts else Status.UNKNOWABLE
    return CompletenessReport(
        account=account,
        platform=platform,
        scope="account" if month is None else f"month {month}",
        run_id=run_id or clock.new_run_id(),
        made_at=now or clock.now(),
        made_by=made_by,
        status=status,
        summary=summarize(status, totals, months, unknowable),
        tolerance=tolerance,
        totals=totals,
        months=months,
        unknowable=unknowable,
        deleted_since=deleted,
        backfill=backfill,
        reread=list(dict.fromkeys(reread))[:BACKFILL_MAX],
    )


def summarize(status: Status, totals: list[TotalCheck], months: list[MonthCheck], unknowable: list[str]) -> str:
    """The report in one line: its status, what is missing where, and what could not be compared."""
    gap_months = [m for m in months if m.status is Status.GAP]
    parts = [status.value]
    if gap_months:
        missing = sum(m.missing for m in gap_months)
        items = sum(m.gap_items for m in gap_months) or sum(
            1 for m in gap_months for i in m.items if i.published > i.archived
        )
        shown = ", ".join(m.month for m in gap_months[:6]) + (" …" if len(gap_months) > 6 else "")
        parts.append(f"{missing} comment(s) missing under {items} item(s) in {len(gap_months)} month(s) ({shown})")
    for t in totals:
        if t.status is Status.GAP and t.published is not None and t.archived is not None:
            parts.append(f"{t.what.value} total: {t.published - t.archived} missing ({t.archived} of {t.published})")
    counted = [m for m in months if m.status is not Status.UNKNOWABLE]
    if counted and not gap_months:
        held, shown_ = sum(m.archived for m in counted), sum(m.published for m in counted)
        parts.append(f"{held} of {shown_} published comments archived in {len(counted)} month(s)")
    unknown = [m for m in months if m.status is Status.UNKNOWABLE]
    if unknown:
        parts.append(f"{len(unknown)} month(s) not knowable")
    surplus = sum(m.surplus for m in months)
    if surplus:
        parts.append(f"{surplus} more archived than counted (removed or hidden since: expected)")
    if unknowable:
        parts.append("; ".join(unknowable))
    return parts[0] + (": " + "; ".join(parts[1:]) if len(parts) > 1 else "")


@dataclass
class ItemsCheck:
    """A run's own check: the items it read counts for (and its backfill), and the totals."""

    checked: int
    gaps: list[str]
    totals: list[TotalCheck]
    status: Status
    line: str


def check_items(
    index: RecordIndex, account: str, platform: Platform, item_ids: Iterable[str], tolerance: Tolerance
) -> ItemsCheck:
    """The totals and the given items only (each against its own count; months are the full report's)."""
    caps = capabilities(platform)
    totals = check_totals(index, account, platform, caps, tolerance)
    unknowable = unknowable_parts(caps)
    statuses = [t.status for t in totals]
    compared = Compared()
    if caps.per_item(CountOf.COMMENTS) is not None:
        counts = PublishedCounts.beside(index)
        compared = compare_items(
            index, account, _readings_of(counts, account, item_ids), tolerance, readable_for=READABLE_FOR.get(platform)
        )
        if compared.gaps:
            statuses.append(Status.GAP)
        elif any(t.surplus for t in compared.months.values()):
            statuses.append(Status.SURPLUS)
        elif compared.months:
            statuses.append(Status.COMPLETE)
    status = worst(statuses) if statuses else Status.UNKNOWABLE
    checked = sum(t.counted for t in compared.months.values())
    missing = sum(t.missing for t in compared.months.values())
    line = f"{status.value}: {checked} item(s) checked"
    if compared.gaps:
        line += f", {missing} comment(s) missing under {len(compared.gaps)} item(s) (re-read next run)"
    line += "".join(
        f"; {t.what.value} total {t.status.value} ({t.note})" for t in totals if t.status is not Status.COMPLETE
    )
    if unknowable:
        line += "; " + "; ".join(unknowable)
    return ItemsCheck(checked=checked, gaps=compared.gaps, totals=totals, status=status, line=line)


def _readings_of(counts: PublishedCounts, account: str, item_ids: Iterable[str]) -> Iterator[CountReading]:
    """The per-item comment counts of `item_ids`, a batch of ids at a time."""
    it = iter(item_ids)
    while batch := list(islice(it, BATCH)):
        found = counts.for_items(account, batch)
        for item_id in batch:
            yield from (r for r in found.get(item_id, []) if r.what is CountOf.COMMENTS)
