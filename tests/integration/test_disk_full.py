"""The work folder's disk fills up in the middle of a harvest: one line, nothing half-written stored, and
the run after space is freed completes with every item once.

The work folder (settings.data_dir) is a small tmpfs the test mounts (it runs as root; where mounting is
refused the test is skipped and says why). The store is an ordinary folder, so only the work folder fills.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.config import Settings
from archive.context import Archive
from archive.errors import CommunisError
from archive.harvest.runner import harvest_one
from archive.warc import located_records
from archive.warc.naming import is_warc_key
from schemas import Account
from simulator import Simulator, WorldConfig
from tests.harvesting import sim_now

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "work-disk"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(where)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the work folder (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_mid_harvest_gives_one_line_and_the_next_run_completes(small_disk: Path, settings: Settings) -> None:
    config = settings.model_copy(update={"data_dir": small_disk})
    arc = Archive(config)
    with Simulator(WorldConfig().resized(40)) as sim:
        account = Account(
            id="sv-masto",
            platform="mastodon",
            handle="@sundsvik",
            display_name="Sundsvik",
            department="Kommunstyrelsen",
            retention_class="social-10y",
            base_url=sim.mastodon_url,
        )
        try:
            error: str | None
            try:
                report = harvest_one(config, arc.store, arc.index, account, now=sim_now(sim))
                error = report.error
                assert not report.ok
            except CommunisError as exc:
                error = exc.one_line()
            assert error and "\n" not in error
            assert error.lower().startswith("no space left on device") and str(small_disk) in error, error
            # Nothing half-written stored: every stored WARC file reads back whole and has its manifest.
            for key in (k for k in arc.store.keys("warc/") if is_warc_key(k)):
                with arc.store.open(key) as fh:
                    list(located_records(fh, key))
                assert arc.store.head(f"manifest/sv-masto/{key.rsplit('/', 1)[-1]}.json") is not None

            subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
            again = harvest_one(config, arc.store, arc.index, account, now=sim_now(sim))
            assert again.ok, again.error
            arc.index.es.indices.refresh(index=arc.index.alias)
            truth = {i["id"] for i in sim.state()["mastodon"]["items"] if i["visible"] and not i["deleted"]}
            docs = list(arc.index.scan({"term": {"account": "sv-masto"}}))
            assert truth <= {d["item_id"] for d in docs}
            in_warc: Counter[str] = Counter()
            for key in (k for k in arc.store.keys("warc/") if is_warc_key(k)):
                with arc.store.open(key) as fh:
                    in_warc.update(r.record_id for r in located_records(fh, key))
            assert max(in_warc.values()) == 1 and set(in_warc) == {d["record_id"] for d in docs}
        finally:
            arc.index.destroy()
