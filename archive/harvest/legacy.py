"""Harvest states from before the harvest table: whole snapshots in the archive store, imported once.

Until the table existed, every run wrote the account's whole state as a new object
`state/{account}/{seq:012d}.json`: cursor, health, every known item with its marker, the media
fetched and the revisit targets. An installation upgrading has those. The first time an account's
state is read and the table holds none, the newest readable snapshot is written into the table
(head, items, markers, media, revisit targets) and harvesting goes on from it. The snapshots stay
in the store, write-once as they were written; nothing reads them again.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from pydantic import Field

from schemas import HarvestState, KnownItem, SeenPayload, WarcLocation
from schemas._base import Model

from ..index.harvest_table import HarvestTable
from ..store import BlobStore
from .items import item_fields

PREFIX = "state/"
log = logging.getLogger(__name__)


class Snapshot(Model):
    """A state object as the store-snapshot releases wrote it (extra fields are tolerated)."""

    account: str
    cursor: dict[str, str] = Field(default_factory=dict)
    known: dict[str, KnownItem] = Field(default_factory=dict)
    payloads: dict[str, SeenPayload] = Field(default_factory=dict)
    media: dict[str, str] = Field(default_factory=dict)
    media_warc: dict[str, WarcLocation] = Field(default_factory=dict)
    markers: dict[str, str] = Field(default_factory=dict)
    last_sweep: datetime | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    runs: int = 0
    saved_at: datetime | None = None
    seq: int = 0


def newest_snapshot(store: BlobStore, account: str) -> Snapshot | None:
    """The newest readable snapshot of `account`: an unreadable one (half written, damaged) is
    reported and the one before it used, numbered as the newest so the history's seq goes on."""
    keys = sorted(store.keys(f"{PREFIX}{account}/"))
    newest_seq = _seq(keys[-1]) if keys else 0
    for key in reversed(keys):
        try:
            with store.open(key) as fh:
                snapshot = Snapshot.model_validate(json.loads(fh.read()))
        except (ValueError, RecursionError) as exc:  # ValidationError and JSON/UTF-8 errors are ValueErrors
            log.warning(
                "harvest state %s is unreadable (%s); falling back to the one before it",
                key,
                str(exc).splitlines()[0][:200],
            )
            continue
        return snapshot.model_copy(update={"seq": max(snapshot.seq, newest_seq)})
    return None


def import_snapshot(store: BlobStore, table: HarvestTable, account: str) -> bool:
    """Write the account's newest snapshot into the table; False when it has none."""
    snapshot = newest_snapshot(store, account)
    if snapshot is None:
        return False
    markers = snapshot.markers
    table.upsert(
        "item",
        account,
        (
            (item_id, {**item_fields(item_id, known), **({"marker": markers[item_id]} if item_id in markers else {})})
            for item_id, known in snapshot.known.items()
        ),
    )
    table.upsert(
        "item",
        account,
        (
            (item_id, {"item_id": item_id, "marker": m})
            for item_id, m in markers.items()
            if item_id not in snapshot.known
        ),
    )
    table.upsert("media", account, ((url, {"url": url, "sha256": sha}) for url, sha in snapshot.media.items()))
    table.upsert(
        "mloc", account, ((sha, {"location": loc.model_dump(mode="json")}) for sha, loc in snapshot.media_warc.items())
    )
    table.upsert(
        "payload", account, ((key, {"payload": p.model_dump(mode="json")}) for key, p in snapshot.payloads.items())
    )
    head = HarvestState.model_validate(
        {k: v for k, v in snapshot.model_dump().items() if k in HarvestState.model_fields}
    )
    table.put_head(account, head.model_dump(mode="json"), None)
    log.info("account=%s: imported harvest state %s from the store (%s items)", account, head.seq, len(snapshot.known))
    return True


def _seq(key: str) -> int:
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return int(stem) if stem.isdigit() else 0
