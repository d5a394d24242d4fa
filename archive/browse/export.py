"""A result list as CSV or JSON lines, streamed from one point in time (no 10 000-hit limit)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from ..index import RecordIndex, SearchQuery, iter_hits

EXPORT_FIELDS = (
    "record_id",
    "item_key",
    "platform",
    "account",
    "department",
    "kind",
    "version",
    "is_latest",
    "published_at",
    "edited_at",
    "captured_at",
    "deleted",
    "hidden_on_platform",
    "author.name",
    "author.handle",
    "title",
    "text",
    "url",
    "retention_class",
    "warc_key",
    "warc.offset",
    "warc.length",
    "warc.sha256",
    "content_sha256",
)
#: Spreadsheet programs run a cell starting with these as a formula; such cells get a leading '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _get(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(
    index: RecordIndex,
    q: SearchQuery,
    counter: list[int] | None = None,
    seen: Callable[[list[str]], object] | None = None,
) -> Iterator[str]:
    """CSV rows (header first), formula-safe; `counter[0]` counts the records written.

    `seen` is handed the record ids of each chunk before the chunk is yielded (the audit names every
    record given before it leaves)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(EXPORT_FIELDS)
    pending: list[str] = []
    for hit in iter_hits(index, q):
        writer.writerow([_cell(_get(hit.source, f)) for f in EXPORT_FIELDS])
        pending.append(hit.record_id)
        if counter is not None:
            counter[0] += 1
        if buf.tell() > 64 * 1024:
            _hand(seen, pending)
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    _hand(seen, pending)
    yield buf.getvalue()


def export_jsonl(
    index: RecordIndex,
    q: SearchQuery,
    counter: list[int] | None = None,
    seen: Callable[[list[str]], object] | None = None,
    *,
    chunk: int = 500,
) -> Iterator[str]:
    """One JSON document per line: the full index document (without the raw platform JSON), `chunk`
    lines at a time; `seen` as for export_csv."""
    lines: list[str] = []
    pending: list[str] = []
    for hit in iter_hits(index, q):
        if counter is not None:
            counter[0] += 1
        lines.append(json.dumps(hit.source, ensure_ascii=False) + "\n")
        pending.append(hit.record_id)
        if len(lines) >= chunk:
            _hand(seen, pending)
            yield "".join(lines)
            lines.clear()
    _hand(seen, pending)
    if lines:
        yield "".join(lines)


def _hand(seen: Callable[[list[str]], object] | None, pending: list[str]) -> None:
    if seen is not None and pending:
        seen(list(pending))
    pending.clear()
