"""Steady-state benchmark: what a scheduled run costs on an account with a long history.

For each size (archived items: posts, pages, comments and replies of one simulated account: the
blog by default, whose listing reads 100 items a request, or the Facebook Page): a harvest from
scratch, then a scheduled run with nothing new on the platform, then one after 1 % of the items
changed (half new posts, half new comments on them), each run in a process of its own, as a
worker runs each flow run. Look-back 0 days, sweep every 24 h: the platform side of a quiet run is
one listing page. Per run: wall time, requests, bytes of harvest state written, item documents
written, peak RSS of Communis's process (the simulator runs in a process of its own, so its memory
is not counted), and, in the same run, plain httpx GETs of the quiet run's URLs (the platform
side's own cost). Needs the local services.

    .venv/bin/python -m bench.steady [--sizes 10000,100000,1000000] [--platform wordpress|facebook] [--smoke]

Targets (issue 16): for the quiet run, state bytes and RSS within 2× of each other from 10 000 to
1 000 000 items, and the time dominated by the platform requests; under 512 MB RSS throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.config import get_settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.harvest.runner import harvest_one  # noqa: E402
from archive.harvest.service import HarvestReport  # noqa: E402
from bench import _smoke  # noqa: E402
from schemas import Account  # noqa: E402

TOKEN = "bench-token-not-secret"
CONTROL = "bench-control"
ITEMS_PER_POST = {"wordpress": 3.15, "facebook": 2.7}
"""Records per simulated post (the post, its comments and replies), to size the account."""


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


class Platform:
    """The simulator in a process of its own, driven through its control API."""

    def __init__(self, platform: str, posts: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "serve", "--port", "0", "--posts", str(posts)]
            + ["--rate-limit", str(10**9), "--social-token", TOKEN, "--control-token", CONTROL, "--only", platform],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "base      http://127.0.0.1:PORT": printed once it listens
        self.base = line.split()[-1]
        self.control = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {CONTROL}"}, timeout=600)

    def apply(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = self.control.post("/_sim/timeline", json=events).json()["results"]
        return results

    def paths(self) -> list[str]:
        return [r["path"] for r in self.control.get("/_sim/requests").json() if r["method"] == "GET"]

    def clear(self) -> None:
        self.control.delete("/_sim/requests")

    def close(self) -> None:
        self.control.close()
        self.proc.terminate()
        self.proc.wait()


def _run(arc: Archive, account: Account, now: Any) -> tuple[HarvestReport, float, float]:
    _reset_peak()
    start = time.perf_counter()
    report = harvest_one(arc.settings, arc.store, arc.index, account, now=now)
    seconds = time.perf_counter() - start
    assert report.ok, report.error
    return report, seconds, _status_mb("VmHWM")


def _row(name: str, report: HarvestReport, seconds: float, peak: float) -> dict[str, Any]:
    return {
        "run": name,
        "seconds": seconds,
        "requests": report.requests,
        "state_bytes": report.state_bytes,
        "items_written": report.items_written,
        "new": report.counts.new,
        "peak_mb": peak,
    }


def _account(platform: str, base: str, state: dict[str, Any]) -> Account:
    if platform == "wordpress":
        return Account(
            id="steady",
            platform="wordpress",
            handle="blogg",
            display_name="Steady",
            department="Bench",
            retention_class="social-10y",
            base_url=base + "/wp",
        )
    return Account(
        id="steady",
        platform="facebook",
        handle="sundsvikkommun",
        display_name="Steady",
        department="Bench",
        retention_class="social-10y",
        base_url=state["platforms"]["facebook"]["base_url"],
        credentials={"env": "COMMUNIS_BENCH_TOKEN"},
    )


def _changes(platform: str, sim: Platform, count: int) -> None:
    """`count` new items: half new posts, half a comment on each."""
    posts = sim.apply(
        [
            {
                "type": f"{platform}.publish",
                "text": f"Nytt {i}",
                **({"kind": "post", "title": f"Nytt {i}"} if platform == "wordpress" else {}),
            }
            for i in range(count // 2)
        ]
    )
    comments = (
        [{"type": "wordpress.comment", "post": p["id"], "parent": 0, "text": "En fråga"} for p in posts]
        if platform == "wordpress"
        else [{"type": "facebook.comment", "post": p["no"], "text": "En fråga"} for p in posts]
    )
    sim.apply([*comments, {"type": "clock.advance", "seconds": 900}])


def _settings(tmp: Path, prefix: str) -> Any:
    return get_settings().model_copy(
        update={
            "data_dir": tmp / "data",
            "store_path": tmp / "store",
            "es_index_prefix": prefix,
            "events_prefix": _smoke.EVENTS_PREFIX,
            "warc_rollover_bytes": 64 * 1024 * 1024,
            "http_allowed_networks": ["127.0.0.0/8"],
            "harvest_lookback_days": 0,
            "harvest_sweep_hours": 24,
        }
    )


def child(name: str, platform: str, base: str, tmp: Path, prefix: str) -> dict[str, Any]:
    """One scheduled run in this fresh process, as a worker's flow run is: its row, as JSON."""
    from datetime import datetime

    os.environ["COMMUNIS_BENCH_TOKEN"] = TOKEN
    arc = Archive(_settings(tmp, prefix))
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {CONTROL}"}, timeout=600) as control:
        state = control.get("/_sim/state", params={"items": "0"}).json()
    now = datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
    account = _account(platform, base, state)
    report, seconds, peak = _run(arc, account, now)
    return _row(name, report, seconds, peak) | {"archived": arc.harvest_table.count("item", account.id)}


def one_size(size: int, platform: str, prefix: str) -> list[dict[str, Any]]:
    """From scratch, quiet, 1 % changed: each run a process of its own against one simulator."""
    tmp = Path(tempfile.mkdtemp(prefix="communis-steady-"))
    sim = Platform(platform, max(1, round(size / ITEMS_PER_POST[platform])))

    def run(name: str) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "bench.steady", "--child", name, "--platform", platform]
            + ["--base", sim.base, "--tmp", str(tmp), "--prefix", prefix],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout
        row: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return row

    try:
        rows = [run("from scratch")]
        sim.apply([{"type": "clock.advance", "seconds": 900}])
        sim.clear()
        rows.append(run("nothing new"))
        paths = sim.paths()
        with httpx.Client(base_url=sim.base, headers={"Authorization": f"Bearer {TOKEN}"}) as raw:
            start = time.perf_counter()
            for path in paths:
                raw.get(path)
            rows[-1]["raw_seconds"] = time.perf_counter() - start
        _changes(platform, sim, max(2, rows[0]["archived"] // 100))
        rows.append(run("1 % changed"))
        return rows
    finally:
        sim.close()
        Archive(_settings(tmp, prefix)).index.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--platform", choices=["wordpress", "facebook"], default="wordpress")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = _smoke.parse(parser, sizes="300")
    if args.child:
        print(json.dumps(child(args.child, args.platform, args.base, args.tmp, args.prefix)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    prefix = _smoke.run_prefix("steady")
    print(f"# {args.platform}, look-back 0 days, sweep every 24 h; each run in a process of its own")
    print(
        "| archived items | run | seconds | requests | raw GET of the same URLs, s | state bytes written |"
        " item docs written | peak RSS MB |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|", flush=True)
    for n, size in enumerate(sizes):  # each size's rows as soon as it is measured: a 1M size takes long
        for row in one_size(size, args.platform, f"{prefix}-{n}"):
            raw = f"{row['raw_seconds']:.3f}" if "raw_seconds" in row else ""
            print(
                f"| {row['archived']:,} | {row['run']} | {row['seconds']:.2f} | {row['requests']:,} | {raw} | "
                f"{row['state_bytes']:,} | {row['items_written']:,} | {row['peak_mb']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
