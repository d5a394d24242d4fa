"""The append-only event streams' shapes, and the administrative step that prepares the cluster for them.

The audit log and the PREMIS event log are data streams. A data stream needs an index template
before its first event, and putting templates is an administrator's act: a template can also give
a stream a lifecycle that deletes it, so no credential the application runs with may put one
(archive/services/es_access.py). `prepare` is run once per installation and release with the
admin credential (`scripts/services up` does it for the local node, `communis index setup`
elsewhere). Its templates match every prefix (`*-audit`, `*-premis`), so an installation, a test
or a benchmark with its own prefix needs no step of its own.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from .client import translate

_KW = {"type": "keyword"}

AUDIT_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date_nanos"},
        "user": _KW,
        "role": _KW,
        "action": _KW,
        "target": {"type": "keyword", "ignore_above": 4096, "fields": {"text": {"type": "text"}}},
        "client": _KW,
        "outcome": _KW,
        "note": {"type": "text"},
    },
}

PREMIS_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date_nanos"},
        "id": _KW,
        "type": _KW,
        "detail": {"type": "text"},
        "outcome": _KW,
        "outcome_detail": {"type": "text"},
        "agents": _KW,
        "objects": _KW,
        "sha256": _KW,
    },
}

STREAMS: dict[str, tuple[dict[str, Any], str]] = {
    "audit": (AUDIT_MAPPINGS, "Communis audit log (append-only data stream)"),
    "premis": (PREMIS_MAPPINGS, "Communis PREMIS events (append-only data stream, never disposed of)"),
}
"""Stream kind (the name's last part, `Settings.stream(kind)`) → mappings and description."""


def template_name(kind: str) -> str:
    return f"communis-events-{kind}"


def prepare(es: Elasticsearch, *, replicas: int = 0) -> list[str]:
    """Put the event-stream templates (idempotent); the names put. Needs the admin credential."""
    for kind, (mappings, description) in STREAMS.items():
        with translate(f"create the {kind} stream template (needs the admin credential)"):
            es.indices.put_index_template(
                name=template_name(kind),
                index_patterns=[f"*-{kind}"],
                data_stream={},
                priority=150,
                template={
                    "settings": {"number_of_shards": 1, "number_of_replicas": replicas},
                    "mappings": mappings,
                },
                meta={"description": description},
            )
    return [template_name(kind) for kind in STREAMS]
