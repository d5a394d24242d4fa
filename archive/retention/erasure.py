"""A GDPR erasure request: logged, and answered with the rule and earliest disposal date. Deletes nothing.

Records in public archives may be erased only under a disposal decision or law (SE-17):
arkivlagen, TF and OSL apply alongside the GDPR. So a request is recorded (audit event and
PREMIS event) and answered with what the schedule says; the disposal itself happens, if ever,
through the ordinary planned, approved and executed disposition.
"""

from __future__ import annotations

from datetime import datetime

from schemas import AuditAction
from schemas.premis import PremisEventType, PremisOutcome
from schemas.schedule import ErasureAnswer

from ..access import open_audit
from ..config import Settings
from ..errors import RecordNotFound
from ..index import RecordIndex
from ..preservation.premis import open_premis
from .plan import open_case_record_ids
from .schedule import Schedule


def answer(settings: Settings, index: RecordIndex, schedule: Schedule, record_id: str) -> ErasureAnswer:
    """What the schedule says about the record: its rule, decision and earliest disposal date."""
    try:
        doc = index.get(record_id)
    except RecordNotFound:
        return ErasureAnswer(
            record_id=record_id, found=False, explanation="No such record in the archive: nothing to erase."
        )
    rule = schedule.rule_for(doc)
    held = bool(doc.get("legal_holds"))
    in_case = record_id in open_case_record_ids(settings, index)
    if rule is None:
        draft = schedule.draft_for(doc)
        text = "No adopted rule covers this record, so it is kept (keeping is the default; arkivlagen)."
        if draft is not None:
            text += f" Draft rule {draft.id} would cover it once a decision is adopted."
        return ErasureAnswer(
            record_id=record_id,
            found=True,
            rule_id=draft.id if draft else None,
            held=held,
            in_open_case=in_case,
            explanation=text,
        )
    when = schedule.disposal_date(rule, doc)
    decision = rule.decision.cite() if rule.decision else None
    if when is None:
        text = (
            f"Rule {rule.id} keeps this record ({rule.action.value}, class {rule.retention_class}) under "
            f"{decision}; it is not erased."
        )
    else:
        text = (
            f"Rule {rule.id} ({decision}) allows disposal from {when:%Y-%m-%d}; the record is erased then by "
            "the planned and approved disposition, not on request."
        )
    if held:
        text += " It is under a legal hold, which stops any disposal until released."
    if in_case:
        text += " It is part of an open public-records request."
    return ErasureAnswer(
        record_id=record_id,
        found=True,
        rule_id=rule.id,
        rule_active=True,
        action=rule.action,
        decision=decision,
        disposal_date=when,
        held=held,
        in_open_case=in_case,
        explanation=text,
    )


def erasure_request(
    settings: Settings,
    index: RecordIndex,
    schedule: Schedule,
    record_id: str,
    *,
    requested_by: str,
    now: datetime,
    note: str = "",
) -> ErasureAnswer:
    """Log the request (audit + PREMIS) and answer it; nothing is deleted."""
    result = answer(settings, index, schedule, record_id)
    audit = open_audit(settings)
    audit.ensure()
    audit.event(
        AuditAction.RETENTION_ERASURE,
        user=requested_by,
        role=None,
        target=record_id,
        client="cli",
        note=(f"GDPR erasure request{': ' + note if note else ''}; answered: " + result.explanation)[:1000],
    )
    open_premis(settings).record(
        PremisEventType.DELETION,
        objects=[record_id],
        agents=[f"requested by: {requested_by}"],
        at=now,
        detail=f"GDPR erasure request{': ' + note if note else ''}"[:5000],
        outcome=PremisOutcome.WARNING,
        outcome_detail=f"not executed: {result.explanation}"[:5000],
        refresh=True,
    )
    return result
