"""Ingest benchmark: N synthetic captures through WARC → storage → index.

Prints captures/s, MB/s and peak memory for the Communis pipeline and each of its stages,
beside the raw speed of the underlying tools on the same payloads in the same run:
warcio's own writer (zlib level 9, SHA-1), the single-pass limit (gzip at the level used
plus SHA-256 over the same bytes), a plain boto3 upload of the same files, and a plain
`helpers.bulk` of the same documents. Needs the local services (`scripts/services up`).

    .venv/bin/python bench/ingest.py [--captures 100000] [--store s3|local] [--level 2] [--smoke]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import zlib
from datetime import UTC, datetime, timedelta
from functools import partial
from io import BytesIO
from pathlib import Path

from elasticsearch import helpers
from isal import isal_zlib
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.config import Settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.index import to_document  # noqa: E402
from archive.index.mappings import RECORD_MAPPINGS, index_settings  # noqa: E402
from archive.services.launcher import endpoints  # noqa: E402
from archive.warc import WarcWriter  # noqa: E402
from archive.warc.records import records_json  # noqa: E402
from bench import _smoke  # noqa: E402
from bench._measure import Stage, measure, print_table  # noqa: E402
from schemas import Account, Capture, CaptureBundle, Record, RetentionClass  # noqa: E402

T0 = datetime.now(UTC).replace(microsecond=0)  # locks in the test bucket expire a day later
WORDS = [
    "snöröjning",
    "kommunen",
    "biblioteket",
    "förskola",
    "budget",
    "äldreomsorg",
    "cykelväg",
    "Ålsta",
    "Norrby",
    "öppettider",
    "välkomna",
    "möte",
    "fullmäktige",
    "📚",
    "❄️",
    "tack",
    "fråga",
    "svar",
]


ITEMS = 1  # statuses per API page; set from --items


def make_bundle(i: int) -> CaptureBundle:
    """A Mastodon-like statuses page (ITEMS statuses of ~1.5 KB JSON each) and its records."""
    at = T0 + timedelta(seconds=i)
    statuses, records = [], []
    for k in range(ITEMS):
        n = i * ITEMS + k
        text = " ".join(WORDS[(n * 7 + w) % len(WORDS)] for w in range(40))
        status = {
            "id": str(10_000_000 + n),
            "created_at": at.isoformat(),
            "content": f"<p>{text}</p>",
            "account": {"id": "109", "acct": "sundsvik", "display_name": "Sundsviks kommun"},
            "visibility": "public",
            "language": "sv",
            "replies_count": n % 5,
            "media_attachments": [],
            "url": f"https://social.sundsvik.example/@sundsvik/{10_000_000 + n}",
        }
        statuses.append(status)
        records.append(
            Record(
                platform="mastodon",
                account="bench",
                item_id=status["id"],
                kind="post",
                direction="upprattad",
                text=text,
                html=status["content"],
                url=status["url"],
                published_at=at,
                captured_at=at,
                language="sv",
                raw=status,
            )
        )
    body = json.dumps(statuses, ensure_ascii=False).encode()
    cap = Capture(
        url=f"https://social.sundsvik.example/api/v1/accounts/109/statuses?max_id={i}",
        status=200,
        reason="OK",
        request_headers=[("Accept", "application/json")],
        response_headers=[("Content-Type", "application/json; charset=utf-8")],
        body=body,
        started_at=at,
    )
    return CaptureBundle(capture=cap, records=records)


_BUNDLES: list[CaptureBundle] = []


def bundles(n: int) -> list[CaptureBundle]:
    """The same N bundles for every stage, generated once before any timing."""
    while len(_BUNDLES) < n:
        _BUNDLES.append(make_bundle(len(_BUNDLES)))
    return _BUNDLES[:n]


def blobs(n: int) -> list[tuple[bytes, bytes]]:
    """What the captures carry: response body and record JSON, per capture."""
    return [(b.capture.body, records_json(b.records)) for b in bundles(n)]


def payload_mb(n: int) -> float:
    """Uncompressed bytes the captures carry (response bodies + record JSON), in MB."""
    return sum(len(body) + len(meta) for body, meta in blobs(n)) / 1e6


def raw_single_pass(data: list[tuple[bytes, bytes]], level: int) -> int:
    """The floor for WARC writing: gzip (ISA-L at the level used) + SHA-256 over the same bytes, per member."""
    out = 0
    digest = hashlib.sha256()
    for pair in data:
        for blob in pair:
            comp = isal_zlib.compressobj(level, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
            member = comp.compress(blob) + comp.flush()
            hashlib.sha256(blob).digest()
            digest.update(member)
            out += len(member)
    return out


def raw_zlib(data: list[tuple[bytes, bytes]], level: int) -> int:
    out = 0
    for pair in data:
        for blob in pair:
            comp = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            out += len(comp.compress(blob) + comp.flush())
            hashlib.sha256(blob).digest()
    return out


def warcio_writer(n: int, path: Path) -> int:
    """warcio's own WARCWriter: request + response + metadata per capture, its defaults (zlib 9, SHA-1)."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for b in bundles(n):
            c = b.capture
            http = StatusAndHeaders("200 OK", c.response_headers, protocol="HTTP/1.1")
            resp = writer.create_warc_record(
                c.url, "response", payload=BytesIO(c.body), http_headers=http, length=len(c.body)
            )
            req = writer.create_warc_record(
                c.url,
                "request",
                payload=BytesIO(b""),
                length=0,
                http_headers=StatusAndHeaders("GET /", c.request_headers, protocol="HTTP/1.1", is_http_request=True),
            )
            writer.write_request_response_pair(req, resp)
            meta = records_json(b.records)
            writer.write_record(
                writer.create_warc_record(
                    c.url, "metadata", payload=BytesIO(meta), length=len(meta), warc_content_type="application/json"
                )
            )
    return path.stat().st_size


def communis_writer(n: int, directory: Path, level: int, rollover: int) -> list[Path]:
    writer = WarcWriter(directory, "bench", rollover_bytes=rollover, level=level)
    rc = RetentionClass(name="bench", days=1, trigger="captured")
    for b in bundles(n):
        writer.write("bench", rc, b)
    return [f.path for f in writer.close()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1, help="statuses per captured API page")
    parser.add_argument("--store", choices=["s3", "local"], default="s3")
    parser.add_argument("--level", type=int, default=1, help="compression level (ISA-L 0-3)")
    parser.add_argument("--rollover-mb", type=int, default=16, help="WARC rollover size in MB")
    args = _smoke.parse(parser, captures=200)
    global ITEMS
    ITEMS = args.items
    n = args.captures
    tmp = Path(tempfile.mkdtemp(prefix="communis-bench-"))
    prefix = _smoke.run_prefix("ingest")
    found = endpoints()
    if not found:
        sys.exit("bench: start the services first: scripts/services up")
    settings = Settings(
        data_dir=tmp / "data",
        store=args.store,
        store_path=tmp / "store",
        s3_endpoint_url=found["s3_endpoint_url"],
        s3_bucket="communis-test",
        s3_prefix=f"{prefix}/",
        s3_access_key=found["s3_access_key"],
        s3_secret_key=found["s3_secret_key"],
        es_index_prefix=prefix,
        events_prefix=_smoke.EVENTS_PREFIX,
        gzip_level=args.level,
        warc_rollover_bytes=args.rollover_mb * 1024 * 1024,
        retention_classes=[RetentionClass(name="bench", days=1, trigger="captured")],
    )
    arc = Archive(settings)
    mb = payload_mb(n)
    data = blobs(n)
    documents = [
        to_document(r, warc_key="warc/bench/x.warc.gz", retention_class="bench").as_dict()
        for b in bundles(n)
        for r in b.records
    ]
    print(
        f"# Communis ingest benchmark: {n:,} captures of {ITEMS} items, {mb:,.1f} MB of payload and record JSON; "
        f"store={args.store}, ISA-L level {args.level}, rollover {args.rollover_mb} MB"
    )
    stages: list[Stage] = []
    try:
        sizes: dict[str, int] = {}
        for lvl in (1, 2, 3):
            label = f"raw: gzip (ISA-L {lvl}) + SHA-256, single pass"
            st, sizes[f"ISA-L {lvl}"] = measure(label, n, mb, partial(raw_single_pass, data, lvl))
            if lvl == args.level:
                stages.insert(0, st)
            else:
                st.name = st.name.replace("raw:", "alt:")
                stages.append(st)
        for lvl in (6, 9):
            st, sizes[f"zlib {lvl}"] = measure(f"alt: gzip (zlib {lvl}) + SHA-256", n, mb, partial(raw_zlib, data, lvl))
            stages.append(st)
        st, size = measure("warcio WARCWriter (zlib 9, SHA-1)", n, mb, lambda: warcio_writer(n, tmp / "w.warc.gz"))
        stages.append(st)
        warc_dir = tmp / "warc"
        st, files = measure(
            "communis WARC writer",
            n,
            mb,
            lambda: communis_writer(n, warc_dir, args.level, settings.warc_rollover_bytes),
        )
        stages.append(st)
        warc_bytes = sum(p.stat().st_size for p in files)

        if args.store == "s3":
            store = arc.store
            client = store.client  # type: ignore[attr-defined]

            def raw_upload() -> None:
                for p in files:
                    client.upload_file(str(p), settings.s3_bucket, f"{prefix}/raw/{p.name}")

            st, _ = measure("raw: boto3 upload_file of the same files", n, warc_bytes / 1e6, raw_upload)
            stages.append(st)

        es = arc.index.es
        raw_index = f"{prefix}-raw-records"  # a name the harvester role may create (archive/services/es_access.py)
        es.indices.create(index=raw_index, settings=index_settings(), mappings=RECORD_MAPPINGS)

        def raw_bulk() -> None:
            helpers.bulk(es, ({"_index": raw_index, "_id": d["record_id"], "_source": d} for d in documents))
            es.indices.refresh(index=raw_index)

        def warm_up() -> None:
            """A throwaway bulk first, so neither side pays for a cold JVM."""
            helpers.bulk(es, ({"_index": raw_index, "_id": d["record_id"], "_source": d} for d in documents[:5000]))
            es.indices.delete(index=raw_index)
            es.indices.create(index=raw_index, settings=index_settings(), mappings=RECORD_MAPPINGS)

        warm_up()
        st, _ = measure("raw: elasticsearch helpers.bulk, same documents", n, mb, raw_bulk)
        raw_first = st
        es.indices.delete(index=raw_index)

        account = Account(
            id="bench",
            platform="mastodon",
            handle="bench",
            display_name="Bench",
            department="Bench",
            retention_class="bench",
            base_url="https://social.example",
        )  # never asked: ingest only

        def pipeline() -> object:
            return arc.pipeline("bench").ingest(account, bundles(n))

        st, report = measure(f"COMMUNIS PIPELINE: WARC → {args.store} → index", n, mb, pipeline)
        # The raw bulk again after the pipeline; the faster of the two runs is the reference.
        es.indices.create(index=raw_index, settings=index_settings(), mappings=RECORD_MAPPINGS)
        raw_again, _ = measure("raw: elasticsearch helpers.bulk, same documents", n, mb, raw_bulk)
        es.indices.delete(index=raw_index)
        stages.append(max(raw_first, raw_again, key=lambda s: s.per_second))
        stages.append(st)
        indexed = report.indexed  # type: ignore[attr-defined]
        assert indexed == n * ITEMS == arc.index.count(), "pipeline lost documents"
        print_table(stages, "captures")
        raw = [s for s in stages if s.name.startswith("raw:")]
        slowest = min(raw, key=lambda s: s.per_second)
        ratio = st.per_second / slowest.per_second
        print(f"\nslowest raw stage: {slowest.name} at {slowest.per_second:,.0f} captures/s")
        print(f"pipeline / slowest raw stage = {ratio:.2f} (target ≥ 0.90)")
        print(
            f"WARC bytes: communis {warc_bytes / 1e6:,.1f} MB, warcio level 9 {size / 1e6:,.1f} MB "
            f"({warc_bytes / size:.2f}×)"
        )
        print("compressed payload by level: " + ", ".join(f"{k} {v / 1e6:,.1f} MB" for k, v in sizes.items()))
        print(
            f"raw bulk runs: {raw_first.per_second:,.0f} before and {raw_again.per_second:,.0f} captures/s "
            "after the pipeline (the faster is the reference)"
        )
    finally:
        arc.index.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
