"""Executing an approved disposition list, file by file, crash-safe and idempotent.

Per file, in this order: re-check holds and open requests (anything newly held or requested is
skipped), delete every version of the WARC file (the server's Object Lock may refuse: then the
file is skipped and nothing of it is touched), delete its records from the index and its
manifest, and journal the outcome as a write-once object. A rerun skips journaled files and
treats a WARC file already gone as deleted by the interrupted run, so it resumes where it
stopped (such a file is completed whatever came since: its bytes are gone, and the journal must
say so); the certificate is built from the journal alone, so it shows exactly what was removed.

Before anything is deleted, every active hold is put back on the records (`reapply_holds`): a
hold whose placement was interrupted before its records were marked protects them all the same.
A crash between the JSON certificate and its PDF or PREMIS events is completed by a rerun.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schemas.schedule import (
    DisposalCertificate,
    DispositionList,
    ExecutionStart,
    FileGroup,
    FileOutcome,
    FileOutcomeKind,
    ListStatus,
)

from ..config import Settings
from ..errors import ObjectLocked, ObjectMissing
from ..faults import CrashPoint, crash_point
from ..holds import reapply_holds
from ..index import RecordIndex, queries
from ..store import BlobStore, open_disposal_store
from ..warc.naming import manifest_key
from . import book
from .actors import authorised, require_other
from .certificate import issue_certificate
from .plan import open_case_record_ids

Progress = Callable[[FileOutcome], None]


@dataclass
class DisposalResult:
    certificate: DisposalCertificate
    disposed: list[FileOutcome] = field(default_factory=list)
    skipped: list[FileOutcome] = field(default_factory=list)
    resumed: bool = False
    already_done: bool = False


def dispose(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    list_id: str,
    *,
    by: str,
    now: datetime,
    progress: Progress | None = None,
    deleter: BlobStore | None = None,
) -> DisposalResult:
    """Execute the approved list as `by` (neither its approver nor its planner); rerun after a crash to resume.

    Files are deleted through `deleter`, by default the store as the disposal role (the one credential
    that may delete object versions, and that may write nothing, so it cannot shorten a lock first);
    everything else (the journal, the certificate, holds re-applied) is written through `store`."""
    deleter = deleter or open_disposal_store(settings) or store
    plan = book.load_list(store, list_id)
    if plan.status is ListStatus.EXECUTED:
        started_once = book.load_started(store, list_id)
        assert started_once is not None
        done_once = {o.key: o for o in book.journal(store, list_id)}
        cert = issue_certificate(
            settings, store, plan, started_once, [done_once[g.key] for g in plan.groups], executor=started_once.by
        )  # writes only what an interrupted run left out
        return DisposalResult(cert, already_done=True)
    if plan.status is not ListStatus.APPROVED or plan.approved_by is None:
        raise book.RetentionError(
            f"list {list_id} is not approved; an unapproved list cannot be executed",
            hint=f"a records manager who did not plan it runs: communis retention approve {list_id}",
        )
    name = authorised(settings, by, "execute a disposition list")
    require_other(name, plan.approved_by, "execute", "approved")
    require_other(name, plan.planned_by, "execute", "planned")
    if now < plan.as_of:
        raise book.RetentionError(
            f"list {list_id} was planned as of {plan.as_of:%Y-%m-%d %H:%M}; it cannot be executed before then"
        )
    started = book.save_started(store, ExecutionStart(list_id=list_id, by=name, at=now))
    done = {o.key: o for o in book.journal(store, list_id)}
    resumed = bool(done) or started.by != name or started.at != now
    open_ids: set[str] = set()
    if len(done) < len(plan.groups):
        reapply_holds(store, index)
        open_ids = open_case_record_ids(settings, index)
    for group in plan.groups:
        if group.key in done:
            continue
        outcome = book.save_outcome(store, _dispose_file(store, deleter, index, plan, group, open_ids, name, now))
        done[group.key] = outcome
        if progress is not None:
            progress(outcome)
    index.refresh()
    crash_point(CrashPoint.DISPOSE_BEFORE_CERTIFICATE)
    outcomes = [done[g.key] for g in plan.groups]
    cert = issue_certificate(settings, store, plan, started, outcomes, executor=name)
    return DisposalResult(
        cert,
        [o for o in outcomes if o.outcome is FileOutcomeKind.DISPOSED],
        [o for o in outcomes if o.outcome is FileOutcomeKind.SKIPPED],
        resumed=resumed,
    )


def _dispose_file(
    store: BlobStore,
    deleter: BlobStore,
    index: RecordIndex,
    plan: DispositionList,
    group: FileGroup,
    open_ids: set[str],
    by: str,
    now: datetime,
) -> FileOutcome:
    ids = [r.record_id for r in group.records]

    def outcome(kind: FileOutcomeKind, reason: str = "") -> FileOutcome:
        return FileOutcome(
            list_id=plan.id,
            key=group.key,
            outcome=kind,
            reason=reason,
            by=by,
            at=now,
            records=len(ids) if kind is FileOutcomeKind.DISPOSED else 0,
        )

    gone = store.head(group.key) is None
    # The checks that protect records come first, also for a file that is already missing: a missing
    # file is finished only when it would have been disposed of now, so a hold, a request or a date
    # never gives way to a file that vanished some other way (a wrong prefix, an operator, a restore).
    missing = "; the file is missing from the store (an interrupted disposal, or lost): investigate" if gone else ""
    if now < group.retention_met:
        return outcome(FileOutcomeKind.SKIPPED, f"not due until {group.retention_met:%Y-%m-%d}{missing}")
    held = queries.count_held(index, ids)
    if held:
        return outcome(FileOutcomeKind.SKIPPED, f"{held} record(s) came under a legal hold after planning{missing}")
    requested = len(set(ids) & open_ids)
    if requested:
        return outcome(FileOutcomeKind.SKIPPED, f"{requested} record(s) are in an open public-records request{missing}")
    if gone:
        # Deleted by an interrupted run: finish it, so the index and journal tell the truth. Older
        # object versions behind a delete marker are deleted too, unless a lock refuses.
        try:
            deleter.delete(group.key)
        except ObjectLocked as exc:
            return outcome(FileOutcomeKind.SKIPPED, f"refused by Object Lock: {exc}")
        except ObjectMissing:
            pass
        _delete_documents(index, ids)
        _delete_manifest(deleter, group)
        crash_point(CrashPoint.DISPOSE_BEFORE_JOURNAL)
        return outcome(
            FileOutcomeKind.DISPOSED, "the file was already gone from the store (deleted by an interrupted run)"
        )
    in_file = queries.count_in_file(index, group.key)
    on_list = queries.count_in_file(index, group.key, among=ids)
    if in_file > on_list:
        return outcome(FileOutcomeKind.SKIPPED, f"the file holds {in_file - on_list} record(s) not on the list")
    note = ""
    try:
        deleter.delete(group.key)
    except ObjectLocked as exc:
        until = f" (retained until {group.locked_until:%Y-%m-%d %H:%M} UTC)" if group.locked_until else ""
        return outcome(FileOutcomeKind.SKIPPED, f"refused by Object Lock{until}: {exc}")
    except ObjectMissing:
        note = "the file was already gone from the store (deleted by an interrupted run)"
    crash_point(CrashPoint.DISPOSE_BEFORE_INDEX)
    _delete_documents(index, ids)
    note = "; ".join(n for n in (note, _delete_manifest(deleter, group)) if n)
    crash_point(CrashPoint.DISPOSE_BEFORE_JOURNAL)
    return outcome(FileOutcomeKind.DISPOSED, note)


def _delete_manifest(store: BlobStore, group: FileGroup) -> str:
    """Delete the file's manifest; a note if it must stay (locked), nothing if gone already."""
    try:
        store.delete(manifest_key(group.account, group.key.rsplit("/", 1)[-1]))
    except ObjectMissing:
        pass
    except ObjectLocked as exc:
        return f"manifest kept: {exc}"
    return ""


def _delete_documents(index: RecordIndex, ids: list[str]) -> None:
    """Delete the records' documents; ones already gone (a resumed run) are fine."""
    for record_id, error in queries.delete_records(index, ids, action="delete disposed records from the index"):
        raise book.RetentionError(
            f"could not delete record {record_id} from the index: {error}", hint="run the disposal again to resume"
        )
