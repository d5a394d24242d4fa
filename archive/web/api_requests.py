"""`/api/requests` and `/api/holds`: public-records request cases and legal holds, for legal staff.

The same steps as `communis request …` and `communis hold …` (archive/cli/requests.py,
archive/cli/holds.py), on the same workflow functions, and each one audited like there, with
the user, role and client address instead of `cli`. A step that fails (an export refused while
masking suggestions are pending, a hold without a scope) is audited too, as `failed` with its
reason, so the log shows what was attempted and not only what succeeded.

The pages (pages_requests.py) call the functions in the first half of this module, so the role
rules, the checks and the audit trail cannot differ between a browser and a program.

Choices:
- A case may be registered with `received_at` in the past: a request that came by post or to
  the front desk is registered when someone reaches it, but its clock runs from when it
  arrived (TF 2:15 "skyndsamt", RCW 42.56.520's five days). A future `received_at` is refused.
  The case id carries the day it was received, as for cases opened the day they arrive.
- Packages are produced into `{data_dir}/packages/{case_id}-{n}`, numbered per case; the
  number is reserved by creating the directory, so two exports at once never share one.
  A package counts as produced once its bag is complete (its last tag manifest written); a
  failed production is removed, never left half-written where it could be handed out.
- Deliveries and closing change nothing in the records; a closed case refuses every further
  change (409) but its packages can still be read and produced again (an appeal needs them).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from schemas import AuditAction, AuditOutcome, JurisdictionProfile, Mask, MaskStatus
from schemas.cases import CASE_ID_PATTERN, CaseStatus, Delivery, RequestCase, SnapshotEntry
from schemas.holds import HOLD_ID_PATTERN, LegalHold
from schemas.search import SavedSearch

from ..access.policy import Permission
from ..errors import CommunisError
from ..holds import load_holds, place_hold, release_hold
from ..index.client import translate
from ..requests.casebook import CaseError, mask_id
from ..requests.detect import detect
from ..requests.masking import MARKER
from ..requests.production import produce
from ..requests.profiles import due_date, is_overdue, load_profiles
from ..requests.workflow import (
    add_manual_mask,
    decide_masks,
    deliver,
    field_value,
    new_case,
    review_record,
    run_case,
)
from .auth import Principal, require
from .state import AppState, app_state

router = APIRouter(prefix="/api", tags=["requests"])

T = TypeVar("T")

#: Characters shown on either side of a masking suggestion: enough to judge it, no more.
CONTEXT = 40
#: Slack for a client clock a little ahead of ours when registering a request "now".
FUTURE_SLACK = timedelta(minutes=5)
#: The bag's last file: a package directory without it is still being produced (or failed).
COMPLETE_MARK = "tagmanifest-sha512.txt"


# --- models ------------------------------------------------------------------------------------

class CaseCreate(BaseModel):
    """A request as received. Requester and reason are optional: anyone may ask anonymously (TF 2:18)."""

    model_config = ConfigDict(extra="forbid")

    requester: str | None = Field(default=None, max_length=500)
    request_text: str = Field(default="", max_length=20_000)
    diary_number: str | None = Field(default=None, max_length=100, description="The municipality's dnr.")
    profile: str = Field(default="se", description="Jurisdiction profile id: se, us-foia, us-wa …")
    searches: list[SavedSearch] = Field(min_length=1, max_length=50)
    received_at: AwareDatetime | None = Field(
        default=None, description="When the request arrived, if before now (a letter registered later); "
                                  "the response clock counts from it. Never in the future.")


class CaseSummary(BaseModel):
    case: RequestCase
    due: date | None = Field(description="Last day the answer is on time (the profile's clock); none if the "
                                         "profile is unknown.")
    overdue: bool = Field(description="Open and past the profile's overdue limit (or delivered late).")


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


class CaseDetail(CaseSummary):
    snapshot: SnapshotCounts | None
    masks: MaskSummary
    packages: list[PackageOut]


class RunOut(BaseModel):
    snapshot: int
    total: int
    added: list[str]
    removed: list[str]
    suggestions: int
    by_platform: dict[str, int]


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


class DecideOut(BaseModel):
    decided: int


class ManualMaskIn(BaseModel):
    """A span the reviewer masks by hand; offsets are code points into the field's text."""

    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(min_length=1, max_length=100)
    field: Literal["text", "title", "author.name", "author.handle"] = "text"
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    ground: str = Field(min_length=1, max_length=200)


class MaskOut(BaseModel):
    id: str
    mask: Mask


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bates: bool = Field(default=False, description="Add Bates-numbered PDFs and a load file.")
    bates_prefix: str = Field(default="COMM", pattern=r"^[A-Z0-9_-]{1,20}$")


class ExportOut(BaseModel):
    package: PackageOut
    records: int
    masked_spans: int
    media_files: int
    files: int
    bytes: int


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


class HoldOut(BaseModel):
    hold: LegalHold
    records: int = Field(description="Records marked with this hold now.")


class HoldChange(HoldOut):
    files: int = Field(description="Stored files whose Object Lock legal hold was switched.")


# --- shared with the pages ---------------------------------------------------------------------

def audited(state: AppState, who: Principal, action: AuditAction, target: str, step: Callable[[], T],
            note: Callable[[T], str], *, made: Callable[[T], str] | None = None) -> T:
    """Run one workflow step and audit it: `ok` with what it did, or `failed` with why (then re-raise).

    `made` names the target once the step has made it (a new case's or hold's id), so the
    events of one case or hold can be found by its id.
    """
    try:
        result = step()
    except (CommunisError, HTTPException) as exc:
        reason = exc.one_line() if isinstance(exc, CommunisError) else str(exc.detail)
        state.audit_event(action, who.user.name, who.role, target, who.client, AuditOutcome.FAILED, reason)
        raise
    state.audit_event(action, who.user.name, who.role, made(result) if made else target, who.client,
                      note=note(result))
    return result


def profiles() -> dict[str, JurisdictionProfile]:
    return load_profiles()


def get_case(state: AppState, case_id: str) -> RequestCase:
    """The case, or 404 (not 400: an unknown id is a missing resource)."""
    try:
        return state.cases.get(case_id)
    except CaseError as exc:
        raise HTTPException(404, f"no request case {case_id}") from exc


def open_case(state: AppState, case_id: str) -> RequestCase:
    """The case, if still open; a closed case is final (409)."""
    case = get_case(state, case_id)
    if case.status is not CaseStatus.OPEN:
        raise HTTPException(409, f"case {case_id} is closed")
    return case


def clock_of(case: RequestCase, known: dict[str, JurisdictionProfile], now: datetime) -> tuple[date | None, bool]:
    """Due date and overdue flag, as `communis request list` shows them."""
    profile = known.get(case.profile)
    if profile is None:
        return None, False
    delivered = case.deliveries[-1].at if case.deliveries else None
    late = case.status is CaseStatus.OPEN and is_overdue(profile, case.received_at, now, delivered)
    return due_date(profile, case.received_at), late


def list_cases(state: AppState, who: Principal) -> list[CaseSummary]:
    known, now = profiles(), state.now()
    cases = state.cases.cases()
    state.audit_event(AuditAction.VIEW, who.user.name, who.role, "request cases", who.client,
                      note=f"{len(cases)} cases")
    out = []
    for case in cases:
        due, late = clock_of(case, known, now)
        out.append(CaseSummary(case=case, due=due, overdue=late))
    return out


def create_case(state: AppState, who: Principal, body: CaseCreate) -> RequestCase:
    now = state.now()
    received = body.received_at or now

    def step() -> RequestCase:
        if body.profile not in profiles():
            raise CaseError(f"unknown profile {body.profile!r}", hint=f"one of: {', '.join(profiles())}")
        if received > now + FUTURE_SLACK:
            raise CaseError(f"received_at {received.isoformat()} is in the future")
        return new_case(state.cases, searches=body.searches, handler=who.user.name, now=received,
                        requester=body.requester, request_text=body.request_text,
                        diary_number=body.diary_number or None, profile=body.profile)

    def note(case: RequestCase) -> str:
        late = f"; received {case.received_at.isoformat()}, registered {now.isoformat()}" \
            if body.received_at is not None else ""
        return "; ".join(s.describe() for s in case.searches) + late

    return audited(state, who, AuditAction.REQUEST_CREATE, "new request case", step, note, made=lambda c: c.id)


def run(state: AppState, who: Principal, case_id: str) -> RunOut:
    def step() -> RunOut:
        open_case(state, case_id)
        r = run_case(state.cases, state.archive.index, case_id, spans=detect)
        return RunOut(snapshot=r.snapshot, total=r.total, added=r.added, removed=r.removed,
                      suggestions=r.suggestions, by_platform=r.by_platform)

    return audited(state, who, AuditAction.REQUEST_RUN, case_id, step,
                   lambda r: f"snapshot {r.snapshot}: {r.total} records, {len(r.added)} new, {len(r.removed)} gone; "
                             f"{r.suggestions} masking suggestions")


def review(state: AppState, who: Principal, case_id: str, record_id: str, body: ReviewIn) -> SnapshotEntry:
    def step() -> SnapshotEntry:
        open_case(state, case_id)
        return review_record(state.cases, case_id, record_id, include=body.include, reason=body.reason,
                             by=who.user.name, now=state.now())

    return audited(state, who, AuditAction.REQUEST_REVIEW, case_id, step,
                   lambda e: f"{e.record_id} {'included' if e.included else 'excluded'}: {e.reason}")


def masks_of(state: AppState, case_id: str) -> list[MaskOut]:
    return [MaskOut(id=mask_id(case_id, m), mask=m) for m in state.cases.masks(case_id)]


def decide(state: AppState, who: Principal, case_id: str, body: DecideIn) -> int:
    ground = (body.ground or "").strip() or None

    def step() -> int:
        open_case(state, case_id)
        wanted = set(body.ids)
        if wanted:
            unknown = wanted - {m.id for m in masks_of(state, case_id)}
            if unknown:
                raise HTTPException(404, f"no such masks in {case_id}: {', '.join(sorted(unknown)[:5])}")
        return decide_masks(state.cases, case_id, accept=body.accept, ground=ground, by=who.user.name,
                            now=state.now(), only=lambda m: body.all or mask_id(case_id, m) in wanted)

    which = "all pending" if body.all else f"{len(body.ids)} listed"
    return audited(state, who, AuditAction.REQUEST_REVIEW, case_id, step,
                   lambda n: f"{n} suggestions ({which}) {'accepted' if body.accept else 'rejected'}"
                             f" ({ground or 'no ground'})")


def manual_mask(state: AppState, who: Principal, case_id: str, body: ManualMaskIn) -> MaskOut:
    def step() -> MaskOut:
        open_case(state, case_id)
        try:
            state.archive.index.get(body.record_id)
        except CommunisError as exc:
            raise HTTPException(404, f"no record {body.record_id}") from exc
        mask = add_manual_mask(state.cases, state.archive.index, case_id, record_id=body.record_id,
                               field_path=body.field, start=body.start, end=body.end, ground=body.ground.strip(),
                               by=who.user.name, now=state.now())
        return MaskOut(id=mask_id(case_id, mask), mask=mask)

    return audited(state, who, AuditAction.REQUEST_REVIEW, case_id, step,
                   lambda m: f"manual mask {m.mask.record_id} {m.mask.field} {m.mask.start}-{m.mask.end} "
                             f"({m.mask.ground})")


def packages_root(state: AppState) -> Path:
    return state.settings.data_dir / "packages"


def _package_out(case_id: str, number: int, path: Path) -> PackageOut:
    return PackageOut(number=number, name=path.name, path=str(path),
                      download=f"/api/requests/{case_id}/packages/{number}.zip")


def packages_of(state: AppState, case_id: str) -> list[PackageOut]:
    """The case's complete packages, oldest first."""
    root = packages_root(state)
    found = []
    for path in root.glob(f"{case_id}-*") if root.is_dir() else ():
        number = path.name.removeprefix(f"{case_id}-")
        if number.isdigit() and (path / COMPLETE_MARK).is_file():
            found.append(_package_out(case_id, int(number), path))
    return sorted(found, key=lambda p: p.number)


def _reserve(root: Path, case_id: str) -> tuple[int, Path]:
    """A new, empty package directory; creating it is what claims its number."""
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(n) for p in root.glob(f"{case_id}-*") if (n := p.name.removeprefix(f"{case_id}-")).isdigit()]
    number = max(taken, default=0) + 1
    while True:
        path = root / f"{case_id}-{number}"
        try:
            path.mkdir()
        except FileExistsError:
            number += 1
            continue
        return number, path


def export(state: AppState, who: Principal, case_id: str, body: ExportIn) -> ExportOut:
    def step() -> ExportOut:
        get_case(state, case_id)
        number, out = _reserve(packages_root(state), case_id)
        try:
            r = produce(state.settings, state.cases, state.archive.index, state.archive.store, state.audit, case_id,
                        out, by=who.user.name, now=state.now(), bates_prefix=body.bates_prefix if body.bates else None)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
        return ExportOut(package=_package_out(case_id, number, out), records=r.records, masked_spans=r.masked_spans,
                         media_files=r.media_files, files=r.files, bytes=r.bytes)

    return audited(state, who, AuditAction.REQUEST_EXPORT, case_id, step,
                   lambda r: f"{r.records} records, {r.masked_spans} masked spans → {r.package.path}")


def package_path(state: AppState, case_id: str, number: int) -> Path:
    found = next((p for p in packages_of(state, case_id) if p.number == number), None)
    if found is None:
        raise HTTPException(404, f"no package {number} of {case_id}")
    return Path(found.path)


def record_delivery(state: AppState, who: Principal, case_id: str, body: DeliveryIn) -> Delivery:
    def step() -> Delivery:
        case = open_case(state, case_id)
        if body.package is not None and body.package not in {p.name for p in packages_of(state, case_id)}:
            raise HTTPException(400, f"{body.package!r} is not a produced package of {case_id}")
        records = body.records
        if records is None:
            records = sum(1 for e in state.cases.entries(case_id, case.snapshots) if e.included) \
                if case.snapshots else 0
        return deliver(state.cases, case_id, by=who.user.name, now=state.now(), records=records,
                       package=body.package, note=body.note)

    return audited(state, who, AuditAction.REQUEST_DELIVER, case_id, step,
                   lambda d: f"installment {d.number}: {d.records} records"
                             f"{f' in {d.package}' if d.package else ''}{f'; {d.note}' if d.note else ''}")


def close(state: AppState, who: Principal, case_id: str) -> RequestCase:
    def step() -> RequestCase:
        case = open_case(state, case_id)
        closed = case.model_copy(update={"status": CaseStatus.CLOSED, "closed_at": state.now()})
        state.cases.save(closed)
        return closed

    return audited(state, who, AuditAction.REQUEST_CLOSE, case_id, step,
                   lambda c: f"closed after {len(c.deliveries)} deliveries")


def read_case(state: AppState, who: Principal, case_id: str) -> tuple[RequestCase, list[SnapshotEntry], list[Mask]]:
    """A case with its latest snapshot's entries and its masks, audited as one view of the case."""
    case = get_case(state, case_id)
    entries = list(state.cases.entries(case_id, case.snapshots)) if case.snapshots else []
    masks = state.cases.masks(case_id)
    state.audit_event(AuditAction.VIEW, who.user.name, who.role, case_id, who.client,
                      note=f"request case: {len(entries)} records, {len(masks)} masks")
    return case, entries, masks


def case_detail(state: AppState, who: Principal, case_id: str) -> CaseDetail:
    return summarize(state, *read_case(state, who, case_id))


def summarize(state: AppState, case: RequestCase, entries: list[SnapshotEntry], masks: list[Mask]) -> CaseDetail:
    due, late = clock_of(case, profiles(), state.now())
    snapshot = None
    if case.snapshots:
        by_account: dict[str, dict[str, int]] = {}
        for e in entries:
            accounts = by_account.setdefault(e.platform, {})
            accounts[e.account] = accounts.get(e.account, 0) + 1
        included = sum(1 for e in entries if e.included)
        snapshot = SnapshotCounts(snapshot=case.snapshots, total=len(entries), included=included,
                                  excluded=len(entries) - included, by_account=by_account)
    status = Counter(m.status.value for m in masks)
    summary = MaskSummary(total=len(masks), pending=status["pending"], accepted=status["accepted"],
                          rejected=status["rejected"], by_kind=dict(Counter(m.kind.value for m in masks)))
    return CaseDetail(case=case, due=due, overdue=late, snapshot=snapshot, masks=summary,
                      packages=packages_of(state, case.id))


@dataclass(frozen=True)
class MaskPreview:
    """A suggestion as a reviewer sees it: the span and a little text either side, nothing more."""

    id: str
    mask: Mask
    before: str
    value: str
    after: str
    marker: str = MARKER
    #: The characters at the offsets are no longer the ones found (the record changed): masking would fail.
    stale: bool = False


def mask_previews(state: AppState, case_id: str, masks: list[MaskOut]) -> dict[str, list[MaskPreview]]:
    """Previews by record id, read from the index a thousand records a request."""
    ids = sorted({m.mask.record_id for m in masks})
    docs: dict[str, dict[str, Any]] = {}
    index = state.archive.index
    for start in range(0, len(ids), 1000):
        with translate("read the records of masking suggestions"):
            found = index.es.mget(index=index.alias, ids=ids[start:start + 1000], source_excludes=["raw"])
        docs.update({d["_id"]: d["_source"] for d in found["docs"] if d.get("found")})
    out: dict[str, list[MaskPreview]] = {}
    for m in masks:
        text = field_value(docs.get(m.mask.record_id, {}), m.mask.field)
        s, e = m.mask.start, m.mask.end
        value = text[s:e]
        before = ("…" if s > CONTEXT else "") + text[max(0, s - CONTEXT):s]
        after = text[e:e + CONTEXT] + ("…" if len(text) > e + CONTEXT else "")
        stale = hashlib.sha256(value.encode()).hexdigest() != m.mask.value_sha256
        out.setdefault(m.mask.record_id, []).append(
            MaskPreview(m.id, m.mask, before, value, after, stale=stale))
    return out


def list_holds(state: AppState, who: Principal, *, released: bool = True) -> list[HoldOut]:
    holds = [h for h in load_holds(state.archive.store) if released or h.active]
    state.audit_event(AuditAction.VIEW, who.user.name, who.role, "legal holds", who.client,
                      note=f"{len(holds)} holds")
    return [HoldOut(hold=h, records=state.archive.index.count({"term": {"legal_holds": h.id}})) for h in holds]


def place(state: AppState, who: Principal, body: HoldIn) -> HoldChange:
    def step() -> HoldChange:
        outcome = place_hold(state.archive.store, state.archive.index, matter=body.matter, scope=body.scope,
                             owner=who.user.name, now=state.now(), reason=body.reason)
        return HoldChange(hold=outcome.hold, records=outcome.records, files=len(outcome.files))

    return audited(state, who, AuditAction.HOLD_PLACE, f"new hold: {body.matter}", step,
                   lambda h: f"{h.hold.matter}: {h.hold.scope.describe()}; {h.records} records, {h.files} files",
                   made=lambda h: h.hold.id)


def release(state: AppState, who: Principal, hold_id: str) -> HoldChange:
    def step() -> HoldChange:
        if hold_id not in {h.id for h in load_holds(state.archive.store)}:
            raise HTTPException(404, f"no hold {hold_id}")
        outcome = release_hold(state.archive.store, state.archive.index, hold_id, by=who.user.name, now=state.now())
        return HoldChange(hold=outcome.hold, records=outcome.records, files=len(outcome.files))

    return audited(state, who, AuditAction.HOLD_RELEASE, hold_id, step,
                   lambda h: f"{h.records} records, {h.files} files released")


class _Sink(io.RawIOBase):
    """An unseekable file that zipfile writes into and the response drains from."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.written

    def drain(self) -> Iterator[bytes]:
        chunks, self.chunks = self.chunks, []
        if chunks:
            yield b"".join(chunks)


def zip_stream(directory: Path) -> Iterator[bytes]:
    """The directory as a zip, made while it is sent (a package can be gigabytes: never in memory or on disk).

    Entries are under the directory's name, so unzipping gives the bag as produced; files are
    stored, not deflated: WARC, WACZ, PDF and images are compressed already.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo.from_file(path, f"{directory.name}/{path.relative_to(directory).as_posix()}")
            with path.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while block := src.read(1024 * 1024):
                    dst.write(block)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()


# --- routes ------------------------------------------------------------------------------------

State = Annotated[AppState, Depends(app_state)]
Viewer = Annotated[Principal, Depends(require(Permission.REQUESTS_VIEW))]
CaseId = Annotated[str, PathParam(pattern=CASE_ID_PATTERN)]
HoldId = Annotated[str, PathParam(pattern=HOLD_ID_PATTERN)]


def _handler(action: AuditAction) -> Any:
    """A legal-staff dependency whose refusal is audited as the step that was refused."""
    return Depends(require(Permission.REQUESTS, action))


Creator = Annotated[Principal, _handler(AuditAction.REQUEST_CREATE)]
Runner = Annotated[Principal, _handler(AuditAction.REQUEST_RUN)]
Reviewer = Annotated[Principal, _handler(AuditAction.REQUEST_REVIEW)]
Exporter = Annotated[Principal, _handler(AuditAction.REQUEST_EXPORT)]
Deliverer = Annotated[Principal, _handler(AuditAction.REQUEST_DELIVER)]
Closer = Annotated[Principal, _handler(AuditAction.REQUEST_CLOSE)]
Placer = Annotated[Principal, Depends(require(Permission.HOLDS, AuditAction.HOLD_PLACE))]
Releaser = Annotated[Principal, Depends(require(Permission.HOLDS, AuditAction.HOLD_RELEASE))]


@router.get("/requests", response_model=list[CaseSummary], summary="Request cases with their clock")
async def cases(who: Viewer, state: State) -> list[CaseSummary]:
    """Newest first, each with its due date and overdue flag from its jurisdiction profile."""
    return await run_in_threadpool(list_cases, state, who)


@router.post("/requests", response_model=CaseSummary, status_code=201, summary="Open a request case")
async def create(body: CaseCreate, who: Creator, state: State) -> CaseSummary:
    case = await run_in_threadpool(create_case, state, who, body)
    due, late = clock_of(case, profiles(), state.now())
    return CaseSummary(case=case, due=due, overdue=late)


@router.get("/requests/{case_id}", response_model=CaseDetail, summary="A case with its snapshot and masks")
async def case(case_id: CaseId, who: Viewer, state: State) -> CaseDetail:
    return await run_in_threadpool(case_detail, state, who, case_id)


@router.get("/requests/{case_id}/records", response_model=list[SnapshotEntry],
            summary="The latest snapshot's records with review decisions")
async def case_records(case_id: CaseId, who: Viewer, state: State) -> list[SnapshotEntry]:
    def read() -> list[SnapshotEntry]:
        found = get_case(state, case_id)
        entries = list(state.cases.entries(case_id, found.snapshots)) if found.snapshots else []
        state.audit_event(AuditAction.VIEW, who.user.name, who.role, case_id, who.client,
                          note=f"request case records: {len(entries)}")
        return sorted(entries, key=lambda e: (e.platform, e.account, e.record_id))

    return await run_in_threadpool(read)


@router.get("/requests/{case_id}/masks", response_model=list[MaskOut],
            summary="Masking suggestions and decisions (offsets and hashes, never the values)")
async def case_masks(case_id: CaseId, who: Viewer, state: State, status: MaskStatus | None = None) -> list[MaskOut]:
    def read() -> list[MaskOut]:
        get_case(state, case_id)
        found = [m for m in masks_of(state, case_id) if status is None or m.mask.status is status]
        state.audit_event(AuditAction.VIEW, who.user.name, who.role, case_id, who.client,
                          note=f"request case masks: {len(found)}")
        return found

    return await run_in_threadpool(read)


@router.post("/requests/{case_id}/run", response_model=RunOut, summary="Run the searches and freeze a snapshot")
async def run_route(case_id: CaseId, who: Runner, state: State) -> RunOut:
    return await run_in_threadpool(run, state, who, case_id)


@router.post("/requests/{case_id}/records/{record_id}/review", response_model=SnapshotEntry,
             summary="Include or exclude a record, with the reason")
async def review_route(case_id: CaseId, record_id: str, body: ReviewIn, who: Reviewer, state: State) -> SnapshotEntry:
    return await run_in_threadpool(review, state, who, case_id, record_id, body)


@router.post("/requests/{case_id}/masks/decide", response_model=DecideOut, summary="Accept or reject suggestions")
async def decide_route(case_id: CaseId, body: DecideIn, who: Reviewer, state: State) -> DecideOut:
    return DecideOut(decided=await run_in_threadpool(decide, state, who, case_id, body))


@router.post("/requests/{case_id}/masks", response_model=MaskOut, status_code=201, summary="Mask a span by hand")
async def mask_route(case_id: CaseId, body: ManualMaskIn, who: Reviewer, state: State) -> MaskOut:
    return await run_in_threadpool(manual_mask, state, who, case_id, body)


@router.post("/requests/{case_id}/export", response_model=ExportOut, status_code=201,
             summary="Produce the package (refused while suggestions are pending)")
async def export_route(case_id: CaseId, who: Exporter, state: State, body: ExportIn | None = None) -> ExportOut:
    return await run_in_threadpool(export, state, who, case_id, body or ExportIn())


@router.get("/requests/{case_id}/packages/{number}.zip", summary="A produced package as a zip of its bag",
            response_class=StreamingResponse, responses={200: {"content": {"application/zip": {}}}})
async def package_zip(case_id: CaseId, number: int, who: Exporter, state: State) -> StreamingResponse:
    def find() -> Path:
        return audited(state, who, AuditAction.REQUEST_EXPORT, case_id,
                       lambda: package_path(state, case_id, number), lambda p: f"download {p.name}.zip")

    path = await run_in_threadpool(find)
    return StreamingResponse(zip_stream(path), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{path.name}.zip"'})


@router.post("/requests/{case_id}/deliveries", response_model=Delivery, status_code=201,
             summary="Log an installment handed to the requester")
async def delivery_route(case_id: CaseId, body: DeliveryIn, who: Deliverer, state: State) -> Delivery:
    return await run_in_threadpool(record_delivery, state, who, case_id, body)


@router.post("/requests/{case_id}/close", response_model=RequestCase, summary="Close the case")
async def close_route(case_id: CaseId, who: Closer, state: State) -> RequestCase:
    return await run_in_threadpool(close, state, who, case_id)


@router.get("/holds", response_model=list[HoldOut], tags=["holds"], summary="Legal holds")
async def holds(state: State, who: Annotated[Principal, Depends(require(Permission.HOLDS))],
                released: bool = True) -> list[HoldOut]:
    """Oldest first, each with how many records it marks now; `released=false` for active ones only."""
    return await run_in_threadpool(lambda: list_holds(state, who, released=released))


@router.post("/holds", response_model=HoldChange, status_code=201, tags=["holds"], summary="Place a hold")
async def place_route(body: HoldIn, who: Placer, state: State) -> HoldChange:
    """Marks every matching record (and records captured later) and locks the files holding them."""
    return await run_in_threadpool(place, state, who, body)


@router.post("/holds/{hold_id}/release", response_model=HoldChange, tags=["holds"], summary="Release a hold")
async def release_route(hold_id: HoldId, who: Releaser, state: State) -> HoldChange:
    return await run_in_threadpool(release, state, who, hold_id)
