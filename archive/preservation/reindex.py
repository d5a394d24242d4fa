"""Rebuild the whole index from the stored WARC files alone (docs/design.md, principle 1).

Safe to interrupt: documents are keyed by record id, so a rerun (with or without dropping the
index) gives every record exactly once, and hold marks are put back from the holds in the store
at the end; until then the files' legal holds in the store still refuse any deletion.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..faults import CrashPoint, crash_point
from ..holds import reapply_holds
from ..index import RecordIndex, to_document
from ..index.documents import Document
from ..store import BlobStore
from ..warc import iter_records, located_records
from ..warc.naming import is_warc_key

log = logging.getLogger(__name__)


@dataclass
class ReindexReport:
    files: int = 0
    documents: int = 0
    errors: int = 0
    held: int = 0


def _warcinfo(store: BlobStore, key: str) -> dict[str, str]:
    """The fields of the file's own warcinfo record (retention class, department, …)."""
    with store.open(key) as fh:
        first = next(iter_records(fh))
    return dict(line.split(": ", 1) for line in first.content.decode("utf-8").splitlines() if ": " in line)


def reindex(
    store: BlobStore, index: RecordIndex, *, drop: bool = True, progress: Callable[[str], None] | None = None
) -> ReindexReport:
    """Drop (optionally) and rebuild the record index from every WARC under `warc/`."""
    report = ReindexReport()
    if drop:
        index.drop()
    index.ensure()
    index.set_refresh("-1")

    def documents() -> Iterator[Document]:
        for key in store.keys("warc/"):
            if not is_warc_key(key):
                continue
            info = _warcinfo(store, key)
            # Files written before departments were recorded have none: their documents get none.
            rclass, department = info["retention-class"], info.get("department")
            with store.open(key) as fh:
                for n, record in enumerate(located_records(fh, key)):
                    if n:
                        crash_point(CrashPoint.REINDEX_MID_FILE)
                    report.documents += 1
                    yield to_document(record, warc_key=key, retention_class=rclass, department=department)
            report.files += 1
            if progress:
                progress(key)

    try:
        result = index.bulk(documents(), chunk_size=1000, refresh=True, check_older=False)
    finally:
        index.set_refresh("1s")
    report.errors = len(result.errors)
    # Hold marks are not in the WARC files (holds are kept beside them): put them back.
    report.held = reapply_holds(store, index)
    return report
