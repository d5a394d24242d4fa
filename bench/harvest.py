"""Harvest benchmark: a large simulated account harvested from scratch.

Prints posts/s, MB/s, requests and peak memory for a from-scratch harvest of one account
(Mastodon or WordPress) on the platform simulator, beside, in the same run, the raw speed of
the tools under it: plain httpx GETs of the same URLs (the platform side) and the ingest
benchmark's single-pass gzip + SHA-256 over the same response bodies. Needs the local services.

    .venv/bin/python bench/harvest.py [--posts 100000] [--platform mastodon|wordpress]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from isal import isal_zlib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.config import Settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.harvest.runner import harvest_one  # noqa: E402
from bench._measure import measure, print_table  # noqa: E402
from schemas import Account  # noqa: E402
from simulator import Simulator, WorldConfig  # noqa: E402


def raw_fetch(base: str, paths: list[str]) -> list[bytes]:
    with httpx.Client(headers={"Accept-Encoding": "identity"}) as client:
        return [client.get(base + p).content for p in paths]


def raw_compress(bodies: list[bytes]) -> int:
    out = 0
    for body in bodies:
        comp = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
        out += len(comp.compress(body) + comp.flush())
        hashlib.sha256(body).digest()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--platform", choices=["mastodon", "wordpress"], default="mastodon")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="communis-hbench-"))
    settings = Settings(data_dir=tmp / "data", store_path=tmp / "store", es_index_prefix=f"hb-{uuid.uuid4().hex[:8]}",
                        warc_rollover_bytes=64 * 1024 * 1024)
    arc = Archive(settings)
    try:
        with Simulator(WorldConfig(rate_limit=10**9).resized(args.posts)) as sim:
            now = datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))
            base = sim.mastodon_url if args.platform == "mastodon" else sim.wordpress_url
            account = Account(id="bench", platform=args.platform, handle="@sundsvik", display_name="Bench",
                              department="Bench", retention_class="social-10y", base_url=base)
            sim.clear_requests()
            harvest, report = measure(f"COMMUNIS HARVEST ({args.platform}, from scratch)", args.posts, 0.0,
                                      lambda: harvest_one(settings, arc.store, arc.index, account, now=now))
            paths = [r.path for r in sim.requests() if r.status == 200]
            mb = report.bytes / 1e6
            harvest.megabytes = mb
            raw, bodies = measure("raw: httpx GET of the same URLs", args.posts, mb,
                                  lambda: raw_fetch(sim.base_url, paths))
            comp, _ = measure("raw: gzip (ISA-L 1) + SHA-256 of the same bodies", args.posts, mb,
                              lambda: raw_compress(bodies))
        print(f"# Communis harvest benchmark: one {args.platform} account with {args.posts:,} posts, from scratch")
        print_table([raw, comp, harvest], "posts")
        c = report.counts
        print(f"\n{c.new:,} record versions ({c.comments:,} comments and replies, {c.media:,} media files); "
              f"{len(paths):,} requests = {len(paths) / args.posts:.2f} per post; {mb:,.1f} MB fetched; "
              f"ok={report.ok} {report.error or ''}")
        print(f"harvest / raw fetch of the same URLs = {harvest.per_second / raw.per_second:.2f}")
    finally:
        arc.index.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
