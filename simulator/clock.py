"""The simulator's own clock and each platform's timestamp format.

Time only moves when the timeline says so (``clock.advance`` / ``clock.set``), so two runs of the
same script produce the same timestamps. All instants are integer milliseconds since the epoch (UTC).

Formats (as each platform documents them):
- Mastodon: ``2024-05-02T08:15:30.000Z`` (milliseconds, ``Z``).
- WordPress: ``2024-05-02T10:15:30`` local site time without zone, and ``*_gmt`` in UTC. The site
  time zone is Europe/Stockholm; its offset is computed with the EU summer-time rule (last Sunday of
  March to last Sunday of October, 01:00 UTC) so no tz database is needed.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

DAY_MS = 86_400_000
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$")


class ClockError(ValueError):
    """The clock was asked to go backwards or given an unreadable instant."""


class SimClock:
    """A thread-safe "now" that only the timeline advances."""

    def __init__(self, start_ms: int) -> None:
        self._ms = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """The current simulated instant."""
        with self._lock:
            return self._ms

    def advance(self, seconds: float) -> int:
        """Move forward; negative steps are refused so ids stay increasing with time."""
        if seconds < 0:
            raise ClockError("the clock cannot go backwards")
        with self._lock:
            self._ms += int(round(seconds * 1000))
            return self._ms

    def set(self, ms: int) -> int:
        """Jump to an instant at or after now."""
        with self._lock:
            if ms < self._ms:
                raise ClockError("the clock cannot go backwards")
            self._ms = ms
            return self._ms


def to_datetime(ms: int) -> datetime:
    """UTC datetime of an instant."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def from_datetime(value: datetime) -> int:
    """Instant of an aware datetime (naive ones are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int((value - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))


def mastodon_time(ms: int) -> str:
    """``2024-05-02T08:15:30.123Z``."""
    d = to_datetime(ms)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_micro(ms: int) -> str:
    """``2024-05-02T08:20:00.000000Z`` as Mastodon's ``X-RateLimit-Reset`` (Ruby ``iso8601(6)``)."""
    d = to_datetime(ms)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ms % 1000) * 1000:06d}Z"


def wp_gmt(ms: int) -> str:
    """``2024-05-02T08:15:30``: WordPress ``*_gmt`` fields, UTC without a zone."""
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%S")


def wp_local(ms: int) -> str:
    """``2024-05-02T10:15:30``: WordPress ``date``/``modified``, site-local without a zone."""
    return wp_gmt(ms + stockholm_offset_ms(ms))


def _last_sunday(year: int, month: int) -> datetime:
    last = datetime(year, month + 1, 1, tzinfo=UTC) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def stockholm_offset_ms(ms: int) -> int:
    """Offset of Swedish local time from UTC at an instant: +2 h in summer time, else +1 h."""
    year = to_datetime(ms).year
    start = from_datetime(_last_sunday(year, 3).replace(hour=1))
    end = from_datetime(_last_sunday(year, 10).replace(hour=1))
    return 7_200_000 if start <= ms < end else 3_600_000


def parse_instant(text: str, *, local_if_naive: bool = False) -> int:
    """Parse an RFC 3339 / ISO 8601 date-time into an instant.

    Without a zone the value is UTC, or Swedish local time when ``local_if_naive`` (how WordPress
    reads ``after``/``before`` without an offset).
    """
    m = _ISO.match(text.strip())
    if not m:
        raise ClockError(f"not an ISO 8601 date-time: {text!r}")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        base = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)
    except ValueError as exc:
        raise ClockError(f"not a valid date: {text!r}") from exc
    ms = from_datetime(base) + (int(round(float(frac) * 1000)) if frac else 0)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3_600_000 + (int(digits[2:4]) * 60_000 if len(digits) > 2 else 0)
        ms -= sign * offset
    elif not zone and local_if_naive:
        ms -= stockholm_offset_ms(ms - 3_600_000)
    return ms
