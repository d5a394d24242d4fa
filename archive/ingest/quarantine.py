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
from pathlib import Path

from schemas import Capture

from .. import clock
from ..errors import StoreUnavailable
from ..redact import redact_headers, redact_text, redact_url
from ..store import BlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantineEntry:
    key: str
    reason: str
    url: str


def upload_pending(store: BlobStore, fallback: Path) -> int:
    """Move quarantine entries kept locally (store was down) into the store."""
    moved = 0
    root = fallback / "quarantine"
    for path in sorted(root.rglob("*.json")) if root.exists() else []:
        key = path.relative_to(fallback).as_posix()
        if store.head(key) is None:
            store.put_bytes(key, path.read_bytes())
        path.unlink()
        moved += 1
    return moved


def quarantine(
    store: BlobStore,
    account: str,
    run_id: str,
    seq: int,
    reason: str,
    capture: Capture | None = None,
    raw: bytes | None = None,
    fallback: Path | None = None,
) -> QuarantineEntry:
    """Keep the input with its reason in the store (or under `fallback` while the store is down)."""
    url = redact_url(capture.url) if capture else "(unparsed input)"
    reason = redact_text(reason)  # reasons quote URLs and answers; they reach reports, logs and the flow
    doc: dict[str, object] = {
        "reason": reason,
        "account": account,
        "run_id": run_id,
        "quarantined_at": clock.now().isoformat(),
        "url": url,
    }
    if capture is not None:
        safe = capture.model_copy(
            update={
                "url": url,
                "request_headers": redact_headers(capture.request_headers),
                "response_headers": redact_headers(capture.response_headers),
            }
        )
        doc["capture"] = safe.model_dump(mode="json")
    if raw is not None:
        doc["raw_base64"] = base64.b64encode(raw).decode("ascii")
    key = f"quarantine/{account}/{run_id}/{seq:06d}.json"
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    try:
        store.put_bytes(key, data)
    except StoreUnavailable:
        if fallback is None:
            raise
        local = fallback / key
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
    log.warning("quarantined %s from account=%s: %s", url, account, reason)
    return QuarantineEntry(key, reason, url)
