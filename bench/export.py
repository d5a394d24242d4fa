"""Export benchmark: a 10 000-record request case produced as a package, beside a plain copy.

Ingests N synthetic Mastodon-like records (one per capture, some carrying a personnummer, phone
or e-mail for the detector) through the real pipeline into MinIO and Elasticsearch, opens a
request case over them, runs it (freeze + detection), decides every suggestion, and times
`produce()` (BagIt with masked release copy, PDFs, CSV/JSONL, the original WARC records, WACZ,
custody log, hash report). Beside it, in the same run: reading the same WARC records' bytes
from the store and writing them to one file (the floor for the originals), and a plain copy of
the finished package directory (the floor for writing that many bytes).

    .venv/bin/python bench/export.py [--records 10000] [--store s3|local] [--bates] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import clock  # noqa: E402
from archive.access import open_audit  # noqa: E402
from archive.config import Settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.index.client import make_client  # noqa: E402
from archive.requests.casebook import CaseBook  # noqa: E402
from archive.requests.detect import detect  # noqa: E402
from archive.requests.production import produce  # noqa: E402
from archive.requests.workflow import decide_masks, new_case, run_case  # noqa: E402
from archive.services.launcher import endpoints  # noqa: E402
from bench import _smoke  # noqa: E402
from bench._measure import measure, print_table  # noqa: E402
from schemas import Account, Capture, CaptureBundle, Record  # noqa: E402
from schemas.search import SavedSearch  # noqa: E402

T0 = datetime.now(UTC).replace(microsecond=0)
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
    "tack",
    "fråga",
    "svar",
    "❄️",
]
PLANTED = ["ring mig på 070-123 45 67", "mejla anna.berg@example.se", "personnummer 811218-9876"]


def bundle(i: int) -> CaptureBundle:
    at = T0 + timedelta(seconds=i)
    text = " ".join(WORDS[(i * 7 + w) % len(WORDS)] for w in range(40))
    if i % 10 == 0:
        text += " " + PLANTED[(i // 10) % len(PLANTED)]
    status = {"id": str(20_000_000 + i), "created_at": at.isoformat(), "content": f"<p>{text}</p>"}
    body = json.dumps([status], ensure_ascii=False).encode()
    record = Record(
        platform="mastodon",
        account="bench-export",
        item_id=status["id"],
        kind="post",
        direction="upprattad",
        text=text,
        url=f"https://social.example/@k/{status['id']}",
        published_at=at,
        captured_at=at,
        language="sv",
        raw=status,
    )
    cap = Capture(
        url=f"https://social.example/api/v1/statuses/{status['id']}",
        status=200,
        reason="OK",
        request_headers=[("Accept", "application/json")],
        response_headers=[("Content-Type", "application/json; charset=utf-8")],
        body=body,
        started_at=at,
    )
    return CaptureBundle(capture=cap, records=[record])


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--store", choices=["s3", "local"], default="s3")
    parser.add_argument("--bates", action="store_true", help="Also Bates-numbered PDFs and a load file.")
    args = _smoke.parse(parser, records=30, bates=True)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    prefix = _smoke.run_prefix("export")
    found = endpoints()
    if args.store == "s3" and not found:
        sys.exit("bench: start the services first: scripts/services up")
    extra: dict[str, Any] = (
        {
            "store": "s3",
            "s3_endpoint_url": found["s3_endpoint_url"],
            "s3_bucket": "communis-test",
            "s3_prefix": f"{prefix}/",
            "s3_access_key": found["s3_access_key"],
            "s3_secret_key": found["s3_secret_key"],
        }
        if args.store == "s3"
        else {}
    )
    settings = Settings(
        data_dir=work / "data",
        store_path=work / "store",
        es_index_prefix=prefix,
        events_prefix=_smoke.EVENTS_PREFIX,
        **extra,
    )
    arc = Archive(settings)
    book = CaseBook(make_client(settings), prefix)
    audit = open_audit(settings)
    account = Account(
        id="bench-export",
        platform="mastodon",
        handle="@k",
        display_name="Bench",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url="https://social.example",
    )
    try:
        print(f"# ingesting {args.records:,} records through the pipeline ({args.store}) …", flush=True)
        pipeline = arc.pipeline()
        pipeline.ingest(account, (bundle(i) for i in range(args.records)))
        arc.index.es.indices.refresh(index=arc.index.alias)
        case = new_case(book, searches=[SavedSearch(account="bench-export")], handler="bench", now=clock.now())
        run_stage, run = measure(
            "run case (freeze + detect)", args.records, 0, lambda: run_case(book, arc.index, case.id, spans=detect)
        )
        decide_masks(book, case.id, accept=True, ground="OSL 21:7", by="bench", now=clock.now())
        out = work / "package"
        stage, result = measure(
            "communis produce()",
            args.records,
            0,
            lambda: produce(
                settings,
                book,
                arc.index,
                arc.store,
                audit,
                case.id,
                out,
                by="bench",
                now=clock.now(),
                bates_prefix="BENCH" if args.bates else None,
            ),
        )
        stage.megabytes = result.bytes / 1e6
        docs = list(arc.index.scan({"term": {"account": "bench-export"}}))
        raw_path = work / "raw.warc.gz"

        def copy_records() -> int:
            with raw_path.open("wb") as fh:
                for d in docs:
                    fh.write(arc.store.get_range(d["warc_key"], d["warc"]["offset"], d["warc"]["length"]))
            return raw_path.stat().st_size

        raw_stage, raw_bytes = measure("raw: read the same WARC records from the store", len(docs), 0, copy_records)
        raw_stage.megabytes = raw_bytes / 1e6
        copy_stage, _ = measure(
            "raw: plain copy of the package directory",
            args.records,
            dir_mb(out),
            lambda: shutil.copytree(out, work / "copy"),
        )
        print(
            f"# {result.records:,} records, {result.masked_spans:,} masked spans ({run.suggestions:,} suggestions), "
            f"{result.files} files, {result.bytes / 1e6:.1f} MB in the bag, {len(result.pdfs)} report PDFs"
            + (f", Bates {result.bates[0]}–{result.bates[1]}" if result.bates else "")
        )
        print_table([run_stage, stage, raw_stage, copy_stage], "records", reference=stage)
    finally:
        book.destroy()
        arc.index.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
