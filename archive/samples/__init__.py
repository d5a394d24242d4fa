"""Bundled sample captures of a fictional municipality (Sundsvik), used by the demo and tests."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
ACCOUNTS_FILE = SAMPLES / "accounts.yaml"


def sample_file(account_id: str) -> Path:
    return SAMPLES / f"{account_id}.jsonl"
