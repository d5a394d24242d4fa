"""The retention schedule (informationshanteringsplan / records retention schedule) and disposal records.

Keeping is the default (SE-12): a record may go only under a rule that cites an adopted
decision (SE-14, US-3). A rule without a decision is a draft and disposes of nothing. A
disposal runs in three steps by at least two people (US-7): a *disposition list* is planned,
approved by someone else, executed by someone other than the approver, and leaves a
*disposal certificate* (SE-16, US-8) that is never disposed of.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import AwareDatetime, Field, field_validator, model_validator

from ._base import Model
from .account import SLUG_PATTERN
from .retention import RetentionClass

G = TypeVar("G", bound=Model)
"""A disposition list's file entry: the whole file (`FileGroup`) or its summary (`FileSummary`)."""


class ScheduleTrigger(StrEnum):
    """What a rule's retention period is counted from."""

    PUBLISHED = "published"  # the platform's publication time (capture time when unknown)
    CAPTURED = "captured"
    END_OF_YEAR = "end_of_year"  # the end of the calendar year of capture, as Swedish plans often count


class RuleAction(StrEnum):
    """What happens when the period has run: dispose (gallra), keep (bevara) or transfer to an e-archive."""

    DISPOSE = "dispose"
    KEEP = "keep"
    TRANSFER = "transfer"


class Decision(Model):
    """The adopted decision a rule rests on: Swedish gallringsbeslut or a US schedule item."""

    body: str = Field(min_length=1, description="Deciding body, e.g. Kommunstyrelsen, or the approving archives.")
    date: date
    reference: str = Field(
        min_length=1,
        description='Paragraph and case number, e.g. "KS 2025-03-12 § 45, dnr KS 2025/77", or the schedule citation.',
    )
    schedule: str | None = Field(default=None, description="US: the schedule (e.g. WA CORE, FL GS1-SL).")
    item: str | None = Field(default=None, description="US: item number or DAN.")
    investigation: str | None = Field(default=None, description="Link to the gallringsutredning / appraisal.")

    def cite(self) -> str:
        """One line naming the decision, as certificates and lists print it."""
        us = " ".join(p for p in (self.schedule, f"item {self.item}" if self.item else None) if p)
        return f"{self.body}, {self.date.isoformat()}: {self.reference}" + (f" ({us})" if us else "")


class RuleMatch(Model):
    """Which records a rule covers. Every list left empty matches anything; lists combine with AND."""

    platforms: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list, description="post, page, comment, reply, media.")
    directions: list[str] = Field(default_factory=list, description="upprattad (drawn up) or inkommen (received).")
    tags: list[str] = Field(default_factory=list, description="Hashtags as the records carry them.")

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {"post", "page", "comment", "reply", "media"})
        if unknown:
            raise ValueError(f"unknown kind(s) {', '.join(unknown)}: use post, page, comment, reply, media")
        return value

    @field_validator("directions")
    @classmethod
    def _known_directions(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {"upprattad", "inkommen"})
        if unknown:
            raise ValueError(f"unknown direction(s) {', '.join(unknown)}: use upprattad or inkommen")
        return value


class RetentionRule(Model):
    """One line of the schedule: which records, which class, what happens, under which decision."""

    id: str = Field(pattern=SLUG_PATTERN)
    description: str = Field(min_length=1, description="What the records are (series description).")
    series: str = Field(default="", description="Series title, as the schedule names it (US-8).")
    match: RuleMatch = Field(default_factory=RuleMatch)
    retention_class: str = Field(alias="class", pattern=SLUG_PATTERN, description="Name of a retention class.")
    trigger: ScheduleTrigger | None = Field(default=None, description="Overrides the class's trigger.")
    action: RuleAction = RuleAction.DISPOSE
    decision: Decision | None = Field(default=None, description="Without one the rule is a draft.")

    @property
    def active(self) -> bool:
        """Only a rule resting on an adopted decision counts; a draft disposes of nothing."""
        return self.decision is not None

    @property
    def series_title(self) -> str:
        return self.series or self.description


class RetentionSchedule(Model):
    """The schedule file: rules in order (the first active match wins) and optional classes of its own."""

    classes: list[RetentionClass] = Field(default_factory=list, description="Added to the configured classes.")
    rules: list[RetentionRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> RetentionSchedule:
        for what, names in (("rule id", [r.id for r in self.rules]), ("class", [c.name for c in self.classes])):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"duplicate {what} {', '.join(dup)}")
        return self


class RecordEntry(Model):
    """One record on a list or certificate: its id, its rule and the digests that prove what it was."""

    record_id: str
    rule_id: str
    warc_sha256: str | None = Field(default=None, description="SHA-256 of its stored WARC record bytes.")
    content_sha256: str | None = None


class RuleCitation(Model):
    """A rule as it stood when the list was planned, so the list and certificate stand on their own."""

    rule_id: str
    retention_class: str
    series: str
    description: str
    decision: Decision
    minimum_retention: str = Field(description='The period, e.g. "2 years from the end of the year".')


class FileGroup(Model):
    """One stored WARC file whose records are all disposable: it goes whole, or not at all."""

    key: str = Field(description="Storage key of the WARC file.")
    account: str
    file_class: str = Field(description="Retention class the file was written under.")
    file_sha256: str | None = None
    bytes: int = Field(default=0, ge=0)
    locked_until: AwareDatetime | None = Field(default=None, description="Object Lock retain-until when planned.")
    rules: list[RuleCitation] = Field(min_length=1, description="The rule(s) its records were due under.")
    first_captured: AwareDatetime
    last_captured: AwareDatetime
    retention_met: AwareDatetime = Field(description="When the last of its records reached its disposal date.")
    records: list[RecordEntry]

    @property
    def record_count(self) -> int:
        return len(self.records)

    def summary(self) -> FileSummary:
        return FileSummary(**self.model_dump(exclude={"records"}), record_count=len(self.records))


class FileSummary(Model):
    """A file of a list without its record entries: what a report, the CLI or an audit event shows of it."""

    key: str
    account: str
    file_class: str
    file_sha256: str | None = None
    bytes: int = Field(default=0, ge=0)
    locked_until: AwareDatetime | None = None
    rules: list[RuleCitation] = Field(min_length=1)
    first_captured: AwareDatetime
    last_captured: AwareDatetime
    retention_met: AwareDatetime
    record_count: int = Field(ge=0)


class KeptFile(Model):
    """A file holding due records that stays, and why (it holds retained records, or others need it)."""

    key: str
    reason: str
    due_records: int = 0
    retained_records: int = 0


class ExcludedCounts(Model):
    """What the planner kept, by reason. no_rule and draft_rule count the whole index."""

    held: int = Field(default=0, description="Due records under a legal hold.")
    open_case: int = Field(default=0, description="Due records in an open public-records request.")
    no_rule: int = Field(default=0, description="Records no rule covers: kept (keeping is the default).")
    draft_rule: int = Field(default=0, description="Records only a draft rule covers: kept until it is adopted.")
    not_due: int = Field(
        default=0,
        description=(
            "Records under a dispose rule whose period has not run (among those older than the shortest period, "
            "the only ones scanned)."
        ),
    )
    kept_by_rule: int = Field(
        default=0, description=("Records a disposing rule matches that an earlier keep/transfer/permanent rule keeps.")
    )
    file_kept: int = Field(default=0, description="Due records whose file also holds retained records.")


class ListStatus(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    EXECUTED = "executed"


class _ListFields(Model, Generic[G]):
    """What a disposition list and its summary share; `groups` holds whole files or their summaries
    (one definition, so the two never drift apart and keep their fields in one order)."""

    id: str
    as_of: AwareDatetime
    planned_by: str
    planned_at: AwareDatetime
    schedule_sha256: str = Field(description="SHA-256 of the schedule file the list was planned under.")
    groups: list[G] = Field(default_factory=list)
    kept_files: list[KeptFile] = Field(default_factory=list)
    excluded: ExcludedCounts = Field(default_factory=ExcludedCounts)
    status: ListStatus = ListStatus.PLANNED
    approved_by: str | None = None
    approved_at: AwareDatetime | None = None
    executed_by: str | None = None
    executed_at: AwareDatetime | None = None


class DispositionList(_ListFields[FileGroup]):
    """What would be disposed of on `as_of`, file by file, under which rule and decision."""

    @property
    def record_count(self) -> int:
        return sum(len(g.records) for g in self.groups)

    @property
    def byte_count(self) -> int:
        return sum(g.bytes for g in self.groups)

    def summary(self) -> ListSummary:
        return ListSummary(
            **self.model_dump(exclude={"groups"}),
            groups=[g.summary() for g in self.groups],
            record_count=self.record_count,
            byte_count=self.byte_count,
        )


class ListSummary(_ListFields[FileSummary]):
    """A disposition list without its record entries, which stay in the stored list (retention/lists/{id}.json).

    What planning returns: a list of a million records is written as it is planned, never held whole,
    and its callers (the audit event, the CLI, the nightly flow's report) need only the files and totals.
    """

    record_count: int = Field(default=0, ge=0)
    byte_count: int = Field(default=0, ge=0)


class Approval(Model):
    """The records manager's signature on a list, stored apart from the list (write-once)."""

    list_id: str
    by: str
    at: AwareDatetime
    note: str = ""


class ExecutionStart(Model):
    """Who started executing a list and when (write-once; a resumed run keeps it)."""

    list_id: str
    by: str
    at: AwareDatetime


class FileOutcomeKind(StrEnum):
    DISPOSED = "disposed"
    SKIPPED = "skipped"


class FileOutcome(Model):
    """The journal entry for one file of a list: disposed, or skipped with the reason. Write-once."""

    list_id: str
    key: str
    outcome: FileOutcomeKind
    reason: str = ""
    by: str
    at: AwareDatetime
    records: int = 0


class SkippedFile(Model):
    key: str
    reason: str
    records: int


class DisposalCertificate(Model):
    """The permanent proof of a disposal (gallringsprotokoll, destruction log): what went, why, who."""

    id: str
    list_id: str
    organisation: str
    as_of: AwareDatetime
    planned_by: str
    planned_at: AwareDatetime
    approved_by: str
    approved_at: AwareDatetime
    executed_by: str
    executed_at: AwareDatetime
    completed_at: AwareDatetime
    resumed_by: list[str] = Field(default_factory=list)
    method: str
    statement: str
    files: list[FileGroup] = Field(default_factory=list, description="Each disposed file with its records.")
    skipped: list[SkippedFile] = Field(default_factory=list)
    record_count: int = 0
    byte_count: int = 0
    dates_covered: tuple[datetime, datetime] | None = None


class ErasureAnswer(Model):
    """The answer to a GDPR erasure request for one record: the rule and the earliest disposal date."""

    record_id: str
    found: bool
    rule_id: str | None = None
    rule_active: bool = False
    action: RuleAction | None = None
    decision: str | None = None
    disposal_date: AwareDatetime | None = Field(default=None, description="None: kept (no rule, or permanent).")
    held: bool = False
    in_open_case: bool = False
    explanation: str


class RecordChange(Model):
    """Records whose rule, class or disposal date a schedule change altered, counted per kind of change."""

    old_rule: str | None = Field(description="The active rule before (None: no rule, kept).")
    new_rule: str | None
    old_class: str | None
    new_class: str | None
    disposal: str = Field(description='"later", "earlier", "same", "now kept", "now disposable" or "kept".')
    records: int = 0
    files: int = 0
    examples: list[str] = Field(default_factory=list, description="Some of the record ids.")


class LockChange(Model):
    """A stored file whose records' periods changed: what its Object Lock retain-until became, and why."""

    key: str
    old_period_end: AwareDatetime | None = Field(description="The latest period end of its records before.")
    new_period_end: AwareDatetime | None
    locked_until: AwareDatetime | None = Field(description="The retain-until the store held before.")
    outcome: str = Field(
        description='"extended", "locked long enough", "shorter: takes effect when the current '
        'lock expires", "no period now", "not in the store", or "refused: …".'
    )


class Reevaluation(Model):
    """What a new schedule changes for the records already archived (write-once report)."""

    id: str
    at: AwareDatetime
    by: str
    previous_schedule_sha256: str
    schedule_sha256: str
    dry_run: bool = False
    scanned: int = 0
    changed: int = 0
    changes: list[RecordChange] = Field(default_factory=list)
    locks: list[LockChange] = Field(default_factory=list)

    @property
    def extended(self) -> int:
        return sum(1 for lock in self.locks if lock.outcome == "extended")


__all__ = [
    "Approval",
    "Decision",
    "DisposalCertificate",
    "DispositionList",
    "ErasureAnswer",
    "ExcludedCounts",
    "ExecutionStart",
    "FileGroup",
    "FileOutcome",
    "FileOutcomeKind",
    "KeptFile",
    "ListStatus",
    "LockChange",
    "RecordChange",
    "RecordEntry",
    "Reevaluation",
    "RetentionRule",
    "RetentionSchedule",
    "RuleAction",
    "RuleCitation",
    "RuleMatch",
    "ScheduleTrigger",
    "SkippedFile",
]
