"""WARC file names and storage keys.

`{account}-{retention class}-{YYYYMM}-{run}-{seq}.warc.gz`: one file holds one retention class
of one account for one month, so it expires as a whole.
"""

from __future__ import annotations

from datetime import datetime

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"


def warc_name(account: str, retention_class: str, month: datetime, run_id: str, seq: int) -> str:
    return f"{account}-{retention_class}-{month:%Y%m}-{run_id}-{seq:05d}.warc.gz"


def warc_key(account: str, name: str) -> str:
    """Storage key: per-account prefix spreads S3 request load across partitions."""
    return f"warc/{account}/{name}"


def manifest_key(account: str, name: str) -> str:
    return f"manifest/{account}/{name}.json"


def is_warc_key(key: str) -> bool:
    return key.startswith("warc/") and key.endswith(WARC_SUFFIX)
