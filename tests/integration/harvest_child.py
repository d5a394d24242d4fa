"""A harvest run in a child process, for test_crash_points.py: `python -m tests.integration.harvest_child CONFIG`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from archive.config import Settings
from archive.context import Archive
from archive.harvest.runner import harvest_one
from schemas import Account


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    settings = Settings(**config["settings"])
    arc = Archive(settings)
    now = datetime.fromisoformat(config["now"])
    for raw in config["accounts"]:
        report = harvest_one(settings, arc.store, arc.index, Account.model_validate(raw), now=now)
        print(json.dumps({"account": report.account, "ok": report.ok, "error": report.error}), flush=True)


if __name__ == "__main__":
    main()
