"""Which retention class a capture is kept under: the schedule decides, the account's class is the default.

The class fixes the WARC file a capture goes to (one file holds one class of one account for one
month and expires whole), so it is chosen before a byte is written. Choosing it is retention's
business, not the pipeline's: the pipeline asks `ClassChooser.for_bundle` and writes where it is told,
and a file left by a crashed run finds its class again by name (`by_name`).
"""

from __future__ import annotations

from datetime import datetime

from schemas import Account, CaptureBundle, RetentionClass

from ..config import Settings
from .schedule import Schedule, load_schedule


def keeps_longer(a: RetentionClass, b: RetentionClass, moment: datetime) -> bool:
    """Whether class `a` keeps a capture made at `moment` longer than `b` (a permanent class longest)."""
    return (a.permanent, a.retain_until(moment)) > (b.permanent, b.retain_until(moment))


class ClassChooser:
    """The retention classes of one installation: the configured ones and, when set, the schedule's."""

    def __init__(self, settings: Settings, schedule: Schedule | None = None) -> None:
        self.settings = settings
        self.schedule = schedule

    @classmethod
    def from_settings(cls, settings: Settings) -> ClassChooser:
        """With the schedule of `COMMUNIS_RETENTION_FILE` when one is configured."""
        return cls(settings, load_schedule(settings) if settings.retention_file is not None else None)

    def by_name(self, name: str) -> RetentionClass:
        """A class by name: the schedule's own classes first, then the configured ones."""
        if self.schedule is not None and name in self.schedule.classes:
            return self.schedule.classes[name]
        return self.settings.retention_class(name)

    def for_bundle(self, account: Account, bundle: CaptureBundle) -> RetentionClass:
        """The class of the file a bundle goes to: from the schedule's active rules matching its records.

        A bundle is one API response, so it goes to one file: if its records fall under different classes the
        longest-keeping one wins (keeping is the default); a record no active rule covers counts with the
        account's class, which is also the class without a schedule and for bundles without records (media).
        """
        fallback = self.settings.retention_class(account.retention_class)
        if self.schedule is None or not bundle.records:
            return fallback
        best: RetentionClass | None = None
        for record in bundle.records:
            rule = self.schedule.rule_for_record(record, account.department)
            rclass = self.schedule.class_of(rule) if rule is not None else fallback
            if best is None or keeps_longer(rclass, best, bundle.capture.started_at):
                best = rclass
        return best or fallback
