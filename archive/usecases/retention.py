"""Disposal under the retention schedule for whoever acts (`communis retention …`), each step audited.

Every step needs a signed-in user with the `retention` permission (records-manager or admin),
checked here for every door (`audited(permission=…)`); the nightly flow plans on its own, as
`flow:retention`, and can do nothing else. Plan, approve, dispose and re-evaluate are audit
events, `ok` with what they did, `denied` (not signed in, a missing role) or `failed` with the
one-line reason (the two-person rule, a list approved already …). An erasure
request is audited by archive/retention/erasure.py itself (with its PREMIS event); a refused one
is audited here as `failed`. Reading lists and certificates is not audited, as before.

`archive.retention` writes certificates as PDFs (fpdf, about a second to import): callers that
must stay fast to load (the CLI) import this module inside the command that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from schemas import AuditAction
from schemas.schedule import DispositionList, ErasureAnswer, ListSummary, Reevaluation

from .. import clock
from ..access import AuditLog, open_audit
from ..access.policy import Permission
from ..context import Archive
from ..retention.approve import approve
from ..retention.dispose import DisposalResult, Progress, dispose
from ..retention.erasure import erasure_request
from ..retention.plan import plan
from ..retention.reevaluate import reevaluate
from ..retention.schedule import load_schedule
from .actor import Actor, audited


@dataclass
class RetentionDesk:
    archive: Archive
    audit: AuditLog
    now: Callable[[], datetime] = field(default=lambda: clock.now())

    def plan(self, who: Actor, *, as_of: datetime) -> ListSummary:
        """A disposition list: the stored files whose records are all due, held by nobody, in no open request.

        Stored whole (write-once); what comes back is its summary, files and totals without the records.
        """

        def step() -> ListSummary:
            arc = self.archive
            return plan(
                arc.settings,
                arc.store,
                arc.index,
                load_schedule(arc.settings),
                as_of=as_of,
                planned_by=who.name,
                now=self.now(),
            )

        return audited(
            self.audit,
            who,
            AuditAction.RETENTION_PLAN,
            "new disposition list",
            step,
            lambda r: f"{len(r.groups)} files, {r.record_count} records",
            made=lambda r: r.id,
            permission=Permission.RETENTION,
        )

    def approve(self, who: Actor, list_id: str, *, note: str = "") -> DispositionList:
        """The second signature (records-manager or admin; not the planner)."""

        def step() -> DispositionList:
            return approve(self.archive.settings, self.archive.store, list_id, by=who.name, now=self.now(), note=note)

        return audited(
            self.audit,
            who,
            AuditAction.RETENTION_APPROVE,
            list_id,
            step,
            lambda r: f"{r.record_count} records",
            permission=Permission.RETENTION,
        )

    def dispose(self, who: Actor, list_id: str, *, progress: Progress | None = None) -> DisposalResult:
        """Execute an approved list (not by its approver); rerun to resume an interrupted disposal."""

        def step() -> DisposalResult:
            arc = self.archive
            return dispose(arc.settings, arc.store, arc.index, list_id, by=who.name, now=self.now(), progress=progress)

        return audited(
            self.audit,
            who,
            AuditAction.RETENTION_DISPOSE,
            list_id,
            step,
            lambda r: (
                f"{len(r.certificate.files)} files, {r.certificate.record_count} records disposed; "
                f"{len(r.certificate.skipped)} files skipped"
            ),
            permission=Permission.RETENTION,
        )

    def reevaluate(self, who: Actor, *, previous: Path, dry_run: bool = False) -> Reevaluation:
        """Compare the configured schedule with `previous` over the archive; extend locks that grew."""

        def step() -> Reevaluation:
            arc = self.archive
            old, new = load_schedule(arc.settings, previous), load_schedule(arc.settings)
            return reevaluate(arc.store, arc.index, old, new, by=who.name, now=self.now(), dry_run=dry_run)

        return audited(
            self.audit,
            who,
            AuditAction.RETENTION_REEVALUATE,
            "schedule change",
            step,
            lambda r: f"{r.changed} of {r.scanned} records changed; {r.extended} file locks extended",
            made=lambda r: r.id,
            permission=Permission.RETENTION,
        )

    def erasure(self, who: Actor, record_ids: list[str], *, note: str = "") -> list[ErasureAnswer]:
        """Answer GDPR erasure requests with the rule and earliest disposal date; deletes nothing.

        Each answer is audited where it is made (archive/retention/erasure.py); only a refusal is
        audited here, so no request leaves two events.
        """
        arc = self.archive
        schedule = audited(
            self.audit,
            who,
            AuditAction.RETENTION_ERASURE,
            ", ".join(record_ids),
            lambda: load_schedule(arc.settings),
            lambda _: "schedule read",
            quiet=True,
            permission=Permission.RETENTION,
        )
        answers = []
        for record_id in record_ids:

            def answer(r: str = record_id) -> ErasureAnswer:
                return erasure_request(
                    arc.settings, arc.index, schedule, r, requested_by=who.name, now=self.now(), note=note
                )

            answers.append(
                audited(
                    self.audit,
                    who,
                    AuditAction.RETENTION_ERASURE,
                    record_id,
                    answer,
                    lambda a: a.explanation,
                    quiet=True,
                )
            )
        return answers


def open_retention(
    archive: Archive, audit: AuditLog | None = None, *, now: Callable[[], datetime] | None = None
) -> RetentionDesk:
    return RetentionDesk(archive, audit or open_audit(archive.settings), now or (lambda: clock.now()))
