"""Retention benchmark: planning a disposition list over a large index, and disposing of 100 000 records.

Loads N record versions (default 1 000 000) from bench/_corpus.py's generator into the index
`bench-retention-N-records` (refresh off during the load, not force-merged). Each item goes to the file its
class decides under the sample schedule (archive/samples/retention.yaml): citizens' comments and replies
(`medborgares-kommentarer`, gallras-2y counted from the end of the year) to `{account}-gallras-2y-{YYYYMM}`
files, the municipality's own posts and answers (`kommunens-inlagg`, bevara) to `{account}-bevara-{YYYYMM}`.
Then, in one run:

  plan       `archive.retention.plan(as_of=--as-of)` (default 2027-06-01: comments of 2023 and 2024 are due),
             streamed (a page of candidates at a time) and saved write-once with its CSV into a local store;
             beside it a plain `helpers.scan` of the same query and fields (the planner's own scan, nothing
             else), before and after
  dispose    approve + `archive.retention.dispose` of the first files of the list holding ≥ --dispose records
             (default 100 000), one per file: hold and request re-checks, file delete, index bulk delete,
             manifest delete, journal, certificate JSON + PDF, PREMIS events; beside it, over the *next* files
             of the list (as many records), a plain `helpers.streaming_bulk` delete of their ids and a plain
             `os.unlink` of their files and sidecars

The stored files: the corpus has no WARC bytes, so every gallras-2y file of the index is stored in a LOCAL
store (Settings(store="local")) under its planned key as a stand-in of --bytes-per-record × records bytes
(not WARC content: disposal only deletes files, it never reads them). The store time is printed but not
part of any figure. Unless --drop, the documents deleted by the run are put back (raw bulk of their saved
`_source`), so --reuse can use the index again.

    .venv/bin/python bench/retention.py [--records 1000000] [--reuse] [--drop] [--as-of 2027-06-01]
                                        [--dispose 100000] [--bytes-per-record 1024] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import helpers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.access import open_users  # noqa: E402
from archive.config import Settings  # noqa: E402
from archive.index import RecordIndex, open_index, queries  # noqa: E402
from archive.index.client import make_client  # noqa: E402
from archive.requests.casebook import CaseBook  # noqa: E402
from archive.retention import book  # noqa: E402
from archive.retention.approve import approve  # noqa: E402
from archive.retention.dispose import dispose  # noqa: E402
from archive.retention.plan import (
    SCAN_FIELDS,  # noqa: E402
    plan,  # noqa: E402
)
from archive.retention.schedule import (  # noqa: E402
    SAMPLE_SCHEDULE,
    Schedule,
    load_schedule,  # noqa: E402
    match_fields,
)
from archive.services.launcher import endpoints  # noqa: E402
from archive.store.local import LocalStore  # noqa: E402
from bench import _corpus, _smoke  # noqa: E402
from bench._measure import measure, print_table  # noqa: E402
from schemas import Record  # noqa: E402

#: Bump when the file assignment changes, so --reuse does not keep an index made by an older one.
LAYOUT = 1


def file_of(schedule: Schedule) -> _corpus.FileOf:
    """The file an item goes to: the class of the first active rule matching it, else its account's."""

    def pick(record: Record, account: _corpus.BenchAccount) -> tuple[str, str]:
        rule = schedule.rule_for_record(record, account.department)
        rclass = rule.retention_class if rule is not None else account.retention_class
        month = record.captured_at.strftime("%Y%m")
        return f"warc/{account.id}/{account.id}-{rclass}-{month}-bench-00001.warc.gz", rclass

    return pick


def prepare(index: RecordIndex, n: int, schedule: Schedule, *, reuse: bool) -> str:
    es = index.es
    want = {"records": n, "generator": _corpus.GENERATOR, "layout": LAYOUT, "schedule": schedule.sha256}
    if reuse and es.indices.exists_alias(name=index.alias):
        meta = next(iter(es.indices.get_mapping(index=index.alias).values()))["mappings"].get("_meta", {})
        got = meta.get("bench_retention", {})
        es.indices.refresh(index=index.alias)
        if got.get("complete") and all(got.get(k) == v for k, v in want.items()) and index.count() == n:
            return f"reused {index.alias}: {n:,} documents, loaded at {got.get('load_rate', 0):,} docs/s"
        print(f"# {index.alias} exists but does not match ({got}); reloading", flush=True)
    index.destroy()
    index.ensure()
    index.set_refresh("-1")
    print(f"# loading {n:,} documents into {index.alias} (RecordIndex.bulk, refresh off)", flush=True)
    report = _corpus.load(index, n, file_of=file_of(schedule))
    index.set_refresh("1s")
    es.indices.refresh(index=index.alias)
    count = index.count()
    if count != n or report.errors:
        sys.exit(f"bench: loaded {count:,} of {n:,} documents ({report.errors} errors)")
    rate = round(report.documents / report.seconds)
    es.indices.put_mapping(index=index.alias, meta={"bench_retention": {**want, "complete": True, "load_rate": rate}})
    return f"loaded {report.documents:,} documents in {report.seconds:.1f} s = {rate:,} docs/s (not force-merged)"


def disposable_files(index: RecordIndex, schedule: Schedule) -> dict[str, int]:
    """Every file of a disposing class in the index, with its record count."""
    classes = sorted({r.retention_class for r in schedule.rules if schedule.disposes(r)})
    out: dict[str, int] = {}
    after: dict[str, Any] | None = None
    while True:
        comp: dict[str, Any] = {"size": 1000, "sources": [{"k": {"terms": {"field": "warc_key"}}}]}
        if after:
            comp["after"] = after
        resp = index.es.search(
            index=index.alias, size=0, query={"terms": {"retention_class": classes}}, aggs={"f": {"composite": comp}}
        )
        agg = resp["aggregations"]["f"]
        out.update({b["key"]["k"]: int(b["doc_count"]) for b in agg["buckets"]})
        after = agg.get("after_key")
        if not agg["buckets"] or after is None:
            return out


def store_stand_ins(store: LocalStore, files: dict[str, int], per_record: int) -> int:
    total = 0
    for key, count in files.items():
        size = max(1, count * per_record)
        data = (key.encode() * (size // len(key) + 1))[:size]
        store.put_bytes(key, data, content_type="application/warc")
        total += size
    return total


def candidates_query(schedule: Schedule, as_of: datetime) -> dict[str, Any] | None:
    """The query `plan` scans with (archive/index/queries.py `disposal_candidates`), for the raw baseline;
    None where no rule disposes."""
    shortest = schedule.shortest_period()
    if shortest is None:
        return None
    rules = [queries.matching(match_fields(r.match)) for r in schedule.rules if schedule.disposes(r)]
    limit = (as_of - shortest).isoformat()
    return {
        "bool": {
            "filter": [
                {"bool": {"should": rules, "minimum_should_match": 1}},
                {
                    "bool": {
                        "should": [
                            {"range": {"captured_at": {"lte": limit}}},
                            {"range": {"published_at": {"lte": limit}}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
                {"exists": {"field": "warc_key"}},
            ]
        }
    }


def raw_scan(index: RecordIndex, query: dict[str, Any]) -> int:
    return sum(
        1 for _ in helpers.scan(index.es, index=index.alias, size=1000, query={"query": query, "_source": SCAN_FIELDS})
    )


def sources(index: RecordIndex, ids: list[str]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(ids), 10_000):
        yield from helpers.scan(
            index.es, index=index.alias, size=1000, query={"query": {"ids": {"values": ids[start : start + 10_000]}}}
        )


def raw_delete(index: RecordIndex, ids: list[str]) -> int:
    actions = ({"_op_type": "delete", "_index": index.alias, "_id": i} for i in ids)
    done = sum(
        1
        for ok, _ in helpers.streaming_bulk(index.es, actions, raise_on_error=False, chunk_size=1000, max_retries=5)
        if ok
    )
    index.es.indices.refresh(index=index.alias)
    return done


def raw_unlink(root: Path, keys: list[str]) -> int:
    for key in keys:
        path = root / key
        path.unlink()
        Path(str(path) + ".meta.json").unlink()
    return len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench index with the right count")
    parser.add_argument("--drop", action="store_true", help="delete the bench index and streams at the end")
    parser.add_argument("--as-of", default="2027-06-01", help="the disposition list's date (default 2027-06-01)")
    parser.add_argument("--dispose", type=int, default=100_000, help="records to dispose of (whole files)")
    parser.add_argument("--bytes-per-record", type=int, default=1024, help="size of the stand-in files")
    args = _smoke.parse(parser, records=1000, dispose=100, drop=True)
    if not endpoints():
        sys.exit("bench: start the services first: scripts/services up")
    prefix = _smoke.run_prefix("retention") if args.smoke else f"bench-retention-{args.records}"
    tmp = Path(tempfile.mkdtemp(prefix="communis-rbench-"))
    settings = Settings(
        data_dir=tmp / "data",
        store="local",
        store_path=tmp / "store",
        es_index_prefix=prefix,
        events_prefix=_smoke.EVENTS_PREFIX,
        retention_file=SAMPLE_SCHEDULE,
    )
    schedule = load_schedule(settings)
    index = open_index(settings)
    store = LocalStore(settings.store_path)
    as_of = datetime.fromisoformat(args.as_of).replace(tzinfo=UTC)
    users = open_users(settings)
    users.add("anna", "records-manager")
    users.add("bo", "records-manager")
    restore: list[dict[str, Any]] = []
    try:
        print(f"# {prepare(index, args.records, schedule, reuse=args.reuse)}", flush=True)
        files = disposable_files(index, schedule)
        t = time.perf_counter()
        size = store_stand_ins(store, files, args.bytes_per_record)
        print(
            f"# stored {len(files):,} stand-in files of the disposing class ({sum(files.values()):,} records, "
            f"{size / 1e6:.0f} MB) in a local store in {time.perf_counter() - t:.1f} s (not timed below)",
            flush=True,
        )

        query = candidates_query(schedule, as_of)
        assert query is not None
        scanned = index.count(query)
        raw1, hits = measure("raw: helpers.scan, same query and fields", scanned, 0, lambda: raw_scan(index, query))
        st_plan, dlist = measure(
            f"Communis plan (as of {as_of:%Y-%m-%d}), saved + CSV",
            scanned,
            0,
            lambda: plan(settings, store, index, schedule, as_of=as_of, planned_by="os:bench", now=as_of),
        )
        raw2, _ = measure("raw: helpers.scan again (after)", scanned, 0, lambda: raw_scan(index, query))
        ex = dlist.excluded  # plan returns the list's summary; the disposal below takes records from the whole list
        print(
            f"\n## planning over {index.count():,} documents: {scanned:,} candidates scanned ({hits:,} hits); "
            f"list {dlist.id}: {len(dlist.groups):,} files, {dlist.record_count:,} records due; kept "
            f"{len(dlist.kept_files)} files; not due {ex.not_due:,}, kept by rule {ex.kept_by_rule:,}, "
            f"file kept {ex.file_kept:,}, no rule {ex.no_rule:,}, draft {ex.draft_rule:,}\n"
        )
        print_table([raw1, st_plan, raw2], "records", reference=raw1)

        whole = book.load_list(store, dlist.id)
        chosen, rest, n_a, n_b = [], [], 0, 0
        for g in whole.groups:
            if n_a < args.dispose:
                chosen.append(g)
                n_a += len(g.records)
            elif n_b < n_a:
                rest.append(g)
                n_b += len(g.records)
        if n_b < n_a:
            print(f"# note: only {n_b:,} further due records for the raw side (disposal has {n_a:,})")
        sub = whole.model_copy(update={"id": f"{dlist.id}-d{n_a}", "groups": chosen, "kept_files": []})
        book.save_list(store, sub)
        ids_a = [r.record_id for g in chosen for r in g.records]
        ids_b = [r.record_id for g in rest for r in g.records]
        if not args.drop:
            restore = list(sources(index, ids_a + ids_b))
        approve(settings, store, sub.id, by="anna", now=as_of)
        now = max(as_of, datetime.now(UTC)) + timedelta(seconds=1)
        st_disp, result = measure(
            f"Communis dispose ({len(chosen)} files), certificate",
            n_a,
            0,
            lambda: dispose(settings, store, index, sub.id, by="bo", now=now),
        )
        st_del, deleted = measure(
            f"raw: streaming_bulk delete ({len(rest)} other files' ids)", n_b, 0, lambda: raw_delete(index, ids_b)
        )
        st_rm, _ = measure(
            f"raw: os.unlink of those {len(rest)} files + sidecars",
            n_b,
            0,
            lambda: raw_unlink(settings.store_path, [g.key for g in rest]),
        )
        gone = sum(index.count({"ids": {"values": ids_a[i : i + 10_000]}}) for i in range(0, len(ids_a), 10_000))
        left = sum(1 for g in chosen if (settings.store_path / g.key).exists())
        print(
            f"\n## disposing of {n_a:,} records in {len(chosen)} files: {len(result.disposed)} disposed, "
            f"{len(result.skipped)} skipped; certificate {result.certificate.id} ({result.certificate.record_count:,}"
            f" records); left afterwards: {gone} documents, {left} files; raw delete removed {deleted:,} of "
            f"{n_b:,}\n"
        )
        print_table([st_disp, st_del, st_rm], "records", reference=st_del)
    finally:
        if restore:
            t = time.perf_counter()
            ok, _ = helpers.bulk(
                index.es,
                ({"_index": index.alias, "_id": h["_id"], "_source": h["_source"]} for h in restore),
                chunk_size=1000,
                stats_only=True,
            )
            index.es.indices.refresh(index=index.alias)
            print(f"# put back {ok:,} deleted documents for --reuse in {time.perf_counter() - t:.1f} s")
        es = make_client(settings)
        CaseBook(es, prefix).destroy()  # its PREMIS events stay in the shared bench stream (bench/_smoke.py)
        users.store.destroy()  # this run's records managers (the access store beside its index)
        if args.drop:
            index.destroy()
            print(f"# dropped {index.alias}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.sync()


if __name__ == "__main__":
    main()
