"""Archivists' search: full text with filters and facets, by relevance or date, with deep paging.

Text is searched with `simple_query_string` ("phrase", +must, -not, a | b). Where the index has
the `.sv` / `.en` language multi-fields (clusters with the built-in language analyzers) those are
searched too, so inflected forms match. On clusters with only the standard analyzer each plain
word is also searched as a prefix of its stem (`snöröjningen` → `snöröjning*`), which finds
other inflections and compounds it starts.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from elasticsearch import ConnectionTimeout

from schemas.search import SavedSearch

from ..errors import CommunisError, SearchTimedOut, SearchTooCostly
from .client import translate
from .indexer import RecordIndex

TEXT_FIELDS = ["text", "title^2", "author.name", "media.description", "hashtags"]
LANGUAGE_TEXT_FIELDS = [
    "text.sv",
    "text.en",
    "title.sv^2",
    "title.en^2",
    "media.description.sv",
    "media.description.en",
]
HIGHLIGHT_FIELDS = ["text", "title", "media.description"]
TERM_FACETS = ("platform", "account", "kind", "department", "retention_class")
FLAG_FACETS = ("has_media", "edited", "deleted")
#: Facets counted with a filter: name → the query a record must match to count as "true".
EXISTS_FACETS = {"on_hold": {"exists": {"field": "legal_holds"}}}
EXCLUDED_SOURCE = ["raw", "html"]

Sort = Literal["auto", "relevance", "newest", "oldest"]
DateBound = date | datetime


@dataclass(frozen=True)
class SearchLimits:
    """What one search may cost the cluster that ingest shares; a search over a bound is refused.

    `max_clauses` counts the words and phrases of the text after expansion (each plain word of more
    than four letters is searched as itself and as a prefix of its stem: two clauses). A `*` is a
    prefix operator only at the end of a word with at least `min_prefix` letters before it: a leading
    or inner wildcard, or `a*`, expands to a large part of the term dictionary. Fuzzy matching
    (`word~2`) is not offered at all, for the same reason. The time limit is given to Elasticsearch
    (which stops collecting) and to the client (which stops waiting), and either way the search fails.
    """

    timeout_seconds: float = 10.0
    max_clauses: int = 64
    min_prefix: int = 3
    max_size: int = 1000
    facet_size: int = 50


DEFAULT_LIMITS = SearchLimits()
#: The simple_query_string operators offered: everything but FUZZY (`word~N` expands to every near term).
QUERY_FLAGS = "AND|OR|NOT|PHRASE|PRECEDENCE|PREFIX|WHITESPACE|ESCAPE|NEAR"


@dataclass(frozen=True)
class SearchQuery:
    """What a user asked for. `date_from`/`date_to` bound published_at, `captured_*` captured_at.

    Dates are whole days (inclusive); datetimes are exact instants.
    """

    text: str = ""
    platform: str | None = None
    account: str | None = None
    department: str | None = None
    kind: str | None = None
    item: str | None = None
    date_from: DateBound | None = None
    date_to: DateBound | None = None
    captured_from: DateBound | None = None
    captured_to: DateBound | None = None
    has_media: bool | None = None
    edited: bool | None = None
    deleted: bool | None = None
    #: True: only records under at least one legal hold; False: only records under none.
    on_hold: bool | None = None
    retention_class: str | None = None
    item_key: str | None = None
    #: Exactly these record versions (with the other filters).
    record_ids: tuple[str, ...] = ()
    #: Records of one thread (the item id of its top post), with `account`.
    thread: str | None = None
    latest_only: bool = False
    #: Only what is public now: latest versions of items neither deleted nor hidden (read-only users).
    public_only: bool = False
    #: Whether the asker may see legal holds: if not, the `on_hold` facet is not counted.
    holds_visible: bool = True
    sort: Sort = "auto"
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
    #: facet name → value → count; flags (has_media, edited, deleted) have values "true"/"false".
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: pass as `after=` to get the next page; None when this page was the last.
    next_cursor: str | None = None


class BadCursor(CommunisError):
    pass


# --- query text --------------------------------------------------------------------------------

#: Inflection endings (Swedish first, then English), longest first; a stem keeps at least 4 letters.
_SUFFIXES = sorted(
    {
        "heterna",
        "hetens",
        "heten",
        "heter",
        "arnas",
        "ernas",
        "ornas",
        "andes",
        "anden",
        "arens",
        "andet",
        "arna",
        "erna",
        "orna",
        "ande",
        "arne",
        "aste",
        "aren",
        "ades",
        "erns",
        "ade",
        "are",
        "ern",
        "ens",
        "het",
        "ast",
        "ad",
        "en",
        "ar",
        "er",
        "or",
        "as",
        "es",
        "at",
        "a",
        "e",
        "s",
        "ings",
        "ing",
        "ies",
        "ied",
        "ed",
        "ly",
    },
    key=len,
    reverse=True,
)
_MIN_STEM = 4
_TOKEN = re.compile(r'"[^"]*"(?:~\d+)?|[()|+\-]|[^\s()|"]+')


def stem(word: str) -> str:
    """A light Swedish/English stem: the word without its longest inflection ending."""
    lower = word.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix) and len(lower) - len(suffix) >= _MIN_STEM:
            return lower[: -len(suffix)]
    return lower


def expand_query(text: str) -> str:
    """Each plain word `w` of a simple query becomes `(w | stem(w)*)`; phrases and operators stay."""
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.isalpha() and len(token) > _MIN_STEM:
            token = f"({token} | {stem(token)}*)"
        # + and - bind to what follows them
        if out and out[-1] in ("+", "-"):
            out[-1] += token
        else:
            out.append(token)
    return " ".join(out)


def check_cost(q: SearchQuery, limits: SearchLimits = DEFAULT_LIMITS, *, page: bool = True) -> None:
    """Refuse, in one line, a search whose text or page size is over `limits` (see SearchLimits)."""
    if page and q.size > limits.max_size:
        raise SearchTooCostly(f"a page holds at most {limits.max_size} hits, not {q.size}")
    clauses = 0
    for match in _TOKEN.finditer(q.text):
        token = match.group().lstrip("+-")
        if not token or token in ("(", ")", "|"):
            continue
        if token.startswith('"'):
            clauses += 1
            continue
        clauses += 2 if token.isalpha() and len(token) > _MIN_STEM else 1
        if "*" in token.rstrip("*") or token.startswith("*"):
            raise SearchTooCostly(f"{token!r}: a wildcard may only end a word (no leading or inner wildcard)")
        if token.endswith("*") and len(token.rstrip("*")) < limits.min_prefix:
            raise SearchTooCostly(f"{token!r}: a prefix needs at least {limits.min_prefix} letters before the *")
    if clauses > limits.max_clauses:
        raise SearchTooCostly(
            f"the search has {clauses} clauses after expansion; at most {limits.max_clauses} are allowed"
        )


# --- query body --------------------------------------------------------------------------------


def _bound(value: DateBound) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return f"{value.isoformat()}||/d"  # a whole day: gte rounds down, lte rounds up


def _range(field_name: str, start: DateBound | None, end: DateBound | None) -> dict[str, Any] | None:
    if start is None and end is None:
        return None
    rng: dict[str, str] = {"format": "strict_date_optional_time"}
    if start is not None:
        rng["gte"] = _bound(start)
    if end is not None:
        rng["lte"] = _bound(end)
    return {"range": {field_name: rng}}


def build_filters(q: SearchQuery) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    for field_name, value in (
        ("platform", q.platform),
        ("account", q.account),
        ("department", q.department),
        ("kind", q.kind),
        ("item_id", q.item),
        ("retention_class", q.retention_class),
        ("item_key", q.item_key),
        ("thread_id", q.thread),
    ):
        if value:
            filters.append({"term": {field_name: value}})
    for field_name, flag in (("has_media", q.has_media), ("edited", q.edited), ("deleted", q.deleted)):
        if flag is not None:
            filters.append({"term": {field_name: flag}})
    if q.record_ids:
        filters.append({"ids": {"values": list(q.record_ids)}})
    if q.on_hold is not None:
        held = EXISTS_FACETS["on_hold"]
        filters.append(held if q.on_hold else {"bool": {"must_not": [held]}})
    if q.latest_only or q.public_only:
        filters.append({"term": {"is_latest": True}})
    if q.public_only:  # what the public sees now: no deleted or hidden item, no moderation list of the account
        filters += [{"term": {"deleted": False}}, {"term": {"hidden_on_platform": False}}]
        filters.append({"bool": {"must_not": [{"term": {"kind": "moderation"}}]}})
    for rng in (_range("published_at", q.date_from, q.date_to), _range("captured_at", q.captured_from, q.captured_to)):
        if rng is not None:
            filters.append(rng)
    return filters


def build_query(q: SearchQuery, *, languages: bool = False) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if q.text.strip():
        if languages:
            text, fields = q.text, TEXT_FIELDS + LANGUAGE_TEXT_FIELDS
        else:
            text, fields = expand_query(q.text), TEXT_FIELDS
        must.append(
            {
                "simple_query_string": {
                    "query": text,
                    "fields": fields,
                    "default_operator": "and",
                    "analyze_wildcard": True,
                    "flags": QUERY_FLAGS,
                }
            }
        )
    return {"bool": {"must": must or [{"match_all": {}}], "filter": build_filters(q)}}


def build_sort(q: SearchQuery) -> list[Any]:
    """Sort clauses, always ending in record_id so that every hit has a unique, stable position."""
    order = q.sort
    if order == "auto":
        order = "relevance" if q.text.strip() else "newest"
    tiebreak = {"record_id": "asc"}
    if order == "relevance":
        return ["_score", {"captured_at": "desc"}, tiebreak]
    direction = "desc" if order == "newest" else "asc"
    return [{"published_at": {"order": direction, "missing": "_last"}}, {"captured_at": direction}, tiebreak]


def build_aggs(*, holds: bool = True, size: int = DEFAULT_LIMITS.facet_size) -> dict[str, Any]:
    """The facets (at most `size` values each); `holds=False` leaves out `on_hold` (for users who may not
    see legal holds)."""
    aggs: dict[str, Any] = {name: {"terms": {"field": name, "size": size}} for name in TERM_FACETS}
    aggs.update({name: {"terms": {"field": name, "size": 2}} for name in FLAG_FACETS})
    if holds:
        aggs.update({name: {"filter": query} for name, query in EXISTS_FACETS.items()})
    return aggs


def _facets(aggs: dict[str, Any]) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    for name in (*TERM_FACETS, *FLAG_FACETS):
        buckets = aggs.get(name, {}).get("buckets", [])
        facets[name] = {str(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in buckets}
    for name in EXISTS_FACETS:
        if name in aggs:
            facets[name] = {"true": int(aggs[name]["doc_count"])}
    return facets


def encode_cursor(sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(
            "the paging cursor is not one this search returned", hint="start again from the first page"
        ) from None
    if not isinstance(values, list):
        raise BadCursor("the paging cursor is not one this search returned", hint="start again from the first page")
    return values


def _hit(h: dict[str, Any]) -> SearchHit:
    return SearchHit(
        h["_id"], h.get("_score"), h["_source"], [frag for frags in h.get("highlight", {}).values() for frag in frags]
    )


def _highlight() -> dict[str, Any]:
    return {
        "fields": {name: {} for name in HIGHLIGHT_FIELDS},
        "pre_tags": ["[["],
        "post_tags": ["]]"],
        "require_field_match": False,
    }


def saved_query(saved: SavedSearch, **extra: Any) -> SearchQuery:
    """The SearchQuery of a saved search (a hold's or a request case's scope)."""
    return SearchQuery(
        text=saved.q,
        platform=saved.platform.value if saved.platform else None,
        account=saved.account,
        department=saved.department,
        kind=saved.kind.value if saved.kind else None,
        date_from=saved.published_from,
        date_to=saved.published_to,
        captured_from=saved.captured_from,
        captured_to=saved.captured_to,
        record_ids=tuple(saved.record_ids),
        **extra,
    )


# --- running -----------------------------------------------------------------------------------


def _timed(index: RecordIndex, limits: SearchLimits) -> Any:
    """The client with the search's time limit (and no retry: a slow search is not asked twice)."""
    return index.es.options(request_timeout=limits.timeout_seconds, max_retries=0)


def _timed_out(limits: SearchLimits) -> SearchTimedOut:
    return SearchTimedOut(f"the search was stopped after {limits.timeout_seconds:g} s")


def search(
    index: RecordIndex,
    q: SearchQuery,
    *,
    after: str | None = None,
    facets: bool = True,
    limits: SearchLimits = DEFAULT_LIMITS,
) -> SearchResult:
    """One page of hits with facet counts; `after` is the `next_cursor` of the previous page.

    A search over `limits` is refused before it is sent (SearchTooCostly); one that runs out of time
    fails (SearchTimedOut) rather than show a partial answer as if it were whole.
    """
    check_cost(q, limits)
    extra: dict[str, Any] = {}
    if after:
        extra["search_after"] = decode_cursor(after)
    if facets:
        extra["aggs"] = build_aggs(holds=q.holds_visible, size=limits.facet_size)
    with translate("search"):
        try:
            resp = _timed(index, limits).search(
                index=index.alias,
                query=build_query(q, languages=index.has_language_fields),
                size=q.size + 1,
                sort=build_sort(q),
                track_total_hits=True,
                highlight=_highlight(),
                source_excludes=EXCLUDED_SOURCE,
                timeout=f"{max(1, int(limits.timeout_seconds * 1000))}ms",
                **extra,
            )
        except ConnectionTimeout:
            raise _timed_out(limits) from None
    if resp.get("timed_out"):
        raise _timed_out(limits)
    # One hit more than asked for tells whether there is a next page (no cursor to an empty page).
    raw_hits = resp["hits"]["hits"][: q.size]
    hits = [_hit(h) for h in raw_hits]
    more = len(resp["hits"]["hits"]) > q.size
    cursor = encode_cursor(raw_hits[-1]["sort"]) if raw_hits and more else None
    return SearchResult(int(resp["hits"]["total"]["value"]), hits, _facets(resp.get("aggregations", {})), cursor)


def iter_hits(
    index: RecordIndex, q: SearchQuery, *, page_size: int = 1000, keep_alive: str = "2m"
) -> Iterator[SearchHit]:
    """Every hit of `q` (no limit), newest published first then by record id, from one point in time.

    For exports: a point-in-time keeps the view consistent while pages are read with search_after.
    `q.size` and `q.sort` are ignored (an oldest-first `q.sort` is honoured). The text is held to the
    same complexity limits as a search's (a page of an export is a search).
    """
    check_cost(q, page=False)
    order: Sort = "oldest" if q.sort == "oldest" else "newest"
    sort = build_sort(SearchQuery(sort=order))
    query = build_query(q, languages=index.has_language_fields)
    with translate("open a point in time"):
        pit_id = index.es.open_point_in_time(index=index.alias, keep_alive=keep_alive)["id"]
    try:
        after: list[Any] | None = None
        while True:
            extra: dict[str, Any] = {"search_after": after} if after is not None else {}
            with translate("search"):
                resp = index.es.search(
                    pit={"id": pit_id, "keep_alive": keep_alive},
                    query=query,
                    size=page_size,
                    sort=sort,
                    track_total_hits=False,
                    source_excludes=EXCLUDED_SOURCE,
                    **extra,
                )
            pit_id = resp.get("pit_id", pit_id)
            page = resp["hits"]["hits"]
            for h in page:
                yield _hit(h)
            if len(page) < page_size:
                return
            after = page[-1]["sort"]
    finally:
        with translate("close the point in time"):
            index.es.options(ignore_status=404).close_point_in_time(id=pit_id)
