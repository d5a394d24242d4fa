"""Closed channels: the closure record, write-once beside the WARC files.

Kept in the archive store (not only in the accounts file) so every worker host sees it, it
survives an edited or lost accounts file, and it cannot be quietly undone: the key is never
overwritten. Scheduled harvests skip a closed account (harvest/runner.py `due_accounts`).
"""

from __future__ import annotations

from schemas.register import AccountClosure

from ..store import BlobStore

PREFIX = "accounts/closures/"


def closure_key(account: str) -> str:
    return f"{PREFIX}{account}.json"


def load_closure(store: BlobStore, account: str) -> AccountClosure | None:
    if store.head(closure_key(account)) is None:
        return None
    with store.open(closure_key(account)) as fh:
        return AccountClosure.model_validate_json(fh.read())


def save_closure(store: BlobStore, closure: AccountClosure) -> None:
    """Write once (ObjectExists if the account's closure is already recorded)."""
    store.put_bytes(closure_key(closure.account), closure.model_dump_json(indent=2).encode("utf-8"))


def closed_accounts(store: BlobStore) -> set[str]:
    return {key.removeprefix(PREFIX).removesuffix(".json") for key in store.keys(PREFIX) if key.endswith(".json")}
