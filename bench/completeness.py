"""Completeness benchmark: the report for one account of N items over M months, beside plain aggregations.

Builds one Mastodon account directly with bulk (no harvest): N items (default 1 000 000) over --months
months (default 120), one own post to every --per-post items and the rest citizens' comments under it
(a third of them replies to a comment), with a published `replies_count` reading per post and the posts
total written through `PublishedCounts.record`, as the harvest writes them. --missing posts (spread over
the months) lack one of the comments their count promises. Then, in one run:

  Communis report   `account_report` (every count streamed from the counts index a thousand at a time,
                    one holdings request per thousand, months tallied as they pass) and `keep` (the
                    write-once JSON in the store and the rows)
  raw aggregation   a composite aggregation of the account's live comments by `parent_id` (every page:
                    the archive's side of the same counts) and a date histogram of its posts per month
  raw + join        the same aggregation and a plain scan of the counts index, joined in a dict

Memory is the peak RSS each stage adds. The planted gaps must all be found (printed).

    .venv/bin/python -m bench.completeness [--items 1000000] [--months 120] [--per-post 10] [--missing 12]
                                           [--smoke]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import helpers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.completeness.book import keep  # noqa: E402
from archive.completeness.report import account_report  # noqa: E402
from archive.config import Settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.index.counts import PublishedCounts  # noqa: E402
from bench import _smoke  # noqa: E402
from bench._measure import measure, print_table  # noqa: E402
from schemas import CountOf, CountReading, Covers, Platform, Status, Tolerance, WarcLocation  # noqa: E402

ACCOUNT = "bench-mastodon"
START = datetime(2016, 1, 1, tzinfo=UTC)
WARC = WarcLocation(
    filename=f"{ACCOUNT}-social-10y-201601-bench-00001.warc.gz",
    offset=0,
    length=1,
    sha256="0" * 64,
    record_id="<urn:uuid:0>",
)


def _month_start(n: int) -> datetime:
    return START.replace(year=START.year + n // 12, month=n % 12 + 1)


def _doc(item_id: str, *, kind: str, parent: str | None, thread: str, own: bool, at: datetime) -> dict[str, Any]:
    """An index document as the pipeline writes one (the fields the completeness queries read, and the rest of
    the strict mapping's required shape left at its defaults)."""
    return {
        "record_id": f"r-{item_id}",
        "item_key": f"mastodon:{ACCOUNT}:{item_id}",
        "platform": "mastodon",
        "account": ACCOUNT,
        "item_id": item_id,
        "kind": kind,
        "parent_id": parent,
        "thread_id": thread,
        "direction": "upprattad" if own else "inkommen",
        "text": f"item {item_id}",
        "published_at": at.isoformat(),
        "captured_at": at.isoformat(),
        "version": 1,
        "deleted": False,
        "hidden_on_platform": False,
        "is_latest": True,
        "warc_key": f"warc/{ACCOUNT}/{WARC.filename}",
        "retention_class": "social-10y",
    }


def corpus(items: int, months: int, per_post: int, missing: set[int]) -> Iterator[dict[str, Any]]:
    """The account's documents; post p's first comment is left out when p is in `missing`."""
    posts = items // per_post
    for p in range(posts):
        month = p * months // posts
        at = _month_start(month) + timedelta(minutes=p % 40000)
        post = f"p{p:08d}"
        yield _doc(post, kind="post", parent=None, thread=post, own=True, at=at)
        for c in range(per_post - 1):
            if c == 0 and p in missing:  # the first comment answers the post: its count promises it
                continue
            parent = f"c{p:08d}-{c - 1:03d}" if c % 3 == 2 else post  # every third a reply to the comment before
            yield _doc(
                f"c{p:08d}-{c:03d}",
                kind="reply" if parent != post else "comment",
                parent=parent,
                thread=post,
                own=False,
                at=at,
            )


def direct_replies(per_post: int) -> int:
    """How many of a post's per_post - 1 comments answer the post itself (its `replies_count`)."""
    return sum(1 for c in range(per_post - 1) if c % 3 != 2)


def readings(items: int, months: int, per_post: int) -> Iterator[CountReading]:
    posts = items // per_post
    value = direct_replies(per_post)
    for p in range(posts):
        at = _month_start(p * months // posts) + timedelta(minutes=p % 40000)
        yield CountReading(
            what=CountOf.COMMENTS,
            value=value,
            item_id=f"p{p:08d}",
            item_published_at=at,
            covers=Covers.CHILDREN,
            platform=Platform.MASTODON,
            account=ACCOUNT,
            captured_at=at,
            warc=WARC,
        )
    yield CountReading(
        what=CountOf.POSTS,
        value=posts,
        platform=Platform.MASTODON,
        account=ACCOUNT,
        captured_at=START,
        warc=WARC,
    )


def raw_aggregation(es: Any, alias: str) -> tuple[dict[str, int], dict[str, int]]:
    """parent id → live comments, month → posts: the plain Elasticsearch answer to the archive's side."""
    live = [{"term": {"account": ACCOUNT}}, {"term": {"is_latest": True}}, {"term": {"deleted": False}}]
    per_parent: dict[str, int] = {}
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {"size": 10000, "sources": [{"parent": {"terms": {"field": "parent_id"}}}]}
        if after:
            composite["after"] = after
        resp = es.search(
            index=alias,
            size=0,
            query={"bool": {"filter": [*live, {"exists": {"field": "parent_id"}}]}},
            aggs={"by": {"composite": composite}},
        )
        buckets = resp["aggregations"]["by"]["buckets"]
        per_parent.update((b["key"]["parent"], b["doc_count"]) for b in buckets)
        after = resp["aggregations"]["by"].get("after_key")
        if not buckets or after is None:
            break
    months = es.search(
        index=alias,
        size=0,
        query={"bool": {"filter": [*live, {"term": {"kind": "post"}}]}},
        aggs={"m": {"date_histogram": {"field": "published_at", "calendar_interval": "month", "format": "yyyy-MM"}}},
    )["aggregations"]["m"]["buckets"]
    return per_parent, {b["key_as_string"]: b["doc_count"] for b in months}


def raw_join(es: Any, alias: str, counts_index: str) -> int:
    """The raw aggregation and a plain scan of the counts, joined: how many posts disagree."""
    per_parent, _ = raw_aggregation(es, alias)
    query = {"query": {"bool": {"filter": [{"term": {"account": ACCOUNT}}, {"term": {"scope": "item"}}]}}}
    return sum(
        1
        for hit in helpers.scan(es, index=counts_index, query=query, _source=["item_id", "value"], size=5000)
        if per_parent.get(hit["_source"]["item_id"], 0) != hit["_source"]["value"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--per-post", type=int, default=10, help="items per post: the post and its comments")
    parser.add_argument("--missing", type=int, default=12, help="posts each one comment short")
    args = _smoke.parse(parser, items=2_000, months=12, missing=3)
    posts = args.items // args.per_post
    missing = {(k * posts) // args.missing + 7 for k in range(args.missing)} if args.missing else set()
    tmp = Path(tempfile.mkdtemp(prefix="communis-cbench-"))
    settings = Settings(
        data_dir=tmp / "data",
        store="local",
        store_path=tmp / "store",
        es_index_prefix=_smoke.run_prefix("completeness"),
        events_prefix=_smoke.EVENTS_PREFIX,
    )
    arc = Archive(settings)
    index = arc.index
    try:
        index.ensure()
        index.set_refresh("-1")
        print(f"# loading {args.items:,} items ({posts:,} posts over {args.months} months) and {posts:,} counts")
        for ok, info in helpers.streaming_bulk(
            index.es,
            (
                {"_index": index.alias, "_id": d["record_id"], "_source": d}
                for d in corpus(args.items, args.months, args.per_post, missing)
            ),
            chunk_size=5000,
            raise_on_error=False,
        ):
            if not ok:
                raise SystemExit(f"load failed: {info}")
        index.set_refresh("1s")
        index.refresh()
        counts = PublishedCounts.beside(index)
        counts.record(readings(args.items, args.months, args.per_post))
        counts.refresh()
        index.es.indices.forcemerge(index=index.alias, max_num_segments=1)

        tolerance = Tolerance(source="bench: exact")
        stages = []
        st, report = measure(
            "Communis account_report",
            posts,
            0,
            lambda: account_report(index, ACCOUNT, Platform.MASTODON, tolerance, made_by="bench"),
        )
        stages.append(st)
        st, kept = measure("Communis keep (store JSON + rows)", posts, 0, lambda: keep(arc.store, index, report))
        stages.append(st)
        st, _ = measure(
            "raw: composite agg by parent + month histogram", posts, 0, lambda: raw_aggregation(index.es, index.alias)
        )
        stages.append(st)
        st, disagree = measure(
            "raw: the same + scan of the counts, joined", posts, 0, lambda: raw_join(index.es, index.alias, counts.name)
        )
        stages.append(st)
        print()
        print_table(stages, "posts", reference=stages[2])
        found = sorted(report.backfill)
        planted = sorted(f"p{p:08d}" for p in missing)
        gaps = [m for m in report.months if m.status is Status.GAP]
        print()
        print(f"months: {len(report.months)}, gap months: {len(gaps)}, status: {report.status.value}")
        print(
            f"planted gaps found: {len(set(found) & set(planted))} of {len(planted)}; raw join disagrees on {disagree}"
        )
        print(f"report kept as {kept.key} ({len(kept.model_dump_json()):,} bytes)")
        if found != planted or disagree != len(planted):
            extra = [i for m in gaps for i in m.items if i.item_id not in planted][:5]
            for item in extra:
                print(f"  not planted: {item.item_id} {item.month} published {item.published} archived {item.archived}")
            raise SystemExit("the report did not find exactly the planted gaps")
    finally:
        index.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
