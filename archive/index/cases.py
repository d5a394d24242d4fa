"""The named queries the request and hold use cases need (archive/usecases/), so that no caller
above the index builds query DSL or reaches for the client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .client import translate
from .indexer import RecordIndex

#: Ids per multi-get: a case's masks can name thousands of records.
MGET_BATCH = 1000


def records_held(index: RecordIndex, hold_id: str) -> int:
    """How many record versions carry the hold's id now."""
    return index.count({"term": {"legal_holds": hold_id}})


def record_sources(index: RecordIndex, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored documents (without the raw platform JSON) of the records that exist, by id."""
    wanted = sorted(set(ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), MGET_BATCH):
        with translate("read the records of masking suggestions"):
            answer = index.es.mget(index=index.alias, ids=wanted[start : start + MGET_BATCH], source_excludes=["raw"])
        found.update({d["_id"]: d["_source"] for d in answer["docs"] if d.get("found")})
    return found
