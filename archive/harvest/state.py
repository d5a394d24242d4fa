"""Harvest state in the archive store: one immutable object per saved state.

The store never overwrites a key, so each save is a new object `state/{account}/{seq:012d}.json`
and the newest one is the state. Old states stay as a history of the account's harvests.
"""

from __future__ import annotations

import json

from schemas import HarvestState

from .. import clock
from ..store import BlobStore
from ..faults import CrashPoint, crash_point

PREFIX = "state/"


def _key(account: str, seq: int) -> str:
    return f"{PREFIX}{account}/{seq:012d}.json"


def load_state(store: BlobStore, account: str) -> HarvestState:
    """The newest saved state of `account`, or a fresh one."""
    keys = sorted(store.keys(f"{PREFIX}{account}/"))
    if not keys:
        return HarvestState(account=account)
    with store.open(keys[-1]) as fh:
        return HarvestState.model_validate(json.loads(fh.read()))


def save_state(store: BlobStore, state: HarvestState) -> HarvestState:
    """Save as the next sequence number; returns what was saved."""
    saved = state.model_copy(update={"seq": state.seq + 1, "saved_at": clock.now()})
    data = saved.model_dump_json().encode("utf-8")
    # Both stores publish an object whole or not at all (a temporary file hard-linked into place, one
    # S3 PUT), so a crash while saving leaves the previous state as the newest one.
    crash_point(CrashPoint.STATE_MID_SAVE)
    store.put_bytes(_key(state.account, saved.seq), data)
    return saved


def accounts_with_state(store: BlobStore) -> list[str]:
    return sorted({key.split("/")[1] for key in store.keys(PREFIX)})
