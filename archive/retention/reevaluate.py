"""A changed schedule re-evaluated over the records already archived: what changed, and longer locks.

Every record some active rule of the previous or the new schedule matches is read once (the
fields the schedule needs) and evaluated under both. A record changed if its active rule, its
class or its disposal date differs; changes are counted per (old rule, new rule, old class, new
class, how the disposal date moved). For each stored file holding a changed record, the latest
period end of its records under the new schedule is its new lower bound on Object Lock: when it
is later than the file's retain-until, the lock is extended (file and manifest); a lock is never
shortened, so a shorter period is reported as taking effect when the current lock expires (the
planner already keeps a file until every record in it is due, whatever the lock says).

The previous schedule is given as a file (`--previous OLD.yaml`): a disposition list records only
its schedule's SHA-256, so the text of an older schedule is the records manager's (it is the adopted
document, kept in the registry with its decision). The report is stored write-once as
`retention/reevaluations/{id}.json`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from datetime import datetime

from schemas.schedule import LockChange, RecordChange, Reevaluation, RetentionRule

from ..errors import ObjectExists, ObjectLocked, ObjectMissing
from ..index import RecordIndex, queries
from ..store import BlobStore
from ..warc.naming import manifest_key
from . import book
from .schedule import DOC_FIELDS, Schedule, match_fields

EXAMPLES = 5
#: (old rule, new rule, old class, new class, how the disposal date moved)
_What = tuple[str | None, str | None, str | None, str | None, str]


def reevaluation_key(reevaluation_id: str) -> str:
    return f"{book.PREFIX}reevaluations/{reevaluation_id}.json"


def _scope(previous: Schedule, schedule: Schedule) -> list[dict[str, list[str]]]:
    """Records an active rule of either schedule matches (a record no rule covers in both stays kept)."""
    return [match_fields(r.match) for s in (previous, schedule) for r in s.rules if r.active]


def _disposal(old: datetime | None, new: datetime | None) -> str:
    if old is None and new is None:
        return "kept"
    if old is None:
        return "now disposable"
    if new is None:
        return "now kept"
    return "later" if new > old else "earlier" if new < old else "same"


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _id(rule: RetentionRule | None) -> str | None:
    return rule.id if rule is not None else None


def reevaluate(
    store: BlobStore,
    index: RecordIndex,
    previous: Schedule,
    schedule: Schedule,
    *,
    by: str,
    now: datetime,
    dry_run: bool = False,
    save: bool = True,
) -> Reevaluation:
    """Compare `previous` and `schedule` over the archived records; extend locks unless `dry_run`."""
    counts: dict[_What, int] = defaultdict(int)
    examples: dict[_What, list[str]] = defaultdict(list)
    change_files: dict[_What, set[str]] = defaultdict(set)
    # Per file: the latest period end of its records under each schedule, and whether a record changed.
    old_end: dict[str, datetime | None] = {}
    new_end: dict[str, datetime | None] = {}
    touched: set[str] = set()
    scanned = changed = 0
    for doc in queries.stored_matching_any(
        index,
        _scope(previous, schedule),
        fields=[*DOC_FIELDS, "warc_key"],
        action="scan the index to re-evaluate the schedule",
    ):
        key = str(doc["warc_key"])
        scanned += 1
        old_rule, new_rule = previous.rule_for(doc), schedule.rule_for(doc)
        old_when = previous.disposal_date(old_rule, doc) if old_rule else None
        new_when = schedule.disposal_date(new_rule, doc) if new_rule else None
        old_end[key] = _latest(old_end.get(key), previous.period_end(old_rule, doc) if old_rule else None)
        new_end[key] = _latest(new_end.get(key), schedule.period_end(new_rule, doc) if new_rule else None)
        what = (
            _id(old_rule),
            _id(new_rule),
            old_rule.retention_class if old_rule else None,
            new_rule.retention_class if new_rule else None,
            _disposal(old_when, new_when),
        )
        if what[0] == what[1] and what[2] == what[3] and old_when == new_when:
            continue
        changed += 1
        touched.add(key)
        counts[what] += 1
        change_files[what].add(key)
        if len(examples[what]) < EXAMPLES:
            examples[what].append(str(doc["record_id"]))
    changes = [
        RecordChange(
            old_rule=w[0],
            new_rule=w[1],
            old_class=w[2],
            new_class=w[3],
            disposal=w[4],
            records=n,
            files=len(change_files[w]),
            examples=examples[w],
        )
        for w, n in sorted(counts.items(), key=lambda t: -t[1])
    ]
    locks = [_lock(store, key, old_end.get(key), new_end.get(key), dry_run) for key in sorted(touched)]
    result = Reevaluation(
        id=f"reeval-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}",
        at=now,
        by=by,
        previous_schedule_sha256=previous.sha256,
        schedule_sha256=schedule.sha256,
        dry_run=dry_run,
        scanned=scanned,
        changed=changed,
        changes=changes,
        locks=[lock for lock in locks if lock is not None],
    )
    if save:
        with contextlib.suppress(ObjectExists):
            store.put_bytes(reevaluation_key(result.id), result.model_dump_json(indent=2).encode())
    return result


def _lock(store: BlobStore, key: str, old: datetime | None, new: datetime | None, dry_run: bool) -> LockChange | None:
    """Extend the file's (and its manifest's) lock to `new` if that is later than it holds; never shorten."""
    if old == new:
        return None  # its records moved, but the file's latest period end did not
    stored = store.head(key)

    def change(outcome: str) -> LockChange:
        return LockChange(
            key=key,
            old_period_end=old,
            new_period_end=new,
            locked_until=stored.retain_until if stored else None,
            outcome=outcome,
        )

    if stored is None:
        return change("not in the store")
    if new is None:
        return change("no period now (no active rule covers its records): the lock stays as it is")
    if stored.retain_until is not None and new <= stored.retain_until:
        if old is not None and new < old:
            return change(
                f"shorter: takes effect when the current lock expires ({stored.retain_until:%Y-%m-%d %H:%M} UTC)"
            )
        return change("locked long enough")
    if dry_run:
        return change("would be extended")
    try:
        store.extend_retention(key, new)
    except (ObjectLocked, ObjectMissing) as exc:
        return change(f"refused: {exc}")
    account, name = key.split("/")[1], key.rsplit("/", 1)[-1]
    try:
        store.extend_retention(manifest_key(account, name), new)
    except ObjectMissing:
        pass
    except ObjectLocked as exc:
        return change(f"extended; manifest refused: {exc}")
    return change("extended")
