"""A report in words for the people who read it: each status as text, and what was done about each gap.

The web app's calendar never says a status by colour alone, so every status has its words here, the
same wherever it is shown (a month cell, an item, a total). What was done about an item comes from two
records: the report (the backfill it left for the next run, and the backfill the run it follows was
asked to re-read: `CompletenessReport.reread`) and the account's harvest head now (`HarvestState`: the
backfill still waiting and how many runs in a row ended in a gap), against the alarm threshold
(`COMMUNIS_COMPLETENESS_ALARM_RUNS`). The head can be newer than the report: a scheduled run checks
its own items without making a report, so the head is what says whether an item still waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemas import CompletenessReport, HarvestState, ItemCheck, Status


def status_text(status: Status, missing: int = 0) -> str:
    """The status in words: complete / gap of N / more in the archive / not knowable."""
    if status is Status.GAP:
        return f"gap of {missing}"
    return {
        Status.COMPLETE: "complete",
        Status.SURPLUS: "more in the archive",
        Status.UNKNOWABLE: "not knowable",
    }[status]


class Step(StrEnum):
    """What was done about one disagreeing item."""

    NOTHING = "nothing"  # more in the archive (expected), or short within the tolerance
    REREAD = "reread"  # the run the report follows read its thread again, and it was still short
    QUEUED = "queued"  # the head's backfill: the next run reads its thread again
    ALARMED = "alarmed"  # the account's gap has lasted the configured runs: alarmed (health, webhook)
    NOT_WAITING = "not-waiting"  # the report left it for a backfill, the head no longer waits for it
    NOT_QUEUED = "not-queued"  # short, but the backfill was full: the next sweep reads it


@dataclass(frozen=True)
class Done:
    step: Step
    text: str


def what_was_done(
    item: ItemCheck, report: CompletenessReport | None, head: HarvestState | None, *, alarm_runs: int
) -> list[Done]:
    """What was done about `item`, oldest first: the report's part (`report` is the report that compared
    its month, None if that was not the account's latest whole report), then the head's."""
    if item.status is Status.SURPLUS:
        return [Done(Step.NOTHING, "nothing to do: removed or hidden on the platform since it was archived (expected)")]
    short = item.published - item.archived
    steps: list[Done] = []
    if report is not None and item.item_id in report.reread:
        steps.append(Done(Step.REREAD, f"re-read in run {report.run_id}: still {short} short"))
    waiting = head is not None and item.item_id in head.backfill
    if waiting and head is not None:
        steps.append(Done(Step.QUEUED, "backfill queued: the next run reads its thread again"))
        if head.gap_runs >= alarm_runs:
            steps.append(Done(Step.ALARMED, f"alarmed after {head.gap_runs} runs in a row with a gap"))
        elif head.gap_runs:
            steps.append(Done(Step.QUEUED, f"a gap {head.gap_runs} run(s) in a row: an alarm after {alarm_runs} runs"))
    elif report is not None and item.item_id in report.backfill:
        last = f": its last check says {head.completeness!r}" if head is not None and head.completeness else ""
        steps.append(
            Done(Step.NOT_WAITING, f"left for a backfill by this report; the harvest no longer waits for it{last}")
        )
    elif item.status is Status.COMPLETE:
        steps.append(Done(Step.NOTHING, f"nothing to do: {short} missing is within the tolerance"))
    elif not steps:
        steps.append(Done(Step.NOT_QUEUED, "not queued (the backfill was full): the next sweep reads it"))
    return steps
