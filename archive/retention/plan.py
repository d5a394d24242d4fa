"""Planning a disposition: which stored files may go on `as_of`, under which rule, and what stays.

Scale: the index may hold millions of records, so the planner scans only records some disposing
rule could have made due (a filter on the rules' match fields and the shortest period) and reads
only the fields it needs. A file goes whole or not at all (one file = one account × class ×
month), so it is listed only when every record in it is due, unheld and in no open request,
no retained record elsewhere points into it for its media, and no retained file of its disposal
group (the year of its account and class, within which revisits point) remains.

Memory: planning streams. The scan reads a page of candidates at a time (one point in time),
keeps a small tally per file (counts, dates, rules) and spools each due record's id and digests
to disk (spool.py); once every file's fate is known, the list is written from the spool one file
at a time (book.write_list). What stays in memory grows with the number of files, not records.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas import RetentionTrigger
from schemas.cases import CaseStatus
from schemas.schedule import (
    DispositionList,
    ExcludedCounts,
    FileGroup,
    KeptFile,
    ListSummary,
    RecordEntry,
    RetentionRule,
    RuleCitation,
)

from ..config import Settings
from ..index import RecordIndex, queries
from ..index.client import make_client
from ..index.search import build_query, saved_query
from ..requests.casebook import CaseBook
from ..store import BlobStore
from . import book
from .schedule import DOC_FIELDS, Schedule, match_fields, period_text
from .spool import DueEntry, DueSpool

SCAN_FIELDS = [*DOC_FIELDS, "warc_key", "legal_holds", "warc.sha256", "content_sha256"]


def open_case_record_ids(settings: Settings, index: RecordIndex) -> set[str]:
    """Records in an open public-records request: the latest snapshot, or the searches of a case not yet run."""
    cases = CaseBook(make_client(settings), settings.es_index_prefix)
    ids = cases.open_record_ids()
    for case in cases.cases(CaseStatus.OPEN):
        if case.snapshots:
            continue
        for search in case.searches:
            query = build_query(saved_query(search), languages=index.has_language_fields)
            ids.update(queries.ids_matching(index, query, action="read the records of an open request"))
    return ids


@dataclass
class _File:
    """What the scan learned about one stored file: counts and bounds, never its records (those are spooled)."""

    due: int = 0
    blocked: int = 0  # scanned records of the file that are not disposable
    rules: dict[str, RetentionRule] = field(default_factory=dict)
    first_id: str | None = None  # the least due record id, whose account the list entry names
    account: str = ""
    first_captured: str | None = None
    last_captured: str | None = None
    retention_met: datetime | None = None

    def add_due(self, doc: dict[str, Any], rule: RetentionRule, when: datetime) -> None:
        self.due += 1
        self.rules.setdefault(rule.id, rule)
        record_id, captured = str(doc["record_id"]), str(doc["captured_at"])
        if self.first_id is None or record_id < self.first_id:
            self.first_id, self.account = record_id, str(doc["account"])
        if self.first_captured is None or captured < self.first_captured:
            self.first_captured = captured
        if self.last_captured is None or captured > self.last_captured:
            self.last_captured = captured
        if self.retention_met is None or when > self.retention_met:
            self.retention_met = when


def plan(
    settings: Settings,
    store: BlobStore,
    index: RecordIndex,
    schedule: Schedule,
    *,
    as_of: datetime,
    planned_by: str,
    now: datetime,
    save: bool = True,
    page_size: int = queries.BATCH,
) -> ListSummary:
    """Build the disposition list for `as_of` and (by default) save it write-once with its CSV; its summary.

    The whole list is `book.load_list(store, summary.id)`. `page_size`: candidates per scan page.
    """
    excluded = ExcludedCounts(**_kept_counts(index, schedule))
    open_ids = open_case_record_ids(settings, index)
    files: dict[str, _File] = defaultdict(_File)
    counts: dict[str, int] = defaultdict(int)
    shortest = schedule.shortest_period()
    with DueSpool() as spool:
        if shortest is not None:
            rules = [match_fields(r.match) for r in schedule.rules if schedule.disposes(r)]
            for page in queries.disposal_candidate_pages(
                index, rules, older_than=as_of - shortest, fields=SCAN_FIELDS, page_size=page_size
            ):
                spool.add(_classify_page(page, schedule, as_of, open_ids, files, counts))
        due_files = {k: f for k, f in files.items() if f.due}
        totals = queries.records_per_file(index, list(due_files))
        kept: dict[str, KeptFile] = {}
        for key, f in due_files.items():
            retained = totals.get(key, 0) - f.due
            if retained > 0:
                kept[key] = KeptFile(
                    key=key,
                    reason="file kept: also holds retained records",
                    due_records=f.due,
                    retained_records=retained,
                )
        _keep_needed_files(index, due_files, kept, schedule)
        counts["file_kept"] = sum(k.due_records for k in kept.values())
        header = DispositionList(
            id=f"disp-{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}",
            as_of=as_of,
            planned_by=planned_by,
            planned_at=now,
            schedule_sha256=schedule.sha256,
            kept_files=sorted(kept.values(), key=lambda k: k.key),
            excluded=excluded.model_copy(update=dict(counts)),
        )
        going = sorted(k for k in due_files if k not in kept)
        return book.write_list(store, header, _groups(store, going, due_files, spool, schedule), save=save)


def _groups(
    store: BlobStore, keys: list[str], files: dict[str, _File], spool: DueSpool, schedule: Schedule
) -> Iterator[FileGroup]:
    """The list entries of `keys`, in order, each read back from the spool when it is written."""
    for key in keys:
        yield _group(store, key, files[key], spool.entries(key), schedule)


def _classify_page(
    page: list[dict[str, Any]],
    schedule: Schedule,
    as_of: datetime,
    open_ids: set[str],
    files: dict[str, _File],
    counts: dict[str, int],
) -> list[tuple[str, DueEntry]]:
    """Tally a page of scanned records on their files; the due ones as (file key, entry) to spool."""
    due: list[tuple[str, DueEntry]] = []
    for doc in page:
        key = str(doc["warc_key"])
        found = _classify(doc, schedule, as_of, open_ids, files[key], counts)
        if found is not None:
            rule, when = found
            files[key].add_due(doc, rule, when)
            due.append(
                (
                    key,
                    DueEntry(
                        str(doc["record_id"]),
                        rule.id,
                        (doc.get("warc") or {}).get("sha256"),
                        doc.get("content_sha256"),
                    ),
                )
            )
    return due


def _classify(
    doc: dict[str, Any],
    schedule: Schedule,
    as_of: datetime,
    open_ids: set[str],
    entry: _File,
    counts: dict[str, int],
) -> tuple[RetentionRule, datetime] | None:
    """The rule and date one scanned record is due under, or None: counted why it stays (which blocks its file)."""
    rule = schedule.rule_for(doc)
    when = schedule.disposal_date(rule, doc) if rule is not None else None
    if rule is None or when is None:
        entry.blocked += 1  # no rule or a keeping rule: counted index-wide by _kept_counts, or here
        if rule is not None:
            counts["kept_by_rule"] += 1
    elif when > as_of:
        entry.blocked += 1
        counts["not_due"] += 1
    elif doc.get("legal_holds"):
        entry.blocked += 1
        counts["held"] += 1
    elif doc["record_id"] in open_ids:
        entry.blocked += 1
        counts["open_case"] += 1
    else:
        return rule, when
    return None


def _kept_counts(index: RecordIndex, schedule: Schedule) -> dict[str, int]:
    """Index-wide: records no rule covers, and records only a draft rule covers (both kept)."""
    active = [match_fields(r.match) for r in schedule.rules if r.active]
    drafts = [match_fields(r.match) for r in schedule.rules if not r.active]
    no_rule, draft = queries.count_uncovered(index, active, drafts)
    return {"no_rule": no_rule, "draft_rule": draft}


def _name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def _group_prefix(key: str, schedule: Schedule) -> str:
    """`warc/{account}/{account}-{class}-{YYYY[MM]}`: the files a revisit in this file may point to or from.

    The WARC writer's disposal group: the month for classes counted from capture, else the year
    (end-of-year and permanent classes, and any class the schedule does not know).
    """
    account = key.split("/")[1]
    class_name, month, _run, _seq = _name(key).removeprefix(account + "-").rsplit("-", 3)
    rclass = schedule.classes.get(class_name)
    by_month = rclass is not None and not rclass.permanent and rclass.trigger is RetentionTrigger.CAPTURED
    return f"warc/{account}/{account}-{class_name}-{month if by_month else month[:4]}"


def _keep_needed_files(
    index: RecordIndex, due: dict[str, _File], kept: dict[str, KeptFile], schedule: Schedule
) -> None:
    """Keep due files that retained records need: media they point to, or a retained file of the same group.

    Repeated until nothing changes, since keeping one file can make another one needed.
    """
    changed = True
    while changed:
        changed = False
        going = [k for k in due if k not in kept]
        if not going:
            return
        for key in _media_needed(index, going):
            kept[key] = KeptFile(key=key, reason="file kept: holds media of retained records", due_records=due[key].due)
            changed = True
        going = [k for k in due if k not in kept]
        for key in _group_needed(index, going, schedule):
            kept[key] = KeptFile(
                key=key,
                reason="file kept: another file of its disposal group (revisits) stays",
                due_records=due[key].due,
            )
            changed = True


def _media_needed(index: RecordIndex, going: list[str]) -> set[str]:
    """Files among `going` that records outside `going` point to for their archived media."""
    by_name = {_name(k): k for k in going}
    return {
        by_name[n] for n in queries.media_files_referenced(index, list(by_name), from_outside=going) if n in by_name
    }


def _group_needed(index: RecordIndex, going: list[str], schedule: Schedule) -> set[str]:
    """Files among `going` whose disposal group still has a file with records that is not going."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in going:
        groups[_group_prefix(key, schedule)].append(key)
    needed: set[str] = set()
    for prefix, keys in groups.items():
        if queries.other_files_with_prefix(index, prefix, keys):
            needed.update(keys)
    return needed


def _group(store: BlobStore, key: str, f: _File, entries: list[DueEntry], schedule: Schedule) -> FileGroup:
    """The list entry for one file, citing every rule its records are due under (`entries` by record id)."""
    assert f.first_captured is not None and f.last_captured is not None and f.retention_met is not None
    stored = store.head(key)
    return FileGroup(
        key=key,
        account=f.account,
        file_class=_file_class(key, f.account),
        bytes=stored.size if stored else 0,
        file_sha256=stored.sha256 if stored else None,
        locked_until=stored.retain_until if stored else None,
        rules=[cite(schedule, r) for _, r in sorted(f.rules.items())],
        first_captured=datetime.fromisoformat(f.first_captured),
        last_captured=datetime.fromisoformat(f.last_captured),
        retention_met=f.retention_met,
        records=[
            RecordEntry(
                record_id=e.record_id, rule_id=e.rule_id, warc_sha256=e.warc_sha256, content_sha256=e.content_sha256
            )
            for e in entries
        ],
    )


def cite(schedule: Schedule, rule: RetentionRule) -> RuleCitation:
    assert rule.decision is not None  # only active rules make records due
    return RuleCitation(
        rule_id=rule.id,
        retention_class=rule.retention_class,
        series=rule.series_title,
        description=rule.description,
        decision=rule.decision,
        minimum_retention=period_text(schedule.class_of(rule), rule.trigger),
    )


def _file_class(key: str, account: str) -> str:
    """The class in the file's name (`{account}-{class}-{YYYYMM}-{run}-{seq}.warc.gz`)."""
    return _name(key).removeprefix(account + "-").rsplit("-", 3)[0]
