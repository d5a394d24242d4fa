"""Planning a disposition list streams, and streaming changed nothing in the list it writes.

The corpus is fixed (`corpus()`: a seeded generator of plain index documents, bulk-indexed into real
Elasticsearch, and stand-in files in a local store), so the list planned from it is too, but for its
random id. tests/integration/golden/retention-plan.{json,csv} are the list objects the planner wrote
from this corpus *before* planning streamed (the in-memory planner at commit 757d322: `python -m
tests.integration.test_retention_streaming` run against that code wrote them). The streaming planner
must write the same bytes, at any page size: same files in the same order, same records in the same
order, same fields. And it must not hold the candidates: every scanned document is watched (weakly)
while it plans, and at no page does it keep more than the page it is working on.
"""

from __future__ import annotations

import gc
import hashlib
import math
import random
import sys
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import helpers

from archive.config import Settings
from archive.index import RecordIndex, open_index, queries
from archive.retention import book
from archive.retention import plan as planning
from archive.retention.schedule import Schedule, load_schedule
from archive.store.local import LocalStore
from schemas import LockMode
from schemas.schedule import DispositionList

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "golden"
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
PLANNED_AT = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
ID_MARK = "disp-LIST-ID"

SCHEDULE = """
classes:
  - name: gallras-1y
    description: Ett år från insamling.
    years: 1
    trigger: captured
  - name: gallras-2y
    description: Två år efter utgången av det kalenderår handlingen kom in.
    years: 2
    trigger: end_of_year
rules:
  - id: egna-inlagg
    description: Kommunens egna inlägg
    match: {directions: [upprattad]}
    class: bevara
    action: keep
    decision: {body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 45"}
  - id: skolans-kommentarer
    description: "Kommentarer på skolans konto: bevaras"
    match: {accounts: [skolan], kinds: [comment]}
    class: bevara
    action: keep
    decision: {body: Utbildningsnämnden, date: 2025-04-01, reference: "UN 2025-04-01 § 9"}
  - id: kommentarer
    description: Medborgares kommentarer
    series: Sociala medier – inkomna kommentarer
    match: {directions: [inkommen], kinds: [comment]}
    class: gallras-1y
    action: dispose
    decision: {body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 46", schedule: WA CORE,
               item: GS2016-009}
  - id: svar
    description: Svar från medborgare, "inkomna"
    series: "=Svar | inkomna"
    match: {directions: [inkommen], kinds: [reply]}
    class: gallras-2y
    action: dispose
    decision: {body: Kommunstyrelsen, date: 2025-03-12, reference: "KS 2025-03-12 § 47"}
  - id: inkomna-inlagg
    description: Inlägg av andra (utkast)
    match: {directions: [inkommen], kinds: [post]}
    class: short-2y
    action: dispose
"""

ACCOUNTS = ["kommunen", "biblioteket", "skolan", "fritid-åland"]


def _id(n: int) -> str:
    """Record ids whose order is not the corpus order: hex, some upper case, some longer, one non-ASCII."""
    h = hashlib.sha256(f"rec-{n}".encode()).hexdigest()
    return [h[:16], h[:16].upper(), h[:24], f"ö{h[:10]}", f"{h[:3]}-{n}"][n % 5]


def corpus() -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The documents and the stand-in files to store (key → bytes; absent: a file that is not stored)."""
    r = random.Random(20261203)
    docs: list[dict[str, Any]] = []
    n = 0
    for account in ACCOUNTS:
        for month in range(24):
            year, mon = 2023 + month // 12, month % 12 + 1
            ym = f"{year}{mon:02d}"
            run = f"r{r.randrange(1, 4)}"
            keys = {
                cls: f"warc/{account}/{account}-{cls}-{ym}-{run}-{r.randrange(1, 3):05d}.warc.gz"
                for cls in ("gallras-1y", "gallras-2y", "bevara")
            }
            for _ in range(r.randrange(0, 11)):
                roll = r.random()
                kind, direction = (
                    ("comment", "inkommen")
                    if roll < 0.55
                    else ("reply", "inkommen")
                    if roll < 0.85
                    else ("post", "inkommen")
                    if roll < 0.9
                    else ("page", "inkommen")
                    if roll < 0.93
                    else ("post", "upprattad")
                )
                cls = "gallras-1y" if kind == "comment" else "gallras-2y" if kind == "reply" else "bevara"
                if kind in ("comment", "reply") and r.random() < 0.1:
                    cls = "gallras-2y" if cls == "gallras-1y" else "gallras-1y"  # a file of mixed rules
                captured = datetime(year, mon, 1, tzinfo=UTC) + timedelta(seconds=r.randrange(27 * 86400))
                doc: dict[str, Any] = {
                    "record_id": _id(n),
                    "platform": "mastodon",
                    "account": account,
                    "department": "Kultur" if account == "biblioteket" else "Kommunstyrelsen",
                    "item_id": f"item-{n}",
                    "kind": kind,
                    "direction": direction,
                    "hashtags": [],
                    "captured_at": captured.isoformat(),
                    "published_at": (captured - timedelta(minutes=r.randrange(1, 600))).isoformat(),
                    "warc_key": keys[cls],
                    "retention_class": cls,
                    "is_latest": True,
                }
                if r.random() < 0.9:
                    doc["warc"] = {"filename": keys[cls].rsplit("/", 1)[-1], "sha256": f"{n:064x}"}
                if r.random() < 0.8:
                    doc["content_sha256"] = hashlib.sha256(f"content-{n}".encode()).hexdigest()
                if r.random() < 0.02:
                    doc["legal_holds"] = ["hold-mål-1"]
                docs.append(doc)
                n += 1
    # Own posts (kept) pointing at media in files of due records: those files must stay.
    due_files = sorted({d["warc_key"] for d in docs if d["kind"] == "comment" and d["account"] == "kommunen"})
    for i, key in enumerate(due_files[3:9:2]):
        docs.append(
            {
                "record_id": _id(n),
                "platform": "mastodon",
                "account": "kommunen",
                "kind": "post",
                "direction": "upprattad",
                "captured_at": "2025-02-01T10:00:00+00:00",
                "warc_key": f"warc/kommunen/kommunen-bevara-202502-r{i}-00001.warc.gz",
                "retention_class": "bevara",
                "media": [{"url": f"https://social.example/m/{i}.jpg", "warc": {"filename": key.rsplit("/", 1)[-1]}}],
            }
        )
        n += 1
    files: dict[str, int] = {}
    for d in docs:
        files[d["warc_key"]] = files.get(d["warc_key"], 0) + 1
    stored = {k: 100 * c + len(k) for i, (k, c) in enumerate(sorted(files.items())) if i % 11 != 5}
    return docs, stored


@dataclass
class Planned:
    list_json: bytes
    list_csv: bytes
    list_id: str


def build(settings: Settings) -> tuple[RecordIndex, LocalStore, Schedule]:
    """Index the corpus and store its stand-in files; the schedule the list is planned under."""
    schedule_file = settings.data_dir / "retention.yaml"
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    schedule_file.write_text(SCHEDULE)
    settings = settings.model_copy(update={"retention_file": schedule_file})
    index = open_index(settings)
    index.ensure()
    docs, stored = corpus()
    helpers.bulk(index.es, ({"_index": index.alias, "_id": d["record_id"], "_source": d} for d in docs))
    index.es.indices.refresh(index=index.alias)
    store = LocalStore(settings.store_path)
    until = datetime(2027, 1, 1, tzinfo=UTC)
    for key, size in stored.items():
        data = (key.encode() * (size // len(key) + 1))[:size]
        store.put_bytes(key, data, retain_until=until, lock_mode=LockMode.GOVERNANCE, content_type="application/warc")
    return index, store, load_schedule(settings)


def run_plan(settings: Settings, index: RecordIndex, store: LocalStore, schedule: Schedule, **kw: Any) -> Planned:
    listed = planning.plan(settings, store, index, schedule, as_of=AS_OF, planned_by="os:anna", now=PLANNED_AT, **kw)

    def read(ext: str) -> bytes:
        with store.open(f"retention/lists/{listed.id}.{ext}") as fh:
            return fh.read().replace(listed.id.encode(), ID_MARK.encode())

    return Planned(read("json"), read("csv"), listed.id)


@pytest.fixture
def planned_world(settings: Settings) -> Iterator[tuple[Settings, RecordIndex, LocalStore, Schedule]]:
    index, store, schedule = build(settings)
    yield settings.model_copy(update={"retention_file": schedule.source}), index, store, schedule
    index.destroy()


def test_golden_corpus_covers_every_outcome() -> None:
    """The golden list is worth comparing: it lists files, keeps files for each reason, and counts each exclusion."""
    raw = (GOLDEN / "retention-plan.json").read_text()
    listed = DispositionList.model_validate_json(raw)
    assert len(listed.groups) >= 10 and listed.record_count >= 50
    assert any(len(g.rules) == 2 for g in listed.groups)  # a file of mixed rules cites both
    assert any(g.file_sha256 is None for g in listed.groups) and any(g.file_sha256 for g in listed.groups)
    reasons = {k.reason.split(":")[1].strip() for k in listed.kept_files}
    assert reasons == {
        "also holds retained records",
        "holds media of retained records",
        "another file of its disposal group (revisits) stays",
    }
    e = listed.excluded
    assert min(e.held, e.no_rule, e.draft_rule, e.not_due, e.kept_by_rule, e.file_kept) > 0
    ids = [r.record_id for g in listed.groups for r in g.records]
    assert any(not i.isascii() for i in ids) and any(i.isupper() for i in ids)


@pytest.mark.parametrize("page_size", [None, 7])
def test_streamed_list_is_byte_for_byte_the_old_planners(
    planned_world: tuple[Settings, RecordIndex, LocalStore, Schedule], page_size: int | None
) -> None:
    settings, index, store, schedule = planned_world
    got = run_plan(settings, index, store, schedule, **({"page_size": page_size} if page_size else {}))
    assert got.list_json.decode() == (GOLDEN / "retention-plan.json").read_text()
    assert got.list_csv == (GOLDEN / "retention-plan.csv").read_bytes()
    assert got.list_id.startswith(f"disp-{AS_OF:%Y%m%d}-")
    # The summary the use case, CLI and flow get agrees with the stored list.
    stored = book.load_list(store, got.list_id)
    assert stored.record_count > 0


class _Watched(dict[str, Any]):
    """A scanned document that can be watched with a weak reference (a plain dict cannot)."""

    __slots__ = ("__weakref__",)


def test_planning_holds_one_page_of_candidates_not_all(
    planned_world: tuple[Settings, RecordIndex, LocalStore, Schedule], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every document the scan yields is watched; when the next page is fetched, gc has run, and what is
    still alive was kept by the planner. The in-memory planner kept every due document (hundreds here)."""
    settings, index, store, schedule = planned_world
    page_size = 25
    refs: list[weakref.ref[_Watched]] = []
    pages: list[int] = []
    held_at_fetch: list[int] = []
    real = queries.disposal_candidate_pages

    def watched(*args: Any, **kw: Any) -> Iterator[list[dict[str, Any]]]:
        assert kw["page_size"] == page_size
        for page in real(*args, **kw):
            gc.collect()
            held_at_fetch.append(sum(1 for r in refs if r() is not None))
            docs = [_Watched(d) for d in page]
            refs.extend(weakref.ref(d) for d in docs)
            pages.append(len(docs))
            yield docs  # type: ignore[misc]

    monkeypatch.setattr(queries, "disposal_candidate_pages", watched)
    got = run_plan(settings, index, store, schedule, page_size=page_size)
    scanned = sum(pages)
    assert scanned > 10 * page_size and len(pages) == math.ceil(scanned / page_size)
    assert max(held_at_fetch) <= page_size  # the page being worked on, nothing older
    assert got.list_json.decode() == (GOLDEN / "retention-plan.json").read_text()


def write_golden() -> None:
    """Plan the corpus with the code as it is and write the golden list (only ever from the pre-streaming code)."""
    from archive.index.client import make_client

    tmp = Path(f"/tmp/communis-golden-{uuid.uuid4().hex[:8]}")
    settings = Settings(data_dir=tmp / "data", store_path=tmp / "store", es_index_prefix=f"test-{uuid.uuid4().hex[:8]}")
    index, store, schedule = build(settings)
    try:
        got = run_plan(settings.model_copy(update={"retention_file": schedule.source}), index, store, schedule)
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / "retention-plan.json").write_bytes(got.list_json)
        (GOLDEN / "retention-plan.csv").write_bytes(got.list_csv)
    finally:
        index.destroy()
        make_client(settings).close()


if __name__ == "__main__":
    write_golden()
    sys.exit(0)
