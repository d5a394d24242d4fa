"""Building WARC/1.1 records from Captures and Records, with SHA-256 digests.

warcio's RecordBuilder does the record structure; this module supplies what Communis
needs on top: SHA-256 in lowercase hex (one encoding everywhere: WARC headers, manifest,
index; S3 gets the same bytes in base64), secrets redacted before a header is built, and
bodies normalised so that WARC Content-Length matches the bytes actually kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester

from schemas import Capture, Record

from .. import clock
from .redact import redact_headers, redact_url

#: Hop-by-hop or transfer headers that no longer describe the kept body; kept under this prefix.
ORIG_PREFIX = "X-Archive-Orig-"
_REWRITTEN = frozenset({"content-encoding", "transfer-encoding", "content-length"})
METADATA_CONTENT_TYPE = "application/json"
METADATA_FORMAT = "communis-records/1"


class Sha256Hex(Digester):
    """warcio Digester that speaks `sha256:<lowercase hex>`."""

    def __init__(self) -> None:
        super().__init__("sha256")

    def __str__(self) -> str:
        return "sha256:" + self.digester.hexdigest()


class Builder(RecordBuilder):
    """warcio RecordBuilder fixed to WARC/1.1 and SHA-256 hex digests."""

    def __init__(self) -> None:
        super().__init__(warc_version="1.1")

    @staticmethod
    def _create_digester() -> Digester:  # type: ignore[override]
        return Sha256Hex()

    @classmethod
    def _make_warc_id(cls) -> str:
        return clock.warc_record_id()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def warc_date(moment: datetime) -> str:
    """W3C-ISO8601 UTC with microseconds (WARC/1.1 allows sub-second precision)."""
    return str(datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def _response_headers(capture: Capture) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in redact_headers(capture.response_headers):
        if name.lower() in _REWRITTEN:
            headers.append((ORIG_PREFIX + name, value))
        else:
            headers.append((name, value))
    headers.append(("Content-Length", str(len(capture.body))))
    return headers


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def build_request(builder: Builder, capture: Capture, target_uri: str, date: str) -> ArcWarcRecord:
    """The `request` record: method, redacted URL target and redacted headers."""
    http = StatusAndHeaders(
        f"{capture.method} {_request_target(target_uri)}",
        redact_headers(capture.request_headers),
        protocol=capture.http_version,
        is_http_request=True,
    )
    return builder.create_warc_record(
        target_uri, "request", payload=BytesIO(capture.request_body), length=len(capture.request_body),
        http_headers=http, warc_headers_dict={"WARC-Date": date},
    )


def build_response(builder: Builder, capture: Capture, target_uri: str, date: str) -> ArcWarcRecord:
    """The `response` record holding the raw body exactly as received."""
    http = StatusAndHeaders(f"{capture.status} {capture.reason or 'OK'}", _response_headers(capture),
                            protocol=capture.http_version)
    fields = {"WARC-Date": date}
    if capture.ip_address:
        fields["WARC-IP-Address"] = capture.ip_address
    return builder.create_warc_record(
        target_uri, "response", payload=BytesIO(capture.body), length=len(capture.body),
        http_headers=http, warc_headers_dict=fields,
    )


def build_revisit(builder: Builder, capture: Capture, target_uri: str, date: str,
                  payload_digest: str, original: Mapping[str, str]) -> ArcWarcRecord:
    """A `revisit` (identical-payload-digest) pointing at the stored original."""
    http = StatusAndHeaders(f"{capture.status} {capture.reason or 'OK'}", _response_headers(capture),
                            protocol=capture.http_version)
    record = builder.create_revisit_record(
        target_uri, payload_digest, original["uri"], original["date"], http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": original["record_id"]},
    )
    return record


def build_metadata(builder: Builder, records: Iterable[Record], target_uri: str, date: str,
                   refers_to: str) -> ArcWarcRecord:
    """The `metadata` record with the normalized Record JSON derived from a response."""
    body = records_json(records)
    return builder.create_warc_record(
        target_uri, "metadata", payload=BytesIO(body), length=len(body),
        warc_content_type=METADATA_CONTENT_TYPE,
        warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": refers_to},
    )


def build_warcinfo(builder: Builder, filename: str, info: Mapping[str, str]) -> ArcWarcRecord:
    return builder.create_warcinfo_record(filename, dict(info))


def records_json(records: Iterable[Record]) -> bytes:
    """Canonical JSON document of a record set, as stored in metadata records."""
    doc = {"format": METADATA_FORMAT, "records": [r.model_dump(mode="json") for r in records]}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def parse_records_json(body: bytes) -> list[Record]:
    """Records back from a metadata block (the inverse of `records_json`)."""
    doc = json.loads(body)
    if doc.get("format") != METADATA_FORMAT:
        raise ValueError(f"not a Communis record set: format={doc.get('format')!r}")
    return [Record.model_validate(r) for r in doc["records"]]


def target_uri(capture: Capture) -> str:
    return redact_url(capture.url)
