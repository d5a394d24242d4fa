"""Reading the archive as archivists do: a record with its thread, versions, provenance and media.

Everything here reads the index and the store and returns plain data (pydantic models and
dataclasses) for the web pages and the API alike; nothing renders HTML.
"""

from .export import EXPORT_FIELDS, export_csv, export_jsonl
from .media import ArchivedMedia, archived_media
from .provenance import Provenance, VerifyResult, provenance_of, verify_record
from .thread import ThreadNode, thread_of
from .timeline import TimelineBucket, account_timeline, item_captures
from .versions import DiffPart, VersionView, diff_words, versions_of

__all__ = [
    "EXPORT_FIELDS",
    "ArchivedMedia",
    "DiffPart",
    "Provenance",
    "ThreadNode",
    "TimelineBucket",
    "VerifyResult",
    "VersionView",
    "account_timeline",
    "archived_media",
    "diff_words",
    "export_csv",
    "export_jsonl",
    "item_captures",
    "provenance_of",
    "thread_of",
    "verify_record",
    "versions_of",
]
