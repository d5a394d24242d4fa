"""The comparison rules, apart from any service: one count against the archive, items into months.

A count is a *gap* when the platform shows more than the archive holds by more than the tolerance
allows, a *surplus* when the archive holds more (items deleted or hidden since the count was read:
expected, and said so), else *complete*. A month adds its items up: it is a gap when one of its items
is, or when the items' shortfalls together exceed what the tolerance allows of the month's sum (many
posts each one short are a gap even if each alone is within the allowance). A month with own posts
whose counts were not read cannot be called complete: it is *unknowable* until they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas import CountReading, Covers, Evidence, ItemCheck, MonthCheck, Status, Tolerance

#: Disagreeing items listed per month in a report (the counts of all of them are kept regardless).
LISTED = 200


def judge(published: int, archived: int, tolerance: Tolerance) -> Status:
    """One count against what the archive holds of it."""
    if published - archived > tolerance.allowed(published):
        return Status.GAP
    if archived > published:
        return Status.SURPLUS
    return Status.COMPLETE


def evidence(reading: CountReading) -> Evidence:
    return Evidence(captured_at=reading.captured_at, source_url=reading.source_url, warc=reading.warc)


def item_note(status: Status, published: int, archived: int, *, archived_item: bool) -> str:
    """Why an item is listed, in words a records manager reads."""
    if status is Status.SURPLUS:
        return f"{archived - published} more archived than the platform counts: removed or hidden since it was read"
    missing = published - archived
    where = "" if archived_item else "; the item itself is not in the archive"
    if status is Status.GAP:
        return f"{missing} missing{where}"
    return f"{missing} missing, within the tolerance{where}"


@dataclass
class MonthTally:
    """The counted items of one month, added up as they stream past (bounded: at most `LISTED` kept)."""

    month: str
    counted: int = 0
    own_counted: int = 0
    published: int = 0
    archived: int = 0
    missing: int = 0
    surplus: int = 0
    gap_items: int = 0
    surplus_items: int = 0
    incomparable: int = 0
    own_incomparable: int = 0
    listed: list[ItemCheck] = field(default_factory=list)
    short: list[str] = field(default_factory=list)
    """Items with any shortfall (at most `LISTED`): what a backfill re-reads when the month is a gap."""

    def add(
        self,
        reading: CountReading,
        archived: int,
        tolerance: Tolerance,
        *,
        own_post: bool,
        archived_item: bool,
        covers: Covers,
    ) -> ItemCheck | None:
        """Count one item in; its check when it disagrees (listed while there is room), else None."""
        published = reading.value
        self.counted += 1
        self.own_counted += own_post
        self.published += published
        self.archived += archived
        status = judge(published, archived, tolerance)
        if published == archived:
            return None
        if archived > published:
            self.surplus += archived - published
            self.surplus_items += 1
        else:
            self.missing += published - archived
            self.gap_items += status is Status.GAP
            if len(self.short) < LISTED:
                self.short.append(reading.item_id or "")
        check = ItemCheck(
            item_id=reading.item_id or "",
            month=self.month,
            covers=covers,
            published=published,
            archived=archived,
            status=status,
            note=item_note(status, published, archived, archived_item=archived_item),
            evidence=evidence(reading),
        )
        if len(self.listed) < LISTED:
            self.listed.append(check)
        return check

    def cannot_compare(self, *, own_post: bool) -> None:
        """An item whose count cannot be matched (its replies were past reading when first archived)."""
        self.incomparable += 1
        self.own_incomparable += own_post

    def status(self, tolerance: Tolerance, unread: int) -> Status:
        if self.gap_items or self.missing > tolerance.allowed(self.published):
            return Status.GAP
        if unread or self.incomparable or not self.counted:
            return Status.UNKNOWABLE
        return Status.SURPLUS if self.surplus else Status.COMPLETE

    def result(self, tolerance: Tolerance, posts: int) -> MonthCheck:
        """The month's check, `posts` being the account's own posts archived from it."""
        unread = max(posts - self.own_counted - self.own_incomparable, 0)
        status = self.status(tolerance, unread)
        return MonthCheck(
            month=self.month,
            status=status,
            posts=posts,
            counted=self.counted,
            unread=unread,
            published=self.published,
            archived=self.archived,
            missing=self.missing,
            surplus=self.surplus,
            gap_items=self.gap_items,
            surplus_items=self.surplus_items,
            incomparable=self.incomparable,
            items=self.listed,
            note=month_note(self, status, unread),
        )


def month_note(tally: MonthTally, status: Status, unread: int) -> str:
    parts = [f"{tally.archived} of {tally.published} published comments archived under {tally.counted} item(s)"]
    if tally.missing:
        parts.append(f"{tally.missing} missing under {len(tally.short)} item(s)")
    if tally.surplus:
        parts.append(f"{tally.surplus} more archived than counted (removed or hidden since: expected)")
    if unread:
        parts.append(f"{unread} own post(s) with no count read yet (the next sweep reads them)")
    if tally.incomparable:
        parts.append(
            f"{tally.incomparable} item(s) first archived after their replies could no longer be read: "
            "their counts cannot be matched"
        )
    if status is Status.UNKNOWABLE and not tally.counted and not unread and not tally.incomparable:
        parts = ["no count read"]
    return "; ".join(parts)


def unknowable_month(month: str, posts: int, why: str) -> MonthCheck:
    """A month on a platform that publishes no per-item count: its posts, and why nothing is compared."""
    return MonthCheck(month=month, status=Status.UNKNOWABLE, posts=posts, unread=posts, note=why)
