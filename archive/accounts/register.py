"""The channel register (SE-2, SE-13) and closing a channel (SE-5).

The register joins three sources, each for what it alone knows: the accounts file (owner,
platform, address, opening date), the index (items, versions, capture and publication dates, by
aggregation, so its totals are the index's own) and the manifests (files, bytes and retention
classes of what is actually stored). Accounts that have records but have left the accounts file
keep their row: the records are still the municipality's.

Closing a channel (a final capture, then the closure record) is archive/harvest/closing.py.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from schemas import Account, WarcFileManifest
from schemas.register import ChannelEntry

from .. import clock
from ..index import RecordIndex, queries
from ..package.pdf import PdfReport
from ..store import BlobStore
from .closures import load_closure

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "account",
    "name",
    "platform",
    "handle",
    "url",
    "department",
    "start",
    "end",
    "retention_classes",
    "items",
    "versions",
    "files",
    "bytes",
    "first_capture",
    "last_capture",
    "in_accounts_file",
)


@dataclass
class _Stored:
    files: int = 0
    bytes: int = 0
    classes: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None


def _earliest(*values: datetime | None) -> datetime | None:
    return min((v for v in values if v is not None), default=None)


def _latest(*values: datetime | None) -> datetime | None:
    return max((v for v in values if v is not None), default=None)


def _stored_by_account(store: BlobStore) -> dict[str, _Stored]:
    """Files, bytes, classes and capture span per account, from every manifest."""
    out: dict[str, _Stored] = defaultdict(_Stored)
    for key in store.keys("manifest/"):
        if not key.endswith(".json"):
            continue
        with store.open(key) as fh:
            manifest = WarcFileManifest.model_validate(json.loads(fh.read()))
        row = out[manifest.account]
        row.files += 1
        row.bytes += manifest.bytes
        row.classes.add(manifest.retention_class)
        row.first = _earliest(row.first, manifest.first_capture)
        row.last = _latest(row.last, manifest.last_capture)
    return out


def channel_url(account: Account) -> str:
    """Where the channel lives: its site or instance, or the feed; else the platform's API address."""
    if account.handle.startswith(("http://", "https://")):
        return account.handle
    return str(account.base_url) if account.base_url is not None else account.api_base


def build_register(store: BlobStore, index: RecordIndex, accounts: Iterable[Account]) -> list[ChannelEntry]:
    """One entry per configured account, plus any account with archived records no longer configured."""
    stored, indexed = _stored_by_account(store), queries.account_summaries(index)
    configured = {a.id: a for a in accounts}
    entries = []
    for account_id in sorted(set(configured) | set(stored) | set(indexed)):
        acc, s, i = configured.get(account_id), stored.get(account_id, _Stored()), indexed.get(account_id, {})
        closure = load_closure(store, account_id)
        end = closure.closed_at if closure else (acc.closed_at if acc else None)
        published = i.get("first_published")
        start = acc.opened_at if acc and acc.opened_at else (published.date() if published else None)
        entries.append(
            ChannelEntry(
                account=account_id,
                platform=acc.platform.value if acc else i.get("platform", ""),
                handle=acc.handle if acc else "",
                name=acc.display_name if acc else "",
                url=channel_url(acc) if acc else "",
                department=acc.department if acc else i.get("department", ""),
                configured=acc is not None,
                start=start,
                end=end,
                retention_classes=sorted(s.classes | i.get("classes", set())),
                items=i.get("items", 0),
                versions=i.get("versions", 0),
                files=s.files,
                bytes=s.bytes,
                first_capture=_earliest(s.first, i.get("first_capture")),
                last_capture=_latest(s.last, i.get("last_capture")),
            )
        )
    return entries


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formulas in a spreadsheet


def write_register(entries: list[ChannelEntry], directory: Path, *, now: datetime | None = None) -> tuple[Path, Path]:
    """`channel-register.csv` and `channel-register.pdf` in `directory` (refuses to overwrite)."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = now or clock.now()
    csv_path, pdf_path = directory / "channel-register.csv", directory / "channel-register.pdf"
    with csv_path.open("x", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for e in entries:
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        e.account,
                        e.name,
                        e.platform,
                        e.handle,
                        e.url,
                        e.department,
                        e.start,
                        e.end,
                        e.retention_classes,
                        e.items,
                        e.versions,
                        e.files,
                        e.bytes,
                        e.first_capture,
                        e.last_capture,
                        e.configured,
                    )
                ]
            )
    report = PdfReport("Channel register", created=stamp)
    closed = sum(e.end is not None for e in entries)
    report.title_page(
        "Channel register (social media)",
        [
            ("Drawn up", f"{stamp:%Y-%m-%d %H:%M} UTC"),
            ("Channels", str(len(entries))),
            ("Open / closed", f"{len(entries) - closed} / {closed}"),
            ("Items archived", str(sum(e.items for e in entries))),
            ("Record versions", str(sum(e.versions for e in entries))),
            ("Stored WARC files", f"{sum(e.files for e in entries)} ({sum(e.bytes for e in entries):,} bytes)"),
        ],
    )
    for e in entries:
        report.title_page(
            e.name or e.account,
            [
                ("Account", e.account),
                ("Platform", e.platform),
                ("Handle", e.handle),
                ("Address", e.url),
                ("Owner (nämnd)", e.department),
                ("Start", _cell(e.start) or "-"),
                ("End", _cell(e.end) or "open"),
                ("Retention classes", _cell(e.retention_classes) or "-"),
                ("Items / versions", f"{e.items} / {e.versions}"),
                ("Files / bytes", f"{e.files} / {e.bytes:,}"),
                ("First capture", _cell(e.first_capture) or "-"),
                ("Last capture", _cell(e.last_capture) or "-"),
                ("In the accounts file", _cell(e.configured)),
            ],
        )
    report.save(pdf_path)
    return csv_path, pdf_path
