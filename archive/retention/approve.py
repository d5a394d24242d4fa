"""Approving a disposition list: a records manager who did not plan it signs it (write-once)."""

from __future__ import annotations

from datetime import datetime

from schemas.schedule import Approval, DispositionList, ListStatus

from ..config import Settings
from ..store import BlobStore
from . import book
from .actors import authorised, require_other


def approve(
    settings: Settings, store: BlobStore, list_id: str, *, by: str, now: datetime, note: str = ""
) -> DispositionList:
    """Approve the list as `by`; refused for the planner, an unauthorised user, or a list approved already."""
    plan = book.load_list(store, list_id)
    if plan.status is not ListStatus.PLANNED:
        raise book.RetentionError(f"list {list_id} is already {plan.status.value}")
    name = authorised(settings, by, "approve a disposition list")
    require_other(name, plan.planned_by, "approve", "planned")
    book.save_approval(store, Approval(list_id=list_id, by=name, at=now, note=note))
    return book.load_list(store, list_id)
