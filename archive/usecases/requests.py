"""Public-records request cases, step by step, for whoever acts: `communis request …` and the web alike.

Every step is one audit event (`request.create`, `.run`, `.review`, `.export`, `.deliver`,
`.close`, and `view` for reading a case), `failed` with its one-line reason when it is refused,
so the log shows what was attempted and not only what succeeded.

Choices:
- A case may be registered with `received_at` in the past: a request that came by post or to
  the front desk is registered when someone reaches it, but its clock runs from when it
  arrived (TF 2:15 "skyndsamt", RCW 42.56.520's five days). A future `received_at` is refused.
  The case id carries the day it was received, as for cases opened the day they arrive.
- Packages are produced into `{data_dir}/packages/{case_id}-{n}`, numbered per case, from both
  doors, each with its delivery beside it (`{case_id}-{n}-delivery`: the release copy alone, as its
  own bag). A download sends the delivery, never the package: the package holds the unmasked
  originals and the keyed digests of the masked values, which stay with the authority. The number
  is reserved by creating the directory, so two exports at once never share one. A package counts
  as produced once its bag is complete (its last tag manifest written); a failed production is
  removed, never left half-written where it could be handed out. The CLI may name a directory of
  its own instead (`-o`): that package is the operator's, outside the numbered ones, and the web
  does not list it; its delivery is `DIR-delivery`.
- Deliveries and closing change nothing in the records; a closed case refuses every further
  change (Conflict, 409) but its packages can still be read and produced again (an appeal needs them).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from schemas import AuditAction, JurisdictionProfile, Mask, MaskStatus, MediaAction, MediaDecision
from schemas.cases import CaseStatus, Delivery, RequestCase, SnapshotEntry
from schemas.search import SavedSearch

from .. import clock
from ..access import AuditLog, open_audit
from ..access.policy import Permission
from ..config import Settings
from ..context import Archive
from ..errors import Conflict, NotFound
from ..index import make_client
from ..index.cases import record_sources
from ..requests.casebook import CaseBook, CaseError, mask_id
from ..requests.detect import detect
from ..requests.layout import delivery_path
from ..requests.masking import MARKER
from ..requests.profiles import due_date, is_overdue, load_profiles
from ..requests.workflow import (
    RunResult,
    add_manual_mask,
    decide_masks,
    decide_media,
    deliver,
    field_value,
    new_case,
    review_record,
    run_case,
)
from .actor import Actor, audited, permit, record

if TYPE_CHECKING:
    from ..requests.production import ProductionResult

#: Characters shown on either side of a masking suggestion: enough to judge it, no more.
CONTEXT = 40
#: Slack for a client clock a little ahead of ours when registering a request "now".
FUTURE_SLACK = timedelta(minutes=5)
#: The bag's last file: a package directory without it is still being produced (or failed).
COMPLETE_MARK = "tagmanifest-sha512.txt"


@dataclass(frozen=True)
class CaseClock:
    """A case with its response clock: the last day the answer is on time, and whether it is late."""

    case: RequestCase
    due: date | None
    overdue: bool


@dataclass(frozen=True)
class CaseView:
    """A case as read at once: its latest snapshot's entries and its masks."""

    case: RequestCase
    entries: list[SnapshotEntry]
    masks: list[Mask]


@dataclass(frozen=True)
class MaskRef:
    id: str
    mask: Mask


@dataclass(frozen=True)
class Package:
    """A produced package: `number` within the case's numbered ones (None for a directory named by `-o`)."""

    number: int | None
    path: Path


@dataclass(frozen=True)
class Produced:
    package: Package
    result: ProductionResult


@dataclass(frozen=True)
class MediaItem:
    """One archived media file the case's records show, with the decision on it (None: the default applies)."""

    sha256: str
    content_type: str | None
    records: int
    decision: MediaDecision | None


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


@dataclass
class RequestDesk:
    """The request-case steps over one archive, its case book and its audit log."""

    archive: Archive
    cases_book: CaseBook
    audit: AuditLog
    now: Callable[[], datetime] = field(default=lambda: clock.now())

    @property
    def settings(self) -> Settings:
        return self.archive.settings

    # --- reading ---------------------------------------------------------------------------------

    @staticmethod
    def profiles() -> dict[str, JurisdictionProfile]:
        return load_profiles()

    def clock_of(self, case: RequestCase, known: dict[str, JurisdictionProfile] | None = None) -> CaseClock:
        """Due date and overdue flag from the case's jurisdiction profile (none if the profile is unknown)."""
        profile = (known if known is not None else self.profiles()).get(case.profile)
        if profile is None:
            return CaseClock(case, None, False)
        delivered = case.deliveries[-1].at if case.deliveries else None
        late = case.status is CaseStatus.OPEN and is_overdue(profile, case.received_at, self.now(), delivered)
        return CaseClock(case, due_date(profile, case.received_at), late)

    def cases(self, who: Actor) -> list[CaseClock]:
        """Every case, newest first, with its clock; one audited view (`requests-view`, as GET /api/requests)."""
        permit(self.audit, who, Permission.REQUESTS_VIEW, AuditAction.VIEW, "request cases")
        known, found = self.profiles(), self.cases_book.cases()
        record(self.audit, who, AuditAction.VIEW, "request cases", note=f"{len(found)} cases")
        return [self.clock_of(case, known) for case in found]

    def get(self, case_id: str) -> RequestCase:
        """The case, or NotFound (an unknown id is a missing thing, not a bad request)."""
        try:
            return self.cases_book.get(case_id)
        except CaseError as exc:
            raise NotFound(f"no request case {case_id}") from exc

    def open_case(self, case_id: str) -> RequestCase:
        """The case, if still open; a closed case is final (Conflict)."""
        case = self.get(case_id)
        if case.status is not CaseStatus.OPEN:
            raise Conflict(f"case {case_id} is closed")
        return case

    def _entries(self, case: RequestCase) -> list[SnapshotEntry]:
        return list(self.cases_book.entries(case.id, case.snapshots)) if case.snapshots else []

    def read(self, who: Actor, case_id: str) -> CaseView:
        """A case with its latest snapshot's entries and its masks, audited as one view of the case."""
        case = self.get(case_id)
        entries, masks = self._entries(case), self.cases_book.masks(case_id)
        record(
            self.audit, who, AuditAction.VIEW, case_id, note=f"request case: {len(entries)} records, {len(masks)} masks"
        )
        self._name_shown(who, case_id, entries)
        return CaseView(case, entries, masks)

    def _name_shown(self, who: Actor, case_id: str, entries: list[SnapshotEntry]) -> None:
        """Every record of the case the answer shows, named in an audit event of its own (by record id)."""
        self.audit.shown(
            AuditAction.VIEW,
            [e.record_id for e in entries],
            user=who.name,
            role=who.role,
            client=who.client,
            note=f"in request case {case_id}",
        )

    def records(self, who: Actor, case_id: str) -> list[SnapshotEntry]:
        """The latest snapshot's records with their review decisions, by platform, account and id."""
        entries = self._entries(self.get(case_id))
        record(self.audit, who, AuditAction.VIEW, case_id, note=f"request case records: {len(entries)}")
        self._name_shown(who, case_id, entries)
        return sorted(entries, key=lambda e: (e.platform, e.account, e.record_id))

    def masks_of(self, case_id: str) -> list[MaskRef]:
        return [MaskRef(mask_id(case_id, m), m) for m in self.cases_book.masks(case_id)]

    def masks(self, who: Actor, case_id: str, status: MaskStatus | None = None) -> list[MaskRef]:
        """The case's masks (offsets and hashes, never the values), optionally of one status."""
        self.get(case_id)
        found = [m for m in self.masks_of(case_id) if status is None or m.mask.status is status]
        record(self.audit, who, AuditAction.VIEW, case_id, note=f"request case masks: {len(found)}")
        return found

    def previews(self, masks: list[MaskRef]) -> dict[str, list[MaskPreview]]:
        """Previews by record id: the span and at most CONTEXT characters either side."""
        docs = record_sources(self.archive.index, (m.mask.record_id for m in masks))
        out: dict[str, list[MaskPreview]] = {}
        for m in masks:
            text = field_value(docs.get(m.mask.record_id, {}), m.mask.field)
            s, e = m.mask.start, m.mask.end
            value = text[s:e]
            before = ("…" if s > CONTEXT else "") + text[max(0, s - CONTEXT) : s]
            after = text[e : e + CONTEXT] + ("…" if len(text) > e + CONTEXT else "")
            stale = hashlib.sha256(value.encode()).hexdigest() != m.mask.value_sha256
            out.setdefault(m.mask.record_id, []).append(MaskPreview(m.id, m.mask, before, value, after, stale=stale))
        return out

    def media(self, case_id: str) -> list[MediaItem]:
        """The archived media of the latest snapshot's included records, each with its decision (part of a read)."""
        case = self.get(case_id)
        ids = [e.record_id for e in self._entries(case) if e.included]
        decided = self.cases_book.media_decisions(case_id)
        found: dict[str, tuple[str | None, int]] = {}
        for doc in record_sources(self.archive.index, ids).values():
            for m in doc.get("media") or []:
                if m.get("sha256") and m.get("warc"):
                    ctype, count = found.get(m["sha256"], (m.get("content_type"), 0))
                    found[m["sha256"]] = (ctype, count + 1)
        return [MediaItem(sha, ctype, n, decided.get(sha)) for sha, (ctype, n) in sorted(found.items())]

    # --- packages --------------------------------------------------------------------------------

    @property
    def packages_root(self) -> Path:
        return self.settings.data_dir / "packages"

    def packages(self, case_id: str) -> list[Package]:
        """The case's complete numbered packages, oldest first."""
        root = self.packages_root
        found = []
        for path in root.glob(f"{case_id}-*") if root.is_dir() else ():
            number = path.name.removeprefix(f"{case_id}-")
            if number.isdigit() and (path / COMPLETE_MARK).is_file():
                found.append(Package(int(number), path))
        return sorted(found, key=lambda p: p.number or 0)

    def _reserve(self, case_id: str) -> Package:
        """A new, empty package directory; creating it is what claims its number."""
        root = self.packages_root
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
            return Package(number, path)

    def package(self, who: Actor, case_id: str, number: int) -> Path:
        """A produced package's delivery (the release copy alone), for download (audited as an export step).

        Never the package itself: its `internal/` holds the unmasked originals. A package made before
        deliveries were separate has none, and its release copy predates the masking of URLs and media
        metadata, so it is refused with the advice to export again.
        """

        def step() -> Path:
            found = next((p for p in self.packages(case_id) if p.number == number), None)
            if found is None:
                raise NotFound(f"no package {number} of {case_id}")
            delivery = delivery_path(found.path)
            if not (delivery / COMPLETE_MARK).is_file():
                raise CaseError(
                    f"package {number} of {case_id} has no separate delivery",
                    hint="export the case again: the new package comes with its delivery",
                )
            return delivery

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_EXPORT,
            case_id,
            step,
            lambda p: f"download {p.name}.zip (the release copy only)",
            permission=Permission.REQUESTS,
        )

    # --- steps -----------------------------------------------------------------------------------

    def create(
        self,
        who: Actor,
        *,
        searches: list[SavedSearch],
        requester: str | None = None,
        request_text: str = "",
        diary_number: str | None = None,
        profile: str = "se",
        received_at: datetime | None = None,
    ) -> RequestCase:
        """Register a request; its clock counts from `received_at` (never in the future), else now."""
        now = self.now()
        received = received_at or now

        def step() -> RequestCase:
            known = self.profiles()
            if profile not in known:
                raise CaseError(f"unknown profile {profile!r}", hint=f"one of: {', '.join(known)}")
            if received > now + FUTURE_SLACK:
                raise CaseError(f"received_at {received.isoformat()} is in the future")
            return new_case(
                self.cases_book,
                searches=searches,
                handler=who.name,
                now=received,
                requester=requester,
                request_text=request_text,
                diary_number=diary_number or None,
                profile=profile,
            )

        def note(case: RequestCase) -> str:
            late = (
                f"; received {case.received_at.isoformat()}, registered {now.isoformat()}"
                if received_at is not None
                else ""
            )
            return "; ".join(s.describe() for s in case.searches) + late

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_CREATE,
            "new request case",
            step,
            note,
            made=lambda c: c.id,
            permission=Permission.REQUESTS,
        )

    def run(self, who: Actor, case_id: str) -> RunResult:
        """Run the case's searches now and freeze the result as a new snapshot, compared with the last."""

        def step() -> RunResult:
            self.open_case(case_id)
            return run_case(self.cases_book, self.archive.index, case_id, spans=detect)

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_RUN,
            case_id,
            step,
            lambda r: (
                f"snapshot {r.snapshot}: {r.total} records, {len(r.added)} new, "
                f"{len(r.removed)} gone; {r.suggestions} masking suggestions"
            ),
            permission=Permission.REQUESTS,
        )

    def review(self, who: Actor, case_id: str, record_id: str, *, include: bool, reason: str) -> SnapshotEntry:
        """Include or exclude one record of the latest snapshot, with the reason."""

        def step() -> SnapshotEntry:
            self.open_case(case_id)
            return review_record(
                self.cases_book, case_id, record_id, include=include, reason=reason, by=who.name, now=self.now()
            )

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_REVIEW,
            case_id,
            step,
            lambda e: f"{e.record_id} {'included' if e.included else 'excluded'}: {e.reason}",
            permission=Permission.REQUESTS,
        )

    def decide(
        self, who: Actor, case_id: str, *, accept: bool, ground: str | None, ids: Collection[str] | None = None
    ) -> int:
        """Accept (with a legal ground) or reject pending suggestions: the listed ones, or all (`ids` None)."""
        ground = (ground or "").strip() or None
        wanted = set(ids or ())

        def step() -> int:
            self.open_case(case_id)
            if wanted:
                unknown = wanted - {m.id for m in self.masks_of(case_id)}
                if unknown:
                    raise NotFound(f"no such masks in {case_id}: {', '.join(sorted(unknown)[:5])}")
            return decide_masks(
                self.cases_book,
                case_id,
                accept=accept,
                ground=ground,
                by=who.name,
                now=self.now(),
                only=lambda m: ids is None or mask_id(case_id, m) in wanted,
            )

        which = "all pending" if ids is None else f"{len(wanted)} listed"
        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_REVIEW,
            case_id,
            step,
            lambda n: f"{n} suggestions ({which}) {'accepted' if accept else 'rejected'} ({ground or 'no ground'})",
            permission=Permission.REQUESTS,
        )

    def add_mask(
        self, who: Actor, case_id: str, *, record_id: str, field_path: str, start: int, end: int, ground: str
    ) -> MaskRef:
        """A reviewer's own mask over a span, accepted at once with its ground."""

        def step() -> MaskRef:
            self.open_case(case_id)
            try:
                self.archive.index.get(record_id)
            except NotFound as exc:
                raise NotFound(f"no record {record_id}") from exc
            mask = add_manual_mask(
                self.cases_book,
                self.archive.index,
                case_id,
                record_id=record_id,
                field_path=field_path,
                start=start,
                end=end,
                ground=ground.strip(),
                by=who.name,
                now=self.now(),
            )
            return MaskRef(mask_id(case_id, mask), mask)

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_REVIEW,
            case_id,
            step,
            lambda m: f"manual mask {m.mask.record_id} {m.mask.field} {m.mask.start}-{m.mask.end} ({m.mask.ground})",
            permission=Permission.REQUESTS,
        )

    def decide_media(
        self, who: Actor, case_id: str, *, media_sha256: str, action: MediaAction, ground: str
    ) -> MediaDecision:
        """Release, withhold or release without metadata one media file of the case, with the legal ground."""

        def step() -> MediaDecision:
            self.open_case(case_id)
            return decide_media(
                self.cases_book,
                self.archive.index,
                case_id,
                media_sha256=media_sha256,
                action=action,
                ground=ground,
                by=who.name,
                now=self.now(),
            )

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_REVIEW,
            case_id,
            step,
            lambda d: f"media {d.media_sha256[:12]}: {d.action.value} ({d.ground})",
            permission=Permission.REQUESTS,
        )

    def export(
        self,
        who: Actor,
        case_id: str,
        *,
        bates_prefix: str | None = None,
        output: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Produced:
        """Produce the package of the latest snapshot: numbered under `{data_dir}/packages`, or into `output`."""
        # The package's PDFs need fpdf, whose fonts take about a second to import: only exports pay.
        from ..requests.production import produce

        def step() -> Produced:
            self.get(case_id)
            package = Package(None, output) if output is not None else self._reserve(case_id)
            try:
                result = produce(
                    self.settings,
                    self.cases_book,
                    self.archive.index,
                    self.archive.store,
                    self.audit,
                    case_id,
                    package.path,
                    by=who.name,
                    now=self.now(),
                    bates_prefix=bates_prefix,
                    progress=progress,
                )
            except BaseException:
                if output is None:  # a numbered directory is ours: never leave it half-written
                    shutil.rmtree(package.path, ignore_errors=True)
                    shutil.rmtree(delivery_path(package.path), ignore_errors=True)
                raise
            return Produced(package, result)

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_EXPORT,
            case_id,
            step,
            lambda p: f"{p.result.records} records, {p.result.masked_spans} masked spans → {p.package.path}",
            permission=Permission.REQUESTS,
        )

    def deliver(
        self, who: Actor, case_id: str, *, package: str | None = None, records: int | None = None, note: str = ""
    ) -> Delivery:
        """Log one installment handed to the requester (default count: the snapshot's included records)."""

        def step() -> Delivery:
            case = self.open_case(case_id)
            if package is not None and package not in {p.path.name for p in self.packages(case_id)}:
                raise CaseError(f"{package!r} is not a produced package of {case_id}")
            count = records if records is not None else sum(1 for e in self._entries(case) if e.included)
            return deliver(
                self.cases_book, case_id, by=who.name, now=self.now(), records=count, package=package, note=note
            )

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_DELIVER,
            case_id,
            step,
            lambda d: (
                f"installment {d.number}: {d.records} records"
                f"{f' in {d.package}' if d.package else ''}{f'; {d.note}' if d.note else ''}"
            ),
            permission=Permission.REQUESTS,
        )

    def close(self, who: Actor, case_id: str) -> RequestCase:
        """Close the case: final, but its packages stay readable."""

        def step() -> RequestCase:
            case = self.open_case(case_id)
            closed = case.model_copy(update={"status": CaseStatus.CLOSED, "closed_at": self.now()})
            self.cases_book.save(closed)
            return closed

        return audited(
            self.audit,
            who,
            AuditAction.REQUEST_CLOSE,
            case_id,
            step,
            lambda c: f"closed after {len(c.deliveries)} deliveries",
            permission=Permission.REQUESTS,
        )


def open_requests(
    archive: Archive, audit: AuditLog | None = None, *, now: Callable[[], datetime] | None = None
) -> RequestDesk:
    """The desk over `archive`: its case book in the records' cluster, its audit log."""
    book = CaseBook(make_client(archive.settings), archive.settings.es_index_prefix)
    return RequestDesk(archive, book, audit or open_audit(archive.settings), now or (lambda: clock.now()))
