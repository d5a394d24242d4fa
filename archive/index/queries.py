"""The named questions the archive asks its record index, so no module above builds query DSL.

Each function says what it finds in the archive's terms (versions of an account, the records of a
file, the files a hold still needs); only here do those become Elasticsearch queries. Callers pass
plain values: ids, keys, times, and a `Match` (field → accepted values, every field must match one,
no field means every record) for the retention schedule's rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from elasticsearch import helpers

from .client import translate
from .indexer import RecordIndex

Match = Mapping[str, Sequence[str]]
"""field → accepted values: a document matches when each field has one of its values (no field: all)."""
Hit = dict[str, Any]
"""A raw hit: `_id`, `_index`, `_source` and, for updates, `_seq_no` and `_primary_term`."""

#: Ids or keys per request: an ids or terms query takes at most 10 000 values (index.max_result_window).
BATCH = 1000


def matching(match: Match) -> dict[str, Any]:
    """The filter selecting exactly the documents `match` accepts."""
    terms = [{"terms": {field: list(values)}} for field, values in match.items() if values]
    return {"bool": {"filter": terms}} if terms else {"match_all": {}}


def _any(queries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"should": queries, "minimum_should_match": 1}}


# --- harvest ---------------------------------------------------------------------------------------


def account_versions(index: RecordIndex, account: str, *, captured_since: datetime | None) -> list[dict[str, Any]]:
    """Every version of `account` in the index (captured at or after `captured_since`, if given)."""
    filters: list[dict[str, Any]] = [{"term": {"account": account}}]
    if captured_since is not None:
        filters.append({"range": {"captured_at": {"gte": captured_since.isoformat()}}})
    with translate("look for versions stored since the last harvest state"):
        if not index.exists():
            return []
    return list(index.scan({"bool": {"filter": filters}}))


# --- register --------------------------------------------------------------------------------------


def latest_versions(index: RecordIndex) -> Iterator[dict[str, Any]]:
    """Every item's latest version (the harvest table is rebuilt from them)."""
    return index.scan({"term": {"is_latest": True}})


def account_summaries(index: RecordIndex) -> dict[str, dict[str, Any]]:
    """Per account, by aggregation: versions, items (latest versions), capture and publication span,
    retention classes, platform and department."""
    if not index.exists():
        return {}
    aggs = {
        "accounts": {
            "terms": {"field": "account", "size": 10000},
            "aggs": {
                "items": {"filter": {"term": {"is_latest": True}}},
                "first_capture": {"min": {"field": "captured_at"}},
                "last_capture": {"max": {"field": "captured_at"}},
                "first_published": {"min": {"field": "published_at"}},
                "classes": {"terms": {"field": "retention_class", "size": 100}},
                "platform": {"terms": {"field": "platform", "size": 1}},
                "department": {"terms": {"field": "department", "size": 1}},
            },
        }
    }
    with translate("aggregate the channel register"):
        found = index._es.search(index=index.alias, size=0, aggs=aggs, track_total_hits=True)
    out = {}
    for bucket in found["aggregations"]["accounts"]["buckets"]:
        out[str(bucket["key"])] = {
            "versions": int(bucket["doc_count"]),
            "items": int(bucket["items"]["doc_count"]),
            "first_capture": _ms(bucket["first_capture"].get("value")),
            "last_capture": _ms(bucket["last_capture"].get("value")),
            "first_published": _ms(bucket["first_published"].get("value")),
            "classes": {str(b["key"]) for b in bucket["classes"]["buckets"]},
            "platform": next((str(b["key"]) for b in bucket["platform"]["buckets"]), ""),
            "department": next((str(b["key"]) for b in bucket["department"]["buckets"]), ""),
        }
    return out


def _ms(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value is not None else None


# --- transfer --------------------------------------------------------------------------------------


def of_class_or_ids(index: RecordIndex, retention_class: str | None, record_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every version of `retention_class` and every version in `record_ids` (at least one must be given)."""
    should: list[dict[str, Any]] = []
    if retention_class:
        should.append({"term": {"retention_class": retention_class}})
    if record_ids:
        should.append({"terms": {"record_id": list(record_ids)}})
    assert should, "a class or record ids"
    return list(index.scan(_any(should)))


# --- reading ---------------------------------------------------------------------------------------


def documents(index: RecordIndex, ids: Sequence[str], *, action: str = "read records") -> list[dict[str, Any] | None]:
    """The documents of `ids` in that order, None where an id is not in the index (one multi-get)."""
    with translate(action):
        found = index._es.mget(index=index.alias, ids=list(ids))["docs"]
    return [dict(hit["_source"]) if hit.get("found") else None for hit in found]


#: Fields of an item's latest version a list of items shows (a line each, not the whole record).
ITEM_LINE_FIELDS = ["record_id", "item_key", "item_id", "kind", "title", "text", "url", "published_at", "deleted"]


def latest_of_items(index: RecordIndex, account: str, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """item id → the latest version (a tombstone too) of each of `item_ids` (at most `BATCH`) the archive
    holds of `account`, its `ITEM_LINE_FIELDS` only; ids it does not hold are left out (one request)."""
    ids = list(dict.fromkeys(item_ids))
    if len(ids) > BATCH:
        raise ValueError(f"at most {BATCH} items per request, not {len(ids)}")
    if not ids or not index.exists():
        return {}
    query = {
        "bool": {"filter": [{"term": {"account": account}}, {"term": {"is_latest": True}}, {"terms": {"item_id": ids}}]}
    }
    with translate("read the items' latest versions"):
        resp = index._es.search(index=index.alias, query=query, size=len(ids), source_includes=ITEM_LINE_FIELDS)
    return {str(h["_source"]["item_id"]): dict(h["_source"]) for h in resp["hits"]["hits"]}


def published_histogram(
    index: RecordIndex, filters: list[dict[str, Any]], interval: str
) -> list[tuple[str, dict[str, int]]]:
    """(period start, kind → items) per calendar `interval` of `published_at`, empty periods kept."""
    with translate("timeline"):
        resp = index._es.search(
            index=index.alias,
            size=0,
            query={"bool": {"filter": filters}},
            aggs={
                "t": {
                    "date_histogram": {
                        "field": "published_at",
                        "calendar_interval": interval,
                        "format": "yyyy-MM-dd",
                        "min_doc_count": 0,
                    },
                    "aggs": {"kind": {"terms": {"field": "kind", "size": 10}}},
                }
            },
        )
    buckets: list[dict[str, Any]] = resp["aggregations"]["t"]["buckets"]
    return [(b["key_as_string"], {k["key"]: int(k["doc_count"]) for k in b["kind"]["buckets"]}) for b in buckets]


def ids_matching(index: RecordIndex, query: dict[str, Any], *, action: str) -> Iterator[str]:
    """The ids of every record `query` (a search's query, archive/index/search.py) matches."""
    with translate(action):
        for hit in helpers.scan(index._es, index=index.alias, query={"query": query, "_source": False}, size=BATCH):
            yield str(hit["_id"])


# --- legal holds -----------------------------------------------------------------------------------


def held_by(hold_id: str) -> dict[str, Any]:
    """The records carrying `hold_id`."""
    return {"term": {"legal_holds": hold_id}}


def in_file(query: dict[str, Any], key: str) -> dict[str, Any]:
    """`query` (a search's bool query) narrowed to the records stored in the file `key`."""
    query["bool"]["filter"].append({"term": {"warc_key": key}})
    return query


def held_in_files(keys: Iterable[str]) -> dict[str, Any]:
    """Records under some hold that are in one of the files `keys` or have media in one of them."""
    keys = sorted(keys)
    names = [k.rsplit("/", 1)[-1] for k in keys]
    return {
        "bool": {
            "filter": [{"exists": {"field": "legal_holds"}}],
            "should": [{"terms": {"warc_key": keys}}, {"terms": {"media.warc.filename": names}}],
            "minimum_should_match": 1,
        }
    }


def hits_for_update(index: RecordIndex, query: dict[str, Any], fields: list[str], *, action: str) -> Iterator[Hit]:
    """The hits of `query` with the `fields` of their sources and their sequence numbers (for
    `update_unless_changed`)."""
    with translate(action):
        yield from helpers.scan(
            index._es,
            index=index.alias,
            query={"query": query, "_source": fields},
            seq_no_primary_term=True,
            size=BATCH,
        )


def reread_for_update(index: RecordIndex, ids: list[str], fields: list[str], *, action: str) -> list[Hit]:
    """The hits of `ids` again, with fresh sequence numbers."""
    with translate(action):
        fresh = index._es.search(
            index=index.alias,
            query={"ids": {"values": ids}},
            size=len(ids),
            source_includes=fields,
            seq_no_primary_term=True,
        )
    return list(fresh["hits"]["hits"])


def update_unless_changed(
    index: RecordIndex, changes: list[tuple[Hit, dict[str, Any]]], *, action: str
) -> tuple[int, list[str]]:
    """Apply each partial document to its hit's document only if it is unchanged since that hit was read
    (`if_seq_no`); return (updated, ids of the documents changed meanwhile). Any other failure raises."""
    actions = [
        {
            "_op_type": "update",
            "_index": hit["_index"],
            "_id": hit["_id"],
            "if_seq_no": hit["_seq_no"],
            "if_primary_term": hit["_primary_term"],
            "doc": doc,
        }
        for hit, doc in changes
    ]
    updated, conflicts = 0, []
    with translate(action):
        for ok, item in helpers.streaming_bulk(index._es, actions, raise_on_error=False, chunk_size=BATCH):
            info = item["update"]
            if ok:
                updated += 1
            elif info.get("status") == 409:
                conflicts.append(info["_id"])
            else:
                raise RuntimeError(f"could not mark {info['_id']}: {info.get('error')}")
    return updated, conflicts


# --- retention -------------------------------------------------------------------------------------


def disposal_candidates_query(rules: Sequence[Match], *, older_than: datetime) -> dict[str, Any]:
    """Stored records some of `rules` matches, captured or published at or before `older_than`."""
    limit = older_than.isoformat()
    return {
        "bool": {
            "filter": [
                _any([matching(r) for r in rules]),
                _any([{"range": {"captured_at": {"lte": limit}}}, {"range": {"published_at": {"lte": limit}}}]),
                {"exists": {"field": "warc_key"}},
            ]
        }
    }


def disposal_candidate_pages(
    index: RecordIndex,
    rules: Sequence[Match],
    *,
    older_than: datetime,
    fields: list[str],
    page_size: int = BATCH,
    keep_alive: str = "5m",
) -> Iterator[list[dict[str, Any]]]:
    """The sources (with `fields`) of `disposal_candidates_query`, a page of at most `page_size` at a time.

    One point in time and search_after in index order (`_shard_doc`, the cheapest sort): the pages
    are one consistent view however long the caller takes over each, and only one page is in
    memory at a time, so planning over millions of records holds no more than a page of them.
    """
    query = disposal_candidates_query(rules, older_than=older_than)
    with translate("open a point in time to scan for due records"):
        pit_id = index._es.open_point_in_time(index=index.alias, keep_alive=keep_alive)["id"]
    try:
        after: list[Any] | None = None
        while True:
            extra: dict[str, Any] = {"search_after": after} if after is not None else {}
            with translate("scan the index for due records"):
                resp = index._es.search(
                    pit={"id": pit_id, "keep_alive": keep_alive},
                    query=query,
                    size=page_size,
                    sort=[{"_shard_doc": "asc"}],
                    source_includes=fields,
                    track_total_hits=False,
                    **extra,
                )
            pit_id = resp.get("pit_id", pit_id)
            hits = resp["hits"]["hits"]
            if hits:
                yield [h["_source"] for h in hits]
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]
    finally:
        with translate("close the point in time"):
            index._es.options(ignore_status=404).close_point_in_time(id=pit_id)


def stored_matching_any(
    index: RecordIndex, rules: Sequence[Match], *, fields: list[str], action: str
) -> Iterator[dict[str, Any]]:
    """Stored records (with a file) that one of `rules` matches; none for no rule (sources with `fields`)."""
    filters: list[dict[str, Any]] = [{"exists": {"field": "warc_key"}}]
    queries = [matching(r) for r in rules]
    if not any("match_all" in q for q in queries):
        filters.append(_any(queries or [{"match_none": {}}]))
    with translate(action):
        for hit in helpers.scan(
            index._es, index=index.alias, size=BATCH, query={"query": {"bool": {"filter": filters}}, "_source": fields}
        ):
            yield hit["_source"]


def count_uncovered(index: RecordIndex, active: Sequence[Match], drafts: Sequence[Match]) -> tuple[int, int]:
    """(records no rule matches, records only a draft rule matches), index-wide."""
    every = [matching(m) for m in [*active, *drafts]]
    no_rule = index.count({"bool": {"must_not": every}}) if every else index.count()
    draft = (
        index.count(
            {"bool": {"filter": [_any([matching(m) for m in drafts])], "must_not": [matching(m) for m in active]}}
        )
        if drafts
        else 0
    )
    return no_rule, draft


def records_per_file(index: RecordIndex, keys: list[str]) -> dict[str, int]:
    """How many records each file holds in the index."""
    totals: dict[str, int] = {}
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        with translate("count records per file"):
            resp = index._es.search(
                index=index.alias,
                size=0,
                query={"terms": {"warc_key": batch}},
                aggs={"files": {"terms": {"field": "warc_key", "size": len(batch)}}},
            )
        for bucket in resp["aggregations"]["files"]["buckets"]:
            totals[bucket["key"]] = int(bucket["doc_count"])
    return totals


def media_files_referenced(index: RecordIndex, names: list[str], *, from_outside: list[str]) -> set[str]:
    """Which file names among `names` records outside the files `from_outside` point to for their media."""
    found: set[str] = set()
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        with translate("find media references"):
            resp = index._es.search(
                index=index.alias,
                size=0,
                query={
                    "bool": {
                        "filter": [{"terms": {"media.warc.filename": batch}}],
                        "must_not": [{"terms": {"warc_key": from_outside}}],
                    }
                },
                aggs={"files": {"terms": {"field": "media.warc.filename", "size": len(batch) * 4}}},
            )
        found |= {str(b["key"]) for b in resp["aggregations"]["files"]["buckets"]}
    return found


def other_files_with_prefix(index: RecordIndex, prefix: str, keys: list[str]) -> bool:
    """Whether a record is stored in a file whose key starts with `prefix` and is not one of `keys`."""
    with translate("find the files of a disposal group"):
        resp = index._es.search(
            index=index.alias,
            size=0,
            query={"bool": {"filter": [{"prefix": {"warc_key": prefix}}], "must_not": [{"terms": {"warc_key": keys}}]}},
        )
    return int(resp["hits"]["total"]["value"]) > 0


def _count(index: RecordIndex, query: dict[str, Any]) -> int:
    with translate("check records before disposal"):
        return int(index._es.count(index=index.alias, query=query)["count"])


def _count_among(index: RecordIndex, ids: list[str], also: dict[str, Any]) -> int:
    """Documents among `ids` matching `also`, asked in slices (a 1 GiB file can hold more than 10 000)."""
    return sum(
        _count(index, {"bool": {"filter": [{"ids": {"values": ids[i : i + 10_000]}}, also]}})
        for i in range(0, len(ids), 10_000)
    )


def count_held(index: RecordIndex, ids: list[str]) -> int:
    """How many of the records `ids` are under a legal hold now."""
    return _count_among(index, ids, {"exists": {"field": "legal_holds"}})


def count_in_file(index: RecordIndex, key: str, *, among: list[str] | None = None) -> int:
    """How many records the file `key` holds (only those among `among`, if given)."""
    query = {"term": {"warc_key": key}}
    return _count(index, query) if among is None else _count_among(index, among, query)


def delete_records(index: RecordIndex, ids: Iterable[str], *, action: str) -> Iterator[tuple[str, Any]]:
    """Delete the documents of `ids`; yield (id, error) for each that failed other than by being gone."""
    actions = ({"_op_type": "delete", "_index": index.alias, "_id": record_id} for record_id in ids)
    with translate(action):
        for ok, item in helpers.streaming_bulk(
            index._es, actions, raise_on_error=False, chunk_size=BATCH, max_retries=5
        ):
            info = item["delete"]
            if not ok and info.get("status") != 404:
                yield str(info["_id"]), info.get("error")
