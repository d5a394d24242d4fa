"""The sign-in throttle's memory: failed sign-ins and lockouts per user name and per client address.

The rules (how many failures, how long a lockout) are signin.py's; this is what they remember, in the
shared access store, so a guesser who spreads attempts over several web hosts, or over the web and
the CLI, is counted once. Each name or address is one document holding the times of its failures
still in the window (at most `keep` of them: enough to reach any limit) and the end of its lockout.

Two processes may count a failure on one document at the same moment, so every change is written over
the version read (`if_seq_no`); the one that loses reads again and retries, so no failure is lost and
no count is taken twice. A document is forgotten (deleted with ended sessions, at the next sign-in) once
its failures have left the window and its lockout has ended: its `expires_at`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..errors import SearchIndexError
from ..index.access_store import AccessConflict, AccessStore, Doc, throttle_id

Key = tuple[str, str]  # (scope, key): ("user", name) or ("address", address or /64)
#: Conditional writes tried before the throttle gives up (each retry follows another process's write).
_ATTEMPTS = 50


class Throttle:
    """Failures and lockouts of (scope, key) pairs in the access store."""

    def __init__(self, store: AccessStore) -> None:
        self._store = store

    def locked_until(self, keys: Sequence[Key], now: datetime) -> datetime | None:
        """The latest end of a lockout still running on any of `keys`, else None (one real-time mget)."""
        docs = self._store.get_many([throttle_id(scope, key) for scope, key in keys])
        ends = [datetime.fromisoformat(d.source["locked_until"]) for d in docs.values() if d.source.get("locked_until")]
        running = [end for end in ends if end > now]
        return max(running) if running else None

    def note_failure(self, keys: Sequence[Key], now: datetime, since: datetime, *, keep: int) -> dict[Key, int]:
        """Count one failed sign-in on each key; returns each key's failures since `since` (this one included).
        At most the `keep` latest are remembered: a count that reaches the limit locks, and starts again."""
        counts: dict[Key, int] = {}
        for scope, key in keys:

            def counted(source: dict[str, Any]) -> dict[str, Any]:
                recent = [f for f in source.get("failures", []) if datetime.fromisoformat(f) >= since]
                return {**source, "failures": [*recent, now.isoformat()][-keep:]}

            written = self._change(scope, key, now, counted, keep_for=now - since)
            counts[(scope, key)] = len(written["failures"])
        return counts

    def lock(self, scope: str, key: str, until: datetime, now: datetime) -> None:
        """Lock one key (a user name or an address) until `until`; its counted failures start again."""
        self._change(scope, key, now, lambda source: {**source, "failures": [], "locked_until": until.isoformat()})

    def forget_failures(self, scope: str, key: str, now: datetime) -> None:
        """A successful sign-in clears the user's own count (never the address's: one good account must
        not let an address guess on at others)."""
        if self._store.get(throttle_id(scope, key)) is not None:
            self._change(scope, key, now, lambda source: {**source, "failures": []})

    def _change(
        self,
        scope: str,
        key: str,
        now: datetime,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        keep_for: timedelta = timedelta(0),
    ) -> dict[str, Any]:
        """Read the key's document, apply `change`, write it over the version read; again on a conflict."""
        doc_id = throttle_id(scope, key)
        for _ in range(_ATTEMPTS):
            found: Doc | None = self._store.get(doc_id)
            before = found.source if found is not None else {"kind": "throttle", "scope": scope, "key": key}
            after = change(dict(before))
            after["expires_at"] = _forgettable_at(after, now, keep_for)
            try:
                self._store.put(doc_id, after, found)
            except AccessConflict:
                continue  # another process counted or locked meanwhile: count on top of it
            return after
        raise SearchIndexError(
            f"the sign-in throttle of {scope} {key[:60]!r} stayed contended for {_ATTEMPTS} attempts",
            hint="many sign-ins at once on one name or address: look at the audit log",
        )


def _forgettable_at(source: dict[str, Any], now: datetime, keep_for: timedelta) -> str:
    """When the document holds nothing worth keeping: its lockout has ended and its latest failure is
    `keep_for` (the window) old."""
    ends = [now]
    if source.get("locked_until"):
        ends.append(datetime.fromisoformat(source["locked_until"]))
    if source.get("failures"):
        ends.append(max(datetime.fromisoformat(f) for f in source["failures"]) + keep_for)
    return max(ends).isoformat()
