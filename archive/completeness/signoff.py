"""The completeness report as a PDF a records manager reads and signs off.

The PDF says what the JSON says, in words: the account, when and by whom the report was made, the
tolerance and where it came from, the verdict and its one line, then each account total and each
month (complete, gap, surplus or not knowable, with the published and archived counts), each item
short or in surplus with the archived response that showed its count, and what cannot be known on
the platform and why. It names the stored JSON report and its SHA-256, so the signed paper points at
the evidence, and ends with a place for the signature. It is kept beside the JSON in the store,
write-once like it. fpdf2 takes a second to import: only the command that writes one imports this.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from schemas import CompletenessReport, Status

from ..package.pdf import PdfReport
from ..store import BlobStore
from ..store.base import put_control

_WORDS = {
    Status.COMPLETE: "complete",
    Status.GAP: "GAP",
    Status.SURPLUS: "surplus (removed or hidden since capture: expected)",
    Status.UNKNOWABLE: "not knowable",
}


class _SignOffPdf(PdfReport):
    def lines(self, text: str, size: float = 8, bold: bool = False) -> None:
        self._write(text, size, bold=bold, height=size * 0.55)


def render_pdf(report: CompletenessReport) -> bytes:
    """The report's PDF (title page, totals, months, items, what is unknowable, signature block)."""
    json_sha = hashlib.sha256(report.model_dump_json(indent=2).encode()).hexdigest()
    t = report.tolerance
    pdf = _SignOffPdf(f"Completeness report {report.account} {report.made_at:%Y-%m-%d}", created=report.made_at)
    pdf.title_page(
        "Completeness report (fullständighetskontroll)",
        [
            ("Account", f"{report.account} ({report.platform.value})"),
            ("Scope", report.scope),
            ("Made", f"{report.made_at:%Y-%m-%d %H:%M} UTC by {report.made_by} (run {report.run_id})"),
            ("Result", _WORDS[report.status]),
            ("Summary", report.summary),
            ("Tolerance", f"{t.absolute} absolute, {t.relative:.0%} of the published count ({t.source})"),
            ("Deleted since", f"{report.deleted_since} counted item(s) the archive has seen removed (left out)"),
            ("Backfill", f"{len(report.backfill)} item(s) to be read again by the next harvest"),
            ("Stored as", report.key or "-"),
            ("JSON report SHA-256", json_sha),
        ],
    )
    if report.totals:
        pdf.section("Account totals")
        for total in report.totals:
            what = total.what.value + (f" ({total.detail})" if total.detail else "")
            shown = "not read" if total.published is None else str(total.published)
            held = "-" if total.archived is None else str(total.archived)
            pdf.lines(f"{what}: {_WORDS[total.status]} · platform {shown} · archive {held}", 9, bold=True)
            pdf.lines(total.note, 8)
            if total.evidence is not None:
                e = total.evidence
                pdf.lines(
                    f"read {e.captured_at:%Y-%m-%d %H:%M} UTC · {e.warc.filename} @ {e.warc.offset} · "
                    f"sha256 {e.warc.sha256}",
                    6.5,
                )
    if report.months:
        pdf.section("Months (by publication)")
        for m in report.months:
            pdf.lines(
                f"{m.month}: {_WORDS[m.status]} · own posts {m.posts} · counted {m.counted} · "
                f"published {m.published} · archived {m.archived} · missing {m.missing} · surplus {m.surplus}",
                8.5,
                bold=m.status is Status.GAP,
            )
            if m.note:
                pdf.lines(m.note, 7.5)
            for item in m.items:
                e = item.evidence
                pdf.lines(
                    f"    {item.item_id}: {_WORDS[item.status]} · published {item.published} ({item.covers.value}) · "
                    f"archived {item.archived} · {item.note}\n"
                    f"    count read {e.captured_at:%Y-%m-%d %H:%M} UTC in {e.warc.filename} @ {e.warc.offset} "
                    f"(sha256 {e.warc.sha256})",
                    6.5,
                )
    if report.unknowable:
        pdf.section("What cannot be known on this platform")
        pdf.lines("\n".join(report.unknowable), 9)
    pdf.section("Sign-off")
    pdf.lines(
        "I have read this report. Gaps listed above were acted on as the report says (a backfill by the next "
        "harvest) or are explained below.\n\nExplanation:\n\n\n\n\nName:\n\nRole:\n\nDate:\n\nSignature:",
        10,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        pdf.save(path)
        return path.read_bytes()


def pdf_key(report: CompletenessReport) -> str:
    """The PDF's key: the JSON report's, with `.pdf`."""
    if report.key is None:
        raise ValueError("a report is rendered once it is kept (it names its stored JSON)")
    return report.key.removesuffix(".json") + ".pdf"


def keep_pdf(store: BlobStore, report: CompletenessReport) -> tuple[str, bytes]:
    """Render the kept report and store the PDF write-once beside its JSON; returns (key, bytes)."""
    data = render_pdf(report)
    key = pdf_key(report)
    put_control(store, key, data, content_type="application/pdf", now=report.made_at)
    return key, data
