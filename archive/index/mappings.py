"""Explicit index mappings for record versions.

The local cluster is Elastic's integ-test distribution, which has only the standard
analyzer (no analysis-common, so no language analyzers); mappings use it everywhere so
they work on any cluster. Richer Swedish/English analysis is the search issue's concern.
`dynamic: strict` makes a drifting document an error instead of a silent new field.
"""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 1

_kw: dict[str, Any] = {"type": "keyword"}
_text_kw: dict[str, Any] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}}
_date: dict[str, Any] = {"type": "date"}
_bool: dict[str, Any] = {"type": "boolean"}

_location: dict[str, Any] = {"properties": {
    "filename": _kw, "offset": {"type": "long"}, "length": {"type": "long"}, "sha256": _kw, "record_id": _kw,
}}

RECORD_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "record_id": _kw, "item_key": _kw, "platform": _kw, "account": _kw, "item_id": _kw,
        "kind": _kw, "parent_id": _kw, "thread_id": _kw, "direction": _kw,
        "author": {"properties": {"id": _kw, "handle": _kw, "name": _text_kw, "url": _kw}},
        "title": _text_kw,
        "text": {"type": "text"},
        "html": {"type": "text", "index": False},
        "url": _kw, "repost_of": _kw, "links": _kw, "hashtags": _kw, "mentions": _kw,
        "media": {"properties": {
            "url": _kw, "content_type": _kw, "description": {"type": "text"}, "sha256": _kw, "warc": _location,
        }},
        "has_media": _bool,
        "published_at": _date, "edited_at": _date, "first_seen_at": _date, "captured_at": _date,
        "language": _kw, "version": {"type": "integer"}, "content_sha256": _kw,
        "deleted": _bool, "hidden_on_platform": _bool, "edited": _bool,
        "removal": {"properties": {"actor": _kw, "reason": {"type": "text"}, "at": _date}},
        "source_url": _kw,
        "warc": _location,
        "warc_key": _kw,
        "retention_class": _kw,
        "is_latest": _bool,
        "raw": {"type": "object", "enabled": False},
    },
}


def index_settings(replicas: int = 0) -> dict[str, Any]:
    return {"number_of_shards": 1, "number_of_replicas": replicas, "refresh_interval": "1s"}
