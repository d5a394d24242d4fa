"""Build a transfer package for the municipal e-archive (SE-18, US-4, OA-1).

The EU eArchiving (E-ARK CSIP 2.1 / SIP) structure, which Riksarkivet points to now that FGS is
no longer maintained:

    {OBJID}/METS.xml
    {OBJID}/representations/rep1/data/records.warc.gz   the selected WARC records, copied byte for byte
    {OBJID}/metadata/descriptive/records.json           the records as the index holds them
    {OBJID}/metadata/preservation/premis.xml            objects with fixity; capture, fixity-check and
                                                        transfer events

The WARC records are the stored gzip members themselves (archive/package/warcfile.py), each checked
against the digest recorded at capture before it is copied, so the e-archive receives the bytes
the archive has held since capture, as WARC (which NARA also accepts for permanent web records).
The transfer is a PREMIS event in the archive's own log too; nothing in the archive changes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from schemas import WarcFileManifest
from schemas.premis import PremisEvent, PremisEventType

from .. import clock
from ..config import Settings
from ..errors import CommunisError
from ..index import RecordIndex, queries
from ..package.warcfile import PackageWarcWriter
from ..preservation.premis import PremisLog
from ..preservation.readback import fetch_verified
from ..store import BlobStore
from ..version import __version__
from ..warc.naming import manifest_key, warc_key
from .mets import PackageFile, build_mets
from .premis_xml import PremisDocument, PremisEventEntry, PremisObject

WARC_PATH = "representations/rep1/data/records.warc.gz"
RECORDS_PATH = "metadata/descriptive/records.json"
PREMIS_PATH = "metadata/preservation/premis.xml"


@dataclass
class TransferResult:
    directory: Path
    objid: str
    records: int = 0
    source_files: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Path in the package → SHA-256 (METS.xml included)."""
    event_id: str = ""


def _selection(index: RecordIndex, retention_class: str | None, record_ids: list[str]) -> list[dict[str, Any]]:
    if not retention_class and not record_ids:
        raise CommunisError("nothing to transfer", hint="give --class CLASS or --record ID")
    docs = queries.of_class_or_ids(index, retention_class, record_ids)
    missing = set(record_ids) - {d["record_id"] for d in docs}
    if missing:
        raise CommunisError(f"{len(missing)} record(s) not in the index: {', '.join(sorted(missing)[:5])}")
    if not docs:
        raise CommunisError(f"no records of class {retention_class!r} in the index")
    return sorted(docs, key=lambda d: (d["account"], d["captured_at"], d["record_id"]))


def _file(directory: Path, path: str, mimetype: str, created: datetime) -> PackageFile:
    return PackageFile(path, mimetype, (directory / path).stat().st_size, _sha256_path(directory / path), created)


def _sha256_path(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _write(directory: Path, path: str, data: bytes) -> None:
    target = directory / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as fh:
        fh.write(data)


def _copy_records(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    docs: list[dict[str, Any]],
    directory: Path,
    objid: str,
    now: datetime,
) -> set[str]:
    """The WARC file of the representation; returns the stored files the records came from."""
    target = directory / WARC_PATH
    target.parent.mkdir(parents=True)
    sources: set[str] = set()
    media_seen: set[str] = set()
    with PackageWarcWriter(
        target,
        {"operator": settings.operator, "isPartOf": objid, "description": "Records transferred to the e-archive"},
        created=now,
    ) as warc:
        for doc in docs:
            verified = fetch_verified(index, store, doc["record_id"])  # re-checked against storage
            assert verified.record.warc is not None
            warc.add(verified.warc_bytes, verified.record.warc)
            sources.add(doc["warc_key"])
            for media in doc.get("media") or []:
                loc = media.get("warc")
                if loc and media.get("sha256") and media["sha256"] not in media_seen:
                    key = warc_key(doc["account"], loc["filename"])
                    warc.add(store.get_range(key, loc["offset"], loc["length"]))
                    sources.add(key)
                    media_seen.add(media["sha256"])
        warc.close()
    return sources


def _manifest(store: BlobStore, key: str) -> WarcFileManifest:
    account, name = key.removeprefix("warc/").split("/", 1)
    with store.open(manifest_key(account, name)) as fh:
        return WarcFileManifest.model_validate_json(fh.read())


def _entry(e: PremisEvent) -> PremisEventEntry:
    return PremisEventEntry(
        identifier=e.id.removeprefix("urn:uuid:"),
        type=e.type.value,
        at=e.at,
        detail=e.detail,
        outcome=e.outcome.value,
        outcome_detail=e.outcome_detail,
        agents=tuple(e.agents),
        objects=tuple(e.objects),
    )


def build_transfer(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    premis: PremisLog,
    out: Path,
    *,
    retention_class: str | None = None,
    record_ids: list[str] | None = None,
    by: str,
    now: datetime | None = None,
) -> TransferResult:
    """Write the package under `out/{OBJID}` and record the transfer event; returns what was written."""
    moment = (now or clock.now()).replace(microsecond=0)
    docs = _selection(index, retention_class, record_ids or [])
    objid = f"communis-{retention_class or 'selection'}-{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    directory = out / objid
    directory.mkdir(parents=True)
    result = TransferResult(directory, objid, records=len(docs))
    sources = sorted(_copy_records(settings, store, index, docs, directory, objid, moment))
    result.source_files = sources
    _write(directory, RECORDS_PATH, json.dumps(docs, ensure_ascii=False, indent=1).encode("utf-8"))
    warc_file = _file(directory, WARC_PATH, "application/gzip", moment)
    records_file = _file(directory, RECORDS_PATH, "application/json", moment)

    doc = PremisDocument()
    doc.objects.append(PremisObject(WARC_PATH, warc_file.sha256, warc_file.size, "WARC 1.1 (gzip per record)"))
    for key in sources:
        manifest = _manifest(store, key)
        doc.objects.append(
            PremisObject(
                key, manifest.sha256, manifest.bytes, "WARC 1.1 (gzip per record)", original_name=manifest.name
            )
        )
        at = manifest.last_capture or manifest.first_capture or moment
        doc.events.append(
            PremisEventEntry(
                identifier=str(uuid.uuid5(uuid.NAMESPACE_URL, f"capture:{key}")),
                type=PremisEventType.CAPTURE.value,
                at=at,
                detail=f"captured in harvest run {manifest.run_id}: {manifest.records} WARC records, "
                f"{manifest.first_capture} – {manifest.last_capture} (from the file's manifest)",
                outcome="success",
                agents=(f"software: {manifest.software}",),
                objects=(key,),
            )
        )
        doc.events.extend(_entry(e) for e in reversed(premis.events(object_id=key)))
    scope = f"class {retention_class}" if retention_class else "a selection"
    event = premis.record(
        PremisEventType.TRANSFER,
        objects=[f"package:{objid}", *sources],
        agents=[f"person: {by}"],
        sha256=warc_file.sha256,
        at=moment,
        refresh=True,
        detail=f"transfer to the e-archive: {len(docs)} records ({scope}) from {len(sources)} stored files as "
        f"E-ARK SIP {objid}; {WARC_PATH} SHA-256 {warc_file.sha256}",
    )
    result.event_id = event.id
    doc.events.append(_entry(event))
    _write(directory, PREMIS_PATH, doc.to_bytes())
    premis_file = _file(directory, PREMIS_PATH, "text/xml", moment)

    mets = build_mets(
        objid=objid,
        label=f"Social media records, {scope}",
        created=moment,
        software="Communis",
        version=__version__,
        submitter=settings.operator,
        descriptive=records_file,
        preservation=premis_file,
        data=[warc_file],
    )
    _write(directory, "METS.xml", mets)
    result.files = {f.path: f.sha256 for f in (warc_file, records_file, premis_file)}
    result.files["METS.xml"] = hashlib.sha256(mets).hexdigest()
    return result
