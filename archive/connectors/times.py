"""Platform timestamps → aware UTC datetimes. Every platform writes time its own way
(docs/platforms.md, cross-platform notes): ISO with `Z` or `+0000`, epoch seconds (often as
strings), epoch milliseconds, RFC 822 in feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def iso(value: str | None) -> datetime | None:
    """`2024-05-02T08:15:30Z`, `…30.000Z`, `…30+0000`, `…30+00:00`; a zone-less one is UTC."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 → +00:00
        text = text[:-2] + ":" + text[-2:]
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch(value: str | int | float | None, *, millis: bool = False) -> datetime | None:
    """Unix seconds (or milliseconds), as numbers or strings."""
    if value is None or value == "":
        return None
    number = float(value)
    if isinstance(value, bool) or number < 0:
        raise ValueError(f"not a timestamp: {value!r}")
    return datetime.fromtimestamp(number / 1000 if millis else number, UTC)


def rfc822(value: str | None) -> datetime | None:
    """`Thu, 02 May 2024 08:15:30 +0000` (RSS `pubDate`)."""
    if not value:
        return None
    moment = parsedate_to_datetime(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A watermark as stored in a cursor: ISO 8601 UTC."""
    return moment.astimezone(UTC).isoformat()
