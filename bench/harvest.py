"""Harvest benchmark: a large simulated account harvested from scratch.

Prints posts/s, MB/s, requests and peak memory for a from-scratch harvest of one account
(any platform) on the platform simulator, beside, in the same run, the raw speed of
the tools under it: plain httpx GETs of the same URLs (the platform side) and the ingest
benchmark's single-pass gzip + SHA-256 over the same response bodies. Needs the local services.

    .venv/bin/python bench/harvest.py [--posts 100000] [--platform mastodon|wordpress|…|all] [--smoke]

With `--platform all` every platform is harvested in turn and a summary table is printed
(docs/performance.md). POST requests (TikTok's listing) are not replayed by the raw fetch.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import httpx
from isal import isal_zlib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.config import Settings  # noqa: E402
from archive.connectors.registry import connector_for  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.harvest.runner import harvest_one  # noqa: E402
from bench import _smoke  # noqa: E402
from bench._measure import measure, print_table  # noqa: E402
from schemas import Account  # noqa: E402
from simulator import Simulator, WorldConfig  # noqa: E402


def raw_fetch(base: str, paths: list[str], account: Account) -> list[bytes]:
    """The same GETs with the same credential and required headers (LinkedIn's version header…)."""
    headers, params = connector_for(account.platform.value).client_auth(account, TOKEN)
    with httpx.Client(headers={"Accept-Encoding": "identity", **headers}, params=params) as client:
        return [client.get(base + p).content for p in paths]


def raw_compress(bodies: list[bytes]) -> int:
    out = 0
    for body in bodies:
        comp = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
        out += len(comp.compress(body) + comp.flush())
        hashlib.sha256(body).digest()
    return out


TOKEN = "bench-token-not-secret"
ALL = [
    "wordpress",
    "mastodon",
    "facebook",
    "instagram",
    "x",
    "youtube",
    "linkedin",
    "flickr",
    "tiktok",
    "bluesky",
    "rss",
]


def account_for(sim: Simulator, platform: str) -> Account:
    """The account entry for the simulated municipality on one platform."""
    if platform in ("mastodon", "wordpress"):
        return Account(
            id="bench",
            platform=platform,
            handle="@sundsvik",
            display_name="Bench",
            department="Bench",
            retention_class="social-10y",
            base_url=sim.url(platform),
        )
    truth = sim.state(items=False)["platforms"][platform]
    handle = sim.state()["platforms"][platform]["handle"]
    return Account(
        id="bench",
        platform=platform,
        handle=handle,
        display_name="Bench",
        department="Bench",
        retention_class="social-10y",
        base_url=truth["base_url"],
        credentials={"env": "COMMUNIS_BENCH_TOKEN"} if platform not in ("bluesky", "rss") else None,
    )


def bench_one(platform: str, posts: int) -> dict[str, object]:
    """Harvest one platform's account from scratch; print its table; return the summary row."""
    tmp = Path(tempfile.mkdtemp(prefix="communis-hbench-"))
    settings = Settings(
        data_dir=tmp / "data",
        store_path=tmp / "store",
        es_index_prefix=_smoke.run_prefix(f"harvest-{platform}"),
        events_prefix=_smoke.EVENTS_PREFIX,
        warc_rollover_bytes=64 * 1024 * 1024,
        http_allowed_networks=["127.0.0.0/8"],  # the simulator's loopback, refused by default
    )
    arc = Archive(settings)
    try:
        with Simulator(WorldConfig(rate_limit=10**9, social_token=TOKEN).resized(posts)) as sim:
            now = datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))
            account = account_for(sim, platform)
            sim.clear_requests()
            harvest, report = measure(
                f"COMMUNIS HARVEST ({platform}, from scratch)",
                posts,
                0.0,
                lambda: harvest_one(settings, arc.store, arc.index, account, now=now),
            )
            served = [r for r in sim.requests() if r.status == 200]
            paths = [r.path for r in served if r.method == "GET"]
            mb = report.bytes / 1e6
            harvest.megabytes = mb
            raw, bodies = measure(
                "raw: httpx GET of the same URLs", posts, mb, lambda: raw_fetch(sim.base_url, paths, account)
            )
            comp, _ = measure(
                "raw: gzip (ISA-L 1) + SHA-256 of the same bodies", posts, mb, lambda: raw_compress(bodies)
            )
        print(f"\n# {platform}: one account with {posts:,} posts, harvested from scratch")
        print_table([raw, comp, harvest], "posts")
        c = report.counts
        pages = len(served) - c.media  # every media file is one request; the rest are API pages
        print(
            f"{c.new:,} record versions ({c.comments:,} comments and replies, {c.media:,} media files); "
            f"{len(served):,} requests ({pages:,} API pages = {pages / posts:.2f} per post); {mb:,.1f} MB; "
            f"ok={report.ok} {report.error or ''}"
        )
        if len(paths) < len(served):
            print(f"({len(served) - len(paths):,} POST requests are not replayed by the raw fetch)")
        return {
            "platform": platform,
            "posts": posts,
            "versions": c.new,
            "pages_per_post": pages / posts,
            "posts_per_s": harvest.per_second,
            "raw_per_s": raw.per_second,
            "ratio": harvest.per_second / raw.per_second if raw.per_second else 0.0,
            "ok": report.ok,
        }
    finally:
        arc.index.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--platform", choices=[*ALL, "all"], default="mastodon")
    args = _smoke.parse(parser, posts=3, platform="all")
    os.environ["COMMUNIS_BENCH_TOKEN"] = TOKEN
    rows = [bench_one(p, args.posts) for p in (ALL if args.platform == "all" else [args.platform])]
    print(f"\n# Summary: posts/s harvested from scratch ({args.posts:,} posts per account)\n")
    print("| platform | record versions | API pages per post | posts/s | raw GET of the same URLs, posts/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['platform']} | {r['versions']:,} | {r['pages_per_post']:.2f} | {r['posts_per_s']:,.0f} | "
            f"{r['raw_per_s']:,.0f} | {r['ratio']:.2f} |" + ("" if r["ok"] else " (run failed)")
        )


if __name__ == "__main__":
    main()
