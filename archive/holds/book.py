"""Holds kept as write-once JSON objects in the archive store: `holds/{id}/placed.json`, then `released.json`.

The store is the archive's durable, locked storage, so holds live beside the records they
protect, survive a rebuilt index, and cannot be edited after the fact: releasing writes a
second object instead of changing the first.
"""

from __future__ import annotations

import json

from schemas.holds import LegalHold

from ..errors import CommunisError, ObjectExists
from ..store import BlobStore
from ..store.base import put_control

PREFIX = "holds/"


class HoldError(CommunisError):
    """A hold cannot be placed or released as asked."""


def _placed(hold_id: str) -> str:
    return f"{PREFIX}{hold_id}/placed.json"


def _released(hold_id: str) -> str:
    return f"{PREFIX}{hold_id}/released.json"


def save_placed(store: BlobStore, hold: LegalHold) -> None:
    put_control(store, _placed(hold.id), hold.model_dump_json(indent=2).encode())


def save_released(store: BlobStore, hold: LegalHold) -> None:
    try:
        put_control(store, _released(hold.id), hold.model_dump_json(indent=2).encode())
    except ObjectExists:
        raise HoldError(f"hold {hold.id} was already released") from None


def load_holds(store: BlobStore) -> list[LegalHold]:
    """Every hold, released or not, oldest first."""
    holds: dict[str, LegalHold] = {}
    for key in store.keys(PREFIX):
        parts = key.split("/")
        if len(parts) != 3 or parts[2] not in ("placed.json", "released.json"):
            continue
        with store.open(key) as fh:
            hold = LegalHold.model_validate(json.loads(fh.read()))
        if parts[2] == "released.json" or hold.id not in holds:
            holds[hold.id] = hold
    return sorted(holds.values(), key=lambda h: (h.created_at, h.id))


def active_holds(store: BlobStore) -> list[LegalHold]:
    return [h for h in load_holds(store) if h.active]


def get_hold(store: BlobStore, hold_id: str) -> LegalHold:
    found = next((h for h in load_holds(store) if h.id == hold_id), None)
    if found is None:
        raise HoldError(f"no hold {hold_id!r}", hint="`communis hold list` shows the holds")
    return found
