"""Connector fuzz benchmark: N mutated payloads per connector, and what the harvest made of each.

For every connector (the feeds connector twice: RSS and Atom) one harvest of a small simulated
account is recorded, then replayed N times with one JSON/XML response mutated (tests/fuzz/mutations:
fields removed, nulls, wrong types, huge values, unicode edge cases, timestamps in every format,
whole bodies cut or replaced). Unmutated responses are replayed from the recording (the simulator's
real bytes) so the figure is the connector's; a request the recording never made (a mutated cursor)
still goes to the simulator. Prints per connector: payloads, parsed, quarantined, failed (the run's
one-line error), crashed, with each distinct crash once; beside it, in the same run, the raw speed
of the parser under the connector (json.loads / ElementTree over the same mutated payloads).

    .venv/bin/python bench/fuzz.py [--per-connector 10000] [--only mastodon,x] [--seed 0] [--live] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import xml.etree.ElementTree as ET  # noqa: S405 - the simulator's output, mutated by us
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _smoke  # noqa: E402
from simulator import Simulator  # noqa: E402
from tests.contract.subjects import TOKEN, TOKEN_ENV  # noqa: E402
from tests.fuzz.harness import TARGETS, Baseline, fuzz_once, record  # noqa: E402


class Seeded:
    """The mutations' choices from a seeded generator: the same payloads on every run."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def below(self, n: int) -> int:
        return self.rng.randrange(n)


def raw_parse(body: bytes, ctype: str) -> None:
    try:
        if "json" in ctype:
            json.loads(body)
        else:
            ET.fromstring(body)  # noqa: S314
    except (ValueError, ET.ParseError, RecursionError):
        pass


def bench_one(baseline: Baseline, n: int, seed: int, live: bool) -> dict[str, object]:
    counts: Counter[str] = Counter()
    crashes: dict[str, str] = {}
    harvest_s = raw_s = 0.0
    for i in range(n):
        start = time.perf_counter()
        fuzzed = fuzz_once(baseline, Seeded(seed * 1_000_003 + i), replay=not live)
        harvest_s += time.perf_counter() - start
        start = time.perf_counter()
        raw_parse(fuzzed.body, fuzzed.content_type)
        raw_s += time.perf_counter() - start
        out = fuzzed.outcome
        counts[out.kind] += 1
        if out.kind == "crashed" and out.crash not in crashes:
            crashes[str(out.crash)] = fuzzed.what
    return {
        "name": baseline.target.name,
        "n": n,
        **{k: counts[k] for k in ("parsed", "quarantined", "failed", "crashed")},
        "per_s": n / harvest_s if harvest_s else 0.0,
        "raw_per_s": n / raw_s if raw_s else 0.0,
        "crashes": crashes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-connector", type=int, default=10_000)
    parser.add_argument("--only", default="", help="comma-separated connector names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--live", action="store_true", help="every request to the simulator, none replayed")
    args = _smoke.parse(parser, per_connector=3)
    os.environ[TOKEN_ENV] = TOKEN
    names = [n for n in args.only.split(",") if n] or list(TARGETS)
    rows = []
    with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as sim:
        for name in names:
            row = bench_one(record(sim, TARGETS[name]), args.per_connector, args.seed, args.live)
            rows.append(row)
            print(
                f"{name}: {row['n']:,} payloads, {row['parsed']:,} parsed, {row['quarantined']:,} quarantined, "
                f"{row['failed']:,} failed, {row['crashed']:,} crashed ({row['per_s']:,.0f} harvests/s)",
                flush=True,
            )
    print(
        f"\n# Connector fuzz: {args.per_connector:,} mutated payloads per connector (seed {args.seed}"
        f"{', live' if args.live else ''})\n"
    )
    print(
        "| connector | payloads | parsed | quarantined | failed (one-line error) | crashed | harvests/s "
        "| raw parse of the same payloads/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['name']} | {r['n']:,} | {r['parsed']:,} | {r['quarantined']:,} | {r['failed']:,} | "
            f"{r['crashed']:,} | {r['per_s']:,.0f} | {r['raw_per_s']:,.0f} |"
        )
    total = sum(int(str(r["n"])) for r in rows)
    crashed = sum(int(str(r["crashed"])) for r in rows)
    print(f"\n{total:,} payloads, {crashed:,} crashes")
    for r in rows:
        for signature, what in dict(r["crashes"]).items():  # type: ignore[call-overload]
            print(f"  crash in {r['name']}: {signature} — e.g. {ascii(what)[:200]}")


if __name__ == "__main__":
    main()
