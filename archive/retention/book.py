"""Disposition lists, approvals, execution journals and certificates as write-once objects in the store.

Each step of a disposal is its own object that can never be overwritten (the store refuses an
existing key), so who planned, approved and executed what stays provable, also after the records
are gone. A list's status is read from which objects exist, never from an edited field.

    retention/lists/{id}.json  .csv        the list as planned
    retention/approvals/{id}.json          the approval
    retention/executions/{id}/started.json the executor's start
    retention/executions/{id}/files/{h}.json  one journal entry per file (disposed or skipped)
    retention/certificates/{id}.json .pdf  the certificate, locked for the permanent horizon
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from schemas import LockMode
from schemas.schedule import (
    Approval,
    DisposalCertificate,
    DispositionList,
    ExecutionStart,
    FileGroup,
    FileOutcome,
    FileSummary,
    ListStatus,
    ListSummary,
)

from ..errors import CommunisError, ObjectExists
from ..store import BlobStore
from ..store.base import put_control, put_control_file

PREFIX = "retention/"
CERTIFICATE_LOCK_YEARS = 10


class RetentionError(CommunisError):
    """A disposition step cannot be done as asked."""


def list_key(list_id: str) -> str:
    return f"{PREFIX}lists/{list_id}.json"


def approval_key(list_id: str) -> str:
    return f"{PREFIX}approvals/{list_id}.json"


def started_key(list_id: str) -> str:
    return f"{PREFIX}executions/{list_id}/started.json"


def journal_prefix(list_id: str) -> str:
    return f"{PREFIX}executions/{list_id}/files/"


def journal_key(list_id: str, file_key: str) -> str:
    return journal_prefix(list_id) + hashlib.sha256(file_key.encode()).hexdigest()[:24] + ".json"


def certificate_key(list_id: str, ext: str = "json") -> str:
    return f"{PREFIX}certificates/{list_id}.{ext}"


def _read(store: BlobStore, key: str) -> bytes | None:
    if store.head(key) is None:
        return None
    with store.open(key) as fh:
        return fh.read()


def _put_once(store: BlobStore, key: str, model: BaseModel) -> bool:
    """Store `model` under `key`; False if an object is already there (a rerun)."""
    try:
        put_control(store, key, model.model_dump_json(indent=2).encode())
    except ObjectExists:
        return False
    return True


def list_csv_key(list_id: str) -> str:
    return f"{PREFIX}lists/{list_id}.csv"


def save_list(store: BlobStore, plan: DispositionList) -> ListSummary:
    """Store a whole list held in memory (a sub-list, a test's): as `write_list` writes a planned one."""
    return write_list(store, plan.model_copy(update={"groups": []}), plan.groups)


def write_list(
    store: BlobStore, header: DispositionList, groups: Iterable[FileGroup], *, save: bool = True
) -> ListSummary:
    """Store the list `header` (its groups empty) with `groups`, one file at a time, and its CSV.

    The JSON is byte for byte `DispositionList.model_dump_json(indent=2)` of the whole list and the
    CSV `list_csv`'s, but both are written to private temporary files while `groups` is consumed,
    so no more than one file's records is ever in memory, then stored each with one write-once,
    COMPLIANCE-locked put (`put_control_file`). A rerun's existing objects stand, as `put_control`'s.
    `save=False`: the summary only (a look at what a list would hold), nothing stored.
    """
    with tempfile.TemporaryDirectory(prefix="communis-list-") as tmp:
        json_path, csv_path = Path(tmp) / "list.json", Path(tmp) / "list.csv"
        with json_path.open("wb") as js, csv_path.open("w", encoding="utf-8", newline="") as cs:
            files = _write_streams(header, groups, js, cs)
        summary = ListSummary(
            **header.model_dump(exclude={"groups"}),
            groups=files,
            record_count=sum(f.record_count for f in files),
            byte_count=sum(f.bytes for f in files),
        )
        objects = [
            (list_key(header.id), json_path, "application/json"),
            (list_csv_key(header.id), csv_path, "text/csv"),
        ]
        for key, path, kind in objects if save else []:
            with contextlib.suppress(ObjectExists):
                put_control_file(store, key, path, content_type=kind)
    return summary


_GROUPS_EMPTY = '"groups": []'


def _write_streams(
    header: DispositionList, groups: Iterable[FileGroup], js: IO[bytes], cs: IO[str]
) -> list[FileSummary]:
    """Write the list's JSON and CSV; the file summaries. The JSON splices each group, dumped alone and
    indented two levels, where the header's empty `groups` is: what pydantic writes for the whole list."""
    text = header.model_dump_json(indent=2)
    cut = text.index(_GROUPS_EMPTY) + len(_GROUPS_EMPTY) - 1  # just after the "["
    js.write(text[:cut].encode())
    writer = csv.writer(cs)
    writer.writerow(CSV_COLUMNS)
    files: list[FileSummary] = []
    for g in groups:
        js.write(b",\n" if files else b"\n")
        js.write("\n".join("    " + line for line in g.model_dump_json(indent=2).split("\n")).encode())
        writer.writerows(_csv_rows(header, g))
        files.append(g.summary())
    js.write(b"\n  " if files else b"")
    js.write(text[cut:].encode())
    return files


def load_list(store: BlobStore, list_id: str) -> DispositionList:
    """The list with its status from the approval and execution objects beside it."""
    raw = _read(store, list_key(list_id))
    if raw is None:
        raise RetentionError(f"no disposition list {list_id}", hint="`communis retention plan` makes one")
    plan = DispositionList.model_validate(json.loads(raw))
    approval = load_approval(store, list_id)
    if approval is not None:
        plan = plan.model_copy(
            update={"status": ListStatus.APPROVED, "approved_by": approval.by, "approved_at": approval.at}
        )
    started = load_started(store, list_id)
    if started is not None and store.head(certificate_key(list_id)) is not None:
        plan = plan.model_copy(
            update={"status": ListStatus.EXECUTED, "executed_by": started.by, "executed_at": started.at}
        )
    return plan


def list_ids(store: BlobStore) -> list[str]:
    return sorted(
        k.removeprefix(f"{PREFIX}lists/").removesuffix(".json")
        for k in store.keys(f"{PREFIX}lists/")
        if k.endswith(".json")
    )


def save_approval(store: BlobStore, approval: Approval) -> None:
    if not _put_once(store, approval_key(approval.list_id), approval):
        raise RetentionError(f"list {approval.list_id} is already approved")


def load_approval(store: BlobStore, list_id: str) -> Approval | None:
    raw = _read(store, approval_key(list_id))
    return Approval.model_validate(json.loads(raw)) if raw is not None else None


def save_started(store: BlobStore, start: ExecutionStart) -> ExecutionStart:
    """Record the start; on a resume the first start stands and is returned."""
    if _put_once(store, started_key(start.list_id), start):
        return start
    existing = load_started(store, start.list_id)
    assert existing is not None
    return existing


def load_started(store: BlobStore, list_id: str) -> ExecutionStart | None:
    raw = _read(store, started_key(list_id))
    return ExecutionStart.model_validate(json.loads(raw)) if raw is not None else None


def save_outcome(store: BlobStore, outcome: FileOutcome) -> FileOutcome:
    """Journal one file; if it was journaled before (a crash after the write), that entry stands."""
    key = journal_key(outcome.list_id, outcome.key)
    if _put_once(store, key, outcome):
        return outcome
    raw = _read(store, key)
    assert raw is not None
    return FileOutcome.model_validate(json.loads(raw))


def journal(store: BlobStore, list_id: str) -> Iterator[FileOutcome]:
    for key in store.keys(journal_prefix(list_id)):
        raw = _read(store, key)
        if raw is not None:
            yield FileOutcome.model_validate(json.loads(raw))


def save_certificate(store: BlobStore, cert: DisposalCertificate, pdf: bytes, now: datetime) -> None:
    """JSON and PDF, write-once and locked for the permanent horizon: certificates are never disposed of."""
    until = now + timedelta(days=365 * CERTIFICATE_LOCK_YEARS)
    for key, data, kind in (
        (certificate_key(cert.list_id), cert.model_dump_json(indent=2).encode(), "application/json"),
        (certificate_key(cert.list_id, "pdf"), pdf, "application/pdf"),
    ):
        with contextlib.suppress(ObjectExists):
            store.put_bytes(key, data, retain_until=until, lock_mode=LockMode.COMPLIANCE, content_type=kind)


def load_certificate(store: BlobStore, list_id: str) -> DisposalCertificate | None:
    raw = _read(store, certificate_key(list_id))
    return DisposalCertificate.model_validate(json.loads(raw)) if raw is not None else None


def certificate_ids(store: BlobStore) -> list[str]:
    return sorted(
        k.removeprefix(f"{PREFIX}certificates/").removesuffix(".json")
        for k in store.keys(f"{PREFIX}certificates/")
        if k.endswith(".json")
    )


CSV_COLUMNS = [
    "list_id",
    "as_of",
    "file",
    "account",
    "rule",
    "decision",
    "series",
    "record_id",
    "warc_sha256",
    "content_sha256",
    "first_captured",
    "last_captured",
    "retention_met",
    "file_bytes",
]


def list_csv(plan: DispositionList) -> str:
    """One row per record, so a records manager can filter and count in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for g in plan.groups:
        writer.writerows(_csv_rows(plan, g))
    return out.getvalue()


def _csv_rows(plan: DispositionList, g: FileGroup) -> Iterator[list[Any]]:
    rules = {c.rule_id: c for c in g.rules}
    for r in g.records:
        rule = rules[r.rule_id]
        yield [
            plan.id,
            plan.as_of.isoformat(),
            g.key,
            g.account,
            r.rule_id,
            _cell(rule.decision.cite()),
            _cell(rule.series),
            r.record_id,
            r.warc_sha256 or "",
            r.content_sha256 or "",
            g.first_captured.isoformat(),
            g.last_captured.isoformat(),
            g.retention_met.isoformat(),
            g.bytes,
        ]


def csv_rows(store: BlobStore, list_id: str, *, limit: int) -> list[dict[str, str]]:
    """The first `limit` rows of a stored list's CSV as dicts (read as a stream, not whole)."""
    with store.open(list_csv_key(list_id)) as fh:
        text = codecs.getreader("utf-8")(fh)  # any object with read(): an S3 body is no io.IOBase for TextIOWrapper
        return list(itertools.islice(csv.DictReader(text), limit))


def _cell(text: str) -> str:
    """A spreadsheet would run a cell starting with = + - @ as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
