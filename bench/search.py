"""Search benchmark: the archivists' search API beside Elasticsearch itself, on a large simulated archive.

Loads N record versions (default 1 000 000) made with the simulator's text generators (bench/_corpus.py:
municipal posts, citizens' comments and replies, media, edits, deletions, hidden comments; 16 accounts on
11 platforms in 7 departments over three years) into a record index with `RecordIndex.bulk` (refresh off
during the load, then refresh and, unless --no-merge, force-merge to one segment). Then runs a fixed,
seeded mix of archivists' queries, each round every query type once on every side, in one run:

  API        `GET /api/records` of `communis serve` over HTTP (httpx keep-alive client): HTTP, auth with a
             Bearer token, the audit event every search writes, JSON out
  search()   `archive.index.search()` called in this process: the project's query builders, the ES client,
             turning hits into SearchHits (what the API calls underneath)
  raw ES     `es.search` with the same body built once in advance (query, sort, aggs, highlight, source
             filter, track_total_hits): the floor
  ES took    the `took` Elasticsearch reports for the raw request (time inside the node)

and prints p50/p95/p99 in ms per query type and overall, with API / raw ES. A deep page is one walk of
five pages along next_cursor (five requests, one sample). Needs the local services (`scripts/services up`).

    .venv/bin/python bench/search.py [--records 1000000] [--reuse] [--drop] [--rounds 20] [--no-api] [--smoke]

--reuse keeps the index `bench-search-N` between runs if it holds N documents from this generator;
--drop deletes it at the end (the audit events of its searches stay in the shared bench stream, bench/_smoke.py).
--smoke: 500 documents in an index of the run's own, one round, dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.config import Settings  # noqa: E402
from archive.index import RecordIndex, SearchQuery, open_index, search  # noqa: E402
from archive.index.mappings import record_mappings  # noqa: E402
from archive.index.search import EXCLUDED_SOURCE, _highlight, build_aggs, build_query, build_sort  # noqa: E402
from archive.services.launcher import endpoints  # noqa: E402
from bench import _corpus, _smoke  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
COMMUNIS = REPO / ".venv" / "bin" / "communis"
SIZE = 20
DEEP_PAGES = 5

# --- the query mix -----------------------------------------------------------------------------------------

#: (name, variants as API query parameters). Each round picks one variant per type with a seeded RNG; every side
#: runs that same variant. Words are ones the simulator's generators write (textgen.TOPICS, CITIZEN_*).
QUERY_TYPES: list[tuple[str, list[dict[str, str]]]] = [
    (
        "single Swedish word",
        [
            {"q": "biblioteket"},
            {"q": "badplatsen"},
            {"q": "parkering"},
            {"q": "sommarvikarier"},
            {"q": "kontaktcenter"},
        ],
    ),
    (
        "word with å/ä/ö",
        [
            {"q": "snöröjningen"},
            {"q": "öppettider"},
            {"q": "återvinningscentralen"},
            {"q": "äldreomsorgen"},
            {"q": "översiktsplanen"},
        ],
    ),
    (
        'phrase "…"',
        [
            {"q": '"utökade öppettider"'},
            {"q": '"hela kommunen"'},
            {"q": '"är fortfarande trasigt"'},
            {"q": '"räkna med förseningar"'},
        ],
    ),
    (
        "boolean a | b -c",
        [
            {"q": "badplatsen | vägarbete -storgatan"},
            {"q": "snöröjningen | snöplogen -björkvägen"},
            {"q": "biblioteket | library -lovet"},
        ],
    ),
    (
        "text + platform",
        [
            {"q": "sommarvikarier", "platform": "facebook"},
            {"q": "öppettider", "platform": "instagram"},
            {"q": "personnummer", "platform": "x"},
        ],
    ),
    (
        "text + published range",
        [
            {"q": "vägarbete", "published_from": "2024-03-01", "published_to": "2024-06-30"},
            {"q": "kommunfullmäktiges", "published_from": "2023-09-01", "published_to": "2023-12-31"},
            {"q": "badplatsen", "published_from": "2025-06-01", "published_to": "2025-08-31"},
        ],
    ),
    (
        "account + kind=comment, newest",
        [
            {"account": "kommunen-fb", "kind": "comment", "sort": "newest"},
            {"account": "biblioteket-ig", "kind": "comment", "sort": "newest"},
            {"account": "raddningstjansten-fb", "kind": "comment", "sort": "newest"},
        ],
    ),
    (
        "has_media + edited",
        [{"has_media": "true", "edited": "true"}, {"has_media": "true", "edited": "true", "sort": "oldest"}],
    ),
    ("deleted=true", [{"deleted": "true"}, {"deleted": "true", "sort": "oldest"}]),
    (
        f"deep page ({DEEP_PAGES} pages, cursor)",
        [{"q": "kommunen", "sort": "newest"}, {"q": "öppettider"}, {"department": "Kultur", "sort": "newest"}],
    ),
]
DEEP = QUERY_TYPES[-1][0]


def api_params(variant: dict[str, str]) -> dict[str, str]:
    params = dict(variant)
    params.setdefault("sort", "relevance" if params.get("q") else "newest")
    params["size"] = str(SIZE)
    return params


def to_query(variant: dict[str, str]) -> SearchQuery:
    p = api_params(variant)

    def day(name: str) -> date | None:
        return date.fromisoformat(p[name]) if name in p else None

    def flag(name: str) -> bool | None:
        return p[name] == "true" if name in p else None

    return SearchQuery(
        text=p.get("q", ""),
        platform=p.get("platform"),
        account=p.get("account"),
        department=p.get("department"),
        kind=p.get("kind"),
        date_from=day("published_from"),
        date_to=day("published_to"),
        captured_from=day("captured_from"),
        captured_to=day("captured_to"),
        has_media=flag("has_media"),
        edited=flag("edited"),
        deleted=flag("deleted"),
        sort=p["sort"],  # type: ignore[arg-type]
        size=int(p["size"]),
    )


def raw_body(index: RecordIndex, q: SearchQuery) -> dict[str, Any]:
    """What `search()` sends, built once: the same builders, highlight and source filter."""
    return {
        "index": index.alias,
        "query": build_query(q, languages=index.has_language_fields),
        "size": q.size,
        "sort": build_sort(q),
        "track_total_hits": True,
        "highlight": _highlight(),
        "source_excludes": EXCLUDED_SOURCE,
        "aggs": build_aggs(),
    }


# --- the three sides ---------------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    run: Callable[[int, int], Any]  # (type index, variant index) -> pages
    samples: dict[str, list[float]] = field(default_factory=dict)


def api_side(client: httpx.Client) -> Callable[[int, int], Any]:
    def run(t: int, v: int) -> list[dict[str, Any]]:
        params = api_params(QUERY_TYPES[t][1][v])
        pages = []
        for _ in range(DEEP_PAGES if QUERY_TYPES[t][0] == DEEP else 1):
            resp = client.get("/api/records", params=params)
            if resp.status_code != 200:
                raise RuntimeError(f"API {resp.status_code} for {params}: {resp.text[:300]}")
            page = resp.json()
            pages.append(page)
            if not page.get("next_cursor"):
                break
            params = {**params, "cursor": page["next_cursor"]}
        return pages

    return run


def search_side(index: RecordIndex) -> Callable[[int, int], Any]:
    def run(t: int, v: int) -> list[Any]:
        q = to_query(QUERY_TYPES[t][1][v])
        pages, after = [], None
        for _ in range(DEEP_PAGES if QUERY_TYPES[t][0] == DEEP else 1):
            result = search(index, q, after=after)
            pages.append(result)
            if not result.next_cursor:
                break
            after = result.next_cursor
        return pages

    return run


def raw_side(index: RecordIndex, took: dict[str, Any]) -> Callable[[int, int], Any]:
    bodies = {
        (t, v): raw_body(index, to_query(variant))
        for t, (_, variants) in enumerate(QUERY_TYPES)
        for v, variant in enumerate(variants)
    }
    es = index.es

    def run(t: int, v: int) -> list[Any]:
        body = bodies[(t, v)]
        pages, spent = [], 0
        for _ in range(DEEP_PAGES if QUERY_TYPES[t][0] == DEEP else 1):
            resp = es.search(**body)
            spent += resp["took"]
            pages.append(resp)
            hits = resp["hits"]["hits"]
            if len(hits) < SIZE:
                break
            body = {**body, "search_after": hits[-1]["sort"]}
        took["last"] = spent
        return pages

    return run


# --- checks ------------------------------------------------------------------------------------------------


def compare(api_pages: list[dict[str, Any]], direct: list[Any]) -> list[str]:
    """Differences between the API's answer and search()'s for the same query (first pages and the walk)."""
    out = []
    if len(api_pages) != len(direct):
        out.append(f"{len(api_pages)} pages from the API, {len(direct)} from search()")
    for n, (a, d) in enumerate(zip(api_pages, direct, strict=False), 1):
        where = f"page {n}: "
        if a.get("total") != d.total:
            out.append(where + f"total {a.get('total')} vs {d.total}")
        ids_a = [h.get("record_id") for h in a.get("hits", [])]
        ids_d = [h.record_id for h in d.hits]
        if ids_a != ids_d:
            same = len(set(ids_a) & set(ids_d))
            out.append(where + f"hit ids differ ({len(ids_a)} vs {len(ids_d)} hits, {same} in common)")
        if n == 1 and a.get("facets") != d.facets:
            out.append(where + f"facets differ: API {a.get('facets')} vs {d.facets}"[:400])
        if bool(a.get("next_cursor")) != bool(d.next_cursor):
            out.append(
                where + f"next_cursor {'set' if a.get('next_cursor') else 'null'} vs "
                f"{'set' if d.next_cursor else 'null'}"
            )
        hits = a.get("hits", [])
        if hits:
            h0 = hits[0]
            missing = {"record_id", "score", "highlight", "record"} - h0.keys()
            if missing:
                out.append(where + f"hit lacks {sorted(missing)}")
            rec = h0.get("record") or {}
            leaked = {"raw", "html"} & rec.keys()
            if leaked:
                out.append(where + f"record carries {sorted(leaked)} (search() excludes them)")
            if d.hits and h0.get("highlight") != d.hits[0].highlight and ids_a[:1] == ids_d[:1]:
                out.append(where + "highlight of the first hit differs")
    return out


# --- statistics and table ----------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Percentile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def print_latency_table(sides: list[Side], took: dict[str, Any], names: list[str]) -> None:
    groups = "".join(f" | {s.name:^23}" for s in sides)
    head1 = (
        f"{'':<34}{groups} | {'ES took':>7} | {'API/raw':>7}"
        if sides[0].name == "API"
        else f"{'':<34}{groups} | {'ES took':>7}"
    )
    cols = "".join(f" | {'p50':>7}{'p95':>8}{'p99':>8}" for _ in sides)
    head2 = f"{'query (ms)':<34}{cols} | {'p50':>7}" + (f" | {'p50':>7}" if sides[0].name == "API" else "")
    print(head1)
    print(head2)
    print("-" * len(head2))
    rows = [*names, "overall"]
    for name in rows:
        line = f"{name:<34}"
        p50s = []
        for s in sides:
            vals = [x for n in names for x in s.samples.get(n, [])] if name == "overall" else s.samples.get(name, [])
            p50s.append(pct(vals, 50))
            line += f" | {pct(vals, 50):>7.1f}{pct(vals, 95):>8.1f}{pct(vals, 99):>8.1f}"
        tk = [x for n in names for x in took.get(n, [])] if name == "overall" else took.get(name, [])
        line += f" | {pct(tk, 50):>7.1f}"
        if sides[0].name == "API":
            line += f" | {p50s[0] / p50s[-1]:>7.2f}"
        if name == "overall":
            print("-" * len(head2))
        print(line)


# --- the index ---------------------------------------------------------------------------------------------


def node_stats(es: Any) -> dict[str, Any]:
    stats = es.nodes.stats(metric="jvm,fs")
    node = next(iter(stats["nodes"].values()))
    return {
        "heap_max": node["jvm"]["mem"]["heap_max_in_bytes"],
        "heap_used": node["jvm"]["mem"]["heap_used_in_bytes"],
        "heap_pct": node["jvm"]["mem"]["heap_used_percent"],
        "disk_free": node["fs"]["total"]["available_in_bytes"],
        "gc_old": node["jvm"]["gc"]["collectors"]["old"]["collection_count"],
        "gc_young_ms": node["jvm"]["gc"]["collectors"]["young"]["collection_time_in_millis"],
    }


def index_meta(index: RecordIndex) -> dict[str, Any]:
    resp = index.es.options(ignore_status=404).indices.get_mapping(index=index.alias)
    for body in dict(resp).values():
        if isinstance(body, dict) and "mappings" in body:
            return dict(body["mappings"].get("_meta", {}).get("bench_search", {}))
    return {}


def index_size(index: RecordIndex) -> tuple[int, int]:
    stats = index.es.indices.stats(index=index.alias, metric="store,segments")["_all"]["primaries"]
    return stats["store"]["size_in_bytes"], stats["segments"]["count"]


def mapping_sha(index: RecordIndex) -> str:
    """The current code's mapping for this cluster, hashed: a reused index must have been made with it."""
    wanted = record_mappings(languages=index._cluster_has_language_analyzers())
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]


def prepare(index: RecordIndex, n: int, *, reuse: bool, merge: bool) -> str:
    """The index with n documents: reused if asked and valid, else (re)loaded. Returns how it was made."""
    es = index.es
    if reuse and es.indices.exists_alias(name=index.alias):
        meta = index_meta(index)
        count = index.count()
        if (
            meta.get("complete")
            and meta.get("generator") == _corpus.GENERATOR
            and meta.get("records") == n
            and meta.get("mapping") == mapping_sha(index)
            and count == n
            and (meta.get("merged") or not merge)
        ):
            size, segs = index_size(index)
            return (
                f"reused {index.alias}: {count:,} documents, {size / 1e9:.2f} GB, {segs} segment(s), "
                f"loaded at {meta.get('load_rate', 0):,.0f} docs/s in {meta.get('load_seconds', 0):.0f} s"
                + (", force-merged" if meta.get("merged") else "")
            )
        if (
            meta.get("loading")
            and meta.get("generator") == _corpus.GENERATOR
            and meta.get("records") == n
            and meta.get("mapping") == mapping_sha(index)
        ):
            es.indices.refresh(index=index.alias)
            skip = index.count()
            print(f"# resuming an interrupted load of {index.alias} at {skip:,} documents", flush=True)
            return load_into(index, n, merge=merge, skip=skip)
        print(f"# {index.alias} exists but does not match (count {count:,}, meta {meta}); reloading")
    index.destroy()
    stats = node_stats(es)
    need = n * 1.5e3 * 3  # ~1.5 KB of JSON per document, x3 for the index and merges
    print(
        f"# ES heap {stats['heap_max'] / 2**30:.1f} GiB, disk free {stats['disk_free'] / 1e9:.0f} GB "
        f"(≈{need / 1e9:.1f} GB needed at most)"
    )
    if stats["disk_free"] < need:
        sys.exit(f"bench: not enough disk for {n:,} documents")
    index.ensure()
    es.indices.put_mapping(
        index=index.alias,
        meta={
            "bench_search": {
                "records": n,
                "generator": _corpus.GENERATOR,
                "mapping": mapping_sha(index),
                "loading": True,
            }
        },
    )
    return load_into(index, n, merge=merge)


def load_into(index: RecordIndex, n: int, *, merge: bool, skip: int = 0) -> str:
    es = index.es
    index.set_refresh("-1")
    print(f"# loading {n:,} documents into {index.alias} (RecordIndex.bulk, refresh off)", flush=True)
    report = _corpus.load(index, n, skip=skip)
    t = time.perf_counter()
    index.set_refresh("1s")
    es.indices.refresh(index=index.alias)
    refresh_s = time.perf_counter() - t
    merge_s = 0.0
    if merge:
        t = time.perf_counter()
        es.options(request_timeout=7200).indices.forcemerge(index=index.alias, max_num_segments=1)
        merge_s = time.perf_counter() - t
    count = index.count()
    if count != n or report.errors:
        sys.exit(f"bench: loaded {count:,} of {n:,} documents ({report.errors} errors)")
    rate = report.documents / report.seconds
    resumed = f" (resumed: {report.skipped:,} were already indexed)" if report.skipped else ""
    es.indices.put_mapping(
        index=index.alias,
        meta={
            "bench_search": {
                "records": n,
                "generator": _corpus.GENERATOR,
                "mapping": mapping_sha(index),
                "seed": _corpus.SEED,
                "complete": True,
                "merged": merge,
                "load_seconds": round(report.seconds, 1),
                "load_rate": round(rate),
            }
        },
    )
    size, segs = index_size(index)
    return (
        f"loaded {report.documents:,} documents{resumed} in {report.seconds:.1f} s = {rate:,.0f} docs/s "
        f"(generation in a producer thread took {report.generate_seconds:.1f} s of it, overlapped with "
        f"indexing); refresh {refresh_s:.1f} s"
        + (f"; force-merge to 1 segment {merge_s:.1f} s" if merge else "; not force-merged")
        + f"; {size / 1e9:.2f} GB, {segs} segment(s)"
    )


def corpus_shape(index: RecordIndex) -> str:
    resp = index.es.search(
        index=index.alias,
        size=0,
        track_total_hits=True,
        aggs={
            **build_aggs(),
            "years": {"date_histogram": {"field": "published_at", "calendar_interval": "year", "format": "yyyy"}},
            "latest": {"terms": {"field": "is_latest", "size": 2}},
        },
    )
    a = resp["aggregations"]

    def b(name: str) -> str:
        return ", ".join(f"{x.get('key_as_string', x['key'])} {x['doc_count']:,}" for x in a[name]["buckets"])

    return (
        f"kinds: {b('kind')}\nplatforms: {b('platform')}\ndepartments: {b('department')}\n"
        f"has_media: {b('has_media')}; edited: {b('edited')}; deleted: {b('deleted')}; is_latest: {b('latest')}\n"
        f"published per year: {b('years')}"
    )


# --- the API server ----------------------------------------------------------------------------------------


def api_available() -> bool:
    try:
        proc = subprocess.run([str(COMMUNIS), "serve", "--help"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    proc = subprocess.Popen(
        [str(COMMUNIS), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"communis serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"communis serve did not answer /healthz in 90 s: {log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- where the API's time goes ----------------------------------------------------------------------------


def overhead_parts(
    client: httpx.Client, settings: Settings, token: str, index: RecordIndex, samples: int
) -> list[tuple[str, list[float]]]:
    """The per-request pieces the API adds to search(), each timed alone in this process, interleaved."""
    from archive.access import open_audit, open_users
    from archive.web.api import Hit, SearchPage
    from schemas import AuditAction, Role

    users, audit = open_users(settings), open_audit(settings)
    params = api_params({"q": "biblioteket"})
    result = search(index, to_query(params))
    target = "&".join(f"{k}={v}" for k, v in params.items())

    def respond() -> bytes:
        page = SearchPage(
            total=result.total,
            facets=result.facets,
            next_cursor=result.next_cursor,
            hits=[
                Hit(record_id=h.record_id, score=h.score, highlight=h.highlight, record=h.source) for h in result.hits
            ],
        )
        return page.model_dump_json().encode()

    parts: list[tuple[str, Callable[[], object]]] = [
        ("HTTP floor: GET /healthz (uvicorn + httpx, keep-alive)", lambda: client.get("/healthz")),
        ("auth: UserStore.user_for_token (2 Elasticsearch GETs)", lambda: users.user_for_token(token)),
        (
            "audit: AuditLog.event (ES create, 1 event)",
            lambda: audit.event(
                AuditAction.SEARCH,
                user="bench",
                role=Role.ARCHIVIST,
                target=target,
                client="127.0.0.1",
                note=f"{result.total} hits",
            ),
        ),
        (f"response: SearchPage of {len(result.hits)} hits → JSON", respond),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in parts}
    for i in range(samples + 5):
        for name, fn in parts:
            start = time.perf_counter()
            fn()
            if i >= 5:
                times[name].append((time.perf_counter() - start) * 1000)
    return [(name, times[name]) for name, _ in parts]


# --- main --------------------------------------------------------------------------------------------------


def measure_mix(sides: list[Side], rounds: int, warmup: int, took: dict[str, Any]) -> None:
    """Warm-up (every variant on every side, then `warmup` rounds), then `rounds` timed rounds, interleaved."""
    for t, (_, variants) in enumerate(QUERY_TYPES):
        for v in range(len(variants)):
            for s in sides:
                s.run(t, v)
    pick = random.Random(_corpus.SEED)
    for r in range(warmup + rounds):
        order = sides[r % len(sides) :] + sides[: r % len(sides)]  # rotate which side goes first
        for t, (name, variants) in enumerate(QUERY_TYPES):
            v = pick.randrange(len(variants))
            for s in order:
                start = time.perf_counter()
                s.run(t, v)
                ms = (time.perf_counter() - start) * 1000
                if r >= warmup:
                    s.samples.setdefault(name, []).append(ms)
                    if s.name == "raw es.search":
                        took.setdefault(name, []).append(took["last"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench index with the right count")
    parser.add_argument("--drop", action="store_true", help="delete the bench index at the end")
    parser.add_argument("--no-merge", dest="merge", action="store_false", help="do not force-merge after loading")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds; each runs every query type once")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    parser.add_argument("--no-api", dest="api", action="store_false", help="Elasticsearch sides only")
    args = _smoke.parse(parser, records=500, rounds=1, warmup=0, drop=True)
    if not endpoints():
        sys.exit("bench: start the services first: scripts/services up")
    prefix = _smoke.run_prefix("search") if args.smoke else f"bench-search-{args.records}"
    tmp = Path(tempfile.mkdtemp(prefix="communis-sbench-"))
    settings = Settings(data_dir=tmp / "data", es_index_prefix=prefix, events_prefix=_smoke.EVENTS_PREFIX)
    index = open_index(settings)
    es = index.es
    proc = None
    try:
        version = next(iter(es.nodes.info(metric="jvm")["nodes"].values()))
        how = prepare(index, args.records, reuse=args.reuse, merge=args.merge)
        print(f"# {how}")
        print(corpus_shape(index))
        took: dict[str, Any] = {}
        sides = [Side("search() in-process", search_side(index)), Side("raw es.search", raw_side(index, took))]
        api_note = ""
        if args.api and not api_available():
            api_note = "`communis serve` is not there yet: API side skipped"
            args.api = False
        client = None
        if args.api:
            from archive.access import open_users

            _, token = open_users(settings).add("bench", "archivist")
            port = free_port()
            env = {
                **os.environ,
                "COMMUNIS_ES_INDEX_PREFIX": prefix,
                "COMMUNIS_EVENTS_PREFIX": _smoke.EVENTS_PREFIX,
                "COMMUNIS_DATA_DIR": str(settings.data_dir),
            }
            started = time.perf_counter()
            proc = start_server(env, port, tmp / "serve.log")
            api_note = f"communis serve on :{port}, /healthz 200 after {time.perf_counter() - started:.1f} s"
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}", timeout=120, headers={"Authorization": f"Bearer {token}"}
            )
            sides.insert(0, Side("API", api_side(client)))
            problems = []
            for t, (name, variants) in enumerate(QUERY_TYPES):
                for v, variant in enumerate(variants):
                    for p in compare(sides[0].run(t, v), sides[1].run(t, v)):
                        problems.append(f"  {name} {variant}: {p}")
            print(
                "\n# API answers vs search(): "
                + ("identical (totals, hit ids, facets, cursors)" if not problems else f"{len(problems)} differences")
            )
            for p in problems[:40]:
                print(p)
        totals = {}
        for name, variants in QUERY_TYPES:
            totals[name] = [search(index, to_query(v), facets=False).total for v in variants]
        before = node_stats(es)
        wall = time.perf_counter()
        measure_mix(sides, args.rounds, args.warmup, took)
        wall = time.perf_counter() - wall
        after = node_stats(es)
        names = [n for n, _ in QUERY_TYPES]
        print(
            f"\n# Search latency: {args.records:,} record versions, {args.rounds} rounds × {len(names)} query types "
            f"= {args.rounds * len(names)} samples per side after {args.warmup} warm-up rounds; size={SIZE}, "
            "facets on; sides interleaved, first side rotated each round"
        )
        print(
            f"# Elasticsearch {version['version']} (Java {version['jvm']['version']}), heap "
            f"{before['heap_max'] / 2**30:.1f} GiB, {os.cpu_count()} cores shared with this script"
            + (" and the API server" if args.api else "")
        )
        if api_note:
            print(f"# {api_note}")
        print()
        print_latency_table(sides, took, names)
        print(
            "\nhits per variant (total): "
            + "; ".join(f"{n}: {'/'.join(f'{x:,}' for x in v)}" for n, v in totals.items())
        )
        print(f"{DEEP}: one sample = the walk of {DEEP_PAGES} requests; 'ES took' = sum of the node's took")
        print(
            f"measured in {wall:.0f} s; ES heap {before['heap_pct']}% → {after['heap_pct']}% used, "
            f"old GCs {after['gc_old'] - before['gc_old']}, "
            f"young GC {after['gc_young_ms'] - before['gc_young_ms']} ms"
        )
        if args.api:
            api, raw = sides[0], sides[-1]
            allk = [x for n in names for x in api.samples[n]]
            allr = [x for n in names for x in raw.samples[n]]
            single = [n for n in names if n != DEEP]
            per_a = [x for n in single for x in api.samples[n]]
            per_r = [x for n in single for x in raw.samples[n]]
            print(
                f"overhead API / raw es.search: p50 {pct(allk, 50) / pct(allr, 50):.2f}×, "
                f"p95 {pct(allk, 95) / pct(allr, 95):.2f}×; single requests: API − raw at p50 = "
                f"{pct(per_a, 50) - pct(per_r, 50):.1f} ms per request"
            )
        if client is not None:
            try:
                parts = overhead_parts(client, settings, token, index, args.rounds * 10)
            except ImportError as exc:  # archive.web is being written by others; the table above stands
                print(f"\n# (where the API's time goes: skipped, archive.web does not import here: {exc})")
                parts = []
            if parts:
                print(f"\n# Where the API's time goes: each piece alone, in this process, {args.rounds * 10} samples")
                print(f"{'piece (ms)':<56} {'p50':>7} {'p95':>7} {'p99':>7}")
                for name, vals in parts:
                    print(f"{name:<56} {pct(vals, 50):>7.2f} {pct(vals, 95):>7.2f} {pct(vals, 99):>7.2f}")
                single = [n for n in names if n != DEEP]
                gap = pct([x for n in single for x in sides[0].samples[n]], 50) - pct(
                    [x for n in single for x in sides[1].samples[n]], 50
                )
                print(f"{'sum of the p50s':<56} {sum(pct(v, 50) for _, v in parts):>7.2f}")
                print(f"{'measured: API − search() at p50, single requests':<56} {gap:>7.2f}")
            client.close()
    finally:
        if proc is not None:
            stop_server(proc)
        from archive.access import open_users

        open_users(settings).store.destroy()  # the run's API user (the access store beside its index)
        if args.drop:
            index.destroy()
            print(f"# dropped {index.alias}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
