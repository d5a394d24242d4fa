"""The JSON of `/api/requests` and `/api/holds`: what comes in (validated, extra fields refused) and
what goes out, made from what archive/usecases/ returns."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas import Mask, MediaAction
from schemas.cases import RequestCase
from schemas.holds import LegalHold
from schemas.search import SavedSearch

from ..holds import HoldOutcome
from ..requests.workflow import RunResult
from ..usecases.holds import HeldRecords
from ..usecases.requests import CaseClock, CaseView, MaskRef, Package, Produced

# --- in ----------------------------------------------------------------------------------------


class CaseCreate(BaseModel):
    """A request as received. Requester and reason are optional: anyone may ask anonymously (TF 2:18)."""

    model_config = ConfigDict(extra="forbid")

    requester: str | None = Field(default=None, max_length=500)
    request_text: str = Field(default="", max_length=20_000)
    diary_number: str | None = Field(default=None, max_length=100, description="The municipality's dnr.")
    profile: str = Field(default="se", description="Jurisdiction profile id: se, us-foia, us-wa …")
    searches: list[SavedSearch] = Field(min_length=1, max_length=50)
    received_at: AwareDatetime | None = Field(
        default=None,
        description="When the request arrived, if before now (a letter registered later); "
        "the response clock counts from it. Never in the future.",
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include: bool
    reason: str = Field(min_length=1, max_length=2000, description="Why; kept with the decision.")


class DecideIn(BaseModel):
    """Accept (with a legal ground) or reject pending suggestions: the listed ones, or all of them."""

    model_config = ConfigDict(extra="forbid")

    accept: bool
    ground: str | None = Field(default=None, max_length=200, description='e.g. "OSL 21:7"; needed to accept.')
    ids: list[str] = Field(default_factory=list, max_length=10_000, description="Mask ids (GET …/masks).")
    all: bool = Field(default=False, description="Every pending suggestion of the case.")

    @model_validator(mode="after")
    def _one_selection(self) -> DecideIn:
        if self.all == bool(self.ids):
            raise ValueError("give either 'ids' or 'all': true")
        return self


class ManualMaskIn(BaseModel):
    """A span the reviewer masks by hand; offsets are code points into the field's text."""

    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(min_length=1, max_length=100)
    field: Literal["text", "title", "author.name", "author.handle"] = "text"
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    ground: str = Field(min_length=1, max_length=200)


class MediaDecisionIn(BaseModel):
    """A decision on one media file of the case (its SHA-256 as the records list it)."""

    model_config = ConfigDict(extra="forbid")

    media_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    action: MediaAction = Field(description="strip-metadata (the default for images), withhold, or release whole.")
    ground: str = Field(min_length=1, max_length=200, description='e.g. "OSL 21:7".')


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bates: bool = Field(default=False, description="Add Bates-numbered PDFs and a load file.")
    bates_prefix: str = Field(default="COMM", pattern=r"^[A-Z0-9_-]{1,20}$")


class DeliveryIn(BaseModel):
    """One installment handed out: which package, how many records, a note (how and to whom)."""

    model_config = ConfigDict(extra="forbid")

    package: str | None = Field(default=None, max_length=200, description="A produced package's name.")
    records: int | None = Field(default=None, ge=0, description="Default: the included records of the snapshot.")
    note: str = Field(default="", max_length=2000)


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matter: str = Field(min_length=1, max_length=500, description="The matter or case the hold is for.")
    reason: str = Field(default="", max_length=2000)
    scope: SavedSearch


# --- out ---------------------------------------------------------------------------------------


class CaseSummary(BaseModel):
    case: RequestCase
    due: date | None = Field(
        description="Last day the answer is on time (the profile's clock); none if the profile is unknown."
    )
    overdue: bool = Field(description="Open and past the profile's overdue limit (or delivered late).")

    @classmethod
    def of(cls, clock: CaseClock) -> CaseSummary:
        return cls(case=clock.case, due=clock.due, overdue=clock.overdue)


class SnapshotCounts(BaseModel):
    snapshot: int
    total: int
    included: int
    excluded: int
    by_account: dict[str, dict[str, int]] = Field(description="platform → account → records in the snapshot.")


class MaskSummary(BaseModel):
    total: int
    pending: int
    accepted: int
    rejected: int
    by_kind: dict[str, int]


class PackageOut(BaseModel):
    number: int
    name: str
    path: str
    download: str = Field(description="URL of the package as a zip of the bag directory.")

    @classmethod
    def of(cls, case_id: str, package: Package) -> PackageOut:
        number = package.number or 0
        return cls(
            number=number,
            name=package.path.name,
            path=str(package.path),
            download=f"/api/requests/{case_id}/packages/{number}.zip",
        )


class CaseDetail(CaseSummary):
    snapshot: SnapshotCounts | None
    masks: MaskSummary
    packages: list[PackageOut]

    @classmethod
    def of_view(cls, view: CaseView, clock: CaseClock, packages: list[Package]) -> CaseDetail:
        """Counts of the latest snapshot (by platform and account) and of the masks (by status and kind)."""
        case, entries, masks = view.case, view.entries, view.masks
        snapshot = None
        if case.snapshots:
            by_account: dict[str, dict[str, int]] = {}
            for e in entries:
                accounts = by_account.setdefault(e.platform, {})
                accounts[e.account] = accounts.get(e.account, 0) + 1
            included = sum(1 for e in entries if e.included)
            snapshot = SnapshotCounts(
                snapshot=case.snapshots,
                total=len(entries),
                included=included,
                excluded=len(entries) - included,
                by_account=by_account,
            )
        status = Counter(m.status.value for m in masks)
        summary = MaskSummary(
            total=len(masks),
            pending=status["pending"],
            accepted=status["accepted"],
            rejected=status["rejected"],
            by_kind=dict(Counter(m.kind.value for m in masks)),
        )
        return cls(
            case=case,
            due=clock.due,
            overdue=clock.overdue,
            snapshot=snapshot,
            masks=summary,
            packages=[PackageOut.of(case.id, p) for p in packages],
        )


class RunOut(BaseModel):
    snapshot: int
    total: int
    added: list[str]
    removed: list[str]
    suggestions: int
    by_platform: dict[str, int]

    @classmethod
    def of(cls, r: RunResult) -> RunOut:
        return cls(
            snapshot=r.snapshot,
            total=r.total,
            added=r.added,
            removed=r.removed,
            suggestions=r.suggestions,
            by_platform=r.by_platform,
        )


class DecideOut(BaseModel):
    decided: int


class MaskOut(BaseModel):
    id: str
    mask: Mask

    @classmethod
    def of(cls, ref: MaskRef) -> MaskOut:
        return cls(id=ref.id, mask=ref.mask)


class ExportOut(BaseModel):
    package: PackageOut
    records: int
    masked_spans: int
    media_files: int
    files: int
    bytes: int

    @classmethod
    def of(cls, case_id: str, produced: Produced) -> ExportOut:
        r = produced.result
        return cls(
            package=PackageOut.of(case_id, produced.package),
            records=r.records,
            masked_spans=r.masked_spans,
            media_files=r.media_files,
            files=r.files,
            bytes=r.bytes,
        )


class HoldOut(BaseModel):
    hold: LegalHold
    records: int = Field(description="Records marked with this hold now.")

    @classmethod
    def of(cls, held: HeldRecords) -> HoldOut:
        return cls(hold=held.hold, records=held.records)


class HoldChange(HoldOut):
    files: int = Field(description="Stored files whose Object Lock legal hold was switched.")

    @classmethod
    def of_outcome(cls, outcome: HoldOutcome) -> HoldChange:
        return cls(hold=outcome.hold, records=outcome.records, files=len(outcome.files))
