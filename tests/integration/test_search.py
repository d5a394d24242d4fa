"""The search layer against the real Elasticsearch: filters, facets, language, sort, deep paging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from archive.context import Archive
from archive.index import RecordIndex, SearchQuery, iter_hits, search, to_document
from archive.index.search import BadCursor, expand_query, stem
from schemas import Record
from schemas.record import MediaRef

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def rec(
    item_id: str,
    text: str,
    *,
    platform: str = "mastodon",
    account: str = "sundsvik-mastodon",
    kind: str = "post",
    day: int = 0,
    captured_day: int | None = None,
    media: bool = False,
    edited: bool = False,
    deleted: bool = False,
) -> Record:
    published = T0 + timedelta(days=day)
    return Record.model_validate(
        dict(
            platform=platform,
            account=account,
            item_id=item_id,
            kind=kind,
            direction="upprattad" if kind == "post" else "inkommen",
            text=text,
            published_at=published,
            captured_at=T0 + timedelta(days=day if captured_day is None else captured_day, hours=1),
            media=[MediaRef(url=f"https://example.org/{item_id}.jpg")] if media else [],
            edited_at=published + timedelta(hours=2) if edited else None,
            deleted=deleted,
        )
    )


CORPUS: list[tuple[Record, str]] = [
    (rec("1", "Snöröjningen börjar i natt på Långgatan", day=0, media=True), "Kommunstyrelsen"),
    (rec("2", "Tack för snabb snöröjning!", kind="comment", day=1), "Kommunstyrelsen"),
    (
        rec("3", "Förskolan Norrby har öppet hus", platform="wordpress", account="sundsvik-blogg", day=2, edited=True),
        "Barn- och utbildningsnämnden",
    ),
    (
        rec(
            "4",
            "Road clearing starts tonight on the main roads",
            platform="wordpress",
            account="sundsvik-blogg",
            day=3,
            captured_day=10,
        ),
        "Barn- och utbildningsnämnden",
    ),
    (rec("5", "Borttaget inlägg om badhuset", day=4, deleted=True, media=True), "Kultur- och fritidsnämnden"),
    (rec("6", "Badhuset stänger för renovering", kind="reply", day=5, edited=True), "Kultur- och fritidsnämnden"),
]


def load(index: RecordIndex, records: list[tuple[Record, str]]) -> None:
    index.ensure()
    docs = [
        to_document(r, warc_key=f"warc/{r.account}/test.warc.gz", retention_class="social-10y", department=d)
        for r, d in records
    ]
    result = index.bulk(docs)
    assert not result.errors and result.indexed == len(docs)


@pytest.fixture
def corpus(local_archive: Archive) -> Iterator[RecordIndex]:
    load(local_archive.index, CORPUS)
    yield local_archive.index


def ids(index: RecordIndex, **kw: Any) -> set[str]:
    return {h.source["item_id"] for h in search(index, SearchQuery(size=100, **kw)).hits}


def test_each_filter_narrows_the_results(corpus: RecordIndex) -> None:
    assert ids(corpus) == {"1", "2", "3", "4", "5", "6"}
    assert ids(corpus, platform="wordpress") == {"3", "4"}
    assert ids(corpus, account="sundsvik-mastodon") == {"1", "2", "5", "6"}
    assert ids(corpus, department="Kultur- och fritidsnämnden") == {"5", "6"}
    assert ids(corpus, kind="comment") == {"2"}
    assert ids(corpus, kind="reply") == {"6"}
    assert ids(corpus, item="3") == {"3"}
    assert ids(corpus, has_media=True) == {"1", "5"}
    assert ids(corpus, has_media=False) == {"2", "3", "4", "6"}
    assert ids(corpus, edited=True) == {"3", "6"}
    assert ids(corpus, deleted=True) == {"5"}
    assert ids(corpus, deleted=False) == {"1", "2", "3", "4", "6"}
    assert ids(corpus, latest_only=True) == {"1", "2", "3", "4", "5", "6"}
    # published range: whole days, inclusive at both ends
    assert ids(corpus, date_from=date(2026, 11, 2), date_to=date(2026, 11, 3)) == {"2", "3"}
    assert ids(corpus, date_from=date(2026, 11, 6)) == {"6"}
    assert ids(corpus, date_to=datetime(2026, 11, 1, 12, tzinfo=UTC)) == {"1"}
    # captured range: item 4 was published on the 4th but captured on the 11th
    assert ids(corpus, captured_from=date(2026, 11, 10)) == {"4"}
    assert ids(corpus, captured_to=date(2026, 11, 4)) == {"1", "2", "3"}
    # filters combine
    assert ids(corpus, platform="mastodon", has_media=True, deleted=False) == {"1"}


def test_hold_retention_class_public_only_item_and_thread_filters(corpus: RecordIndex) -> None:
    # What a legal hold writes on the records it covers (archive/holds) is a list of hold ids.
    hits = {h.source["item_id"]: h.record_id for h in search(corpus, SearchQuery(size=100)).hits}
    corpus.es.update(index=corpus.alias, id=hits["2"], doc={"legal_holds": ["hold-1"]}, refresh=True)
    assert ids(corpus, on_hold=True) == {"2"}
    assert ids(corpus, on_hold=False) == {"1", "3", "4", "5", "6"}
    assert search(corpus, SearchQuery()).facets["on_hold"] == {"true": 1}
    assert ids(corpus, retention_class="social-10y") == {"1", "2", "3", "4", "5", "6"}
    assert ids(corpus, retention_class="permanent") == set()
    assert ids(corpus, public_only=True) == {"1", "2", "3", "4", "6"}  # not the deleted item 5
    assert ids(corpus, item_key="wordpress:sundsvik-blogg:3") == {"3"}
    assert search(corpus, SearchQuery()).facets["retention_class"] == {"social-10y": 6}


def test_latest_only_hides_older_versions(local_archive: Archive) -> None:
    first = rec("9", "Första versionen av inlägget")
    second = first.model_copy(
        update={
            "text": "Andra versionen av inlägget",
            "version": 2,
            "captured_at": first.captured_at + timedelta(hours=1),
        }
    )
    load(local_archive.index, [(first, "KS"), (second, "KS")])
    assert search(local_archive.index, SearchQuery(item="9")).total == 2
    [latest] = search(local_archive.index, SearchQuery(item="9", latest_only=True)).hits
    assert latest.source["version"] == 2


def test_facets_count_beside_the_hits(corpus: RecordIndex) -> None:
    result = search(corpus, SearchQuery())
    assert result.facets["platform"] == {"mastodon": 4, "wordpress": 2}
    assert result.facets["account"] == {"sundsvik-mastodon": 4, "sundsvik-blogg": 2}
    assert result.facets["kind"] == {"post": 4, "comment": 1, "reply": 1}
    assert result.facets["department"] == {
        "Kommunstyrelsen": 2,
        "Barn- och utbildningsnämnden": 2,
        "Kultur- och fritidsnämnden": 2,
    }
    assert result.facets["has_media"] == {"true": 2, "false": 4}
    assert result.facets["edited"] == {"true": 2, "false": 4}
    assert result.facets["deleted"] == {"true": 1, "false": 5}
    narrowed = search(corpus, SearchQuery(platform="mastodon"))
    assert narrowed.facets["kind"] == {"post": 2, "comment": 1, "reply": 1}
    assert narrowed.facets["deleted"] == {"false": 3, "true": 1}


def test_swedish_inflections_and_letters(corpus: RecordIndex) -> None:
    assert ids(corpus, text="snöröjningen") == {"1", "2"}  # finds the bare form "snöröjning" too
    assert ids(corpus, text="snöröjning") == {"1", "2"}
    assert ids(corpus, text="förskola") == {"3"}  # "Förskolan"
    assert ids(corpus, text="FÖRSKOLAN") == {"3"}
    assert ids(corpus, text="badhusets") == {"5", "6"}
    assert ids(corpus, text="road") == {"4"}  # English plural "roads"
    hit = search(corpus, SearchQuery(text="snöröjningen", item="2")).hits[0]
    assert any("[[snöröjning]]" in h for h in hit.highlight)


def test_phrase_minus_and_or_queries(corpus: RecordIndex) -> None:
    assert ids(corpus, text='"öppet hus"') == {"3"}
    assert ids(corpus, text='"hus öppet"') == set()
    assert ids(corpus, text="badhuset -renovering") == {"5"}
    assert ids(corpus, text="snöröjning -tack") == {"1"}
    assert ids(corpus, text="förskolan | badhuset") == {"3", "5", "6"}
    assert ids(corpus, text="+badhuset +stänger") == {"6"}


def test_query_expansion_keeps_operators() -> None:
    assert stem("snöröjningen") == "snöröjning"
    assert expand_query('"öppet hus" -badhuset a | b') == '"öppet hus" -(badhuset | badhuset*) a | b'
    assert expand_query("+snöröjningen") == "+(snöröjningen | snöröjning*)"
    assert expand_query("snö* vägen~1") == "snö* vägen~1"


def test_sort_by_date_and_relevance(corpus: RecordIndex) -> None:
    def order(**kw: Any) -> list[str]:
        return [h.source["item_id"] for h in search(corpus, SearchQuery(size=100, **kw)).hits]

    assert order(sort="newest") == ["6", "5", "4", "3", "2", "1"]
    assert order(sort="oldest") == ["1", "2", "3", "4", "5", "6"]
    assert order() == order(sort="newest")  # no text: newest first, as before
    assert order(text="badhuset", sort="oldest") == ["5", "6"]
    relevance = search(corpus, SearchQuery(text="snöröjning", sort="relevance"))
    scores = [h.score for h in relevance.hits]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_cursor_pages_through_every_hit(corpus: RecordIndex) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = search(corpus, SearchQuery(size=4, sort="oldest"), after=cursor)
        seen += [h.source["item_id"] for h in page.hits]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["1", "2", "3", "4", "5", "6"] and pages == 2
    with pytest.raises(BadCursor):
        search(corpus, SearchQuery(), after="not a cursor")


def test_point_in_time_paging_returns_every_hit_once_past_10000(local_archive: Archive) -> None:
    index = local_archive.index
    index.ensure()
    n = 10_500
    docs = (
        to_document(
            rec(f"bulk-{i}", f"Inlägg nummer {i} om snöröjning", day=i % 60, media=i % 3 == 0),
            warc_key="warc/bulk.warc.gz",
            retention_class="social-10y",
            department="KS",
        )
        for i in range(n)
    )
    result = index.bulk(docs, chunk_size=2000)
    assert result.indexed == n and not result.errors
    assert search(index, SearchQuery(size=1)).total == n

    hits = list(iter_hits(index, SearchQuery(), page_size=2000))
    assert len(hits) == n
    assert len({h.record_id for h in hits}) == n
    published = [h.source["published_at"] for h in hits]
    assert published == sorted(published, reverse=True)

    with_media = list(iter_hits(index, SearchQuery(text="snöröjning", has_media=True), page_size=3000))
    assert len(with_media) == len({h.record_id for h in with_media}) == 3500

    # The page-by-page cursor (what the search page and the API hand out) also goes past 10 000.
    cursor: str | None = None
    paged: list[str] = []
    while True:
        page = search(index, SearchQuery(size=1000, sort="newest"), after=cursor, facets=False)
        paged += [h.record_id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(paged) == len(set(paged)) == n
