"""What every bench script shares about a run: `--smoke` (a tiny size) and where its events go.

`--smoke` runs a script at sizes that finish in seconds, on the same code path as a full run, so the test
suite can run every script (tests/integration/test_bench_smoke.py) and none of them rots between the runs
that produce docs/performance.md. Its figures mean nothing. A script takes the flag by parsing its
arguments with `parse(parser, option=tiny value, …)`; explicit options still win over the tiny defaults.
"""

from __future__ import annotations

import argparse
import os
import uuid

#: One audit and one PREMIS stream for every bench run (`bench-shared-audit`, `bench-shared-premis`), as the
#: tests share theirs: the local Elasticsearch cannot delete a data stream, and the application's user may not
#: empty one (docs/security.md), so a stream per run would stay behind for good. Runs tell their events apart
#: by their own index prefix's record ids.
EVENTS_PREFIX = "bench-shared"
#: Set by the test suite to the prefix it checks is empty after the run; unset, every run draws its own.
PREFIX_ENV = "COMMUNIS_BENCH_PREFIX"


def parse(parser: argparse.ArgumentParser, **tiny: object) -> argparse.Namespace:
    """Add `--smoke` to `parser` and parse; with it, each named option defaults to its tiny value."""
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes that finish in seconds, same code path (the test suite's run; figures mean nothing)",
    )
    unknown = set(tiny) - set(vars(parser.parse_args([])))
    if unknown:
        raise ValueError(f"--smoke sets options the script does not have: {', '.join(sorted(unknown))}")
    if parser.parse_known_args()[0].smoke:
        parser.set_defaults(**tiny)
    return parser.parse_args()


def run_prefix(name: str) -> str:
    """The index (and S3) prefix of this run alone: `bench-ingest-1a2b3c4d`, or `$COMMUNIS_BENCH_PREFIX-ingest`."""
    chosen = os.environ.get(PREFIX_ENV)
    return f"{chosen}-{name}" if chosen else f"bench-{name}-{uuid.uuid4().hex[:8]}"
