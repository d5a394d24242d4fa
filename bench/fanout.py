"""Fan-out benchmark: many small accounts harvested by one Prefect worker, by two, and in-process.

One shared simulator serves every account (half Mastodon, half WordPress, a few posts each; each
account has its own id, so its own items, state, WARC files and slot). The same accounts are
harvested three times, each time into a fresh archive (index prefix, store and work folder):

1. baseline: in this process, one `harvest_one` after another (what `communis harvest` does);
2. one worker: a scheduled tick of the `harvest` deployment (fan_out: runs of `--group` accounts)
   on a private Prefect server (archive/services/prefect_server.py) with one
   `prefect worker start --limit L` process;
3. two workers: the same with two worker processes, each `--limit L`.

Prints accounts per minute for each beside the baseline, and the median per-account run time as
Prefect measured it (a process worker starts a Python process per flow run: that start is in it).
Needs the local services.

    .venv/bin/python bench/fanout.py [--accounts 500] [--posts 3] [--limit 3] [--group 20] [--smoke]

`--smoke`: 8 accounts of 2 posts in runs of 2, to check the script works (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.accounts import load_accounts  # noqa: E402
from archive.config import Settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.harvest.fanout import tick_text  # noqa: E402
from archive.harvest.runner import harvest_one  # noqa: E402
from archive.services.prefect_server import LocalPrefect  # noqa: E402
from bench import _smoke  # noqa: E402
from simulator import Simulator, WorldConfig  # noqa: E402

EVENTS_PREFIX = _smoke.EVENTS_PREFIX
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
LOOPBACK = ["127.0.0.0/8"]  # the simulator's address, refused by default


def write_accounts(path: Path, sim: Simulator, n: int) -> list[str]:
    ids = [f"b{i:04d}" for i in range(n)]
    entries = [
        {
            "id": account_id,
            "platform": "mastodon" if i % 2 == 0 else "wordpress",
            "handle": "@sundsvik" if i % 2 == 0 else "blogg",
            "display_name": account_id,
            "department": "Bench",
            "retention_class": "social-10y",
            "base_url": sim.url("mastodon" if i % 2 == 0 else "wordpress"),
        }
        for i, account_id in enumerate(ids)
    ]
    path.write_text(yaml.safe_dump({"accounts": entries}))
    return ids


def fresh_settings(tmp: Path, name: str, accounts: Path) -> Settings:
    return Settings(
        data_dir=tmp / name / "data",
        store_path=tmp / name / "store",
        es_index_prefix=_smoke.run_prefix(f"fanout-{name}"),
        events_prefix=EVENTS_PREFIX,
        accounts_file=accounts,
        http_allowed_networks=LOOPBACK,
        harvest_lookback_days=3650,
    )


def baseline(settings: Settings) -> dict[str, Any]:
    """Every account in this process, one after another."""
    arc = Archive(settings)
    try:
        accounts = load_accounts(settings.accounts_file, settings)  # type: ignore[arg-type]
        started = time.perf_counter()
        per: list[float] = []
        failed = 0
        for account in accounts:
            one = time.perf_counter()
            failed += not harvest_one(settings, arc.store, arc.index, account).ok
            per.append(time.perf_counter() - one)
        seconds = time.perf_counter() - started
    finally:
        arc.index.destroy()
    return {"name": "in-process, sequential (harvest_one)", "seconds": seconds, "per": per, "failed": failed}


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        "COMMUNIS_DATA_DIR": str(settings.data_dir),
        "COMMUNIS_STORE_PATH": str(settings.store_path),
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": EVENTS_PREFIX,
        "COMMUNIS_ACCOUNTS_FILE": str(settings.accounts_file),
        "COMMUNIS_HTTP_ALLOWED_NETWORKS": json.dumps(LOOPBACK),
        "COMMUNIS_HARVEST_LOOKBACK_DAYS": "3650",
        "COMMUNIS_HARVEST_FANOUT_POLL_SECONDS": "1",
    }


def fanned_out(
    prefect: LocalPrefect, settings: Settings, workers: int, limit: int, group: int, tick: datetime
) -> dict[str, Any]:
    """One scheduled tick of every account, on `workers` worker processes of `limit` runs each."""
    api = prefect.api_url
    names = [f"bench-{workers}w-{i}" for i in range(workers)]
    for name in names:
        prefect.start_worker(name, worker_env(settings) | {"COMMUNIS_HARVEST_FANOUT_GROUP": str(group)}, limit=limit)
    try:
        dep = httpx.get(f"{api}/deployments/name/communis-harvest/harvest", timeout=60).json()["id"]
        started = time.perf_counter()
        run = httpx.post(
            f"{api}/deployments/{dep}/create_flow_run",
            json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": tick.isoformat()}}},
            timeout=60,
        ).json()
        state = prefect.wait(
            lambda: (
                s
                if (s := httpx.get(f"{api}/flow_runs/{run['id']}", timeout=60).json()["state"]["type"]) in FINAL
                else None
            ),
            "the tick's run ending",
            24 * 3600,
        )
        seconds = time.perf_counter() - started
        children = child_runs(api, tick)
    finally:
        for name in names:
            prefect.kill_worker(name)
        Archive(settings).index.destroy()
    per = [float(c["total_run_time"]) / len(c["parameters"]["account_ids"]) for c in children]
    failed = sum(c["state"]["type"] != "COMPLETED" for c in children)
    return {
        "name": f"{workers} worker{'s' if workers > 1 else ''} (--limit {limit} each), runs of {group} accounts",
        "seconds": seconds,
        "per": per,
        "failed": failed + (state != "COMPLETED"),
    }


def child_runs(api: str, tick: datetime) -> list[dict[str, Any]]:
    """The per-account runs of the tick (their idempotency keys name it)."""
    dep = httpx.get(f"{api}/deployments/name/communis-harvest-accounts/harvest-accounts", timeout=60).json()["id"]
    found: list[dict[str, Any]] = []
    while True:
        page = httpx.post(
            f"{api}/flow_runs/filter",
            json={"deployments": {"id": {"any_": [dep]}}, "limit": 200, "offset": len(found)},
            timeout=60,
        ).json()
        found += page
        if len(page) < 200:
            break
    key = tick_text(tick)
    return [r for r in found if key in (r.get("idempotency_key") or "")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--posts", type=int, default=3, help="posts per simulated account")
    parser.add_argument("--limit", type=int, default=3, help="flow runs at once per worker (`--limit`)")
    parser.add_argument("--group", type=int, default=20, help="accounts per flow run (COMMUNIS_HARVEST_FANOUT_GROUP)")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated")
    parser.add_argument("--no-baseline", action="store_true", help="skip the in-process baseline")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs of server and workers)")
    args = _smoke.parse(parser, accounts=8, posts=2, group=2)
    tmp = Path(tempfile.mkdtemp(prefix="communis-fanout-"))
    rows: list[dict[str, Any]] = []

    def show(row: dict[str, Any]) -> None:
        rows.append(row)
        print(
            f"{row['name']}: {row['seconds']:,.1f} s, {args.accounts / row['seconds'] * 60:,.1f} accounts/min",
            flush=True,
        )

    try:
        with Simulator(WorldConfig(rate_limit=10**9).resized(args.posts)) as sim:
            accounts = tmp / "accounts.yaml"
            write_accounts(accounts, sim, args.accounts)
            if not args.no_baseline:
                show(baseline(fresh_settings(tmp, "base", accounts)))
            with LocalPrefect.start(tmp / "prefect", {"PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"}) as prefect:
                prefect.deploy(["harvest", "harvest-accounts"])
                tick = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
                for workers in (int(w) for w in args.workers.split(",")):
                    settings = fresh_settings(tmp, f"w{workers}", accounts)
                    show(
                        fanned_out(
                            prefect, settings, workers, args.limit, args.group, tick + timedelta(minutes=workers)
                        )
                    )
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0]["seconds"]  # the first row measured: the baseline unless --no-baseline
    print(
        f"\n# {args.accounts} accounts of {args.posts} posts (half Mastodon, half WordPress), harvested from scratch\n"
    )
    print("| configuration | seconds | accounts/min | × baseline | median s per account (in its run) | failed |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        per_min = args.accounts / r["seconds"] * 60
        median = statistics.median(r["per"]) if r["per"] else float("nan")
        print(
            f"| {r['name']} | {r['seconds']:,.1f} | {per_min:,.1f} | {base / r['seconds']:.2f} | "
            f"{median:.2f} | {r['failed']} |"
        )


if __name__ == "__main__":
    main()
