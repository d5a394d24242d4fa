"""Explicit index mappings for record versions.

The local cluster is Elastic's integ-test distribution, which has only the standard
analyzer (no analysis-common, so no language analyzers); mappings use it everywhere so
they work on any cluster. Where the cluster has the built-in `swedish` and `english`
analyzers, `record_mappings(languages=True)` adds `.sv` / `.en` multi-fields to the free-text
fields and search uses them; elsewhere search falls back to prefix matching on stems.
`dynamic: strict` makes a drifting document an error instead of a silent new field.
"""

from __future__ import annotations

import copy
from typing import Any

#: Bumped only for a change existing indices cannot take (a field's type, an analyzer): that needs a
#: new concrete index and a reindex. New fields are added to the live index by `RecordIndex.ensure()`.
MAPPING_VERSION = 1

_kw: dict[str, Any] = {"type": "keyword"}
_text_kw: dict[str, Any] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}}
_date: dict[str, Any] = {"type": "date"}
_bool: dict[str, Any] = {"type": "boolean"}

_location: dict[str, Any] = {
    "properties": {
        "filename": _kw,
        "offset": {"type": "long"},
        "length": {"type": "long"},
        "sha256": _kw,
        "record_id": _kw,
    }
}

RECORD_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "record_id": _kw,
        "item_key": _kw,
        "platform": _kw,
        "account": _kw,
        "department": _kw,
        "item_id": _kw,
        "kind": _kw,
        "parent_id": _kw,
        "thread_id": _kw,
        "direction": _kw,
        "author": {"properties": {"id": _kw, "handle": _kw, "name": _text_kw, "url": _kw}},
        "title": _text_kw,
        "text": {"type": "text"},
        "html": {"type": "text", "index": False},
        "url": _kw,
        "repost_of": _kw,
        "quote_of": _kw,
        "links": _kw,
        "hashtags": _kw,
        "mentions": _kw,
        "media": {
            "properties": {
                "url": _kw,
                "content_type": _kw,
                "description": {"type": "text"},
                "sha256": _kw,
                "warc": _location,
            }
        },
        "has_media": _bool,
        "poll": {
            "properties": {
                "options": {"properties": {"title": {"type": "text"}, "votes": {"type": "long"}}},
                "expires_at": _date,
                "multiple": _bool,
                "votes": {"type": "long"},
                "voters": {"type": "long"},
            }
        },
        # A moderation list's entries: searchable by the handle, domain or word they name (`text` holds
        # a readable rendering of the same, for full-text search and request masking).
        "moderation": {
            "properties": {
                "name": _kw,
                "entries": {
                    "properties": {
                        "id": _kw,
                        "handle": _kw,
                        "name": _text_kw,
                        "domain": _kw,
                        "keyword": _text_kw,
                        "whole_word": _bool,
                        "title": _text_kw,
                        "context": _kw,
                        "action": _kw,
                        "status_id": _kw,
                        "url": _kw,
                        "since": _date,
                        "expires_at": _date,
                    }
                },
            }
        },
        "published_at": _date,
        "edited_at": _date,
        "first_seen_at": _date,
        "last_seen_at": _date,
        "captured_at": _date,
        "language": _kw,
        "version": {"type": "integer"},
        "content_sha256": _kw,
        "deleted": _bool,
        "hidden_on_platform": _bool,
        "edited": _bool,
        "removal": {"properties": {"actor": _kw, "reason": {"type": "text"}, "at": _date}},
        "source_url": _kw,
        "warc": _location,
        "warc_key": _kw,
        "retention_class": _kw,
        "is_latest": _bool,
        "legal_holds": _kw,  # ids of the legal holds covering the record (set by the holds feature)
        "raw": {"type": "object", "enabled": False},
    },
}


#: Free-text fields that get language multi-fields when the cluster can analyse them.
LANGUAGE_FIELDS = ("text", "title", "media.description")
LANGUAGE_ANALYZERS = {"sv": "swedish", "en": "english"}


def record_mappings(*, languages: bool = False) -> dict[str, Any]:
    """The record mapping, with `.sv` / `.en` multi-fields on the free-text fields if `languages`."""
    mappings = copy.deepcopy(RECORD_MAPPINGS)
    if languages:
        for path in LANGUAGE_FIELDS:
            props = mappings["properties"]
            *parents, leaf = path.split(".")
            for parent in parents:
                props = props[parent]["properties"]
            fields = props[leaf].setdefault("fields", {})
            for suffix, analyzer in LANGUAGE_ANALYZERS.items():
                fields[suffix] = {"type": "text", "analyzer": analyzer}
    return mappings


def index_settings(replicas: int = 0) -> dict[str, Any]:
    return {"number_of_shards": 1, "number_of_replicas": replicas, "refresh_interval": "1s"}
