"""Archivists' search: full text with filters, newest first or by relevance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .client import translate
from .indexer import RecordIndex

TEXT_FIELDS = ["text", "title^2", "author.name", "media.description", "hashtags"]


@dataclass(frozen=True)
class SearchQuery:
    """What a user asked for."""

    text: str = ""
    platform: str | None = None
    account: str | None = None
    kind: str | None = None
    item: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    deleted: bool | None = None
    latest_only: bool = False
    size: int = 20


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    score: float | None
    source: dict[str, Any]
    highlight: list[str]


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[SearchHit]


def build_query(q: SearchQuery) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if q.text.strip():
        must.append({"simple_query_string": {"query": q.text, "fields": TEXT_FIELDS,
                                             "default_operator": "and"}})
    filters: list[dict[str, Any]] = []
    for field_name, value in (("platform", q.platform), ("account", q.account), ("kind", q.kind),
                              ("item_id", q.item)):
        if value:
            filters.append({"term": {field_name: value}})
    if q.deleted is not None:
        filters.append({"term": {"deleted": q.deleted}})
    if q.latest_only:
        filters.append({"term": {"is_latest": True}})
    if q.date_from or q.date_to:
        rng: dict[str, str] = {}
        if q.date_from:
            rng["gte"] = q.date_from.isoformat()
        if q.date_to:
            rng["lte"] = q.date_to.isoformat()
        filters.append({"range": {"published_at": rng | {"format": "strict_date_optional_time"}}})
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}


def search(index: RecordIndex, q: SearchQuery) -> SearchResult:
    sort: list[Any] = ["_score", {"captured_at": "desc"}] if q.text.strip() else [{"captured_at": "desc"}]
    with translate("search"):
        resp = index.es.search(
            index=index.alias, query=build_query(q), size=q.size, sort=sort, track_total_hits=True,
            highlight={"fields": {"text": {}, "title": {}}, "pre_tags": ["[["], "post_tags": ["]]"]},
            source_excludes=["raw", "html"],
        )
    hits = [
        SearchHit(h["_id"], h.get("_score"), h["_source"],
                  [frag for frags in h.get("highlight", {}).values() for frag in frags])
        for h in resp["hits"]["hits"]
    ]
    return SearchResult(int(resp["hits"]["total"]["value"]), hits)
