"""Platform timestamps → aware UTC datetimes. Every platform writes time its own way
(docs/platforms.md, cross-platform notes): ISO with `Z` or `+0000`, epoch seconds (often as
strings), epoch milliseconds, RFC 822 in feeds.

Whatever is wrong with a value (not a string, out of range, a year 10000, a zone that overflows
UTC), a parser raises ValueError naming it: the one error per-item parsing quarantines an item for
(`listing.ITEM_ERRORS`). OverflowError and OSError from the datetime functions would otherwise
escape it and stop the whole run (found by tests/fuzz)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text):,} characters)"


def _in_range(moment: datetime, value: object) -> datetime:
    """The moment, made aware (UTC if zone-less), once it is known to convert to UTC without overflow."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        moment.astimezone(UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp out of range: {_shown(value)}") from exc
    return moment


def iso(value: str | None) -> datetime | None:
    """`2024-05-02T08:15:30Z`, `…30.000Z`, `…30+0000`, `…30+00:00`; a zone-less one is UTC."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not an ISO 8601 timestamp: {_shown(value)}")
    text = value.strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 → +00:00
        text = text[:-2] + ":" + text[-2:]
    return _in_range(datetime.fromisoformat(text), value)


def epoch(value: str | int | float | None, *, millis: bool = False) -> datetime | None:
    """Unix seconds (or milliseconds), as numbers or strings."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"not a timestamp: {_shown(value)}")
    try:
        number = float(value)
        if not number >= 0:  # negative, or NaN
            raise ValueError(f"not a timestamp: {_shown(value)}")
        return datetime.fromtimestamp(number / 1000 if millis else number, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp out of range: {_shown(value)}") from exc


def rfc822(value: str | None) -> datetime | None:
    """`Thu, 02 May 2024 08:15:30 +0000` (RSS `pubDate`)."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not an RFC 822 date: {_shown(value)}")
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, IndexError, OverflowError) as exc:  # the stdlib's ways of saying "not a date"
        raise ValueError(f"not an RFC 822 date: {_shown(value)}") from exc
    return _in_range(moment, value)


def stamp(moment: datetime) -> str:
    """A watermark as stored in a cursor: ISO 8601 UTC."""
    return moment.astimezone(UTC).isoformat()
