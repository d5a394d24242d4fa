"""Elasticsearch index of record versions: mappings, documents, bulk indexing, search."""

from __future__ import annotations

from ..config import Settings
from .client import make_client
from .documents import from_document, to_document
from .indexer import BulkResult, RecordIndex
from .search import SearchHit, SearchQuery, SearchResult, iter_hits, search


def open_index(settings: Settings) -> RecordIndex:
    return RecordIndex(make_client(settings), settings.index_alias)


__all__ = [
    "BulkResult",
    "RecordIndex",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "from_document",
    "iter_hits",
    "make_client",
    "open_index",
    "search",
    "to_document",
]
