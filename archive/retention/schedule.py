"""The retention schedule: loading `retention.yaml`, finding a record's rule, and its disposal date.

The same rule order is evaluated two ways: `rule_for` on one index document (the planner and
erasure answers) and `match_fields` as an index query (archive/index/queries.py `Match`: index-wide
counts of records no rule covers), built from the same match lists so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas import Record, RetentionClass, RetentionTrigger
from schemas.schedule import RetentionRule, RetentionSchedule, RuleAction, RuleMatch, ScheduleTrigger

from ..config import Settings
from ..errors import ConfigError

SAMPLE_SCHEDULE = Path(__file__).resolve().parent.parent / "samples" / "retention.yaml"

#: Index field each match list is compared with.
MATCH_FIELDS = {
    "platforms": "platform",
    "accounts": "account",
    "departments": "department",
    "kinds": "kind",
    "directions": "direction",
    "tags": "hashtags",
}
#: The document fields the schedule needs (planning scans only these).
DOC_FIELDS = [
    "record_id",
    "platform",
    "account",
    "department",
    "kind",
    "direction",
    "hashtags",
    "captured_at",
    "published_at",
]


@dataclass(frozen=True)
class Schedule:
    """A validated schedule with every class it may name resolved."""

    source: Path
    sha256: str
    model: RetentionSchedule
    classes: dict[str, RetentionClass]

    @property
    def rules(self) -> list[RetentionRule]:
        return self.model.rules

    def rule(self, rule_id: str) -> RetentionRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise ConfigError(f"{self.source}: no rule {rule_id!r}")

    def rule_for(self, doc: dict[str, Any]) -> RetentionRule | None:
        """The first active rule matching the document; None means it is kept (no rule applies)."""
        return next((r for r in self.rules if r.active and matches(r.match, doc)), None)

    def rule_for_record(self, record: Record, department: str | None) -> RetentionRule | None:
        """`rule_for` of a record about to be written (its department is its account's, not yet indexed)."""
        return self.rule_for(
            {
                "platform": record.platform,
                "account": record.account,
                "department": department,
                "kind": record.kind.value,
                "direction": record.direction.value,
                "hashtags": record.hashtags,
            }
        )

    def draft_for(self, doc: dict[str, Any]) -> RetentionRule | None:
        """The first draft rule matching the document (reported, never applied)."""
        return next((r for r in self.rules if not r.active and matches(r.match, doc)), None)

    def class_of(self, rule: RetentionRule) -> RetentionClass:
        return self.classes[rule.retention_class]

    def disposes(self, rule: RetentionRule) -> bool:
        """Whether records under `rule` may ever be disposed of."""
        return rule.active and rule.action is RuleAction.DISPOSE and not self.class_of(rule).permanent

    def disposal_date(self, rule: RetentionRule, doc: dict[str, Any]) -> datetime | None:
        """The earliest lawful disposal time of the record under `rule`; None if it is kept."""
        if not self.disposes(rule):
            return None
        return self.period_end(rule, doc)

    def period_end(self, rule: RetentionRule, doc: dict[str, Any]) -> datetime | None:
        """When the rule's class period ends for the record, whatever the action (a permanent class: its lock
        horizon); the Object Lock a file of the record should have at least. None without a capture time."""
        rclass = self.class_of(rule)
        trigger = rule.trigger or ScheduleTrigger(rclass.trigger.value)
        captured = _when(doc.get("captured_at"))
        if captured is None:
            return None  # a record without a capture time cannot be dated, so it is kept
        start = captured
        if trigger is ScheduleTrigger.PUBLISHED:
            start = _when(doc.get("published_at")) or captured
        counted = RetentionTrigger.END_OF_YEAR if trigger is ScheduleTrigger.END_OF_YEAR else RetentionTrigger.CAPTURED
        return rclass.model_copy(update={"trigger": counted}).retain_until(start)

    def shortest_period(self) -> timedelta | None:
        """A lower bound on every disposing rule's period (a coarse filter for scanning); None: none dispose."""
        periods = [
            timedelta(days=365 * c.years + c.days) for r in self.rules if self.disposes(r) for c in [self.class_of(r)]
        ]
        return min(periods) if periods else None


def period_text(rclass: RetentionClass, trigger: ScheduleTrigger | None) -> str:
    """The minimum retention in words, for lists and certificates (US-8)."""
    if rclass.permanent:
        return "permanent"
    parts = [
        f"{rclass.years} year{'s' if rclass.years != 1 else ''}" if rclass.years else "",
        f"{rclass.days} day{'s' if rclass.days != 1 else ''}" if rclass.days else "",
    ]
    start = {
        ScheduleTrigger.PUBLISHED: "publication",
        ScheduleTrigger.CAPTURED: "capture",
        ScheduleTrigger.END_OF_YEAR: "the end of the year",
    }[trigger or ScheduleTrigger(rclass.trigger.value)]
    return f"{' '.join(p for p in parts if p)} from {start}"


def _when(value: object) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _values(doc: dict[str, Any], field: str) -> set[str]:
    value = doc.get(field)
    if value is None:
        return set()
    return {str(v) for v in value} if isinstance(value, list) else {str(value)}


def matches(match: RuleMatch, doc: dict[str, Any]) -> bool:
    """Every non-empty list must share a value with the document's field."""
    for name, field in MATCH_FIELDS.items():
        wanted = getattr(match, name)
        if wanted and not set(wanted) & _values(doc, field):
            return False
    return True


def match_fields(match: RuleMatch) -> dict[str, list[str]]:
    """Document field → accepted values: the index query (`queries.matching`) accepting what `matches` does."""
    return {field: list(getattr(match, name)) for name, field in MATCH_FIELDS.items() if getattr(match, name)}


def load_schedule(settings: Settings, path: Path | None = None) -> Schedule:
    """Read and validate the schedule; every error is one line naming the file, the rule and the field."""
    source = path or settings.retention_file or SAMPLE_SCHEDULE
    try:
        raw = source.read_bytes()
        data = yaml.safe_load(raw) or {}
    except OSError as exc:
        raise ConfigError(
            f"{source}: cannot read the retention schedule: {exc.strerror}",
            hint="set COMMUNIS_RETENTION_FILE to the schedule's path",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the schedule must be a mapping with 'rules' (and optionally 'classes')")
    try:
        model = RetentionSchedule.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"{source}: {_where(exc, data)}", hint="see archive/samples/retention.yaml for the format"
        ) from None
    classes = {c.name: c for c in settings.retention_classes}
    classes.update({c.name: c for c in model.classes})
    for rule in model.rules:
        if rule.retention_class not in classes:
            raise ConfigError(
                f"{source}: rule {rule.id}: field class: unknown retention class {rule.retention_class!r}",
                hint=f"known classes: {', '.join(sorted(classes))}",
            )
    return Schedule(source, hashlib.sha256(raw).hexdigest(), model, classes)


def _where(exc: ValidationError, data: dict[str, Any]) -> str:
    """'rule ID: field F: message' for the first error, naming the rule by its id where it has one."""
    first = exc.errors()[0]
    loc = list(first["loc"])
    prefix = ""
    if len(loc) >= 2 and loc[0] in ("rules", "classes") and isinstance(loc[1], int):
        items = data.get(str(loc[0])) or []
        entry = items[loc[1]] if loc[1] < len(items) and isinstance(items[loc[1]], dict) else {}
        name = entry.get("id") or entry.get("name") or f"#{loc[1] + 1}"
        prefix = f"{'rule' if loc[0] == 'rules' else 'class'} {name}: "
        loc = loc[2:]
    field = ".".join(str(p) for p in loc)
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{prefix}field {field}: {message}" if field else f"{prefix}{message}"
