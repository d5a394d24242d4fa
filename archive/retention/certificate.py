"""The disposal certificate (gallringsprotokoll / destruction log): JSON + PDF, write-once, never disposed of.

Built from the list and the execution journal only, so a resumed disposal gives the same
certificate as an uninterrupted one. Each file's outcome is also a PREMIS deletion event in the
append-only preservation log (a skipped file is a deletion event with a warning and the reason).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from schemas.premis import PremisEventType, PremisOutcome
from schemas.schedule import (
    DisposalCertificate,
    DispositionList,
    ExecutionStart,
    FileOutcome,
    FileOutcomeKind,
    SkippedFile,
)

from ..config import Settings
from ..index import open_index
from ..package.pdf import PdfReport
from ..preservation.premis import open_premis
from ..store import BlobStore
from . import book

#: Above this many records the PDF lists counts per file and points to the JSON (bound by its SHA-256).
PDF_RECORD_LIMIT = 5000

STATEMENT = (
    "No legal hold and no open public-records request applied to any record disposed of here: "
    "immediately before each file was deleted its records were checked against the legal holds in "
    "the index and the records of every open request case; a file where one applied was skipped and "
    "is listed as skipped."
)


def method(settings: Settings, store: BlobStore, index_alias: str) -> str:
    where = (
        f"S3 bucket {settings.s3_bucket} (Object Lock)" if store.name == "s3" else f"local store {settings.store_path}"
    )
    return (
        f"Deletion of every object version and delete marker of each WARC file and its manifest in {where}, "
        f"and of the records' documents in the Elasticsearch index {index_alias}. The system keeps no other "
        "copy of the records (exports handed out are outside the archive)."
    )


def issue_certificate(
    settings: Settings,
    store: BlobStore,
    plan: DispositionList,
    started: ExecutionStart,
    outcomes: list[FileOutcome],
    *,
    executor: str,
) -> DisposalCertificate:
    """Write the certificate (if not yet written) and the PREMIS events (if not yet recorded); return it."""
    existing = book.load_certificate(store, plan.id)
    cert = existing or build_certificate(settings, store, plan, started, outcomes)
    if existing is None or store.head(book.certificate_key(plan.id, "pdf")) is None:
        book.save_certificate(store, cert, render_pdf(cert), cert.completed_at)
    _premis_events(settings, plan, cert, outcomes)
    return cert


def build_certificate(
    settings: Settings, store: BlobStore, plan: DispositionList, started: ExecutionStart, outcomes: list[FileOutcome]
) -> DisposalCertificate:
    assert plan.approved_by is not None and plan.approved_at is not None
    by_key = {o.key: o for o in outcomes}
    files = [g for g in plan.groups if by_key[g.key].outcome is FileOutcomeKind.DISPOSED]
    skipped = [
        SkippedFile(key=g.key, reason=by_key[g.key].reason, records=len(g.records))
        for g in plan.groups
        if by_key[g.key].outcome is FileOutcomeKind.SKIPPED
    ]
    executors = sorted({o.by for o in outcomes} - {started.by})
    covered = (min(g.first_captured for g in files), max(g.last_captured for g in files)) if files else None
    return DisposalCertificate(
        id=f"cert-{plan.id}",
        list_id=plan.id,
        organisation=settings.operator,
        as_of=plan.as_of,
        planned_by=plan.planned_by,
        planned_at=plan.planned_at,
        approved_by=plan.approved_by,
        approved_at=plan.approved_at,
        executed_by=started.by,
        executed_at=started.at,
        completed_at=max((o.at for o in outcomes), default=started.at),
        resumed_by=executors,
        method=method(settings, store, open_index(settings).alias),
        statement=STATEMENT,
        files=files,
        skipped=skipped,
        record_count=sum(len(g.records) for g in files),
        byte_count=sum(g.bytes for g in files),
        dates_covered=covered,
    )


class _CertificatePdf(PdfReport):
    def lines(self, text: str, size: float = 8) -> None:
        self._write(text, size, height=size * 0.5)


def render_pdf(cert: DisposalCertificate) -> bytes:
    """The human-readable certificate: summary, then every file with rule, decision and records."""
    json_sha = hashlib.sha256(cert.model_dump_json(indent=2).encode()).hexdigest()
    pdf = _CertificatePdf(f"Disposal certificate {cert.id}", created=cert.completed_at)
    covered = (
        f"{cert.dates_covered[0]:%Y-%m-%d} – {cert.dates_covered[1]:%Y-%m-%d}"
        if cert.dates_covered
        else "nothing disposed"
    )
    pdf.title_page(
        "Disposal certificate (gallringsprotokoll)",
        [
            ("Certificate", cert.id),
            ("Disposition list", cert.list_id),
            ("Organisation", cert.organisation),
            ("Planned", f"{cert.planned_by}, {cert.planned_at:%Y-%m-%d %H:%M} UTC (as of {cert.as_of:%Y-%m-%d})"),
            ("Approved", f"{cert.approved_by}, {cert.approved_at:%Y-%m-%d %H:%M} UTC"),
            (
                "Executed",
                f"{cert.executed_by}, {cert.executed_at:%Y-%m-%d %H:%M} – {cert.completed_at:%Y-%m-%d %H:%M} UTC"
                + (f" (resumed by {', '.join(cert.resumed_by)})" if cert.resumed_by else ""),
            ),
            ("Volume", f"{len(cert.files)} files, {cert.record_count} records, {cert.byte_count} bytes"),
            ("Dates covered", covered),
            ("Skipped", f"{len(cert.skipped)} files"),
            ("Method", cert.method),
            ("Statement", cert.statement),
            ("JSON certificate SHA-256", json_sha),
        ],
    )
    full = cert.record_count <= PDF_RECORD_LIMIT
    for n, g in enumerate(cert.files, 1):
        pdf.section(f"File {n} of {len(cert.files)}: {g.key.rsplit('/', 1)[-1]}")
        pdf.lines(
            f"Storage key: {g.key}\nAccount: {g.account} · file class: {g.file_class} · {g.bytes} bytes\n"
            f"File SHA-256: {g.file_sha256 or 'unknown'}\n"
            f"Dates covered: {g.first_captured:%Y-%m-%d} – {g.last_captured:%Y-%m-%d} · "
            f"retention met: {g.retention_met:%Y-%m-%d}",
            9,
        )
        for c in g.rules:
            pdf.lines(
                f"Rule {c.rule_id} · series: {c.series}\n{c.description}\nClass {c.retention_class}, minimum "
                f"retention {c.minimum_retention}\nDecision: {c.decision.cite()}",
                9,
            )
        if full:
            pdf.lines(
                "\n".join(
                    f"{r.record_id}  {r.rule_id}  record SHA-256 {r.warc_sha256 or '-'}  content "
                    f"SHA-256 {r.content_sha256 or '-'}"
                    for r in g.records
                ),
                6.5,
            )
        else:
            pdf.lines(f"{len(g.records)} records: ids and SHA-256s in the JSON certificate.", 8)
    if cert.skipped:
        pdf.section("Skipped files (not disposed of)")
        pdf.lines("\n".join(f"{s.key}: {s.records} records; {s.reason}" for s in cert.skipped), 8)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "certificate.pdf"
        pdf.save(path)
        return path.read_bytes()


def _premis_events(
    settings: Settings, plan: DispositionList, cert: DisposalCertificate, outcomes: list[FileOutcome]
) -> None:
    """One deletion event per file, unless a previous run recorded it already.

    The events of earlier runs are read once (by the list's tag) and the log is refreshed once at
    the end: a refresh per event cost a second per file (the index's refresh interval).
    """
    premis = open_premis(settings)
    tag = f"disposition-list:{plan.id}"
    groups = {g.key: g for g in plan.groups}
    recorded = {
        obj
        for e in premis.events(
            object_id=tag, type=PremisEventType.DELETION, limit=max(1000, min(10_000, 2 * len(outcomes)))
        )
        for obj in e.objects
    }
    written = 0
    for o in outcomes:
        if o.key in recorded or (
            len(recorded) >= 10_000
            and any(tag in e.objects for e in premis.events(object_id=o.key, type=PremisEventType.DELETION))
        ):
            continue
        g = groups[o.key]
        disposed = o.outcome is FileOutcomeKind.DISPOSED
        rules = "; ".join(f"{c.rule_id} ({c.decision.cite()})" for c in g.rules)
        premis.record(
            PremisEventType.DELETION,
            objects=[o.key, tag, f"certificate:{cert.id}"],
            agents=[f"executor: {o.by}", f"approver: {cert.approved_by}", f"planner: {cert.planned_by}"],
            detail=f"{len(g.records)} records under {rules}"[:5000],
            at=o.at,
            sha256=g.file_sha256,
            outcome=PremisOutcome.SUCCESS if disposed else PremisOutcome.WARNING,
            outcome_detail=(o.reason or "file and records deleted") if disposed else f"skipped: {o.reason}",
        )
        written += 1
    if written:
        premis.refresh()
