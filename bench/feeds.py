"""Feed reading speed on feedparser's whole corpus (tests/recordings/feeds), beside feedparser itself.

`python -m bench.feeds [--rounds N] [--smoke]`: every document parsed by Communis's feed reader
(`archive.connectors.feedxml.parse_feed`: decoding, repairs, defusedxml, format mapping) and by
feedparser (`feedparser.parse` on the same bytes, a test dependency) in the same run; documents per
second, MB per second and items found, so the cost of reading real-world feeds safely is seen
beside the tool real feed readers use.
"""

from __future__ import annotations

import argparse
from contextlib import suppress
from pathlib import Path

import feedparser

from archive.connectors.feedxml import parse_feed
from bench import _smoke
from bench._measure import Stage, measure, print_table

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "recordings" / "feeds" / "feedparser" / "tests"


def _ours(documents: list[bytes], rounds: int) -> int:
    items = 0
    for _ in range(rounds):
        for data in documents:
            with suppress(Exception):  # a refused document counts as no items, as in a harvest
                items += len(parse_feed(data).items)
    return items // rounds


def _feedparser(documents: list[bytes], rounds: int) -> int:
    items = 0
    for _ in range(rounds):
        for data in documents:
            items += len(feedparser.parse(data).entries)
    return items // rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = _smoke.parse(parser, rounds=1)
    documents = [p.read_bytes() for p in sorted(CORPUS.rglob("*.xml"))]
    megabytes = sum(map(len, documents)) * args.rounds / 1e6
    count = len(documents) * args.rounds
    stages: list[Stage] = []
    raw, found_raw = measure(
        "feedparser.parse (raw tool)", count, megabytes, lambda: _feedparser(documents, args.rounds)
    )
    ours, found_ours = measure("Communis parse_feed", count, megabytes, lambda: _ours(documents, args.rounds))
    stages += [raw, ours]
    print(f"{len(documents)} documents, {sum(map(len, documents)) / 1e6:.1f} MB, {args.rounds} rounds")
    print_table(stages, "docs", reference=raw)
    print(f"items found: feedparser {found_raw}, Communis {found_ours}")


if __name__ == "__main__":
    main()
