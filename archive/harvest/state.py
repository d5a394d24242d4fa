"""Harvest state in the archive store: one immutable object per saved state.

The store never overwrites a key, so each save is a new object `state/{account}/{seq:012d}.json`
and the newest one is the state. Old states stay as a history of the account's harvests.
"""

from __future__ import annotations

import json
import logging

from schemas import HarvestState

from .. import clock
from ..faults import CrashPoint, crash_point
from ..store import BlobStore

PREFIX = "state/"
log = logging.getLogger(__name__)


def _key(account: str, seq: int) -> str:
    return f"{PREFIX}{account}/{seq:012d}.json"


def load_state(store: BlobStore, account: str) -> HarvestState:
    """The newest readable saved state of `account`, or a fresh one.

    A state object that cannot be read (half written by a store that is not atomic, damaged) must
    not stop harvesting: it is reported and the newest valid one before it is used, numbered past
    the damaged one so the next save does not collide with its key. Re-reading from an older
    cursor is safe: versions already archived are recognised (the harvest reconciles with the index)."""
    keys = sorted(store.keys(f"{PREFIX}{account}/"))
    newest_seq = _seq(keys[-1]) if keys else 0
    for key in reversed(keys):
        try:
            with store.open(key) as fh:
                state = HarvestState.model_validate(json.loads(fh.read()))
        except (ValueError, RecursionError) as exc:  # ValidationError and JSON/UTF-8 errors are ValueErrors
            log.warning(
                "harvest state %s is unreadable (%s); falling back to the one before it",
                key,
                str(exc).splitlines()[0][:200],
            )
            continue
        if state.seq < newest_seq:
            log.warning("account=%s: using harvest state %s, the newest readable one", account, key)
            state = state.model_copy(update={"seq": newest_seq})
        return state
    return HarvestState(account=account, seq=newest_seq)


def _seq(key: str) -> int:
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return int(stem) if stem.isdigit() else 0


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
