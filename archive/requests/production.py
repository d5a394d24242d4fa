"""The production package of a request case: one BagIt bag, streamed record by record, and its delivery.

Layout of the package's `data/` (decided so that what the requester receives can never hold unmasked text):

    release/   what is handed out; every released field built from masked parts, or withheld
               report.html, report-NNN.pdf (1 000 records each), records.csv, records.jsonl,
               masking-decision.json (grounds, no digests), media/<sha256>.<ext> (re-encoded without
               metadata unless decided otherwise), and with --bates: the report PDFs Bates-stamped page
               by page, text/<BEGBATES>.txt, natives/<BEGBATES>.json, loadfile.csv (IMAGELINK: the PDF
               holding the record's pages BEGBATES..ENDBATES)
    internal/  for the authority's own and legal use; originals, never masked
               records.warc.gz (the stored WARC records, byte for byte), records.wacz,
               masking-decision.json (with each value's HMAC under the installation's key, keys.py),
               chain-of-custody.jsonl, hash-report.csv, certification.md, case.json

The package stays with the authority. What the requester gets is the *delivery*, a second bag
beside it (`NAME-delivery`) whose `data/` is exactly `release/`: downloading a package sends the
delivery, never the originals. Both are made from the same staged files in one run.

Every released field is built from masked parts or withheld: the people-written fields are masked
as decided; a record's URL is withheld when its author is masked or a masked value shows in it
(X, Bluesky and Mastodon build the URL from the author's handle); the identities of masked authors
(handle, platform id such as a Bluesky DID, masked name) are cut out of every released identifier
(`item_key`, `parent_id`, `thread_id`, `url`) of every record; the digest of unmasked content
(`content_sha256`) is withheld for a masked record. Each such step is in the decision with the
ground of the mask that caused it. Media follow their decision (media.py).

A package is refused while any suggestion is unreviewed (SE-9). The archived originals are
only read: their digests are checked on the way out (US-12) and never change.

The bags are written into `.NAME.partial` beside the output and renamed to NAME only when complete,
so a crash never leaves a directory under the asked-for name that looks like a package (a half bag
there would even pass `bagit.txt` checks until its manifests were compared). The package is named
first and the delivery after it, so a delivery never exists without its package. A rerun removes
what an interrupted run left (`.NAME.partial`, `.NAME.staging`) and starts again.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from schemas import FieldDecision, Mask, MaskStatus, MediaAction, MediaDecision
from schemas.cases import RequestCase, SnapshotEntry

from ..access.audit import AuditLog
from ..browse.media import archived_media
from ..config import Settings
from ..durable import fsync_path
from ..faults import CrashPoint, crash_point
from ..index import RecordIndex
from ..index.cases import record_sources
from ..package.bagit import BagWriter
from ..package.pdf import BatesCounter, PageSpan, PdfReport, Provenance, RecordView
from ..package.wacz import Page, write_wacz
from ..package.warcfile import PackageWarcWriter
from ..store import BlobStore
from ..version import __version__
from ..warc.naming import warc_key
from .casebook import CaseBook, CaseError
from .keys import masking_key
from .layout import delivery_path
from .masking import MARKER, decision_entries, mask_fields
from .media import FALLBACK_GROUND, MediaChoice, choose, strip_metadata
from .profiles import load_profiles
from .reading import read_verified
from .workflow import MASKED_FIELDS, field_value

PDF_RECORDS = 1000
CSV_FIELDS = (
    "record_id",
    "item_key",
    "platform",
    "account",
    "kind",
    "direction",
    "parent_id",
    "thread_id",
    "published_at",
    "edited_at",
    "captured_at",
    "version",
    "deleted",
    "url",
    "title",
    "text",
    "author.name",
    "author.handle",
    "warc_sha256",
    "content_sha256",
    "media",
)
LOADFILE_FIELDS = (
    "BEGBATES",
    "ENDBATES",
    "PARENT",
    "URL",
    "ACCOUNT",
    "CREATED",
    "CAPTURED",
    "SHA256",
    "NATIVELINK",
    "TEXTLINK",
    "IMAGELINK",
)
_EXT = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
}


#: Fields the platform fills from its author's identity: masking any of them hides the author.
AUTHOR_FIELDS = ("author.name", "author.handle")
#: Released identifiers: a masked author's handle or platform id is cut out of each of them.
IDENTIFIERS = ("item_key", "parent_id", "thread_id", "url")


@dataclass
class ProductionResult:
    directory: Path
    delivery: Path | None = None
    records: int = 0
    masked_spans: int = 0
    media_files: int = 0
    bytes: int = 0
    files: int = 0
    pdfs: list[str] = field(default_factory=list)
    bates: tuple[str, str] | None = None


@dataclass(frozen=True)
class _Secret:
    """A value no released identifier may show, and the accepted mask that makes it secret."""

    value: str
    mask: Mask


def _accepted(masks: list[Mask]) -> list[Mask]:
    return [m for m in masks if m.status is MaskStatus.ACCEPTED]


def _masked_values(doc: dict[str, Any], masks: list[Mask]) -> list[_Secret]:
    found = []
    for m in _accepted(masks):
        value = field_value(doc, m.field)[m.start : m.end].strip()
        if value:
            found.append(_Secret(value, m))
    return found


def _identities(index: RecordIndex, by_record: dict[str, list[Mask]]) -> list[_Secret]:
    """The identities of every author the case masks: handle (and its local part), platform id, masked values.

    Read before the records stream by, since a reply names its parent (`parent_id`, on Bluesky an
    at:// URI holding the parent author's DID) wherever in the order the parent comes.
    """
    masked: dict[str, Mask] = {}
    for rid, masks in by_record.items():
        author = [m for m in _accepted(masks) if m.field in AUTHOR_FIELDS]
        if author:
            masked[rid] = author[0]
    found: dict[str, _Secret] = {}
    for rid, doc in record_sources(index, masked).items():
        who = doc.get("author") or {}
        handle = str(who.get("handle") or "").lstrip("@")
        values = [str(who.get("id") or ""), handle, handle.split("@")[0]]
        values += [s.value for s in _masked_values(doc, by_record[rid]) if s.mask.field in AUTHOR_FIELDS]
        for value in values:
            if value.strip() and value.strip().lower() not in found:
                found[value.strip().lower()] = _Secret(value.strip(), masked[rid])
    return sorted(found.values(), key=lambda s: -len(s.value))  # longest first: a handle before its local part


def _scrub(value: str, secrets: list[_Secret]) -> tuple[str, Mask | None]:
    """The value with every secret (in any case, percent-encoded or not) replaced by the marker, and the first hit."""
    text, hit = unquote(value), None
    for secret in secrets:
        pattern = re.compile(re.escape(secret.value), re.IGNORECASE)
        if pattern.search(text):
            text, hit = pattern.sub(MARKER, text), hit or secret.mask
    return (text, hit) if hit is not None else (value, None)


def _decided(
    doc: dict[str, Any], name: str, action: Literal["withheld", "masked"], mask: Mask, because: str
) -> FieldDecision:
    assert mask.ground is not None and mask.reviewer is not None and mask.decided_at is not None  # accepted
    return FieldDecision(
        record_id=doc["record_id"],
        field=name,
        action=action,
        ground=mask.ground,
        reviewer=mask.reviewer,
        decided_at=mask.decided_at,
        because=because,
    )


def _released(
    doc: dict[str, Any], masks: list[Mask], identities: list[_Secret], media: list[str]
) -> tuple[dict[str, Any], list[FieldDecision]]:
    """The record as handed out, built from masked parts only, and what was withheld or cut from which field.

    `media` is the released SHA-256 of each media file, or the marker for one withheld.
    """
    values = {path: field_value(doc, path) for path in MASKED_FIELDS}
    masked = mask_fields(values, masks, record_id=doc["record_id"])
    own = _masked_values(doc, masks)
    author_mask = next((m for m in _accepted(masks) if m.field in AUTHOR_FIELDS), None)
    steps: list[FieldDecision] = []
    out: dict[str, Any] = {k: doc.get(k) for k in CSV_FIELDS if "." not in k and k in doc}
    for name in IDENTIFIERS:
        value = doc.get(name)
        if not isinstance(value, str) or not value:
            continue
        if name == "url" and author_mask is not None:
            out[name] = MARKER
            steps.append(_decided(doc, name, "withheld", author_mask, "the platform builds it from the masked author"))
            continue
        scrubbed, hit = _scrub(value, identities + own)
        if hit is not None and name == "url":
            out[name] = MARKER
            steps.append(_decided(doc, name, "withheld", hit, "it shows a masked value"))
        elif hit is not None:
            out[name] = scrubbed
            steps.append(_decided(doc, name, "masked", hit, "it holds a masked author's identity"))
    if own:
        out["content_sha256"] = None
        steps.append(
            _decided(doc, "content_sha256", "withheld", own[0].mask, "a digest of the unmasked content tests guesses")
        )
    out["title"] = masked["title"] or None
    out["text"] = masked["text"]
    out["author"] = {"name": masked["author.name"] or None, "handle": masked["author.handle"] or None}
    out["warc_sha256"] = (doc.get("warc") or {}).get("sha256")
    out["media"] = media
    return out, steps


def _csv_row(rel: dict[str, Any]) -> list[str]:
    row = []
    for name in CSV_FIELDS:
        value: Any = rel.get("author", {}).get(name.split(".")[1]) if name.startswith("author.") else rel.get(name)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        row.append("'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text)
    return row


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class _Staging:
    """Files written while records stream by, added to the bag at the end (and then removed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


def produce(
    settings: Settings,
    book: CaseBook,
    index: RecordIndex,
    store: BlobStore,
    audit: AuditLog,
    case_id: str,
    out: Path,
    *,
    by: str,
    now: datetime,
    bates_prefix: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ProductionResult:
    """Build the package of the case's latest snapshot (included records) in the new directory `out`."""
    case = book.get(case_id)
    if not case.snapshots:
        raise CaseError(f"case {case_id} has not been run", hint=f"`communis request run {case_id}` first")
    masks = book.masks(case_id)
    pending = [m for m in masks if m.status is MaskStatus.PENDING]
    if pending:
        raise CaseError(
            f"case {case_id} has {len(pending)} unreviewed masking suggestions; nothing was produced",
            hint=f"review them: `communis request review {case_id} --accept-suggestions --ground …` "
            "or reject them in the web application",
        )
    entries = sorted(
        (e for e in book.entries(case_id, case.snapshots) if e.included),
        key=lambda e: (e.platform, e.account, e.item_key, e.record_id),
    )
    by_record: dict[str, list[Mask]] = defaultdict(list)
    for m in masks:
        by_record[m.record_id].append(m)
    delivery = delivery_path(out)
    for target in (out, delivery):
        if target.exists() and any(target.iterdir()):
            raise CaseError(f"{target} is not empty", hint="give a new directory")
    key = masking_key(settings)  # before any work: a key other users can read stops the export
    profile = load_profiles().get(case.profile)
    default_ground = profile.default_grounds[0] if profile and profile.default_grounds else FALLBACK_GROUND
    partial = out.parent / f".{out.name}.partial"
    delivery_partial = out.parent / f".{delivery.name}.partial"
    for left in (partial, delivery_partial, out.parent / f".{out.name}.staging"):  # an interrupted run's leftovers
        shutil.rmtree(left, ignore_errors=True)
    staging = _Staging(out.parent / f".{out.name}.staging")
    try:
        result = _produce(
            settings,
            case,
            entries,
            by_record,
            masks,
            index,
            store,
            audit,
            partial,
            staging,
            by=by,
            now=now,
            bates_prefix=bates_prefix,
            progress=progress,
            key=key,
            media_decided=book.media_decisions(case_id),
            default_ground=default_ground,
        )
        _delivery(settings, case, staging, delivery_partial, now)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(delivery_partial, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging.root, ignore_errors=True)
    _publish(partial, out)
    _publish(delivery_partial, delivery)
    result.directory, result.delivery = out, delivery
    return result


def _delivery(settings: Settings, case: RequestCase, st: _Staging, out: Path, now: datetime) -> None:
    """The requester's bag: the staged `release/` files alone, as its payload (so load-file paths still hold)."""
    bag = BagWriter(
        out,
        {
            "Source-Organization": settings.operator,
            "External-Identifier": case.id,
            "External-Description": f"Release copy for public-records request {case.id}, {now:%Y-%m-%d}",
            "Bag-Software-Agent": f"communis {__version__}",
        },
    )
    release = st.root / "release"
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        bag.add_file(path.relative_to(release).as_posix(), path)
    bag.finish()


def _publish(partial: Path, out: Path) -> None:
    """Give the complete bag its name in one rename (onto an empty directory if one was made), durably."""
    if out.exists():
        out.rmdir()  # empty: checked above
    partial.rename(out)
    fsync_path(out.parent)


def _produce(
    settings: Settings,
    case: RequestCase,
    entries: list[SnapshotEntry],
    by_record: dict[str, list[Mask]],
    masks: list[Mask],
    index: RecordIndex,
    store: BlobStore,
    audit: AuditLog,
    out: Path,
    st: _Staging,
    *,
    by: str,
    now: datetime,
    bates_prefix: str | None,
    progress: Callable[[int, int], None] | None,
    key: bytes,
    media_decided: dict[str, MediaDecision],
    default_ground: str,
) -> ProductionResult:
    result = ProductionResult(out)
    identities = _identities(index, by_record)
    texts: dict[tuple[str, str], str] = {}  # the original of each masked field, for the decision's HMACs
    field_steps: list[FieldDecision] = []
    media_choices: dict[str, tuple[MediaChoice, str | None]] = {}
    warc = PackageWarcWriter(
        st.path("internal/records.warc.gz"),
        {
            "operator": settings.operator,
            "description": f"Records produced for request case {case.id}",
            "isPartOf": case.id,
        },
    )
    media_seen: set[str] = set()
    pages: list[Page] = []
    report_html = st.path("release/report.html").open("w", encoding="utf-8")
    records_csv = st.path("release/records.csv").open("w", encoding="utf-8", newline="")
    records_jsonl = st.path("release/records.jsonl").open("w", encoding="utf-8")
    custody = st.path("internal/chain-of-custody.jsonl").open("w", encoding="utf-8")
    hashes = st.path("internal/hash-report.csv").open("w", encoding="utf-8", newline="")
    loadfile = st.path("release/loadfile.csv").open("w", encoding="utf-8", newline="") if bates_prefix else None
    csv_out, hash_out = csv.writer(records_csv), csv.writer(hashes)
    load_out = csv.writer(loadfile) if loadfile else None
    csv_out.writerow(CSV_FIELDS)
    hash_out.writerow(["record_id", "warc_file", "offset", "length", "sha256_at_capture", "sha256_at_export", "match"])
    if load_out:
        load_out.writerow(LOADFILE_FIELDS)
    report_html.write(_html_head(case, len(entries), now))
    pdf: PdfReport | None = None
    counter = BatesCounter(bates_prefix) if bates_prefix else None
    printed: list[tuple[PageSpan, dict[str, Any], dict[str, Any], RecordView]] = []  # this PDF's records
    item_bates: dict[str, str] = {}
    accesses = _accesses(audit, [e.record_id for e in entries])

    def finish_pdf() -> None:
        assert pdf is not None
        result.pdfs.append(_save_pdf(pdf, st, len(result.pdfs)))
        for span, doc, released, view in printed:
            begin, end = pdf.bates_label(span.first), pdf.bates_label(span.last)
            if begin is None or end is None or load_out is None:
                continue
            item_bates[doc["item_id"]] = begin
            parent = item_bates.get(doc.get("thread_id") or "") if doc["kind"] != "post" else ""
            st.path(f"release/text/{begin}.txt").write_text(view.text, encoding="utf-8")
            st.path(f"release/natives/{begin}.json").write_text(json.dumps(released, ensure_ascii=False, indent=2))
            load_out.writerow(
                [
                    begin,
                    end,
                    parent or "",
                    released.get("url") or "",
                    doc["account"],
                    doc.get("published_at") or "",
                    doc["captured_at"],
                    released["warc_sha256"],
                    f"natives/{begin}.json",
                    f"text/{begin}.txt",
                    result.pdfs[-1].removeprefix("release/"),
                ]
            )
            result.bates = (result.bates[0] if result.bates else begin, end)
        printed.clear()

    try:
        for n, got in enumerate(read_verified(index, store, entries)):
            entry, doc, loc = got.entry, got.document, got.location
            if entry.warc_sha256 and loc.sha256 != entry.warc_sha256:
                raise CaseError(
                    f"record {entry.record_id} no longer matches the frozen snapshot "
                    f"(WARC SHA-256 {loc.sha256[:12]}… ≠ {entry.warc_sha256[:12]}…)"
                )
            copied = warc.add(got.data, loc)
            pages.append(Page.for_record(copied, f"{doc['platform']} · {doc['account']} · {doc['kind']}"))
            released_media: list[str] = []
            for i, media in enumerate(doc.get("media") or []):
                mloc, sha = media.get("warc"), media.get("sha256")
                if not (mloc and sha):
                    continue
                if sha not in media_seen:
                    found = archived_media(store, doc, i)
                    ctype = found.content_type.split(";")[0].strip()
                    choice = choose(sha, ctype, media_decided.get(sha), default_ground)
                    body = (
                        strip_metadata(found.body, ctype, sha256=sha)
                        if choice.action is MediaAction.STRIP
                        else found.body
                        if choice.action is MediaAction.RELEASE
                        else None
                    )
                    name = None
                    if body is not None:
                        name = f"media/{sha}.{_EXT.get(ctype, 'bin')}"
                        st.path(f"release/{name}").write_bytes(body)
                        result.media_files += 1
                    media_choices[sha] = (choice, name)
                    data = store.get_range(warc_key(doc["account"], mloc["filename"]), mloc["offset"], mloc["length"])
                    warc.add(data)  # the media's own WARC record, so the WACZ replays the image too
                    media_seen.add(sha)
                released_media.append(sha if media_choices[sha][1] else MARKER)
            own_masks = by_record.get(entry.record_id, [])
            for m in own_masks:
                if m.status is MaskStatus.ACCEPTED:
                    texts[(m.record_id, m.field)] = field_value(doc, m.field)
            released, steps = _released(doc, own_masks, identities, released_media)
            field_steps += steps
            result.masked_spans += sum(1 for m in own_masks if m.status is MaskStatus.ACCEPTED)
            csv_out.writerow(_csv_row(released))
            records_jsonl.write(json.dumps(released, ensure_ascii=False) + "\n")
            report_html.write(_html_record(released, loc.filename, loc.offset, loc.sha256))
            view = RecordView(
                platform=doc["platform"],
                account=doc["account"],
                kind=doc["kind"],
                captured=datetime.fromisoformat(doc["captured_at"]),
                published=_when(doc.get("published_at")),
                author=released["author"]["name"] or released["author"]["handle"] or "unknown",
                text=(released["title"] + "\n" if released["title"] else "") + released["text"],
                provenance=Provenance(loc.filename, loc.offset, loc.length, loc.sha256, loc.record_id),
                url=released.get("url") or "",
            )
            if pdf is None or n % PDF_RECORDS == 0:
                if pdf is not None:
                    finish_pdf()
                pdf = PdfReport(f"Request {case.id}", created=now, bates=counter)
                pdf.title_page(f"Records for request {case.id}", _case_rows(case, len(entries)))
            printed.append((pdf.add_record(view), doc, released, view))
            for event in _custody(doc, loc.sha256, accesses.get(entry.record_id, []), by, now):
                custody.write(json.dumps(event, ensure_ascii=False) + "\n")
            hash_out.writerow(
                [
                    entry.record_id,
                    loc.filename,
                    loc.offset,
                    loc.length,
                    entry.warc_sha256 or loc.sha256,
                    copied.sha256,
                    str(copied.sha256 == (entry.warc_sha256 or loc.sha256)).lower(),
                ]
            )
            result.records += 1
            if progress:
                progress(result.records, len(entries))
        if pdf is not None:
            finish_pdf()
        report_html.write("</main></body></html>\n")
    finally:
        for fh in (report_html, records_csv, records_jsonl, custody, hashes, loadfile):
            if fh is not None:
                fh.close()
    built = warc.close()
    if pages:
        write_wacz(
            st.path("internal/records.wacz"),
            built.path,
            pages,
            title=f"Request {case.id}",
            description=f"{result.records} records produced on {now:%Y-%m-%d}",
            created=now,
        )
    spans = decision_entries(masks, texts, key)
    decision: dict[str, Any] = {
        "case": case.id,
        "profile": case.profile,
        "masked_spans": [d.model_dump(mode="json") for d in spans],
        "withheld_fields": [d.model_dump(mode="json") for d in field_steps],
        "media": [_media_entry(choice, name) for choice, name in media_choices.values()],
        "note": (
            "Each masked span gives record, field, offsets, ground, reviewer and time; never the masked value. "
            "value_hmac is HMAC-SHA256 of the value under this installation's key, which is not in the package."
        ),
    }
    st.path("internal/masking-decision.json").write_text(json.dumps(decision, ensure_ascii=False, indent=2))
    public = {
        **decision,
        "masked_spans": [d.model_dump(mode="json", exclude={"value_hmac"}) for d in spans],
        "note": "Each masked span gives record, field, offsets, ground, reviewer and time; never the masked value.",
    }
    st.path("release/masking-decision.json").write_text(json.dumps(public, ensure_ascii=False, indent=2))
    st.path("internal/case.json").write_text(case.model_dump_json(indent=2))
    st.path("internal/certification.md").write_text(_certification(settings, case, result, built.sha256, now))
    bag = BagWriter(
        out,
        {
            "Source-Organization": settings.operator,
            "External-Identifier": case.id,
            "External-Description": f"Production for public-records request {case.id}",
            "Bag-Software-Agent": f"communis {__version__}",
        },
    )
    for path in sorted(p for p in st.root.rglob("*") if p.is_file()):
        bag.add_file(path.relative_to(st.root).as_posix(), path)
        crash_point(CrashPoint.EXPORT_MID_PACKAGE)
    bag.finish()
    result.bytes, result.files = bag.octets, bag.files
    return result


def _media_entry(choice: MediaChoice, name: str | None) -> dict[str, Any]:
    return {
        "media_sha256": choice.media_sha256,
        "content_type": choice.content_type,
        "action": choice.action.value,
        "ground": choice.ground,
        "reviewer": choice.reviewer,
        "decided_at": choice.decided_at.isoformat() if choice.decided_at else None,
        "default": choice.default,
        "released_as": name,
    }


def _save_pdf(pdf: PdfReport, st: _Staging, n: int) -> str:
    name = f"release/report-{n + 1:03d}.pdf"
    pdf.save(st.path(name))
    return name


def _accesses(audit: AuditLog, record_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Audit events naming each record (views, WARC downloads, verifications), for the custody log."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(record_ids), 1000):
        for event in audit.for_targets(record_ids[start : start + 1000]):
            found[event["target"]].append(event)
    return found


def _custody(
    doc: dict[str, Any], sha256: str, accesses: list[dict[str, Any]], by: str, now: datetime
) -> Iterator[dict[str, Any]]:
    """Every event from capture to this export for one record: what, when, who, with which hash."""
    rid = doc["record_id"]
    loc = doc.get("warc") or {}
    yield {
        "record_id": rid,
        "event": "capture",
        "at": doc["captured_at"],
        "actor": "communis harvester",
        "detail": doc.get("source_url"),
        "sha256": loc.get("sha256"),
        "warc_file": loc.get("filename"),
    }
    for hold in doc.get("legal_holds") or []:
        yield {"record_id": rid, "event": "legal hold", "at": None, "actor": None, "detail": hold, "sha256": None}
    for event in sorted(accesses, key=lambda e: e["@timestamp"]):
        yield {
            "record_id": rid,
            "event": f"access: {event['action']}",
            "at": event["@timestamp"],
            "actor": event.get("user"),
            "detail": event.get("client"),
            "sha256": None,
        }
    yield {
        "record_id": rid,
        "event": "export",
        "at": now.isoformat(),
        "actor": by,
        "detail": "stored bytes re-read and their SHA-256 recomputed",
        "sha256": sha256,
    }


def _case_rows(case: RequestCase, count: int) -> list[tuple[str, str]]:
    return [
        ("Case", case.id),
        ("Diary number", case.diary_number or "–"),
        ("Received", case.received_at.isoformat()),
        ("Requester", case.requester or "(anonymous)"),
        ("Request", case.request_text or "–"),
        ("Searches", "; ".join(s.describe() for s in case.searches)),
        ("Snapshot", str(case.snapshots)),
        ("Records", str(count)),
        ("Handler", case.handler),
        ("Profile", case.profile),
    ]


def _html_head(case: RequestCase, count: int, now: datetime) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _case_rows(case, count))
    return (
        '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
        f"<title>Request {html.escape(case.id)}</title></head><body><main>"
        f"<h1>Records for request {html.escape(case.id)}</h1><p>Produced {now:%Y-%m-%d %H:%M} UTC</p>"
        f"<table>{rows}</table>"
    )


def _html_record(rel: dict[str, Any], warc_file: str, offset: int, sha256: str) -> str:
    author = rel["author"]["name"] or rel["author"]["handle"] or "unknown"
    title = f"<h3>{html.escape(rel['title'])}</h3>" if rel.get("title") else ""
    return (
        f'<article id="r-{html.escape(rel["record_id"])}"><p><strong>{html.escape(author)}</strong> · '
        f"{html.escape(str(rel.get('platform')))} · {html.escape(str(rel.get('kind')))} · published "
        f"{html.escape(str(rel.get('published_at') or '–'))} · captured {html.escape(str(rel.get('captured_at')))}"
        f"</p>{title}<p>{html.escape(rel['text']).replace(chr(10), '<br>')}</p>"
        f"<p><small>WARC {html.escape(warc_file)} @ {offset} · SHA-256 {sha256}</small></p></article>\n"
    )


def _certification(
    settings: Settings, case: RequestCase, result: ProductionResult, warc_sha256: str, now: datetime
) -> str:
    return f"""# Certification of records produced (template)

I, ______________________ (name, title), employed by {settings.operator}, certify that:

1. The records in this package were captured by Communis {__version__}, which requests each item from the
   platform's API over HTTPS and writes the raw responses, unchanged, into WARC/1.1 files with SHA-256 block and
   payload digests at the time of capture. Times are UTC from the capture host's system clock.
2. The WARC files were stored write-once (S3 Object Lock or a read-only local store) and were not altered.
3. For this production ({now:%Y-%m-%d %H:%M} UTC, case {case.id}) each record's stored bytes were read again and
   their SHA-256 recomputed; `internal/hash-report.csv` compares every capture-time digest with the export-time
   digest ({result.records} records). `internal/records.warc.gz` (SHA-256 {warc_sha256}) holds those bytes
   unchanged.
4. The released copy (`release/`) masks {result.masked_spans} spans as decided in `internal/masking-decision.json`;
   the archived originals were not changed.

Signature: ______________________   Date: ____________

(For FRE 902(13)/(14): give the adverse party written notice and make this certification and the package
available in advance.)
"""
