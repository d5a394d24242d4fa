"""A hold's id on the records it covers (`legal_holds` in the index) and the files holding them.

The local Elasticsearch has no update-by-query, and a hold must not lose another hold's mark,
so marking is read-modify-write per document with optimistic concurrency (`if_seq_no`): a
document changed in between is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from schemas.search import SavedSearch

from ..index import RecordIndex, queries
from ..index.search import build_query, saved_query
from ..warc.naming import warc_key

_FIELDS = ["legal_holds", "warc_key", "account", "media.warc.filename"]
_MAX_TRIES = 5


def file_keys(source: dict[str, Any]) -> set[str]:
    """The stored WARC files a document's record and its archived media are in."""
    keys = {str(source["warc_key"])} if source.get("warc_key") else set()
    for media in source.get("media") or []:
        filename = (media.get("warc") or {}).get("filename")
        if filename:
            keys.add(warc_key(str(source["account"]), str(filename)))
    return keys


def _scan(index: RecordIndex, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return queries.hits_for_update(index, query, _FIELDS, action="read the records a hold covers")


def _update(
    index: RecordIndex, hits: Iterable[dict[str, Any]], change: Callable[[list[str]], list[str] | None]
) -> tuple[int, set[str]]:
    """Apply `change` to each hit's hold list (None: leave it); retry documents changed meanwhile."""
    changed, files = 0, set()
    pending = list(hits)
    for _ in range(_MAX_TRIES):
        changes = []
        for hit in pending:
            source = hit["_source"]
            new = change(list(source.get("legal_holds") or []))
            files |= file_keys(source)
            if new is not None:
                changes.append((hit, {"legal_holds": new or None}))
        if not changes:
            break
        updated, conflicts = queries.update_unless_changed(index, changes, action="mark records for a hold")
        changed += updated
        if not conflicts:
            break
        pending = queries.reread_for_update(index, conflicts, _FIELDS, action="re-read records changed meanwhile")
    else:
        raise RuntimeError("records kept changing while a hold was applied; try again")
    index.refresh()
    return changed, files


def mark(index: RecordIndex, hold_id: str, scope_query: dict[str, Any]) -> tuple[int, set[str]]:
    """Put `hold_id` on every record matching `scope_query`; return (newly marked, files of all matched)."""
    return _update(index, _scan(index, scope_query), lambda holds: None if hold_id in holds else [*holds, hold_id])


def unmark(index: RecordIndex, hold_id: str) -> tuple[int, set[str]]:
    """Take `hold_id` off every record; return (records changed, their files)."""
    return _update(index, _scan(index, queries.held_by(hold_id)), lambda holds: [h for h in holds if h != hold_id])


def held_files(index: RecordIndex, keys: set[str]) -> set[str]:
    """Which of `keys` still hold a record (or a record's media) under some hold."""
    if not keys:
        return set()
    found: set[str] = set()
    for hit in _scan(index, queries.held_in_files(keys)):
        found |= file_keys(hit["_source"]) & keys
    return found


def scope_query(index: RecordIndex, scope: SavedSearch, *, within_file: str | None = None) -> dict[str, Any]:
    """The query of a hold's scope (text and filters, as the search page runs it), optionally in one file."""
    query = build_query(saved_query(scope), languages=index.has_language_fields)
    return queries.in_file(query, within_file) if within_file is not None else query


def scope_files(index: RecordIndex, query: dict[str, Any]) -> set[str]:
    """The stored files holding the records `query` matches (and their media)."""
    found: set[str] = set()
    for hit in _scan(index, query):
        found |= file_keys(hit["_source"])
    return found
