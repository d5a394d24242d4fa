"""WARC/1.1 records built from Captures and Records, with SHA-256 digests computed once.

warcio's writer computes digests in a second pass, re-encodes headers per record and hard-codes
SHA-1 and zlib level 9 (docs/performance.md); for small API responses its Python overhead, not
compression, bounds the speed. Communis therefore serializes records itself in the plain WARC
layout (version line, named fields, CRLF, block, CRLF CRLF) and relies on warcio to read and
check them: every file written in the tests passes `warcio check`. Digests are SHA-256 in
lowercase hex, one encoding everywhere (WARC fields, manifest, index; S3 gets the same bytes
in base64). Secrets are redacted before a header is built; a credential echoed in a body was cut
out by the fetcher, and the response record says so (`Communis-Redacted`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from schemas import Capture, Record

from .. import clock
from ..redact import redact_headers, redact_url

#: Transfer headers that no longer describe the kept body; kept under this prefix (pywb's convention).
ORIG_PREFIX = "X-Archive-Orig-"
_REWRITTEN = frozenset({"content-encoding", "transfer-encoding", "content-length"})
METADATA_CONTENT_TYPE = "application/json"
METADATA_FORMAT = "communis-records/1"
#: Named field on a response whose payload had a credential cut out (see `redaction_field`).
REDACTED_FIELD = "Communis-Redacted"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
CRLF = b"\r\n"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class WarcRecord:
    """One WARC record: named fields, an optional HTTP head, and a payload."""

    warc_type: str
    fields: list[tuple[str, str]]
    content_type: str
    http_head: bytes = b""
    payload: bytes = b""
    payload_digest: str | None = None
    record_id: str = field(default_factory=clock.warc_record_id)

    def chunks(self) -> list[bytes]:
        """The record's bytes as pieces (the payload is not copied into a joined buffer)."""
        block = hashlib.sha256(self.http_head)
        block.update(self.payload)
        names = [("WARC-Type", self.warc_type), ("WARC-Record-ID", self.record_id), *self.fields]
        if self.payload_digest:
            names.append(("WARC-Payload-Digest", self.payload_digest))
        names += [
            ("WARC-Block-Digest", "sha256:" + block.hexdigest()),
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.http_head) + len(self.payload))),
        ]
        head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in names) + "\r\n"
        return [head.encode("utf-8"), self.http_head, self.payload, CRLF + CRLF]


def warc_date(moment: datetime) -> str:
    """W3C-ISO8601 UTC with microseconds (WARC/1.1 allows sub-second precision)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _header_block(first_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    text = first_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return text.encode("utf-8", "surrogateescape")


def _response_head(capture: Capture) -> bytes:
    headers: list[tuple[str, str]] = []
    for name, value in redact_headers(capture.response_headers):
        headers.append((ORIG_PREFIX + name if name.lower() in _REWRITTEN else name, value))
    headers.append(("Content-Length", str(len(capture.body))))
    return _header_block(f"{capture.http_version} {capture.status} {capture.reason or 'OK'}", headers)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def target_uri(capture: Capture) -> str:
    return redact_url(capture.url)


def build_request(capture: Capture, uri: str, date: str, concurrent_to: str) -> WarcRecord:
    """The `request` record: method, redacted URL target and redacted headers."""
    head = _header_block(
        f"{capture.method} {_request_target(uri)} {capture.http_version}", redact_headers(capture.request_headers)
    )
    return WarcRecord(
        "request",
        [("WARC-Date", date), ("WARC-Target-URI", uri), ("WARC-Concurrent-To", concurrent_to)],
        "application/http; msgtype=request",
        head,
        capture.request_body,
        "sha256:" + sha256_hex(capture.request_body),
    )


def redaction_field(capture: Capture) -> list[tuple[str, str]]:
    """The named field that says the payload is not byte for byte what was received: a credential
    the platform echoed was replaced (WARC 1.1 lets a record carry fields of its own; readers ignore
    those they do not know). The digests are of the stored bytes, so the record still verifies."""
    if not capture.redacted:
        return []
    return [(REDACTED_FIELD, f"{capture.redacted} occurrence(s) of a harvester credential replaced by REDACTED")]


def build_response(capture: Capture, uri: str, date: str, payload_digest: str) -> WarcRecord:
    """The `response` record holding the body as received (but for a redacted credential, which
    `Communis-Redacted` states)."""
    fields = [("WARC-Date", date), ("WARC-Target-URI", uri), *redaction_field(capture)]
    if capture.ip_address:
        fields.append(("WARC-IP-Address", capture.ip_address))
    return WarcRecord(
        "response", fields, "application/http; msgtype=response", _response_head(capture), capture.body, payload_digest
    )


def build_revisit(
    capture: Capture, uri: str, date: str, payload_digest: str, original: Mapping[str, str]
) -> WarcRecord:
    """A `revisit` (identical-payload-digest profile) pointing at the stored original."""
    return WarcRecord(
        "revisit",
        [
            ("WARC-Date", date),
            ("WARC-Target-URI", uri),
            ("WARC-Profile", REVISIT_PROFILE),
            ("WARC-Refers-To", original["record_id"]),
            ("WARC-Refers-To-Target-URI", original["uri"]),
            ("WARC-Refers-To-Date", original["date"]),
            *redaction_field(capture),
        ],
        "application/http; msgtype=response",
        _response_head(capture),
        b"",
        payload_digest,
    )


def build_metadata(body: bytes, uri: str, date: str, refers_to: str) -> WarcRecord:
    """The `metadata` record with the normalized Record JSON derived from a response."""
    return WarcRecord(
        "metadata",
        [("WARC-Date", date), ("WARC-Target-URI", uri), ("WARC-Refers-To", refers_to)],
        METADATA_CONTENT_TYPE,
        b"",
        body,
        "sha256:" + sha256_hex(body),
    )


def build_warcinfo(filename: str, info: Mapping[str, str], date: str) -> WarcRecord:
    """The `warcinfo` record opening a file: one `name: value` line per non-empty entry.

    Line breaks inside a value become spaces: values such as the department come from the
    accounts file, and a line break there would otherwise forge another field.
    """
    body = "".join(f"{k}: {' '.join(v.splitlines())}\r\n" for k, v in info.items() if v).encode("utf-8")
    return WarcRecord(
        "warcinfo", [("WARC-Date", date), ("WARC-Filename", filename)], "application/warc-fields", b"", body
    )


def record_set(parts: Iterable[bytes]) -> bytes:
    """The JSON document of a record set from each record's JSON, as stored in metadata records."""
    return b'{"format":"' + METADATA_FORMAT.encode() + b'","records":[' + b",".join(parts) + b"]}"


def records_json(records: Iterable[Record]) -> bytes:
    """The record set of `records`, each serialized by pydantic-core."""
    return record_set(r.to_json_bytes() for r in records)


def parse_records_json(body: bytes) -> list[Record]:
    """Records back from a metadata block (the inverse of `records_json`)."""
    doc = json.loads(body)
    if doc.get("format") != METADATA_FORMAT:
        raise ValueError(f"not a Communis record set: format={doc.get('format')!r}")
    return [Record.model_validate(r) for r in doc["records"]]
