"""Quarantine: bad input is kept with the reason, never dropped, and the run goes on.

An entry is a JSON object in the store under `quarantine/{account}/{run}/`, holding the
reason and the capture as received (headers redacted), so an operator can see what was
refused and why, and nothing captured is lost.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass

from schemas import Capture

from . import clock
from .store import BlobStore
from .warc.redact import redact_headers, redact_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantineEntry:
    key: str
    reason: str
    url: str


def quarantine(store: BlobStore, account: str, run_id: str, seq: int, reason: str,
               capture: Capture | None = None, raw: bytes | None = None) -> QuarantineEntry:
    url = redact_url(capture.url) if capture else "(unparsed input)"
    doc: dict[str, object] = {"reason": reason, "account": account, "run_id": run_id,
                              "quarantined_at": clock.now().isoformat(), "url": url}
    if capture is not None:
        safe = capture.model_copy(update={"url": url,
                                          "request_headers": redact_headers(capture.request_headers),
                                          "response_headers": redact_headers(capture.response_headers)})
        doc["capture"] = safe.model_dump(mode="json")
    if raw is not None:
        doc["raw_base64"] = base64.b64encode(raw).decode("ascii")
    key = f"quarantine/{account}/{run_id}/{seq:06d}.json"
    store.put_bytes(key, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    log.warning("quarantined %s from account=%s: %s", url, account, reason)
    return QuarantineEntry(key, reason, url)
