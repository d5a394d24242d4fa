"""Completeness reports kept write-once in the store: `completeness/{account}/{made_at}-{run}.json`.

A report is evidence a records manager signs off, so it is a control object (`put_control`: locked in
COMPLIANCE mode, never replaced): a later report is a new object beside it, and the account's history
of reports is its folder, oldest first by name. The rows the web app reads (archive/index/completeness.py)
are derived from the newest and written after it is stored, so a row never names a report the store
does not hold.
"""

from __future__ import annotations

import json

from schemas import CompletenessReport

from ..index import RecordIndex
from ..index.completeness import CompletenessRows
from ..store import BlobStore
from ..store.base import put_control

PREFIX = "completeness/"


def report_key(report: CompletenessReport) -> str:
    """Where the report is kept: by account, then by time (names sort oldest first), then run."""
    return f"{PREFIX}{report.account}/{report.made_at:%Y%m%dT%H%M%S%fZ}-{report.run_id}.json"


def keep(store: BlobStore, index: RecordIndex, report: CompletenessReport) -> CompletenessReport:
    """Store the report write-once, then make it the account's latest in the rows; returns it with its key."""
    keyed = report.model_copy(update={"key": report_key(report)})
    put_control(store, keyed.key or "", keyed.model_dump_json(indent=2).encode(), now=keyed.made_at)
    CompletenessRows.beside(index).put(keyed)
    return keyed


def report_keys(store: BlobStore, account: str) -> list[str]:
    """The account's stored reports, oldest first."""
    return sorted(k for k in store.keys(f"{PREFIX}{account}/") if k.endswith(".json"))


def load(store: BlobStore, key: str) -> CompletenessReport:
    with store.open(key) as fh:
        return CompletenessReport.model_validate(json.loads(fh.read()))


def latest(store: BlobStore, account: str) -> CompletenessReport | None:
    """The account's newest stored report, None if it never had one."""
    keys = report_keys(store, account)
    return load(store, keys[-1]) if keys else None
