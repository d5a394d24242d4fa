"""Search query building without a cluster: language fields, filters, sort, cursors."""

from __future__ import annotations

from datetime import date

from archive.index.mappings import RECORD_MAPPINGS, record_mappings
from archive.index.search import SearchQuery, build_query, build_sort, decode_cursor, encode_cursor


def test_language_multi_fields_only_when_asked() -> None:
    plain = record_mappings()
    assert plain == RECORD_MAPPINGS and "fields" not in plain["properties"]["text"]
    rich = record_mappings(languages=True)
    assert rich["properties"]["text"]["fields"] == {
        "sv": {"type": "text", "analyzer": "swedish"},
        "en": {"type": "text", "analyzer": "english"},
    }
    assert rich["properties"]["media"]["properties"]["description"]["fields"]["sv"]["analyzer"] == "swedish"
    assert rich["properties"]["title"]["fields"]["keyword"]["type"] == "keyword"
    assert "fields" not in RECORD_MAPPINGS["properties"]["text"]  # the base mapping is not mutated
    assert rich["dynamic"] == "strict"


def test_language_fields_are_searched_as_written_else_expanded() -> None:
    q = SearchQuery(text="snöröjningen")
    rich = build_query(q, languages=True)["bool"]["must"][0]["simple_query_string"]
    assert rich["query"] == "snöröjningen" and "text.sv" in rich["fields"] and "text.en" in rich["fields"]
    plain = build_query(q)["bool"]["must"][0]["simple_query_string"]
    assert plain["query"] == "(snöröjningen | snöröjning*)" and "text.sv" not in plain["fields"]


def test_filters_and_sort() -> None:
    q = SearchQuery(department="KS", has_media=True, captured_from=date(2026, 11, 1))
    filters = build_query(q)["bool"]["filter"]
    assert {"term": {"department": "KS"}} in filters and {"term": {"has_media": True}} in filters
    assert {"range": {"captured_at": {"format": "strict_date_optional_time", "gte": "2026-11-01||/d"}}} in filters
    assert build_sort(SearchQuery(text="x"))[0] == "_score"
    assert build_sort(SearchQuery())[0] == {"published_at": {"order": "desc", "missing": "_last"}}
    assert build_sort(SearchQuery(sort="oldest"))[-1] == {"record_id": "asc"}


def test_cursor_round_trip() -> None:
    values = [1764576000000, "abc"]
    assert decode_cursor(encode_cursor(values)) == values
